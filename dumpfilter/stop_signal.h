// stop_signal.h: SIGTERM, SIGINT and SIGHUP ask a running dump to stop. The handler only records
// the signal; the dumper checks it between pages, finishes the header with the incomplete flag,
// keeps the partial file as "<final>-incomplete" and exits non-zero. (SIGKILL runs no code: that
// is why the file carries that name and flag from its first byte.)
#pragma once

namespace kk {

// Installs the handlers (main() only: process-wide state).
void install_stop_handlers();
// The signal that asked us to stop, 0 if none.
int stop_signal();
// For tests: as if `sig` had arrived (0 clears).
void set_stop_signal(int sig);

}  // namespace kk
