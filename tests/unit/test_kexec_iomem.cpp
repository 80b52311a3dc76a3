// test_kexec_iomem.cpp: /proc/iomem parsing and the physical range arithmetic the kexec loader
// places segments with. The fixture is a QEMU q35 guest's /proc/iomem (4 GiB + 2 GiB RAM,
// crashkernel=256M), trimmed, with its real nesting: "Kernel code" and "Crash kernel" sit one
// level under "System RAM", the PCI BAR two levels under its bus.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "lib/kernel/iomem.h"

using namespace kk;

namespace {

constexpr const char* kIomem =
    "00000000-00000fff : Reserved\n"                     // line 1
    "00001000-0009fbff : System RAM\n"                   // line 2
    "0009fc00-0009ffff : Reserved\n"                     // line 3
    "000a0000-000bffff : PCI Bus 0000:00\n"              // line 4
    "000f0000-000fffff : Reserved\n"                     // line 5
    "  000f0000-000fffff : System ROM\n"                 // line 6
    "00100000-7ffdffff : System RAM\n"                   // line 7
    "  05000000-05ffffff : Kernel code\n"                // line 8
    "  06000000-0660ffff : Kernel rodata\n"              // line 9
    "  06800000-06a3a0ff : Kernel data\n"                // line 10
    "  6f000000-7effffff : Crash kernel\n"               // line 11
    "7ffe0000-7fffffff : Reserved\n"                     // line 12
    "80000000-afffffff : PCI Bus 0000:00\n"              // line 13
    "  fd000000-fdffffff : 0000:00:01.0\n"               // line 14
    "    fd000000-fdffffff : bochs-drm\n"                // line 15
    "b0000000-bfffffff : PCI MMCONFIG 0000 [bus 00-ff]\n"  // line 16: '-' in the name
    "  b0000000-bfffffff : Reserved\n"                   // line 17
    "100000000-17fffffff : System RAM\n"                 // line 18: above 4 GiB, 9 digits
    "180000000-1bfffffff : System RAM (kmem)\n";         // line 19: dax kmem hotplug

std::vector<IomemRange> parse_ok(std::string_view text) {
  Result<std::vector<IomemRange>> r = parse_iomem(text);
  if (!r) FAIL("parse_iomem: " << r.error().msg);
  return *std::move(r);
}

Error parse_err(std::string_view text) {
  Result<std::vector<IomemRange>> r = parse_iomem(text);
  if (r) FAIL("parse_iomem accepted malformed text");
  return std::move(r).error();
}

using Ranges = std::vector<PhysRange>;

}  // namespace

TEST_CASE("iomem: parses a real-looking /proc/iomem with nesting", "[iomem]") {
  std::vector<IomemRange> all = parse_ok(kIomem);
  REQUIRE(all.size() == 19);

  REQUIRE(all[0].start == 0x0);
  REQUIRE(all[0].end == 0xfff);
  REQUIRE(all[0].name == "Reserved");
  REQUIRE(all[0].depth == 0);
  REQUIRE(all[0].size() == 0x1000);

  REQUIRE(all[5].name == "System ROM");
  REQUIRE(all[5].depth == 1);

  const IomemRange& code = all[7];
  REQUIRE(code.name == "Kernel code");
  REQUIRE(code.start == 0x5000000);
  REQUIRE(code.end == 0x5ffffff);
  REQUIRE(code.depth == 1);
  REQUIRE(code.size() == 0x1000000);

  const IomemRange& crash = all[10];
  REQUIRE(crash.name == "Crash kernel");
  REQUIRE(crash.start == 0x6f000000);
  REQUIRE(crash.end == 0x7effffff);
  REQUIRE(crash.depth == 1);
  REQUIRE(crash.size() == 256ull << 20);

  REQUIRE(all[14].name == "bochs-drm");
  REQUIRE(all[14].depth == 2);

  REQUIRE(all[15].name == "PCI MMCONFIG 0000 [bus 00-ff]");
  REQUIRE(all[15].start == 0xb0000000);
  REQUIRE(all[15].end == 0xbfffffff);
  REQUIRE(all[15].depth == 0);

  REQUIRE(all[17].start == 0x100000000);
  REQUIRE(all[17].end == 0x17fffffff);
  REQUIRE(all[17].name == "System RAM");
}

TEST_CASE("iomem: blank lines and a missing final newline are fine", "[iomem]") {
  std::vector<IomemRange> all = parse_ok("\n00001000-0009fbff : System RAM\n\n00100000-7ffdffff : System RAM");
  REQUIRE(all.size() == 2);
  REQUIRE(all[1].start == 0x100000);
  REQUIRE(all[1].end == 0x7ffdffff);
  REQUIRE(all[1].name == "System RAM");
  REQUIRE(parse_ok("").empty());
}

TEST_CASE("iomem: the unprivileged all-zero form parses as it is", "[iomem]") {
  // What a non-root reader gets: every address printed as zero, names and nesting intact.
  std::vector<IomemRange> all = parse_ok(
      "00000000-00000000 : Reserved\n"
      "00000000-00000000 : System RAM\n"
      "  00000000-00000000 : Kernel code\n"
      "  00000000-00000000 : Crash kernel\n");
  REQUIRE(all.size() == 4);
  for (const IomemRange& r : all) {
    REQUIRE(r.start == 0);
    REQUIRE(r.end == 0);
  }
  REQUIRE(all[3].name == "Crash kernel");
  REQUIRE(all[3].depth == 1);
}

TEST_CASE("iomem: a malformed line is an error naming its line number", "[iomem]") {
  SECTION("no ' : ' separator") {
    Error e = parse_err(
        "00000000-00000fff : Reserved\n"
        "00001000-0009fbff : System RAM\n"
        "0009fc00-0009ffff Reserved\n");
    REQUIRE(e.code == Errc::corrupt);
    REQUIRE_THAT(e.msg, Catch::Contains("line 3 "));
    REQUIRE_THAT(e.msg, Catch::Contains("0009fc00-0009ffff Reserved"));
  }
  SECTION("not hex") {
    Error e = parse_err("00000000-00000fff : Reserved\n0000zz00-0009fbff : System RAM\n");
    REQUIRE(e.code == Errc::corrupt);
    REQUIRE_THAT(e.msg, Catch::Contains("line 2 "));
  }
  SECTION("no dash") {
    Error e = parse_err("00000000 : Reserved\n");
    REQUIRE_THAT(e.msg, Catch::Contains("line 1 "));
  }
  SECTION("end before start") {
    Error e = parse_err("00001000-0009fbff : System RAM\n\n0009ffff-0009fc00 : Reserved\n");
    REQUIRE_THAT(e.msg, Catch::Contains("line 3 "));  // the blank line 2 still counts
  }
  SECTION("a line of spaces only") {
    Error e = parse_err("00001000-0009fbff : System RAM\n   \n");
    REQUIRE_THAT(e.msg, Catch::Contains("line 2 "));
  }
}

TEST_CASE("iomem: iomem_find matches the exact name at any depth", "[iomem]") {
  std::vector<IomemRange> all = parse_ok(kIomem);
  std::vector<IomemRange> crash = iomem_find(all, "Crash kernel");
  REQUIRE(crash.size() == 1);
  REQUIRE(crash[0].start == 0x6f000000);
  REQUIRE(crash[0].end == 0x7effffff);

  std::vector<IomemRange> reserved = iomem_find(all, "Reserved");
  REQUIRE(reserved.size() == 5);  // lines 1, 3, 5, 12 and the nested line 17
  REQUIRE(reserved[4].start == 0xb0000000);
  REQUIRE(reserved[4].depth == 1);

  REQUIRE(iomem_find(all, "Kernel").empty());        // no prefix matching
  REQUIRE(iomem_find(all, "crash kernel").empty());  // case matters
}

TEST_CASE("iomem: iomem_system_ram takes top-level System RAM, kmem included", "[iomem]") {
  std::vector<IomemRange> all = parse_ok(kIomem);
  std::vector<IomemRange> ram = iomem_system_ram(all);
  REQUIRE(ram.size() == 4);
  REQUIRE(ram[0].start == 0x1000);
  REQUIRE(ram[0].end == 0x9fbff);
  REQUIRE(ram[1].start == 0x100000);
  REQUIRE(ram[1].end == 0x7ffdffff);
  REQUIRE(ram[2].start == 0x100000000);
  REQUIRE(ram[3].name == "System RAM (kmem)");
  REQUIRE(ram[3].start == 0x180000000);

  // A nested "System RAM" (e.g. under a hotplug container) is not counted twice.
  std::vector<IomemRange> nested = parse_ok(
      "100000000-1ffffffff : hotplug container\n"
      "  100000000-17fffffff : System RAM\n");
  REQUIRE(iomem_system_ram(nested).empty());
}

TEST_CASE("iomem: merge_ranges sorts, merges overlapping and touching, drops empty", "[iomem]") {
  REQUIRE(merge_ranges({}).empty());
  REQUIRE(merge_ranges({{0x5000, 0x6000}, {0x1000, 0x2000}, {0x2000, 0x3000}}) ==
          Ranges{{0x1000, 0x3000}, {0x5000, 0x6000}});
  REQUIRE(merge_ranges({{0x1000, 0x4000}, {0x2000, 0x3000}}) == Ranges{{0x1000, 0x4000}});  // contained
  REQUIRE(merge_ranges({{0x1000, 0x3000}, {0x2000, 0x5000}}) == Ranges{{0x1000, 0x5000}});  // overlapping
  REQUIRE(merge_ranges({{0x1000, 0x2000}, {0x2001, 0x3000}}) ==
          Ranges{{0x1000, 0x2000}, {0x2001, 0x3000}});  // a one-byte gap stays
  REQUIRE(merge_ranges({{0x3000, 0x3000}, {0x1000, 0x2000}, {0x9000, 0x8000}}) ==
          Ranges{{0x1000, 0x2000}});  // empty and inverted ranges go
}

TEST_CASE("iomem: subtract_ranges", "[iomem]") {
  const Ranges ram{{0x100000, 0x80000000}};
  SECTION("hole in the middle splits") {
    REQUIRE(subtract_ranges(ram, {{0x6f000000, 0x7f000000}}) ==
            Ranges{{0x100000, 0x6f000000}, {0x7f000000, 0x80000000}});
  }
  SECTION("hole at the start edge") {
    REQUIRE(subtract_ranges(ram, {{0x100000, 0x200000}}) == Ranges{{0x200000, 0x80000000}});
  }
  SECTION("hole at the end edge") {
    REQUIRE(subtract_ranges(ram, {{0x7f000000, 0x80000000}}) == Ranges{{0x100000, 0x7f000000}});
  }
  SECTION("hole overlapping the start from below") {
    REQUIRE(subtract_ranges(ram, {{0, 0x200000}}) == Ranges{{0x200000, 0x80000000}});
  }
  SECTION("hole overlapping the end from above") {
    REQUIRE(subtract_ranges(ram, {{0x7f000000, 0x90000000}}) == Ranges{{0x100000, 0x7f000000}});
  }
  SECTION("hole covering the whole range removes it") {
    REQUIRE(subtract_ranges(ram, {{0, 0x100000000}}).empty());
    REQUIRE(subtract_ranges(ram, {{0x100000, 0x80000000}}).empty());
  }
  SECTION("holes only touching the range leave it whole") {
    REQUIRE(subtract_ranges(ram, {{0, 0x100000}, {0x80000000, 0x90000000}}) == ram);
  }
  SECTION("no holes") {
    REQUIRE(subtract_ranges(ram, {}) == ram);
  }
  SECTION("unsorted, overlapping ranges and holes") {
    Ranges r{{0x100000000, 0x180000000}, {0x100000, 0x80000000}, {0x1000, 0xa0000}, {0x50000000, 0x60000000}};
    Ranges holes{{0x7f000000, 0x80000000}, {0x1000, 0x2000}, {0x140000000, 0x150000000}, {0x6f000000, 0x7f000000},
                 {0x9f000, 0x200000}};
    REQUIRE(subtract_ranges(r, holes) == Ranges{{0x2000, 0x9f000},
                                                {0x200000, 0x6f000000},
                                                {0x100000000, 0x140000000},
                                                {0x150000000, 0x180000000}});
  }
  SECTION("several holes inside one range") {
    REQUIRE(subtract_ranges({{0x0, 0x10000}}, {{0x8000, 0x9000}, {0x1000, 0x2000}, {0x4000, 0x5000}}) ==
            Ranges{{0x0, 0x1000}, {0x2000, 0x4000}, {0x5000, 0x8000}, {0x9000, 0x10000}});
  }
  SECTION("one hole across two ranges") {
    REQUIRE(subtract_ranges({{0x1000, 0x3000}, {0x5000, 0x8000}}, {{0x2000, 0x6000}}) ==
            Ranges{{0x1000, 0x2000}, {0x6000, 0x8000}});
  }
}
