// writer_diskdump.h: kdump-compressed output. The file is: header block, sub-header block(s) with
// the notes, the 1st bitmap (pages that exist), the 2nd bitmap (pages dumped), one page_desc per
// dumped page, then the page data. Descriptors come before data, so the number of dumped pages must
// be known first: the dumper classifies everything (writing both bitmaps), then copies pages.
#pragma once

#include <string>
#include <vector>

#include "lib/compress/codec.h"
#include "dumpfilter/diskdump_format.h"
#include "dumpfilter/dump_writer.h"
#include "dumpfilter/output_buffer.h"
#include "lib/io/sink.h"

namespace kk {

struct DiskdumpLayout {
  u64 block_size = 4096;
  u64 sub_hdr_blocks = 0;
  u64 bitmap_bytes = 0;   // one bitmap, block-aligned
  u64 bitmap1_offset = 0;
  u64 bitmap2_offset = 0;
  u64 desc_offset = 0;
  u64 data_offset = 0;    // first page data byte; valid once the dumped count is set
};

// Pure: where everything goes for a dump of max_pfn pages with the given note size.
DiskdumpLayout plan_diskdump_layout(u64 block_size, u64 note_size, u64 max_pfn);

struct DiskdumpMeta {
  diskdump::NewUtsname utsname{};
  i64 tv_sec = 0, tv_usec = 0;
  int nr_cpus = 1;
  u64 block_size = 4096;
  u64 max_pfn = 0;
  u64 phys_base = 0;
  int dump_level = 0;
  CodecKind codec = CodecKind::zlib;
  std::span<const std::byte> notes;
  u64 vmcoreinfo_pos = 0;  // in notes
  u64 vmcoreinfo_size = 0;
  // One file of a --split set: it holds the pages of pfns [start_pfn, end_pfn) only (both
  // bitmaps stay whole, as readers of split sets expect).
  bool split = false;
  u64 start_pfn = 0, end_pfn = 0;
  // Made from an input that stopped early: the finished dump keeps the incomplete flag.
  bool input_incomplete = false;
};

class DiskdumpWriter final : public DumpWriter {
 public:
  // Page data per write. In a capture kernel every buffered byte is resident; on ext4 writes of
  // 60-128 KiB cost ~10 % more wall time at -l -d 1 than writes of 125-256 KiB, and 190 KiB
  // (one thread: 125-190 KiB, page_space) cost nothing measurable (bench/README.md, issue 20).
  static constexpr size_t kDataChunk = 192u << 10;
  static constexpr size_t kDescChunk = 32u << 10;   // 1365 page descriptors per write

  DiskdumpWriter(ByteSink& out, const DiskdumpMeta& meta);
  const DiskdumpLayout& layout() const { return layout_; }

  bool stores_compressed() const override { return meta_.codec != CodecKind::none; }
  bool needs_zero_pages_in_pass1() const override { return false; }  // one shared zero block
  // Writes header and sub-header with the notes (status says incomplete until finish()).
  Result<void> write_headers() override;
  Result<void> add_bitmaps(u64 first_pfn, std::span<const std::byte> bm1,
                           std::span<const std::byte> bm2, std::span<const std::byte> zero = {}) override;
  // After the bitmaps: fixes where data starts and writes the shared zero page.
  Result<void> start_data(u64 dumped_pages) override;
  // `stored` is the compressed form, or the raw page when flags == 0.
  Result<void> add_page(u64 pfn, std::span<const std::byte> stored, u32 flags) override;
  // Room at the end of the data buffer (written out first if the n bytes do not fit).
  Result<std::span<std::byte>> page_space(size_t n) override;
  Result<void> add_zero_page(u64 pfn) override;
  Result<void> add_lost_page(u64 pfn) override;
  Result<void> flush();
  // After the last page: makedumpfile's eraseinfo text (erase_plan.h) after the page data, and its
  // place in the sub-header (offset_eraseinfo, size_eraseinfo), as crash's `help -D` reads it.
  Result<void> write_eraseinfo(std::string_view text) override;
  // Flushes and gives the buffers' memory back; mark_complete() then writes the final status
  // (incomplete flag cleared).
  Result<void> finish_data() override;
  Result<void> mark_complete() override;
  u64 bytes_end() const override { return data_end_; }
  Saved stop_early() override;
  u64 pages_written() const { return written_; }
  // Bytes the data and descriptor buffers hold (their capacity).
  size_t buffered_capacity() const { return data_.capacity() + desc_.capacity(); }
  // --split: the pfn range this file holds (written by the next write_headers()).
  void set_range(u64 start_pfn, u64 end_pfn) {
    meta_.start_pfn = start_pfn;
    meta_.end_pfn = end_pfn;
  }

 private:
  Result<void> write_header(u32 status);
  Result<void> put_desc(const diskdump::PageDesc& d);

  ByteSink& out_;
  DiskdumpMeta meta_;
  DiskdumpLayout layout_;
  u64 dumped_ = 0;
  u64 written_ = 0;
  diskdump::PageDesc zero_desc_{};
  u64 data_end_ = 0;
  bool lost_ = false;  // a page was unreadable: the dump stays flagged incomplete
  // Bounded buffers, written out when either is full, or before a job's pages that would not fit
  // (page_space): in a capture kernel every byte of them is resident (bench/README.md).
  OutputBuffer desc_{kDescChunk};
  OutputBuffer data_{kDataChunk};
};

}  // namespace kk
