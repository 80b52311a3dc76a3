#include "dumpfilter/cli.h"

#include <array>
#include <charconv>

namespace kk {

namespace {

enum class Opt {
  zlib, lzo, zstd, snappy, level, force, message_level, dump_dmesg, debug, help, version,
  later,  // makedumpfile has it; we do not yet
};

struct OptSpec {
  char short_name;        // 0: long only
  std::string_view long_name;
  bool takes_value;
  Opt id;
};

// makedumpfile's options (getopt "b:cDd:eEFfg:hi:lL:pRvXx:z" and its long options).
constexpr std::array<OptSpec, 43> kOptions{{
    {'c', "", false, Opt::zlib},
    {'l', "", false, Opt::lzo},
    {'z', "", false, Opt::zstd},
    {'p', "", false, Opt::snappy},
    {'d', "", true, Opt::level},
    {'f', "", false, Opt::force},
    {'D', "", false, Opt::debug},
    {'h', "help", false, Opt::help},
    {'v', "version", false, Opt::version},
    {0, "message-level", true, Opt::message_level},
    {0, "dump-dmesg", false, Opt::dump_dmesg},
    {'E', "", false, Opt::later},
    {'F', "", false, Opt::later},
    {'R', "", false, Opt::later},
    {'X', "", false, Opt::later},
    {'e', "", false, Opt::later},
    {'b', "", true, Opt::later},
    {'g', "", true, Opt::later},
    {'i', "", true, Opt::later},
    {'x', "", true, Opt::later},
    {'L', "", true, Opt::later},
    {0, "split", false, Opt::later},
    {0, "reassemble", false, Opt::later},
    {0, "num-threads", true, Opt::later},
    {0, "config", true, Opt::later},
    {0, "mem-usage", false, Opt::later},
    {0, "dry-run", false, Opt::later},
    {0, "check-params", false, Opt::later},
    {0, "cyclic-buffer", true, Opt::later},
    {0, "work-dir", true, Opt::later},
    {0, "non-mmap", false, Opt::later},
    {0, "non-cyclic", false, Opt::later},
    {0, "splitblock-size", true, Opt::later},
    {0, "show-stats", false, Opt::later},
    {0, "eppic", true, Opt::later},
    {0, "extension", true, Opt::later},
    {0, "vtop", true, Opt::later},
    {0, "partial-dmesg", false, Opt::later},
    {0, "xen-syms", true, Opt::later},
    {0, "xen-vmcoreinfo", true, Opt::later},
    {0, "xen_phys_start", true, Opt::later},
    {0, "diskset", true, Opt::later},
    {0, "exclude-xen-dom", false, Opt::later},
}};

const OptSpec* find_short(char c) {
  for (const OptSpec& o : kOptions)
    if (o.short_name == c) return &o;
  return nullptr;
}

const OptSpec* find_long(std::string_view name) {
  for (const OptSpec& o : kOptions)
    if (!o.long_name.empty() && o.long_name == name) return &o;
  return nullptr;
}

Result<int> parse_int(std::string_view what, std::string_view s, int lo, int hi) {
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 10);
  if (ec != std::errc() || p != s.data() + s.size() || v < lo || v > hi)
    return make_error(Errc::usage, std::string(what) + ": '" + std::string(s) + "' is not a number from " +
                                       std::to_string(lo) + " to " + std::to_string(hi));
  return v;
}

std::string spelled(const OptSpec& o) {
  return o.short_name ? std::string("-") + o.short_name : "--" + std::string(o.long_name);
}

Result<void> apply(CliOptions& c, const OptSpec& o, std::string_view value, int* codecs) {
  switch (o.id) {
    case Opt::zlib: c.dump.codec = CodecKind::zlib; ++*codecs; break;
    case Opt::lzo: c.dump.codec = CodecKind::lzo; ++*codecs; break;
    case Opt::zstd: c.dump.codec = CodecKind::zstd; ++*codecs; break;
    case Opt::snappy: c.dump.codec = CodecKind::snappy; ++*codecs; break;
    case Opt::level: {
      // makedumpfile accepts a comma list for retries with -L; one level is all we take now.
      if (value.find(',') != std::string_view::npos)
        return make_error(Errc::unsupported, "not supported yet: -d with a list of levels");
      Result<int> v = parse_int("-d", value, 0, kDlMax);
      if (!v) return std::move(v).error();
      c.dump.dump_level = *v;
      break;
    }
    case Opt::force: c.dump.force = true; break;
    case Opt::debug: c.debug = true; break;
    case Opt::help: c.command = Command::help; break;
    case Opt::version: c.command = Command::version; break;
    case Opt::dump_dmesg: c.command = Command::dump_dmesg; break;
    case Opt::message_level: {
      Result<int> v = parse_int("--message-level", value, 0, 31);
      if (!v) return std::move(v).error();
      c.message_level = *v;
      c.message_level_given = true;
      break;
    }
    case Opt::later:
      return make_error(Errc::unsupported, "not supported yet: " + spelled(o));
  }
  return {};
}

}  // namespace

Result<CliOptions> parse_cli(const std::vector<std::string>& args) {
  CliOptions c;
  int codecs = 0;
  bool only_positional = false;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (only_positional || a.size() < 2 || a[0] != '-') {
      c.positional.emplace_back(a);
      continue;
    }
    if (a == "--") {
      only_positional = true;
      continue;
    }
    auto take_value = [&](const OptSpec& o, std::string_view inline_value,
                          bool has_inline) -> Result<std::string_view> {
      if (has_inline) return inline_value;
      if (i + 1 >= args.size())
        return make_error(Errc::usage, "option " + spelled(o) + " needs a value");
      return std::string_view(args[++i]);
    };
    if (a.substr(0, 2) == "--") {
      std::string_view body = a.substr(2);
      size_t eq = body.find('=');
      std::string_view name = body.substr(0, eq);
      const OptSpec* o = find_long(name);
      if (!o) return make_error(Errc::usage, "unknown option: --" + std::string(name));
      std::string_view value;
      if (o->takes_value) {
        Result<std::string_view> v = take_value(*o, eq == std::string_view::npos ? "" : body.substr(eq + 1),
                                                eq != std::string_view::npos);
        if (!v) return std::move(v).error();
        value = *v;
      } else if (eq != std::string_view::npos) {
        return make_error(Errc::usage, "option --" + std::string(name) + " takes no value");
      }
      KK_TRY(apply(c, *o, value, &codecs));
      continue;
    }
    // A cluster of short options: "-cd31", "-l".
    for (size_t k = 1; k < a.size(); ++k) {
      const OptSpec* o = find_short(a[k]);
      if (!o) return make_error(Errc::usage, std::string("unknown option: -") + a[k]);
      std::string_view value;
      if (o->takes_value) {
        Result<std::string_view> v = take_value(*o, a.substr(k + 1), k + 1 < a.size());
        if (!v) return std::move(v).error();
        value = *v;
        k = a.size();
      }
      KK_TRY(apply(c, *o, value, &codecs));
    }
  }
  if (c.command == Command::help || c.command == Command::version) return c;
  if (codecs > 1) return make_error(Errc::usage, "choose one of -c, -l, -z, -p");
  if (c.positional.size() != 2)
    return make_error(Errc::usage, c.positional.size() < 2 ? "missing VMCORE and DUMPFILE"
                                                          : "too many arguments");
  if (c.command == Command::dump && codecs == 0) c.dump.codec = CodecKind::none;
  c.dump.input = c.positional[0];
  c.dump.output = c.positional[1];
  return c;
}

std::string usage_text() {
  return "usage: dumpfilter [-c|-l|-z|-p] [-d LEVEL] [-f] [--message-level N] VMCORE DUMPFILE\n"
         "       dumpfilter --dump-dmesg [-f] VMCORE LOGFILE\n"
         "\n"
         "Writes a kdump-compressed dump of VMCORE (/proc/vmcore or an ELF vmcore), leaving out the\n"
         "page classes that LEVEL names (sum of: 1 zero, 2 cache, 4 private cache, 8 user data,\n"
         "16 free).\n"
         "  -c / -l / -z / -p   compress pages with zlib / lzo / zstd / snappy (default: none)\n"
         "  -d LEVEL            dump level 0..31 (default 0)\n"
         "  -f                  overwrite an existing DUMPFILE\n"
         "  --message-level N   1 progress, 2 messages, 4 errors, 16 report (default 7)\n"
         "  --dump-dmesg        write the kernel log instead of a dump\n"
         "  -D                  debug output\n"
         "  -h, --help          this text;  -v, --version  the version\n";
}

}  // namespace kk
