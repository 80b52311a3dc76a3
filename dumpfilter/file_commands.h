// file_commands.h: the commands that work on dump files as files, not on memory: -R (rearrange.h)
// and --reassemble (reassemble.h). Returns main()'s exit status; prints its one line on error.
#pragma once

#include "dumpfilter/cli.h"

namespace kk {

int run_file_command(const CliOptions& c);

}  // namespace kk
