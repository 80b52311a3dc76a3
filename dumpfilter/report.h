// report.h: the triage report (dumpfilter --report): what crashed, on which CPU, in which task,
// through which calls and why, read from the crashed kernel's own log, its VMCOREINFO and its
// NT_PRSTATUS notes. One page for people, the same facts as JSON for tools.
//
// Everything here is pure: bytes and text in, a Report out, strings out. The caller (dumper.cpp)
// gathers the inputs through DumpInput and KernelReader, so any dump format the dumper reads
// gives the same report.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dumpfilter/dumper.h"
#include "lib/kernel/vmcoreinfo.h"

namespace kk {

// Bounds on what one report looks at, whatever the log or the notes claim.
inline constexpr u64 kReportLogBytes = 4u << 20;     // the log's last 4 MiB (the crash is at its end)
inline constexpr size_t kReportLogLines = 65536;     // ... and at most its last 64 Ki lines
inline constexpr size_t kReportMaxFrames = 128;      // call trace frames kept
inline constexpr size_t kReportScanLines = 400;      // how far past the crash's first line to look

enum class CrashKind { unknown, panic, oops, bug, null_deref, soft_lockup, hard_lockup, sysrq };
std::string_view crash_kind_id(CrashKind k);           // JSON: "null_pointer_dereference"
std::string_view crash_kind_description(CrashKind k);  // text: "NULL pointer dereference"

struct TraceFrame {
  std::string function;  // "sysrq_handle_crash", "__handle_sysrq.cold"
  std::string offset;    // "0x16/0x20"; "" when not printed
  std::string module;    // "crashme" for a frame printed with "[crashme]"; "" for vmlinux
  std::string context;   // the <TASK>, <IRQ>, <NMI>... section the frame is in, without brackets
  bool reliable = true;  // false for "? " frames: a return address found on the stack, not a caller
};

// What the kernel log says about the crash. Absent facts are empty / nullopt.
struct LogFacts {
  std::string version_line;   // "Linux version 6.1.0-56-amd64 (...) #1 SMP ..."
  std::string panic_message;  // of the last "Kernel panic - not syncing: " line
  std::string first_report;   // the first BUG:/Oops:/... line before the panic
  std::string reason;         // panic_message, or the first report when there was no panic
  CrashKind kind = CrashKind::unknown;
  std::optional<u64> uptime_usec;  // timestamp of the panic line (else of the first report)

  std::string cpu_line;  // "CPU: 0 PID: 1 Comm: init Kdump: loaded Not tainted 6.1.0 #1 ..."
  std::optional<int> cpu;
  std::optional<i64> pid;
  std::string comm;
  std::optional<bool> tainted;
  std::string taint_letters;  // "GOE": the letters after "Tainted: ", spaces dropped

  std::vector<TraceFrame> trace;
  bool trace_truncated = false;  // more than kReportMaxFrames frames
  std::string rip;               // "0010:crashme_init+0x15/0x1000 [crashme]", after "RIP: "
  bool rip_user = false;         // the RIP printed is a user-mode one (CS 0033 or 0023)

  bool log_truncated = false;  // only the log's tail was analysed (kReportLogBytes/Lines)
};

// Parses a log in makedumpfile --dump-dmesg form ("[    4.567013] text"); lines without a
// timestamp are taken as they are, so plain dmesg text works too.
LogFacts analyse_log(std::string_view log);

// pr_pid of each NT_PRSTATUS note, in note order (the order of the crashed kernel's CPUs).
Result<std::vector<i32>> prstatus_pids(std::span<const std::byte> notes);

struct TaintFlag {
  char letter;
  std::string_view meaning;
};
std::vector<TaintFlag> decode_taint(std::string_view letters);

// The dump file written alongside, when there is one.
struct DumpSummary {
  DumpStats stats;
  std::string path;
  CodecKind codec = CodecKind::none;
  int dump_level = 0;
  std::string format = "kdump-compressed";  // or "ELF", "flattened kdump-compressed", ...
};

// The input itself, as every DumpInput describes it.
struct VmcoreSummary {
  std::string path;
  std::optional<u64> file_size;
  std::string arch;
  u64 page_size = 0;
  u64 max_pfn = 0;
  u64 present_pages = 0;
  int nr_cpus = 0;
};

struct ReportInputs {
  std::string_view log;   // "" when it could not be read; log_error says why
  std::string log_error;
  const Vmcoreinfo* vmcoreinfo = nullptr;
  std::span<const std::byte> notes;
  VmcoreSummary vmcore;
  std::optional<DumpSummary> dump;
};

struct Report {
  std::string release;              // VMCOREINFO OSRELEASE
  std::optional<i64> crash_time;    // VMCOREINFO CRASHTIME (seconds since the epoch, UTC)
  LogFacts log;
  std::vector<TaintFlag> taint;
  std::vector<i32> prstatus_pids;   // per note, in order
  std::vector<int> cpus_naming_pid; // indexes of the notes whose pr_pid is log.pid
  VmcoreSummary vmcore;
  std::optional<DumpSummary> dump;
  std::vector<std::string> problems;  // facts we could not get, and why
};

Report build_report(const ReportInputs& in);

// A page of text for people, and the same facts as one JSON object (schema in report.cpp).
std::string format_report_text(const Report& r);
std::string format_report_json(const Report& r);

// Where the report goes: FILE gets the text and FILE.json the JSON, unless FILE ends in ".json",
// when FILE gets only the JSON. Returns {text path or "", json path}.
std::pair<std::string, std::string> report_paths(const std::string& file);

// Helpers the formats share, exposed for tests.
std::string json_quote(std::string_view s);         // "\"...\"" with JSON escapes, valid UTF-8
std::string format_uptime(u64 usec);                // "4.567013 s (0:00:04)"
std::string format_utc(i64 epoch_seconds);          // "2026-11-23 12:20:19 UTC"

}  // namespace kk
