// dwarf_index.h: global variables and types of a vmlinux, from its DWARF (libdw). A debug vmlinux
// has thousands of compile units and no usable name index, so names are found by one walk over
// the top-level entries of every unit; prepare() does that walk for every name a caller will ask
// for, and a name asked for later costs one more walk.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "lib/debuginfo/type_source.h"

namespace kk::debuginfo {

class DwarfIndex final : public TypeSource {
 public:
  /// Opens the ELF file and its DWARF; errors name the file.
  static Result<std::unique_ptr<DwarfIndex>> open(const std::string& path);
  ~DwarfIndex() override;
  DwarfIndex(const DwarfIndex&) = delete;
  DwarfIndex& operator=(const DwarfIndex&) = delete;

  /// Looks all these names up in one walk.
  Result<void> prepare(const std::vector<std::string>& variables, const std::vector<std::string>& structs);

  Result<std::optional<Variable>> variable(std::string_view name) const override;
  Result<std::optional<TypeId>> structure(std::string_view name) const override;
  Result<TypeDesc> describe(TypeId t) const override;
  Result<std::optional<Member>> member(TypeId aggregate, std::string_view name) const override;

  const std::string& path() const { return path_; }

 private:
  struct Impl;
  DwarfIndex(std::string path, std::unique_ptr<Impl> impl);
  Result<void> walk(const std::vector<std::string>& variables, const std::vector<std::string>& structs) const;

  std::string path_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kk::debuginfo
