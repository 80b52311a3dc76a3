// crash_record.h: what the capture kernel leaves for the next boot (issue 17). After saving
// (or failing to), `kdumpctl save` writes one small record per capture on the crashed
// system's root file system, under /var/lib/kdumpkit/captures/; at the next boot `kdumpctl
// report-crash` (kdump.service) logs one line for each record not yet reported and marks it
// reported; `kdumpctl status` shows the newest. The line formats are in kdumpctl(8).
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/io/result.h"
#include "kdumpctl/host.h"

namespace kk {

inline constexpr std::string_view kCaptureDir = "/var/lib/kdumpkit/captures";

struct CaptureRecord {
  bool saved = false;
  std::time_t time = 0;
  std::string dump;    // where it was saved, as the first kernel names it
  std::string panic;   // the panic (or first oops) line of the kernel log; "" unknown
  std::string reason;  // why the capture failed (or why it went to the root fs instead)
};

// "kdumpkit-capture 1" then key=value lines; values are one line (control bytes become blanks).
std::string format_record(const CaptureRecord& r);
Result<CaptureRecord> parse_record(std::string_view text);

// The last "Kernel panic - not syncing: ..." line of a kernel log, else its first BUG:/Oops
// line, without the timestamp; "" when there is none.
std::string panic_line(std::string_view dmesg);

// "last crash: saved DIR (panic: LINE)" or "last crash: capture failed: WHY".
std::string record_line(const CaptureRecord& r);

// File names of a record: NAME.new until reported, NAME.reported after.
inline constexpr std::string_view kNewSuffix = ".new", kReportedSuffix = ".reported";

// Records in dir (regular files only, links skipped), oldest first by name; with
// only_new, those not yet reported.
std::vector<std::string> list_records(const std::string& dir, bool only_new);

// One line per unreported record in host's capture dir ("kdumpctl: " + record_line), each
// renamed to .reported once its line is made; an unreadable record is reported as such.
Result<std::vector<std::string>> report_new_records(const Host& h);

// The newest record's line, or nullopt when there is none.
std::optional<std::string> latest_record_line(const Host& h);

}  // namespace kk
