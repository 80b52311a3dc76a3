#include "dumpfilter/cli.h"

#include <array>
#include <charconv>

#include "lib/cli/argparse.h"

namespace kk {

namespace {

enum class Opt {
  zlib, lzo, zstd, snappy, level, force, message_level, dump_dmesg, report, debug, help, version,
  elf, flatten, threads, cyclic_buffer, work_dir, non_mmap, non_cyclic, dry_run, check_params,
  mem_usage, show_stats, split, rearrange, reassemble, verify,
  vmlinux, filter_config,
  later,  // makedumpfile has it; we do not yet
};

// makedumpfile's options (getopt "b:cDd:eEFfg:hi:lL:pRvXx:z" and its long options), and ours:
// --report.
constexpr std::array<OptionSpec, 45> kOptions{{
    {'c', "", false, int(Opt::zlib)},
    {'l', "", false, int(Opt::lzo)},
    {'z', "", false, int(Opt::zstd)},
    {'p', "", false, int(Opt::snappy)},
    {'d', "", true, int(Opt::level)},
    {'f', "", false, int(Opt::force)},
    {'D', "", false, int(Opt::debug)},
    {'h', "help", false, int(Opt::help)},
    {'v', "version", false, int(Opt::version)},
    {0, "message-level", true, int(Opt::message_level)},
    {0, "dump-dmesg", false, int(Opt::dump_dmesg)},
    {0, "report", true, int(Opt::report)},
    {'E', "", false, int(Opt::elf)},
    {'F', "", false, int(Opt::flatten)},
    {'R', "", false, int(Opt::rearrange)},
    {'X', "", false, int(Opt::later)},
    {'e', "", false, int(Opt::later)},
    {'b', "", true, int(Opt::later)},
    {'g', "", true, int(Opt::later)},
    {'i', "", true, int(Opt::later)},
    {'x', "", true, int(Opt::vmlinux)},
    {'L', "", true, int(Opt::later)},
    {0, "split", false, int(Opt::split)},
    {0, "reassemble", false, int(Opt::reassemble)},
    {0, "verify", false, int(Opt::verify)},
    {0, "num-threads", true, int(Opt::threads)},
    {0, "config", true, int(Opt::filter_config)},
    {0, "mem-usage", false, int(Opt::mem_usage)},
    {0, "dry-run", false, int(Opt::dry_run)},
    {0, "check-params", false, int(Opt::check_params)},
    {0, "cyclic-buffer", true, int(Opt::cyclic_buffer)},
    {0, "work-dir", true, int(Opt::work_dir)},
    {0, "non-mmap", false, int(Opt::non_mmap)},
    {0, "non-cyclic", false, int(Opt::non_cyclic)},
    {0, "splitblock-size", true, int(Opt::later)},
    {0, "show-stats", false, int(Opt::show_stats)},
    {0, "eppic", true, int(Opt::later)},
    {0, "extension", true, int(Opt::later)},
    {0, "vtop", true, int(Opt::later)},
    {0, "partial-dmesg", false, int(Opt::later)},
    {0, "xen-syms", true, int(Opt::later)},
    {0, "xen-vmcoreinfo", true, int(Opt::later)},
    {0, "xen_phys_start", true, int(Opt::later)},
    {0, "diskset", true, int(Opt::later)},
    {0, "exclude-xen-dom", false, int(Opt::later)},
}};

Result<int> parse_int(std::string_view what, std::string_view s, int lo, int hi) {
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 10);
  if (ec != std::errc() || p != s.data() + s.size() || v < lo || v > hi)
    return make_error(Errc::usage, std::string(what) + ": '" + std::string(s) + "' is not a number from " +
                                       std::to_string(lo) + " to " + std::to_string(hi));
  return v;
}

Result<void> apply(CliOptions& c, const ParsedOption& o, int* codecs) {
  std::string_view value = o.value;
  switch (static_cast<Opt>(o.spec->id)) {
    case Opt::zlib: c.dump.codec = CodecKind::zlib; ++*codecs; break;
    case Opt::lzo: c.dump.codec = CodecKind::lzo; ++*codecs; break;
    case Opt::zstd: c.dump.codec = CodecKind::zstd; ++*codecs; break;
    case Opt::snappy: c.dump.codec = CodecKind::snappy; ++*codecs; break;
    case Opt::level: {
      // makedumpfile accepts a comma list for retries with -L; one level is all we take now.
      if (value.find(',') != std::string_view::npos)
        return make_error(Errc::usage, "not supported yet: -d with a list of levels");
      KK_TRY_ASSIGN(int v, parse_int("-d", value, 0, kDlMax));
      c.dump.dump_level = v;
      break;
    }
    case Opt::force: c.dump.force = true; break;
    case Opt::debug: c.debug = true; break;
    case Opt::help: c.command = Command::help; break;
    case Opt::version: c.command = Command::version; break;
    case Opt::dump_dmesg: c.command = Command::dump_dmesg; break;
    case Opt::rearrange: c.command = Command::rearrange; break;
    case Opt::reassemble: c.command = Command::reassemble; break;
    case Opt::verify: c.command = Command::verify; break;
    case Opt::report:
      if (value.empty()) return make_error(Errc::usage, "--report: empty file name");
      c.dump.report = std::string(value);
      break;
    case Opt::vmlinux:
      if (value.empty()) return make_error(Errc::usage, "-x: empty file name");
      c.dump.vmlinux = std::string(value);
      break;
    case Opt::filter_config:
      if (value.empty()) return make_error(Errc::usage, "--config: empty file name");
      c.dump.filter_config = std::string(value);
      break;
    case Opt::message_level: {
      KK_TRY_ASSIGN(int v, parse_int("--message-level", value, 0, 31));
      c.message_level = v;
      c.message_level_given = true;
      break;
    }
    case Opt::elf: c.dump.format = OutputFormat::elf; break;
    case Opt::split: c.split = true; break;
    case Opt::flatten: c.dump.flatten = true; break;
    case Opt::threads: {
      KK_TRY_ASSIGN(int v, parse_int("--num-threads", value, 0, kMaxThreads));
      c.dump.threads = v;
      c.threads_given = true;
      break;
    }
    case Opt::cyclic_buffer: {
      // makedumpfile's unit: KiB of bitmap per cycle. Ours: what pass 1 may keep for pass 2.
      KK_TRY_ASSIGN(int v, parse_int("--cyclic-buffer", value, 1, 1 << 30));
      c.dump.memory_budget = u64(v) << 10;
      break;
    }
    case Opt::work_dir:
      if (value.empty()) return make_error(Errc::usage, "--work-dir: empty directory name");
      c.work_dir = std::string(value);
      break;
    case Opt::non_mmap: c.dump.non_mmap = true; break;
    case Opt::non_cyclic: break;  // windows are always used; the budget decides what is kept
    case Opt::dry_run: c.dump.dry_run = true; break;
    case Opt::check_params: c.check_params = true; break;
    case Opt::mem_usage: c.command = Command::mem_usage; break;
    case Opt::show_stats: c.message_level |= 16; c.message_level_given = true; break;
    case Opt::later:
      return make_error(Errc::usage, "not supported yet: " + o.spelled);
  }
  return {};
}

// -R DUMPFILE and --reassemble PIECE... DUMPFILE: file-level commands, no dump options.
Result<CliOptions> file_command(CliOptions c) {
  if (!c.dump.report.empty()) return make_error(Errc::usage, "--report does not go with -R or --reassemble");
  if (c.command == Command::verify) {
    if (c.positional.size() != 1) return make_error(Errc::usage, "--verify takes one DUMPFILE");
  } else if (c.command == Command::rearrange) {
    if (c.positional.size() != 1)
      return make_error(Errc::usage, c.positional.empty() ? "-R: missing DUMPFILE" : "-R takes one DUMPFILE");
  } else if (c.positional.size() < 3) {
    return make_error(Errc::usage, "--reassemble needs two or more split files and the DUMPFILE to write");
  }
  c.dump.output = c.positional.back();
  return c;
}

}  // namespace

Result<CliOptions> parse_cli(const std::vector<std::string>& args) {
  CliOptions c;
  int codecs = 0;
  KK_TRY_ASSIGN(ParsedArgs parsed, parse_args(kOptions, args));
  for (const ParsedOption& o : parsed.options) KK_TRY(apply(c, o, &codecs));
  c.positional = std::move(parsed.positional);
  if (c.command == Command::help || c.command == Command::version) return c;
  if (codecs > 1) return make_error(Errc::usage, "choose one of -c, -l, -z, -p");
  if (c.command == Command::rearrange || c.command == Command::reassemble || c.command == Command::verify)
    return file_command(std::move(c));
  if (c.dump.format == OutputFormat::elf && c.command == Command::dump && codecs > 0)
    return make_error(Errc::usage, "-E writes ELF, which is not compressed: drop -c/-l/-z/-p");
  if (!c.dump.filter_config.empty() && c.dump.vmlinux.empty())
    return make_error(Errc::usage, "--config needs -x VMLINUX");  // as in makedumpfile
  if (!c.dump.filter_config.empty() && c.command != Command::dump)
    return make_error(Errc::usage, "--config goes with a dump");
  if (!c.dump.filter_config.empty() && c.split)  // each part would need its own eraseinfo
    return make_error(Errc::usage, "not supported yet: --config with --split");
  if (!c.dump.report.empty()) {
    if (c.command == Command::dump_dmesg)
      return make_error(Errc::usage, "--report goes with a dump or alone, not with --dump-dmesg");
    if (c.positional.empty()) return make_error(Errc::usage, "missing VMCORE");
    if (c.positional.size() == 1) {  // --report FILE VMCORE: the report only
      c.command = Command::report;
      c.dump.input = c.positional[0];
      return c;
    }
  }
  if (c.command == Command::mem_usage) {
    if (c.positional.size() != 1)
      return make_error(Errc::usage, "--mem-usage takes one VMCORE (or /proc/kcore)");
    c.dump.input = c.positional[0];
    c.dump.dump_level = kDlMax;
    c.dump.dry_run = true;
    return c;
  }
  if (c.split && c.command == Command::dump) {
    // --split VMCORE DUMPFILE1 DUMPFILE2 ...: kdump-compressed files, one per pfn range.
    if (c.dump.flatten || c.dump.format == OutputFormat::elf)
      return make_error(Errc::usage, "--split writes kdump-compressed files: not with -F or -E");
    if (c.positional.size() < 3)
      return make_error(Errc::usage, "--split needs VMCORE and at least two DUMPFILEs");
    if (codecs == 0) c.dump.codec = CodecKind::none;
    c.dump.input = c.positional[0];
    c.dump.split_outputs.assign(c.positional.begin() + 1, c.positional.end());
    c.dump.output = c.dump.split_outputs.front();
    return c;
  }
  if (c.dump.flatten && c.command == Command::dump) {
    // -F: the stream goes to standard output, so there is no DUMPFILE.
    if (c.positional.size() != 1)
      return make_error(Errc::usage, c.positional.empty() ? "missing VMCORE"
                                                          : "-F writes to standard output: no DUMPFILE");
    if (c.dump.dry_run) return make_error(Errc::usage, "--dry-run and -F do not go together");
    if (codecs == 0 && c.dump.format == OutputFormat::kdump) c.dump.codec = CodecKind::none;
    c.dump.input = c.positional[0];
    return c;
  }
  if (c.positional.size() != 2 && !(c.dump.dry_run && c.positional.size() == 1))
    return make_error(Errc::usage, c.positional.size() < 2 ? "missing VMCORE and DUMPFILE"
                                                          : "too many arguments");

  if (c.command == Command::dump && codecs == 0) c.dump.codec = CodecKind::none;
  c.dump.input = c.positional[0];
  if (c.positional.size() > 1) c.dump.output = c.positional[1];
  return c;
}

std::string usage_text() {
  return "usage: dumpfilter [-c|-l|-z|-p|-E] [-d LEVEL] [-f] [--num-threads N] VMCORE DUMPFILE\n"
         "       dumpfilter -F [-c|-l|-z|-p|-E] [-d LEVEL] VMCORE > STREAM\n"
         "       dumpfilter --split [-c|-l|-z|-p] [-d LEVEL] VMCORE DUMPFILE1 DUMPFILE2 ...\n"
         "       dumpfilter --mem-usage VMCORE\n"
         "       dumpfilter -x VMLINUX --config FILE [dump options] VMCORE DUMPFILE\n"
         "       dumpfilter --dump-dmesg [-f] VMCORE LOGFILE\n"
         "       dumpfilter --report FILE [-f] VMCORE [DUMPFILE]\n"
         "       dumpfilter -R [-f] DUMPFILE < FLATTENED\n"
         "       dumpfilter --reassemble [-f] DUMPFILE1 ... DUMPFILEN DUMPFILE\n"
         "       dumpfilter --verify DUMPFILE\n"
         "\n"
         "Writes a kdump-compressed dump of VMCORE (/proc/vmcore, an ELF vmcore, or a kdump-compressed\n"
         "or flattened dump to re-filter), leaving out the page classes that LEVEL names (sum of:\n"
         "1 zero, 2 cache, 4 private cache, 8 user data, 16 free).\n"
         "  -c / -l / -z / -p   compress pages with zlib / lzo / zstd / snappy (default: none)\n"
         "  -E                  write an ELF core (kept pages only) instead\n"
         "  -F                  write makedumpfile's flattened stream to standard output\n"
         "  --num-threads N     compress on N threads (default: one per online CPU)\n"
         "  --cyclic-buffer KB  memory pass 1 may keep for pass 2 (default 64 MiB or less)\n"
         "  --non-mmap          read /proc/vmcore with read(2), never map it\n"
         "  --dry-run           do everything but write the dump;  --check-params: only parse\n"
         "  --mem-usage         count pages per class (what each -d bit would leave out)\n"
         "  -d LEVEL            dump level 0..31 (default 0)\n"
         "  -f                  overwrite an existing DUMPFILE (and report files)\n"
         "  --config FILE       erase the kernel data FILE names (makedumpfile.conf(5)); needs -x\n"
         "  -x VMLINUX          the dump kernel's debug vmlinux, for --config\n"
         "  --message-level N   1 progress, 2 messages, 4 errors, 16 report (default 7)\n"
         "  --dump-dmesg        write the kernel log instead of a dump\n"
         "  --report FILE       also (without DUMPFILE: only) write a triage report: text at\n"
         "                      FILE and JSON at FILE.json; a FILE ending in .json gets the JSON\n"
         "  -R                  rebuild DUMPFILE from the flattened stream (-F) on standard input\n"
         "  --reassemble        merge the files of a --split set into one DUMPFILE\n"
         "  --verify            check DUMPFILE against its SHA-256 manifest DUMPFILE.sha256\n"
         "  -D                  debug output\n"
         "  -h, --help          this text;  -v, --version  the version\n";
}

}  // namespace kk
