// Flattened files: the record index (any record order, overwrites, holes), the kdump reader on
// top of it, -R's streaming rebuild, and the errors for cut or damaged streams.
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "dumpfilter/input_flattened.h"
#include "dumpfilter/input_kdump.h"
#include "dumpfilter/rearrange.h"
#include "dumpfilter/vmcore_input.h"
#include "tests/unit/kdump_fixture.h"

using namespace kk;
using kk::test::flatten;
using kk::test::KdumpFixture;
using kk::test::page_of;

namespace {

struct TempDir {
  std::string path;
  TempDir() {
    char t[] = "/tmp/kk-flat-test.XXXXXX";
    path = ::mkdtemp(t);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string write(const std::string& name, const std::vector<std::byte>& bytes) const {
    std::string p = path + "/" + name;
    int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    REQUIRE(fd >= 0);
    REQUIRE(::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()));
    ::close(fd);
    return p;
  }
};

std::vector<std::byte> read_all(const std::string& p) {
  Result<InputFile> f = InputFile::open(p);
  REQUIRE(f);
  std::vector<std::byte> b(f->size());
  REQUIRE(f->read_at(0, b));
  return b;
}

Result<std::unique_ptr<FlattenedSource>> open_flat(const TempDir& d, const std::vector<std::byte>& stream,
                                                   u64 max_records = kMaxFlatRecords) {
  Result<InputFile> f = InputFile::open(d.write("stream.flat", stream));
  REQUIRE(f);
  return FlattenedSource::open(std::move(*f), max_records);
}

// A stream of hand-made records: (offset, text).
std::vector<std::byte> stream_of(const std::vector<std::pair<i64, std::string>>& records, bool end = true) {
  std::vector<std::byte> s = flatten({}, 1, {}, false);
  for (const auto& [off, text] : records) {
    flattened::RecordHeader r;
    r.offset = off;
    r.size = static_cast<i64>(text.size());
    const std::byte* rb = reinterpret_cast<const std::byte*>(&r);
    s.insert(s.end(), rb, rb + sizeof r);
    for (char c : text) s.push_back(std::byte(c));
  }
  if (end) {
    flattened::RecordHeader r;
    r.offset = -1;
    r.size = -1;
    const std::byte* rb = reinterpret_cast<const std::byte*>(&r);
    s.insert(s.end(), rb, rb + sizeof r);
  }
  return s;
}

std::string read_str(const ByteSource& s, u64 off, u64 n) {
  std::vector<std::byte> b(n);
  Result<void> r = s.read_at(off, b);
  INFO((r ? std::string() : r.error().msg));
  REQUIRE(r);
  return std::string(reinterpret_cast<const char*>(b.data()), n);
}

}  // namespace

TEST_CASE("flattened: records in any order read as the rebuilt file", "[input_flattened]") {
  TempDir d;
  KdumpFixture f;
  for (u64 pfn = 5; pfn < 30; ++pfn) f.pages[pfn] = page_of(pfn);
  std::vector<std::byte> file = f.build();
  u64 chunk = 5000;  // records cut across every structure
  size_t n = div_round_up(file.size(), chunk);
  std::vector<size_t> order;
  SECTION("stream order") {}
  SECTION("reversed") {
    for (size_t i = n; i-- > 0;) order.push_back(i);
  }
  SECTION("interleaved, as makedumpfile writes descriptors and data") {
    for (size_t i = 0; i < n; i += 2) order.push_back(i);
    for (size_t i = 1; i < n; i += 2) order.push_back(i);
  }
  auto src = open_flat(d, flatten(file, chunk, order));
  REQUIRE(src);
  REQUIRE((*src)->size() == file.size());
  REQUIRE((*src)->pieces().size() == n);
  std::vector<std::byte> all(file.size());
  REQUIRE((*src)->read_at(0, all));
  REQUIRE(all == file);
  std::vector<std::byte> mid(7777);
  REQUIRE((*src)->read_at(4999, mid));
  REQUIRE(std::equal(mid.begin(), mid.end(), file.begin() + 4999));
  // The kdump reader over the index.
  Result<std::unique_ptr<KdumpInput>> in = KdumpInput::open(std::move(*src));
  REQUIRE(in);
  std::vector<std::byte> page(4096);
  for (u64 pfn = 5; pfn < 30; ++pfn) {
    REQUIRE((*in)->read_pages(pfn, 1, page));
    REQUIRE(page == f.pages[pfn]);
  }
}

TEST_CASE("flattened: a later record overwrites, holes read as zeros", "[input_flattened]") {
  TempDir d;
  auto src = open_flat(d, stream_of({{0, "aaaaaaaaaa"}, {20, "cccccccccc"}, {5, "bbbbbbbbbbbbbbbbbb"}, {2, "X"}}));
  REQUIRE(src);
  const FlattenedSource& s = **src;
  REQUIRE(s.size() == 30);
  REQUIRE(read_str(s, 0, 30) == "aaXaabbbbbbbbbbbbbbbbbbccccccc");
  auto holes = open_flat(d, stream_of({{0, "ab"}, {10, "cd"}}));
  REQUIRE(holes);
  REQUIRE(read_str(**holes, 0, 12) == std::string("ab") + std::string(8, '\0') + "cd");
  std::vector<std::byte> two(2);
  Result<void> past = (*holes)->read_at(11, two);
  REQUIRE(past.error().code == Errc::truncated);
}

TEST_CASE("flattened: index folding keeps the last writer everywhere", "[input_flattened]") {
  FlatIndexBuilder b;
  b.add({100, 1000, 100});  // [100, 200)
  b.add({150, 2000, 10});   // [150, 160) inside it
  b.add({50, 3000, 60});    // [50, 110) over its start
  b.add({190, 4000, 0});    // empty: counted, not indexed
  std::vector<FlatPiece> p = b.finish();
  REQUIRE(b.records() == 4);
  REQUIRE(p.size() == 4);
  REQUIRE((p[0].offset == 50 && p[0].size == 60 && p[0].in_offset == 3000));
  REQUIRE((p[1].offset == 110 && p[1].size == 40 && p[1].in_offset == 1010));
  REQUIRE((p[2].offset == 150 && p[2].size == 10 && p[2].in_offset == 2000));
  REQUIRE((p[3].offset == 160 && p[3].size == 40 && p[3].in_offset == 1060));
}

TEST_CASE("flattened: cut and damaged streams are errors naming the file", "[input_flattened]") {
  TempDir d;
  std::vector<std::byte> good = stream_of({{0, "hello"}, {5, "world"}});
  SECTION("no end marker") {
    std::vector<std::byte> s(good.begin(), good.end() - 16);
    Error e = open_flat(d, s).error();
    REQUIRE(e.code == Errc::truncated);
    REQUIRE(e.msg == d.path + "/stream.flat: truncated flattened stream: no end marker (stream ends at 0x102a)");
  }
  SECTION("record data cut") {
    std::vector<std::byte> s(good.begin(), good.end() - 20);
    Error e = open_flat(d, s).error();
    REQUIRE(e.msg == d.path + "/stream.flat: truncated flattened stream: record at 0x1015 holds 5 bytes but the "
                              "stream ends at 0x1026");
  }
  SECTION("header block cut") {
    std::vector<std::byte> s(good.begin(), good.begin() + 100);
    REQUIRE(open_flat(d, s).error().msg ==
            d.path + "/stream.flat: truncated flattened stream: header block is 100 of 4096 bytes");
  }
  SECTION("bad header") {
    std::vector<std::byte> s = good;
    s[12] = std::byte{'!'};
    REQUIRE(open_flat(d, s).error().msg == d.path + "/stream.flat: bad flattened header (no makedumpfile signature)");
    s = good;
    s[31] = std::byte{2};  // version 2
    REQUIRE(open_flat(d, s).error().msg ==
            d.path + "/stream.flat: bad flattened header (type 1, version 2; this reader knows 1, 1)");
  }
  SECTION("negative record") {
    std::vector<std::byte> s = stream_of({{-5, "x"}});
    REQUIRE(open_flat(d, s).error().msg.find("bad flattened record at 0x1000 (offset -5, size 1)") !=
            std::string::npos);
  }
  SECTION("more records than the bound") {
    Error e = open_flat(d, good, 1).error();
    REQUIRE(e.code == Errc::unsupported);
    REQUIRE(e.msg.find("more than 1 records; rebuild it with 'dumpfilter -R' first") != std::string::npos);
  }
  REQUIRE(is_flattened_signature(good));
  REQUIRE_FALSE(is_flattened_signature(std::vector<std::byte>(16)));
}

TEST_CASE("rearrange: -R rebuilds the file; a cut stream leaves nothing", "[rearrange]") {
  TempDir d;
  KdumpFixture f;
  for (u64 pfn = 1; pfn < 60; ++pfn) f.pages[pfn] = page_of(pfn);
  std::vector<std::byte> file = f.build();
  size_t n = div_round_up(file.size(), 3000);
  std::vector<size_t> order;
  for (size_t i = n; i-- > 0;) order.push_back(i);
  std::vector<std::byte> stream = flatten(file, 3000, order);
  std::string out_path = d.path + "/dump";

  SECTION("whole stream") {
    int fd = ::open(d.write("in.flat", stream).c_str(), O_RDONLY);
    Result<OutputFile> out = OutputFile::create(out_path, false);
    REQUIRE(out);
    Result<u64> size = rearrange_flattened(fd, "stdin", *out);
    ::close(fd);
    REQUIRE(size);
    REQUIRE(*size == file.size());
    REQUIRE(out->publish());
    REQUIRE(read_all(out_path) == file);
    struct stat st;
    REQUIRE(::stat(out_path.c_str(), &st) == 0);
    REQUIRE((st.st_mode & 0777) == 0600);
  }
  SECTION("cut in a record") {
    std::vector<std::byte> cut(stream.begin(), stream.begin() + 4096 + 16 + 1000);
    int fd = ::open(d.write("in.flat", cut).c_str(), O_RDONLY);
    {
      Result<OutputFile> out = OutputFile::create(out_path, false);
      REQUIRE(out);
      Result<u64> size = rearrange_flattened(fd, "stdin", *out);
      REQUIRE_FALSE(size);
      REQUIRE(size.error().code == Errc::truncated);
      REQUIRE(size.error().msg.rfind("stdin: truncated flattened stream: record ", 0) == 0);
      REQUIRE(size.error().msg.find("cut short (stream ends at 0x13f8)") != std::string::npos);
    }
    ::close(fd);
    REQUIRE(std::filesystem::directory_iterator(d.path)->path().filename() == "in.flat");
    REQUIRE(std::distance(std::filesystem::directory_iterator(d.path), std::filesystem::directory_iterator()) == 1);
  }
  SECTION("no end marker") {
    std::vector<std::byte> cut(stream.begin(), stream.end() - 16);
    int fd = ::open(d.write("in.flat", cut).c_str(), O_RDONLY);
    Result<OutputFile> out = OutputFile::create(out_path, false);
    REQUIRE(out);
    Result<u64> size = rearrange_flattened(fd, "stdin", *out);
    ::close(fd);
    REQUIRE(size.error().code == Errc::truncated);
    REQUIRE(size.error().msg.find("record header at ") != std::string::npos);
  }
  SECTION("bad header") {
    std::vector<std::byte> bad = stream;
    bad[0] = std::byte{'M'};
    int fd = ::open(d.write("in.flat", bad).c_str(), O_RDONLY);
    Result<OutputFile> out = OutputFile::create(out_path, false);
    REQUIRE(out);
    Result<u64> size = rearrange_flattened(fd, "stdin", *out);
    ::close(fd);
    REQUIRE(size.error().msg == "stdin: bad flattened header (no makedumpfile signature)");
  }
}

// Issue 18 (hostile dumps): a flattened stream makes the rebuilt file as large as its highest
// record says, for free (a zero-length record far out). Sizes in the kdump header must be
// checked against the bytes the stream really holds: a max_mapnr of 2^45 behind such a record
// once made the reader allocate 8 GiB of page index (std::bad_alloc, an abort), and 2^38 took
// seconds of bitmap walking over holes.
TEST_CASE("flattened: a huge max_mapnr behind a far zero-length record is refused quickly",
          "[input_flattened]") {
  TempDir d;
  KdumpFixture f;
  for (u64 pfn = 3; pfn < 10; ++pfn) f.pages[pfn] = page_of(pfn);
  std::vector<std::byte> file = f.build();
  u64 max_mapnr = GENERATE(u64{1} << 38, u64{1} << 45);
  diskdump::DiskDumpHeader h;
  std::memcpy(&h, file.data(), sizeof h);
  h.bitmap_blocks = static_cast<u32>(max_mapnr / 8 * 2 / f.ps);  // both bitmaps hold max_mapnr
  std::memcpy(file.data(), &h, sizeof h);
  diskdump::KdumpSubHeader s;
  std::memcpy(&s, file.data() + f.ps, sizeof s);
  s.max_mapnr_64 = max_mapnr;
  std::memcpy(file.data() + f.ps, &s, sizeof s);
  std::vector<std::byte> stream = flatten(file, 4096, {}, false);
  for (i64 off : {i64(max_mapnr / 2), i64(-1)}) {  // the far empty record, then the end marker
    flattened::RecordHeader r;
    r.offset = off;
    r.size = off < 0 ? -1 : 0;
    const std::byte* rb = reinterpret_cast<const std::byte*>(&r);
    stream.insert(stream.end(), rb, rb + sizeof r);
  }
  std::string path = d.write("huge.flat", stream);
  auto t0 = std::chrono::steady_clock::now();
  Result<std::unique_ptr<DumpInput>> in = open_dump_input(path);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  REQUIRE_FALSE(in);
  CHECK(in.error().code == Errc::truncated);
  CHECK(in.error().msg.find(path + ": ") == 0);
  CHECK(in.error().msg.find("bitmaps") != std::string::npos);
  CHECK(in.error().msg.find('\n') == std::string::npos);
  CHECK(secs < 0.5);
}
