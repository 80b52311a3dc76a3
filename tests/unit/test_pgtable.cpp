// test_pgtable.cpp: x86_64 page-table walks over a sparse fake physical memory. Each test builds
// the tables entry by entry, so the path the walker must take is written out next to the
// expectation (libkdumpfile tests/addrxlat-x86_64-4l does the same with text fixtures).
#include <catch2/catch.hpp>
#include <map>
#include <string>

#include "arch/x86_64/pgtable.h"
#include "lib/io/hex.h"
#include "tests/unit/fake_phys.h"

using namespace kk;
using namespace kk::x86_64;

namespace {

constexpr u64 kRw = 1ull << 1;
constexpr u64 kPat2M = 1ull << 12;  // PAT bit of a 2 MiB / 1 GiB entry: inside the address field
constexpr u64 kNx = 1ull << 63;
constexpr u64 kCbit = 1ull << 47;   // AMD SME C-bit position on many EPYC parts

// Index of vaddr in the table of a level: 5 PML5, 4 PGD (PML4), 3 PUD, 2 PMD, 1 PTE.
u64 idx(u64 vaddr, int level) { return (vaddr >> (12 + 9 * (level - 1))) & 0x1ff; }

// The kernel's direct map starts at 0xffff888000000000 with 4-level paging.
constexpr u64 kVaddr = 0xffff888012345678ull;

Mapping walk_ok(PagingForm form, const PhysReader& mem, u64 root, u64 vaddr, u64 enc = 0) {
  Result<std::optional<Mapping>> r = walk(form, mem, root, vaddr, enc);
  if (!r) FAIL("walk: " << r.error().msg);
  if (!*r) FAIL("walk: " << hex(vaddr) << " not mapped");
  return **r;
}

}  // namespace

TEST_CASE("x86_64 4-level walk: 4 KiB page", "[pgtable]") {
  FakePhys mem;
  REQUIRE(idx(kVaddr, 4) == 0x111);
  REQUIRE(idx(kVaddr, 3) == 0);
  REQUIRE(idx(kVaddr, 2) == 0x91);
  REQUIRE(idx(kVaddr, 1) == 0x145);
  mem.put64(0x1000 + 0x111 * 8, 0x2000 | kPresent | kRw);  // PGD -> PUD table at 0x2000
  mem.put64(0x2000 + 0 * 8, 0x3000 | kPresent | kRw);      // PUD -> PMD table at 0x3000
  mem.put64(0x3000 + 0x91 * 8, 0x4000 | kPresent | kRw);   // PMD -> PTE table at 0x4000
  mem.put64(0x4000 + 0x145 * 8, 0x7654000 | kPresent | kNx);  // PTE -> page at 0x7654000

  Mapping m = walk_ok(kFourLevel, mem, 0x1000, kVaddr);
  REQUIRE(m.paddr == 0x7654678u);
  REQUIRE(m.page_size == 0x1000u);
  REQUIRE(mem.reads == 4);

  // The neighbouring PTE is empty: not mapped, which is an answer, not an error.
  Result<std::optional<Mapping>> hole = walk(kFourLevel, mem, 0x1000, kVaddr + 0x1000);
  REQUIRE(hole);
  REQUIRE_FALSE(hole->has_value());
}

TEST_CASE("x86_64 4-level walk: 2 MiB page", "[pgtable]") {
  FakePhys mem;
  mem.put64(0x1000 + 0 * 8, 0x2000 | kPresent);                        // PGD[0] -> PUD at 0x2000
  mem.put64(0x2000 + 0 * 8, 0x3000 | kPresent);                        // PUD[0] -> PMD at 0x3000
  mem.put64(0x3000 + 3 * 8, 0x40000000 | kPresent | kHuge | kPat2M | kNx);  // PMD[3] -> 2 MiB at 1 GiB
  Mapping m = walk_ok(kFourLevel, mem, 0x1000, 0x6abcde);
  REQUIRE(m.paddr == 0x400abcdeu);  // PAT bit and NX do not leak into the address
  REQUIRE(m.page_size == 2u << 20);
  REQUIRE(mem.reads == 3);
}

TEST_CASE("x86_64 4-level walk: 1 GiB page", "[pgtable]") {
  FakePhys mem;
  const u64 va = 0xffff8881c0000000ull + 0x2345678;  // PGD 0x111, PUD 7
  REQUIRE(idx(va, 4) == 0x111);
  REQUIRE(idx(va, 3) == 7);
  mem.put64(0x1000 + 0x111 * 8, 0x2000 | kPresent);
  mem.put64(0x2000 + 7 * 8, 0x1c0000000ull | kPresent | kHuge | kPat2M);  // PUD[7] -> 1 GiB at 7 GiB
  Mapping m = walk_ok(kFourLevel, mem, 0x1000, va);
  REQUIRE(m.paddr == 0x1c2345678ull);
  REQUIRE(m.page_size == 1u << 30);
  REQUIRE(mem.reads == 2);
}

TEST_CASE("x86_64 4-level walk: PS on a PGD entry is not a leaf", "[pgtable]") {
  // The PS bit is reserved in a PML4 entry; the walker follows it as a table pointer.
  FakePhys mem;
  mem.put64(0x1000, 0x2000 | kPresent | kHuge);
  mem.put64(0x2000, 0x3000 | kPresent);
  mem.put64(0x3000, 0x4000 | kPresent);
  mem.put64(0x4000, 0x9000 | kPresent);
  Mapping m = walk_ok(kFourLevel, mem, 0x1000, 0x123);
  REQUIRE(m.paddr == 0x9123u);
  REQUIRE(m.page_size == 0x1000u);
}

TEST_CASE("x86_64 4-level walk ignores bits 48..56 of the address", "[pgtable]") {
  FakePhys mem;
  mem.put64(0x1000 + 0x1ff * 8, 0x2000 | kPresent);          // PGD[511]: kernel text
  mem.put64(0x2000 + 0x1fe * 8, 0x3000 | kPresent);          // PUD[510]
  mem.put64(0x3000 + 0 * 8, 0x1000000 | kPresent | kHuge);   // PMD[0] -> 2 MiB at 16 MiB
  Mapping m = walk_ok(kFourLevel, mem, 0x1000, kStartKernelMap + 0x1234);
  REQUIRE(m.paddr == 0x1001234u);
  REQUIRE(m.page_size == 2u << 20);
}

TEST_CASE("x86_64 5-level walk: 4 KiB, 2 MiB and 1 GiB pages", "[pgtable]") {
  // With 5-level paging the direct map starts at 0xff11000000000000.
  const u64 base = 0xff11000000000000ull;
  REQUIRE(idx(base, 5) == 0x111);
  REQUIRE(idx(base, 4) == 0);
  FakePhys mem;
  mem.put64(0x10000 + 0x111 * 8, 0x11000 | kPresent);  // PML5[0x111] -> PGD at 0x11000
  mem.put64(0x11000 + 0 * 8, 0x12000 | kPresent);      // PGD[0] -> PUD at 0x12000
  // PUD[0] -> PMD at 0x13000; PUD[1] -> 1 GiB page at 3 GiB.
  mem.put64(0x12000 + 0 * 8, 0x13000 | kPresent);
  mem.put64(0x12000 + 1 * 8, 0xc0000000ull | kPresent | kHuge);
  // PMD[0] -> PTE at 0x14000; PMD[1] -> 2 MiB page at 0x800000.
  mem.put64(0x13000 + 0 * 8, 0x14000 | kPresent);
  mem.put64(0x13000 + 1 * 8, 0x800000 | kPresent | kHuge);
  mem.put64(0x14000 + 5 * 8, 0x55000 | kPresent);       // PTE[5] -> 0x55000

  Mapping p4k = walk_ok(kFiveLevel, mem, 0x10000, base + 5 * 0x1000 + 0x9a);
  REQUIRE(p4k.paddr == 0x5509au);
  REQUIRE(p4k.page_size == 0x1000u);

  Mapping p2m = walk_ok(kFiveLevel, mem, 0x10000, base + (2u << 20) + 0x12345);
  REQUIRE(p2m.paddr == 0x812345u);
  REQUIRE(p2m.page_size == 2u << 20);

  Mapping p1g = walk_ok(kFiveLevel, mem, 0x10000, base + (1u << 30) + 0x3456789);
  REQUIRE(p1g.paddr == 0xc3456789ull);
  REQUIRE(p1g.page_size == 1u << 30);

  // The same tables walked as 4-level start at the wrong level: PGD[0] of 0x10000 is empty.
  Result<std::optional<Mapping>> as4 = walk(kFourLevel, mem, 0x10000, base + 5 * 0x1000);
  REQUIRE(as4);
  REQUIRE_FALSE(as4->has_value());
}

TEST_CASE("x86_64 walk: not present at any level is nullopt", "[pgtable]") {
  FakePhys mem;
  mem.put64(0x1000, 0);  // an all-zero PGD page exists
  int level = GENERATE(4, 3, 2, 1);
  INFO("missing at level " << level);
  // Build a full 4 KiB path for vaddr 0 and leave out the entry at `level`.
  u64 table[5] = {0, 0x9000, 0x2000, 0x3000, 0x1000};  // table[l]: table read at level l
  for (int l = 4; l >= 1; --l) {
    u64 next = l == 1 ? 0x77000 : table[l - 1];
    mem.put64(table[l], l == level ? (next & ~kPresent) : (next | kPresent));
  }
  Result<std::optional<Mapping>> r = walk(kFourLevel, mem, 0x1000, 0x42);
  REQUIRE(r);
  REQUIRE_FALSE(r->has_value());
  REQUIRE(mem.reads == 4 - level + 1);  // stops at the first non-present entry

  // Only the present bit matters: a not-present entry with other bits set is still a hole.
  FakePhys swp;
  swp.put64(0x1000, 0x2000 | kRw | kHuge);
  Result<std::optional<Mapping>> s = walk(kFourLevel, swp, 0x1000, 0x42);
  REQUIRE(s);
  REQUIRE_FALSE(s->has_value());
}

TEST_CASE("x86_64 walk strips the memory-encryption mask", "[pgtable]") {
  FakePhys mem;
  // Every entry, and the root itself, carries the C-bit, as under AMD SME.
  mem.put64(0x1000 + 0x111 * 8, 0x2000 | kCbit | kPresent);
  mem.put64(0x2000 + 0 * 8, 0x3000 | kCbit | kPresent);
  mem.put64(0x3000 + 0x91 * 8, 0x4000 | kCbit | kPresent);
  mem.put64(0x4000 + 0x145 * 8, 0x7654000 | kCbit | kPresent);
  mem.put64(0x3000 + 0x92 * 8, 0x600000 | kCbit | kPresent | kHuge);

  Mapping m = walk_ok(kFourLevel, mem, 0x1000 | kCbit, kVaddr, kCbit);
  REQUIRE(m.paddr == 0x7654678u);
  Mapping huge = walk_ok(kFourLevel, mem, 0x1000 | kCbit, kVaddr + (2u << 20), kCbit);
  REQUIRE(huge.paddr == 0x600000u + 0x145678u);
  REQUIRE(huge.page_size == 2u << 20);

  // Without the mask the C-bit stays in the table addresses: the walk reads memory that is
  // not there and says so.
  Result<std::optional<Mapping>> raw = walk(kFourLevel, mem, 0x1000, kVaddr);
  REQUIRE_FALSE(raw);
  REQUIRE(raw.error().msg.find("page table at " + hex(0x2000 | kCbit)) == 0);
}

TEST_CASE("x86_64 walk: an unreadable table is an error naming table and address", "[pgtable]") {
  FakePhys mem;
  mem.put64(0x1000 + 0x111 * 8, 0x2000 | kPresent);
  mem.put64(0x2000 + 0 * 8, 0x3000 | kPresent);  // PMD table at 0x3000 is not in the dump
  Result<std::optional<Mapping>> r = walk(kFourLevel, mem, 0x1000, kVaddr);
  REQUIRE_FALSE(r);
  REQUIRE(r.error().code == Errc::missing);
  REQUIRE(r.error().msg ==
          "page table at 0x3000 for 0xffff888012345678: no page at " + hex(0x3000 + 0x91 * 8));

  Result<std::optional<Mapping>> noroot = walk(kFiveLevel, mem, 0x50000, kVaddr);
  REQUIRE_FALSE(noroot);
  REQUIRE(noroot.error().msg.rfind("page table at 0x50000 for 0xffff888012345678: ", 0) == 0);
}
