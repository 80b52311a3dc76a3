// file_commands.cpp: main()'s side of -R, --reassemble and --verify, kept out of main.cpp so that one stays a
// dispatcher.
#include "dumpfilter/file_commands.h"

#include <unistd.h>

#include <cstdio>

#include "dumpfilter/manifest.h"
#include "dumpfilter/reassemble.h"
#include "dumpfilter/rearrange.h"
#include "io/escape.h"

namespace kk {

namespace {

// Errors may quote bytes of the files read (a manifest line, a stream's header): escaped, as
// main's own error lines are.
void print_error(const Error& e) { std::fprintf(stderr, "dumpfilter: %s\n", escape_for_terminal(e.msg).c_str()); }

}  // namespace

int run_file_command(const CliOptions& c) {
  bool chatty = c.message_level_given || ::isatty(STDERR_FILENO);
  if (c.command == Command::verify) {
    Result<void> r = verify_manifest(c.dump.output);
    if (!r) {
      print_error(r.error());
      return 1;
    }
    if (chatty && (c.message_level & 2))
      std::fprintf(stderr, "dumpfilter: %s matches its SHA-256 manifest\n", c.dump.output.c_str());
    return 0;
  }
  if (c.command == Command::rearrange) {
    Result<u64> n = run_rearrange(c.dump.output, c.dump.force);
    if (!n) {
      print_error(n.error());
      return n.error().code == Errc::usage ? 2 : 1;
    }
    if (chatty && (c.message_level & 2))
      std::fprintf(stderr, "dumpfilter: dump rebuilt at %s (%llu bytes)\n", c.dump.output.c_str(),
                   static_cast<unsigned long long>(*n));
    return 0;
  }
  std::vector<std::string> pieces(c.positional.begin(), c.positional.end() - 1);
  Result<ReassembleStats> st = run_reassemble(pieces, c.dump.output, c.dump.force);
  if (!st) {
    print_error(st.error());
    return st.error().code == Errc::usage ? 2 : 1;
  }
  if (chatty && (c.message_level & 2))
    std::fprintf(stderr, "dumpfilter: %zu files reassembled into %s (%llu pages)\n", pieces.size(),
                 c.dump.output.c_str(), static_cast<unsigned long long>(st->pages));
  return 0;
}

}  // namespace kk
