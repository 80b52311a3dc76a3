// file_commands.cpp: main()'s side of -R, --reassemble and --verify, kept out of main.cpp so that one stays a
// dispatcher.
#include "dumpfilter/file_commands.h"

#include <unistd.h>

#include <cstdio>

#include "dumpfilter/manifest.h"
#include "dumpfilter/reassemble.h"
#include "dumpfilter/rearrange.h"

namespace kk {

Result<void> run_file_command(const CliOptions& c) {
  bool chatty = c.message_level_given || ::isatty(STDERR_FILENO);
  if (c.command == Command::verify) {
    KK_TRY(verify_manifest(c.dump.output));
    if (chatty && (c.message_level & 2))
      std::fprintf(stderr, "dumpfilter: %s matches its SHA-256 manifest\n", c.dump.output.c_str());
    return {};
  }
  if (c.command == Command::rearrange) {
    KK_TRY_ASSIGN(u64 n, run_rearrange(c.dump.output, c.dump.force));
    if (chatty && (c.message_level & 2))
      std::fprintf(stderr, "dumpfilter: dump rebuilt at %s (%llu bytes)\n", c.dump.output.c_str(),
                   static_cast<unsigned long long>(n));
    return {};
  }
  std::vector<std::string> pieces(c.positional.begin(), c.positional.end() - 1);
  KK_TRY_ASSIGN(ReassembleStats st, run_reassemble(pieces, c.dump.output, c.dump.force));
  if (chatty && (c.message_level & 2))
    std::fprintf(stderr, "dumpfilter: %zu files reassembled into %s (%llu pages)\n", pieces.size(),
                 c.dump.output.c_str(), static_cast<unsigned long long>(st.pages));
  return {};
}

}  // namespace kk
