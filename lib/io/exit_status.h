// exit_status.h: how a program ends after an error, the same in kexec, dumpfilter and kdumpctl.
// Only main() prints an error, once, on one line; the status says which kind it was (each man
// page's EXIT STATUS). Statuses a program gives for outcomes that are not errors (kexec's 3 for no
// CAP_SYS_BOOT, kdumpctl's 3 to 6) are its own.
#pragma once

#include <string_view>

#include "lib/io/result.h"

namespace kk {

inline constexpr int kExitFailure = 1;  // the message says what failed
inline constexpr int kExitBadUsage = 2;  // a command line the program does not take

int exit_status(Errc code);

// Prints "program: message" on stderr, one line (control bytes escaped: messages quote the files read),
// with "(see program --help)" after a usage error, and returns exit_status(e.code).
int report_error(std::string_view program, const Error& e);

}  // namespace kk
