// number.h: strict unsigned parsing for text from the kernel (vmcoreinfo values, sysfs files):
// the whole string must be the number; base 16 accepts an optional "0x".
#pragma once

#include <charconv>
#include <optional>
#include <string_view>

#include "lib/io/types.h"

namespace kk {

inline std::optional<u64> parse_unsigned(std::string_view s, int base) {
  if (base == 16 && s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s.remove_prefix(2);
  u64 v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

}  // namespace kk
