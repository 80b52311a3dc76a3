#include "dumpfilter/writer_diskdump.h"

#include <cstddef>
#include <cstring>

namespace kk {

DiskdumpLayout plan_diskdump_layout(u64 block_size, u64 note_size, u64 max_pfn) {
  DiskdumpLayout l;
  l.block_size = block_size;
  l.sub_hdr_blocks = div_round_up(sizeof(diskdump::KdumpSubHeader) + note_size, block_size);
  l.bitmap_bytes = align_up(div_round_up(max_pfn, 8), block_size);
  if (l.bitmap_bytes == 0) l.bitmap_bytes = block_size;
  l.bitmap1_offset = (1 + l.sub_hdr_blocks) * block_size;
  l.bitmap2_offset = l.bitmap1_offset + l.bitmap_bytes;
  l.desc_offset = l.bitmap2_offset + l.bitmap_bytes;
  return l;
}

DiskdumpWriter::DiskdumpWriter(ByteSink& out, const DiskdumpMeta& meta)
    : out_(out), meta_(meta),
      layout_(plan_diskdump_layout(meta.block_size, meta.notes.size(), meta.max_pfn)) {}

Result<void> DiskdumpWriter::write_header(u32 status) {
  diskdump::DiskDumpHeader h{};
  std::memcpy(h.signature.data(), diskdump::kSignature, sizeof diskdump::kSignature);
  h.header_version = diskdump::kHeaderVersion;
  h.utsname = meta_.utsname;
  h.tv_sec = meta_.tv_sec;
  h.tv_usec = meta_.tv_usec;
  h.status = status | diskdump_codec_flag(meta_.codec);
  h.block_size = static_cast<i32>(layout_.block_size);
  h.sub_hdr_size = static_cast<i32>(layout_.sub_hdr_blocks);
  h.bitmap_blocks = static_cast<u32>(2 * layout_.bitmap_bytes / layout_.block_size);
  h.max_mapnr = static_cast<u32>(std::min<u64>(meta_.max_pfn, 0xffffffffu));
  h.nr_cpus = meta_.nr_cpus;
  return out_.write_at(0, bytes_of(h));
}

Result<void> DiskdumpWriter::write_headers() {
  // Headers and bitmaps are written in pieces with gaps (padding): on a block device the gaps
  // would keep its old bytes.
  KK_TRY(out_.zero_range(0, layout_.desc_offset));
  KK_TRY(write_header(diskdump::kIncomplete));
  diskdump::KdumpSubHeader kh{};
  kh.phys_base = meta_.phys_base;
  kh.dump_level = meta_.dump_level;
  kh.max_mapnr_64 = meta_.max_pfn;
  if (meta_.split) {
    kh.split = 1;
    kh.start_pfn = meta_.start_pfn;
    kh.end_pfn = meta_.end_pfn;
    kh.start_pfn_64 = meta_.start_pfn;
    kh.end_pfn_64 = meta_.end_pfn;
  }
  u64 note_off = layout_.block_size + sizeof kh;
  if (!meta_.notes.empty()) {
    kh.offset_note = static_cast<i64>(note_off);
    kh.size_note = meta_.notes.size();
    if (meta_.vmcoreinfo_size) {
      // Readers take vmcoreinfo from inside the copied notes.
      kh.offset_vmcoreinfo = static_cast<i64>(note_off + meta_.vmcoreinfo_pos);
      kh.size_vmcoreinfo = meta_.vmcoreinfo_size;
    }
  }
  KK_TRY(out_.write_at(layout_.block_size, bytes_of(kh)));
  if (!meta_.notes.empty()) KK_TRY(out_.write_at(note_off, meta_.notes));
  return {};
}

Result<void> DiskdumpWriter::add_bitmaps(u64 first_pfn, std::span<const std::byte> bm1,
                                         std::span<const std::byte> bm2, std::span<const std::byte>) {
  KK_TRY(out_.write_at(layout_.bitmap1_offset + first_pfn / 8, bm1));
  return out_.write_at(layout_.bitmap2_offset + first_pfn / 8, bm2);
}

Result<void> DiskdumpWriter::start_data(u64 dumped_pages) {
  dumped_ = dumped_pages;
  layout_.data_offset = layout_.desc_offset + dumped_pages * sizeof(diskdump::PageDesc);
  desc_.restart(layout_.desc_offset);
  data_.restart(layout_.data_offset);
  data_end_ = layout_.data_offset;
  // Descriptors never written must read as lost (zeros), on a block device too.
  KK_TRY(out_.zero_range(layout_.desc_offset, layout_.data_offset - layout_.desc_offset));
  // Every all-zero page points at this one stored block.
  zero_desc_.offset = static_cast<i64>(data_end_);
  zero_desc_.size = static_cast<u32>(layout_.block_size);
  zero_desc_.flags = 0;
  data_.append(std::vector<std::byte>(layout_.block_size, std::byte{0}));
  data_end_ += layout_.block_size;
  // Written now, so the file already reaches past the descriptor area: descriptors never written
  // (a dump that stops early) read back as zeros, makedumpfile's and crash's mark of a lost page.
  return flush();
}

Result<void> DiskdumpWriter::put_desc(const diskdump::PageDesc& d) {
  if (written_ >= dumped_)
    return make_error(Errc::corrupt, "diskdump writer: more pages than the bitmap promised");
  desc_.append_value(d);
  ++written_;
  if (desc_.full() || data_.full()) return flush();
  return {};
}

Result<void> DiskdumpWriter::add_page(u64, std::span<const std::byte> stored, u32 flags) {
  diskdump::PageDesc d{};
  d.offset = static_cast<i64>(data_end_);
  d.size = static_cast<u32>(stored.size());
  d.flags = flags;
  data_.append(stored);
  data_end_ += stored.size();
  return put_desc(d);
}

Result<std::span<std::byte>> DiskdumpWriter::page_space(size_t n) {
  std::span<std::byte> at = data_.space(n);
  if (at.empty()) {
    // Both, as when the data buffer is full: descriptors reach the file with their data, so a
    // dump killed later keeps every page written so far.
    KK_TRY(flush());
    at = data_.space(n);
  }
  return at;
}

Result<void> DiskdumpWriter::add_zero_page(u64) { return put_desc(zero_desc_); }

Result<void> DiskdumpWriter::add_lost_page(u64) {
  lost_ = true;
  return put_desc(diskdump::PageDesc{});  // offset 0: lost, as readers of incomplete dumps see it
}

Result<void> DiskdumpWriter::flush() {
  // Data first: a descriptor never points at data that did not reach the file.
  KK_TRY(data_.flush(out_));
  return desc_.flush(out_);
}

Result<void> DiskdumpWriter::write_eraseinfo(std::string_view text) {
  if (text.empty()) return {};
  KK_TRY(flush());
  KK_TRY(out_.write_at(data_end_, std::as_bytes(std::span(text.data(), text.size()))));
  il64 off(static_cast<i64>(data_end_));
  ul64 size(text.size());
  u64 field = layout_.block_size + offsetof(diskdump::KdumpSubHeader, offset_eraseinfo);
  KK_TRY(out_.write_at(field, bytes_of(off)));
  KK_TRY(out_.write_at(field + sizeof off, bytes_of(size)));
  data_end_ += text.size();
  data_.restart(data_end_);
  return {};
}

Result<void> DiskdumpWriter::finish_data() {
  KK_TRY(flush());
  // The manifest's read-back and the publishing come next: not with these buffers held.
  data_.release();
  desc_.release();
  if (written_ != dumped_)
    return make_error(Errc::corrupt, "diskdump writer: " + std::to_string(written_) + " of " +
                                         std::to_string(dumped_) + " pages written");
  return {};
}

Result<void> DiskdumpWriter::mark_complete() {
  return write_header(meta_.input_incomplete || lost_ ? diskdump::kIncomplete : 0);
}

DumpWriter::Saved DiskdumpWriter::stop_early() {
  (void)flush();  // descriptors go after their data: a failed data write leaves them lost
  (void)write_header(diskdump::kIncomplete);
  return {(desc_.flushed_end() - layout_.desc_offset) / sizeof(diskdump::PageDesc), dumped_};
}

}  // namespace kk
