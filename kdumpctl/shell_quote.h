// shell_quote.h: one word for a remote shell. ssh joins its arguments into a string that the
// remote login shell parses, so every value from kdump.conf or the host name placed in a
// remote command goes through shell_quote() (issue 18).
#pragma once

#include <string>
#include <string_view>

namespace kk {

// s as one POSIX shell word: in single quotes, each ' written as '\''.
std::string shell_quote(std::string_view s);

}  // namespace kk
