// input_kdump.cpp: the kdump-compressed reader. The sub-header grew one group of fields per header
// version (makedumpfile's diskdump_mod.h marks them): 2 split and the 32-bit pfn range, 3 vmcoreinfo,
// 4 notes, 5 eraseinfo, 6 the 64-bit pfn range and max_mapnr. Older fields are read only when the
// version has them.
#include "dumpfilter/input_kdump.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include "dumpfilter/vmcore_input.h"
#include "lib/elf/elf_core.h"
#include "lib/io/bitmap.h"
#include "lib/io/escape.h"
#include "lib/io/hex.h"

namespace kk {

namespace {

using diskdump::DiskDumpHeader;
using diskdump::KdumpSubHeader;
using diskdump::PageDesc;

// Sub-header bytes each version defines (the struct's prefix).
u64 sub_header_bytes(int version) {
  if (version >= 6) return sizeof(KdumpSubHeader);
  if (version == 5) return offsetof(KdumpSubHeader, start_pfn_64);
  if (version == 4) return offsetof(KdumpSubHeader, offset_eraseinfo);
  if (version == 3) return offsetof(KdumpSubHeader, offset_note);
  if (version == 2) return offsetof(KdumpSubHeader, offset_vmcoreinfo);
  return offsetof(KdumpSubHeader, split);
}

std::string uts_field(const std::array<char, diskdump::kUtsLen>& f) {
  return std::string(f.data(), strnlen(f.data(), f.size()));
}

// What is read whole or walked in full must be bytes the source holds: a flattened stream's
// size is its highest record's end, which a zero-length record far out inflates for free.
Result<void> check_stored(const ByteSource& src, const char* what, u64 size, const std::string& why = "") {
  if (size > src.stored_size())
    return make_error(Errc::truncated, src.path() + ": " + what + " of " + std::to_string(size) +
                                           " bytes are more than the " + std::to_string(src.stored_size()) +
                                           " bytes the file holds" + why);
  return {};
}

// A region [off, off + size) that must lie inside the file.
Result<void> check_region(const std::string& path, const char* what, u64 off, u64 size, u64 file_size) {
  if (off > file_size || size > file_size - off)
    return make_error(Errc::truncated, path + ": " + what + " at " + hex(off) + " (" +
                                           std::to_string(size) + " bytes) runs past end of file (size " +
                                           hex(file_size) + ")");
  return {};
}

// The VMCOREINFO note a version-3 dump lacks, built around the text it has, so the output carries
// the same notes a newer dump would.
std::vector<std::byte> vmcoreinfo_note(std::span<const std::byte> text, u64* desc_pos) {
  const char name[] = "VMCOREINFO";
  ElfNoteHdr h;
  h.namesz = sizeof name;
  h.descsz = static_cast<u32>(text.size());
  h.type = 0;
  std::vector<std::byte> out(sizeof h + align_up(sizeof name, 4) + align_up(text.size(), 4));
  std::memcpy(out.data(), &h, sizeof h);
  std::memcpy(out.data() + sizeof h, name, sizeof name);
  *desc_pos = sizeof h + align_up(sizeof name, 4);
  std::memcpy(out.data() + *desc_pos, text.data(), text.size());
  return out;
}

// A decompressor from the pool, or a new one when every pooled one is in use.
Result<std::unique_ptr<Codec>> take_codec(std::mutex& mu, std::vector<std::unique_ptr<Codec>>& pool,
                                          CodecKind kind) {
  {
    std::lock_guard<std::mutex> g(mu);
    if (!pool.empty()) {
      std::unique_ptr<Codec> c = std::move(pool.back());
      pool.pop_back();
      return c;
    }
  }
  return make_codec(kind);
}

}  // namespace

// The main header (block 0): signature, version, block size and the counts after it.
static Result<KdumpLayout> read_main_header(const ByteSource& src) {
  const std::string& path = src.path();
  std::byte raw[sizeof(DiskDumpHeader)];
  if (src.size() < sizeof raw)
    return make_error(Errc::truncated, path + ": kdump-compressed header truncated (file is " +
                                           std::to_string(src.size()) + " bytes)");
  KK_TRY(src.read_at(0, raw));
  DiskDumpHeader h;
  std::memcpy(&h, raw, sizeof h);
  if (std::memcmp(h.signature.data(), diskdump::kSignature, 8) != 0)
    return make_error(Errc::corrupt, path + ": not a kdump-compressed file (bad signature)");
  KdumpLayout l;
  l.version = h.header_version;
  if (l.version < 1 || l.version > diskdump::kHeaderVersion)
    return make_error(Errc::unsupported, path + ": kdump-compressed header version " +
                                             std::to_string(l.version) + " (this reader knows 1 to 6)");
  i32 bs = h.block_size;
  if (bs < i32(kMinPageSize) || bs > i32(kMaxPageSize) || (bs & (bs - 1)))
    return make_error(Errc::corrupt, path + ": implausible block size " + std::to_string(bs));
  l.block_size = static_cast<u64>(bs);
  l.status = h.status;
  l.utsname = h.utsname;
  l.tv_sec = h.tv_sec;
  l.tv_usec = h.tv_usec;
  l.header_nr_cpus = h.nr_cpus;
  if (h.sub_hdr_size < 0) return make_error(Errc::corrupt, path + ": negative sub-header size");
  l.sub_hdr_blocks = static_cast<u64>(static_cast<i32>(h.sub_hdr_size));
  l.bitmap_blocks = h.bitmap_blocks;
  l.max_mapnr = h.max_mapnr;
  return l;
}

// The sub-header (block 1): phys_base, dump level, a split file's pfn range, and where the
// vmcoreinfo, notes and eraseinfo sit.
static Result<void> read_sub_header(const ByteSource& src, KdumpLayout& l) {
  const std::string& path = src.path();
  KdumpSubHeader sub{};
  u64 sub_bytes = sub_header_bytes(l.version);
  if (l.sub_hdr_blocks * l.block_size < sub_bytes)
    return make_error(Errc::corrupt, path + ": sub-header of " + std::to_string(l.sub_hdr_blocks) +
                                         " blocks is too small for header version " +
                                         std::to_string(l.version));
  KK_TRY(check_region(path, "sub-header", l.block_size, sub_bytes, src.size()));
  KK_TRY(src.read_at(l.block_size, std::span(reinterpret_cast<std::byte*>(&sub), sub_bytes)));
  l.phys_base = sub.phys_base;
  l.dump_level = sub.dump_level;
  if (l.version >= 6 && sub.max_mapnr_64 != 0) l.max_mapnr = sub.max_mapnr_64;
  l.start_pfn = 0;
  l.end_pfn = l.max_mapnr;
  if (l.version >= 2 && sub.split) {
    l.split = true;
    l.start_pfn = l.version >= 6 ? u64(sub.start_pfn_64) : u64(sub.start_pfn);
    l.end_pfn = l.version >= 6 ? u64(sub.end_pfn_64) : u64(sub.end_pfn);
    if (l.start_pfn > l.end_pfn || l.end_pfn > l.max_mapnr)
      return make_error(Errc::corrupt, path + ": split range of pfns " + hex(l.start_pfn) + "-" +
                                           hex(l.end_pfn) + " outside max_mapnr " + hex(l.max_mapnr));
  }
  auto region = [&](il64 off, ul64 size, const char* what, u64* o, u64* s) -> Result<void> {
    if (u64(size) == 0) return {};
    if (i64(off) < 0) return make_error(Errc::corrupt, path + ": negative " + what + " offset");
    KK_TRY(check_region(path, what, u64(i64(off)), size, src.size()));
    *o = u64(i64(off));
    *s = size;
    return {};
  };
  if (l.version >= 3)
    KK_TRY(region(sub.offset_vmcoreinfo, sub.size_vmcoreinfo, "vmcoreinfo", &l.vmcoreinfo_offset,
                  &l.vmcoreinfo_size));
  if (l.version >= 4) KK_TRY(region(sub.offset_note, sub.size_note, "notes", &l.note_offset, &l.note_size));
  if (l.version >= 5)
    KK_TRY(region(sub.offset_eraseinfo, sub.size_eraseinfo, "eraseinfo", &l.eraseinfo_offset,
                  &l.eraseinfo_size));
  return {};
}

Result<KdumpLayout> read_kdump_layout(const ByteSource& src) {
  const std::string& path = src.path();
  KK_TRY_ASSIGN(KdumpLayout l, read_main_header(src));
  KK_TRY(read_sub_header(src, l));
  l.bitmap_bytes = l.bitmap_blocks * l.block_size / 2;
  if (l.bitmap_bytes * 8 < l.max_mapnr)
    return make_error(Errc::corrupt, path + ": bitmaps of " + std::to_string(l.bitmap_blocks) +
                                         " blocks cannot hold max_mapnr " + std::to_string(l.max_mapnr));
  l.bitmap1_offset = (1 + l.sub_hdr_blocks) * l.block_size;
  l.bitmap2_offset = l.bitmap1_offset + l.bitmap_bytes;
  l.desc_offset = l.bitmap2_offset + l.bitmap_bytes;
  KK_TRY(check_region(path, "bitmaps", l.bitmap1_offset, 2 * l.bitmap_bytes, src.size()));
  // The page index (8 bytes per window) and the walk that fills it grow with max_mapnr: the
  // bitmap bytes it stands for (both bitmaps are always written whole) must be in the file.
  KK_TRY(check_stored(src, "bitmaps", 2 * div_round_up(l.max_mapnr, 8),
                      " (max_mapnr " + std::to_string(l.max_mapnr) + ")"));
  return l;
}

Result<std::unique_ptr<KdumpInput>> KdumpInput::open(std::unique_ptr<ByteSource> src) {
  std::unique_ptr<KdumpInput> in(new KdumpInput(std::move(src)));
  KK_TRY_ASSIGN(KdumpLayout l, read_kdump_layout(*in->src_));
  in->layout_ = l;
  std::string machine = uts_field(in->layout_.utsname.machine);
  if (machine == "aarch64" || machine == "arm64") {
    in->arch_ = Arch::arm64;
  } else if (machine != "x86_64" && !machine.empty()) {
    return make_error(Errc::unsupported, in->path() + ": dump of another architecture (" +
                                             escape_for_terminal(machine) +
                                             "); this dumpfilter reads x86_64 dumps");
  }
  KK_TRY(in->load_notes());
  KK_TRY(in->count_windows());
  KK_TRY(in->find_usable_end());
  return in;
}

Result<void> KdumpInput::load_notes() {
  const KdumpLayout& l = layout_;
  if (l.note_size > kMaxNoteBytes || l.vmcoreinfo_size > kMaxNoteBytes)
    return make_error(Errc::corrupt, path() + ": notes of implausible size " +
                                         std::to_string(std::max(l.note_size, l.vmcoreinfo_size)));
  KK_TRY(check_stored(*src_, "notes", std::max(l.note_size, l.vmcoreinfo_size)));
  std::span<const std::byte> text;
  if (l.note_size) {
    notes_.resize(l.note_size);
    KK_TRY(src_->read_at(l.note_offset, notes_));
    Result<std::vector<Note>> notes = parse_notes(notes_, l.note_offset);
    if (!notes) return std::move(notes).error().context(path());
    for (const Note& n : *notes) {
      if (n.type == kNtPrstatus && n.name == "CORE") ++nr_cpus_;
      if (n.name == "VMCOREINFO" && text.empty()) {
        vmcoreinfo_pos_ = n.desc_pos;
        vmcoreinfo_size_ = n.desc.size();
        text = n.desc;
      }
    }
  }
  if (text.empty() && l.vmcoreinfo_size) {
    std::vector<std::byte> raw(l.vmcoreinfo_size);
    KK_TRY(src_->read_at(l.vmcoreinfo_offset, raw));
    u64 pos = 0;
    std::vector<std::byte> note = vmcoreinfo_note(raw, &pos);
    vmcoreinfo_pos_ = notes_.size() + pos;
    vmcoreinfo_size_ = raw.size();
    notes_.insert(notes_.end(), note.begin(), note.end());
    text = std::span<const std::byte>(notes_).subspan(vmcoreinfo_pos_, vmcoreinfo_size_);
  }
  if (text.empty())
    return make_error(Errc::missing, path() + ": no VMCOREINFO in the dump (header version " +
                                         std::to_string(l.version) + ")");
  Result<Vmcoreinfo> vi =
      Vmcoreinfo::parse(std::string_view(reinterpret_cast<const char*>(text.data()), text.size()));
  if (!vi) return std::move(vi).error().context(path());
  vmcoreinfo_ = std::move(*vi);
  if (vmcoreinfo_.page_size() != 0 && vmcoreinfo_.page_size() != l.block_size)
    return make_error(Errc::corrupt, path() + ": block size " + std::to_string(l.block_size) +
                                         " is not the kernel's page size " +
                                         std::to_string(vmcoreinfo_.page_size()));
  if (nr_cpus_ == 0) nr_cpus_ = std::max(0, l.header_nr_cpus);
  return {};
}

Result<void> KdumpInput::read_bitmap2(u64 pfn, std::span<std::byte> out) const {
  return src_->read_at(layout_.bitmap2_offset + pfn / 8, out);
}

// One pass over the 2nd bitmap, a window at a time: the count of dumped pages before each window.
Result<void> KdumpInput::count_windows() {
  const KdumpLayout& l = layout_;
  u64 windows = div_round_up(l.max_mapnr, kKdumpWindowPfns) + 1;
  window_base_.assign(windows, 0);
  std::vector<std::byte> bm(kKdumpWindowPfns / 8);
  u64 total = 0;
  for (u64 w = 0; w + 1 < windows; ++w) {
    window_base_[w] = total;
    u64 w0 = w * kKdumpWindowPfns;
    u64 lo = std::max(w0, l.start_pfn), hi = std::min(w0 + kKdumpWindowPfns, l.end_pfn);
    if (lo >= hi) continue;
    std::span<std::byte> part = std::span(bm).first(div_round_up(hi - w0, 8));
    KK_TRY(read_bitmap2(w0, part));
    total += count_bits(part, lo - w0, hi - w0);
  }
  window_base_.back() = total;
  total_descs_ = total;
  return {};
}

Result<PageDesc> KdumpInput::read_desc(u64 index) const {
  PageDesc d;
  u64 off = layout_.desc_offset + index * sizeof d;
  if (off + sizeof d > src_->size())
    return make_error(Errc::truncated, path() + ": page descriptor " + std::to_string(index) + " at " +
                                           hex(off) + " is past end of file (size " + hex(src_->size()) + ")");
  KK_TRY(src_->read_at(off, std::span(reinterpret_cast<std::byte*>(&d), sizeof d)));
  return d;
}

// makedumpfile writes page_descs and page data front to back, so an incomplete dump holds a prefix
// of usable descriptors; find its end by bisection (log2(pages) descriptor reads). Inside that
// prefix a page may be lost (an all-zero descriptor: an input page that could not be read), so a
// descriptor counts as usable when it or one of the next kLostProbe is: an isolated lost page
// does not cut the prefix short.
Result<void> KdumpInput::find_usable_end() {
  constexpr u64 kLostProbe = 64;
  usable_descs_ = total_descs_;
  usable_end_pfn_ = layout_.end_pfn;
  if (!incomplete()) return {};
  auto one_usable = [&](const PageDesc& d) {
    i64 off = d.offset;
    return off > 0 && d.size != 0 && u64(off) + d.size <= src_->size();
  };
  auto usable = [&](u64 i) -> Result<bool> {
    u64 in_file = (src_->size() - std::min(src_->size(), layout_.desc_offset)) / sizeof(PageDesc);
    u64 n = std::min({kLostProbe, total_descs_ - i, in_file > i ? in_file - i : 0});
    if (n == 0) return false;
    std::vector<PageDesc> descs(n);
    KK_TRY(src_->read_at(layout_.desc_offset + i * sizeof(PageDesc),
                         std::span(reinterpret_cast<std::byte*>(descs.data()), n * sizeof(PageDesc))));
    return std::any_of(descs.begin(), descs.end(), one_usable);
  };
  u64 lo = 0, hi = total_descs_;  // descriptors [0, lo) usable; [hi, total) not
  while (lo < hi) {
    u64 mid = lo + (hi - lo) / 2;
    KK_TRY_ASSIGN(bool ok, usable(mid));
    if (ok) lo = mid + 1;
    else hi = mid;
  }
  usable_descs_ = lo;
  if (lo == total_descs_) return {};
  // The pfn of descriptor `lo`: find its window, then walk that window's bits.
  auto it = std::upper_bound(window_base_.begin(), window_base_.end(), lo) - 1;
  u64 w = static_cast<u64>(it - window_base_.begin());
  u64 w0 = w * kKdumpWindowPfns;
  std::vector<std::byte> bm(kKdumpWindowPfns / 8);
  u64 hi_pfn = std::min(w0 + kKdumpWindowPfns, layout_.end_pfn);
  KK_TRY(read_bitmap2(w0, std::span(bm).first(div_round_up(hi_pfn - w0, 8))));
  u64 n = *it;
  for (u64 pfn = std::max(w0, layout_.start_pfn); pfn < hi_pfn; ++pfn) {
    if (!test_bit(bm, pfn - w0)) continue;
    if (n++ == lo) {
      usable_end_pfn_ = pfn;
      return {};
    }
  }
  return make_error(Errc::corrupt, path() + ": page bitmap changed while reading");
}

std::vector<PfnRun> KdumpInput::present_runs(u64 lo, u64 hi) const {
  std::vector<PfnRun> runs;
  lo = std::max(lo, layout_.start_pfn);
  hi = std::min(hi, limit_pfn());
  std::vector<std::byte> bm(kKdumpWindowPfns / 8);
  for (u64 w0 = lo / kKdumpWindowPfns * kKdumpWindowPfns; w0 < hi; w0 += kKdumpWindowPfns) {
    u64 a = std::max(lo, w0), b = std::min(hi, w0 + kKdumpWindowPfns);
    // The interface has no error here; an unreadable bitmap shows as no pages, and reading the
    // pages then names the problem.
    if (!read_bitmap2(w0, std::span(bm).first(div_round_up(b - w0, 8)))) break;
    auto add = [&](u64 s, u64 e) {
      if (!runs.empty() && runs.back().end == s) runs.back().end = e;
      else runs.push_back({s, e});
    };
    // A 64-bit word at a time where it is all clear or all set (most of a real bitmap: holes and
    // dumped RAM), bit by bit elsewhere; bit by bit it was most of a kdump input's open-and-scan.
    for (u64 pfn = a; pfn < b;) {
      u64 i = pfn - w0;
      if (i % 64 == 0 && pfn + 64 <= b) {
        u64 word = load_le<u64>(bm.data() + i / 8);
        if (word == 0 || word == ~u64{0}) {
          if (word) add(pfn, pfn + 64);
          pfn += 64;
          continue;
        }
      }
      if (test_bit(bm, i)) add(pfn, pfn + 1);
      ++pfn;
    }
  }
  return runs;
}

Result<void> KdumpInput::decode_page(u64 pfn, const PageDesc& d, std::span<std::byte> scratch,
                                     std::span<std::byte> out) const {
  const u64 ps = layout_.block_size;
  i64 off = d.offset;
  u32 size = d.size, flags = d.flags;
  auto where = [&] { return path() + ": pfn " + hex(pfn) + ": "; };
  if (off <= 0 || size == 0 || size > ps)
    return make_error(Errc::corrupt, where() + "bad page descriptor (offset " + hex(u64(off)) +
                                         ", size " + std::to_string(size) + ")");
  if (u64(off) + size > src_->size())
    return make_error(Errc::truncated, where() + "page data at " + hex(u64(off)) + " (" +
                                           std::to_string(size) + " bytes) is past end of file (size " +
                                           hex(src_->size()) + ")");
  std::optional<CodecKind> codec = codec_from_diskdump_flag(flags);
  if (!codec) return make_error(Errc::corrupt, where() + "unknown compression flags " + hex(flags));
  CodecKind kind = *codec;
  if (kind == CodecKind::none) {
    if (size != ps)
      return make_error(Errc::corrupt, where() + "uncompressed page of " + std::to_string(size) + " bytes");
    return src_->read_at(u64(off), out);
  }
  std::span<std::byte> packed = scratch.first(size);
  KK_TRY(src_->read_at(u64(off), packed));
  auto& pool = pool_[static_cast<int>(kind)];
  Result<std::unique_ptr<Codec>> c = take_codec(pool_mu_, pool, kind);
  if (!c) return std::move(c).error().context(where());
  Result<void> r = (*c)->decompress(packed, out);
  {
    std::lock_guard<std::mutex> g(pool_mu_);
    pool.push_back(std::move(*c));
  }
  if (!r) return make_error(Errc::corrupt, where() + "bad compressed page (" +
                                               std::string(codec_name(kind)) + "): " + r.error().msg);
  return {};
}

Result<void> KdumpInput::read_pages(u64 pfn, u64 count, std::span<std::byte> out) const {
  const u64 ps = layout_.block_size;
  if (out.size() != count * ps)
    return make_error(Errc::internal, path() + ": read_pages buffer size mismatch");
  // Room for one compressed page, filled before it is read: not zeroed (blocks go up to 256 KiB,
  // and a zeroed buffer per call was a third of a small read's time).
  std::unique_ptr<std::byte[]> scratch_buf(new std::byte[ps]);
  std::span<std::byte> scratch(scratch_buf.get(), ps);
  std::vector<std::byte> bm;
  // Descriptors of consecutive dumped pages are consecutive: one index lookup per window piece.
  // Each page is checked against the bitmap before its descriptor is used.
  while (count > 0) {
    if (pfn < layout_.start_pfn || pfn >= limit_pfn())
      return make_error(Errc::missing, path() + ": pfn " + hex(pfn) + " is not in the dump");
    u64 w0 = pfn / kKdumpWindowPfns * kKdumpWindowPfns;
    u64 n = std::min({count, w0 + kKdumpWindowPfns - pfn, limit_pfn() - pfn});
    // The window's bitmap up to the last page: where pfn's descriptor is, and that all are dumped.
    bm.resize(div_round_up(pfn + n - w0, 8));
    KK_TRY(read_bitmap2(w0, bm));
    u64 index = window_base_[pfn / kKdumpWindowPfns] +
                count_bits(bm, std::max(w0, layout_.start_pfn) - w0, pfn - w0);
    std::vector<PageDesc> descs(n);
    u64 doff = layout_.desc_offset + index * sizeof(PageDesc);
    if (doff + n * sizeof(PageDesc) > src_->size())
      return make_error(Errc::truncated, path() + ": page descriptor for pfn " + hex(pfn) + " at " +
                                             hex(doff) + " is past end of file (size " +
                                             hex(src_->size()) + ")");
    KK_TRY(src_->read_at(doff, std::span(reinterpret_cast<std::byte*>(descs.data()), n * sizeof(PageDesc))));
    for (u64 i = 0; i < n; ++i) {
      if (!test_bit(bm, pfn + i - w0))
        return make_error(Errc::missing, path() + ": pfn " + hex(pfn + i) + " is not in the dump");
      // A page the dumper could not read is an all-zero descriptor in a dump flagged incomplete;
      // it stays lost (a read error, so a re-filter marks it lost again and goes on).
      if (incomplete() && descs[i].offset == 0 && descs[i].size == 0)
        return make_error(Errc::io, path() + ": pfn " + hex(pfn + i) + " was lost when the dump was taken");
      KK_TRY(decode_page(pfn + i, descs[i], scratch, out.first(ps)));
      out = out.subspan(ps);
    }
    pfn += n;
    count -= n;
  }
  return {};
}

Result<void> KdumpInput::read_page_cached(u64 pfn, std::span<std::byte> out) const {
  {
    std::lock_guard<std::mutex> g(cache_mu_);
    for (const CachedPage& c : cache_)
      if (c.pfn == pfn) {
        std::memcpy(out.data(), c.bytes.data(), out.size());
        return {};
      }
  }
  KK_TRY(read_pages(pfn, 1, out));
  std::lock_guard<std::mutex> g(cache_mu_);
  CachedPage& slot = cache_[cache_next_++ % cache_.size()];
  slot.pfn = pfn;
  slot.bytes.assign(out.begin(), out.end());
  return {};
}

Result<void> KdumpInput::read_phys(u64 paddr, std::span<std::byte> out) const {
  const u64 ps = layout_.block_size;
  std::vector<std::byte> page(ps);
  while (!out.empty()) {
    u64 pfn = paddr / ps, in_page = paddr % ps;
    u64 n = std::min<u64>(out.size(), ps - in_page);
    Result<void> r = read_page_cached(pfn, page);
    if (!r) {
      if (r.error().code == Errc::missing)
        return make_error(Errc::missing, path() + ": physical address " + hex(paddr) + " is not in the dump");
      return r;
    }
    std::memcpy(out.data(), page.data() + in_page, n);
    out = out.subspan(n);
    paddr += n;
  }
  return {};
}

}  // namespace kk
