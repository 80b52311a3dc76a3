// dump_writer.h: the one writer interface for every output format (kdump-compressed, ELF; either
// into a file or, through FlattenedSink, onto a stream). The dumper drives every writer the same
// way: headers, then the bitmaps of pass 1 window by window, then the kept pages in pfn order.
#pragma once

#include <span>
#include <string_view>
#include <vector>

#include "lib/io/result.h"
#include "lib/io/types.h"

namespace kk {

class DumpWriter {
 public:
  virtual ~DumpWriter() = default;

  // Pages reach add_page() compressed (true) or raw (false).
  virtual bool stores_compressed() const = 0;
  // True when all-zero pages must be known in pass 1 (they change the file's layout).
  virtual bool needs_zero_pages_in_pass1() const = 0;

  virtual Result<void> write_headers() = 0;
  // Pass 1: bitmaps of pfns [first_pfn, first_pfn + 8 * bm1.size()); first_pfn % 8 == 0. bm2
  // marks the pages add_page()/add_zero_page() will be called for, in order; `zero` (same size,
  // only when needs_zero_pages_in_pass1()) marks which of them are all zeros.
  virtual Result<void> add_bitmaps(u64 first_pfn, std::span<const std::byte> bm1,
                                   std::span<const std::byte> bm2,
                                   std::span<const std::byte> zero) = 0;
  virtual Result<void> start_data(u64 dumped_pages) = 0;
  // Pass 2, in pfn order. flags: the kdump-compressed codec flag, 0 for a raw page.
  virtual Result<void> add_page(u64 pfn, std::span<const std::byte> stored, u32 flags) = 0;
  // Where the next pages' stored bytes may be written in place (n bytes at most), so that
  // add_page() of a span starting there, and of each next one back to back, costs no copy. Empty
  // when the writer has no such buffer (the caller keeps its own). The span is valid until the
  // next call into the writer other than add_page() of those bytes; may write out what is
  // buffered to make room.
  virtual Result<std::span<std::byte>> page_space(size_t /*n*/) { return std::span<std::byte>(); }
  virtual Result<void> add_zero_page(u64 pfn) = 0;
  // A kept page the input could not read (EIO): recorded as lost where the format can say so
  // (kdump-compressed: an all-zero descriptor, as for pages a dump that stopped early never
  // wrote), as zeros where it cannot (ELF); either way the dump keeps its "incomplete" mark.
  virtual Result<void> add_lost_page(u64 pfn) = 0;
  // Everything written but the format's "complete" mark: the caller puts the data on the disk
  // (ByteSink::sync) before mark_complete(), so a dump whose data did not reach the disk never
  // says it is complete. The sink is finished by the caller.
  virtual Result<void> finish_data() = 0;
  // Clears the "incomplete" mark (kept when the input stopped early or pages were lost).
  virtual Result<void> mark_complete() = 0;
  Result<void> finish() {
    KK_TRY(finish_data());
    return mark_complete();
  }
  virtual u64 bytes_end() const = 0;  // size of the dump file
  // After the last page: --config's eraseinfo text where the format keeps it (kdump-compressed:
  // after the pages; ELF: into the note reserved before them). A --split set keeps none.
  virtual Result<void> write_eraseinfo(std::string_view /*text*/) { return {}; }
  // --split: how many files share the pages (1: not split), and after pass 1 the pfn bounds of
  // each file's range (parts() + 1 of them) with the kept pages in each.
  virtual size_t parts() const { return 1; }
  virtual void set_ranges(const std::vector<u64>& /*bounds*/, const std::vector<u64>& /*kept*/) {}

  // How much of a dump that stopped early is on disk: pages whose data and descriptor (or
  // program header) were written, of the pages pass 1 planned.
  struct Saved {
    u64 pages = 0;
    u64 planned = 0;
  };
  // The dump stopped (full disk, I/O error, signal): write out what is buffered if the output
  // still takes it, and leave the header saying "incomplete" (it says so from the start, so a
  // SIGKILL leaves the same). Best effort: errors here are ignored, the first one is reported.
  // After finish_data() too: it puts the mark back on a dump whose publishing failed.
  virtual Saved stop_early() = 0;
};

}  // namespace kk
