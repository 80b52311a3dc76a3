// report_format.cpp: the triage report's two forms. Text is for the person who opens the crash
// directory first; JSON carries the same facts for tools. The JSON is written by hand: a few
// dozen fields do not need a library in the capture initramfs, but strings must be escaped
// exactly (the log and file names can hold any byte), so json_quote() emits only valid UTF-8.
//
// JSON schema (format_version 1); absent facts are null, never left out:
//   { "format": "kdumpkit-triage-report", "format_version": 1,
//     "kernel": { "release", "version", "crash_time" (epoch s), "crash_time_utc" (ISO 8601),
//                 "uptime_seconds" (number), "uptime" ("h:mm:ss") },
//     "crash": { "kind" (crash_kind_id), "kind_description", "reason", "panic_message",
//                "first_report", "cpu", "pid", "comm", "cpu_line", "tainted", "taint_letters",
//                "taint": [{"letter", "meaning"}], "rip", "rip_user_mode",
//                "call_trace": [function, ...] (reliable frames),
//                "call_trace_unreliable": [function, ...] ("? " frames),
//                "call_trace_frames": [{"function", "offset", "module", "context", "reliable"}],
//                "call_trace_truncated" },
//     "prstatus": { "pids": [per note], "cpus_naming_pid": [...], "agrees_with_log" },
//     "vmcore": { "path", "size_bytes", "arch", "page_size", "max_pfn", "present_pages",
//                 "ram_bytes", "cpus" },
//     "dump": null | { "path", "format", "codec", "dump_level", "pages_in_memory_map", "pages_present",
//                      "excluded": {"zero", "cache", "cache_private", "user", "free",
//                                   "hwpoison", "offline"},
//                      "pages_kept", "unclassified", "file_size", "classified", "note",
//                      "lost_pages", "lost_pfn_ranges": [{"first", "last"}, ...] (unreadable
//                      input pages, marked lost in the dump; at most DumpStats::kMaxLostRanges) },
//     "problems": [string, ...] }
#include <cstdio>
#include <ctime>
#include <optional>
#include <type_traits>
#include <utility>

#include "dumpfilter/report.h"
#include "lib/io/escape.h"
#include "lib/io/hex.h"

namespace kk {

namespace {

std::string num(u64 v) { return std::to_string(v); }

std::string strftime_utc(i64 t, const char* fmt) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  if (!::gmtime_r(&tt, &tm)) return std::to_string(t);
  char b[64];
  size_t n = std::strftime(b, sizeof b, fmt, &tm);
  return std::string(b, n);
}

std::string seconds_text(u64 usec) {
  char b[48];
  std::snprintf(b, sizeof b, "%llu.%06llu", static_cast<unsigned long long>(usec / 1000000),
                static_cast<unsigned long long>(usec % 1000000));
  return b;
}

std::string hms(u64 usec) {
  u64 s = usec / 1000000;
  char b[48];
  std::snprintf(b, sizeof b, "%llu:%02llu:%02llu", static_cast<unsigned long long>(s / 3600),
                static_cast<unsigned long long>(s / 60 % 60), static_cast<unsigned long long>(s % 60));
  return b;
}

std::string mib(u64 bytes) {
  char b[48];
  std::snprintf(b, sizeof b, "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return b;
}

u64 excluded_total(const DumpStats& s) {
  u64 n = 0;
  for (u64 v : s.excluded.n) n += v;
  return n;
}

// Does the NT_PRSTATUS evidence agree with the CPU the log names? nullopt: nothing to compare.
std::optional<bool> prstatus_agrees(const Report& r) {
  if (!r.log.cpu || !r.log.pid || r.prstatus_pids.empty()) return std::nullopt;
  for (int c : r.cpus_naming_pid)
    if (c == *r.log.cpu) return true;
  return false;
}

std::string join_ints(const std::vector<int>& v) {
  std::string s;
  for (int x : v) s += (s.empty() ? "" : ", ") + std::to_string(x);
  return s;
}

// Pretty-printed JSON, two spaces per level. Keys are ignored inside arrays.
class JsonWriter {
 public:
  JsonWriter& begin(std::string_view key, char bracket) {
    item(key);
    out_ += bracket;
    stack_.push_back({bracket, false});
    return *this;
  }
  JsonWriter& end() {
    Level l = stack_.back();
    stack_.pop_back();
    if (l.items) newline();
    out_ += l.bracket == '{' ? '}' : ']';
    return *this;
  }
  JsonWriter& str(std::string_view key, std::string_view v) { return raw(key, json_quote(v)); }
  JsonWriter& str_or_null(std::string_view key, std::string_view v) {
    return v.empty() ? raw(key, "null") : str(key, v);
  }
  JsonWriter& u(std::string_view key, u64 v) { return raw(key, num(v)); }
  JsonWriter& i(std::string_view key, i64 v) { return raw(key, std::to_string(v)); }
  JsonWriter& b(std::string_view key, bool v) { return raw(key, v ? "true" : "false"); }
  template <class T>
  JsonWriter& opt(std::string_view key, const std::optional<T>& v) {
    if (!v) return raw(key, "null");
    if constexpr (std::is_same_v<T, bool>) return b(key, *v);
    else return raw(key, std::to_string(*v));
  }
  JsonWriter& raw(std::string_view key, std::string_view literal) {
    item(key);
    out_ += literal;
    return *this;
  }
  std::string take() {
    out_ += '\n';
    return std::move(out_);
  }

 private:
  struct Level {
    char bracket;
    bool items;
  };
  void newline() {
    out_ += '\n';
    out_.append(2 * stack_.size(), ' ');
  }
  void item(std::string_view key) {
    if (stack_.empty()) return;
    if (stack_.back().items) out_ += ',';
    stack_.back().items = true;
    newline();
    if (stack_.back().bracket == '{') out_ += json_quote(key) + ": ";
  }
  std::string out_;
  std::vector<Level> stack_;
};

void json_crash(JsonWriter& j, const Report& r) {
  const LogFacts& f = r.log;
  j.begin("crash", '{')
      .str("kind", crash_kind_id(f.kind))
      .str("kind_description", crash_kind_description(f.kind))
      .str_or_null("reason", f.reason)
      .str_or_null("panic_message", f.panic_message)
      .str_or_null("first_report", f.first_report)
      .opt("cpu", f.cpu)
      .opt("pid", f.pid)
      .str_or_null("comm", f.cpu_line.empty() ? std::string_view() : f.comm)
      .str_or_null("cpu_line", f.cpu_line)
      .opt("tainted", f.tainted)
      .str("taint_letters", f.taint_letters);
  j.begin("taint", '[');
  for (const TaintFlag& t : r.taint)
    j.begin("", '{').str("letter", std::string_view(&t.letter, 1)).str("meaning", t.meaning).end();
  j.end();
  j.str_or_null("rip", f.rip).b("rip_user_mode", f.rip_user);
  j.begin("call_trace", '[');
  for (const TraceFrame& fr : f.trace)
    if (fr.reliable) j.str("", fr.function);
  j.end().begin("call_trace_unreliable", '[');
  for (const TraceFrame& fr : f.trace)
    if (!fr.reliable) j.str("", fr.function);
  j.end().begin("call_trace_frames", '[');
  for (const TraceFrame& fr : f.trace)
    j.begin("", '{')
        .str("function", fr.function)
        .str_or_null("offset", fr.offset)
        .str_or_null("module", fr.module)
        .str_or_null("context", fr.context)
        .b("reliable", fr.reliable)
        .end();
  j.end().b("call_trace_truncated", f.trace_truncated).end();
}

void json_dump(JsonWriter& j, const Report& r) {
  if (!r.dump) {
    j.raw("dump", "null");
    return;
  }
  const DumpStats& s = r.dump->stats;
  j.begin("dump", '{')
      .str("path", r.dump->path)
      .str("format", r.dump->format)
      .str("codec", codec_name(r.dump->codec))
      .i("dump_level", r.dump->dump_level)
      .u("pages_in_memory_map", s.max_pfn)
      .u("pages_present", s.present_pages);
  j.begin("excluded", '{')
      .u("zero", s.excluded[PageClass::zero])
      .u("cache", s.excluded[PageClass::cache])
      .u("cache_private", s.excluded[PageClass::cache_private])
      .u("user", s.excluded[PageClass::user])
      .u("free", s.excluded[PageClass::free])
      .u("hwpoison", s.excluded[PageClass::hwpoison])
      .u("offline", s.excluded[PageClass::offline])
      .end();
  j.u("pages_kept", s.present_pages - excluded_total(s))
      .u("unclassified", s.unclassified)
      .u("file_size", s.file_size)
      .b("classified", s.classified)
      .str_or_null("note", s.note)
      .u("lost_pages", s.lost_pages);
  j.begin("lost_pfn_ranges", '[');
  for (const PfnRun& lr : s.lost_ranges) j.begin("", '{').u("first", lr.start).u("last", lr.end - 1).end();
  j.end().end();
}

// --- text: one section per function, "  label          value" rows --------------------------

struct Text {
  std::string o;
  void heading(std::string_view h) {
    o += '\n';
    o.append(h);
    o += '\n';
  }
  void row(std::string_view label, std::string_view value) {
    char b[24];
    std::snprintf(b, sizeof b, "  %-14s ", std::string(label).c_str());
    o += b;
    // Values quote the crashed kernel (log lines, vmcoreinfo, file names): no control byte may
    // reach the terminal of whoever reads the report.
    o += escape_for_terminal(value);
    o += '\n';
  }
  void line(std::string_view text) {
    o += escape_for_terminal(text);
    o += '\n';
  }
};

void text_kernel(Text& t, const Report& r) {
  const LogFacts& f = r.log;
  t.heading("Kernel");
  t.row("release", r.release.empty() ? "unknown" : r.release);
  if (!f.version_line.empty()) t.row("version", f.version_line);
  if (r.crash_time) t.row("crash time", format_utc(*r.crash_time));
  if (f.uptime_usec) t.row("uptime", format_uptime(*f.uptime_usec));
}

void text_crash(Text& t, const Report& r) {
  const LogFacts& f = r.log;
  t.heading("Crash");
  t.row("kind", crash_kind_description(f.kind));
  if (!f.reason.empty()) t.row("reason", f.reason);
  if (!f.panic_message.empty()) t.row("panic line", "Kernel panic - not syncing: " + f.panic_message);
  if (!f.first_report.empty()) t.row("first report", f.first_report);
  if (f.cpu) t.row("CPU", std::to_string(*f.cpu));
  if (f.pid) t.row("task", "PID " + std::to_string(*f.pid) + " (" + f.comm + ")");
  if (f.tainted) {
    t.row("taint", *f.tainted ? f.taint_letters : "none (Not tainted)");
    for (const TaintFlag& tf : r.taint) t.row("", std::string(1, tf.letter) + "  " + std::string(tf.meaning));
  }
  if (!f.rip.empty()) t.row("RIP", f.rip + (f.rip_user ? " (user mode)" : ""));
  if (!f.cpu_line.empty()) t.row("log line", f.cpu_line);
  if (r.prstatus_pids.empty() || !f.pid) return;
  std::string pid = "PID " + std::to_string(*f.pid);
  std::optional<bool> agree = prstatus_agrees(r);
  if (r.cpus_naming_pid.empty())
    t.row("NT_PRSTATUS", "no CPU's note names " + pid + " (the log and the notes disagree)");
  else if (agree && *agree)
    t.row("NT_PRSTATUS", pid + " on CPU " + join_ints(r.cpus_naming_pid) + ": agrees with the log");
  else
    t.row("NT_PRSTATUS", pid + " on CPU " + join_ints(r.cpus_naming_pid) +
                             (f.cpu ? ", not on CPU " + std::to_string(*f.cpu) + " as the log says" : ""));
}

void text_trace(Text& t, const LogFacts& f) {
  if (f.trace.empty()) return;
  t.heading("Call trace (\"?\": an address found on the stack, not a proven caller)");
  std::string context;
  for (const TraceFrame& fr : f.trace) {
    if (fr.context != context && !fr.context.empty()) t.line("  <" + fr.context + ">");
    context = fr.context;
    std::string frame = std::string("  ") + (fr.reliable ? "" : "? ") + fr.function;
    if (!fr.offset.empty()) frame += "+" + fr.offset;
    if (!fr.module.empty()) frame += " [" + fr.module + "]";
    t.line(frame);
  }
  if (f.trace_truncated) t.o += "  ... (more than " + std::to_string(kReportMaxFrames) + " frames)\n";
}

// The vmcore always; the dump's statistics when one was written.
void text_sizes(Text& t, const Report& r) {
  const VmcoreSummary& v = r.vmcore;
  t.heading("Vmcore");
  t.row("file", v.path + (v.file_size ? " (" + num(*v.file_size) + " bytes)" : ""));
  t.row("RAM", mib(v.present_pages * v.page_size) + " in " + num(v.present_pages) + " pages of " +
                   num(v.page_size) + " bytes, " + std::to_string(v.nr_cpus) + " CPU" +
                   (v.nr_cpus == 1 ? "" : "s") + (v.arch.empty() ? "" : " (" + v.arch + ")"));
  if (!r.dump) return;
  const DumpStats& s = r.dump->stats;
  t.heading("Dump");
  t.row("file", r.dump->path + " (" + num(s.file_size) + " bytes)");
  t.row("filter", "-d " + std::to_string(r.dump->dump_level) + ", " + r.dump->format + ", " +
                     std::string(codec_name(r.dump->codec)));
  t.row("present", num(s.present_pages) + " pages");
  t.row("kept", num(s.present_pages - excluded_total(s)) + " pages" +
                    (s.unclassified ? " (" + num(s.unclassified) + " with an unreadable struct page)" : ""));
  const std::pair<const char*, PageClass> classes[] = {
      {"excl. zero", PageClass::zero},   {"excl. cache", PageClass::cache},
      {"excl. private", PageClass::cache_private}, {"excl. user", PageClass::user},
      {"excl. free", PageClass::free},   {"excl. hwpoison", PageClass::hwpoison},
      {"excl. offline", PageClass::offline}};
  for (const auto& [name, c] : classes) t.row(name, num(s.excluded[c]) + " pages");
  if (!s.classified) t.row("note", "pages not classified (" + s.note + ")");
  if (s.lost_pages) {
    std::string ranges;
    for (const PfnRun& lr : s.lost_ranges)
      ranges += (ranges.empty() ? "pfn " : ", ") + kk::hex(lr.start) + (lr.end - lr.start > 1 ? "-" + kk::hex(lr.end - 1) : "");
    t.row("lost", num(s.lost_pages) + " pages unreadable in the input, marked lost in the dump (" + ranges +
                      (s.lost_ranges.size() == DumpStats::kMaxLostRanges ? ", ..." : "") + ")");
  }
}

}  // namespace

std::string json_quote(std::string_view s) {
  std::string o = "\"";
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    char esc[8];
    switch (c) {
      case '"': o += "\\\""; break;
      case '\\': o += "\\\\"; break;
      case '\n': o += "\\n"; break;
      case '\r': o += "\\r"; break;
      case '\t': o += "\\t"; break;
      case '\b': o += "\\b"; break;
      case '\f': o += "\\f"; break;
      default:
        if (c >= 0x80) {
          if (size_t n = utf8_len(s, i)) {
            o.append(s.substr(i, n));
            i += n;
            continue;
          }
        }
        if (c < 0x20 || c >= 0x7f) {
          // A control byte, or a byte that is not UTF-8: written as the code point of the same
          // value (ISO 8859-1), so the output stays valid JSON and loses nothing.
          std::snprintf(esc, sizeof esc, "\\u%04x", c);
          o += esc;
        } else {
          o += static_cast<char>(c);
        }
    }
    ++i;
  }
  return o + "\"";
}

std::pair<std::string, std::string> report_paths(const std::string& file) {
  constexpr std::string_view kJson = ".json";
  constexpr std::string_view kTxt = ".txt";
  auto ends_with = [&](std::string_view suffix) {
    return file.size() > suffix.size() && file.compare(file.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (ends_with(kJson)) return {std::string(), file};
  // report.txt and report.json side by side, as a capture directory lists them.
  if (ends_with(kTxt)) return {file, file.substr(0, file.size() - kTxt.size()) + std::string(kJson)};
  return {file, file + std::string(kJson)};
}

std::string format_uptime(u64 usec) { return seconds_text(usec) + " s (" + hms(usec) + ")"; }

std::string format_utc(i64 epoch_seconds) { return strftime_utc(epoch_seconds, "%Y-%m-%d %H:%M:%S UTC"); }

std::string format_report_json(const Report& r) {
  const LogFacts& f = r.log;
  JsonWriter j;
  j.begin("", '{').str("format", "kdumpkit-triage-report").u("format_version", 1);
  j.begin("kernel", '{')
      .str_or_null("release", r.release)
      .str_or_null("version", f.version_line)
      .opt("crash_time", r.crash_time)
      .str_or_null("crash_time_utc", r.crash_time ? strftime_utc(*r.crash_time, "%Y-%m-%dT%H:%M:%SZ") : "")
      .raw("uptime_seconds", f.uptime_usec ? seconds_text(*f.uptime_usec) : "null")
      .str_or_null("uptime", f.uptime_usec ? hms(*f.uptime_usec) : "")
      .end();
  json_crash(j, r);

  j.begin("prstatus", '{').begin("pids", '[');
  for (i32 p : r.prstatus_pids) j.i("", p);
  j.end().begin("cpus_naming_pid", '[');
  for (int c : r.cpus_naming_pid) j.i("", c);
  j.end().opt("agrees_with_log", prstatus_agrees(r)).end();

  const VmcoreSummary& v = r.vmcore;
  j.begin("vmcore", '{')
      .str("path", v.path)
      .opt("size_bytes", v.file_size)
      .str_or_null("arch", v.arch)
      .u("page_size", v.page_size)
      .u("max_pfn", v.max_pfn)
      .u("present_pages", v.present_pages)
      .u("ram_bytes", v.present_pages * v.page_size)
      .i("cpus", v.nr_cpus)
      .end();
  json_dump(j, r);
  j.begin("problems", '[');
  for (const std::string& p : r.problems) j.str("", p);
  j.end().end();
  return j.take();
}

std::string format_report_text(const Report& r) {
  Text t;
  t.line("dumpfilter triage report: " + r.vmcore.path);
  text_kernel(t, r);
  text_crash(t, r);
  text_trace(t, r.log);
  text_sizes(t, r);
  if (!r.problems.empty()) {
    t.o += "\nGaps (facts not found, or damaged)\n";
    for (const std::string& p : r.problems) t.line("  - " + p);
  }
  return std::move(t.o);
}

}  // namespace kk
