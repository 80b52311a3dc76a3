// crash_record.cpp: the capture record, its format and the once-only report (see crash_record.h).
#include "kdumpctl/crash_record.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>

#include "lib/io/lines.h"
#include "lib/io/text_file.h"

namespace kk {

namespace {

constexpr std::string_view kMagic = "kdumpkit-capture 1";
constexpr size_t kMaxValue = 512;

// One line, no control bytes, bounded: a record value comes from a crashed kernel's log.
std::string one_line(std::string_view v) {
  std::string out(v.substr(0, kMaxValue));
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  return out;
}

// "[   12.345678] text" -> "text"; a line without the stamp is kept as it is.
std::string_view without_stamp(std::string_view line) {
  if (line.starts_with("[")) {
    size_t close = line.find("] ");
    if (close != std::string_view::npos) line.remove_prefix(close + 2);
  }
  return line;
}

bool is_report_line(std::string_view l) {
  for (std::string_view m : {"BUG:", "Oops:", "general protection fault", "kernel BUG at", "sysrq: Trigger a crash"})
    if (l.find(m) != std::string_view::npos) return true;
  return false;
}

}  // namespace

std::string format_record(const CaptureRecord& r) {
  return std::string(kMagic) + "\nresult=" + (r.saved ? "saved" : "failed") + "\ntime=" + std::to_string(r.time) +
         "\ndump=" + one_line(r.dump) + "\npanic=" + one_line(r.panic) + "\nreason=" + one_line(r.reason) + "\n";
}

Result<CaptureRecord> parse_record(std::string_view text) {
  Lines lines(text);
  std::string_view line;
  if (!lines.next(&line) || line != kMagic) return make_error(Errc::corrupt, "not a kdumpkit capture record");
  CaptureRecord r;
  bool have_result = false;
  while (lines.next(&line)) {
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) return make_error(Errc::corrupt, "line " + std::to_string(lines.number()) + ": no '='");
    std::string_view key = line.substr(0, eq), value = line.substr(eq + 1);
    if (key == "result") {
      if (value != "saved" && value != "failed")
        return make_error(Errc::corrupt, "line " + std::to_string(lines.number()) + ": result must be saved or failed");
      r.saved = value == "saved";
      have_result = true;
    } else if (key == "time") {
      r.time = static_cast<std::time_t>(std::strtoll(std::string(value).c_str(), nullptr, 10));
    } else if (key == "dump") {
      r.dump = one_line(value);
    } else if (key == "panic") {
      r.panic = one_line(value);
    } else if (key == "reason") {
      r.reason = one_line(value);
    }  // other keys: from a later version, ignored
  }
  if (!have_result) return make_error(Errc::corrupt, "no result= line");
  return r;
}

std::string panic_line(std::string_view dmesg) {
  std::string_view panic, first_report;
  Lines lines(dmesg);
  std::string_view line;
  while (lines.next(&line)) {
    std::string_view l = without_stamp(line);
    if (size_t p = l.find("Kernel panic - not syncing: "); p != std::string_view::npos) panic = l.substr(p);
    else if (first_report.empty() && is_report_line(l)) first_report = l;
  }
  return one_line(!panic.empty() ? panic : first_report);
}

std::string record_line(const CaptureRecord& r) {
  if (!r.saved) return "last crash: capture failed: " + (r.reason.empty() ? std::string("reason unknown") : r.reason);
  return "last crash: saved " + r.dump + " (" + (r.panic.empty() ? std::string("no panic line found") : "panic: " + r.panic) + ")";
}

std::vector<std::string> list_records(const std::string& dir, bool only_new) {
  std::vector<std::string> out;
  DIR* d = opendir(dir.c_str());
  if (!d) return out;
  while (struct dirent* e = readdir(d)) {
    std::string n = e->d_name;
    bool is_new = n.ends_with(kNewSuffix), is_old = n.ends_with(kReportedSuffix);
    if (!(is_new || (is_old && !only_new)) || n.starts_with(".")) continue;
    struct stat st {};
    if (fstatat(dirfd(d), n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) continue;
    out.push_back(n);
  }
  closedir(d);
  // Names start with the dump's <host>-<UTC date>: by name is by time for one host.
  auto stem = [](const std::string& n) { return n.substr(0, n.rfind('.')); };
  std::sort(out.begin(), out.end(), [&](const std::string& a, const std::string& b) { return stem(a) < stem(b); });
  return out;
}

Result<std::vector<std::string>> report_new_records(const Host& h) {
  std::string dir = h.path(kCaptureDir);
  std::vector<std::string> lines;
  for (const std::string& n : list_records(dir, true)) {
    std::string from = dir + "/" + n, to = from.substr(0, from.size() - kNewSuffix.size()) + std::string(kReportedSuffix);
    Result<std::string> text = read_text_file(from, 64 << 10);
    Result<CaptureRecord> rec = text ? parse_record(*text) : Result<CaptureRecord>(std::move(text).error());
    // Marked first: a line is logged once, even if the next boot finds the rename undone.
    Result<void> marked = rename_noreplace(from, to);
    if (!marked) return std::move(marked).error().context("marking " + from + " reported");
    lines.push_back("kdumpctl: " + (rec ? record_line(*rec) : "last crash: unreadable record " + from + ": " + rec.error().msg));
  }
  return lines;
}

std::optional<std::string> latest_record_line(const Host& h) {
  std::string dir = h.path(kCaptureDir);
  std::vector<std::string> all = list_records(dir, false);
  if (all.empty()) return std::nullopt;
  Result<std::string> text = read_text_file(dir + "/" + all.back(), 64 << 10);
  if (!text) return "last crash: record " + dir + "/" + all.back() + " unreadable: " + text.error().msg;
  Result<CaptureRecord> rec = parse_record(*text);
  if (!rec) return "last crash: record " + dir + "/" + all.back() + " unreadable: " + rec.error().msg;
  return record_line(*rec);
}

}  // namespace kk
