// page_pipeline.h: pass 2's engine. The caller's job source hands out jobs (runs of kept pfns,
// about kJobBytes each) in pfn order; threads read the pages, apply edits, spot all-zero
// pages and compress, and the caller's consumer gets each job's results in the order the jobs
// were handed out, so the output keeps pfn order. There is no writer thread: whichever thread
// finds the next job in order done writes it. Memory: pipeline_slots(threads) job slots holding
// the stored (compressed) pages (none at one thread when the writer lends its buffer: out_space),
// plus one job's page buffer per thread, whatever the size of the dump.
#pragma once

#include <functional>
#include <vector>

#include "lib/compress/codec.h"
#include "dumpfilter/dump_input.h"

namespace kk {

// 64 KiB of pages a job, whatever the kernel's page size (16 of 4 KiB, 4 of 16 KiB, 1 of 64 KiB):
// a thread's read buffer and a slot of stored pages are ~64 KiB each, and at one thread a job's
// room in the writer's buffer (page_space) is small enough for the writer to keep its writes
// large (kDataChunk) and lend it at every page size. Per-job work is ~0.1 % of the instructions
// at 16 pages.
inline constexpr u64 kJobBytes = u64{64} << 10;

// Pure: how many pages a job holds on a kernel with pages of page_size bytes.
inline constexpr u64 job_pages(u64 page_size) {
  return page_size == 0 || page_size >= kJobBytes ? 1 : kJobBytes / page_size;
}

// Pure: the most bytes `pages` stored pages of page_size take back to back: each advances by less
// than a page (compressed) or one page (raw), plus the codec's worst case beyond a page
// (codec_bound: Codec::bound(page_size), or page_size without a codec) for the last one.
inline constexpr size_t job_room(u64 pages, u64 page_size, size_t codec_bound) {
  return pages * page_size + (codec_bound > page_size ? codec_bound - page_size : 0);
}

// Two slots per thread and one more, so a thread finds a free slot while others wait to be
// written. One thread writes each job before it takes the next: one slot is all it uses, and in
// a capture kernel (nr_cpus=1) every slot it touched would stay resident.
inline constexpr size_t pipeline_slots(int threads) {
  return threads <= 1 ? 1 : 2 * static_cast<size_t>(threads) + 1;
}

struct PageJob {
  std::vector<PfnRun> runs;  // in increasing order
  u64 pages = 0;
};

struct PageResult {
  u64 pfn = 0;
  bool zero = false;
  bool lost = false;                  // the input could not read it (I/O error): nothing stored
  u32 flags = 0;                      // 0: stored raw
  std::span<const std::byte> stored;  // compressed bytes, or the raw page; empty when zero
};

struct PipelineSettings {
  const DumpInput* input = nullptr;
  CodecKind codec = CodecKind::none;  // none: pages stay raw
  u32 codec_flag = 0;                 // what a compressed page's flags say
  int threads = 1;
  // Optional: changes a kept page before it is checked and compressed (--config erase rules).
  std::function<void(u64 pfn, std::span<std::byte> page)> edit;
  // Optional: the writer's room for a job's stored pages (DumpWriter::page_space), asked for
  // with consume() not running. At one thread the pages are stored there in place: no slot of
  // their own, no copy into the writer. With more threads, or when the span is empty, they go to
  // a slot and the room is still asked for before consume(), so the writer writes out at the
  // same pages whatever the thread count.
  std::function<Result<std::span<std::byte>>(size_t n)> out_space;
};

// True when every byte of the page is zero (word-wide, vectorised).
bool page_is_zero(std::span<const std::byte> page);

// next(job) fills the next job and returns false when there is none. consume(results) gets one
// job's pages in pfn order. Both may run on any of the threads, never two calls at once. A page
// the input cannot read (Errc::io: EIO from /proc/vmcore) comes back lost and the rest goes on;
// any other error (compressing, a malformed input, or from consume) stops everything and is
// returned.
Result<void> run_page_pipeline(const PipelineSettings& s, const std::function<bool(PageJob&)>& next,
                               const std::function<Result<void>(std::span<const PageResult>)>& consume);

}  // namespace kk
