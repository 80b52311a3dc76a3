// cli.h: dumpfilter's command line, makedumpfile-compatible. The option table is data: each entry
// says whether it takes a value and whether this version supports it yet.
#pragma once

#include <string>
#include <vector>

#include "dumpfilter/dumper.h"

namespace kk {

// report: --report with one operand; mem_usage: --mem-usage (page counts, no dump);
// rearrange: -R DUMPFILE; reassemble: --reassemble PIECES... DUMPFILE; verify: --verify DUMPFILE
enum class Command { dump, dump_dmesg, report, mem_usage, help, version, rearrange, reassemble, verify };

inline constexpr int kMaxThreads = 256;

struct CliOptions {
  Command command = Command::dump;
  DumpOptions dump;
  int message_level = 7;  // makedumpfile's default: progress, common messages, errors
  bool message_level_given = false;
  bool debug = false;
  bool threads_given = false;  // else: one worker per online CPU
  bool check_params = false;   // --check-params: validate the command line only
  bool split = false;          // --split
  std::string work_dir;        // --work-dir: accepted; pass 1 keeps nothing on disk
  std::vector<std::string> positional;
};

// argv[0] excluded. Usage problems are Errc::usage; options of makedumpfile that later versions
// add are Errc::unsupported with "not supported yet: OPTION".
Result<CliOptions> parse_cli(const std::vector<std::string>& args);
std::string usage_text();

}  // namespace kk
