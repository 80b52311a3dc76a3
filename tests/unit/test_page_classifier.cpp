// test_page_classifier.cpp: page classes from struct page contents, makedumpfile's rules. The
// struct pages are built byte by byte with the Linux 6.1 x86_64 layout (vmcoreinfo values as a
// 6.1/6.2 kernel exports them: struct page is 64 bytes, compound_dtor/compound_order live in the
// first tail page at 16/17, PG_* from include/linux/page-flags.h with CONFIG_X86_PAT).
#define CATCH_CONFIG_ENABLE_OPTIONAL_STRINGMAKER  // print std::optional in failures
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstring>
#include <string>
#include <vector>

#include "dumpfilter/page_classifier.h"

using namespace kk;

namespace {

const std::string kVmcoreinfo61 =
    "OSRELEASE=6.1.0-18-amd64\n"
    "PAGESIZE=4096\n"
    "SIZE(page)=64\n"
    "OFFSET(page.flags)=0\n"
    "OFFSET(page._refcount)=52\n"
    "OFFSET(page.mapping)=24\n"
    "OFFSET(page.lru)=8\n"
    "OFFSET(page._mapcount)=48\n"
    "OFFSET(page.private)=40\n"
    "OFFSET(page.compound_dtor)=16\n"
    "OFFSET(page.compound_order)=17\n"
    "OFFSET(page.compound_head)=8\n"
    "LENGTH(zone.free_area)=11\n"
    "NUMBER(PG_lru)=4\n"
    "NUMBER(PG_private)=13\n"
    "NUMBER(PG_swapcache)=10\n"
    "NUMBER(PG_swapbacked)=19\n"
    "NUMBER(PG_slab)=9\n"
    "NUMBER(PG_hwpoison)=23\n"
    "NUMBER(PG_head_mask)=65536\n"
    "NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)=-129\n"
    "NUMBER(HUGETLB_PAGE_DTOR)=2\n"
    "NUMBER(PAGE_OFFLINE_MAPCOUNT_VALUE)=-257\n";

constexpr u64 kLru = 1ull << 4;
constexpr u64 kSlab = 1ull << 9;
constexpr u64 kSwapcache = 1ull << 10;
constexpr u64 kPrivate = 1ull << 13;
constexpr u64 kHead = 1ull << 16;
constexpr u64 kSwapbacked = 1ull << 19;
constexpr u64 kHwpoison = 1ull << 23;
// Upper flag bits hold the zone/node/section numbers; classification must ignore them.
constexpr u64 kZoneBits = 0x17ffffc0000000ull;

constexpr u64 kFileMapping = 0xffff888104a3c2d8ull;  // struct address_space *
constexpr u64 kAnonVma = 0xffff888104b51e01ull;      // struct anon_vma * | PAGE_MAPPING_ANON
constexpr i32 kBuddy = -129;
constexpr i32 kOffline = -257;
constexpr u8 kHugetlbDtor = 2;
constexpr u8 kTranshugeDtor = 3;  // TRANSHUGE_PAGE_DTOR in 6.1
constexpr u64 kVmemmap = 0xffffea0000000000ull;

// How a tail page names its head. Up to Linux 7.0, and from 7.1 without HVO or with a struct
// page whose size is not a power of two: the head's struct page address | 1. From 7.1 (commit
// 8c846c879e22, "mm: rework compound_head() for power-of-2 sizeof(struct page)") with
// CONFIG_HUGETLB_PAGE_OPTIMIZE_VMEMMAP and a 64-byte struct page: a mask | 1 that, applied to the
// tail's own struct page address, gives the head's (bits 63..order+6 set).
enum class TailWord { pointer, mask };
u64 tail_word(TailWord enc, u64 head_pfn, unsigned order) {
  if (enc == TailWord::pointer) return (kVmemmap + head_pfn * 64) | 1;
  return (~0ull << (order + 6)) | 1;
}

PageLayout layout_of(const std::string& text) {
  Result<Vmcoreinfo> vi = Vmcoreinfo::parse(text);
  if (!vi) FAIL("vmcoreinfo: " << vi.error().msg);
  Result<PageLayout> l = page_layout_from(*vi);
  if (!l) FAIL("page_layout_from: " << l.error().msg);
  return *l;
}

PageLayout layout61() { return layout_of(kVmcoreinfo61); }

// Struct pages for pfns [first, first + n), initialised as the kernel leaves an idle page:
// no flags, no mapping, _mapcount -1.
class StructPages {
 public:
  StructPages(u64 first_pfn, size_t n) : first_(first_pfn), buf_(n * 64) {
    for (size_t i = 0; i < n; ++i) {
      set_mapcount(first_pfn + i, -1);
      put<u64>(first_pfn + i, 0, kZoneBits);
    }
  }
  StructPages& flags(u64 pfn, u64 f) { return put<u64>(pfn, 0, f | kZoneBits); }
  StructPages& mapping(u64 pfn, u64 m) { return put<u64>(pfn, 24, m); }
  StructPages& set_mapcount(u64 pfn, i32 v) { return put<u32>(pfn, 48, static_cast<u32>(v)); }
  StructPages& priv(u64 pfn, u64 v) { return put<u64>(pfn, 40, v); }
  StructPages& lru(u64 pfn, u64 next) { return put<u64>(pfn, 8, next); }
  // A compound page as prep_compound_page() leaves it: PG_head on the head, the tail word
  // (compound_head, compound_info since 7.1) in every tail, dtor and order in the first tail.
  StructPages& compound(u64 head_pfn, unsigned order, u8 dtor, u64 head_flags,
                        TailWord enc = TailWord::pointer) {
    flags(head_pfn, head_flags | kHead);
    for (u64 i = 1; i < (1ull << order); ++i)
      if (has(head_pfn + i)) put<u64>(head_pfn + i, 8, tail_word(enc, head_pfn, order));
    if (has(head_pfn + 1)) {
      put<u8>(head_pfn + 1, 16, dtor);
      put<u8>(head_pfn + 1, 17, static_cast<u8>(order));
    }
    return *this;
  }
  StructPages& byte(u64 pfn, size_t off, u8 v) { return put<u8>(pfn, off, v); }
  bool has(u64 pfn) const { return pfn >= first_ && (pfn - first_) * 64 < buf_.size(); }
  std::span<const std::byte> all() const { return buf_; }
  // Struct pages of [pfn, pfn + n).
  std::span<const std::byte> range(u64 pfn, size_t n) const {
    return std::span(buf_).subspan((pfn - first_) * 64, n * 64);
  }

 private:
  template <class T>
  StructPages& put(u64 pfn, size_t off, T v) {
    REQUIRE(has(pfn));
    std::memcpy(buf_.data() + (pfn - first_) * 64 + off, &v, sizeof v);
    return *this;
  }
  u64 first_;
  std::vector<std::byte> buf_;
};

// Classifies pfns [pfn, pfn + n) in one call, with the struct page after them if present.
std::vector<PageClass> run(PageClassifier& pc, const StructPages& sp, u64 pfn, size_t n) {
  std::vector<PageClass> v(n, PageClass::kept);
  size_t with_next = sp.has(pfn + n) ? n + 1 : n;
  pc.classify(pfn, sp.range(pfn, with_next), v);
  return v;
}

PageClass one(int level, const StructPages& sp, u64 pfn) {
  PageClassifier pc(layout61(), level);
  return run(pc, sp, pfn, 1)[0];
}

std::vector<PageClass> repeat(PageClass c, size_t n) { return std::vector<PageClass>(n, c); }

}  // namespace

namespace Catch {
template <>
struct StringMaker<PageClass> {
  static std::string convert(PageClass c) { return std::string(page_class_name(c)); }
};
}  // namespace Catch

// ---------------------------------------------------------------------------------------------
// Layout from vmcoreinfo

TEST_CASE("page_classifier: layout of Linux 6.1 x86_64", "[page_classifier]") {
  PageLayout l = layout61();
  REQUIRE(l.struct_size == 64u);
  REQUIRE(l.off_flags == 0u);
  REQUIRE(l.off_mapping == 24u);
  REQUIRE(l.off_mapcount == 48u);
  REQUIRE(l.off_private == 40u);
  REQUIRE(l.off_compound_head == std::optional<u64>(8));
  REQUIRE(l.off_order == std::optional<u64>(17));
  REQUIRE(l.off_dtor == std::optional<u64>(16));
  REQUIRE(l.max_order == 11u);
  REQUIRE(l.have_max_order);
  REQUIRE(l.pg_lru == 4u);
  REQUIRE(l.pg_private == 13u);
  REQUIRE(l.pg_swapcache == 10u);
  REQUIRE(l.pg_head_mask == 65536u);
  REQUIRE(l.pg_swapbacked == std::optional<u64>(19));
  REQUIRE(l.pg_slab == std::optional<u64>(9));
  REQUIRE(l.pg_hwpoison == std::optional<u64>(23));
  REQUIRE(l.buddy_mapcount == std::optional<u32>(0xffffff7fu));
  REQUIRE(l.offline_mapcount == std::optional<u32>(0xfffffeffu));
  REQUIRE_FALSE(l.slab_mapcount.has_value());
  REQUIRE_FALSE(l.hugetlb_mapcount.has_value());
  REQUIRE(l.hugetlb_dtor == std::optional<u64>(2));
  REQUIRE_FALSE(l.pg_hugetlb.has_value());
}

TEST_CASE("page_classifier: folio offsets are taken relative to the first tail page", "[page_classifier]") {
  // Linux 6.6 exports the first tail page's fields through struct folio (offsets from the head).
  std::string text = kVmcoreinfo61;
  for (const char* key : {"OFFSET(page.compound_dtor)=16\n", "OFFSET(page.compound_order)=17\n"})
    text.erase(text.find(key), std::strlen(key));
  PageLayout l = layout_of(text + "OFFSET(folio._folio_dtor)=80\nOFFSET(folio._folio_order)=81\n");
  REQUIRE(l.off_dtor == std::optional<u64>(16));
  REQUIRE(l.off_order == std::optional<u64>(17));

  // Linux 6.9+: the order is the low byte of folio._flags_1.
  PageLayout l69 = layout_of(text + "OFFSET(folio._flags_1)=64\n");
  REQUIRE(l69.off_order == std::optional<u64>(0));
  REQUIRE_FALSE(l69.off_dtor.has_value());

  PageLayout none = layout_of(text);
  REQUIRE_FALSE(none.off_order.has_value());
  REQUIRE_FALSE(none.off_dtor.has_value());
}

TEST_CASE("page_classifier: required vmcoreinfo keys are named when missing", "[page_classifier]") {
  auto [line, msg] = GENERATE(table<std::string, std::string>({
      {"SIZE(page)=64", "vmcoreinfo: missing SIZE(page)"},
      {"OFFSET(page.flags)=0", "vmcoreinfo: missing OFFSET(page.flags)"},
      {"OFFSET(page.mapping)=24", "vmcoreinfo: missing OFFSET(page.mapping)"},
      {"OFFSET(page._mapcount)=48", "vmcoreinfo: missing OFFSET(page._mapcount)"},
      {"OFFSET(page.private)=40", "vmcoreinfo: missing OFFSET(page.private)"},
      {"NUMBER(PG_lru)=4", "vmcoreinfo: missing NUMBER(PG_lru)"},
      {"NUMBER(PG_private)=13", "vmcoreinfo: missing NUMBER(PG_private)"},
      {"NUMBER(PG_swapcache)=10", "vmcoreinfo: missing NUMBER(PG_swapcache)"},
      {"NUMBER(PG_head_mask)=65536", "vmcoreinfo: missing NUMBER(PG_head_mask)"},
  }));
  INFO(line);
  std::string text = kVmcoreinfo61;
  text.erase(text.find(line + "\n"), line.size() + 1);
  Result<PageLayout> l = page_layout_from(*Vmcoreinfo::parse(text));
  REQUIRE_FALSE(l);
  REQUIRE(l.error().code == Errc::missing);
  REQUIRE(l.error().msg == msg);
}

TEST_CASE("page_classifier: offsets outside SIZE(page) are corrupt", "[page_classifier]") {
  std::string text = kVmcoreinfo61;
  text.replace(text.find("OFFSET(page.private)=40"), 23, "OFFSET(page.private)=60");
  Result<PageLayout> l = page_layout_from(*Vmcoreinfo::parse(text));
  REQUIRE_FALSE(l);
  REQUIRE(l.error().code == Errc::corrupt);
  REQUIRE(l.error().msg == "vmcoreinfo: struct page offsets lie outside SIZE(page)");

  std::string mc = kVmcoreinfo61;
  mc.replace(mc.find("OFFSET(page._mapcount)=48"), 25, "OFFSET(page._mapcount)=61");
  REQUIRE(page_layout_from(*Vmcoreinfo::parse(mc)).error().code == Errc::corrupt);
}

TEST_CASE("page_classifier: class names and counts", "[page_classifier]") {
  REQUIRE(page_class_name(PageClass::kept) == "kept");
  REQUIRE(page_class_name(PageClass::cache_private) == "cache_private");
  REQUIRE(page_class_name(PageClass::unclassified) == "unclassified");
  REQUIRE(page_class_name(PageClass::offline) == "offline");
  ClassCounts a, b;
  a[PageClass::free] = 3;
  b[PageClass::free] = 4;
  b[PageClass::user] = 1;
  a.add(b);
  REQUIRE(a[PageClass::free] == 7u);
  REQUIRE(a[PageClass::user] == 1u);
  REQUIRE(a[PageClass::cache] == 0u);
}

// ---------------------------------------------------------------------------------------------
// Each class at every dump level

TEST_CASE("page_classifier: each class at the levels that exclude it, and only those", "[page_classifier]") {
  // pfn 0x100 + k holds page kind k; all single pages (order 0).
  StructPages sp(0x100, 9);
  const u64 plain = 0x100;
  const u64 cache = 0x101;
  const u64 cache_priv = 0x102;
  const u64 anon = 0x103;
  const u64 free_pg = 0x104;
  const u64 slab = 0x105;
  const u64 hwpoison = 0x106;
  const u64 offline = 0x107;
  const u64 swapcache = 0x108;
  sp.flags(cache, kLru).mapping(cache, kFileMapping);
  sp.flags(cache_priv, kLru | kPrivate).mapping(cache_priv, kFileMapping).priv(cache_priv, 0xffff888100abc000ull);
  sp.flags(anon, kLru | kSwapbacked).mapping(anon, kAnonVma).set_mapcount(anon, 0);
  sp.set_mapcount(free_pg, kBuddy).priv(free_pg, 0);
  sp.flags(slab, kSlab);
  sp.flags(hwpoison, kHwpoison);
  sp.set_mapcount(offline, kOffline);
  sp.flags(swapcache, kSwapcache | kSwapbacked).mapping(swapcache, kFileMapping);

  for (int level = 0; level <= kDlMax; ++level) {
    INFO("-d " << level);
    PageClassifier pc(layout61(), level);
    std::vector<PageClass> v(9, PageClass::kept);
    pc.classify(0x100, sp.all(), v);
    const bool c = level & (kDlCache | kDlCachePrivate);
    CHECK(v[plain - 0x100] == PageClass::kept);
    CHECK(v[cache - 0x100] == (c ? PageClass::cache : PageClass::kept));
    CHECK(v[cache_priv - 0x100] == ((level & kDlCachePrivate) ? PageClass::cache_private : PageClass::kept));
    CHECK(v[anon - 0x100] == ((level & kDlUser) ? PageClass::user : PageClass::kept));
    CHECK(v[free_pg - 0x100] == ((level & kDlFree) ? PageClass::free : PageClass::kept));
    CHECK(v[slab - 0x100] == PageClass::kept);
    CHECK(v[hwpoison - 0x100] == PageClass::hwpoison);  // at every level, 0 included
    CHECK(v[offline - 0x100] == PageClass::offline);
    CHECK(v[swapcache - 0x100] == (c ? PageClass::cache : PageClass::kept));
  }
}

TEST_CASE("page_classifier: hugetlbfs pages are user data", "[page_classifier]") {
  // A 2 MiB hugetlb page at pfn 0x200 (order 9), mapped by a file: not anon, but user data.
  StructPages sp(0x200, 513);
  sp.compound(0x200, 9, kHugetlbDtor, 0).mapping(0x200, kFileMapping);
  PageClassifier user(layout61(), kDlUser);
  std::vector<PageClass> v = run(user, sp, 0x200, 512);
  REQUIRE(v == repeat(PageClass::user, 512));

  PageClassifier cache(layout61(), kDlCache | kDlCachePrivate | kDlFree);
  REQUIRE(run(cache, sp, 0x200, 512) == repeat(PageClass::kept, 512));

  // The same page with another destructor (a THP of a file) is not user data.
  StructPages thp(0x200, 513);
  thp.compound(0x200, 9, kTranshugeDtor, 0).mapping(0x200, kFileMapping);
  PageClassifier u2(layout61(), kDlUser);
  REQUIRE(run(u2, thp, 0x200, 512) == repeat(PageClass::kept, 512));
}

// ---------------------------------------------------------------------------------------------
// Rule order

TEST_CASE("page_classifier: a private cache page is kept at -d 2, cache_private at -d 4", "[page_classifier]") {
  StructPages sp(0x10, 1);
  sp.flags(0x10, kLru | kPrivate).mapping(0x10, kFileMapping);
  REQUIRE(one(kDlCache, sp, 0x10) == PageClass::kept);
  REQUIRE(one(kDlCachePrivate, sp, 0x10) == PageClass::cache_private);
  REQUIRE(one(kDlCache | kDlCachePrivate, sp, 0x10) == PageClass::cache_private);
  REQUIRE(one(kDlUser | kDlFree | kDlZero, sp, 0x10) == PageClass::kept);
}

TEST_CASE("page_classifier: the anon mapping bit makes an LRU page user data, not cache", "[page_classifier]") {
  StructPages sp(0x10, 2);
  sp.flags(0x10, kLru | kSwapbacked).mapping(0x10, kAnonVma);
  // Anon page in the swap cache: still anon.
  sp.flags(0x11, kLru | kSwapbacked | kSwapcache | kPrivate).mapping(0x11, kAnonVma);
  for (u64 pfn : {0x10u, 0x11u}) {
    INFO("pfn " << pfn);
    REQUIRE(one(kDlCache | kDlCachePrivate, sp, pfn) == PageClass::kept);
    REQUIRE(one(kDlUser, sp, pfn) == PageClass::user);
    REQUIRE(one(kDlMax, sp, pfn) == PageClass::user);
  }
  // Without the bit the same flags are a (shmem-like) cache page.
  StructPages file(0x10, 1);
  file.flags(0x10, kLru | kSwapbacked).mapping(0x10, kFileMapping);
  REQUIRE(one(kDlCache, file, 0x10) == PageClass::cache);
  REQUIRE(one(kDlUser, file, 0x10) == PageClass::kept);
}

TEST_CASE("page_classifier: PG_swapcache without PG_swapbacked is not swap cache", "[page_classifier]") {
  // PG_swapcache aliases PG_owner_priv_1 (filesystems' PG_checked): only with PG_swapbacked
  // does it mean swap cache.
  StructPages sp(0x10, 1);
  sp.flags(0x10, kSwapcache).mapping(0x10, kFileMapping);
  REQUIRE(one(kDlCache | kDlCachePrivate, sp, 0x10) == PageClass::kept);
}

TEST_CASE("page_classifier: a slab page with the buddy mapcount is not free", "[page_classifier]") {
  // In 6.1 struct slab overlays struct page; its fields may look like a buddy mapcount.
  StructPages sp(0x10, 2);
  sp.flags(0x10, kSlab | kHead).set_mapcount(0x10, kBuddy).priv(0x10, 0);
  sp.flags(0x11, kSlab).set_mapcount(0x11, kBuddy).mapping(0x11, 0xffff888100001001ull);
  REQUIRE(one(kDlFree, sp, 0x10) == PageClass::kept);
  REQUIRE(one(kDlMax, sp, 0x10) == PageClass::kept);
  // Nor is a slab page with bit 0 in its mapping word user data.
  REQUIRE(one(kDlMax, sp, 0x11) == PageClass::kept);
  // And a slab page is never offline, whatever its mapcount says.
  StructPages off(0x10, 1);
  off.flags(0x10, kSlab).set_mapcount(0x10, kOffline);
  REQUIRE(one(0, off, 0x10) == PageClass::kept);
}

TEST_CASE("page_classifier: free comes first, then cache, user, hwpoison, offline", "[page_classifier]") {
  StructPages sp(0x10, 3);
  sp.flags(0x10, kLru | kHwpoison).mapping(0x10, kFileMapping).set_mapcount(0x10, kBuddy);
  REQUIRE(one(kDlFree | kDlCache, sp, 0x10) == PageClass::free);
  REQUIRE(one(kDlCache, sp, 0x10) == PageClass::cache);
  REQUIRE(one(0, sp, 0x10) == PageClass::hwpoison);

  sp.flags(0x11, kLru | kSwapbacked | kHwpoison).mapping(0x11, kAnonVma);
  REQUIRE(one(kDlUser, sp, 0x11) == PageClass::user);
  REQUIRE(one(kDlCache | kDlFree, sp, 0x11) == PageClass::hwpoison);

  sp.flags(0x12, kHwpoison).set_mapcount(0x12, kOffline);
  REQUIRE(one(0, sp, 0x12) == PageClass::hwpoison);
}

// ---------------------------------------------------------------------------------------------
// Multi-page exclusions

TEST_CASE("page_classifier: a free block of order 3 excludes 8 pfns across a window boundary", "[page_classifier]") {
  // Only the first page of a buddy block carries the buddy mapcount and the order.
  StructPages sp(0, 24);
  sp.set_mapcount(8, kBuddy).priv(8, 3);
  PageClassifier pc(layout61(), kDlFree);
  std::vector<PageClass> w1 = run(pc, sp, 4, 8);  // pfns 4..11
  REQUIRE(w1 == std::vector<PageClass>{PageClass::kept, PageClass::kept, PageClass::kept,
                                       PageClass::kept, PageClass::free, PageClass::free,
                                       PageClass::free, PageClass::free});
  std::vector<PageClass> w2 = run(pc, sp, 12, 8);  // pfns 12..19: 12..15 carried over
  REQUIRE(w2 == std::vector<PageClass>{PageClass::free, PageClass::free, PageClass::free,
                                       PageClass::free, PageClass::kept, PageClass::kept,
                                       PageClass::kept, PageClass::kept});
}

TEST_CASE("page_classifier: the carried-over range wins over what its pages look like", "[page_classifier]") {
  // Pages inside a free block are excluded as free even if their struct page looks like cache.
  StructPages sp(0, 8);
  sp.set_mapcount(0, kBuddy).priv(0, 2);
  sp.flags(2, kLru).mapping(2, kFileMapping);
  PageClassifier pc(layout61(), kDlFree | kDlCache);
  REQUIRE(run(pc, sp, 0, 8) == std::vector<PageClass>{PageClass::free, PageClass::free,
                                                       PageClass::free, PageClass::free,
                                                       PageClass::kept, PageClass::kept,
                                                       PageClass::kept, PageClass::kept});
}

TEST_CASE("page_classifier: an unbelievable buddy order is kept", "[page_classifier]") {
  StructPages sp(0, 2);
  sp.set_mapcount(0, kBuddy).priv(0, 11);  // LENGTH(zone.free_area) = 11: orders 0..10
  sp.set_mapcount(1, kBuddy).priv(1, ~0ull);
  PageClassifier pc(layout61(), kDlMax);
  REQUIRE(run(pc, sp, 0, 2) == std::vector<PageClass>{PageClass::kept, PageClass::kept});

  // Order 10 is the largest believable one: 1024 pfns.
  StructPages big(0, 1025);
  big.set_mapcount(0, kBuddy).priv(0, 10);
  PageClassifier pc2(layout61(), kDlFree);
  std::vector<PageClass> v = run(pc2, big, 0, 1025);
  REQUIRE(std::count(v.begin(), v.end(), PageClass::free) == 1024);
  REQUIRE(v[1024] == PageClass::kept);
}

TEST_CASE("page_classifier: a compound head of order 2 is excluded as user across its tails", "[page_classifier]") {
  // An anonymous THP-like folio at pfn 4 (order 2) between plain pages.
  StructPages sp(0, 12);
  sp.compound(4, 2, kTranshugeDtor, kLru | kSwapbacked).mapping(4, kAnonVma).set_mapcount(4, 0);
  PageClassifier pc(layout61(), kDlUser);
  std::vector<PageClass> v = run(pc, sp, 0, 12);
  REQUIRE(v == std::vector<PageClass>{PageClass::kept, PageClass::kept, PageClass::kept,
                                      PageClass::kept, PageClass::user, PageClass::user,
                                      PageClass::user, PageClass::user, PageClass::kept,
                                      PageClass::kept, PageClass::kept, PageClass::kept});
}

TEST_CASE("page_classifier: tail pages are kept when their head is kept", "[page_classifier]") {
  StructPages sp(0, 8);
  sp.compound(4, 2, kTranshugeDtor, kLru | kSwapbacked).mapping(4, kAnonVma);
  // Tails carry bit 0 in compound_head; on their own they would look anonymous too.
  for (u64 t = 5; t < 8; ++t) sp.mapping(t, kAnonVma);
  PageClassifier pc(layout61(), kDlCache | kDlCachePrivate | kDlFree);
  REQUIRE(run(pc, sp, 0, 8) == repeat(PageClass::kept, 8));

  // A tail whose head lies in an earlier window (not excluded) stays kept on its own.
  PageClassifier tail_only(layout61(), kDlUser);
  REQUIRE(run(tail_only, sp, 6, 2) == repeat(PageClass::kept, 2));
}

TEST_CASE("page_classifier: a compound order the pfn is not aligned to counts as order 0", "[page_classifier]") {
  // Head at pfn 5 claiming order 2 (needs 4-aligned pfn): only the head itself is user data.
  StructPages sp(0, 12);
  sp.compound(5, 2, kTranshugeDtor, kLru | kSwapbacked).mapping(5, kAnonVma);
  sp.mapping(8, kFileMapping);  // an unrelated page after the claimed range
  PageClassifier pc(layout61(), kDlUser);
  std::vector<PageClass> v = run(pc, sp, 0, 12);
  REQUIRE(v[4] == PageClass::kept);
  REQUIRE(v[5] == PageClass::user);
  REQUIRE(v[6] == PageClass::kept);  // tails: kept, no carry-over from a bogus order
  REQUIRE(v[7] == PageClass::kept);
  REQUIRE(v[8] == PageClass::kept);
  REQUIRE(std::count(v.begin(), v.end(), PageClass::user) == 1);

  // An order of 32 or more is garbage too.
  StructPages huge(0, 4);
  huge.compound(0, 1, kTranshugeDtor, kLru | kSwapbacked).mapping(0, kAnonVma);
  std::vector<std::byte> raw(huge.all().begin(), huge.all().end());
  raw[64 + 17] = std::byte{40};  // first tail's compound_order
  PageClassifier pc2(layout61(), kDlUser);
  std::vector<PageClass> v2(4, PageClass::kept);
  pc2.classify(0, raw, v2);
  REQUIRE(v2 == std::vector<PageClass>{PageClass::user, PageClass::kept, PageClass::kept,
                                       PageClass::kept});
}

TEST_CASE("page_classifier: the struct page after the window gives a last head its order", "[page_classifier]") {
  // Hugetlb head (order 2) at pfn 4, the last pfn of its window; tails 5..7 in the next one.
  StructPages head_last(0, 8);
  head_last.compound(4, 2, kHugetlbDtor, 0);

  SECTION("with the next struct page: all four pfns excluded, three by carry-over") {
    PageClassifier pc(layout61(), kDlUser);
    std::vector<PageClass> w1(1, PageClass::kept);
    pc.classify(4, head_last.range(4, 2), w1);  // pfn 4 plus struct page of pfn 5
    REQUIRE(w1[0] == PageClass::user);
    std::vector<PageClass> w2 = run(pc, head_last, 5, 3);
    REQUIRE(w2 == repeat(PageClass::user, 3));
  }
  SECTION("without it the order and destructor are unknown") {
    PageClassifier pc(layout61(), kDlUser);
    std::vector<PageClass> w1(1, PageClass::kept);
    pc.classify(4, head_last.range(4, 1), w1);
    // Hugetlb is known only from the destructor in the first tail, which was not given: kept.
    REQUIRE(w1[0] == PageClass::kept);
    std::vector<PageClass> w2 = run(pc, head_last, 5, 3);
    REQUIRE(w2 == repeat(PageClass::kept, 3));

    // An anonymous head is user data on its own; as order 0, its tails are not carried.
    StructPages anon(0, 8);
    anon.compound(4, 2, kTranshugeDtor, kLru | kSwapbacked).mapping(4, kAnonVma);
    PageClassifier pa(layout61(), kDlUser);
    std::vector<PageClass> a1(1, PageClass::kept);
    pa.classify(4, anon.range(4, 1), a1);
    REQUIRE(a1[0] == PageClass::user);
    REQUIRE(run(pa, anon, 5, 3) == repeat(PageClass::kept, 3));
  }
}

// ---------------------------------------------------------------------------------------------
// Unreadable struct pages and holes

TEST_CASE("page_classifier: skip_unreadable gives unclassified except a carried-over range", "[page_classifier]") {
  StructPages sp(0, 8);
  sp.set_mapcount(6, kBuddy).priv(6, 2);  // free block 6..9, straddling the windows
  PageClassifier pc(layout61(), kDlFree);
  std::vector<PageClass> w1 = run(pc, sp, 0, 8);
  REQUIRE(w1[6] == PageClass::free);
  REQUIRE(w1[7] == PageClass::free);
  std::vector<PageClass> w2(6, PageClass::kept);
  pc.skip_unreadable(8, w2);  // pfns 8..13: no struct pages readable
  REQUIRE(w2 == std::vector<PageClass>{PageClass::free, PageClass::free, PageClass::unclassified,
                                       PageClass::unclassified, PageClass::unclassified,
                                       PageClass::unclassified});

  PageClassifier fresh(layout61(), kDlMax);
  std::vector<PageClass> w3(3, PageClass::kept);
  fresh.skip_unreadable(100, w3);
  REQUIRE(w3 == repeat(PageClass::unclassified, 3));
}

TEST_CASE("page_classifier: a free block carried over an unreadable window ends on time", "[page_classifier]") {
  StructPages sp(0, 16);
  sp.set_mapcount(0, kBuddy).priv(0, 3);  // 0..7
  PageClassifier pc(layout61(), kDlFree);
  std::vector<PageClass> w1 = run(pc, sp, 0, 2);
  REQUIRE(w1 == repeat(PageClass::free, 2));
  std::vector<PageClass> w2(2, PageClass::kept);
  pc.skip_unreadable(2, w2);
  REQUIRE(w2 == repeat(PageClass::free, 2));
  std::vector<PageClass> w3 = run(pc, sp, 4, 6);  // 4..7 still free, 8..9 classified normally
  REQUIRE(w3 == std::vector<PageClass>{PageClass::free, PageClass::free, PageClass::free,
                                       PageClass::free, PageClass::kept, PageClass::kept});
}

TEST_CASE("page_classifier: verdicts already non-kept on entry are left alone", "[page_classifier]") {
  // The caller marks memory holes before classifying (page_classifier.h, classify()).
  StructPages sp(0, 4);
  sp.flags(0, kLru).mapping(0, kFileMapping);
  sp.flags(1, kLru).mapping(1, kFileMapping);
  sp.set_mapcount(2, kBuddy).priv(2, 1);  // would carry over to pfn 3
  PageClassifier pc(layout61(), kDlMax);
  std::vector<PageClass> v{PageClass::kept, PageClass::unclassified, PageClass::unclassified,
                           PageClass::kept};
  pc.classify(0, sp.all(), v);
  REQUIRE(v == std::vector<PageClass>{PageClass::cache, PageClass::unclassified,
                                      PageClass::unclassified, PageClass::kept});
}

// ---------------------------------------------------------------------------------------------
// Later kernels' page_type word

TEST_CASE("page_classifier: Linux 6.12 page types compare on the top byte", "[page_classifier]") {
  // 6.12 exports PGTY_buddy << 24 etc. and keeps other data in the low 24 bits of page_type.
  std::string text = kVmcoreinfo61;
  text.replace(text.find("NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)=-129"), 38,
               "NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)=4026531840");  // 0xf0 << 24
  text += "NUMBER(PAGE_SLAB_MAPCOUNT_VALUE)=4110417920\n";      // 0xf5 << 24
  PageLayout l = layout_of(text);
  REQUIRE(l.buddy_mapcount == std::optional<u32>(0xf0000000u));
  REQUIRE(l.slab_mapcount == std::optional<u32>(0xf5000000u));

  StructPages sp(0, 3);
  sp.set_mapcount(0, static_cast<i32>(0xf0000123u)).priv(0, 0);   // buddy, low bits in use
  sp.set_mapcount(1, static_cast<i32>(0xf5000000u)).mapping(1, kAnonVma);  // slab (no PG_slab)
  sp.set_mapcount(2, static_cast<i32>(0xf1000000u));               // another type: not buddy
  PageClassifier pc(l, kDlMax);
  std::vector<PageClass> v(3, PageClass::kept);
  pc.classify(0, sp.all(), v);
  REQUIRE(v == std::vector<PageClass>{PageClass::free, PageClass::kept, PageClass::kept});
}

// ---------------------------------------------------------------------------------------------
// Linux 7.1: page.compound_head renamed to page.compound_info (commit d50569612c29), in struct
// page and in vmcoreinfo alike

namespace {

// The 6.1 text turned into a 7.1 one: the tail word under its new name, the order in the low byte
// of folio._flags_1, page types in the top byte of page_type (6.10+), no PG_slab.
std::string vmcoreinfo71() {
  std::string text = kVmcoreinfo61;
  auto drop = [&](const std::string& line) {
    size_t at = text.find(line);
    REQUIRE(at != std::string::npos);
    text.erase(at, line.size());
  };
  for (const char* line : {"OSRELEASE=6.1.0-18-amd64\n", "OFFSET(page.compound_head)=8\n",
                           "OFFSET(page.compound_dtor)=16\n", "OFFSET(page.compound_order)=17\n",
                           "NUMBER(PG_slab)=9\n", "NUMBER(HUGETLB_PAGE_DTOR)=2\n",
                           "NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)=-129\n",
                           "NUMBER(PAGE_OFFLINE_MAPCOUNT_VALUE)=-257\n"})
    drop(line);
  return "OSRELEASE=7.1.0-1-amd64\n" + text +
         "OFFSET(page.compound_info)=8\n"
         "OFFSET(folio._flags_1)=64\n"
         "NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)=4026531840\n"    // 0xf0 << 24
         "NUMBER(PAGE_OFFLINE_MAPCOUNT_VALUE)=4043309056\n"  // 0xf1 << 24
         "NUMBER(PAGE_HUGETLB_MAPCOUNT_VALUE)=4093640704\n"  // 0xf4 << 24
         "NUMBER(PAGE_SLAB_MAPCOUNT_VALUE)=4110417920\n";    // 0xf5 << 24
}

constexpr u32 kSlabType71 = 0xf5000000u;

}  // namespace

TEST_CASE("page_classifier: Linux 7.1 names the tail word page.compound_info", "[page_classifier]") {
  PageLayout l = layout_of(vmcoreinfo71());
  REQUIRE(l.off_compound_head == std::optional<u64>(8));
  REQUIRE(l.off_order == std::optional<u64>(0));
  // Both names: the old one wins (no kernel exports both; a tool rewriting vmcoreinfo might).
  PageLayout both = layout_of(vmcoreinfo71() + "OFFSET(page.compound_head)=16\n");
  REQUIRE(both.off_compound_head == std::optional<u64>(16));
}

TEST_CASE("page_classifier: a tail word outside SIZE(page) is corrupt", "[page_classifier]") {
  std::string text = vmcoreinfo71();
  const std::string line = "OFFSET(page.compound_info)=8\n";
  text.replace(text.find(line), line.size(), "OFFSET(page.compound_info)=60\n");
  Result<Vmcoreinfo> vi = Vmcoreinfo::parse(text);
  REQUIRE(vi);
  Result<PageLayout> l = page_layout_from(*vi);
  REQUIRE(!l);
  REQUIRE(l.error().code == Errc::corrupt);
}

TEST_CASE("page_classifier: slab tails are kept and anonymous tails go with their head, in each layout and encoding",
          "[page_classifier]") {
  struct Case {
    const char* name;
    bool linux71;
    TailWord enc;
  };
  // 6.1 only ever wrote the head pointer; 7.1 writes the pointer without HVO, the mask with it.
  for (Case c : {Case{"6.1 compound_head, head pointer", false, TailWord::pointer},
                 Case{"7.1 compound_info, head pointer", true, TailWord::pointer},
                 Case{"7.1 compound_info, mask (HVO, 64-byte struct page)", true, TailWord::mask}}) {
    DYNAMIC_SECTION(c.name) {
      PageLayout l = c.linux71 ? layout_of(vmcoreinfo71()) : layout61();
      StructPages sp(0, 16);
      // A slab folio of order 2 at pfn 4 (kmalloc-16k, say): kernel data in every page.
      sp.compound(4, 2, 0, c.linux71 ? 0 : kSlab, c.enc);
      if (c.linux71) sp.set_mapcount(4, static_cast<i32>(kSlabType71)).byte(5, 0, 2);
      // An anonymous folio of order 2 at pfn 8 (a 16 KiB mTHP).
      sp.compound(8, 2, kTranshugeDtor, kLru | kSwapbacked, c.enc).mapping(8, kAnonVma).set_mapcount(8, 0);
      if (c.linux71) sp.byte(9, 0, 2);
      // Tails reuse the mapping word for folio fields (the first tail's mapcounts, which
      // prep_compound_head() sets to -1, sit there in some kernels): an odd value makes a tail
      // look anonymous when it is classified on its own, as a dumper blind to the tail word does.
      for (u64 t : {5, 6, 7, 9, 10, 11}) sp.mapping(t, kAnonVma);
      PageClassifier pc(l, kDlMax);
      std::vector<PageClass> want = repeat(PageClass::kept, 16);
      for (u64 p = 8; p < 12; ++p) want[p] = PageClass::user;
      REQUIRE(run(pc, sp, 0, 16) == want);
      // A window that starts inside the slab folio (its head decided in the previous window).
      PageClassifier from_tail(l, kDlMax);
      REQUIRE(run(from_tail, sp, 6, 2) == repeat(PageClass::kept, 2));
    }
  }
}

TEST_CASE("page_classifier: a kernel newer than the newest checked gets one warning naming it", "[page_classifier]") {
  REQUIRE(std::string(kNewestCheckedKernel) == "7.2");
  for (const char* ok : {"7.2.13+deb14-amd64", "6.12.57+deb13-amd64", "6.1.0-18-amd64", "5.4.0-150-generic",
                         "6.12", "6.13.0", "7.1.0-1-amd64", "6.9.0-rc1"})
    CHECK(newer_kernel_warning(ok) == std::nullopt);
  for (const char* newer : {"7.3.0-1-amd64", "8.0", "10.2.1-arm64-16k", "7.100"}) {
    std::optional<std::string> w = newer_kernel_warning(newer);
    REQUIRE(w);
    CHECK(w->find(newer) != std::string::npos);
    CHECK(w->find("7.2") != std::string::npos);
    CHECK(w->find('\n') == std::string::npos);  // one line
  }
  // The crashed kernel wrote the release: no control byte of it reaches the terminal.
  std::optional<std::string> esc = newer_kernel_warning("7.3\x1b]0;owned\x07\x1b[2J");
  REQUIRE(esc);
  CHECK(std::none_of(esc->begin(), esc->end(), [](char ch) { return ch >= 0 && ch < 0x20; }));
  CHECK(esc->find("7.3\\x1b]0;owned\\x07\\x1b[2J") != std::string::npos);
  // A release we cannot read is not silently taken as an old one.
  for (const char* odd : {"", "linux", "6", "x.1"}) {
    std::optional<std::string> w = newer_kernel_warning(odd);
    REQUIRE(w);
    CHECK(w->find('\n') == std::string::npos);
  }
}

TEST_CASE("page_classifier: without a folio order offset, 6.9+ reads the order from the first tail's flags",
          "[page_classifier]") {
  // Debian's 7.2.13 (and 6.12) export no folio.* offset in vmcoreinfo; the order is the low byte
  // of the first tail's flags word (folio._flags_1) on kernels with the hugetlb page type.
  std::string text = vmcoreinfo71();
  const std::string line = "OFFSET(folio._flags_1)=64\n";
  text.erase(text.find(line), line.size());
  PageLayout l = layout_of(text);
  REQUIRE(l.off_order == std::optional<u64>(0));
  for (TailWord enc : {TailWord::mask, TailWord::pointer}) {
    StructPages sp(0, 12);
    sp.compound(4, 2, 0, kLru | kSwapbacked, enc).mapping(4, kAnonVma).set_mapcount(4, 0);
    sp.byte(5, 0, 2);  // folio._flags_1 & 0xff
    PageClassifier pc(l, kDlMax);
    std::vector<PageClass> want = repeat(PageClass::kept, 12);
    for (u64 p = 4; p < 8; ++p) want[p] = PageClass::user;
    CHECK(run(pc, sp, 0, 12) == want);
  }
  // Before 6.6 (no PG_hugetlb, no hugetlb page type) the first tail's flags say nothing of it.
  std::string old = kVmcoreinfo61;
  const std::string order_line = "OFFSET(page.compound_order)=17\n";
  old.erase(old.find(order_line), order_line.size());
  REQUIRE(layout_of(old).off_order == std::nullopt);
}
