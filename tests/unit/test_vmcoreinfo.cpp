// test_vmcoreinfo.cpp: parsing the VMCOREINFO note text and its typed accessors. The fixture is a
// trimmed copy of what a Linux 6.1 x86_64 kernel exports (kernel/crash_core.c, arch/x86/kernel/
// machine_kexec_64.c), with the note's NUL padding.
#define CATCH_CONFIG_ENABLE_OPTIONAL_STRINGMAKER  // print std::optional in failures
#include <catch2/catch.hpp>
#include <string>

#include "lib/kernel/vmcoreinfo.h"

using namespace kk;
using namespace std::string_literals;

namespace {

const std::string kLinux61 =
    "OSRELEASE=6.1.0-18-amd64\n"
    "BUILD-ID=3c4b2a2f0d1e5e8f9a0b1c2d3e4f5a6b7c8d9e0f\n"
    "PAGESIZE=4096\n"
    "SYMBOL(init_uts_ns)=ffffffff82a13140\n"
    "SYMBOL(mem_section)=ffff88803ffd5000\n"
    "LENGTH(mem_section)=2048\n"
    "SIZE(mem_section)=16\n"
    "OFFSET(mem_section.section_mem_map)=0\n"
    "NUMBER(SECTION_SIZE_BITS)=27\n"
    "NUMBER(MAX_PHYSMEM_BITS)=46\n"
    "SIZE(page)=64\n"
    "OFFSET(page.flags)=0\n"
    "OFFSET(page._refcount)=52\n"
    "OFFSET(page.mapping)=24\n"
    "OFFSET(page._mapcount)=48\n"
    "OFFSET(page.compound_order)=17\n"
    "LENGTH(zone.free_area)=11\n"
    "NUMBER(PG_lru)=4\n"
    "NUMBER(PG_head_mask)=65536\n"
    "NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)=-129\n"
    "NUMBER(PAGE_OFFLINE_MAPCOUNT_VALUE)=-257\n"
    "NUMBER(phys_base)=31541166080\n"
    "SYMBOL(init_top_pgt)=ffffffff8260a000\n"
    "NUMBER(pgtable_l5_enabled)=0\n"
    "KERNELOFFSET=1000000\n"
    "NUMBER(KERNEL_IMAGE_SIZE)=1073741824\n"
    "CRASHTIME=1700000000\n";

Vmcoreinfo parse_ok(std::string_view text) {
  Result<Vmcoreinfo> vi = Vmcoreinfo::parse(text);
  if (!vi) FAIL("parse failed: " << vi.error().msg);
  return *std::move(vi);
}

}  // namespace

TEST_CASE("vmcoreinfo: SYMBOL() is hex, with or without 0x", "[vmcoreinfo]") {
  Vmcoreinfo vi = parse_ok(kLinux61 + "SYMBOL(prefixed)=0xFFFFFFFF81000000\n");
  REQUIRE(vi.symbol("mem_section") == std::optional<u64>(0xffff88803ffd5000ull));
  REQUIRE(vi.symbol("init_top_pgt") == std::optional<u64>(0xffffffff8260a000ull));
  REQUIRE(vi.symbol("prefixed") == std::optional<u64>(0xffffffff81000000ull));
  REQUIRE(vi.symbol("no_such_symbol") == std::nullopt);
  REQUIRE(*vi.need_symbol("init_uts_ns") == 0xffffffff82a13140ull);
}

TEST_CASE("vmcoreinfo: NUMBER() is signed decimal", "[vmcoreinfo]") {
  Vmcoreinfo vi = parse_ok(kLinux61);
  REQUIRE(vi.number("PAGE_BUDDY_MAPCOUNT_VALUE") == std::optional<i64>(-129));
  REQUIRE(vi.number("PAGE_OFFLINE_MAPCOUNT_VALUE") == std::optional<i64>(-257));
  REQUIRE(vi.number("PG_head_mask") == std::optional<i64>(65536));
  REQUIRE(vi.number("phys_base") == std::optional<i64>(31541166080));
  REQUIRE(vi.number("pgtable_l5_enabled") == std::optional<i64>(0));
  REQUIRE(*vi.need_number("SECTION_SIZE_BITS") == 27);

  // Values printed with %lu that do not fit an i64 keep their bits.
  Vmcoreinfo big = parse_ok("NUMBER(mask)=18446744073709551615\nNUMBER(bad)=12x\n");
  REQUIRE(big.number("mask") == std::optional<i64>(-1));
  REQUIRE(big.number("bad") == std::nullopt);  // a malformed value reads as absent
}

TEST_CASE("vmcoreinfo: OFFSET, SIZE and LENGTH are decimal", "[vmcoreinfo]") {
  Vmcoreinfo vi = parse_ok(kLinux61);
  REQUIRE(vi.offset("page.flags") == std::optional<u64>(0));
  REQUIRE(vi.offset("page._refcount") == std::optional<u64>(52));
  REQUIRE(vi.offset("page.compound_order") == std::optional<u64>(17));
  REQUIRE(vi.offset("page.lru") == std::nullopt);
  REQUIRE(vi.size("page") == std::optional<u64>(64));
  REQUIRE(vi.size("mem_section") == std::optional<u64>(16));
  REQUIRE(vi.length("mem_section") == std::optional<u64>(2048));
  REQUIRE(vi.length("zone.free_area") == std::optional<u64>(11));
  REQUIRE(*vi.need_offset("page._mapcount") == 48u);
  REQUIRE(*vi.need_size("page") == 64u);
  REQUIRE(*vi.need_length("zone.free_area") == 11u);
  // Kinds do not mix: SIZE(page) is not OFFSET(page).
  REQUIRE(vi.offset("page") == std::nullopt);
  REQUIRE(vi.symbol("page") == std::nullopt);
}

TEST_CASE("vmcoreinfo: PAGESIZE, KERNELOFFSET, OSRELEASE, CRASHTIME", "[vmcoreinfo]") {
  Vmcoreinfo vi = parse_ok(kLinux61);
  REQUIRE(vi.page_size() == 4096u);
  REQUIRE(vi.kernel_offset() == std::optional<u64>(0x1000000));  // hex, no 0x
  REQUIRE(vi.osrelease() == "6.1.0-18-amd64");
  REQUIRE(vi.crash_time() == std::optional<i64>(1700000000));
  REQUIRE(vi.raw("BUILD-ID") == std::optional<std::string_view>("3c4b2a2f0d1e5e8f9a0b1c2d3e4f5a6b7c8d9e0f"));
  REQUIRE(vi.raw("SYMBOL(mem_section)") == std::optional<std::string_view>("ffff88803ffd5000"));

  Vmcoreinfo bare = parse_ok("SIZE(page)=64\n");
  REQUIRE(bare.page_size() == 0u);  // absent: 0
  REQUIRE(bare.kernel_offset() == std::nullopt);
  REQUIRE(bare.osrelease().empty());
  REQUIRE(bare.crash_time() == std::nullopt);

  Vmcoreinfo arm = parse_ok("PAGESIZE=65536\nKERNELOFFSET=0\n");
  REQUIRE(arm.page_size() == 65536u);
  REQUIRE(arm.kernel_offset() == std::optional<u64>(0));
}

TEST_CASE("vmcoreinfo: bad PAGESIZE is corrupt", "[vmcoreinfo]") {
  for (const char* text : {"PAGESIZE=4095\n", "PAGESIZE=0\n", "PAGESIZE=4k\n", "PAGESIZE=\n"}) {
    Result<Vmcoreinfo> vi = Vmcoreinfo::parse(text);
    INFO(text);
    REQUIRE_FALSE(vi);
    REQUIRE(vi.error().code == Errc::corrupt);
    REQUIRE(vi.error().msg.rfind("vmcoreinfo: bad PAGESIZE '", 0) == 0);
  }
  Result<Vmcoreinfo> odd = Vmcoreinfo::parse("PAGESIZE=12288\n");
  REQUIRE_FALSE(odd);
  REQUIRE(odd.error().msg == "vmcoreinfo: bad PAGESIZE '12288'");
}

TEST_CASE("vmcoreinfo: trailing NULs and blank lines are ignored", "[vmcoreinfo]") {
  std::string padded = "PAGESIZE=4096\n\nSIZE(page)=64\n"s + std::string(3, '\0');
  Vmcoreinfo vi = parse_ok(padded);
  REQUIRE(vi.page_size() == 4096u);
  REQUIRE(vi.size("page") == std::optional<u64>(64));
  REQUIRE(vi.text() == "PAGESIZE=4096\n\nSIZE(page)=64\n");  // NULs stripped from the text

  // No final newline: the last line still counts.
  Vmcoreinfo last = parse_ok("SIZE(page)=64\nNUMBER(PG_lru)=4"s + '\0');
  REQUIRE(last.number("PG_lru") == std::optional<i64>(4));

  Vmcoreinfo empty = parse_ok(std::string(8, '\0'));
  REQUIRE(empty.text().empty());
  REQUIRE(empty.raw("PAGESIZE") == std::nullopt);
}

TEST_CASE("vmcoreinfo: a later duplicate key wins; values may contain '='", "[vmcoreinfo]") {
  Vmcoreinfo vi = parse_ok("SIZE(page)=56\nSIZE(page)=64\nCMDLINE=root=/dev/vda ro\n");
  REQUIRE(vi.size("page") == std::optional<u64>(64));
  REQUIRE(vi.raw("CMDLINE") == std::optional<std::string_view>("root=/dev/vda ro"));
}

TEST_CASE("vmcoreinfo: a line that is not KEY=VALUE is an error naming the line", "[vmcoreinfo]") {
  Result<Vmcoreinfo> vi = Vmcoreinfo::parse("PAGESIZE=4096\nSIZE(page)=64\ngarbage here\n");
  REQUIRE_FALSE(vi);
  REQUIRE(vi.error().code == Errc::corrupt);
  REQUIRE(vi.error().msg == "vmcoreinfo: line 3 is not KEY=VALUE: 'garbage here'");

  Result<Vmcoreinfo> nokey = Vmcoreinfo::parse("=42\n");
  REQUIRE_FALSE(nokey);
  REQUIRE(nokey.error().msg == "vmcoreinfo: line 1 is not KEY=VALUE: '=42'");

  // Long lines are cut to 60 characters in the message.
  std::string long_line(100, 'x');
  Result<Vmcoreinfo> lng = Vmcoreinfo::parse(long_line);
  REQUIRE_FALSE(lng);
  REQUIRE(lng.error().msg == "vmcoreinfo: line 1 is not KEY=VALUE: '" + std::string(60, 'x') + "'");
}

TEST_CASE("vmcoreinfo: malformed numbers read as absent", "[vmcoreinfo]") {
  Vmcoreinfo vi = parse_ok(
      "SYMBOL(a)=xyz\nSYMBOL(b)=\nSIZE(c)=-4\nOFFSET(d)=1f\nLENGTH(e)=12 \nSYMBOL(f)=0x\n");
  REQUIRE(vi.symbol("a") == std::nullopt);
  REQUIRE(vi.symbol("b") == std::nullopt);
  REQUIRE(vi.size("c") == std::nullopt);
  REQUIRE(vi.offset("d") == std::nullopt);
  REQUIRE(vi.length("e") == std::nullopt);
  REQUIRE(vi.symbol("f") == std::nullopt);
  Result<u64> need = vi.need_symbol("a");
  REQUIRE_FALSE(need);
  REQUIRE(need.error().msg == "vmcoreinfo: missing SYMBOL(a)");
}

TEST_CASE("vmcoreinfo: need_* name the missing key", "[vmcoreinfo]") {
  Vmcoreinfo vi = parse_ok("PAGESIZE=4096\n");
  Result<u64> sym = vi.need_symbol("mem_section");
  REQUIRE_FALSE(sym);
  REQUIRE(sym.error().code == Errc::missing);
  REQUIRE(sym.error().msg == "vmcoreinfo: missing SYMBOL(mem_section)");
  REQUIRE(vi.need_size("page").error().msg == "vmcoreinfo: missing SIZE(page)");
  REQUIRE(vi.need_offset("page.flags").error().msg == "vmcoreinfo: missing OFFSET(page.flags)");
  REQUIRE(vi.need_number("PG_lru").error().msg == "vmcoreinfo: missing NUMBER(PG_lru)");
  REQUIRE(vi.need_length("zone.free_area").error().msg ==
          "vmcoreinfo: missing LENGTH(zone.free_area)");
  REQUIRE(vi.need_length("zone.free_area").error().code == Errc::missing);
}

// Issue 18: the page size sizes every page buffer; only what a kernel can have (4 KiB to 256 KiB,
// the bounds of the kdump-compressed block size too) is taken, for every input kind.
TEST_CASE("vmcoreinfo: PAGESIZE outside 4 KiB..256 KiB is corrupt", "[vmcoreinfo]") {
  for (const char* text : {"PAGESIZE=1\n", "PAGESIZE=2048\n", "PAGESIZE=524288\n", "PAGESIZE=1073741824\n",
                           "PAGESIZE=9223372036854775808\n"}) {
    Result<Vmcoreinfo> vi = Vmcoreinfo::parse(text);
    INFO(text);
    REQUIRE_FALSE(vi);
    REQUIRE(vi.error().code == Errc::corrupt);
    REQUIRE(vi.error().msg.rfind("vmcoreinfo: bad PAGESIZE '", 0) == 0);
  }
  for (u64 ps : {4096u, 16384u, 65536u, 262144u})
    REQUIRE(parse_ok("PAGESIZE=" + std::to_string(ps) + "\n").page_size() == ps);
}

// Issue 18: the note's text comes from the crashed kernel; an error quoting it must not carry
// an ESC (or any control byte) to the terminal.
TEST_CASE("vmcoreinfo: errors quoting the note escape control bytes", "[vmcoreinfo]") {
  Result<Vmcoreinfo> line = Vmcoreinfo::parse("OSRELEASE=6.1\n\x1b]0;owned\x07\x1b[2J\n");
  REQUIRE_FALSE(line);
  REQUIRE(line.error().msg == "vmcoreinfo: line 2 is not KEY=VALUE: '\\x1b]0;owned\\x07\\x1b[2J'");
  Result<Vmcoreinfo> ps = Vmcoreinfo::parse("PAGESIZE=4096\x1b[1A\r\n");
  REQUIRE_FALSE(ps);
  REQUIRE(ps.error().msg == "vmcoreinfo: bad PAGESIZE '4096\\x1b[1A\\x0d'");
}
