#include "dumpfilter/page_classifier.h"

#include <algorithm>

#include "lib/io/escape.h"
#include "lib/io/hex.h"

namespace kk {

std::string_view page_class_name(PageClass c) {
  switch (c) {
    case PageClass::kept: return "kept";
    case PageClass::zero: return "zero";
    case PageClass::cache: return "cache";
    case PageClass::cache_private: return "cache_private";
    case PageClass::user: return "user";
    case PageClass::free: return "free";
    case PageClass::hwpoison: return "hwpoison";
    case PageClass::offline: return "offline";
    case PageClass::unclassified: return "unclassified";
    case PageClass::count_: break;
  }
  return "?";
}

namespace {

constexpr u64 kPageMappingAnon = 1;

std::optional<u64> number_u(const Vmcoreinfo& vi, std::string_view name) {
  std::optional<i64> v = vi.number(name);
  if (!v || *v < 0) return std::nullopt;
  return static_cast<u64>(*v);
}

std::optional<u32> mapcount_value(const Vmcoreinfo& vi, std::string_view name) {
  std::optional<i64> v = vi.number(name);
  if (!v) return std::nullopt;
  return static_cast<u32>(*v);
}

// The mapcount/page_type word: Linux 6.12 keeps the type in the top byte and lets the low 24 bits
// carry other data, so a value with an empty low part is compared on the top byte only.
bool mapcount_is(u32 word, std::optional<u32> value) {
  if (!value) return false;
  if ((*value & 0x00ffffffu) == 0 && (*value >> 24) != 0) return (word >> 24) == (*value >> 24);
  return word == *value;
}

}  // namespace

Result<PageLayout> page_layout_from(const Vmcoreinfo& vi) {
  PageLayout l;
  struct Need {
    u64* dst;
    const char* name;
  };
  KK_TRY_ASSIGN(u64 size, vi.need_size("page"));
  l.struct_size = size;
  for (Need n : {Need{&l.off_flags, "page.flags"}, Need{&l.off_mapping, "page.mapping"},
                 Need{&l.off_mapcount, "page._mapcount"}, Need{&l.off_private, "page.private"}}) {
    KK_TRY_ASSIGN(u64 v, vi.need_offset(n.name));
    *n.dst = v;
  }
  // Linux 7.1 renamed the field and its vmcoreinfo line to compound_info (commit d50569612c29);
  // without it every tail would be classified on its own fields, and the tails of slab and other
  // kernel compound pages, whose words look anonymous, excluded as user data. Its encoding
  // changed with 7.1's commit 8c846c879e22: the head's struct page address | 1 as before, or, with
  // CONFIG_HUGETLB_PAGE_OPTIMIZE_VMEMMAP and a power-of-two SIZE(page), a mask | 1 (bits 63 down
  // to order + log2(SIZE(page)) set; head = tail's struct page address & mask). Bit 0 marks a
  // tail in both, and that is all the classifier needs: a head decides for its whole 2^order
  // range (carried over), and a tail is never decided on its own.
  l.off_compound_head = vi.offset("page.compound_head");
  if (!l.off_compound_head) l.off_compound_head = vi.offset("page.compound_info");
  // The order and destructor live in the first tail page. page.* offsets are relative to that
  // page; folio.* offsets to the head, so one struct page is taken off.
  auto tail_field = [&](const char* page_name, const char* folio_name) -> std::optional<u64> {
    if (auto v = vi.offset(page_name)) return v;
    if (auto v = vi.offset(folio_name); v && *v >= l.struct_size) return *v - l.struct_size;
    return std::nullopt;
  };
  l.off_order = tail_field("page.compound_order", "folio._folio_order");
  if (!l.off_order) l.off_order = tail_field("page.compound_order", "folio._flags_1");
  l.off_dtor = tail_field("page.compound_dtor", "folio._folio_dtor");
  if (auto len = vi.length("zone.free_area")) {
    l.max_order = *len;
    l.have_max_order = true;
  }
  for (Need n : {Need{&l.pg_lru, "PG_lru"}, Need{&l.pg_private, "PG_private"},
                 Need{&l.pg_swapcache, "PG_swapcache"}, Need{&l.pg_head_mask, "PG_head_mask"}}) {
    KK_TRY_ASSIGN(i64 v, vi.need_number(n.name));
    *n.dst = static_cast<u64>(v);
  }
  l.pg_swapbacked = number_u(vi, "PG_swapbacked");
  l.pg_slab = number_u(vi, "PG_slab");
  l.pg_hwpoison = number_u(vi, "PG_hwpoison");
  l.pg_hugetlb = number_u(vi, "PG_hugetlb");
  l.buddy_mapcount = mapcount_value(vi, "PAGE_BUDDY_MAPCOUNT_VALUE");
  l.offline_mapcount = mapcount_value(vi, "PAGE_OFFLINE_MAPCOUNT_VALUE");
  l.slab_mapcount = mapcount_value(vi, "PAGE_SLAB_MAPCOUNT_VALUE");
  l.hugetlb_mapcount = mapcount_value(vi, "PAGE_HUGETLB_MAPCOUNT_VALUE");
  // No order field named (Debian's 6.12 and 7.2 export no folio.* offset): kernels that mark
  // hugetlb by PG_hugetlb (6.6) or by page type (6.9, d99e3140a4d3) keep the order in the low
  // byte of folio._flags_1, the first tail's flags word (folio_large_order()), as makedumpfile
  // reads it too. Little-endian: that byte is the first of the word.
  if (!l.off_order && (l.pg_hugetlb || l.hugetlb_mapcount)) l.off_order = l.off_flags;
  l.hugetlb_dtor = number_u(vi, "HUGETLB_PAGE_DTOR");
  u64 need_end = std::max({l.off_flags, l.off_mapping, l.off_private,
                           l.off_compound_head.value_or(0)}) + 8;
  if (need_end > l.struct_size || l.off_mapcount + 4 > l.struct_size)
    return make_error(Errc::corrupt, "vmcoreinfo: struct page offsets lie outside SIZE(page)");
  return l;
}

namespace {

// "7.1.0-1-amd64" -> {7, 1}; nullopt without digits, a dot and digits at the start.
std::optional<std::pair<u64, u64>> major_minor(std::string_view release) {
  auto number = [&](size_t& at) -> std::optional<u64> {
    size_t start = at;
    u64 v = 0;
    while (at < release.size() && release[at] >= '0' && release[at] <= '9' && at - start < 9)
      v = v * 10 + static_cast<u64>(release[at++] - '0');
    return at > start ? std::optional<u64>(v) : std::nullopt;
  };
  size_t at = 0;
  std::optional<u64> major = number(at);
  if (!major || at >= release.size() || release[at] != '.') return std::nullopt;
  ++at;
  std::optional<u64> minor = number(at);
  if (!minor) return std::nullopt;
  return std::pair{*major, *minor};
}

// The release as the warning shows it: the crashed kernel wrote it, so control bytes are escaped
// (no ESC reaches a terminal), and a runaway string is cut.
std::string shown_release(std::string_view release) {
  if (release.empty()) return "(no OSRELEASE)";
  std::string out = escape_for_terminal(release.substr(0, 64));
  return release.size() > 64 ? out + "..." : out;
}

}  // namespace

std::optional<std::string> newer_kernel_warning(std::string_view osrelease) {
  auto checked = major_minor(kNewestCheckedKernel);
  auto mm = major_minor(osrelease);
  std::string rel = shown_release(osrelease);
  if (!mm)
    return "kernel release " + rel + " unreadable; page classes follow the rules checked up to Linux " +
           kNewestCheckedKernel + " and may be wrong";
  if (checked && *mm <= *checked) return std::nullopt;
  return "kernel " + rel + " is newer than Linux " + kNewestCheckedKernel +
         ", the newest whose page rules were checked: page classes may be wrong";
}

bool PageClassifier::is_slab(u64 flags, u32 mapcount) const {
  if (l_.slab_mapcount) return mapcount_is(mapcount, l_.slab_mapcount);  // 6.10+
  return l_.pg_slab && flag(flags, *l_.pg_slab);
}

bool PageClassifier::is_cache(u64 flags) const {
  if (flag(flags, l_.pg_lru)) return true;
  // PG_swapcache means swap cache only together with PG_swapbacked (Linux 4.10+).
  bool backed = !l_.pg_swapbacked || flag(flags, *l_.pg_swapbacked);
  return backed && flag(flags, l_.pg_swapcache);
}

PageClass PageClassifier::decide(std::span<const std::byte> page, std::span<const std::byte> next,
                                 u64 pfn, u64* nr_pages) const {
  const std::byte* p = page.data();
  u64 flags = load_le<u64>(p + l_.off_flags);
  u64 mapping = load_le<u64>(p + l_.off_mapping);
  u32 mapcount = load_le<u32>(p + l_.off_mapcount);
  u64 priv = load_le<u64>(p + l_.off_private);
  u64 head = l_.off_compound_head ? load_le<u64>(p + *l_.off_compound_head) : 0;

  u64 order = 0;
  u64 dtor = 0;
  bool hugetlb_flag = false;
  if ((flags & l_.pg_head_mask) != 0 && next.size() >= l_.struct_size) {
    if (l_.off_order && *l_.off_order < l_.struct_size) order = u8(next[*l_.off_order]);
    if (l_.off_dtor && *l_.off_dtor < l_.struct_size) dtor = u8(next[*l_.off_dtor]);
    if (l_.pg_hugetlb) hugetlb_flag = flag(load_le<u64>(next.data() + l_.off_flags), *l_.pg_hugetlb);
    // An order that is absurd or that the pfn is not aligned to is garbage: treat as one page.
    if (order >= 32 || (pfn & ((1ull << order) - 1)) != 0) order = 0;
  }
  *nr_pages = 1ull << order;
  bool slab = is_slab(flags, mapcount);
  bool anon = (mapping & kPageMappingAnon) != 0 && !slab;
  bool hugetlb = (l_.hugetlb_dtor && dtor == *l_.hugetlb_dtor && dtor != 0) || hugetlb_flag ||
                 ((flags & l_.pg_head_mask) != 0 && mapcount_is(mapcount, l_.hugetlb_mapcount));

  if (head & 1) return PageClass::kept;  // a tail: excluded with its head, if at all
  if ((level_ & kDlFree) && !slab && mapcount_is(mapcount, l_.buddy_mapcount)) {
    u64 limit = l_.have_max_order ? l_.max_order : 20;
    if (priv >= limit) return PageClass::kept;  // not a believable buddy order
    *nr_pages = 1ull << priv;
    return PageClass::free;
  }
  bool cache = is_cache(flags);
  bool priv_flag = flag(flags, l_.pg_private);
  if ((level_ & kDlCache) && cache && !priv_flag && !anon) return PageClass::cache;
  if ((level_ & kDlCachePrivate) && cache && !anon)
    return priv_flag ? PageClass::cache_private : PageClass::cache;
  if ((level_ & kDlUser) && (anon || hugetlb)) return PageClass::user;
  if (l_.pg_hwpoison && flag(flags, *l_.pg_hwpoison)) return PageClass::hwpoison;
  if (!slab && mapcount_is(mapcount, l_.offline_mapcount)) return PageClass::offline;
  return PageClass::kept;
}

void PageClassifier::classify(u64 first_pfn, std::span<const std::byte> pages,
                              std::span<PageClass> verdict) {
  const u64 sz = l_.struct_size;
  for (size_t i = 0; i < verdict.size(); ++i) {
    u64 pfn = first_pfn + i;
    if (verdict[i] != PageClass::kept) continue;  // a hole the caller marked: not ours
    if (pfn < carry_end_) {
      verdict[i] = carry_class_;
      continue;
    }
    std::span<const std::byte> page = pages.subspan(i * sz, sz);
    std::span<const std::byte> next;
    if ((i + 2) * sz <= pages.size()) next = pages.subspan((i + 1) * sz, sz);
    u64 nr = 1;
    PageClass c = decide(page, next, pfn, &nr);
    verdict[i] = c;
    if (c != PageClass::kept && nr > 1) {
      carry_end_ = pfn + nr;
      carry_class_ = c;
    }
  }
}

void PageClassifier::skip_unreadable(u64 first_pfn, std::span<PageClass> verdict) {
  for (size_t i = 0; i < verdict.size(); ++i)
    verdict[i] = first_pfn + i < carry_end_ ? carry_class_ : PageClass::unclassified;
}

}  // namespace kk
