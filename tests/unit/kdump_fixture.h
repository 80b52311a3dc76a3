// kdump_fixture.h: kdump-compressed and flattened files built in code, byte by byte from the format
// description (diskdump_format.h, flattened_format.h), independent of our writer.
#pragma once

#include <algorithm>
#include <cstring>
#include <map>
#include <optional>
#include <vector>

#include "lib/compress/codec.h"
#include "dumpfilter/diskdump_format.h"
#include "dumpfilter/flattened_format.h"
#include "lib/elf/elf_core.h"

namespace kk::test {

inline std::vector<std::byte> page_of(u64 pfn, u64 ps = 4096) {
  std::vector<std::byte> p(ps);
  for (u64 i = 0; i < ps; ++i) p[i] = std::byte((pfn * 131 + i * 7 + (i >> 9)) & 0xff);
  return p;
}

struct KdumpFixture {
  int version = 6;
  u64 ps = 4096;
  u64 max_mapnr = 100;
  std::map<u64, std::vector<std::byte>> pages;  // the dumped pages (2nd bitmap), by pfn
  CodecKind codec = CodecKind::zlib;
  bool split = false;
  u64 start_pfn = 0, end_pfn = 0;  // split range
  bool incomplete = false;
  std::string machine = "x86_64";
  std::string vmcoreinfo = "OSRELEASE=6.1.0-56-amd64\nPAGESIZE=4096\n";
  int cpus = 2;  // NT_PRSTATUS notes (version 4 and later)
  bool share_zero_page = true;

  // Offsets that tests poke at.
  u64 desc_offset = 0;
  u64 data_offset = 0;

  template <class T>
  static void put(std::vector<std::byte>& f, u64 off, const T& v) {
    if (f.size() < off + sizeof v) f.resize(off + sizeof v);
    std::memcpy(f.data() + off, &v, sizeof v);
  }
  static void put_bytes(std::vector<std::byte>& f, u64 off, std::span<const std::byte> b) {
    if (f.size() < off + b.size()) f.resize(off + b.size());
    std::memcpy(f.data() + off, b.data(), b.size());
  }
  static std::vector<std::byte> note(const std::string& name, u32 type, std::span<const std::byte> desc) {
    ElfNoteHdr h;
    h.namesz = static_cast<u32>(name.size() + 1);
    h.descsz = static_cast<u32>(desc.size());
    h.type = type;
    const std::byte* hb = reinterpret_cast<const std::byte*>(&h);
    std::vector<std::byte> out(hb, hb + sizeof h);
    for (char c : name) out.push_back(std::byte(c));
    out.resize(sizeof h + align_up(name.size() + 1, 4));
    out.insert(out.end(), desc.begin(), desc.end());
    out.resize(sizeof h + align_up(name.size() + 1, 4) + align_up(desc.size(), 4));
    return out;
  }

  std::vector<std::byte> build() {
    using namespace diskdump;
    std::vector<std::byte> f;
    u64 bitmap_bytes = align_up(div_round_up(max_mapnr, 8), ps);
    DiskDumpHeader h{};
    std::memcpy(h.signature.data(), kSignature, 8);
    h.header_version = version;
    std::memcpy(h.utsname.machine.data(), machine.data(), machine.size());
    std::memcpy(h.utsname.release.data(), "6.1.0-56-amd64", 14);
    h.status = (incomplete ? kIncomplete : 0);
    h.block_size = static_cast<i32>(ps);
    h.sub_hdr_size = 1;
    h.bitmap_blocks = static_cast<u32>(2 * bitmap_bytes / ps);
    h.max_mapnr = static_cast<u32>(max_mapnr);
    h.nr_cpus = 7;
    put(f, 0, h);
    // Sub-header, then vmcoreinfo and notes in the rest of its block.
    KdumpSubHeader s{};
    s.phys_base = 0x1000000;
    s.dump_level = 31;
    s.split = split ? 1 : 0;
    s.start_pfn = start_pfn;
    s.end_pfn = end_pfn;
    u64 vi_off = ps + sizeof s;
    auto vi = std::as_bytes(std::span(vmcoreinfo.data(), vmcoreinfo.size()));
    s.offset_vmcoreinfo = static_cast<i64>(vi_off);
    s.size_vmcoreinfo = vi.size();
    put_bytes(f, vi_off, vi);
    std::vector<std::byte> notes;
    std::vector<std::byte> prstatus(336);
    for (int i = 0; i < cpus; ++i) {
      auto n = note("CORE", kNtPrstatus, prstatus);
      notes.insert(notes.end(), n.begin(), n.end());
    }
    auto vn = note("VMCOREINFO", 0, vi);
    notes.insert(notes.end(), vn.begin(), vn.end());
    u64 note_off = align_up(vi_off + vi.size(), 8);
    if (version >= 4) {
      s.offset_note = static_cast<i64>(note_off);
      s.size_note = notes.size();
      put_bytes(f, note_off, notes);
    }
    s.start_pfn_64 = start_pfn;
    s.end_pfn_64 = end_pfn;
    s.max_mapnr_64 = max_mapnr;
    // Only the fields the version has; the rest of the block stays as the earlier writer left it.
    std::vector<std::byte> sraw(sizeof s);
    std::memcpy(sraw.data(), &s, sizeof s);
    size_t keep = version >= 6 ? sizeof s
                  : version == 5 ? offsetof(KdumpSubHeader, start_pfn_64)
                  : version == 4 ? offsetof(KdumpSubHeader, offset_eraseinfo)
                  : version == 3 ? offsetof(KdumpSubHeader, offset_note)
                  : version == 2 ? offsetof(KdumpSubHeader, offset_vmcoreinfo)
                                 : offsetof(KdumpSubHeader, split);
    put_bytes(f, ps, std::span(sraw).first(keep));
    if (f.size() < 2 * ps) f.resize(2 * ps);
    // Bitmaps: the 1st has every pfn below max_mapnr, the 2nd the dumped ones (whole machine).
    u64 bm1 = 2 * ps, bm2 = bm1 + bitmap_bytes;
    f.resize(bm2 + bitmap_bytes);
    for (u64 pfn = 0; pfn < max_mapnr; ++pfn) f[bm1 + pfn / 8] |= std::byte(1u << (pfn % 8));
    // A page at or past max_mapnr (a test giving one piece a smaller max_mapnr) has no bit: the
    // bitmap ends there (ASan found the write past it).
    for (const auto& [pfn, p] : pages)
      if (pfn < max_mapnr) f[bm2 + pfn / 8] |= std::byte(1u << (pfn % 8));
    // Descriptors for the pages of this file's range, then the data.
    u64 lo = split ? start_pfn : 0, hi = split ? end_pfn : max_mapnr;
    std::vector<u64> mine;
    for (const auto& [pfn, p] : pages)
      if (pfn >= lo && pfn < hi) mine.push_back(pfn);
    desc_offset = bm2 + bitmap_bytes;
    data_offset = desc_offset + mine.size() * sizeof(PageDesc);
    u64 data = data_offset;
    std::optional<diskdump::PageDesc> zero_desc;
    std::unique_ptr<Codec> c;
    if (codec != CodecKind::none) c = std::move(*make_codec(codec));
    for (size_t i = 0; i < mine.size(); ++i) {
      const std::vector<std::byte>& p = pages[mine[i]];
      PageDesc d{};
      bool zero = std::all_of(p.begin(), p.end(), [](std::byte b) { return b == std::byte{0}; });
      if (zero && share_zero_page && zero_desc) {
        d = *zero_desc;  // makedumpfile stores the zero page once; its descriptors all point there
      } else {
        std::vector<std::byte> packed(c ? c->bound(ps) : 0);
        size_t n = c ? *c->compress(p, packed) : 0;
        d.offset = static_cast<i64>(data);
        if (n) {
          d.size = static_cast<u32>(n);
          d.flags = diskdump_flag();
          put_bytes(f, data, std::span(packed).first(n));
        } else {
          d.size = static_cast<u32>(ps);
          put_bytes(f, data, p);
        }
        data += d.size;
        if (zero) zero_desc = d;
      }
      put(f, desc_offset + i * sizeof d, d);
    }
    if (f.size() < data) f.resize(data);
    return f;
  }

  u32 diskdump_flag() const { return diskdump_codec_flag(codec); }
};

// A flattened stream of `file`, cut into records of `chunk` bytes, written in the order `order`
// gives (record indexes), with the end marker unless `end` is false.
inline std::vector<std::byte> flatten(const std::vector<std::byte>& file, u64 chunk,
                                      std::vector<size_t> order = {}, bool end = true) {
  std::vector<std::byte> s(flattened::kHeaderBlock);
  flattened::Header h;
  std::memcpy(h.signature.data(), flattened::kSignature, sizeof flattened::kSignature);
  h.type = flattened::kType;
  h.version = flattened::kVersion;
  std::memcpy(s.data(), &h, sizeof h);
  size_t n = div_round_up(file.size(), chunk);
  if (order.empty())
    for (size_t i = 0; i < n; ++i) order.push_back(i);
  for (size_t i : order) {
    u64 off = i * chunk, size = std::min<u64>(chunk, file.size() - off);
    flattened::RecordHeader r;
    r.offset = static_cast<i64>(off);
    r.size = static_cast<i64>(size);
    const std::byte* rb = reinterpret_cast<const std::byte*>(&r);
    s.insert(s.end(), rb, rb + sizeof r);
    s.insert(s.end(), file.begin() + static_cast<long>(off), file.begin() + static_cast<long>(off + size));
  }
  if (end) {
    flattened::RecordHeader r;
    r.offset = flattened::kEndOffset;
    r.size = flattened::kEndOffset;
    const std::byte* rb = reinterpret_cast<const std::byte*>(&r);
    s.insert(s.end(), rb, rb + sizeof r);
  }
  return s;
}

}  // namespace kk::test
