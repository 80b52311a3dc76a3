// file_commands.h: the commands that work on dump files as files, not on memory: -R (rearrange.h)
// and --reassemble (reassemble.h). Errors go back to main(), which prints them.
#pragma once

#include "dumpfilter/cli.h"

namespace kk {

Result<void> run_file_command(const CliOptions& c);

}  // namespace kk
