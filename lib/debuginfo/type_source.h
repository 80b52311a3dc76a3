// type_source.h: what resolving `symbol.member[2].field` needs from debug information: global
// variables with their addresses and types, and C types (sizes, members, array bounds, pointer
// targets). DwarfIndex implements it over a vmlinux's DWARF; tests use a table in code.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "lib/io/result.h"
#include "lib/io/types.h"

namespace kk::debuginfo {

/// Opaque handle of a type; `dim` selects an inner dimension of a multi-dimensional array.
struct TypeId {
  u64 die = 0;
  u32 dim = 0;
  bool operator==(const TypeId&) const = default;
};

enum class TypeKind { base, enumeration, pointer, structure, union_type, array, void_type, function, other };

/// A type with typedefs and const/volatile qualifiers looked through.
struct TypeDesc {
  TypeKind kind = TypeKind::other;
  std::string name;     ///< "char", "list_head" (struct tag), "" when anonymous
  u64 size = 0;         ///< bytes; for arrays the whole array; 0 when unknown (void, flexible array)
  TypeId target{};      ///< pointer: pointee (void pointers have kind void_type); array: element
  u64 count = 0;        ///< array: elements (0 for a flexible array)
  bool declaration = false;  ///< struct or union only declared here: members unknown
};

struct Member {
  u64 offset = 0;  ///< bytes from the start of the aggregate
  TypeId type{};
};

struct Variable {
  u64 address = 0;  ///< link-time address, before any KASLR offset
  TypeId type{};
  u64 symbol_size = 0;  ///< the ELF symbol's size, when only a declaration (`char x[]`) has a type
};

class TypeSource {
 public:
  virtual ~TypeSource() = default;
  /// nullopt: no such global variable.
  virtual Result<std::optional<Variable>> variable(std::string_view name) const = 0;
  /// A complete struct or union type by tag; nullopt: none in the debug information.
  virtual Result<std::optional<TypeId>> structure(std::string_view name) const = 0;
  virtual Result<TypeDesc> describe(TypeId t) const = 0;
  /// A member of a complete struct or union, looking inside anonymous members as C does.
  /// nullopt: no such member.
  virtual Result<std::optional<Member>> member(TypeId aggregate, std::string_view name) const = 0;
};

}  // namespace kk::debuginfo
