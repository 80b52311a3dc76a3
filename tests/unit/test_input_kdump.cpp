// Kdump-compressed input: header versions, codecs, present pages, split pieces, incomplete dumps
// and bad files, on dumps built in code (kdump_fixture.h).
#include <atomic>
#include <catch2/catch.hpp>
#include <thread>

#include "dumpfilter/input_kdump.h"
#include "tests/unit/kdump_fixture.h"

using namespace kk;
using kk::test::KdumpFixture;
using kk::test::page_of;

namespace {

std::unique_ptr<KdumpInput> open_ok(std::vector<std::byte> bytes, const std::string& name = "dump") {
  Result<std::unique_ptr<KdumpInput>> in = KdumpInput::open(std::make_unique<MemorySource>(name, std::move(bytes)));
  INFO((in ? std::string() : in.error().msg));
  REQUIRE(in);
  return std::move(*in);
}

Error open_err(std::vector<std::byte> bytes, const std::string& name = "dump") {
  Result<std::unique_ptr<KdumpInput>> in = KdumpInput::open(std::make_unique<MemorySource>(name, std::move(bytes)));
  REQUIRE_FALSE(in);
  return in.error();
}

// Pages 3..9, 40, 41 (zero), 42 (zero), 70..74, and one across the first window edge is not
// needed with 100 pfns; the split tests use their own.
KdumpFixture sample(CodecKind codec = CodecKind::zlib, int version = 6) {
  KdumpFixture f;
  f.codec = codec;
  f.version = version;
  for (u64 pfn = 3; pfn < 10; ++pfn) f.pages[pfn] = page_of(pfn);
  f.pages[40] = page_of(40);
  f.pages[41] = std::vector<std::byte>(4096);
  f.pages[42] = std::vector<std::byte>(4096);
  for (u64 pfn = 70; pfn < 75; ++pfn) f.pages[pfn] = page_of(pfn);
  return f;
}

void require_pages_match(const KdumpInput& in, const KdumpFixture& f) {
  std::vector<std::byte> buf(4096);
  for (const auto& [pfn, want] : f.pages) {
    INFO("pfn " << pfn);
    Result<void> r = in.read_pages(pfn, 1, buf);
    INFO((r ? std::string() : r.error().msg));
    REQUIRE(r);
    REQUIRE(buf == want);
  }
}

}  // namespace

TEST_CASE("kdump input: every codec reads back the page bytes", "[input_kdump]") {
  CodecKind codec = GENERATE(CodecKind::none, CodecKind::zlib, CodecKind::lzo, CodecKind::zstd, CodecKind::snappy);
  if (!codec_available(codec)) return;  // snappy without libsnappy
  KdumpFixture f = sample(codec);
  auto in = open_ok(f.build());
  REQUIRE(in->max_pfn() == 100);
  REQUIRE(in->page_size() == 4096);
  REQUIRE(in->dumped_pages() == f.pages.size());
  REQUIRE(in->vmcoreinfo().osrelease() == "6.1.0-56-amd64");
  REQUIRE(in->nr_cpus() == 2);  // NT_PRSTATUS notes, not the header's 7
  require_pages_match(*in, f);
  // Several pages at once, across the shared zero page.
  std::vector<std::byte> run(3 * 4096);
  REQUIRE(in->read_pages(40, 3, run));
  REQUIRE(std::equal(run.begin(), run.begin() + 4096, f.pages[40].begin()));
  REQUIRE(std::all_of(run.begin() + 4096, run.end(), [](std::byte b) { return b == std::byte{0}; }));
}

TEST_CASE("kdump input: present runs are the 2nd bitmap, clipped", "[input_kdump]") {
  auto in = open_ok(sample().build());
  std::vector<PfnRun> r = in->present_runs(0, 100);
  REQUIRE(r.size() == 3);
  REQUIRE((r[0].start == 3 && r[0].end == 10));
  REQUIRE((r[1].start == 40 && r[1].end == 43));
  REQUIRE((r[2].start == 70 && r[2].end == 75));
  std::vector<PfnRun> c = in->present_runs(5, 72);
  REQUIRE((c.front().start == 5 && c.back().end == 72));
}

TEST_CASE("kdump input: a page left out of the dump is absent, not zeros", "[input_kdump]") {
  auto in = open_ok(sample().build());
  std::vector<std::byte> buf(4096);
  Result<void> r = in->read_pages(20, 1, buf);
  REQUIRE_FALSE(r);
  REQUIRE(r.error().code == Errc::missing);
  REQUIRE(r.error().msg == "dump: pfn 0x14 is not in the dump");
  std::vector<std::byte> two(2 * 4096);
  REQUIRE_FALSE(in->read_pages(9, 2, two));  // 9 present, 10 not
  Result<void> p = in->read_phys(20 * 4096 + 8, std::span(buf).first(8));
  REQUIRE_FALSE(p);
  REQUIRE(p.error().msg == "dump: physical address 0x14008 is not in the dump");
}

TEST_CASE("kdump input: read_phys spans pages and reads the same bytes again", "[input_kdump]") {
  KdumpFixture f = sample();
  auto in = open_ok(f.build());
  std::vector<std::byte> buf(100);
  REQUIRE(in->read_phys(4 * 4096 - 50, buf));
  REQUIRE(std::equal(buf.begin(), buf.begin() + 50, f.pages[3].end() - 50));
  REQUIRE(std::equal(buf.begin() + 50, buf.end(), f.pages[4].begin()));
  std::vector<std::byte> again(100);
  REQUIRE(in->read_phys(4 * 4096 - 50, again));  // from the page cache
  REQUIRE(again == buf);
}

TEST_CASE("kdump input: header versions 1 to 6", "[input_kdump]") {
  int version = GENERATE(1, 2, 3, 4, 5, 6);
  INFO("version " << version);
  KdumpFixture f = sample(CodecKind::zlib, version);
  if (version < 3) {
    // No vmcoreinfo before version 3: nothing to work out the kernel from.
    Error e = open_err(f.build());
    REQUIRE(e.code == Errc::missing);
    REQUIRE(e.msg.find("no VMCOREINFO") != std::string::npos);
    return;
  }
  auto in = open_ok(f.build());
  REQUIRE(in->layout().version == version);
  REQUIRE(in->max_pfn() == 100);
  REQUIRE(in->vmcoreinfo().osrelease() == "6.1.0-56-amd64");
  // Version 3 has vmcoreinfo but no notes: the reader makes the VMCOREINFO note the output needs.
  std::span<const std::byte> notes = in->note_bytes();
  std::string text(reinterpret_cast<const char*>(notes.data() + in->vmcoreinfo_offset_in_notes()),
                   in->vmcoreinfo_size());
  REQUIRE(text == f.vmcoreinfo);
  REQUIRE(in->nr_cpus() == (version >= 4 ? 2 : 7));
  require_pages_match(*in, f);
}

TEST_CASE("kdump input: one piece of a split set holds its range only", "[input_kdump]") {
  KdumpFixture f;
  f.max_mapnr = 100000;  // three bitmap windows
  for (u64 pfn : {1ull, 2ull, 32767ull, 32768ull, 32769ull, 50000ull, 65536ull, 99999ull}) f.pages[pfn] = page_of(pfn);
  f.split = true;
  f.start_pfn = 32768;
  f.end_pfn = 65537;
  auto in = open_ok(f.build());
  REQUIRE(in->layout().split);
  REQUIRE(in->dumped_pages() == 4);  // 32768, 32769, 50000, 65536
  std::vector<PfnRun> r = in->present_runs(0, 100000);
  REQUIRE(r.size() == 3);
  REQUIRE((r[0].start == 32768 && r[0].end == 32770));
  REQUIRE((r[2].start == 65536 && r[2].end == 65537));
  std::vector<std::byte> buf(4096);
  for (u64 pfn : {32768ull, 32769ull, 50000ull, 65536ull}) {
    REQUIRE(in->read_pages(pfn, 1, buf));
    REQUIRE(buf == f.pages[pfn]);
  }
  REQUIRE_FALSE(in->read_pages(2, 1, buf));  // in the bitmap, in another piece
  REQUIRE_FALSE(in->read_pages(99999, 1, buf));
}

TEST_CASE("kdump input: windows of the page index across 64-bit pfns", "[input_kdump]") {
  KdumpFixture f;
  f.max_mapnr = 3 * kKdumpWindowPfns + 5;
  f.codec = CodecKind::none;
  for (u64 w = 0; w < 3; ++w)
    for (u64 k : {0ull, 1ull, 4095ull, 32767ull}) f.pages[w * kKdumpWindowPfns + k] = page_of(w * 7 + k);
  f.pages[3 * kKdumpWindowPfns + 4] = page_of(5);
  auto in = open_ok(f.build());
  require_pages_match(*in, f);
}

TEST_CASE("kdump input: an incomplete dump keeps its usable prefix", "[input_kdump]") {
  KdumpFixture f = sample(CodecKind::none);
  f.incomplete = true;
  std::vector<std::byte> bytes = f.build();
  // Cut after the 8th page's data: descriptors past it point beyond the end of the file.
  u64 keep = f.data_offset + 8 * 4096;
  bytes.resize(keep);
  auto in = open_ok(bytes);
  REQUIRE(in->incomplete());
  REQUIRE(in->usable_pages() == 8);  // 3..9 and 40
  std::vector<PfnRun> r = in->present_runs(0, 100);
  REQUIRE(r.size() == 2);
  REQUIRE((r[1].start == 40 && r[1].end == 41));
  std::vector<std::byte> buf(4096);
  REQUIRE(in->read_pages(40, 1, buf));
  REQUIRE(buf == f.pages[40]);
  REQUIRE(in->read_pages(70, 1, buf).error().code == Errc::missing);
}

TEST_CASE("kdump input: pages lost inside an incomplete dump stay lost, the rest reads", "[input_kdump]") {
  KdumpFixture f = sample(CodecKind::none);
  f.incomplete = true;
  std::vector<std::byte> bytes = f.build();
  // All-zero descriptors, as dumpfilter writes for input pages it could not read: pfn 5 (index 2)
  // and pfn 40 (index 7, where the bisection for the usable end probes first).
  for (u64 index : {u64{2}, u64{7}})
    std::fill_n(bytes.begin() + static_cast<std::ptrdiff_t>(f.desc_offset + index * sizeof(diskdump::PageDesc)),
                sizeof(diskdump::PageDesc), std::byte{0});
  auto in = open_ok(bytes, "lost.dump");
  REQUIRE(in->usable_pages() == 15);
  std::vector<PfnRun> r = in->present_runs(0, 100);
  REQUIRE(r.back().end == 75);
  std::vector<std::byte> buf(4096);
  Result<void> lost = in->read_pages(5, 1, buf);
  REQUIRE_FALSE(lost);
  REQUIRE(lost.error().code == Errc::io);  // a read error: a re-filter marks it lost and goes on
  REQUIRE(lost.error().msg == "lost.dump: pfn 0x5 was lost when the dump was taken");
  REQUIRE_FALSE(in->read_pages(40, 1, buf));
  REQUIRE(in->read_pages(6, 1, buf));
  REQUIRE(buf == f.pages[6]);
  REQUIRE(in->read_pages(72, 1, buf));
  REQUIRE(buf == f.pages[72]);
}

TEST_CASE("kdump input: a complete-looking dump cut short names the descriptor or data", "[input_kdump]") {
  KdumpFixture f = sample(CodecKind::none);
  std::vector<std::byte> bytes = f.build();
  SECTION("data cut") {
    bytes.resize(f.data_offset + 2 * 4096);
    auto in = open_ok(bytes, "cut.dump");
    std::vector<std::byte> buf(4096);
    Result<void> r = in->read_pages(70, 1, buf);
    REQUIRE_FALSE(r);
    REQUIRE(r.error().code == Errc::truncated);
    REQUIRE(r.error().msg.rfind("cut.dump: pfn 0x46: page data at ", 0) == 0);
    REQUIRE(r.error().msg.find("past end of file") != std::string::npos);
  }
  SECTION("descriptors cut") {
    bytes.resize(f.desc_offset + 24 * 3);
    auto in = open_ok(bytes, "cut.dump");
    std::vector<std::byte> buf(4096);
    Result<void> r = in->read_pages(70, 1, buf);
    REQUIRE(r.error().msg.rfind("cut.dump: page descriptor for pfn 0x46 at ", 0) == 0);
  }
}

TEST_CASE("kdump input: bad files are one-line errors naming the file", "[input_kdump]") {
  KdumpFixture f = sample();
  std::vector<std::byte> good = f.build();
  SECTION("bad signature") {
    std::vector<std::byte> b = good;
    b[0] = std::byte{'X'};
    REQUIRE(open_err(b, "x.dump").msg == "x.dump: not a kdump-compressed file (bad signature)");
  }
  SECTION("future header version") {
    std::vector<std::byte> b = good;
    KdumpFixture::put(b, 8, il32(7));
    Error e = open_err(b, "x.dump");
    REQUIRE(e.code == Errc::unsupported);
    REQUIRE(e.msg == "x.dump: kdump-compressed header version 7 (this reader knows 1 to 6)");
  }
  SECTION("header only") {
    std::vector<std::byte> b(good.begin(), good.begin() + 200);
    REQUIRE(open_err(b, "x.dump").msg == "x.dump: kdump-compressed header truncated (file is 200 bytes)");
  }
  SECTION("bitmaps cut") {
    std::vector<std::byte> b(good.begin(), good.begin() + 3 * 4096);
    Error e = open_err(b, "x.dump");
    REQUIRE(e.code == Errc::truncated);
    REQUIRE(e.msg.rfind("x.dump: bitmaps at 0x2000", 0) == 0);
  }
  SECTION("bad block size") {
    std::vector<std::byte> b = good;
    KdumpFixture::put(b, offsetof(diskdump::DiskDumpHeader, block_size), il32(1000));
    REQUIRE(open_err(b, "x.dump").msg == "x.dump: implausible block size 1000");
  }
  SECTION("other architecture") {
    KdumpFixture g = sample();
    g.machine = "s390x";
    REQUIRE(open_err(g.build(), "x.dump").code == Errc::unsupported);
  }
  SECTION("bad compressed page") {
    std::vector<std::byte> b = good;
    diskdump::PageDesc d;
    std::memcpy(&d, b.data() + f.desc_offset, sizeof d);
    for (u32 i = 0; i < d.size; ++i) b[u64(i64(d.offset)) + i] = std::byte{0xff};
    auto in = open_ok(b, "x.dump");
    std::vector<std::byte> buf(4096);
    Result<void> r = in->read_pages(3, 1, buf);
    REQUIRE(r.error().code == Errc::corrupt);
    REQUIRE(r.error().msg.rfind("x.dump: pfn 0x3: bad compressed page (zlib)", 0) == 0);
    REQUIRE(r.error().msg.find('\n') == std::string::npos);
  }
  SECTION("unknown compression flag") {
    std::vector<std::byte> b = good;
    KdumpFixture::put(b, f.desc_offset + offsetof(diskdump::PageDesc, flags), ul32(0x40));
    auto in = open_ok(b, "x.dump");
    std::vector<std::byte> buf(4096);
    REQUIRE(in->read_pages(3, 1, buf).error().msg == "x.dump: pfn 0x3: unknown compression flags 0x40");
  }
}

TEST_CASE("kdump input: reader threads share one input", "[input_kdump]") {
  // The dump pipeline reads pages from several threads: codec pool and page cache are shared.
  KdumpFixture f;
  f.max_mapnr = 4000;
  for (u64 pfn = 0; pfn < 4000; pfn += 3) f.pages[pfn] = page_of(pfn);
  auto in = open_ok(f.build());
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      std::vector<std::byte> page(4096), word(8);
      for (u64 pfn = static_cast<u64>(t) * 3; pfn < 4000; pfn += 12) {
        if (!in->read_pages(pfn, 1, page) || page != f.pages[pfn]) ++bad;
        if (!in->read_phys(pfn * 4096 + 16, word) || !std::equal(word.begin(), word.end(), f.pages[pfn].begin() + 16))
          ++bad;
      }
    });
  for (std::thread& t : threads) t.join();
  REQUIRE(bad == 0);
}

// present_runs skips clear and takes set 64-bit words whole: runs must be the same as bit by bit,
// whatever the range's alignment, across word and window edges.
TEST_CASE("kdump input: present runs across whole, partial and empty bitmap words", "[input_kdump]") {
  KdumpFixture f;
  f.codec = CodecKind::none;
  f.max_mapnr = kKdumpWindowPfns + 300;
  auto add = [&](u64 a, u64 b) {
    for (u64 pfn = a; pfn < b; ++pfn) f.pages[pfn] = std::vector<std::byte>(4096, std::byte(pfn & 0xff));
  };
  add(64, 192);                                // two whole words
  add(200, 201);                               // a lone bit
  add(255, 257);                               // across a word edge
  add(320, 383);                               // a word less its last bit
  add(kKdumpWindowPfns - 3, kKdumpWindowPfns + 70);  // across the window edge
  auto in = open_ok(f.build());
  for (auto [lo, hi] : std::vector<std::pair<u64, u64>>{{0, f.max_mapnr}, {1, 400}, {65, 191},
                                                       {64, 128}, {130, 330}, {kKdumpWindowPfns - 1, kKdumpWindowPfns + 65}}) {
    INFO(lo << ".." << hi);
    std::vector<PfnRun> want;
    for (const auto& [pfn, page] : f.pages) {
      if (pfn < lo || pfn >= hi) continue;
      if (!want.empty() && want.back().end == pfn) ++want.back().end;
      else want.push_back({pfn, pfn + 1});
    }
    std::vector<PfnRun> got = in->present_runs(lo, hi);
    REQUIRE(got.size() == want.size());
    for (size_t i = 0; i < got.size(); ++i) {
      INFO(i);
      CHECK(got[i].start == want[i].start);
      CHECK(got[i].end == want[i].end);
    }
  }
}

// Issue 18: the uts machine string is the crashed kernel's; an error quoting it must not carry
// an ESC or another control byte to the terminal.
TEST_CASE("kdump input: the machine string is escaped in the error", "[input_kdump]") {
  KdumpFixture g = sample();
  g.machine = "\x1b[2J\x1b]0;x\x07\r";
  Error e = open_err(g.build(), "x.dump");
  REQUIRE(e.code == Errc::unsupported);
  REQUIRE(e.msg == "x.dump: dump of another architecture (\\x1b[2J\\x1b]0;x\\x07\\x0d); this dumpfilter "
                   "reads x86_64 dumps");
}

// Issue 18: the notes are read whole, so their size must be backed by bytes the source really
// holds, not only lie below its (for a flattened stream, freely inflated) end.
TEST_CASE("kdump input: notes larger than the stored bytes are refused before reading",
          "[input_kdump]") {
  // A source whose size is its stored bytes plus a hole, like a flattened stream with a far
  // empty record: reads in the hole give zeros.
  class Holey final : public ByteSource {
   public:
    explicit Holey(std::vector<std::byte> b) : bytes_(std::move(b)) {}
    const std::string& path() const override { return name_; }
    u64 size() const override { return u64{1} << 40; }
    u64 stored_size() const override { return bytes_.size(); }
    Result<void> read_at(u64 off, std::span<std::byte> out) const override {
      for (size_t i = 0; i < out.size(); ++i) out[i] = off + i < bytes_.size() ? bytes_[off + i] : std::byte{0};
      return {};
    }

   private:
    std::string name_ = "holey.dump";
    std::vector<std::byte> bytes_;
  };
  KdumpFixture f = sample();
  std::vector<std::byte> b = f.build();
  diskdump::KdumpSubHeader s;
  std::memcpy(&s, b.data() + f.ps, sizeof s);
  s.offset_note = i64{1} << 30;
  s.size_note = 12u << 20;  // under the notes' own limit, but not in the file
  std::memcpy(b.data() + f.ps, &s, sizeof s);
  Result<std::unique_ptr<KdumpInput>> in = KdumpInput::open(std::make_unique<Holey>(std::move(b)));
  REQUIRE_FALSE(in);
  REQUIRE(in.error().code == Errc::truncated);
  REQUIRE(in.error().msg.rfind("holey.dump: notes of 12582912 bytes", 0) == 0);
}
