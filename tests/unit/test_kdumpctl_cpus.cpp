// kdumpctl: nr_cpus for the capture kernel from the host's CPUs, its reservation and the need of
// the kernel and initramfs it loads (capture_cpus.h); estimate and showmem say so.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "tests/unit/fake_bzimage.h"
#include "kdumpctl/capture_cpus.h"
#include "lib/kernel/cmdline.h"
#include "tests/unit/temp_dir.h"

using namespace kk;
using kk::test::TempDir;

namespace {

constexpr u64 MiB = 1ull << 20;

void put(const std::string& path, std::string_view data) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << data;
}

// A root with a fake bzImage (8 MiB init_size), an uncompressed 1 MiB cpio initramfs, `online`
// CPUs and a reservation of `reserved` bytes.
Ctl fixture(const TempDir& t, const std::string& online, u64 reserved) {
  Ctl c;
  std::string root = t.file("root");
  c.host = Host(root);
  std::vector<std::byte> bz = test::fake_bzimage();
  c.kernel = root + "/boot/vmlinuz-test";
  put(c.kernel, std::string_view(reinterpret_cast<const char*>(bz.data()), bz.size()));
  std::string cpio = "070701" + std::string(48, '0') + "00000000" + std::string(32, '0') + "0000000B" +
                     std::string(8, '0') + "TRAILER!!!";
  cpio += std::string(1 * MiB - cpio.size(), '\0');
  c.initrd = root + "/var/lib/kdumpkit/initrd-test.img";
  put(c.initrd, cpio);
  put(root + "/sys/devices/system/cpu/online", online + "\n");
  put(root + "/sys/kernel/kexec_crash_size", std::to_string(reserved) + "\n");
  return c;
}

}  // namespace

TEST_CASE("kdumpctl cpus: the online list is counted", "[kdumpctl_cpus]") {
  REQUIRE(count_cpu_list("0") == 1);
  REQUIRE(count_cpu_list("0-3\n") == 4);
  REQUIRE(count_cpu_list("0-3,8,10-11") == 7);
  REQUIRE(count_cpu_list("") == 0);
  REQUIRE(count_cpu_list("3-1") == 0);
  REQUIRE(count_cpu_list("0-x") == 0);
  REQUIRE(count_cpu_list("0-99999999") == 0);  // beyond any kernel's NR_CPUS: not believed
}

TEST_CASE("kdumpctl cpus: nr_cpus grows with the reservation, up to the online CPUs", "[kdumpctl_cpus]") {
  TempDir t;
  Ctl c0 = fixture(t, "0-7", 0);
  Result<CaptureNeed> need = capture_need(c0.kernel, c0.initrd);
  REQUIRE(need);
  REQUIRE(need->init_size == 8 * MiB);
  REQUIRE(need->initrd == 1 * MiB);
  REQUIRE(need->total > need->init_size + need->initrd + need->unpacked + need->runtime);
  CaptureCpus one = capture_cpus(fixture(t, "0-7", need->total));
  REQUIRE(one.online == 8);
  REQUIRE(one.n == 1);
  CaptureCpus three = capture_cpus(fixture(t, "0-7", capture_cpus_need(need->total, 3)));
  REQUIRE(three.n == 3);
  CaptureCpus two_online = capture_cpus(fixture(t, "0-1", 1024 * MiB));
  REQUIRE(two_online.n == 2);
  // Nothing readable: one CPU.
  Ctl bare;
  bare.host = Host(t.file("nothing"));
  bare.kernel = t.file("nothing/vmlinuz");
  bare.initrd = t.file("nothing/initrd");
  REQUIRE(capture_cpus(bare).n == 1);
}

TEST_CASE("kdumpctl cpus: estimate and showmem name the capture kernel's CPUs", "[kdumpctl_cpus]") {
  TempDir t;
  Ctl c = fixture(t, "0-3", 1024 * MiB);
  Result<Outcome> e = cmd_estimate(c);
  REQUIRE(e);
  INFO(e->message);
  REQUIRE(e->message.find("nr_cpus=4") != std::string::npos);  // what 1 GiB affords, 4 online
  REQUIRE(e->message.find("with nr_cpus=2") != std::string::npos);
  // The one-CPU line stays as scripts read it (tests/integration/capture_initramfs.sh).
  REQUIRE(e->message.find("\nrecommended       crashkernel=80M\n") != std::string::npos);
  put(t.file("root/proc/cmdline"), "root=/dev/vda crashkernel=1G\n");
  Result<Outcome> s = cmd_showmem(c);
  REQUIRE(s);
  INFO(s->message);
  REQUIRE(s->message.find("nr_cpus=4 (4 CPUs online)") != std::string::npos);
}
