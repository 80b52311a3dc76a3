// The next-boot report (issue 17): the capture record's format, the panic line, and one line
// per capture at the next boot, never twice; `kdumpctl status` shows the newest.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "kdumpctl/crash_record.h"
#include "kdumpctl/kdumpctl.h"
#include "tests/unit/temp_dir.h"
#include "tests/unit/test_files.h"

using namespace kk;
using kk::test::put;
using kk::test::slurp;
using kk::test::TempDir;

namespace {

constexpr const char* kDmesg =
    "[    0.000000] Linux version 6.1.0-28-amd64\n"
    "[   41.201113] sysrq: Trigger a crash\n"
    "[   41.201500] Kernel panic - not syncing: sysrq triggered crash\n"
    "[   41.201600] CPU: 0 PID: 612 Comm: bash Not tainted 6.1.0-28-amd64 #1 Debian\n";

CaptureRecord saved_record(const std::string& dump, const std::string& panic) {
  CaptureRecord r;
  r.saved = true;
  r.time = 1765080000;
  r.dump = dump;
  r.panic = panic;
  return r;
}

std::string captures(const TempDir& t) { return t.file("root") + std::string(kCaptureDir); }

}  // namespace

TEST_CASE("capture record: written and read back, one line per value", "[kdumpctl_record]") {
  CaptureRecord r = saved_record("/var/crash/web1-2026-12-07-04:00:00", "Kernel panic - not syncing: x\nforged=1");
  std::string text = format_record(r);
  REQUIRE(text.starts_with("kdumpkit-capture 1\nresult=saved\ntime=1765080000\n"));
  Result<CaptureRecord> back = parse_record(text);
  REQUIRE(back);
  REQUIRE(back->saved);
  REQUIRE(back->time == 1765080000);
  REQUIRE(back->dump == r.dump);
  REQUIRE(back->panic == "Kernel panic - not syncing: x forged=1");  // a newline cannot add a key
  CaptureRecord f;
  f.reason = "/dev/vda: no such block device after 10 s";
  back = parse_record(format_record(f));
  REQUIRE((back && !back->saved && back->reason == f.reason));
}

TEST_CASE("capture record: a damaged record is refused", "[kdumpctl_record]") {
  REQUIRE(!parse_record(""));
  REQUIRE(!parse_record("something else\nresult=saved\n"));
  REQUIRE(!parse_record("kdumpkit-capture 1\ntime=1\n"));                // no result
  REQUIRE(!parse_record("kdumpkit-capture 1\nresult=maybe\n"));
  REQUIRE(!parse_record("kdumpkit-capture 1\nresult=saved\ngarbage\n"));
  REQUIRE(parse_record("kdumpkit-capture 1\nresult=saved\nfuture=1\n"));  // later keys ignored
}

TEST_CASE("capture record: the panic line of a kernel log", "[kdumpctl_record]") {
  REQUIRE(panic_line(kDmesg) == "Kernel panic - not syncing: sysrq triggered crash");
  REQUIRE(panic_line("[ 1.0] BUG: kernel NULL pointer dereference, address: 0000000000000000\n[ 1.1] Oops: 0002 [#1]\n") ==
          "BUG: kernel NULL pointer dereference, address: 0000000000000000");
  REQUIRE(panic_line("[ 1.0] all is well\n").empty());
}

TEST_CASE("capture record: the lines the next boot logs", "[kdumpctl_record]") {
  REQUIRE(record_line(saved_record("/var/crash/h-2026-12-07-04:00:00", "Kernel panic - not syncing: sysrq triggered crash")) ==
          "last crash: saved /var/crash/h-2026-12-07-04:00:00 (panic: Kernel panic - not syncing: sysrq triggered crash)");
  REQUIRE(record_line(saved_record("/var/crash/h", "")) == "last crash: saved /var/crash/h (no panic line found)");
  CaptureRecord f;
  f.reason = "/dev/vda: no such block device after 10 s";
  REQUIRE(record_line(f) == "last crash: capture failed: /dev/vda: no such block device after 10 s");
}

TEST_CASE("capture record: each capture is reported once, oldest first", "[kdumpctl_record]") {
  TempDir t;
  std::string dir = captures(t);
  put(dir + "/h-2026-12-07-04:00:00.reported", format_record(saved_record("/var/crash/old", "")), 0600);
  put(dir + "/h-2026-12-07-05:00:00-1.new", format_record(saved_record("/var/crash/b", "p2")), 0600);
  put(dir + "/h-2026-12-07-05:00:00.new", format_record(saved_record("/var/crash/a", "p1")), 0600);
  put(t.file("elsewhere"), format_record(saved_record("/etc/shadow", "")), 0600);
  REQUIRE(symlink(t.file("elsewhere").c_str(), (dir + "/h-2026-12-07-06:00:00.new").c_str()) == 0);
  Host h(t.file("root"));
  Result<std::vector<std::string>> first = report_new_records(h);
  REQUIRE(first);
  REQUIRE(*first == std::vector<std::string>{"kdumpctl: last crash: saved /var/crash/a (panic: p1)",
                                             "kdumpctl: last crash: saved /var/crash/b (panic: p2)"});
  Result<std::vector<std::string>> second = report_new_records(h);
  REQUIRE(second);
  REQUIRE(second->empty());
  REQUIRE(std::filesystem::exists(dir + "/h-2026-12-07-05:00:00.reported"));
  REQUIRE(slurp(t.file("elsewhere")).find("/etc/shadow") != std::string::npos);  // the link's target untouched
  REQUIRE(latest_record_line(h) == "last crash: saved /var/crash/b (panic: p2)");
}

TEST_CASE("capture record: an unreadable record is reported once, as such", "[kdumpctl_record]") {
  TempDir t;
  put(captures(t) + "/h-2026-12-07-05:00:00.new", "half a rec", 0600);
  Host h(t.file("root"));
  Result<std::vector<std::string>> lines = report_new_records(h);
  REQUIRE(lines);
  REQUIRE(lines->size() == 1);
  REQUIRE((*lines)[0].starts_with("kdumpctl: last crash: unreadable record "));
  REQUIRE(report_new_records(h)->empty());
}

TEST_CASE("kdumpctl report-crash and status on a fixture root", "[kdumpctl_record]") {
  TempDir t;
  put(t.file("root/sys/kernel/kexec_crash_loaded"), "1\n");
  Ctl c;
  c.host = Host(t.file("root"));
  Result<Outcome> s = cmd_status(c);
  REQUIRE(s);
  REQUIRE(s->message == "kdump: operational (capture kernel loaded)");  // no crash yet
  CaptureRecord f;
  f.reason = "dumpfilter exited with status 1";
  put(captures(t) + "/h-2026-12-07-05:00:00.new", format_record(f), 0600);
  Result<Outcome> r = cmd_report_crash(c);
  REQUIRE(r);
  REQUIRE(r->message == "kdumpctl: last crash: capture failed: dumpfilter exited with status 1");
  r = cmd_report_crash(c);
  REQUIRE((r && r->message.empty()));
  s = cmd_status(c);
  REQUIRE(s);
  REQUIRE(s->message == "kdump: operational (capture kernel loaded)\nkdump: last crash: capture failed: dumpfilter exited with status 1");
}
