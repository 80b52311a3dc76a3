// main.cpp: dumpfilter's entry point. Parses, runs one command, prints one line on error.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <new>
#include <string>

#include "dumpfilter/cli.h"
#include "dumpfilter/file_commands.h"
#include "dumpfilter/memory_plan.h"
#include "dumpfilter/stop_signal.h"
#include "lib/io/escape.h"
#include "lib/io/exit_status.h"
#include "lib/io/text_file.h"
#include "kk_config.h"

namespace {

// MemAvailable in bytes, 0 when /proc/meminfo cannot say.
kk::u64 mem_available() {
  kk::Result<std::string> text = kk::read_text_file("/proc/meminfo", 1u << 16);
  return text ? kk::parse_mem_available(*text) : 0;
}

int run(int argc, char** argv) {
  using namespace kk;
  std::vector<std::string> args(argv + 1, argv + argc);
  Result<CliOptions> cli = parse_cli(args);
  if (!cli) {
    return report_error("dumpfilter", cli.error());
  }
  CliOptions& c = *cli;
  if (!c.work_dir.empty()) {
    struct stat sb;
    if (::stat(c.work_dir.c_str(), &sb) != 0 || !S_ISDIR(sb.st_mode))
      return report_error("dumpfilter", make_error(Errc::usage, "--work-dir " + c.work_dir + ": not a directory"));
  }
  if (c.check_params) return 0;
  if (!c.threads_given) c.dump.threads = static_cast<int>(std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN)));
  if (c.dump.threads < 1) c.dump.threads = 1;  // makedumpfile's 0: no extra threads
  c.dump.memory_budget = kk::pass1_budget(c.dump.memory_budget, mem_available());
  c.dump.warn = [](const std::string& w) { std::fprintf(stderr, "dumpfilter: warning: %s\n", w.c_str()); };
  switch (c.command) {
    case Command::help: std::fputs(usage_text().c_str(), stdout); return 0;
    case Command::version: std::printf("dumpfilter (kdumpkit) %s\n", KK_VERSION); return 0;
    case Command::dump_dmesg: {
      Result<u64> n = run_dump_dmesg(c.dump.input, c.dump.output, c.dump.force);
      if (!n) return report_error("dumpfilter", n.error());
      if (c.message_level_given && (c.message_level & 2))
        std::fprintf(stderr, "dumpfilter: kernel log saved to %s (%llu bytes)\n", c.dump.output.c_str(),
                     static_cast<unsigned long long>(*n));
      return 0;
    }
    case Command::report: {
      Result<void> r = run_report(c.dump);
      if (!r) return report_error("dumpfilter", r.error());
      if (c.message_level_given && (c.message_level & 2))
        std::fprintf(stderr, "dumpfilter: report saved to %s\n", c.dump.report.c_str());
      return 0;
    }
    case Command::mem_usage: {
      Progress quiet(Progress::Mode::off, stderr);
      Result<DumpStats> st = run_dump(c.dump, quiet);
      if (!st) return report_error("dumpfilter", st.error());
      std::fputs(format_mem_usage(*st).c_str(), stdout);
      return 0;
    }
    case Command::rearrange:
    case Command::reassemble:
    case Command::verify: {
      Result<void> r = run_file_command(c);
      return r ? 0 : report_error("dumpfilter", r.error());
    }
    case Command::dump: break;
  }
  // Off a terminal (a capture script's log) progress is printed only when asked for; a serial
  // console gets its line every few seconds.
  Progress::Mode mode = Progress::pick(c.message_level, STDERR_FILENO);
  if (mode == Progress::Mode::lines && !c.message_level_given && !::isatty(STDERR_FILENO))
    mode = Progress::Mode::off;
  Progress progress(mode, stderr);
  install_stop_handlers();  // SIGTERM/SIGINT/SIGHUP: keep the partial dump, flagged, and fail
  Result<DumpStats> st = run_dump(c.dump, progress);
  if (!st) return report_error("dumpfilter", st.error());
  if (st->input_incomplete)
    std::fprintf(stderr, "dumpfilter: warning: %s is an incomplete dump; the output is marked incomplete\n",
                 c.dump.input.c_str());
  bool chatty = c.message_level_given || ::isatty(STDERR_FILENO);
  if (c.message_level_given && (c.message_level & 16))  // it names the dump's release
    std::fputs(escape_lines_for_terminal(format_report(*st, c.dump)).c_str(), stderr);
  if (chatty && (c.message_level & 2) && !c.dump.flatten && !c.dump.dry_run)
    std::fprintf(stderr, "dumpfilter: dump saved to %s\n", c.dump.output.c_str());
  if (chatty && (c.message_level & 2) && !c.dump.report.empty())
    std::fprintf(stderr, "dumpfilter: report saved to %s\n", c.dump.report.c_str());
  return 0;
}

}  // namespace

// An allocation the input's sizes drove past what the system has ends like any other error: one
// line, a non-zero exit (a dump in progress keeps its partial file: dumper.cpp), never an abort.
int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::bad_alloc&) {
    return kk::report_error("dumpfilter", kk::make_error(kk::Errc::io, "out of memory: the input's sizes need more "
                                                                      "memory than is available"));
  }
}
