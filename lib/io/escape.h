// escape.h: text from a dump (log lines, vmcoreinfo values, the uts strings) made safe for a
// terminal or a text report. The crashed kernel may have been compromised: an ESC or another
// control byte in its strings must not reach a terminal, where it could move the cursor, rewrite
// what was printed before or set the window title.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace kk {

// Length of a valid UTF-8 sequence at s[i] (RFC 3629: no overlongs, surrogates or > U+10FFFF),
// 0 if there is none.
size_t utf8_len(std::string_view s, size_t i);

// Every byte below 0x20, DEL, every byte that is not part of valid UTF-8 and every UTF-8 C1
// control (U+0080..U+009F) written as "\xNN" (one per byte); everything else, valid UTF-8
// included, as is. Idempotent on its own output.
std::string escape_for_terminal(std::string_view s);
// The same for text of several lines: each line escaped, the '\n's between them kept.
std::string escape_lines_for_terminal(std::string_view text);

}  // namespace kk
