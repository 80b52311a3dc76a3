// kdumpctl's first-kernel commands on fixture roots (Host(root)): what tests/integration's
// capture_initramfs.sh and kdumpctl_start.sh check from the shell, here without a kernel to
// load: start without a reservation, status, stop, test, reset-crashkernel and propagate.
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "kdumpctl/kdumpctl.h"
#include "tests/unit/temp_dir.h"
#include "tests/unit/test_files.h"

using namespace kk;
using kk::test::put;
using kk::test::slurp;
using kk::test::TempDir;

namespace {

Ctl fixture_ctl(const TempDir& t, const std::string& loaded) {
  put(t.file("root/sys/kernel/kexec_crash_loaded"), loaded + "\n");
  Ctl c;
  c.host = Host(t.file("root"));
  return c;
}

mode_t mode_of(const std::string& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

}  // namespace

TEST_CASE("kdumpctl start: no reservation is exit status 4 and says what to do", "[kdumpctl_commands]") {
  TempDir t;
  Ctl c = fixture_ctl(t, "0");
  put(t.file("root/sys/kernel/kexec_crash_size"), "0\n");
  Result<Outcome> r = cmd_start(c);
  REQUIRE(r);
  CHECK(r->code == kExitNoReservation);
  CHECK(r->message.find("no memory reserved") != std::string::npos);
  CHECK(r->message.find("kdumpctl reset-crashkernel") != std::string::npos);
}

TEST_CASE("kdumpctl start: a loaded capture kernel is left alone", "[kdumpctl_commands]") {
  TempDir t;
  Ctl c = fixture_ctl(t, "1");
  put(t.file("root/sys/kernel/kexec_crash_size"), "201326592\n");
  Result<Outcome> r = cmd_start(c);
  REQUIRE(r);
  CHECK(r->code == kExitOk);
  CHECK(r->message == "kdump: capture kernel already loaded");
}

TEST_CASE("kdumpctl status: exit status 3 when nothing is loaded, 0 when loaded", "[kdumpctl_commands]") {
  TempDir t;
  Ctl c = fixture_ctl(t, "0");
  Result<Outcome> r = cmd_status(c);
  REQUIRE(r);
  CHECK(r->code == kExitNotLoaded);
  CHECK(r->message == "kdump: not operational (no capture kernel loaded)");
  put(t.file("root/sys/kernel/kexec_crash_loaded"), "1\n");
  r = cmd_status(c);
  REQUIRE(r);
  CHECK(r->code == kExitOk);
}

TEST_CASE("kdumpctl status: no kexec_crash_loaded is an error naming the question", "[kdumpctl_commands]") {
  TempDir t;
  Ctl c;
  c.host = Host(t.file("root"));
  Result<Outcome> r = cmd_status(c);
  REQUIRE(!r);
  CHECK(r.error().msg.find("is a capture kernel loaded") != std::string::npos);
}

TEST_CASE("kdumpctl stop: nothing loaded, nothing to unload", "[kdumpctl_commands]") {
  TempDir t;
  Ctl c = fixture_ctl(t, "0");
  Result<Outcome> r = cmd_stop(c);
  REQUIRE(r);
  CHECK(r->code == kExitOk);
  CHECK(r->message == "kdump: not loaded");
}

TEST_CASE("kdumpctl test: refused when no capture kernel is loaded, sysrq untouched", "[kdumpctl_commands]") {
  TempDir t;
  Ctl c = fixture_ctl(t, "0");
  c.force = true;
  put(t.file("root/proc/sysrq-trigger"), "");
  Result<Outcome> r = cmd_test(c);
  REQUIRE(r);
  CHECK(r->code == kExitNotLoaded);
  CHECK(slurp(t.file("root/proc/sysrq-trigger")).empty());
}

TEST_CASE("kdumpctl test: without --force only a YES from confirm goes on; nothing printed", "[kdumpctl_commands]") {
  TempDir t;
  Ctl c = fixture_ctl(t, "1");
  put(t.file("root/proc/sys/kernel/sysrq"), "0\n");
  put(t.file("root/proc/sysrq-trigger"), "");
  Result<Outcome> r = cmd_test(c);  // no one to ask: not confirmed
  REQUIRE(r);
  CHECK(r->code == kExitDeclined);
  int asked = 0;
  c.confirm = [&asked] { ++asked; return false; };
  r = cmd_test(c);
  REQUIRE(r);
  CHECK(r->code == kExitDeclined);
  CHECK(asked == 1);
  CHECK(slurp(t.file("root/proc/sysrq-trigger")).empty());
  c.confirm = [&asked] { ++asked; return true; };
  r = cmd_test(c);
  REQUIRE(r);
  CHECK(r->code == kExitOk);
  CHECK(asked == 2);
  CHECK(slurp(t.file("root/proc/sysrq-trigger")) == "c\n");
}

TEST_CASE("kdumpctl start: the low-space warning is a note for main, kept when start then fails", "[kdumpctl_commands]") {
  TempDir t;
  Ctl c = fixture_ctl(t, "0");
  put(t.file("root/sys/kernel/kexec_crash_size"), "201326592\n");
  put(t.file("root/var/crash/.keep"), "");
  // A machine of 1 PiB of kernel memory: its dump fits in no test's /tmp.
  put(t.file("root/proc/meminfo"), "MemTotal: 1099511627776 kB\nMemFree: 0 kB\nBuffers: 0 kB\nCached: 0 kB\nAnonPages: 0 kB\n");
  c.kernel = t.file("root/boot/no-such-vmlinuz");
  REQUIRE(!cmd_start(c));  // no kernel to load
  REQUIRE(c.notes.size() == 1);
  CHECK(c.notes[0].starts_with("kdump: warning: /var/crash has "));
}

TEST_CASE("kdumpctl test --force: sysrq enabled, then c written to sysrq-trigger", "[kdumpctl_commands]") {
  TempDir t;
  Ctl c = fixture_ctl(t, "1");
  c.force = true;
  put(t.file("root/proc/sys/kernel/sysrq"), "0\n");
  put(t.file("root/proc/sysrq-trigger"), "");
  Result<Outcome> r = cmd_test(c);
  REQUIRE(r);
  CHECK(r->code == kExitOk);
  CHECK(slurp(t.file("root/proc/sys/kernel/sysrq")) == "1\n");
  CHECK(slurp(t.file("root/proc/sysrq-trigger")) == "c\n");
}

TEST_CASE("kdumpctl reset-crashkernel: the default table into GRUB_CMDLINE_LINUX, 0644", "[kdumpctl_commands]") {
  TempDir t;
  Ctl c = fixture_ctl(t, "0");
  std::string grub = t.file("root/etc/default/grub");
  put(grub, "GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX=\"quiet crashkernel=64M\"\n", 0600);
  Result<Outcome> r = cmd_reset_crashkernel(c);
  REQUIRE(r);
  CHECK(r->message == "kdump: crashkernel=1G-4G:192M,4G-64G:256M,64G-:512M set in " + grub + "; reboot to apply");
  CHECK(slurp(grub) == "GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX=\"quiet crashkernel=1G-4G:192M,4G-64G:256M,64G-:512M\"\n");
  CHECK(mode_of(grub) == 0644);
}

TEST_CASE("kdumpctl reset-crashkernel --value: a bad value is refused, grub untouched", "[kdumpctl_commands]") {
  TempDir t;
  Ctl c = fixture_ctl(t, "0");
  std::string grub = t.file("root/etc/default/grub");
  const std::string before = "GRUB_CMDLINE_LINUX=\"quiet\"\n";
  put(grub, before);
  c.value = "lots";
  REQUIRE(!cmd_reset_crashkernel(c));
  CHECK(slurp(grub) == before);
  c.value = "256M";
  Result<Outcome> r = cmd_reset_crashkernel(c);
  REQUIRE(r);
  CHECK(slurp(grub) == "GRUB_CMDLINE_LINUX=\"quiet crashkernel=256M\"\n");
}

TEST_CASE("kdumpctl reset-crashkernel: an unreadable grub line is an error naming the file", "[kdumpctl_commands]") {
  TempDir t;
  Ctl c = fixture_ctl(t, "0");
  std::string grub = t.file("root/etc/default/grub");
  put(grub, "GRUB_CMDLINE_LINUX=\"quiet\n");
  Result<Outcome> r = cmd_reset_crashkernel(c);
  REQUIRE(!r);
  CHECK(r.error().msg.starts_with(grub + ": "));
  CHECK(slurp(grub) == "GRUB_CMDLINE_LINUX=\"quiet\n");
}

TEST_CASE("kdumpctl propagate: only for an ssh target", "[kdumpctl_commands]") {
  TempDir t;
  Ctl c = fixture_ctl(t, "0");
  Result<Outcome> r = cmd_propagate(c);
  REQUIRE(!r);
  CHECK(r.error().code == Errc::usage);
  CHECK(r.error().msg.find("needs an ssh target") != std::string::npos);
}
