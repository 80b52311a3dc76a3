// Issue 17: a dump target on dm-crypt (directly, or LVM on LUKS, or a partition of an
// encrypted disk) is refused by `kdumpctl start` with one line; sysfs is a fixture tree here.
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "kdumpctl/crypt_target.h"
#include "kdumpctl/kdumpctl.h"
#include "tests/unit/temp_dir.h"
#include "tests/unit/test_files.h"

using namespace kk;
using kk::test::put;
using kk::test::TempDir;

namespace {

// A device-mapper device's sysfs directory: dm/uuid, dm/name and its slaves.
void dm(const std::string& dir, const std::string& uuid, const std::string& name) {
  put(dir + "/dm/uuid", uuid + "\n");
  put(dir + "/dm/name", name + "\n");
}

void slave(const std::string& dir, const std::string& name, const std::string& target) {
  std::filesystem::create_directories(dir + "/slaves");
  REQUIRE(symlink(target.c_str(), (dir + "/slaves/" + name).c_str()) == 0);
}

}  // namespace

TEST_CASE("crypt target: dm-crypt found directly, under LVM, and under a partition", "[kdumpctl_crypt]") {
  TempDir t;
  std::string sys = t.file("sys"), dev = sys + "/devices/virtual/block";
  // sda2 -> dm-0 (LUKS) -> dm-1 (LVM root LV); sdb1 plain; dm-2 plain LVM on sdb1.
  put(sys + "/devices/pci/sda/sda2/partition", "2\n");
  dm(dev + "/dm-0", "CRYPT-LUKS2-0f1e2d3c4b5a69788796a5b4c3d2e1f0-luks-0f1e", "luks-0f1e");
  slave(dev + "/dm-0", "sda2", sys + "/devices/pci/sda/sda2");
  dm(dev + "/dm-1", "LVM-Zk3Xm7pQ", "vg0-root");
  slave(dev + "/dm-1", "dm-0", dev + "/dm-0");
  put(sys + "/devices/pci/sdb/sdb1/partition", "1\n");
  dm(dev + "/dm-2", "LVM-Qa9Lp2Rt", "vg1-crash");
  slave(dev + "/dm-2", "sdb1", sys + "/devices/pci/sdb/sdb1");
  // An encrypted whole disk with a partition table inside (dm-3p1).
  dm(dev + "/dm-3", "CRYPT-PLAIN-disk3", "disk3");
  put(dev + "/dm-3/dm-3p1/partition", "1\n");
  std::filesystem::create_directories(sys + "/dev/block");
  for (auto [mm, target] : {std::pair{"253:0", dev + "/dm-0"}, {"253:1", dev + "/dm-1"}, {"253:2", dev + "/dm-2"},
                            {"8:18", sys + "/devices/pci/sdb/sdb1"}, {"259:7", dev + "/dm-3/dm-3p1"}})
    REQUIRE(symlink(target.c_str(), (sys + "/dev/block/" + mm).c_str()) == 0);
  REQUIRE(crypt_layer(sys, 253, 0) == "luks-0f1e");
  REQUIRE(crypt_layer(sys, 253, 1) == "luks-0f1e");  // LVM on LUKS
  REQUIRE(crypt_layer(sys, 259, 7) == "disk3");      // a partition of an encrypted disk
  REQUIRE(!crypt_layer(sys, 253, 2));                // LVM on a plain partition
  REQUIRE(!crypt_layer(sys, 8, 18));
  REQUIRE(!crypt_layer(sys, 8, 99));  // not in sysfs: nothing known, nothing refused
}

TEST_CASE("crypt target: a slaves/ loop ends", "[kdumpctl_crypt]") {
  TempDir t;
  std::string sys = t.file("sys");
  dm(sys + "/devices/virtual/block/dm-9", "LVM-x", "x");
  slave(sys + "/devices/virtual/block/dm-9", "dm-9", sys + "/devices/virtual/block/dm-9");
  std::filesystem::create_directories(sys + "/dev/block");
  REQUIRE(symlink((sys + "/devices/virtual/block/dm-9").c_str(), (sys + "/dev/block/253:9").c_str()) == 0);
  REQUIRE(!crypt_layer(sys, 253, 9));
}

TEST_CASE("kdumpctl start refuses a root file system target on dm-crypt, in one line", "[kdumpctl_crypt]") {
  TempDir t;
  std::string root = t.file("root");
  put(root + "/var/crash/.keep", "");
  put(root + "/sys/kernel/kexec_crash_size", "268435456\n");
  put(root + "/sys/kernel/kexec_crash_loaded", "0\n");
  struct stat st {};
  REQUIRE(stat((root + "/var/crash").c_str(), &st) == 0);
  // The file system the fixture lives on plays the encrypted root file system.
  std::string mm = std::to_string(major(st.st_dev)) + ":" + std::to_string(minor(st.st_dev));
  dm(root + "/sys/dev/block/" + mm, "CRYPT-LUKS2-aa-luks-root", "luks-root");
  Ctl c;
  c.host = Host(root);
  c.kernel = root + "/boot/vmlinuz";  // absent: start must stop before it
  Result<Outcome> r = cmd_start(c);
  REQUIRE(!r);
  REQUIRE(r.error().msg ==
          "the dump target /var/crash is on an encrypted device (dm-crypt luks-root), which the capture kernel "
          "cannot unlock; choose an unencrypted target in kdump.conf");
  // Not encrypted: start goes on (and stops at the missing kernel).
  put(root + "/sys/dev/block/" + mm + "/dm/uuid", "LVM-plain\n");
  r = cmd_start(c);
  REQUIRE(!r);
  REQUIRE(r.error().msg.find("encrypted") == std::string::npos);
}

TEST_CASE("an ext4 or raw target on dm-crypt is refused too, named as kdump.conf names it", "[kdumpctl_crypt]") {
  TempDir t;
  std::string root = t.file("root");
  // /dev/dm-3 (253:3) is a LUKS mapping, reached through its by-uuid link; /dev/vdb (254:16) is not.
  std::filesystem::create_directories(root + "/dev/disk/by-uuid");
  REQUIRE(mknod((root + "/dev/dm-3").c_str(), S_IFBLK | 0600, makedev(253, 3)) == 0);
  REQUIRE(mknod((root + "/dev/vdb").c_str(), S_IFBLK | 0600, makedev(254, 16)) == 0);
  REQUIRE(symlink("../../dm-3", (root + "/dev/disk/by-uuid/4b1f0c2e-9a7d-4c3b-8f51-2d6e0a9c7b13").c_str()) == 0);
  dm(root + "/sys/dev/block/253:3", "CRYPT-LUKS2-bb-luks-dump", "luks-dump");
  put(root + "/sys/dev/block/254:16/size", "0\n");
  Host h(root);
  Result<KdumpConf> fs = parse_kdump_conf("ext4 UUID=4b1f0c2e-9a7d-4c3b-8f51-2d6e0a9c7b13\npath /dumps\n");
  if (!fs) FAIL(fs.error().msg);
  std::optional<std::string> why = encrypted_target_reason(h, *fs);
  REQUIRE(why);
  REQUIRE(*why == "the dump target UUID=4b1f0c2e-9a7d-4c3b-8f51-2d6e0a9c7b13 is on an encrypted device (dm-crypt luks-dump), which the capture "
                  "kernel cannot unlock; choose an unencrypted target in kdump.conf");
  Result<KdumpConf> raw = parse_kdump_conf("raw /dev/dm-3\n");
  if (!raw) FAIL(raw.error().msg);
  why = encrypted_target_reason(h, *raw);
  REQUIRE(why);
  REQUIRE(why->starts_with("the dump target /dev/dm-3 is on an encrypted device (dm-crypt luks-dump)"));
  // A plain disk is not refused.
  raw = parse_kdump_conf("raw /dev/vdb\n");
  REQUIRE(raw);
  REQUIRE(!encrypted_target_reason(h, *raw));
}
