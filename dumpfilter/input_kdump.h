// input_kdump.h: kdump-compressed dumps as input (ours and makedumpfile's, header versions 1 to 6,
// every codec; one piece of a --split set too), so a dump can be re-filtered, reported on or
// reassembled on the host.
//
// A page is present when the 2nd bitmap has it (the 1st says only what the crashed machine had).
// Its page_desc is the n-th in the file, n = dumped pages before it in this file's pfn range, so
// the reader keeps one count per window of kKdumpWindowPfns pfns (8 bytes per 128 MiB of the
// crashed machine's address space: 64 KiB per TiB) and reads the bitmap a window at a time; it
// never holds a whole bitmap or a page index.
#pragma once

#include <cstring>
#include <memory>
#include <mutex>
#include <vector>

#include "lib/compress/codec.h"
#include "dumpfilter/diskdump_format.h"
#include "dumpfilter/dump_input.h"
#include "dumpfilter/input_source.h"

namespace kk {

inline constexpr u64 kKdumpWindowPfns = 32768;  // 4 KiB of bitmap

// What the two headers say, checked against the file size. Offsets are in bytes.
struct KdumpLayout {
  int version = 0;
  u32 status = 0;
  u64 block_size = 0;  // the page size
  diskdump::NewUtsname utsname{};
  i64 tv_sec = 0, tv_usec = 0;
  int header_nr_cpus = 0;
  u64 max_mapnr = 0;
  u64 sub_hdr_blocks = 0, bitmap_blocks = 0;
  u64 bitmap1_offset = 0, bitmap2_offset = 0, bitmap_bytes = 0;  // each bitmap
  u64 desc_offset = 0;
  u64 phys_base = 0;
  int dump_level = 0;
  bool split = false;
  u64 start_pfn = 0, end_pfn = 0;  // the pfns whose pages this file holds; all of them unless split
  u64 vmcoreinfo_offset = 0, vmcoreinfo_size = 0;  // version 3 and later
  u64 note_offset = 0, note_size = 0;              // version 4 and later
  u64 eraseinfo_offset = 0, eraseinfo_size = 0;    // version 5 and later

  bool incomplete() const { return status & diskdump::kIncomplete; }
};

// Inline for the reason is_flattened_signature is.
inline bool is_kdump_signature(std::span<const std::byte> first_bytes) {
  return first_bytes.size() >= 8 && std::memcmp(first_bytes.data(), diskdump::kSignature, 8) == 0;
}
// Reads and checks both headers. Errors name src.path().
Result<KdumpLayout> read_kdump_layout(const ByteSource& src);

class KdumpInput final : public DumpInput {
 public:
  static Result<std::unique_ptr<KdumpInput>> open(std::unique_ptr<ByteSource> src);

  const std::string& path() const override { return src_->path(); }
  Arch arch() const override { return arch_; }
  u64 page_size() const override { return layout_.block_size; }
  u64 max_pfn() const override { return layout_.max_mapnr; }
  std::vector<PfnRun> present_runs(u64 lo, u64 hi) const override;
  Result<void> read_pages(u64 pfn, u64 count, std::span<std::byte> out) const override;
  Result<void> read_phys(u64 paddr, std::span<std::byte> out) const override;
  std::span<const std::byte> note_bytes() const override { return notes_; }
  u64 vmcoreinfo_offset_in_notes() const override { return vmcoreinfo_pos_; }
  u64 vmcoreinfo_size() const override { return vmcoreinfo_size_; }
  const Vmcoreinfo& vmcoreinfo() const override { return vmcoreinfo_; }
  int nr_cpus() const override { return nr_cpus_; }

  const KdumpLayout& layout() const { return layout_; }
  const ByteSource& source() const { return *src_; }
  // True when the header says the dump stopped early; pages past the last usable page_desc are
  // then absent rather than errors.
  bool incomplete() const override { return layout_.incomplete(); }
  u64 dumped_pages() const { return total_descs_; }  // page_descs in this file (bitmap count)
  u64 usable_pages() const { return usable_descs_; }
  // The raw bytes of the 2nd bitmap for pfns [pfn, pfn + 8 * out.size()), pfn a multiple of 8.
  Result<void> read_bitmap2(u64 pfn, std::span<std::byte> out) const;
  Result<diskdump::PageDesc> read_desc(u64 index) const;

 private:
  explicit KdumpInput(std::unique_ptr<ByteSource> src) : src_(std::move(src)) {}
  Result<void> load_notes();
  Result<void> count_windows();
  Result<void> find_usable_end();
  u64 limit_pfn() const { return std::min(layout_.end_pfn, usable_end_pfn_); }
  Result<void> decode_page(u64 pfn, const diskdump::PageDesc& d, std::span<std::byte> scratch,
                           std::span<std::byte> out) const;
  Result<void> read_page_cached(u64 pfn, std::span<std::byte> out) const;

  std::unique_ptr<ByteSource> src_;
  KdumpLayout layout_;
  Arch arch_ = Arch::x86_64;
  std::vector<u64> window_base_;  // dumped pages in [start_pfn, w * kKdumpWindowPfns)
  u64 total_descs_ = 0;
  u64 usable_descs_ = 0;
  u64 usable_end_pfn_ = 0;  // pfns from here on have no usable page_desc (incomplete dumps)
  std::vector<std::byte> notes_;
  u64 vmcoreinfo_pos_ = 0, vmcoreinfo_size_ = 0;
  Vmcoreinfo vmcoreinfo_;
  int nr_cpus_ = 0;

  // Decompressors, one per concurrent reader (a Codec belongs to one thread at a time).
  mutable std::mutex pool_mu_;
  mutable std::vector<std::unique_ptr<Codec>> pool_[5];
  // Small reads (page-table walks, struct page) hit the same pages again: keep the last few.
  struct CachedPage {
    u64 pfn = ~0ull;
    std::vector<std::byte> bytes;
  };
  mutable std::mutex cache_mu_;
  mutable std::array<CachedPage, 8> cache_;
  mutable unsigned cache_next_ = 0;
};

}  // namespace kk
