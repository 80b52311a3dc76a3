// test_kexec_caps.cpp: kexec's permission check is about CAP_SYS_BOOT, not the uid: the effective
// capability mask read from /proc/self/status (text as the kernel writes it, "CapEff:\t%016llx"),
// the decision, and which actions need the capability at all.
#include <catch2/catch.hpp>
#include <string>

#include "tests/unit/fake_root.h"
#include "kexec/capabilities.h"

using namespace kk;
using test::FakeRoot;

namespace {

// /proc/self/status of a root shell; only the Cap* lines matter.
std::string status_text(const std::string& cap_eff) {
  return "Name:\tkexec\nUmask:\t0022\nState:\tR (running)\nUid:\t0\t0\t0\t0\n"
         "CapInh:\t0000000000000000\nCapPrm:\t000001ffffffffff\nCapEff:\t" + cap_eff +
         "\nCapBnd:\t000001ffffffffff\nCapAmb:\t0000000000000000\nNoNewPrivs:\t0\n";
}

}  // namespace

TEST_CASE("kexec caps: CapEff parses; CAP_SYS_BOOT is bit 22", "[kexec][caps]") {
  Result<u64> all = parse_cap_eff(status_text("000001ffffffffff"));
  REQUIRE(all);
  CHECK(*all == 0x1ffffffffffull);
  CHECK(has_cap_sys_boot(*all));
  // Root in a container that dropped CAP_SYS_BOOT (Docker's default set): uid 0, no capability.
  Result<u64> docker = parse_cap_eff(status_text("00000000a80425fb"));
  REQUIRE(docker);
  CHECK_FALSE(has_cap_sys_boot(*docker));
  CHECK_FALSE(has_cap_sys_boot(0x1ffffffffffull & ~(1ull << 22)));
  // A non-root service given only CAP_SYS_BOOT (AmbientCapabilities=CAP_SYS_BOOT).
  Result<u64> only = parse_cap_eff(status_text("0000000000400000"));
  REQUIRE(only);
  CHECK(has_cap_sys_boot(*only));
}

TEST_CASE("kexec caps: a status file without a good CapEff line is an error", "[kexec][caps]") {
  CHECK(parse_cap_eff("Name:\tkexec\nCapPrm:\t000001ffffffffff\n").error().code == Errc::missing);
  CHECK(parse_cap_eff(status_text("zz")).error().code == Errc::corrupt);
  CHECK(parse_cap_eff(status_text("")).error().code == Errc::corrupt);
  CHECK(parse_cap_eff(status_text("1ffffffffffffffffff")).error().code == Errc::corrupt);  // > 64 bits
  // "CapEff" must start a line: another field's value does not count.
  CHECK(parse_cap_eff("Name:\tCapEff:\t1\n").error().code == Errc::missing);
}

TEST_CASE("kexec caps: which actions need CAP_SYS_BOOT", "[kexec][caps]") {
  for (KexecAction a : {KexecAction::load, KexecAction::load_panic, KexecAction::exec, KexecAction::unload})
    CHECK(needs_cap_sys_boot(a));
  for (KexecAction a : {KexecAction::status, KexecAction::print_ckr_size, KexecAction::help,
                        KexecAction::version})
    CHECK_FALSE(needs_cap_sys_boot(a));
}

TEST_CASE("kexec caps: the decision reads the process's status file", "[kexec][caps]") {
  FakeRoot root;
  root.write("/proc/self/status", status_text("00000000a80425fb"));
  Result<bool> no = may_boot(root.paths);
  REQUIRE(no);
  CHECK_FALSE(*no);
  root.write("/proc/self/status", status_text("0000000000400000"));
  Result<bool> yes = may_boot(root.paths);
  REQUIRE(yes);
  CHECK(*yes);
  root.write("/proc/self/status", "Name:\tkexec\n");
  Result<bool> bad = may_boot(root.paths);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().msg.find("/proc/self/status") != std::string::npos);
}
