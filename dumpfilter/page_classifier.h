// page_classifier.h: decides from struct page contents which pages a dump level excludes, with
// the rules of makedumpfile 1.7.x for kernels 5.4 to 6.12 so that the same input keeps the same
// pages, and Linux 7.1's renamed tail word (page.compound_info) as the kernel defines it. Pure:
// struct page bytes in, one verdict per pfn out. A page that cannot be proven excludable is kept.
#pragma once

#include <array>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "lib/io/result.h"
#include "lib/kernel/vmcoreinfo.h"

namespace kk {

// -d bits.
inline constexpr int kDlZero = 1;
inline constexpr int kDlCache = 2;
inline constexpr int kDlCachePrivate = 4;
inline constexpr int kDlUser = 8;
inline constexpr int kDlFree = 16;
inline constexpr int kDlMax = 31;

enum class PageClass : u8 {
  kept = 0,
  zero,           // found while copying, not here
  cache,          // page cache without private data
  cache_private,  // page cache with PG_private
  user,           // anonymous or hugetlbfs
  free,           // buddy allocator
  hwpoison,       // always excluded
  offline,        // logically offline (balloon, memory hotplug), always excluded
  unclassified,   // no struct page could be read: kept
  count_
};
inline constexpr size_t kPageClassCount = static_cast<size_t>(PageClass::count_);
std::string_view page_class_name(PageClass c);

// Where the fields are and what the flag bits mean, from vmcoreinfo.
struct PageLayout {
  u64 struct_size = 64;
  u64 off_flags = 0;
  u64 off_mapping = 24;
  u64 off_mapcount = 48;
  u64 off_private = 40;
  // The tail word: page.compound_head, page.compound_info from Linux 7.1. Bit 0 marks a tail in
  // every encoding the kernel has used (see page_layout_from); nothing else in it is read.
  std::optional<u64> off_compound_head;
  // In the first tail page (the struct page after the head):
  std::optional<u64> off_order;   // page.compound_order / folio._folio_order / folio._flags_1 byte
  std::optional<u64> off_dtor;    // page.compound_dtor / folio._folio_dtor
  u64 max_order = 11;             // LENGTH(zone.free_area): buddy orders are below this
  bool have_max_order = false;

  u64 pg_lru = 0, pg_private = 0, pg_swapcache = 0, pg_head_mask = 0;
  std::optional<u64> pg_swapbacked, pg_slab, pg_hwpoison;
  std::optional<u32> buddy_mapcount, offline_mapcount, slab_mapcount, hugetlb_mapcount;
  std::optional<u64> hugetlb_dtor;
  std::optional<u64> pg_hugetlb;  // 6.6 .. 6.8: flag in the first tail page's flags
};

Result<PageLayout> page_layout_from(const Vmcoreinfo& vi);

// The newest kernel release (major.minor) whose page rules here were checked: against its source
// (mm/, include/linux/page-flags.h, kernel/vmcore_info.c) up to 6.12, and for 7.2 by the suite's
// kernel matrix (tests/integration/kernel_matrix.sh: page sets per -d bit against makedumpfile,
// and drgn answering the same on our -d 31 dump as on the whole vmcore). Newer kernels are dumped
// with a warning.
inline constexpr const char* kNewestCheckedKernel = "7.2";

// One line (no newline) for a kernel newer than kNewestCheckedKernel, or whose release (vmcoreinfo
// OSRELEASE) has no readable "major.minor"; nullopt for a kernel the rules were checked on.
std::optional<std::string> newer_kernel_warning(std::string_view osrelease);

struct ClassCounts {
  std::array<u64, kPageClassCount> n{};
  u64& operator[](PageClass c) { return n[static_cast<size_t>(c)]; }
  u64 operator[](PageClass c) const { return n[static_cast<size_t>(c)]; }
  void add(const ClassCounts& o) {
    for (size_t i = 0; i < n.size(); ++i) n[i] += o.n[i];
  }
};

// Walks pfns in increasing order, window after window. Multi-page exclusions (a free block of
// order k, an excluded compound page) may run past the window: the classifier carries them over.
class PageClassifier {
 public:
  PageClassifier(PageLayout layout, int dump_level) : l_(layout), level_(dump_level) {}

  // pages: the struct pages of pfns [first_pfn, first_pfn + verdict.size()), plus optionally the
  // next struct page (to read a compound head's order at the end of the window). Pfns whose verdict
  // is already non-kept on entry (memory holes marked by the caller) are left alone.
  // Returns nothing: every verdict is written into `verdict`.
  void classify(u64 first_pfn, std::span<const std::byte> pages, std::span<PageClass> verdict);

  // Back to pfn 0 for another walk (pass 2 classifying again): forgets the carry-over.
  void restart() {
    carry_end_ = 0;
    carry_class_ = PageClass::kept;
  }

  // For pfns whose struct pages could not be read: applies a pending carry-over, keeps the rest.
  void skip_unreadable(u64 first_pfn, std::span<PageClass> verdict);

 private:
  PageClass decide(std::span<const std::byte> page, std::span<const std::byte> next, u64 pfn,
                   u64* nr_pages) const;
  bool flag(u64 flags, u64 bit) const { return bit < 64 && (flags >> bit) & 1; }
  bool is_slab(u64 flags, u32 mapcount) const;
  bool is_cache(u64 flags) const;

  PageLayout l_;
  int level_;
  u64 carry_end_ = 0;  // pfns below this are excluded as carry_class_
  PageClass carry_class_ = PageClass::kept;
};

}  // namespace kk
