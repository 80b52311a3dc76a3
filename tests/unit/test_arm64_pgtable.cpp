// test_arm64_pgtable.cpp: AArch64 kernel (TTBR1) walks over a sparse fake physical memory, one
// per granule and VA size Linux builds, plus the dumper's arm64 reader made from a vmcoreinfo
// text as Debian's 6.1 arm64 kernel writes it. Tables are built entry by entry, so the path the
// walker must take is written out next to the expectation.
#include <catch2/catch.hpp>
#include <string>

#include "arch/arm64/pgtable.h"
#include "dumpfilter/kernel_memory.h"
#include "tests/unit/fake_phys.h"
#include "lib/io/hex.h"

using namespace kk;
using namespace kk::arm64;

namespace {

constexpr u64 kTableDesc = 0b11;  // valid + table
constexpr u64 kPageDesc = 0b11;   // valid + page (last level)
constexpr u64 kBlockDesc = 0b01;  // valid + block
constexpr u64 kAf = 1ull << 10;   // access flag: set in every real leaf, not an address bit
constexpr u64 kUxn = 1ull << 54;

// Index of vaddr in the table of `level` (0..3) for a form.
u64 idx(const PagingForm& f, u64 vaddr, int level) {
  unsigned per = f.page_shift - 3u;
  unsigned shift = f.page_shift + per * static_cast<unsigned>(3 - level);
  return (vaddr >> shift) & ((1ull << per) - 1) & ((1ull << (f.va_bits - shift)) - 1);
}

Mapping walk_ok(const PagingForm& f, const PhysReader& mem, u64 root, u64 vaddr) {
  Result<std::optional<Mapping>> r = walk(f, mem, root, vaddr);
  if (!r) FAIL("walk: " << r.error().msg);
  if (!*r) FAIL("walk: " << hex(vaddr) << " not mapped");
  return **r;
}

// A linear-map address of a 48-bit, 4K kernel (PAGE_OFFSET 0xffff000000000000).
constexpr u64 kLinear = 0xffff000012345678ull;

}  // namespace

TEST_CASE("arm64 forms: levels per granule and VA size", "[arm64]") {
  CHECK(k4kVa48.levels() == 4);
  CHECK(k4kVa39.levels() == 3);
  CHECK(k16kVa47.levels() == 3);
  CHECK(PagingForm{14, 48, 48}.levels() == 4);
  CHECK(k64kVa42.levels() == 2);
  CHECK(k64kVa52.levels() == 3);
  CHECK(PagingForm{16, 48, 48}.levels() == 3);
  CHECK(check_form(k4kVa48));
  CHECK_FALSE(check_form(PagingForm{13, 48, 48}));
  CHECK_FALSE(check_form(PagingForm{12, 60, 48}));
  CHECK(check_form(PagingForm{12, 48, 52}).error().code == Errc::unsupported);  // LPA2
}

TEST_CASE("arm64 4K/48-bit: 4-level walk to a page", "[arm64]") {
  FakePhys mem;
  const PagingForm& f = k4kVa48;
  mem.put64(0x1000 + idx(f, kLinear, 0) * 8, 0x2000 | kTableDesc);  // L0 -> L1 table
  mem.put64(0x2000 + idx(f, kLinear, 1) * 8, 0x3000 | kTableDesc);  // L1 -> L2 table
  mem.put64(0x3000 + idx(f, kLinear, 2) * 8, 0x4000 | kTableDesc);  // L2 -> L3 table
  mem.put64(0x4000 + idx(f, kLinear, 3) * 8, 0x52345000 | kPageDesc | kAf | kUxn);
  Mapping m = walk_ok(f, mem, 0x1000, kLinear);
  CHECK(m.paddr == 0x52345678u);
  CHECK(m.page_size == 0x1000u);
  CHECK(mem.reads == 4);
}

TEST_CASE("arm64 4K/48-bit: 2 MiB and 1 GiB blocks", "[arm64]") {
  FakePhys mem;
  const PagingForm& f = k4kVa48;
  mem.put64(0x1000 + idx(f, kLinear, 0) * 8, 0x2000 | kTableDesc);
  mem.put64(0x2000 + idx(f, kLinear, 1) * 8, 0x3000 | kTableDesc);
  mem.put64(0x3000 + idx(f, kLinear, 2) * 8, 0x40200000 | kBlockDesc | kAf);  // 2 MiB block
  Mapping m = walk_ok(f, mem, 0x1000, kLinear);
  CHECK(m.paddr == 0x40200000u + (kLinear & 0x1fffff));
  CHECK(m.page_size == 0x200000u);

  const u64 va = 0xffff000080000123ull;  // L1 index 2: a 1 GiB block at 0x80000000
  mem.put64(0x2000 + idx(f, va, 1) * 8, 0xc0000000 | kBlockDesc | kAf);
  m = walk_ok(f, mem, 0x1000, va);
  CHECK(m.paddr == 0xc0000123u);
  CHECK(m.page_size == 0x40000000u);
}

TEST_CASE("arm64 walk: invalid entries are holes, missing tables are errors", "[arm64]") {
  FakePhys mem;
  const PagingForm& f = k4kVa48;
  mem.put64(0x1000 + idx(f, kLinear, 0) * 8, 0x2000 | kTableDesc);
  mem.put64(0x2000 + idx(f, kLinear, 1) * 8, 0);  // invalid
  Result<std::optional<Mapping>> r = walk(f, mem, 0x1000, kLinear);
  REQUIRE(r);
  CHECK_FALSE(*r);

  mem.put64(0x2000 + idx(f, kLinear, 1) * 8, 0x9000 | kTableDesc);  // table page absent
  r = walk(f, mem, 0x1000, kLinear);
  REQUIRE_FALSE(r);
  CHECK(r.error().msg.find("0x9000") != std::string::npos);

  // Bit 1 clear at the last level is a reserved encoding, not a page.
  mem.put64(0x2000 + idx(f, kLinear, 1) * 8, 0x3000 | kTableDesc);
  mem.put64(0x3000 + idx(f, kLinear, 2) * 8, 0x4000 | kTableDesc);
  mem.put64(0x4000 + idx(f, kLinear, 3) * 8, 0x52345000 | kBlockDesc);
  r = walk(f, mem, 0x1000, kLinear);
  REQUIRE(r);
  CHECK_FALSE(*r);
}

TEST_CASE("arm64 16K/47-bit: 3 levels, 32 MiB block", "[arm64]") {
  FakePhys mem;
  const PagingForm& f = k16kVa47;
  const u64 va = 0xffffc00003456789ull;
  mem.put64(0x10000 + idx(f, va, 1) * 8, 0x20000 | kTableDesc);  // L1 (11 bits) -> L2
  mem.put64(0x20000 + idx(f, va, 2) * 8, 0x42000000 | kBlockDesc | kAf);
  Mapping m = walk_ok(f, mem, 0x10000, va);
  CHECK(m.page_size == 0x2000000u);
  CHECK(m.paddr == 0x42000000u + (va & 0x1ffffff));
  // And a 16 KiB page through an L3 table.
  mem.put64(0x20000 + idx(f, va, 2) * 8, 0x30000 | kTableDesc);
  mem.put64(0x30000 + idx(f, va, 3) * 8, 0x55554000 | kPageDesc | kAf);
  m = walk_ok(f, mem, 0x10000, va);
  CHECK(m.page_size == 0x4000u);
  CHECK(m.paddr == 0x55554000u + (va & 0x3fff));
}

TEST_CASE("arm64 64K/42-bit: 2 levels, 512 MiB block and 64 KiB page", "[arm64]") {
  FakePhys mem;
  const PagingForm& f = k64kVa42;
  const u64 va = 0xfffffc0012345678ull;
  mem.put64(0x10000 + idx(f, va, 2) * 8, 0x60000000 | kBlockDesc | kAf);  // top level is L2
  Mapping m = walk_ok(f, mem, 0x10000, va);
  CHECK(m.page_size == 0x20000000u);
  CHECK(m.paddr == 0x60000000u + (va & 0x1fffffff));
  mem.put64(0x10000 + idx(f, va, 2) * 8, 0x30000 | kTableDesc);
  mem.put64(0x30000 + idx(f, va, 3) * 8, 0x77770000 | kPageDesc | kAf);
  m = walk_ok(f, mem, 0x10000, va);
  CHECK(m.page_size == 0x10000u);
  CHECK(m.paddr == 0x77775678u);
}

TEST_CASE("arm64 64K/52-bit: PA[51:48] from descriptor bits 15:12", "[arm64]") {
  FakePhys mem;
  const PagingForm& f = k64kVa52;
  const u64 va = 0xfff0000000012345ull;
  mem.put64(0x10000 + idx(f, va, 1) * 8, 0x20000 | kTableDesc);
  mem.put64(0x20000 + idx(f, va, 2) * 8, 0x30000 | kTableDesc);
  // Page at physical 0x000a_0000_1234_0000: bits 47:16 in place, 0xa in bits 15:12.
  mem.put64(0x30000 + idx(f, va, 3) * 8, 0x000000012340000ull | (0xaull << 12) | kPageDesc | kAf);
  Mapping m = walk_ok(f, mem, 0x10000, va);
  CHECK(m.paddr == 0x000a000012342345ull);
}

TEST_CASE("arm64 reader from vmcoreinfo: kimage_voffset, swapper_pg_dir, PAC bits", "[arm64]") {
  // The arm64 lines of a Debian 6.1 vmcoreinfo (values of a real 512 MiB QEMU virt guest).
  const std::string text =
      "OSRELEASE=6.1.0-56-arm64\nPAGESIZE=4096\n"
      "SYMBOL(swapper_pg_dir)=ffff800009c41000\n"
      "NUMBER(VA_BITS)=48\nNUMBER(kimage_voffset)=0xffff7fffb7e00000\n"
      "NUMBER(PHYS_OFFSET)=0x40000000\nKERNELOFFSET=0\n"
      "NUMBER(KERNELPACMASK)=0xff80000000000000\nNUMBER(TCR_EL1_T1SZ)=0x10\n";
  Result<Vmcoreinfo> vi = Vmcoreinfo::parse(text);
  REQUIRE(vi);
  Result<Arm64Paging> p = arm64_paging_from(*vi);
  REQUIRE(p);
  CHECK(p->form.page_shift == 12);
  CHECK(p->form.va_bits == 48);
  CHECK(p->root == 0xffff800009c41000ull - 0xffff7fffb7e00000ull);
  CHECK(p->phys_offset == 0x40000000u);
  CHECK(p->pac_mask == 0xff80000000000000ull);

  FakePhys mem;
  const PagingForm& f = p->form;
  const u64 root = p->root;
  mem.put64(root + idx(f, kLinear, 0) * 8, 0x2000 | kTableDesc);
  mem.put64(0x2000 + idx(f, kLinear, 1) * 8, 0x3000 | kTableDesc);
  mem.put64(0x3000 + idx(f, kLinear, 2) * 8, 0x4000 | kTableDesc);
  mem.put64(0x4000 + idx(f, kLinear, 3) * 8, 0x52345000 | kPageDesc | kAf);
  mem.put64(0x52345678, 0x1122334455667788ull);
  Arm64KernelMemory km(mem, *p);
  Result<u64> v = km.read_u64(kLinear);
  REQUIRE(v);
  CHECK(*v == 0x1122334455667788ull);
  // The same pointer with a pointer-authentication code in its top bits.
  v = km.read_u64((kLinear & ~0xff80000000000000ull) | 0x2a00000000000000ull);
  REQUIRE(v);
  CHECK(*v == 0x1122334455667788ull);
  // Unmapped: an error that names the address.
  Result<u64> bad = km.read_u64(0xffff000100000000ull);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().msg.find("0xffff000100000000") != std::string::npos);
}

TEST_CASE("arm64 reader: what is missing is named", "[arm64]") {
  Result<Vmcoreinfo> vi = Vmcoreinfo::parse("PAGESIZE=4096\nNUMBER(VA_BITS)=48\n");
  REQUIRE(vi);
  Result<Arm64Paging> p = arm64_paging_from(*vi);
  REQUIRE_FALSE(p);
  CHECK(p.error().msg.find("kimage_voffset") != std::string::npos);
  vi = Vmcoreinfo::parse("PAGESIZE=8192\nNUMBER(VA_BITS)=48\n");
  REQUIRE(vi);
  p = arm64_paging_from(*vi);
  REQUIRE_FALSE(p);
  CHECK(p.error().msg.find("8192") != std::string::npos);
}
