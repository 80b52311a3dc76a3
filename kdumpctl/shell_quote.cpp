// shell_quote.cpp: see shell_quote.h.
#include "kdumpctl/shell_quote.h"

namespace kk {

std::string shell_quote(std::string_view s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace kk
