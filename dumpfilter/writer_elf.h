// writer_elf.h: -E. An ELF64 core with the notes and one PT_LOAD per piece of kept memory: a
// run of consecutive kept pages whose all-zero pages (with -d bit 1) come only at its end, where
// p_memsz > p_filesz makes them read as zeros without storing them; pieces are cut where the
// input's own segments begin and end, so virtual addresses (the kernel-text mapping crash derives
// phys_base from, the direct map) carry over. A page that two input segments cover (kernel text
// inside System RAM) is stored once and both program headers point at it. Program headers are
// counted in pass 1 and written in pass 2 as the data streams out; the ELF header is rewritten by
// mark_complete(), and until then e_flags holds makedumpfile's "incomplete" bit. ELF cannot mark
// one page lost inside a segment: a page the input could not read is stored as zeros and e_flags
// keeps the "incomplete" bit (the --report lists the lost pfn ranges).
#pragma once

#include <functional>
#include <string_view>
#include <vector>

#include "dumpfilter/dump_writer.h"
#include "dumpfilter/output_buffer.h"
#include "lib/elf/elf_core.h"
#include "lib/io/sink.h"

namespace kk {

inline constexpr u32 kElfDumpIncomplete = 0x1;  // e_flags of a dump that stopped early

struct ElfPiece {
  u64 paddr = 0, vaddr = 0, filesz = 0, memsz = 0, offset = 0;
};

// Turns the kept pfns, in order, into ELF pieces. Pure: used to count (pass 1) and to emit
// (pass 2) with the same result.
class ElfPieceTracker {
 public:
  ElfPieceTracker(std::vector<LoadSegment> segments, u64 page_size,
                  std::function<Result<void>(const ElfPiece&)> emit);
  // Kept pfns in increasing order. A zero page has no data; a data page's bytes are at
  // data_offset (ignored when counting).
  Result<void> add(u64 pfn, bool zero, u64 data_offset);
  Result<void> close();  // the last run

 private:
  std::vector<LoadSegment> segs_;  // sorted by paddr; may overlap
  u64 ps_;
  std::function<Result<void>(const ElfPiece&)> emit_;
  bool open_ = false;
  u64 run_start_ = 0, run_end_ = 0, data_end_ = 0, run_offset_ = 0;  // pfns; data: [start, data_end)
  size_t first_seg_ = 0;  // segments ending before the current run are done
};

struct ElfMeta {
  u16 machine = kEmX86_64;
  u64 page_size = 4096;
  std::span<const std::byte> notes;
  std::vector<LoadSegment> segments;  // the input's memory map, kernel text included
  bool exclude_zero = false;          // -d with bit 1: zero pages get no data and no header
  bool input_incomplete = false;      // made from a dump that stopped early: stays flagged
  // --config: room for an "ERASEINFO" note after the notes, as makedumpfile -E reserves it (the
  // text is known only after the pages; unused room stays zero). 0: no such note.
  u64 eraseinfo_reserve = 0;
};

class ElfWriter final : public DumpWriter {
 public:
  ElfWriter(ByteSink& out, ElfMeta meta);

  bool stores_compressed() const override { return false; }
  bool needs_zero_pages_in_pass1() const override { return meta_.exclude_zero; }
  Result<void> write_headers() override;
  Result<void> add_bitmaps(u64 first_pfn, std::span<const std::byte> bm1,
                           std::span<const std::byte> bm2, std::span<const std::byte> zero) override;
  Result<void> start_data(u64 dumped_pages) override;
  Result<void> add_page(u64 pfn, std::span<const std::byte> stored, u32 flags) override;
  Result<void> add_zero_page(u64 pfn) override;
  Result<void> add_lost_page(u64 pfn) override;
  Result<void> finish_data() override;
  Result<void> mark_complete() override;
  // After the pages: the eraseinfo text (erase_plan.h) into the reserved note.
  Result<void> write_eraseinfo(std::string_view text) override;
  u64 bytes_end() const override { return data_end_; }
  Saved stop_early() override;
  u64 load_headers() const { return planned_; }

 private:
  Result<void> write_ehdr(u32 flags);
  Result<void> flush();
  Result<void> flush_buffers();
  Result<void> put_phdr(const ElfPiece& p);

  ByteSink& out_;
  ElfMeta meta_;
  ElfPieceTracker counter_;
  ElfPieceTracker tracker_;
  u64 planned_ = 0;  // PT_LOADs counted in pass 1
  u64 emitted_ = 0;
  u64 planned_pages_ = 0, pages_added_ = 0, pages_flushed_ = 0;  // for stop_early()
  u64 phoff_ = 0, shoff_ = 0, note_off_ = 0, data_off_ = 0;
  u64 eraseinfo_off_ = 0;  // the ERASEINFO note's text, when reserved
  u64 data_end_ = 0;
  bool lost_ = false;  // a page was unreadable: e_flags keeps the incomplete bit
  OutputBuffer data_;
  OutputBuffer phdrs_;
  std::vector<std::byte> zero_;
};

}  // namespace kk
