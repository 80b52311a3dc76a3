#include "dumpfilter/page_selector.h"

#include <algorithm>

#include "dumpfilter/kernel_memory.h"
#include "dumpfilter/memory_plan.h"

namespace kk {

namespace {
// On an unreadable stretch of mem_map, retry in pieces this big so one bad page costs little.
constexpr u64 kRetryPfns = 64;
}  // namespace

Result<Analysis> analyse(const DumpInput& in, int dump_level, std::string* note) {
  Analysis a;
  const Vmcoreinfo& vi = in.vmcoreinfo();
  auto attempt = [&]() -> Result<void> {
    KK_TRY_ASSIGN(KernelMemory km, open_kernel_memory(in));
    a.phys_base = km.phys_base;
    a.kmem = std::move(km.reader);
    KK_TRY_ASSIGN(SparseLayout sl, sparse_layout_from(vi, in.page_size()));
    KK_TRY_ASSIGN(PageLayout pl, page_layout_from(vi));
    a.mem_map = std::make_unique<MemMap>(sl, *a.kmem);
    a.classifier = std::make_unique<PageClassifier>(pl, dump_level);
    if (dump_level & ~kDlZero) a.warning = newer_kernel_warning(vi.osrelease()).value_or("");
    return {};
  };
  Result<void> r = attempt();
  if (!r) {
    if (dump_level & ~kDlZero) return std::move(r).error().context(in.path());
    *note = r.error().msg;
    a.mem_map.reset();
    a.classifier.reset();
  }
  return a;
}

PageSelector::PageSelector(const DumpInput& in, const Analysis& a) : in_(in), a_(a) {}

u64 PageSelector::held_bytes() const { return verdict_.capacity() + pages_.capacity(); }

Result<void> PageSelector::select(u64 w0, u64 w1, std::span<std::byte> bm1, std::span<std::byte> bm2,
                                  SelectionCounts& counts) {
  // Windows come in increasing order; going back means a new walk (the classifier carries
  // multi-page exclusions from one window into the next).
  if (w0 < next_w0_ && a_.classifier) a_.classifier->restart();
  next_w0_ = w1;
  // Buffers for the walk, made at its first window and given back after its last: pass 2 (the
  // writer, the pipeline) then reuses the memory instead of adding to it (issue 20).
  if (verdict_.empty()) {
    verdict_.resize(kWindowPfns);
    u64 struct_size = a_.mem_map ? a_.mem_map->layout().struct_page_size : 0;
    if (a_.classifier) pages_.resize(selector_buffer_bytes(struct_size));
  }
  std::fill(bm1.begin(), bm1.end(), std::byte{0});
  std::fill(bm2.begin(), bm2.end(), std::byte{0});
  for (const PfnRun& run : in_.present_runs(w0, w1)) {
    std::span<PageClass> v(verdict_.data() + (run.start - w0), run.end - run.start);
    std::fill(v.begin(), v.end(), PageClass::kept);
    if (a_.classifier) classify_run(run, v);
    for (u64 pfn = run.start; pfn < run.end; ++pfn) {
      PageClass c = verdict_[pfn - w0];
      set_bit(bm1, pfn - w0);
      ++counts.present;
      if (c == PageClass::kept || c == PageClass::unclassified) {
        set_bit(bm2, pfn - w0);
        ++counts.kept;
        if (c == PageClass::unclassified) ++counts.unclassified;
      } else {
        ++counts.excluded[c];
      }
    }
  }
  if (w1 >= in_.max_pfn()) {
    std::vector<PageClass>().swap(verdict_);
    std::vector<std::byte>().swap(pages_);
  }
  return {};
}

// Classifies one present run, section by section (mem_map is contiguous only inside one), and
// at most kStructChunkPfns struct pages per read (memory_plan.h).
void PageSelector::classify_run(const PfnRun& run, std::span<PageClass> v) {
  const SparseLayout& sl = a_.mem_map->layout();
  u64 pfn = run.start;
  while (pfn < run.end) {
    u64 sec_end = (pfn / sl.pfns_per_section() + 1) * sl.pfns_per_section();
    u64 end = std::min({run.end, sec_end, pfn + kStructChunkPfns});
    std::span<PageClass> part = v.subspan(pfn - run.start, end - pfn);
    // One struct page more than needed, when it exists, to read a compound head's order.
    u64 extra = end < sec_end ? 1 : 0;
    std::span<std::byte> buf = std::span(pages_).first((end - pfn + extra) * sl.struct_page_size);
    Result<bool> got = a_.mem_map->read_struct_pages(pfn, end - pfn + extra, buf);
    if (got && *got) a_.classifier->classify(pfn, buf, part);
    else if (got) a_.classifier->skip_unreadable(pfn, part);  // section without mem_map
    else classify_piecewise(pfn, end, part);  // damaged mem_map: keep what we cannot read
    pfn = end;
  }
}

void PageSelector::classify_piecewise(u64 pfn, u64 end, std::span<PageClass> part) {
  const u64 sz = a_.mem_map->layout().struct_page_size;
  for (u64 p = pfn; p < end; p += kRetryPfns) {
    u64 n = std::min(kRetryPfns, end - p);
    std::span<PageClass> piece = part.subspan(p - pfn, n);
    Result<bool> got = a_.mem_map->read_struct_pages(p, n, std::span(pages_).first(n * sz));
    if (got && *got) a_.classifier->classify(p, std::span(pages_).first(n * sz), piece);
    else a_.classifier->skip_unreadable(p, piece);
  }
}

}  // namespace kk
