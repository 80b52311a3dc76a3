// vmcoreinfo.h: the kernel's own description of itself, exported as "KEY=VALUE" lines in the
// VMCOREINFO note. Every later step (translation, mem_map, page classes, dmesg) asks it for the
// symbols, sizes and offsets it needs; a missing key is an error naming that key.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "lib/io/result.h"
#include "lib/io/types.h"

namespace kk {

// The page sizes any input may have (PAGESIZE, a kdump-compressed block size).
inline constexpr u64 kMinPageSize = 4096;
inline constexpr u64 kMaxPageSize = u64{1} << 18;

class Vmcoreinfo {
 public:
  // Parses the note text. Lines without '=' or with a malformed number are errors.
  static Result<Vmcoreinfo> parse(std::string_view text);

  const std::string& text() const { return text_; }
  std::optional<std::string_view> raw(std::string_view key) const;

  // Typed accessors by kind: SYMBOL() and KERNELOFFSET are hex, the others decimal
  // (NUMBER() may be negative). The name is what goes inside the parentheses.
  std::optional<u64> symbol(std::string_view name) const;
  std::optional<u64> size(std::string_view name) const;
  std::optional<u64> offset(std::string_view name) const;  // "page.flags"
  std::optional<i64> number(std::string_view name) const;
  std::optional<u64> length(std::string_view name) const;

  // The same, as errors when absent: "vmcoreinfo: missing SYMBOL(mem_section)".
  Result<u64> need_symbol(std::string_view name) const;
  Result<u64> need_size(std::string_view name) const;
  Result<u64> need_offset(std::string_view name) const;
  Result<i64> need_number(std::string_view name) const;
  Result<u64> need_length(std::string_view name) const;

  std::string osrelease() const;  // "" if absent
  u64 page_size() const { return page_size_; }
  std::optional<u64> kernel_offset() const;  // KERNELOFFSET
  std::optional<i64> crash_time() const;     // CRASHTIME

 private:
  std::string text_;
  std::map<std::string, std::string, std::less<>> kv_;
  u64 page_size_ = 0;
};

}  // namespace kk
