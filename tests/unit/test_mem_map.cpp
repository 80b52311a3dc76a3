// test_mem_map.cpp: SPARSEMEM lookups (pfn -> struct page address) over a fake kernel memory.
// The fixture is a SPARSEMEM_EXTREME mem_section as Linux 6.1 x86_64 builds it: NR_SECTION_ROOTS
// root pointers, each root a page of struct mem_section (16 bytes: section_mem_map, usage),
// section_mem_map being the encoded mem_map (mem_map - first pfn of the section) with flag bits
// below bit 5 (include/linux/mmzone.h). Since Linux 4.15 (commit a0b1280368d1) SYMBOL(mem_section)
// in vmcoreinfo is the value of the mem_section pointer, i.e. the address of the root array.
#define CATCH_CONFIG_ENABLE_OPTIONAL_STRINGMAKER  // print std::optional in failures
#include <catch2/catch.hpp>
#include <cstring>
#include <map>
#include <string>

#include "dumpfilter/mem_map.h"
#include "lib/io/hex.h"

using namespace kk;

namespace {

constexpr u64 kMarkedPresent = 1ull << 0;
constexpr u64 kHasMemMap = 1ull << 1;
constexpr u64 kIsOnline = 1ull << 2;
constexpr u64 kIsEarly = 1ull << 3;

constexpr u64 kRootTable = 0xffff888100000000ull;      // SYMBOL(mem_section): 2048 root pointers
constexpr u64 kRoot0 = 0xffff888100010000ull;          // root 0: sections 0..255
constexpr u64 kRoot2 = 0xffff888100020000ull;          // root 2: not in the dump
constexpr u64 kVmemmap = 0xffffea0000000000ull;        // vmemmap_base without KASLR
constexpr u64 kPfnsPerSection = 1ull << 15;            // 128 MiB sections of 4 KiB pages

// Sparse kernel memory by virtual address; reading what was never written is an error.
class FakeKernel : public KernelReader {
 public:
  void put64(u64 vaddr, u64 v) {
    std::byte b[8];
    std::memcpy(b, &v, 8);
    put(vaddr, b);
  }
  void put(u64 vaddr, std::span<const std::byte> data) {
    for (size_t i = 0; i < data.size(); ++i) {
      auto& page = pages_[(vaddr + i) & ~0xfffull];
      page[(vaddr + i) & 0xfff] = data[i];
    }
  }
  // Makes a range readable (zero-filled) without writing anything meaningful.
  void map_zero(u64 vaddr, u64 size) {
    for (u64 p = vaddr & ~0xfffull; p < vaddr + size; p += 0x1000) pages_[p];
  }
  Result<void> read_virt(u64 vaddr, std::span<std::byte> out) const override {
    ++reads;
    for (size_t i = 0; i < out.size(); ++i) {
      auto it = pages_.find((vaddr + i) & ~0xfffull);
      if (it == pages_.end()) return make_error(Errc::missing, "no mapping at " + hex(vaddr + i));
      out[i] = it->second[(vaddr + i) & 0xfff];
    }
    return {};
  }
  mutable int reads = 0;

 private:
  std::map<u64, std::array<std::byte, 4096>> pages_;
};

// vmcoreinfo of a 6.1 x86_64 kernel, trimmed to what the SPARSEMEM layout needs.
std::string vmcoreinfo_61(const std::string& extra = "") {
  return "PAGESIZE=4096\n"
         "SYMBOL(mem_section)=ffff888100000000\n"
         "LENGTH(mem_section)=2048\n"
         "SIZE(mem_section)=16\n"
         "OFFSET(mem_section.section_mem_map)=0\n"
         "NUMBER(SECTION_SIZE_BITS)=27\n"
         "NUMBER(MAX_PHYSMEM_BITS)=46\n"
         "SIZE(page)=64\n" +
         extra;
}

std::string without(std::string text, const std::string& line) {
  size_t at = text.find(line);
  REQUIRE(at != std::string::npos);
  text.erase(at, line.size() + 1);
  return text;
}

Vmcoreinfo vi_of(const std::string& text) {
  Result<Vmcoreinfo> vi = Vmcoreinfo::parse(text);
  if (!vi) FAIL("vmcoreinfo: " << vi.error().msg);
  return *std::move(vi);
}

SparseLayout layout_61() {
  Result<SparseLayout> l = sparse_layout_from(vi_of(vmcoreinfo_61()), 4096);
  if (!l) FAIL("sparse_layout_from: " << l.error().msg);
  return *l;
}

// Section nr's mem_section word, encoded as sparse_encode_mem_map() does.
u64 encode(u64 mem_map, u64 nr, u64 flags) { return (mem_map - nr * kPfnsPerSection * 64) | flags; }

// Memory of a machine with sections 0 (vmemmap), 1 (present, no mem_map), 2 (absent),
// 3 (its own mem_map block, not vmemmap) in root 0; root 1 empty; root 2 unreadable.
FakeKernel machine() {
  FakeKernel k;
  k.map_zero(kRootTable, 2048 * 8);
  k.put64(kRootTable + 0 * 8, kRoot0);
  k.put64(kRootTable + 1 * 8, 0);
  k.put64(kRootTable + 2 * 8, kRoot2);
  k.map_zero(kRoot0, 4096);
  k.put64(kRoot0 + 0 * 16, encode(kVmemmap, 0, kMarkedPresent | kHasMemMap | kIsOnline | kIsEarly));
  k.put64(kRoot0 + 1 * 16, encode(kVmemmap + kPfnsPerSection * 64, 1, kMarkedPresent));
  k.put64(kRoot0 + 3 * 16, encode(0xffff888200000000ull, 3, kMarkedPresent | kHasMemMap));
  return k;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Layout from vmcoreinfo

TEST_CASE("mem_map: SPARSEMEM_EXTREME layout of Linux 6.1 x86_64", "[mem_map]") {
  SparseLayout l = layout_61();
  REQUIRE(l.page_shift == 12u);
  REQUIRE(l.section_size_bits == 27u);
  REQUIRE(l.max_physmem_bits == 46u);
  REQUIRE(l.struct_page_size == 64u);
  REQUIRE(l.mem_section_size == 16u);
  REQUIRE(l.mem_section_symbol == kRootTable);
  REQUIRE(l.extreme);
  REQUIRE(l.sections_per_root == 256u);
  REQUIRE(l.nr_roots == 2048u);
  REQUIRE(l.pfn_section_shift() == 15u);
  REQUIRE(l.pfns_per_section() == kPfnsPerSection);
  REQUIRE(l.nr_sections() == 1u << 19);
}

TEST_CASE("mem_map: LENGTH(mem_section) == NR_MEM_SECTIONS means classic SPARSEMEM", "[mem_map]") {
  std::string text = without(vmcoreinfo_61(), "LENGTH(mem_section)=2048") + "LENGTH(mem_section)=524288\n";
  Result<SparseLayout> l = sparse_layout_from(vi_of(text), 4096);
  REQUIRE(l);
  REQUIRE_FALSE(l->extreme);
  REQUIRE(l->sections_per_root == 1u);
  REQUIRE(l->nr_roots == 524288u);
}

TEST_CASE("mem_map: defaults for SECTION_SIZE_BITS and MAX_PHYSMEM_BITS", "[mem_map]") {
  std::string text = without(without(vmcoreinfo_61(), "NUMBER(SECTION_SIZE_BITS)=27"),
                             "NUMBER(MAX_PHYSMEM_BITS)=46");
  Result<SparseLayout> l4 = sparse_layout_from(vi_of(text), 4096);
  REQUIRE(l4);
  REQUIRE(l4->section_size_bits == 27u);
  REQUIRE(l4->max_physmem_bits == 46u);

  // 5-level paging: MAX_PHYSMEM_BITS 52, so 2^25 sections in 131072 roots.
  std::string l5text = without(text, "LENGTH(mem_section)=2048") +
                       "NUMBER(pgtable_l5_enabled)=1\nLENGTH(mem_section)=131072\n";
  Result<SparseLayout> l5 = sparse_layout_from(vi_of(l5text), 4096);
  REQUIRE(l5);
  REQUIRE(l5->max_physmem_bits == 52u);
  REQUIRE(l5->nr_sections() == 1u << 25);
  REQUIRE(l5->nr_roots == 131072u);

  // SIZE(mem_section) = 32 (page_ext configured) gives 128 sections per root.
  std::string ext = without(without(vmcoreinfo_61(), "SIZE(mem_section)=16"), "LENGTH(mem_section)=2048") +
                    "SIZE(mem_section)=32\nLENGTH(mem_section)=4096\n";
  Result<SparseLayout> l32 = sparse_layout_from(vi_of(ext), 4096);
  REQUIRE(l32);
  REQUIRE(l32->sections_per_root == 128u);
  REQUIRE(l32->nr_roots == 4096u);
}

TEST_CASE("mem_map: missing vmcoreinfo keys are named", "[mem_map]") {
  auto [line, msg] = GENERATE(table<std::string, std::string>({
      {"SYMBOL(mem_section)=ffff888100000000", "vmcoreinfo: missing SYMBOL(mem_section)"},
      {"SIZE(page)=64", "vmcoreinfo: missing SIZE(page)"},
      {"SIZE(mem_section)=16", "vmcoreinfo: missing SIZE(mem_section)"},
      {"LENGTH(mem_section)=2048", "vmcoreinfo: missing LENGTH(mem_section)"},
  }));
  INFO(line);
  Result<SparseLayout> l = sparse_layout_from(vi_of(without(vmcoreinfo_61(), line)), 4096);
  REQUIRE_FALSE(l);
  REQUIRE(l.error().code == Errc::missing);
  REQUIRE(l.error().msg == msg);
}

TEST_CASE("mem_map: LENGTH(mem_section) matching neither layout is corrupt", "[mem_map]") {
  std::string text = without(vmcoreinfo_61(), "LENGTH(mem_section)=2048") + "LENGTH(mem_section)=1000\n";
  Result<SparseLayout> l = sparse_layout_from(vi_of(text), 4096);
  REQUIRE_FALSE(l);
  REQUIRE(l.error().code == Errc::corrupt);
  REQUIRE(l.error().msg == "vmcoreinfo: LENGTH(mem_section) 1000 matches neither SPARSEMEM layout");
}

TEST_CASE("mem_map: implausible sizes and bit counts are corrupt", "[mem_map]") {
  std::string big_page = without(vmcoreinfo_61(), "SIZE(page)=64") + "SIZE(page)=4096\n";
  Result<SparseLayout> a = sparse_layout_from(vi_of(big_page), 4096);
  REQUIRE_FALSE(a);
  REQUIRE(a.error().code == Errc::corrupt);
  REQUIRE(a.error().msg == "vmcoreinfo: implausible SIZE(page) 4096 or SIZE(mem_section) 16");

  std::string zero_ms = without(vmcoreinfo_61(), "SIZE(mem_section)=16") + "SIZE(mem_section)=0\n";
  REQUIRE(sparse_layout_from(vi_of(zero_ms), 4096).error().code == Errc::corrupt);

  std::string bits = without(vmcoreinfo_61(), "NUMBER(SECTION_SIZE_BITS)=27") +
                     "NUMBER(SECTION_SIZE_BITS)=50\n";
  Result<SparseLayout> b = sparse_layout_from(vi_of(bits), 4096);
  REQUIRE_FALSE(b);
  REQUIRE(b.error().msg == "vmcoreinfo: implausible SECTION_SIZE_BITS 50 / MAX_PHYSMEM_BITS 46");

  std::string small = without(vmcoreinfo_61(), "NUMBER(SECTION_SIZE_BITS)=27") +
                      "NUMBER(SECTION_SIZE_BITS)=12\n";
  REQUIRE(sparse_layout_from(vi_of(small), 4096).error().code == Errc::corrupt);
}

// ---------------------------------------------------------------------------------------------
// Lookups

TEST_CASE("mem_map: struct page address in a section with a mem_map", "[mem_map]") {
  FakeKernel k = machine();
  MemMap mm(layout_61(), k);
  // Section 0: vmemmap, flag bits (online, early) do not disturb the address.
  REQUIRE(*mm.struct_page_addr(0) == std::optional<u64>(kVmemmap));
  REQUIRE(*mm.struct_page_addr(1) == std::optional<u64>(kVmemmap + 64));
  REQUIRE(*mm.struct_page_addr(0x7fff) == std::optional<u64>(kVmemmap + 0x7fff * 64));
  // Section 3 has its own mem_map block: pfn 3*32768 + 5 is its 6th struct page.
  REQUIRE(*mm.struct_page_addr(3 * kPfnsPerSection + 5) ==
          std::optional<u64>(0xffff888200000000ull + 5 * 64));
  REQUIRE(*mm.struct_page_addr(4 * kPfnsPerSection - 1) ==
          std::optional<u64>(0xffff888200000000ull + (kPfnsPerSection - 1) * 64));
}

TEST_CASE("mem_map: sections without a mem_map answer nullopt", "[mem_map]") {
  FakeKernel k = machine();
  MemMap mm(layout_61(), k);
  // Section 1: present but SECTION_HAS_MEM_MAP clear (hot-added, not yet populated).
  Result<std::optional<u64>> s1 = mm.struct_page_addr(kPfnsPerSection + 10);
  REQUIRE(s1);
  REQUIRE_FALSE(s1->has_value());
  // Section 2: not present at all.
  Result<std::optional<u64>> s2 = mm.struct_page_addr(2 * kPfnsPerSection);
  REQUIRE(s2);
  REQUIRE_FALSE(s2->has_value());
  // Section 256 is in root 1, a NULL root: no memory there.
  Result<std::optional<u64>> r1 = mm.struct_page_addr(256 * kPfnsPerSection);
  REQUIRE(r1);
  REQUIRE_FALSE(r1->has_value());
  // Beyond MAX_PHYSMEM_BITS.
  Result<std::optional<u64>> past = mm.struct_page_addr(1ull << 34);
  REQUIRE(past);
  REQUIRE_FALSE(past->has_value());
}

TEST_CASE("mem_map: a decoded mem_map below kernel space is ignored", "[mem_map]") {
  FakeKernel k = machine();
  k.put64(kRoot0 + 4 * 16, encode(0x1000000, 4, kMarkedPresent | kHasMemMap));  // garbage
  MemMap mm(layout_61(), k);
  Result<std::optional<u64>> r = mm.struct_page_addr(4 * kPfnsPerSection);
  REQUIRE(r);
  REQUIRE_FALSE(r->has_value());
}

TEST_CASE("mem_map: one root is read once and reused", "[mem_map]") {
  FakeKernel k = machine();
  MemMap mm(layout_61(), k);
  REQUIRE(mm.struct_page_addr(0)->has_value());
  REQUIRE(k.reads == 2);  // root pointer 0, root 0's sections
  REQUIRE(mm.struct_page_addr(3 * kPfnsPerSection)->has_value());
  REQUIRE_FALSE(mm.struct_page_addr(kPfnsPerSection)->has_value());
  REQUIRE(k.reads == 2);  // same root: no more reads
  REQUIRE_FALSE(mm.struct_page_addr(256 * kPfnsPerSection)->has_value());
  REQUIRE(k.reads == 3);  // root pointer 1 only (NULL)
  REQUIRE_FALSE(mm.struct_page_addr(257 * kPfnsPerSection)->has_value());
  REQUIRE(k.reads == 3);  // a NULL root is remembered too
  REQUIRE(mm.struct_page_addr(5)->has_value());
  REQUIRE(k.reads == 5);  // back to root 0: one root is cached, not all
}

TEST_CASE("mem_map: unreadable mem_section data is an error with context", "[mem_map]") {
  FakeKernel k = machine();
  MemMap mm(layout_61(), k);
  Result<std::optional<u64>> r = mm.struct_page_addr(512 * kPfnsPerSection);  // root 2
  REQUIRE_FALSE(r);
  REQUIRE(r.error().code == Errc::missing);
  REQUIRE(r.error().msg == "mem_section root 2: no mapping at " + hex(kRoot2));

  FakeKernel noroots;  // the root array itself is not in the dump
  MemMap m2(layout_61(), noroots);
  Result<std::optional<u64>> s = m2.struct_page_addr(3 * kPfnsPerSection);
  REQUIRE_FALSE(s);
  REQUIRE(s.error().code == Errc::missing);
  REQUIRE(s.error().msg == "mem_section root 0: no mapping at " + hex(kRootTable));
}

TEST_CASE("mem_map: asking again about a damaged root gives the same error", "[mem_map]") {
  // Damage must not turn into "no memory here" on the second question (the dumper retries a
  // failed range piece by piece).
  FakeKernel k = machine();
  MemMap mm(layout_61(), k);
  const u64 pfn = 512 * kPfnsPerSection;
  Result<std::optional<u64>> first = mm.struct_page_addr(pfn);
  REQUIRE_FALSE(first);
  Result<std::optional<u64>> again = mm.struct_page_addr(pfn + 1);
  REQUIRE_FALSE(again);
  REQUIRE(again.error().msg == first.error().msg);

  FakeKernel noroots;
  MemMap m2(layout_61(), noroots);
  Result<std::optional<u64>> a = m2.struct_page_addr(0);
  REQUIRE_FALSE(a);
  Result<std::optional<u64>> b = m2.struct_page_addr(1);
  REQUIRE_FALSE(b);
  REQUIRE(b.error().msg == a.error().msg);
}

TEST_CASE("mem_map: read_struct_pages copies count struct pages", "[mem_map]") {
  FakeKernel k = machine();
  // Struct pages of pfns 3*32768 + 0..3 in section 3's mem_map, tagged by their flags word.
  for (u64 i = 0; i < 4; ++i) k.put64(0xffff888200000000ull + i * 64, 0x1000 + i);
  k.map_zero(0xffff888200000000ull, 4 * 64);
  MemMap mm(layout_61(), k);

  std::vector<std::byte> out(5 * 64, std::byte{0xcc});
  Result<bool> got = mm.read_struct_pages(3 * kPfnsPerSection + 1, 3, out);
  REQUIRE(got);
  REQUIRE(*got);
  REQUIRE(load_le<u64>(out.data() + 0) == 0x1001u);
  REQUIRE(load_le<u64>(out.data() + 64) == 0x1002u);
  REQUIRE(load_le<u64>(out.data() + 128) == 0x1003u);
  REQUIRE(out[3 * 64] == std::byte{0xcc});  // only count * SIZE(page) bytes written

  // Section without a mem_map: false, out untouched.
  std::vector<std::byte> untouched(64, std::byte{0xcc});
  Result<bool> none = mm.read_struct_pages(kPfnsPerSection, 1, untouched);
  REQUIRE(none);
  REQUIRE_FALSE(*none);
  REQUIRE(untouched == std::vector<std::byte>(64, std::byte{0xcc}));

  // A mem_map whose pages are not in the dump: error naming the pfn.
  Result<bool> bad = mm.read_struct_pages(5, 1, untouched);  // section 0's vmemmap not mapped
  REQUIRE_FALSE(bad);
  REQUIRE(bad.error().msg == "struct page of pfn 0x5: no mapping at " + hex(kVmemmap + 5 * 64));
}

TEST_CASE("mem_map: classic SPARSEMEM reads sections straight from the array", "[mem_map]") {
  std::string text = without(vmcoreinfo_61(), "LENGTH(mem_section)=2048") + "LENGTH(mem_section)=524288\n";
  Result<SparseLayout> l = sparse_layout_from(vi_of(text), 4096);
  REQUIRE(l);
  FakeKernel k;
  // mem_section is struct mem_section[NR_MEM_SECTIONS] at the symbol itself.
  k.map_zero(kRootTable, 16 * 8);
  k.put64(kRootTable + 2 * 16,
          encode(kVmemmap + 2 * kPfnsPerSection * 64, 2, kMarkedPresent | kHasMemMap));
  MemMap mm(*l, k);
  REQUIRE(*mm.struct_page_addr(2 * kPfnsPerSection + 7) ==
          std::optional<u64>(kVmemmap + (2 * kPfnsPerSection + 7) * 64));
  Result<std::optional<u64>> s1 = mm.struct_page_addr(kPfnsPerSection);
  REQUIRE(s1);
  REQUIRE_FALSE(s1->has_value());
}
