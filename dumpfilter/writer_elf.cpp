#include "dumpfilter/writer_elf.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "lib/elf/elf_core_build.h"

namespace kk {

namespace {
std::vector<LoadSegment> sorted(std::vector<LoadSegment> s) {
  std::erase_if(s, [](const LoadSegment& x) { return x.memsz == 0; });
  std::stable_sort(s.begin(), s.end(),
                   [](const LoadSegment& a, const LoadSegment& b) { return a.paddr < b.paddr; });
  return s;
}
}  // namespace

ElfPieceTracker::ElfPieceTracker(std::vector<LoadSegment> segments, u64 page_size,
                                 std::function<Result<void>(const ElfPiece&)> emit)
    : segs_(sorted(std::move(segments))), ps_(page_size), emit_(std::move(emit)) {}

Result<void> ElfPieceTracker::add(u64 pfn, bool zero, u64 data_offset) {
  // A data page after the zero tail, or after a gap, starts a new piece.
  bool extends = open_ && pfn == run_end_ && (zero || data_end_ == run_end_);
  if (!extends) {
    KK_TRY(close());
    open_ = true;
    run_start_ = data_end_ = pfn;
    run_offset_ = data_offset;
  }
  run_end_ = pfn + 1;
  if (!zero) data_end_ = pfn + 1;
  return {};
}

Result<void> ElfPieceTracker::close() {
  if (!open_) return {};
  open_ = false;
  u64 lo_run = run_start_ * ps_, hi_run = run_end_ * ps_, data_hi = data_end_ * ps_;
  // Runs come in increasing order, so segments that end before this one are done for good; stop
  // at the first that is not (a long System RAM segment keeps everything after it in play).
  while (first_seg_ < segs_.size() && segs_[first_seg_].paddr + segs_[first_seg_].memsz <= lo_run)
    ++first_seg_;
  for (size_t i = first_seg_; i < segs_.size() && segs_[i].paddr < hi_run; ++i) {
    const LoadSegment& s = segs_[i];
    u64 lo = std::max(s.paddr, lo_run), hi = std::min(s.paddr + s.memsz, hi_run);
    if (lo >= hi) continue;
    ElfPiece p;
    p.paddr = lo;
    p.vaddr = s.vaddr + (lo - s.paddr);
    p.memsz = hi - lo;
    p.filesz = data_hi > lo ? std::min(data_hi, hi) - lo : 0;
    p.offset = run_offset_ + (std::min(lo, data_hi) - lo_run);
    KK_TRY(emit_(p));
  }
  return {};
}

ElfWriter::ElfWriter(ByteSink& out, ElfMeta meta)
    : out_(out), meta_(std::move(meta)),
      counter_(meta_.segments, meta_.page_size,
               [this](const ElfPiece&) -> Result<void> {
                 ++planned_;
                 return {};
               }),
      tracker_(meta_.segments, meta_.page_size,
               [this](const ElfPiece& p) { return put_phdr(p); }) {}

Result<void> ElfWriter::write_ehdr(u32 flags) {
  // More headers than e_phnum holds: the count goes in section header 0 (start_data wrote it).
  return out_.write_at(0, bytes_of(core_ehdr(meta_.machine, 1 + planned_, phoff_, shoff_, flags)));
}

Result<void> ElfWriter::write_headers() { return write_ehdr(kElfDumpIncomplete); }

Result<void> ElfWriter::add_bitmaps(u64 first_pfn, std::span<const std::byte>,
                                    std::span<const std::byte> bm2, std::span<const std::byte> zero) {
  if (meta_.exclude_zero && zero.size() != bm2.size())
    return make_error(Errc::corrupt, "ELF writer: pass 1 gave no zero-page bitmap");
  for (size_t i = 0; i < bm2.size(); ++i) {
    unsigned b = std::to_integer<unsigned>(bm2[i]);
    unsigned z = meta_.exclude_zero ? std::to_integer<unsigned>(zero[i]) : 0;
    while (b) {
      unsigned bit = static_cast<unsigned>(__builtin_ctz(b));
      b &= b - 1;
      KK_TRY(counter_.add(first_pfn + i * 8 + bit, (z >> bit) & 1, 0));
    }
  }
  return {};
}

Result<void> ElfWriter::start_data(u64 dumped_pages) {
  planned_pages_ = dumped_pages;
  KK_TRY(counter_.close());
  u64 phnum = 1 + planned_;
  phoff_ = sizeof(Elf64Ehdr);
  u64 end = phoff_ + phnum * sizeof(Elf64Phdr);
  // Program headers never written must read as PT_NULL (zeros), on a block device too.
  KK_TRY(out_.zero_range(phoff_, end - phoff_));
  if (phnum >= kPnXnum) {
    shoff_ = end;
    end += sizeof(Elf64Shdr);
    Elf64Shdr sh{};
    sh.info = static_cast<u32>(phnum);
    KK_TRY(out_.write_at(shoff_, bytes_of(sh)));
  }
  note_off_ = end;
  if (!meta_.notes.empty()) KK_TRY(out_.write_at(note_off_, meta_.notes));
  u64 note_size = meta_.notes.size();
  if (meta_.eraseinfo_reserve) {
    // makedumpfile's layout: Elf64_Nhdr {10, reserve, 0}, "ERASEINFO\0" padded to 4, the text.
    note_size = align_up(note_size, 4);
    ElfNoteHdr nh;
    nh.namesz = 10;
    nh.descsz = static_cast<u32>(meta_.eraseinfo_reserve);
    nh.type = 0;
    std::array<std::byte, sizeof nh + 12> head{};
    std::memcpy(head.data(), &nh, sizeof nh);
    std::memcpy(head.data() + sizeof nh, "ERASEINFO", 10);
    KK_TRY(out_.write_at(note_off_ + note_size, head));
    eraseinfo_off_ = note_off_ + note_size + head.size();
    std::vector<std::byte> room(align_up(meta_.eraseinfo_reserve, 4), std::byte{0});
    KK_TRY(out_.write_at(eraseinfo_off_, room));
    note_size += head.size() + room.size();
  }
  data_off_ = align_up(note_off_ + note_size, meta_.page_size);
  data_end_ = data_off_;
  data_.restart(data_off_);
  KK_TRY(out_.write_at(phoff_, bytes_of(core_note_phdr(note_off_, 0, note_size))));
  phdrs_.restart(phoff_ + sizeof(Elf64Phdr));  // the PT_LOADs follow the note's header
  return write_ehdr(kElfDumpIncomplete);  // now with the header counts
}

Result<void> ElfWriter::put_phdr(const ElfPiece& p) {
  if (emitted_ >= planned_)
    return make_error(Errc::corrupt, "ELF writer: more memory pieces than pass 1 counted");
  phdrs_.append_value(core_load_phdr({p.offset, p.vaddr, p.paddr, p.filesz, p.memsz}));
  ++emitted_;
  return {};
}

Result<void> ElfWriter::flush() {
  u64 added = pages_added_;
  KK_TRY(flush_buffers());
  pages_flushed_ = added;
  return {};
}

Result<void> ElfWriter::flush_buffers() {
  KK_TRY(data_.flush(out_));  // data before the headers that point at it
  return phdrs_.flush(out_);
}

Result<void> ElfWriter::add_page(u64 pfn, std::span<const std::byte> stored, u32 flags) {
  if (flags != 0 || stored.size() != meta_.page_size)
    return make_error(Errc::corrupt, "ELF writer: pages must come uncompressed");
  KK_TRY(tracker_.add(pfn, false, data_end_));
  ++pages_added_;
  data_.append(stored);
  data_end_ += stored.size();
  if (data_.full() || phdrs_.full()) return flush();
  return {};
}

Result<void> ElfWriter::add_zero_page(u64 pfn) {
  if (meta_.exclude_zero) {  // no data: p_memsz covers it
    ++pages_added_;
    return tracker_.add(pfn, true, data_end_);
  }
  if (zero_.size() != meta_.page_size) zero_.assign(meta_.page_size, std::byte{0});
  return add_page(pfn, zero_, 0);
}

Result<void> ElfWriter::add_lost_page(u64 pfn) {
  lost_ = true;
  // Stored, not left to p_memsz: pass 1 counted it as data, and the pieces must match.
  if (zero_.size() != meta_.page_size) zero_.assign(meta_.page_size, std::byte{0});
  return add_page(pfn, zero_, 0);
}

Result<void> ElfWriter::finish_data() {
  KK_TRY(tracker_.close());
  KK_TRY(flush());
  if (emitted_ != planned_)
    return make_error(Errc::corrupt, "ELF writer: " + std::to_string(emitted_) + " of " +
                                         std::to_string(planned_) + " memory pieces written");
  return {};
}

Result<void> ElfWriter::mark_complete() {
  return write_ehdr(meta_.input_incomplete || lost_ ? kElfDumpIncomplete : 0);
}

Result<void> ElfWriter::write_eraseinfo(std::string_view text) {
  if (text.size() > meta_.eraseinfo_reserve)
    return make_error(Errc::corrupt, "ELF writer: eraseinfo of " + std::to_string(text.size()) +
                                         " bytes, " + std::to_string(meta_.eraseinfo_reserve) + " reserved");
  if (text.empty()) return {};
  return out_.write_at(eraseinfo_off_, std::as_bytes(std::span(text.data(), text.size())));
}

DumpWriter::Saved ElfWriter::stop_early() {
  // The open run gets its program header; pieces never reached stay PT_NULL (zeros).
  if (tracker_.close()) (void)flush();
  (void)write_ehdr(kElfDumpIncomplete);
  return {pages_flushed_, planned_pages_};
}

}  // namespace kk
