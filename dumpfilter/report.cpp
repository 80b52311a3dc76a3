// report.cpp: the triage report's facts and its two formats. The kernel log is the main source:
// when the kernel dies it prints what happened (the first BUG/Oops line), where (the
// "CPU: N PID: P Comm: NAME" line and the RIP) and how it got there (the Call Trace), then
// "Kernel panic - not syncing: WHY". We find the crash's first line (the anchor) and read what
// follows it; the NT_PRSTATUS notes, written by crash_save_cpu() on each CPU as the machine went
// down, are an independent witness of which task ran where.
//
// Which line anchors the crash. The brief rule is "the last panic line, else the first report";
// with panic_on_oops and its relatives the panic line only says "Fatal exception", so when the
// panic message is one of those consequences the first report before it (BUG, Oops, lockup)
// is the anchor and gives the kind. A panic() called directly (sysrq, "VFS: Unable to mount
// root fs", panic_on_warn) anchors at the panic line itself.
#include "dumpfilter/report.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <ctime>

#include "lib/elf/elf_core.h"
#include "lib/io/byte_cursor.h"
#include "lib/io/lines.h"

namespace kk {

namespace {

// --- lines of the log ---------------------------------------------------------------------------

struct Line {
  std::optional<u64> usec;  // the record's timestamp; continuation lines inherit it
  std::string_view text;    // without the "[    4.567013] " prefix
};

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
bool contains(std::string_view s, std::string_view p) { return s.find(p) != std::string_view::npos; }

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// "[%5llu.%06llu] " as makedumpfile and dmesg print it. Returns the prefix length, 0 if none.
size_t parse_stamp(std::string_view line, u64* usec) {
  if (line.empty() || line[0] != '[') return 0;
  size_t i = 1;
  while (i < line.size() && line[i] == ' ') ++i;
  u64 sec = 0, frac = 0;
  size_t d0 = i;
  while (i < line.size() && is_digit(line[i]) && i - d0 < 12) sec = sec * 10 + u64(line[i++] - '0');
  if (i == d0 || i >= line.size() || line[i] != '.') return 0;
  size_t f0 = ++i;
  while (i < line.size() && is_digit(line[i]) && i - f0 < 9) frac = frac * 10 + u64(line[i++] - '0');
  if (i == f0 || i >= line.size() || line[i] != ']') return 0;
  for (size_t n = i - f0; n < 6; ++n) frac *= 10;
  for (size_t n = i - f0; n > 6; --n) frac /= 10;
  *usec = sec * 1000000 + frac;
  ++i;
  if (i < line.size() && line[i] == ' ') ++i;
  return i;
}

// The log's tail, bounded by kReportLogBytes and kReportLogLines, split into lines.
std::vector<Line> split_tail(std::string_view log, bool* truncated) {
  size_t start = 0;
  if (log.size() > kReportLogBytes) {
    start = log.find('\n', log.size() - kReportLogBytes);
    start = start == std::string_view::npos ? log.size() : start + 1;
    *truncated = true;
  }
  size_t newlines = 0;
  for (size_t i = log.size(); i > start; --i) {
    if (log[i - 1] == '\n' && i != log.size() && ++newlines == kReportLogLines) {
      start = i;
      *truncated = true;
      break;
    }
  }
  std::vector<Line> lines;
  std::optional<u64> last_usec;
  size_t indent = 0;
  while (start < log.size()) {
    size_t end = log.find('\n', start);
    if (end == std::string_view::npos) end = log.size();
    std::string_view raw = log.substr(start, end - start);
    start = end + 1;
    u64 usec = 0;
    if (size_t n = parse_stamp(raw, &usec)) {
      last_usec = usec;
      indent = n;
      lines.push_back({usec, raw.substr(n)});
    } else if (indent && raw.size() >= indent && raw.find_first_not_of(' ') >= indent) {
      lines.push_back({last_usec, raw.substr(indent)});  // a multi-line record's next line
    } else {
      lines.push_back({last_usec, raw});
    }
  }
  return lines;
}

// The boot banner, from anywhere in the whole log (it is the first record, so a truncated tail
// would lose it). No allocation: one pass of find().
std::string find_version_line(std::string_view log) {
  constexpr std::string_view kBanner = "Linux version ";
  for (size_t p = log.find(kBanner); p != std::string_view::npos; p = log.find(kBanner, p + 1)) {
    bool line_start = p == 0 || log[p - 1] == '\n' || (p >= 2 && log.substr(p - 2, 2) == "] ");
    if (!line_start) continue;
    size_t e = log.find('\n', p);
    return std::string(trim(log.substr(p, e == std::string_view::npos ? e : e - p)));
  }
  return {};
}

// --- what each line means -----------------------------------------------------------------------

constexpr std::string_view kPanicPrefix = "Kernel panic - not syncing: ";

// The first line of a kernel report, in order of precedence (the first entry that matches a line
// names its kind). x86_64 and arm64 wordings; "anywhere" lines carry a "watchdog: " style prefix.
struct Trigger {
  std::string_view text;
  bool anywhere;
  CrashKind kind;
};
constexpr std::array<Trigger, 13> kTriggers{{
    {"BUG: kernel NULL pointer dereference", false, CrashKind::null_deref},
    {"BUG: unable to handle kernel NULL pointer dereference", false, CrashKind::null_deref},  // < 4.18
    {"Unable to handle kernel NULL pointer dereference", false, CrashKind::null_deref},       // arm64
    {"BUG: soft lockup", true, CrashKind::soft_lockup},
    {"Watchdog detected hard LOCKUP", true, CrashKind::hard_lockup},
    {"kernel BUG at ", false, CrashKind::bug},
    {"BUG: unable to handle page fault", false, CrashKind::oops},
    {"BUG: unable to handle kernel paging request", false, CrashKind::oops},
    {"Unable to handle kernel paging request", false, CrashKind::oops},  // arm64
    {"BUG:", false, CrashKind::bug},
    {"general protection fault", false, CrashKind::oops},
    {"Oops:", false, CrashKind::oops},
    {"Internal error: Oops", false, CrashKind::oops},  // arm64
}};

// x86 die() before Linux 6.9 names the trap without "Oops: ": "invalid opcode: 0000 [#1] SMP",
// "divide error: 0000 [#1]", "stack segment: 0000 [#1]". The shape is "WORDS: XXXX [#N]".
bool is_die_line(std::string_view t) {
  size_t colon = t.find(": ");
  if (colon == std::string_view::npos || colon == 0) return false;
  std::string_view rest = t.substr(colon + 2);
  if (rest.size() < 8) return false;
  for (size_t i = 0; i < 4; ++i)
    if (!std::isxdigit(static_cast<unsigned char>(rest[i]))) return false;
  return rest.substr(4, 3) == " [#" && is_digit(rest[7]);
}

std::optional<CrashKind> trigger_kind(std::string_view t) {
  for (const Trigger& tr : kTriggers)
    if (tr.anywhere ? contains(t, tr.text) : starts_with(t, tr.text)) return tr.kind;
  if (is_die_line(t)) return CrashKind::oops;
  return std::nullopt;
}

// Panic messages that only say an earlier report was fatal (oops_end(), the lockup detectors,
// do_exit() of init), and the kind they mean when no report is left in the log.
struct Consequence {
  std::string_view prefix;
  CrashKind alone;
};
constexpr std::array<Consequence, 6> kConsequences{{
    {"Fatal exception", CrashKind::oops},  // also "Fatal exception in interrupt"
    {"softlockup: hung tasks", CrashKind::soft_lockup},
    {"Hard LOCKUP", CrashKind::hard_lockup},
    {"hung_task: blocked tasks", CrashKind::panic},
    {"Attempted to kill init!", CrashKind::panic},
    {"Aiee, killing interrupt handler!", CrashKind::panic},
}};

const Consequence* consequence_of(std::string_view panic_message) {
  for (const Consequence& c : kConsequences)
    if (starts_with(panic_message, c.prefix)) return &c;
  return nullptr;
}

// "sysrq: Trigger a crash" (Linux 5.6+), "SysRq : Trigger a crash" before.
bool is_sysrq_crash_line(std::string_view t) {
  return (starts_with(t, "sysrq: ") || starts_with(t, "SysRq : ")) && contains(t, "Trigger a crash");
}

bool is_cpu_line(std::string_view t) {
  return starts_with(t, "CPU: ") && contains(t, " PID: ") && contains(t, " Comm: ");
}

// Lines of a register dump that x86_64 prints in the middle of a call trace where the stack
// crosses a pt_regs (an interrupt or a syscall entry); the trace goes on after them.
bool is_register_line(std::string_view t) {
  static constexpr std::array<std::string_view, 14> kRegs{
      "RIP: ", "Code: ", "RSP: ", "RAX: ", "RDX: ", "RBP: ", "R10: ",
      "R13: ", "FS: ",  "CS: ",  "CR2: ", "DR0: ", "DR3: ", "PKRU: "};
  for (std::string_view r : kRegs)
    if (starts_with(t, r)) return true;
  return false;
}

std::optional<i64> parse_decimal(std::string_view s) {
  i64 v = 0;
  size_t i = 0;
  while (i < s.size() && is_digit(s[i]) && i < 18) v = v * 10 + (s[i++] - '0');
  if (i == 0) return std::nullopt;
  return v;
}

// "CPU: 0 PID: 1 Comm: init Kdump: loaded Not tainted 6.1.0-56-amd64 #1  Debian 6.1.192-2"
// (dump_stack_print_info(); 6.10+ adds "UID: 0 " before PID).
void parse_cpu_line(std::string_view t, LogFacts& f) {
  f.cpu_line = std::string(t);
  if (std::optional<i64> cpu = parse_decimal(t.substr(5))) f.cpu = static_cast<int>(*cpu);
  size_t pid = t.find(" PID: ");
  if (pid != std::string_view::npos) f.pid = parse_decimal(t.substr(pid + 6));
  size_t comm = t.find(" Comm: ");
  size_t tainted = t.find(" Tainted: ", comm);
  size_t not_tainted = t.find(" Not tainted", comm);
  size_t kdump = t.find(" Kdump: ", comm);
  size_t comm_end = std::min({tainted, not_tainted, kdump, t.size()});
  f.comm = std::string(t.substr(comm + 7, comm_end - (comm + 7)));
  if (tainted != std::string_view::npos && tainted == std::min(tainted, not_tainted)) {
    f.tainted = true;
    // print_tainted(): one column per flag, a letter or a space; the release follows.
    for (size_t i = tainted + 10; i < t.size() && (t[i] == ' ' || (t[i] >= 'A' && t[i] <= 'Z')); ++i)
      if (t[i] != ' ') f.taint_letters += t[i];
  } else if (not_tainted != std::string_view::npos) {
    f.tainted = false;
  }
}

// One frame: "func+0x16/0x20 [module]", "? func+0x68/0x83", or the older
// "[<ffffffff8130b3a6>] func+0x16/0x20". Returns nullopt for what is not a frame.
std::optional<TraceFrame> parse_frame(std::string_view t) {
  TraceFrame f;
  for (;;) {
    if (starts_with(t, "? ")) {
      f.reliable = false;
      t = trim(t.substr(2));
    } else if (starts_with(t, "[<")) {
      size_t e = t.find(">]");
      if (e == std::string_view::npos) return std::nullopt;
      t = trim(t.substr(e + 2));
    } else {
      break;
    }
  }
  size_t end = t.find_first_of("+ ");
  f.function = std::string(t.substr(0, end));
  if (f.function.empty()) return std::nullopt;
  t = end == std::string_view::npos ? std::string_view() : t.substr(end);
  if (starts_with(t, "+")) {
    size_t e = t.find(' ');
    f.offset = std::string(t.substr(1, e == std::string_view::npos ? e : e - 1));
    t = e == std::string_view::npos ? std::string_view() : t.substr(e);
  }
  t = trim(t);
  if (starts_with(t, "[")) {
    size_t e = t.find_first_of(" ]");
    f.module = std::string(t.substr(1, e == std::string_view::npos ? e : e - 1));
  }
  return f;
}

// Reads the frames after "Call Trace:" at lines[at]; returns the index of the line it ended on.
size_t read_trace(const std::vector<Line>& lines, size_t at, LogFacts& f) {
  std::string context;
  bool sectioned = false;  // saw <TASK>/<IRQ>...: a register dump inside does not end the trace
  size_t i = at + 1;
  for (; i < lines.size() && i <= at + kReportScanLines; ++i) {
    std::string_view raw = lines[i].text;
    std::string_view t = trim(raw);
    if (t.empty()) break;
    if (t == "</TASK>") return i;
    if (raw[0] != ' ' && raw[0] != '\t') {
      if (sectioned && is_register_line(t)) continue;
      break;
    }
    if (t.size() > 2 && t.front() == '<' && t.back() == '>') {
      sectioned = true;
      context = t[1] == '/' ? std::string() : std::string(t.substr(1, t.size() - 2));
      continue;
    }
    std::optional<TraceFrame> fr = parse_frame(t);
    if (!fr) break;
    if (f.trace.size() == kReportMaxFrames) {
      f.trace_truncated = true;
      continue;
    }
    fr->context = context;
    f.trace.push_back(std::move(*fr));
  }
  return i == 0 ? 0 : i - 1;
}

// The RIP of the crash: the first kernel-mode "RIP: " (arm64: "pc : ") in [from, to]; a user-mode
// one (the syscall's return point, printed inside the trace) only when there is no other.
void find_rip(const std::vector<Line>& lines, size_t from, size_t to, LogFacts& f) {
  std::string user;
  for (size_t i = from; i <= to && i < lines.size(); ++i) {
    std::string_view t = lines[i].text;
    std::string_view v;
    if (starts_with(t, "RIP: ")) v = trim(t.substr(5));
    else if (starts_with(t, "pc : ")) v = trim(t.substr(5));
    else continue;
    if (starts_with(v, "0033:") || starts_with(v, "0023:")) {
      if (user.empty()) user = std::string(v);
      continue;
    }
    f.rip = std::string(v);
    return;
  }
  if (!user.empty()) {
    f.rip = user;
    f.rip_user = true;
  }
}

// Decides kind, reason and the anchor line; returns the anchor's index.
std::optional<size_t> classify(const std::vector<Line>& lines, LogFacts& f) {
  std::optional<size_t> panic, trigger;
  for (size_t i = lines.size(); i-- > 0;)
    if (starts_with(lines[i].text, kPanicPrefix)) {
      panic = i;
      break;
    }
  std::optional<CrashKind> trigger_k;
  for (size_t i = 0; i < panic.value_or(lines.size()); ++i)
    if ((trigger_k = trigger_kind(lines[i].text))) {
      trigger = i;
      break;
    }
  if (trigger) f.first_report = std::string(trim(lines[*trigger].text));

  std::optional<size_t> anchor;
  if (panic) {
    f.panic_message = std::string(trim(lines[*panic].text.substr(kPanicPrefix.size())));
    f.reason = f.panic_message;
    f.uptime_usec = lines[*panic].usec;
    const Consequence* c = consequence_of(f.panic_message);
    if (contains(f.panic_message, "sysrq triggered crash")) {
      f.kind = CrashKind::sysrq;
      anchor = panic;
    } else if (c && trigger) {
      f.kind = *trigger_k;
      anchor = trigger;
    } else {
      f.kind = c ? c->alone : CrashKind::panic;
      anchor = panic;
    }
  } else if (trigger) {
    f.reason = f.first_report;
    f.kind = *trigger_k;
    f.uptime_usec = lines[*trigger].usec;
    anchor = trigger;
  }
  // Before 4.x the sysrq handler crashed by writing through NULL: "SysRq : Trigger a crash" then
  // an oops. The line right before the anchor says it was asked for.
  if (anchor)
    for (size_t i = *anchor >= 3 ? *anchor - 3 : 0; i < *anchor; ++i)
      if (is_sysrq_crash_line(lines[i].text)) f.kind = CrashKind::sysrq;
  return anchor;
}

}  // namespace

std::string_view crash_kind_id(CrashKind k) {
  switch (k) {
    case CrashKind::unknown: return "unknown";
    case CrashKind::panic: return "panic";
    case CrashKind::oops: return "oops";
    case CrashKind::bug: return "bug";
    case CrashKind::null_deref: return "null_pointer_dereference";
    case CrashKind::soft_lockup: return "soft_lockup";
    case CrashKind::hard_lockup: return "hard_lockup";
    case CrashKind::sysrq: return "sysrq";
  }
  return "unknown";
}

std::string_view crash_kind_description(CrashKind k) {
  switch (k) {
    case CrashKind::unknown: return "unknown (no panic or oops in the log)";
    case CrashKind::panic: return "panic";
    case CrashKind::oops: return "oops";
    case CrashKind::bug: return "BUG";
    case CrashKind::null_deref: return "NULL pointer dereference";
    case CrashKind::soft_lockup: return "soft lockup";
    case CrashKind::hard_lockup: return "hard lockup";
    case CrashKind::sysrq: return "sysrq triggered crash";
  }
  return "unknown";
}

LogFacts analyse_log(std::string_view log) {
  LogFacts f;
  f.version_line = find_version_line(log);
  std::vector<Line> lines = split_tail(log, &f.log_truncated);
  std::optional<size_t> anchor = classify(lines, f);
  if (!anchor) return f;
  size_t window_end = std::min(lines.size(), *anchor + kReportScanLines);

  // The task line the report printed: the first after the anchor, else the closest before it.
  std::optional<size_t> cpu;
  for (size_t i = *anchor; i < window_end && !cpu; ++i)
    if (is_cpu_line(lines[i].text)) cpu = i;
  for (size_t i = *anchor; !cpu && i-- > 0;)
    if (is_cpu_line(lines[i].text)) cpu = i;
  if (cpu) parse_cpu_line(trim(lines[*cpu].text), f);

  size_t trace_end = window_end == 0 ? 0 : window_end - 1;
  for (size_t i = *anchor; i < window_end; ++i) {
    std::string_view t = trim(lines[i].text);
    if (t == "Call Trace:" || t == "Call trace:") {
      trace_end = read_trace(lines, i, f);
      break;
    }
  }
  find_rip(lines, *anchor, trace_end, f);
  return f;
}

Result<std::vector<i32>> prstatus_pids(std::span<const std::byte> notes) {
  KK_TRY_ASSIGN(std::vector<Note> parsed, parse_notes(notes, 0));
  std::vector<i32> pids;
  for (const Note& n : parsed) {
    if (n.type != kNtPrstatus || n.name != "CORE") continue;
    ByteCursor cur(n.desc, "NT_PRSTATUS note " + std::to_string(pids.size()), n.desc_pos);
    KK_TRY_ASSIGN(ElfPrstatusHead h, cur.read<ElfPrstatusHead>());
    pids.push_back(h.pr_pid);
  }
  return pids;
}

// Documentation/admin-guide/tainted-kernels.rst lists the letters; the wording here is ours.
std::vector<TaintFlag> decode_taint(std::string_view letters) {
  static constexpr std::array<TaintFlag, 21> kFlags{{
      {'P', "a proprietary (non-GPL) module was loaded"},
      {'G', "all loaded modules are GPL-compatible (not a taint)"},
      {'F', "a module was force-loaded"},
      {'S', "the system runs out of specification (SMP-unsafe CPUs, or a CPU bug workaround off)"},
      {'R', "a module was force-unloaded"},
      {'M', "a machine check exception was raised"},
      {'B', "a bad page was referenced, or page flags were unexpected"},
      {'U', "user space asked for the taint"},
      {'D', "the kernel died recently (an earlier oops or BUG)"},
      {'A', "an ACPI table was overridden by the user"},
      {'W', "the kernel printed a warning"},
      {'C', "a staging driver was loaded"},
      {'I', "a workaround for a platform firmware bug is in use"},
      {'O', "an out-of-tree module was loaded"},
      {'E', "an unsigned module was loaded"},
      {'L', "a soft lockup occurred"},
      {'K', "the kernel was live-patched"},
      {'X', "auxiliary taint, set by distributions"},
      {'T', "the kernel was built with the struct randomization plugin"},
      {'N', "an in-kernel test (such as KUnit) was run"},
      {'J', "user space ran a mutating fwctl debug operation"},
  }};
  std::vector<TaintFlag> out;
  for (char c : letters) {
    auto it = std::find_if(kFlags.begin(), kFlags.end(), [c](const TaintFlag& t) { return t.letter == c; });
    out.push_back(it != kFlags.end() ? *it : TaintFlag{c, "unknown taint flag"});
  }
  return out;
}

Report build_report(const ReportInputs& in) {
  Report r;
  if (in.vmcoreinfo) {
    r.release = in.vmcoreinfo->osrelease();
    r.crash_time = in.vmcoreinfo->crash_time();
  }
  if (r.release.empty()) r.problems.push_back("vmcoreinfo: no OSRELEASE");
  r.vmcore = in.vmcore;
  r.dump = in.dump;

  if (!in.log.empty()) {
    r.log = analyse_log(in.log);
    if (r.log.version_line.empty())
      r.problems.push_back("kernel log: no \"Linux version\" line (the log has wrapped)");
    if (r.log.kind == CrashKind::unknown) r.problems.push_back("kernel log: no panic, BUG or oops line");
    else if (r.log.cpu_line.empty()) r.problems.push_back("kernel log: no \"CPU: N PID: P\" line near the crash");
    if (r.log.kind != CrashKind::unknown && r.log.trace.empty())
      r.problems.push_back("kernel log: no call trace near the crash");
    if (r.log.log_truncated)
      r.problems.push_back("kernel log: only its last " + std::to_string(kReportLogBytes >> 20) +
                           " MiB were analysed");
  } else {
    r.problems.push_back("kernel log: " + (in.log_error.empty() ? std::string("empty") : in.log_error));
  }
  r.taint = decode_taint(r.log.taint_letters);

  Result<std::vector<i32>> pids = prstatus_pids(in.notes);
  if (!pids) {
    r.problems.push_back(pids.error().msg);
  } else {
    r.prstatus_pids = std::move(*pids);
    if (r.prstatus_pids.empty()) r.problems.push_back("notes: no NT_PRSTATUS note");
  }
  if (r.log.pid)
    for (size_t i = 0; i < r.prstatus_pids.size(); ++i)
      if (r.prstatus_pids[i] == *r.log.pid) r.cpus_naming_pid.push_back(static_cast<int>(i));
  return r;
}

}  // namespace kk
