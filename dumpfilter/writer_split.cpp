#include "dumpfilter/writer_split.h"

namespace kk {

std::vector<u64> split_boundaries(u64 max_pfn, u64 kept_total, size_t parts,
                                  const std::function<u64(u64)>& kept_before) {
  std::vector<u64> b{0};
  for (size_t i = 1; i < parts; ++i) {
    u64 target = kept_total * i / parts;
    // The smallest pfn with target kept pages below it.
    u64 lo = b.back(), hi = max_pfn;
    while (lo < hi) {
      u64 mid = lo + (hi - lo) / 2;
      if (kept_before(mid) >= target) hi = mid;
      else lo = mid + 1;
    }
    b.push_back(lo);
  }
  b.push_back(max_pfn);
  return b;
}

SplitWriter::SplitWriter(std::vector<ByteSink*> sinks, const DiskdumpMeta& meta)
    : sinks_(std::move(sinks)), meta_(meta) {
  for (size_t i = 0; i < sinks_.size(); ++i) {
    DiskdumpMeta m = meta_;
    m.split = true;
    m.start_pfn = 0;
    m.end_pfn = meta_.max_pfn;
    parts_.push_back(std::make_unique<DiskdumpWriter>(*sinks_[i], m));
  }
}

void SplitWriter::set_ranges(const std::vector<u64>& bounds, const std::vector<u64>& kept_per_range) {
  bounds_ = bounds;
  kept_ = kept_per_range;
  for (size_t i = 0; i < parts_.size(); ++i) parts_[i]->set_range(bounds_[i], bounds_[i + 1]);
}

Result<void> SplitWriter::write_headers() {
  for (auto& p : parts_) KK_TRY(p->write_headers());
  return {};
}

Result<void> SplitWriter::add_bitmaps(u64 first_pfn, std::span<const std::byte> bm1,
                                      std::span<const std::byte> bm2, std::span<const std::byte> zero) {
  for (auto& p : parts_) KK_TRY(p->add_bitmaps(first_pfn, bm1, bm2, zero));
  return {};
}

Result<void> SplitWriter::start_data(u64 dumped_pages) {
  if (bounds_.size() != parts_.size() + 1 || kept_.size() != parts_.size())
    return make_error(Errc::corrupt, "split writer: ranges not set before the data");
  u64 sum = 0;
  for (u64 k : kept_) sum += k;
  if (sum != dumped_pages)
    return make_error(Errc::corrupt, "split writer: ranges hold " + std::to_string(sum) + " of " +
                                         std::to_string(dumped_pages) + " pages");
  for (size_t i = 0; i < parts_.size(); ++i) {
    KK_TRY(parts_[i]->write_headers());  // again: now with the range in the sub-header
    KK_TRY(parts_[i]->start_data(kept_[i]));
  }
  return {};
}

DiskdumpWriter& SplitWriter::part_for(u64 pfn) {
  while (cur_ + 1 < parts_.size() && pfn >= bounds_[cur_ + 1]) ++cur_;
  return *parts_[cur_];
}

Result<void> SplitWriter::add_page(u64 pfn, std::span<const std::byte> stored, u32 flags) {
  return part_for(pfn).add_page(pfn, stored, flags);
}

Result<void> SplitWriter::add_zero_page(u64 pfn) { return part_for(pfn).add_zero_page(pfn); }

Result<void> SplitWriter::add_lost_page(u64 pfn) { return part_for(pfn).add_lost_page(pfn); }

Result<void> SplitWriter::finish_data() {
  for (auto& p : parts_) KK_TRY(p->finish_data());
  return {};
}

Result<void> SplitWriter::mark_complete() {
  for (auto& p : parts_) KK_TRY(p->mark_complete());
  return {};
}

u64 SplitWriter::bytes_end() const {
  u64 n = 0;
  for (const auto& p : parts_) n += p->bytes_end();
  return n;
}

DumpWriter::Saved SplitWriter::stop_early() {
  Saved all;
  for (auto& p : parts_) {
    Saved s = p->stop_early();
    all.pages += s.pages;
    all.planned += s.planned;
  }
  return all;
}

}  // namespace kk
