// writer_split.h: --split. One kdump-compressed file per pfn range, each a valid dump with the
// whole bitmaps and the pages of its range only, so crash opens the set and --reassemble joins
// it. Ranges hold about equal numbers of kept pages; the dumper picks them after pass 1.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "dumpfilter/writer_diskdump.h"

namespace kk {

// Pure: splits kept pages into `parts` ranges of about equal counts. kept_before(pfn) answers
// "how many kept pages below pfn" (monotonic); the result has parts + 1 boundaries, the first 0
// and the last max_pfn.
std::vector<u64> split_boundaries(u64 max_pfn, u64 kept_total, size_t parts,
                                  const std::function<u64(u64)>& kept_before);

class SplitWriter final : public DumpWriter {
 public:
  // One sink per file; each meta's start/end_pfn say its range (set with set_ranges()).
  SplitWriter(std::vector<ByteSink*> sinks, const DiskdumpMeta& meta);
  // Before start_data(): the ranges (boundaries as split_boundaries() gives them) and how many
  // kept pages each holds.
  void set_ranges(const std::vector<u64>& bounds, const std::vector<u64>& kept_per_range) override;
  size_t parts() const override { return parts_.size(); }

  bool stores_compressed() const override { return meta_.codec != CodecKind::none; }
  bool needs_zero_pages_in_pass1() const override { return false; }
  Result<void> write_headers() override;
  Result<void> add_bitmaps(u64 first_pfn, std::span<const std::byte> bm1,
                           std::span<const std::byte> bm2, std::span<const std::byte> zero) override;
  Result<void> start_data(u64 dumped_pages) override;
  Result<void> add_page(u64 pfn, std::span<const std::byte> stored, u32 flags) override;
  Result<void> add_zero_page(u64 pfn) override;
  Result<void> add_lost_page(u64 pfn) override;
  Result<void> finish_data() override;
  Result<void> mark_complete() override;
  u64 bytes_end() const override;  // all files together
  Saved stop_early() override;     // every file flagged; pages summed over the set

 private:
  DiskdumpWriter& part_for(u64 pfn);

  std::vector<ByteSink*> sinks_;
  DiskdumpMeta meta_;
  std::vector<u64> bounds_, kept_;
  std::vector<std::unique_ptr<DiskdumpWriter>> parts_;
  size_t cur_ = 0;
};

}  // namespace kk
