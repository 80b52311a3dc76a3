// filter_config.h: makedumpfile's filter configuration (--config FILE, makedumpfile.conf(5)):
// `erase` commands and `for ... endfor` loops over arrays and linked lists. Parsing only; the
// symbols are resolved against the vmlinux's DWARF and the dump's memory in erase_plan.h.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/io/result.h"
#include "lib/io/types.h"

namespace kk {

// One component of `sym[2].member.array[1][3]`.
struct ExprPart {
  std::string name;
  std::vector<u64> indexes;  // array subscripts after the name, in order
};

struct SymbolExpr {
  std::vector<ExprPart> parts;  // parts[0] is a global symbol or the loop's variable
  std::string text;             // as written: the eraseinfo repeats it
};

enum class EraseSize {
  natural,  // from the type: the object, a char* string, or what a pointer points at
  bytes,    // size N[K|M]
  symbol,   // size EXPR: an integer in the dump
  nullify,  // write a NULL over the pointer itself
};

struct EraseCommand {
  int line = 0;
  SymbolExpr target;
  EraseSize size = EraseSize::natural;
  u64 bytes = 0;         // EraseSize::bytes
  SymbolExpr size_expr;  // EraseSize::symbol
};

enum class LoopKind {
  plain,   // `for id in ARRAY` (or a struct, following its member `next`, as makedumpfile does)
  via,     // `for id in STRUCTVAR via NEXTMEMBER`
  within,  // `for id in LISTHEAD within STRUCT[:MEMBER]`
};

struct LoopSpec {
  std::string var;
  SymbolExpr list;
  LoopKind kind = LoopKind::plain;
  std::string next_member;  // via
  std::string struct_name;  // within
  std::string list_member;  // within; makedumpfile's default is "list"
};

// One command of the file: a lone erase, or a loop with its erases.
struct FilterCommand {
  int line = 0;
  std::optional<LoopSpec> loop;
  std::vector<EraseCommand> erases;
};

struct FilterConfig {
  std::vector<FilterCommand> commands;
  // Every global symbol and struct name the commands use: the DWARF index looks them all up in
  // one pass over the vmlinux.
  std::vector<std::string> symbols() const;
  std::vector<std::string> struct_names() const;
};

// Bound on the file: a filter configuration is a few dozen lines; anything this big is a mistake.
inline constexpr size_t kMaxFilterConfigBytes = 1u << 20;

// Strict: every bad line is an error "line N: ...". Sections other than [vmlinux] are
// Errc::unsupported (module debuginfo is not looked up).
Result<FilterConfig> parse_filter_config(std::string_view text);
Result<FilterConfig> read_filter_config(const std::string& path);

}  // namespace kk
