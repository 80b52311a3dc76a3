// hex.h: the one way numbers are shown in messages: "0x1f4".
#pragma once

#include <cstdio>
#include <string>

#include "lib/io/types.h"

namespace kk {

inline std::string hex(u64 v) {
  char b[24];
  std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
  return b;
}

}  // namespace kk
