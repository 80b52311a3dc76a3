// test_writer_diskdump.cpp: the kdump-compressed writer. Layout arithmetic first, then tiny dumps
// written to a temporary file and read back field by field, as crash and libkdumpfile would read
// them (makedumpfile IMPLEMENTATION: header block, sub-header + notes, two bitmaps, page_desc
// table, page data starting with the one shared zero page).
#include <catch2/catch.hpp>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/unit/temp_dir.h"
#include "dumpfilter/page_pipeline.h"
#include "dumpfilter/writer_diskdump.h"
#include "lib/elf/elf_core.h"

using namespace kk;
using kk::test::TempDir;
using namespace kk::diskdump;

namespace {

constexpr u64 kPage = 4096;

template <class T>
T read_struct(const std::vector<std::byte>& file, u64 offset) {
  REQUIRE(offset + sizeof(T) <= file.size());
  T v;
  std::memcpy(&v, file.data() + offset, sizeof v);
  return v;
}

std::vector<std::byte> read_file(const std::string& path) {
  Result<InputFile> f = InputFile::open(path);
  if (!f) FAIL(f.error().msg);
  std::vector<std::byte> buf(f->size());
  REQUIRE(f->read_at(0, buf));
  return buf;
}

template <size_t N>
void set_name(std::array<char, N>& dst, const char* s) {
  dst.fill(0);
  std::memcpy(dst.data(), s, std::strlen(s));
}

std::string name_of(const std::array<char, kUtsLen>& a) { return std::string(a.data()); }

// ELF notes as /proc/vmcore carries them: one NT_PRSTATUS, then VMCOREINFO.
struct Notes {
  std::vector<std::byte> bytes;
  u64 vmcoreinfo_pos = 0;
  u64 vmcoreinfo_size = 0;
};

void add_note(std::vector<std::byte>& buf, const std::string& name, u32 type, const std::string& desc) {
  ElfNoteHdr h{};
  h.namesz = static_cast<u32>(name.size() + 1);
  h.descsz = static_cast<u32>(desc.size());
  h.type = type;
  size_t at = buf.size();
  buf.resize(at + sizeof h + align_up(name.size() + 1, 4) + align_up(desc.size(), 4));
  std::memcpy(buf.data() + at, &h, sizeof h);
  std::memcpy(buf.data() + at + sizeof h, name.data(), name.size());
  std::memcpy(buf.data() + at + sizeof h + align_up(name.size() + 1, 4), desc.data(), desc.size());
}

const std::string kVmcoreinfoText = "OSRELEASE=6.1.0-18-amd64\nPAGESIZE=4096\nSIZE(page)=64\n";

Notes make_notes() {
  Notes n;
  add_note(n.bytes, "CORE", kNtPrstatus, std::string(336, '\x11'));
  size_t before = n.bytes.size();
  add_note(n.bytes, "VMCOREINFO", 0, kVmcoreinfoText);
  n.vmcoreinfo_pos = before + sizeof(ElfNoteHdr) + 12;
  n.vmcoreinfo_size = kVmcoreinfoText.size();
  return n;
}

DiskdumpMeta make_meta(const Notes& notes, u64 max_pfn, CodecKind codec) {
  DiskdumpMeta m;
  set_name(m.utsname.sysname, "Linux");
  set_name(m.utsname.nodename, "crashbox");
  set_name(m.utsname.release, "6.1.0-18-amd64");
  set_name(m.utsname.version, "#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1");
  set_name(m.utsname.machine, "x86_64");
  set_name(m.utsname.domainname, "(none)");
  m.tv_sec = 1700000000;
  m.tv_usec = 250000;
  m.nr_cpus = 2;
  m.block_size = kPage;
  m.max_pfn = max_pfn;
  m.phys_base = 0x1000000;
  m.dump_level = 31;
  m.codec = codec;
  m.notes = notes.bytes;
  m.vmcoreinfo_pos = notes.vmcoreinfo_pos;
  m.vmcoreinfo_size = notes.vmcoreinfo_size;
  return m;
}

std::vector<std::byte> pattern_page(u64 seed) {
  std::vector<std::byte> p(kPage);
  for (size_t i = 0; i < kPage; ++i) p[i] = static_cast<std::byte>((i * 7 + seed * 13) & 0xff);
  return p;
}

// A page that compresses: repeated text.
std::vector<std::byte> text_page() {
  std::vector<std::byte> p(kPage);
  const char* s = "Kernel panic - not syncing: sysrq triggered crash\n";
  for (size_t i = 0; i < kPage; ++i) p[i] = static_cast<std::byte>(s[i % std::strlen(s)]);
  return p;
}

std::vector<std::byte> bits(std::initializer_list<int> v) {
  std::vector<std::byte> out;
  for (int b : v) out.push_back(static_cast<std::byte>(b));
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Layout arithmetic

TEST_CASE("diskdump: format structs have the C layout", "[writer_diskdump]") {
  REQUIRE(sizeof(DiskDumpHeader) == 464u);
  REQUIRE(offsetof(DiskDumpHeader, header_version) == 8u);
  REQUIRE(offsetof(DiskDumpHeader, utsname) == 12u);
  REQUIRE(offsetof(DiskDumpHeader, block_size) == 428u);
  REQUIRE(offsetof(DiskDumpHeader, sub_hdr_size) == 432u);
  REQUIRE(offsetof(DiskDumpHeader, bitmap_blocks) == 436u);
  REQUIRE(offsetof(DiskDumpHeader, max_mapnr) == 440u);
  REQUIRE(offsetof(KdumpSubHeader, offset_vmcoreinfo) == 32u);
  REQUIRE(offsetof(KdumpSubHeader, offset_note) == 48u);
  REQUIRE(offsetof(KdumpSubHeader, max_mapnr_64) == 96u);
  REQUIRE(sizeof(PageDesc) == 24u);
}

TEST_CASE("diskdump: plan_diskdump_layout places blocks in order", "[writer_diskdump]") {
  DiskdumpLayout l = plan_diskdump_layout(4096, 300, 100);
  REQUIRE(l.block_size == 4096u);
  REQUIRE(l.sub_hdr_blocks == 1u);       // 104 + 300 bytes fit one block
  REQUIRE(l.bitmap_bytes == 4096u);      // 13 bytes of bits, one block
  REQUIRE(l.bitmap1_offset == 2 * 4096u);
  REQUIRE(l.bitmap2_offset == 3 * 4096u);
  REQUIRE(l.desc_offset == 4 * 4096u);
  REQUIRE(l.data_offset == 0u);          // not known until the dumped count is

  // Notes just over one block with the sub-header: two blocks.
  DiskdumpLayout n = plan_diskdump_layout(4096, 4096 - 104 + 1, 100);
  REQUIRE(n.sub_hdr_blocks == 2u);
  REQUIRE(n.bitmap1_offset == 3 * 4096u);
  REQUIRE(plan_diskdump_layout(4096, 4096 - 104, 100).sub_hdr_blocks == 1u);

  // 4 GiB of 4 KiB pages: 2^20 pfns, 128 KiB per bitmap.
  DiskdumpLayout big = plan_diskdump_layout(4096, 0, 1u << 20);
  REQUIRE(big.bitmap_bytes == 131072u);
  REQUIRE(big.bitmap2_offset == 2 * 4096u + 131072u);
  REQUIRE(big.desc_offset == 2 * 4096u + 2 * 131072u);

  // A bitmap one bit over a block takes two.
  REQUIRE(plan_diskdump_layout(4096, 0, 32768).bitmap_bytes == 4096u);
  REQUIRE(plan_diskdump_layout(4096, 0, 32769).bitmap_bytes == 8192u);
  // No pages at all still gets a block per bitmap.
  REQUIRE(plan_diskdump_layout(4096, 0, 0).bitmap_bytes == 4096u);

  // 64 KiB pages (arm64): blocks are pages.
  DiskdumpLayout a64 = plan_diskdump_layout(65536, 2000, 100000);
  REQUIRE(a64.sub_hdr_blocks == 1u);
  REQUIRE(a64.bitmap_bytes == 65536u);
  REQUIRE(a64.bitmap1_offset == 2 * 65536u);
  REQUIRE(a64.desc_offset == 4 * 65536u);
}

TEST_CASE("diskdump: codec flags are makedumpfile's", "[writer_diskdump]") {
  REQUIRE(diskdump_codec_flag(CodecKind::zlib) == 0x1u);
  REQUIRE(diskdump_codec_flag(CodecKind::lzo) == 0x2u);
  REQUIRE(diskdump_codec_flag(CodecKind::snappy) == 0x4u);
  REQUIRE(diskdump_codec_flag(CodecKind::zstd) == 0x20u);
  REQUIRE(diskdump_codec_flag(CodecKind::none) == 0u);
  REQUIRE(kIncomplete == 0x8u);
}

// ---------------------------------------------------------------------------------------------
// A whole tiny dump

TEST_CASE("diskdump: a tiny dump reads back field by field", "[writer_diskdump]") {
  TempDir dir;
  const std::string path = dir.file("dumpfile");
  const Notes notes = make_notes();
  const DiskdumpMeta meta = make_meta(notes, 16, CodecKind::zlib);

  // pfn 0 raw, 1 zero, 2 compressed, 3 excluded, 5 zero; 4 and 6..15 are holes.
  const std::vector<std::byte> bm1 = bits({0x2f, 0x00});
  const std::vector<std::byte> bm2 = bits({0x27, 0x00});
  const std::vector<std::byte> raw = pattern_page(1);
  const std::vector<std::byte> text = text_page();
  std::unique_ptr<Codec> zlib = std::move(*make_codec(CodecKind::zlib));
  std::vector<std::byte> packed(zlib->bound(kPage));
  Result<size_t> csize = zlib->compress(text, packed);
  REQUIRE(csize);
  REQUIRE(*csize > 0u);
  packed.resize(*csize);

  DiskdumpLayout lay;
  u64 end = 0;
  {
    Result<OutputFile> out = OutputFile::create(path, false);
    REQUIRE(out);
    FileSink sink(std::move(*out));
    DiskdumpWriter w(sink, meta);
    lay = w.layout();
    REQUIRE(lay.sub_hdr_blocks == 1u);
    REQUIRE(lay.bitmap1_offset == 8192u);
    REQUIRE(lay.desc_offset == 16384u);

    REQUIRE(w.write_headers());
    // Until finish(), the header says the dump is incomplete.
    std::array<std::byte, 4> status{};
    REQUIRE(sink.file().read_back(offsetof(DiskDumpHeader, status), status));
    REQUIRE(load_le<u32>(status.data()) == (kIncomplete | kCompressedZlib));

    REQUIRE(w.add_bitmaps(0, bm1, bm2));
    std::vector<std::byte> back(2);
    REQUIRE(sink.file().read_back(w.layout().bitmap2_offset, back));
    REQUIRE(back == bm2);

    REQUIRE(w.start_data(4));
    REQUIRE(w.layout().data_offset == 16384u + 4 * 24);
    REQUIRE(w.add_page(0, raw, 0));                     // pfn 0
    REQUIRE(w.add_zero_page(0));                      // pfn 1
    REQUIRE(w.add_page(0, packed, kCompressedZlib));    // pfn 2
    REQUIRE(w.add_zero_page(0));                      // pfn 5
    REQUIRE(w.pages_written() == 4u);
    REQUIRE(w.finish());
    end = w.bytes_end();
    REQUIRE(sink.finish());
  }
  const u64 data = 16384 + 4 * 24;
  REQUIRE(end == data + kPage + kPage + packed.size());

  std::vector<std::byte> file = read_file(path);
  REQUIRE(file.size() == end);

  // Header.
  DiskDumpHeader h = read_struct<DiskDumpHeader>(file, 0);
  REQUIRE(std::string(h.signature.data(), 8) == "KDUMP   ");
  REQUIRE(i32(h.header_version) == 6);
  REQUIRE(name_of(h.utsname.sysname) == "Linux");
  REQUIRE(name_of(h.utsname.nodename) == "crashbox");
  REQUIRE(name_of(h.utsname.release) == "6.1.0-18-amd64");
  REQUIRE(name_of(h.utsname.machine) == "x86_64");
  REQUIRE(i64(h.tv_sec) == 1700000000);
  REQUIRE(i64(h.tv_usec) == 250000);
  REQUIRE(u32(h.status) == kCompressedZlib);  // incomplete bit cleared by finish()
  REQUIRE(i32(h.block_size) == 4096);
  REQUIRE(i32(h.sub_hdr_size) == 1);
  REQUIRE(u32(h.bitmap_blocks) == 2u);
  REQUIRE(u32(h.max_mapnr) == 16u);
  REQUIRE(i32(h.nr_cpus) == 2);

  // Sub-header: notes right after it, vmcoreinfo inside the notes.
  KdumpSubHeader kh = read_struct<KdumpSubHeader>(file, 4096);
  REQUIRE(u64(kh.phys_base) == 0x1000000u);
  REQUIRE(i32(kh.dump_level) == 31);
  REQUIRE(i32(kh.split) == 0);
  REQUIRE(u64(kh.max_mapnr_64) == 16u);
  REQUIRE(i64(kh.offset_note) == 4096 + 104);
  REQUIRE(u64(kh.size_note) == notes.bytes.size());
  REQUIRE(i64(kh.offset_vmcoreinfo) == i64(4096 + 104 + notes.vmcoreinfo_pos));
  REQUIRE(u64(kh.size_vmcoreinfo) == kVmcoreinfoText.size());
  REQUIRE(i64(kh.offset_eraseinfo) == 0);
  REQUIRE(u64(kh.size_eraseinfo) == 0u);
  REQUIRE(std::vector<std::byte>(file.begin() + 4200, file.begin() + 4200 + static_cast<long>(notes.bytes.size())) ==
          notes.bytes);
  REQUIRE(std::string(reinterpret_cast<const char*>(file.data()) + kh.offset_vmcoreinfo,
                      kh.size_vmcoreinfo) == kVmcoreinfoText);

  // Bitmaps: the given bytes, the rest of each block zero.
  REQUIRE(file[8192] == std::byte{0x2f});
  REQUIRE(file[12288] == std::byte{0x27});
  for (u64 i = 1; i < 4096; ++i) {
    if (file[8192 + i] != std::byte{0} || file[12288 + i] != std::byte{0}) FAIL("bitmap byte " << i);
  }

  // Page descriptors, in pfn order of the 2nd bitmap.
  PageDesc d0 = read_struct<PageDesc>(file, 16384 + 0 * 24);
  PageDesc d1 = read_struct<PageDesc>(file, 16384 + 1 * 24);
  PageDesc d2 = read_struct<PageDesc>(file, 16384 + 2 * 24);
  PageDesc d3 = read_struct<PageDesc>(file, 16384 + 3 * 24);
  // The shared zero page is the first data block.
  REQUIRE(i64(d1.offset) == i64(data));
  REQUIRE(u32(d1.size) == kPage);
  REQUIRE(u32(d1.flags) == 0u);
  REQUIRE(u64(d1.page_flags) == 0u);
  REQUIRE(std::memcmp(&d1, &d3, sizeof d1) == 0);
  for (u64 i = 0; i < kPage; ++i) {
    if (file[data + i] != std::byte{0}) FAIL("zero page byte " << i);
  }
  // The raw page follows.
  REQUIRE(i64(d0.offset) == i64(data + kPage));
  REQUIRE(u32(d0.size) == kPage);
  REQUIRE(u32(d0.flags) == 0u);
  REQUIRE(std::vector<std::byte>(file.begin() + d0.offset, file.begin() + d0.offset + kPage) == raw);
  // Then the compressed one, which decompresses to the original.
  REQUIRE(i64(d2.offset) == i64(data + 2 * kPage));
  REQUIRE(u32(d2.size) == packed.size());
  REQUIRE(u32(d2.flags) == kCompressedZlib);
  std::vector<std::byte> unpacked(kPage);
  REQUIRE(zlib->decompress(std::span(file).subspan(d2.offset, d2.size), unpacked));
  REQUIRE(unpacked == text);
}

TEST_CASE("diskdump: uncompressed dump, no notes, bitmaps written window by window", "[writer_diskdump]") {
  TempDir dir;
  const std::string path = dir.file("plain");
  DiskdumpMeta meta;
  meta.max_pfn = 24;
  meta.codec = CodecKind::none;
  meta.dump_level = 0;
  {
    Result<OutputFile> out = OutputFile::create(path, false);
    REQUIRE(out);
    FileSink sink(std::move(*out));
    DiskdumpWriter w(sink, meta);
    REQUIRE(w.write_headers());
    // Three windows of 8 pfns: every pfn present, pfns 8..15 excluded.
    REQUIRE(w.add_bitmaps(0, bits({0xff}), bits({0xff})));
    REQUIRE(w.add_bitmaps(8, bits({0xff}), bits({0x00})));
    REQUIRE(w.add_bitmaps(16, bits({0xff}), bits({0xff})));
    std::vector<std::byte> b2(3);
    REQUIRE(sink.file().read_back(w.layout().bitmap2_offset, b2));
    REQUIRE(b2 == bits({0xff, 0x00, 0xff}));
    REQUIRE(w.start_data(16));
    for (u64 i = 0; i < 16; ++i) REQUIRE(w.add_page(0, pattern_page(i), 0));
    REQUIRE(w.finish());
    REQUIRE(sink.finish());
  }
  std::vector<std::byte> file = read_file(path);
  DiskDumpHeader h = read_struct<DiskDumpHeader>(file, 0);
  REQUIRE(u32(h.status) == 0u);
  REQUIRE(u32(h.max_mapnr) == 24u);
  REQUIRE(i32(h.nr_cpus) == 1);
  KdumpSubHeader kh = read_struct<KdumpSubHeader>(file, 4096);
  REQUIRE(i64(kh.offset_note) == 0);
  REQUIRE(u64(kh.size_note) == 0u);
  REQUIRE(i64(kh.offset_vmcoreinfo) == 0);
  REQUIRE(file[12288] == std::byte{0xff});
  REQUIRE(file[12289] == std::byte{0x00});
  REQUIRE(file[12290] == std::byte{0xff});
  const u64 data = 16384 + 16 * 24;
  for (u64 i = 0; i < 16; ++i) {
    PageDesc d = read_struct<PageDesc>(file, 16384 + i * 24);
    INFO("page " << i);
    REQUIRE(i64(d.offset) == i64(data + kPage + i * kPage));  // after the unused zero page
    REQUIRE(u32(d.size) == kPage);
    REQUIRE(u32(d.flags) == 0u);
    REQUIRE(std::vector<std::byte>(file.begin() + d.offset, file.begin() + d.offset + kPage) ==
            pattern_page(i));
  }
}

TEST_CASE("diskdump: more than a MiB of pages goes through the buffers intact", "[writer_diskdump]") {
  TempDir dir;
  const std::string path = dir.file("big");
  const Notes notes = make_notes();
  DiskdumpMeta meta = make_meta(notes, 400, CodecKind::lzo);
  const u64 n = 400;  // 1.6 MiB of raw pages, 9.6 KiB of descriptors
  {
    Result<OutputFile> out = OutputFile::create(path, false);
    REQUIRE(out);
    FileSink sink(std::move(*out));
    DiskdumpWriter w(sink, meta);
    REQUIRE(w.write_headers());
    std::vector<std::byte> ones(50, std::byte{0xff});
    REQUIRE(w.add_bitmaps(0, ones, ones));
    REQUIRE(w.start_data(n));
    for (u64 i = 0; i < n; ++i) {
      if (i % 3 == 1) REQUIRE(w.add_zero_page(0));
      else REQUIRE(w.add_page(0, pattern_page(i), 0));
    }
    REQUIRE(w.finish());
    REQUIRE(sink.finish());
  }
  std::vector<std::byte> file = read_file(path);
  const u64 desc = plan_diskdump_layout(4096, notes.bytes.size(), 400).desc_offset;
  const u64 data = desc + n * 24;
  u64 next = data + kPage;
  for (u64 i = 0; i < n; ++i) {
    PageDesc d = read_struct<PageDesc>(file, desc + i * 24);
    if (i % 3 == 1) {
      if (u64(d.offset) != data) FAIL("zero page " << i << " at " << i64(d.offset));
      continue;
    }
    if (u64(d.offset) != next || u32(d.size) != kPage) FAIL("page " << i << " at " << i64(d.offset));
    if (std::memcmp(file.data() + next, pattern_page(i).data(), kPage) != 0) FAIL("page " << i << " data");
    next += kPage;
  }
  REQUIRE(file.size() == next);
}

TEST_CASE("diskdump: the page count must match what start_data promised", "[writer_diskdump]") {
  TempDir dir;
  DiskdumpMeta meta;
  meta.max_pfn = 8;
  SECTION("too many") {
    Result<OutputFile> out = OutputFile::create(dir.file("over"), false);
    REQUIRE(out);
    FileSink sink(std::move(*out));
    DiskdumpWriter w(sink, meta);
    REQUIRE(w.write_headers());
    REQUIRE(w.start_data(1));
    REQUIRE(w.add_zero_page(0));
    Result<void> r = w.add_page(0, pattern_page(0), 0);
    REQUIRE_FALSE(r);
    REQUIRE(r.error().code == Errc::corrupt);
    REQUIRE(r.error().msg == "diskdump writer: more pages than the bitmap promised");
  }
  SECTION("too few") {
    Result<OutputFile> out = OutputFile::create(dir.file("under"), false);
    REQUIRE(out);
    FileSink sink(std::move(*out));
    DiskdumpWriter w(sink, meta);
    REQUIRE(w.write_headers());
    REQUIRE(w.start_data(4));
    REQUIRE(w.add_zero_page(0));
    REQUIRE(w.add_page(0, pattern_page(0), 0));
    REQUIRE(w.add_zero_page(0));
    Result<void> r = w.finish();
    REQUIRE_FALSE(r);
    REQUIRE(r.error().code == Errc::corrupt);
    REQUIRE(r.error().msg == "diskdump writer: 3 of 4 pages written");
    // The header still says incomplete.
    std::array<std::byte, 4> status{};
    REQUIRE(sink.file().read_back(offsetof(DiskDumpHeader, status), status));
    REQUIRE((load_le<u32>(status.data()) & kIncomplete) != 0u);
  }
}

TEST_CASE("diskdump: large notes take more sub-header blocks", "[writer_diskdump]") {
  TempDir dir;
  const std::string path = dir.file("notes");
  Notes notes;
  add_note(notes.bytes, "CORE", kNtPrstatus, std::string(5000, 'n'));
  DiskdumpMeta meta;
  meta.max_pfn = 8;
  meta.notes = notes.bytes;
  {
    Result<OutputFile> out = OutputFile::create(path, false);
    REQUIRE(out);
    FileSink sink(std::move(*out));
    DiskdumpWriter w(sink, meta);
    REQUIRE(w.layout().sub_hdr_blocks == 2u);
    REQUIRE(w.layout().bitmap1_offset == 3 * 4096u);
    REQUIRE(w.write_headers());
    REQUIRE(w.add_bitmaps(0, bits({0x01}), bits({0x01})));
    REQUIRE(w.start_data(1));
    REQUIRE(w.add_zero_page(0));
    REQUIRE(w.finish());
    REQUIRE(sink.finish());
  }
  std::vector<std::byte> file = read_file(path);
  DiskDumpHeader h = read_struct<DiskDumpHeader>(file, 0);
  REQUIRE(i32(h.sub_hdr_size) == 2);
  REQUIRE(u32(h.status) == kCompressedZlib);  // DiskdumpMeta's default codec
  KdumpSubHeader kh = read_struct<KdumpSubHeader>(file, 4096);
  REQUIRE(u64(kh.size_note) == notes.bytes.size());
  REQUIRE(i64(kh.offset_vmcoreinfo) == 0);  // no vmcoreinfo given
  REQUIRE(std::memcmp(file.data() + 4200, notes.bytes.data(), notes.bytes.size()) == 0);
  REQUIRE(file[3 * 4096] == std::byte{0x01});
  REQUIRE(file[4 * 4096] == std::byte{0x01});
}

namespace {

// Keeps the file in memory and the size of every write, as the writer hands them out.
class RecordingSink final : public ByteSink {
 public:
  Result<void> write_at(u64 offset, std::span<const std::byte> data) override {
    if (bytes.size() < offset + data.size()) bytes.resize(offset + data.size());
    std::memcpy(bytes.data() + offset, data.data(), data.size());
    writes.push_back({offset, data.size()});
    return {};
  }
  Result<void> finish() override { return {}; }
  Result<std::string> keep_partial() override { return name_; }
  const std::string& name() const override { return name_; }

  std::vector<std::byte> bytes;
  std::vector<std::pair<u64, u64>> writes;  // offset, size

 private:
  std::string name_ = "memory";
};

// Headers, both bitmaps with all n pfns present and kept, and the data's start: where the tests of
// page data begin.
void start_all_kept(DiskdumpWriter& w, u64 n) {
  REQUIRE(w.write_headers());
  std::vector<std::byte> ones(n / 8, std::byte{0xff});
  REQUIRE(w.add_bitmaps(0, ones, ones));
  REQUIRE(w.start_data(n));
}

}  // namespace

TEST_CASE("diskdump: page data and descriptors are written a few hundred KiB at a time",
          "[writer_diskdump]") {
  // In a capture kernel every buffered byte is resident (issue 20): the data buffer holds at most
  // 256 KiB and a page, the descriptor buffer at most 32 KiB, and the dump is unchanged.
  const Notes notes = make_notes();
  const u64 n = 3000;  // 12 MiB of raw pages, 70 KiB of descriptors
  DiskdumpMeta meta = make_meta(notes, n, CodecKind::lzo);
  RecordingSink sink;
  DiskdumpWriter w(sink, meta);
  start_all_kept(w, n);
  const u64 first_data_write = sink.writes.size();
  for (u64 i = 0; i < n; ++i) {
    if (i % 3 == 1) REQUIRE(w.add_zero_page(i));
    else REQUIRE(w.add_page(i, pattern_page(i), 0));
  }
  CHECK(w.buffered_capacity() <= (256u << 10) + (32u << 10) + 2 * (64u << 10));
  REQUIRE(w.finish());
  CHECK(w.buffered_capacity() == 0u);  // given back before the manifest is read back
  const u64 desc = w.layout().desc_offset, data = w.layout().data_offset;
  u64 data_writes = 0, desc_writes = 0;
  for (u64 k = first_data_write; k < sink.writes.size(); ++k) {
    auto [off, size] = sink.writes[k];
    if (off >= data) {
      CHECK(size <= (256u << 10) + kPage);
      ++data_writes;
    } else if (off >= desc) {
      CHECK(size <= (32u << 10));
      ++desc_writes;
    }
  }
  CHECK(data_writes >= 2000 * kPage / ((256u << 10) + kPage));
  CHECK(desc_writes >= 3);
  // Every descriptor and page as the buffers' sizes never change it.
  u64 next = data + kPage;
  for (u64 i = 0; i < n; ++i) {
    PageDesc d = read_struct<PageDesc>(sink.bytes, desc + i * 24);
    if (i % 3 == 1) {
      if (u64(d.offset) != data) FAIL("zero page " << i << " at " << i64(d.offset));
      continue;
    }
    if (u64(d.offset) != next || u32(d.size) != kPage) FAIL("page " << i << " at " << i64(d.offset));
    if (std::memcmp(sink.bytes.data() + next, pattern_page(i).data(), kPage) != 0) FAIL("page " << i << " data");
    next += kPage;
  }
  REQUIRE(sink.bytes.size() == next);
}

TEST_CASE("diskdump: pages stored where page_space lends them make the same file as pages copied in",
          "[writer_diskdump]") {
  // One thread's pipeline stores each job's pages in the data buffer itself (issue 20: no slot,
  // no copy): the file and its writes must be the ones copying would give, the buffer no larger.
  const Notes notes = make_notes();
  const u64 n = 3000, job = 32;
  auto page_bytes = [](u64 i) {
    std::vector<std::byte> p = pattern_page(i);
    p.resize(i % 5 == 0 ? kPage : 100 + (i * 37) % 3000);  // stored sizes of compressed pages
    return p;
  };
  auto run = [&](bool in_place, RecordingSink& sink) {
    DiskdumpWriter w(sink, make_meta(notes, n, CodecKind::lzo));
    start_all_kept(w, n);
    for (u64 j = 0; j < n; j += job) {
      const u64 end = std::min(n, j + job);
      Result<std::span<std::byte>> lent = w.page_space((end - j) * kPage + 64);
      REQUIRE(lent);
      REQUIRE(lent->size() == (end - j) * kPage + 64);
      size_t at = 0;
      std::vector<std::span<const std::byte>> stored;
      std::vector<std::vector<std::byte>> copies;
      for (u64 i = j; i < end; ++i) {
        std::vector<std::byte> p = page_bytes(i);
        if (i % 7 == 3) {
          stored.emplace_back();  // a zero page: no bytes
        } else if (in_place) {
          std::memcpy(lent->data() + at, p.data(), p.size());
          stored.push_back(lent->subspan(at, p.size()));
          at += p.size();
        } else {
          copies.push_back(std::move(p));
          stored.push_back(copies.back());
        }
      }
      for (u64 i = j; i < end; ++i) {
        std::span<const std::byte> s = stored[i - j];
        REQUIRE((s.empty() ? w.add_zero_page(i) : w.add_page(i, s, i % 5 == 0 ? 0 : 4)));
      }
      CHECK(w.buffered_capacity() <= (256u << 10) + (32u << 10) + 2 * (64u << 10));
    }
    REQUIRE(w.finish());
  };
  RecordingSink copied, in_place;
  run(false, copied);
  run(true, in_place);
  CHECK(in_place.writes == copied.writes);
  CHECK(in_place.bytes == copied.bytes);
  for (auto [off, size] : in_place.writes) CHECK(size <= (256u << 10) + kPage);
}

TEST_CASE("diskdump: a pipeline job's room is lent at every page size and codec, 16K and 64K pages too",
          "[writer_diskdump]") {
  // One thread compresses in place only where page_space lends the job's room; a job larger than
  // the data buffer would fall back to a slot (and its memory) on 16K and 64K kernels.
  const Notes notes = make_notes();
  for (u64 ps : {u64{4096}, u64{16384}, u64{65536}}) {
    for (const CodecInfo& ci : kCodecTable) {
      Result<std::unique_ptr<Codec>> codec = make_codec(ci.kind);
      if (ci.kind != CodecKind::none && !codec) continue;  // not in this build (snappy)
      CAPTURE(ps, ci.name);
      const u64 pages = job_pages(ps);
      CHECK(pages * ps == kJobBytes);
      const size_t room = job_room(pages, ps, ci.kind == CodecKind::none ? ps : (*codec)->bound(ps));
      CHECK(room <= DiskdumpWriter::kDataChunk);
      const u64 n = 64;
      DiskdumpMeta m = make_meta(notes, n, ci.kind);
      m.block_size = ps;
      RecordingSink sink;
      DiskdumpWriter w(sink, m);
      start_all_kept(w, n);
      std::vector<std::byte> page = pattern_page(1);
      page.resize(ps);
      for (u64 pfn = 0; pfn < n; pfn += pages) {  // several buffers' worth, so it flushes between
        Result<std::span<std::byte>> lent = w.page_space(room);
        REQUIRE(lent);
        REQUIRE(lent->size() == room);
        for (u64 k = 0; k < pages; ++k) {
          std::memcpy(lent->data() + k * ps, page.data(), ps);
          REQUIRE(w.add_page(pfn + k, lent->subspan(k * ps, ps), 0));
        }
      }
      REQUIRE(w.finish());
    }
  }
}
