// rearrange.h: -R, a dump file rebuilt from a flattened stream on standard input (what ssh and raw
// targets received from -F). Streaming: memory is one 1 MiB buffer whatever the dump's size; the
// file is published only after the end marker, so a cut stream never looks like a dump.
#pragma once

#include <string>

#include "lib/io/file.h"

namespace kk {

inline constexpr size_t kRearrangeBuffer = 1 << 20;

// Reads the stream from fd to its end marker, writing each record at its offset in `out`.
// Returns the rebuilt file's size. Stream errors name `name` ("standard input: ...").
Result<u64> rearrange_flattened(int fd, const std::string& name, OutputFile& out);

// dumpfilter -R DUMPFILE: standard input into DUMPFILE (0600, temporary name, then renamed).
Result<u64> run_rearrange(const std::string& output, bool force);

}  // namespace kk
