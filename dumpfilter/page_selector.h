// page_selector.h: which pages a dump keeps, one window of pfns at a time. The verdicts come from
// the crashed kernel's mem_map (struct page), never from page contents; windows bound the memory
// (one window of struct pages and its two bitmaps) whatever the size of the crashed machine.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "dumpfilter/dump_input.h"
#include "dumpfilter/kernel_reader.h"
#include "dumpfilter/mem_map.h"
#include "dumpfilter/page_classifier.h"
#include "lib/io/bitmap.h"

namespace kk {

// 32768 pfns: one 128 MiB x86_64 section, 2 MiB of struct pages, 4 KiB of each bitmap.
inline constexpr u64 kWindowPfns = 32768;

// What a classification adds up to.
struct SelectionCounts {
  u64 present = 0;
  u64 kept = 0;          // 2nd bitmap bits
  u64 unclassified = 0;  // kept because their struct page was unreadable
  ClassCounts excluded;
};

// The crashed kernel as the classifier needs it. Without a classifier (a kernel we cannot
// analyse at -d 0/1) every present page is kept.
struct Analysis {
  std::unique_ptr<KernelReader> kmem;
  std::unique_ptr<MemMap> mem_map;
  std::unique_ptr<PageClassifier> classifier;
  u64 phys_base = 0;
  // Set when pages are classified for a kernel newer than kNewestCheckedKernel: one line, shown
  // by the caller before the dump starts (the dump still proceeds).
  std::string warning;
};

// Sets up translation and the classifier. At -d 0/1 a kernel we cannot analyse is still dumped
// whole (`note` says why); any higher level needs the analysis and its errors are fatal.
Result<Analysis> analyse(const DumpInput& in, int dump_level, std::string* note);

class PageSelector {
 public:
  PageSelector(const DumpInput& in, const Analysis& a);
  // Bitmaps for pfns [w0, w1), w0 % 8 == 0, w1 - w0 <= kWindowPfns: bm1 present, bm2 kept.
  // Each must hold (w1 - w0 + 7) / 8 bytes; they are overwritten.
  Result<void> select(u64 w0, u64 w1, std::span<std::byte> bm1, std::span<std::byte> bm2,
                      SelectionCounts& counts);
  // Bytes of buffers held: none before the first window nor after the one that ends at max_pfn.
  u64 held_bytes() const;

 private:
  void classify_run(const PfnRun& run, std::span<PageClass> v);
  void classify_piecewise(u64 pfn, u64 end, std::span<PageClass> part);

  const DumpInput& in_;
  const Analysis& a_;
  u64 next_w0_ = 0;
  std::vector<PageClass> verdict_;
  std::vector<std::byte> pages_;
};

}  // namespace kk
