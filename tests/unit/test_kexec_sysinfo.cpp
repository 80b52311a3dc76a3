// test_kexec_sysinfo.cpp: what kexec reads from /proc and /sys, against a fake root directory
// (SysPaths.root) populated the way a QEMU x86_64 guest's files look: the text formats are the
// kernel's own (drivers/firmware/memmap.c "0x%llx", crash_notes "%llx", crash_notes_size "%zu",
// vmcoreinfo "%pa %x", efi systab "ACPI20=0x%lx", lockdown "[mode]").
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/unit/fake_root.h"
#include "lib/kernel/cpu_list.h"
#include "kexec/system_info.h"

using namespace kk;
namespace fs = std::filesystem;

namespace {

using test::FakeRoot;

using E820 = x86_64::E820Entry;

std::vector<E820> sorted(std::vector<E820> v) {
  std::sort(v.begin(), v.end(), [](const E820& a, const E820& b) { return a.addr < b.addr; });
  return v;
}

void firmware_entry(const FakeRoot& r, int n, const std::string& start, const std::string& end,
                    const std::string& type) {
  std::string dir = "/sys/firmware/memmap/" + std::to_string(n);
  r.write(dir + "/start", start + "\n");
  r.write(dir + "/end", end + "\n");
  r.write(dir + "/type", type + "\n");
}

constexpr const char* kIomem =
    "00000000-00000fff : Reserved\n"
    "00001000-0009fbff : System RAM\n"
    "0009fc00-0009ffff : Reserved\n"
    "000a0000-000bffff : PCI Bus 0000:00\n"
    "000f0000-000fffff : Reserved\n"
    "  000f0000-000fffff : System ROM\n"
    "00100000-7ffdffff : System RAM\n"
    "  05000000-05ffffff : Kernel code\n"
    "  6f000000-7effffff : Crash kernel\n"
    "7ffe0000-7fffffff : Reserved\n"
    "b0000000-bfffffff : PCI MMCONFIG 0000 [bus 00-ff]\n"
    "  b0000000-bfffffff : Reserved\n"
    "fed00000-fed003ff : ACPI Tables\n"
    "100000000-17fffffff : System RAM (kmem)\n";

}  // namespace

TEST_CASE("sysinfo: read_firmware_map from /sys/firmware/memmap", "[sysinfo]") {
  FakeRoot r;
  // Numbered as the kernel numbers them; readdir order is not numeric ("10" before "2").
  firmware_entry(r, 0, "0x0", "0x9fbff", "System RAM");
  firmware_entry(r, 1, "0x9fc00", "0x9ffff", "Reserved");
  firmware_entry(r, 2, "0xf0000", "0xfffff", "Reserved");
  firmware_entry(r, 3, "0x100000", "0x7ffdffff", "System RAM");
  firmware_entry(r, 4, "0x7ffe0000", "0x7fffffff", "Reserved");
  firmware_entry(r, 5, "0xb0000000", "0xbfffffff", "Reserved");
  firmware_entry(r, 6, "0xfed1c000", "0xfed1ffff", "ACPI Non-volatile Storage");
  firmware_entry(r, 7, "0xfee00000", "0xfee00fff", "Soft Reserved");
  firmware_entry(r, 8, "0xfeffc000", "0xfeffffff", "Some Vendor Thing");  // unknown: reserved
  firmware_entry(r, 9, "0xfffc0000", "0xffffffff", "ACPI Tables");
  firmware_entry(r, 10, "0x100000000", "0x17fffffff", "System RAM");
  r.write("/sys/firmware/memmap/11/start", "0x200000000\n");  // half-written entry: skipped
  r.write("/proc/iomem", "00000000-00000fff : ignored when memmap is there\n");

  Result<std::vector<E820>> m = read_firmware_map(r.paths);
  if (!m) FAIL("read_firmware_map: " << m.error().msg);
  REQUIRE(sorted(*m) == std::vector<E820>{
                            {0x0, 0x9fc00, x86_64::kE820Ram},
                            {0x9fc00, 0x400, x86_64::kE820Reserved},
                            {0xf0000, 0x10000, x86_64::kE820Reserved},
                            {0x100000, 0x7fee0000, x86_64::kE820Ram},
                            {0x7ffe0000, 0x20000, x86_64::kE820Reserved},
                            {0xb0000000, 0x10000000, x86_64::kE820Reserved},
                            {0xfed1c000, 0x4000, x86_64::kE820Nvs},
                            {0xfee00000, 0x1000, x86_64::kE820SoftReserved},
                            {0xfeffc000, 0x4000, x86_64::kE820Reserved},
                            {0xfffc0000, 0x40000, x86_64::kE820Acpi},
                            {0x100000000, 0x80000000, x86_64::kE820Ram},
                        });
}

// Found while writing fuzz_memmap: an entry whose end is below its start made a size near 2^64
// (end - start + 1 wrapped), which boot_params' e820 then carried as RAM to the top of memory.
TEST_CASE("sysinfo: parse_memmap_entry skips an end below start", "[sysinfo]") {
  std::optional<x86_64::E820Entry> ok = parse_memmap_entry("0x100000\n", "0x7ffdffff\n", "System RAM\n");
  REQUIRE(ok.has_value());
  REQUIRE(*ok == x86_64::E820Entry{0x100000, 0x7fee0000, x86_64::kE820Ram});
  REQUIRE_FALSE(parse_memmap_entry("0x1000", "0x0fff", "System RAM").has_value());
  REQUIRE_FALSE(parse_memmap_entry("0x2000", "0x0fff", "System RAM").has_value());
  REQUIRE_FALSE(parse_memmap_entry("0x0", "0xffffffffffffffff", "System RAM").has_value());
  REQUIRE_FALSE(parse_memmap_entry("zz", "0x1000", "System RAM").has_value());
}

TEST_CASE("sysinfo: read_firmware_map falls back to /proc/iomem's top level", "[sysinfo]") {
  FakeRoot r;
  r.write("/proc/iomem", kIomem);
  SECTION("no memmap directory") {}
  SECTION("an empty memmap directory") { r.mkdir("/sys/firmware/memmap"); }
  Result<std::vector<E820>> m = read_firmware_map(r.paths);
  if (!m) FAIL("read_firmware_map: " << m.error().msg);
  // Top-level lines with a known type only: no PCI windows, nothing nested.
  REQUIRE(*m == std::vector<E820>{
                    {0x0, 0x1000, x86_64::kE820Reserved},
                    {0x1000, 0x9ec00, x86_64::kE820Ram},
                    {0x9fc00, 0x400, x86_64::kE820Reserved},
                    {0xf0000, 0x10000, x86_64::kE820Reserved},
                    {0x100000, 0x7fee0000, x86_64::kE820Ram},
                    {0x7ffe0000, 0x20000, x86_64::kE820Reserved},
                    {0xfed00000, 0x400, x86_64::kE820Acpi},
                    {0x100000000, 0x80000000, x86_64::kE820Ram},
                });
}

TEST_CASE("sysinfo: read_iomem", "[sysinfo]") {
  FakeRoot r;
  SECTION("parses") {
    r.write("/proc/iomem", kIomem);
    Result<std::vector<IomemRange>> io = read_iomem(r.paths);
    if (!io) FAIL("read_iomem: " << io.error().msg);
    REQUIRE(io->size() == 14);
    REQUIRE((*io)[8].name == "Crash kernel");
    REQUIRE((*io)[8].start == 0x6f000000);
  }
  SECTION("all-zero ranges: addresses hidden from a non-root reader") {
    r.write("/proc/iomem",
            "00000000-00000000 : Reserved\n"
            "00000000-00000000 : System RAM\n"
            "  00000000-00000000 : Crash kernel\n");
    Result<std::vector<IomemRange>> io = read_iomem(r.paths);
    REQUIRE_FALSE(io);
    REQUIRE(io.error().code == Errc::io);
    REQUIRE(io.error().msg == r.paths.at("/proc/iomem") + ": addresses hidden (run as root)");
    // The firmware-map fallback passes the same reason on.
    Result<std::vector<E820>> m = read_firmware_map(r.paths);
    REQUIRE_FALSE(m);
    REQUIRE_THAT(m.error().msg, Catch::EndsWith("addresses hidden (run as root)"));
  }
  SECTION("a malformed line names the file and the line") {
    r.write("/proc/iomem", "00000000-00000fff : Reserved\nbogus\n");
    Result<std::vector<IomemRange>> io = read_iomem(r.paths);
    REQUIRE_FALSE(io);
    REQUIRE(io.error().code == Errc::corrupt);
    REQUIRE_THAT(io.error().msg, Catch::StartsWith(r.paths.at("/proc/iomem") + ": iomem: line 2 "));
  }
  SECTION("missing file") {
    Result<std::vector<IomemRange>> io = read_iomem(r.paths);
    REQUIRE_FALSE(io);
    REQUIRE(io.error().sys_errno == ENOENT);
  }
}

TEST_CASE("sysinfo: parse_cpu_list", "[sysinfo]") {
  auto ok = [](std::string_view t) {
    Result<std::vector<int>> r = parse_cpu_list(t);
    if (!r) FAIL("parse_cpu_list('" << t << "'): " << r.error().msg);
    return *r;
  };
  REQUIRE(ok("0-3,5") == std::vector<int>{0, 1, 2, 3, 5});
  REQUIRE(ok("0\n") == std::vector<int>{0});
  REQUIRE(ok("0-1,4-5,7\n") == std::vector<int>{0, 1, 4, 5, 7});
  REQUIRE(ok("2-2") == std::vector<int>{2});
  REQUIRE(ok("").empty());
  for (std::string_view bad : {"3-1", "a", "0-", "-3", "1,,2", "0-70000", "1 2", "0x1"}) {
    INFO("'" << bad << "'");
    Result<std::vector<int>> r = parse_cpu_list(bad);
    REQUIRE_FALSE(r);
    REQUIRE(r.error().code == Errc::corrupt);
    REQUIRE_THAT(r.error().msg, Catch::StartsWith("bad CPU list '"));
  }
}

TEST_CASE("sysinfo: read_crash_notes per possible CPU", "[sysinfo]") {
  FakeRoot r;
  const std::string cpu = "/sys/devices/system/cpu";
  SECTION("present CPUs, one absent, one without crash_notes_size") {
    r.write(cpu + "/possible", "0-3\n");
    r.write(cpu + "/cpu0/crash_notes", "17fc1e000\n");
    r.write(cpu + "/cpu0/crash_notes_size", "424\n");
    r.write(cpu + "/cpu1/crash_notes", "17fc3e000\n");
    r.write(cpu + "/cpu1/crash_notes_size", "424\n");
    // cpu2: possible but never brought up, no directory
    r.write(cpu + "/cpu3/crash_notes", "17fc7e000\n");  // before Linux 4.3: no size file
    Result<std::vector<NoteBuffer>> n = read_crash_notes(r.paths);
    if (!n) FAIL("read_crash_notes: " << n.error().msg);
    REQUIRE(n->size() == 3);
    REQUIRE((*n)[0].paddr == 0x17fc1e000);
    REQUIRE((*n)[0].size == 424);  // decimal
    REQUIRE((*n)[1].paddr == 0x17fc3e000);
    REQUIRE((*n)[1].size == 424);
    REQUIRE((*n)[2].paddr == 0x17fc7e000);
    REQUIRE((*n)[2].size == 1024);
  }
  SECTION("no CPU has crash_notes") {
    r.write(cpu + "/possible", "0-1\n");
    r.mkdir(cpu + "/cpu0");
    Result<std::vector<NoteBuffer>> n = read_crash_notes(r.paths);
    REQUIRE_FALSE(n);
    REQUIRE(n.error().code == Errc::missing);
    REQUIRE_THAT(n.error().msg, Catch::Contains("no cpuN/crash_notes"));
  }
  SECTION("no possible file") {
    Result<std::vector<NoteBuffer>> n = read_crash_notes(r.paths);
    REQUIRE_FALSE(n);
    REQUIRE_THAT(n.error().msg, Catch::StartsWith("sysfs not mounted?: "));
  }
  SECTION("a bad possible list") {
    r.write(cpu + "/possible", "0-x\n");
    Result<std::vector<NoteBuffer>> n = read_crash_notes(r.paths);
    REQUIRE_FALSE(n);
    REQUIRE(n.error().code == Errc::corrupt);
    REQUIRE_THAT(n.error().msg, Catch::StartsWith(r.paths.at(cpu) + "/possible: bad CPU list"));
  }
}

TEST_CASE("sysinfo: /sys/kernel/vmcoreinfo location", "[sysinfo]") {
  SECTION("parse: %pa address, hex size") {
    Result<NoteBuffer> n = parse_vmcoreinfo_location("0x000000017fd3f000 1024\n");
    REQUIRE(n);
    REQUIRE(n->paddr == 0x17fd3f000);
    REQUIRE(n->size == 0x1024);
    Result<NoteBuffer> bare = parse_vmcoreinfo_location("2b6d000 1000");
    REQUIRE(bare);
    REQUIRE(bare->paddr == 0x2b6d000);
    REQUIRE(bare->size == 0x1000);
  }
  SECTION("parse errors") {
    for (std::string_view bad : {"", "0x1000", "0x1000 0", "zz 10", "0x1000 10 20", "0x1000 xyz"}) {
      INFO("'" << bad << "'");
      Result<NoteBuffer> n = parse_vmcoreinfo_location(bad);
      REQUIRE_FALSE(n);
      REQUIRE(n.error().code == Errc::corrupt);
    }
  }
  SECTION("read from the file, errors name it") {
    FakeRoot r;
    r.write("/sys/kernel/vmcoreinfo", "0x000000017fd3f000 1024\n");
    Result<NoteBuffer> n = read_vmcoreinfo_location(r.paths);
    REQUIRE(n);
    REQUIRE(n->paddr == 0x17fd3f000);
    r.write("/sys/kernel/vmcoreinfo", "garbage\n");
    Result<NoteBuffer> bad = read_vmcoreinfo_location(r.paths);
    REQUIRE_FALSE(bad);
    REQUIRE_THAT(bad.error().msg, Catch::StartsWith(r.paths.at("/sys/kernel/vmcoreinfo") + ": expected"));
  }
}

TEST_CASE("sysinfo: read_acpi_rsdp", "[sysinfo]") {
  FakeRoot r;
  SECTION("EFI systab: ACPI20 preferred, wherever it is") {
    r.write("/sys/firmware/efi/systab", "MPS=0xfc9e0\nACPI=0x7fb7e000\nACPI20=0x7fb7e014\nSMBIOS=0x7f9cb000\n");
    REQUIRE(read_acpi_rsdp(r.paths) == 0x7fb7e014);
  }
  SECTION("EFI systab: ACPI 1.0 only") {
    r.write("/sys/firmware/efi/systab", "ACPI=0x7fb7e000\nSMBIOS=0x7f9cb000\n");
    REQUIRE(read_acpi_rsdp(r.paths) == 0x7fb7e000);
  }
  SECTION("no EFI: the boot_params the kernel booted with (acpi_rsdp_addr at 0x70)") {
    std::string bp(4096, '\0');
    const u64 rsdp = 0xf5a40;
    std::memcpy(bp.data() + 0x70, &rsdp, 8);
    r.write("/sys/kernel/boot_params/data", bp);
    REQUIRE(read_acpi_rsdp(r.paths) == 0xf5a40);
  }
  SECTION("EFI systab wins over boot_params") {
    std::string bp(4096, '\x11');
    r.write("/sys/kernel/boot_params/data", bp);
    r.write("/sys/firmware/efi/systab", "ACPI20=0x7fb7e014\n");
    REQUIRE(read_acpi_rsdp(r.paths) == 0x7fb7e014);
  }
  SECTION("neither: 0") {
    REQUIRE(read_acpi_rsdp(r.paths) == 0);
    r.write("/sys/kernel/boot_params/data", std::string(0x70, '\x11'));  // too short to hold it
    REQUIRE(read_acpi_rsdp(r.paths) == 0);
  }
}

TEST_CASE("sysinfo: read_lockdown", "[sysinfo]") {
  FakeRoot r;
  REQUIRE(read_lockdown(r.paths) == "none");  // no securityfs: not locked down
  r.write("/sys/kernel/security/lockdown", "none [integrity] confidentiality\n");
  REQUIRE(read_lockdown(r.paths) == "integrity");
  r.write("/sys/kernel/security/lockdown", "[none] integrity confidentiality\n");
  REQUIRE(read_lockdown(r.paths) == "none");
  r.write("/sys/kernel/security/lockdown", "none integrity [confidentiality]\n");
  REQUIRE(read_lockdown(r.paths) == "confidentiality");
  r.write("/sys/kernel/security/lockdown", "garbage\n");
  REQUIRE(read_lockdown(r.paths) == "none");
}

TEST_CASE("sysinfo: read_loaded", "[sysinfo]") {
  FakeRoot r;
  r.write("/sys/kernel/kexec_crash_loaded", "1\n");
  r.write("/sys/kernel/kexec_loaded", "0\n");
  Result<bool> crash = read_loaded(r.paths.at(r.paths.kexec_crash_loaded));
  Result<bool> normal = read_loaded(r.paths.at(r.paths.kexec_loaded));
  REQUIRE(crash);
  REQUIRE(*crash);
  REQUIRE(normal);
  REQUIRE_FALSE(*normal);
  REQUIRE_FALSE(read_loaded(r.paths.at("/sys/kernel/nonexistent")));
}

TEST_CASE("sysinfo: read_kcore_facts finds kernel text and the direct map", "[sysinfo]") {
  // A /proc/kcore-shaped ELF core: the kernel text mapping, then direct-map RAM.
  CrashMemory m;
  m.kernel_text = KernelText{0xffffffff81000000, 0x5000000, 0x1c00000};
  m.ram = {{0x100000, 0x7ffe0000}, {0x100000000, 0x180000000}};
  m.page_offset = 0xffff9a4b40000000;  // randomized (KASLR)
  std::vector<std::byte> core = build_elfcorehdr(m);
  FakeRoot r;
  r.write("/proc/kcore", std::string(reinterpret_cast<const char*>(core.data()), core.size()));
  Result<KcoreFacts> f = read_kcore_facts(r.paths);
  if (!f) FAIL("read_kcore_facts: " << f.error().msg);
  REQUIRE(f->text);
  REQUIRE(f->text->vaddr == 0xffffffff81000000);
  REQUIRE(f->text->paddr == 0x5000000);
  REQUIRE(f->text->size == 0x1c00000);
  REQUIRE(f->page_offset == std::optional<u64>(0xffff9a4b40000000));
}
