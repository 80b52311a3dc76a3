// --reassemble: a split set built in code is ordered, checked and merged into one dump that reads
// back with every page of every piece.
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "dumpfilter/reassemble.h"
#include "tests/unit/kdump_fixture.h"

using namespace kk;
using kk::test::KdumpFixture;
using kk::test::page_of;

namespace {

// Pages spread over three windows, zero pages in each piece, split at 30000 and 70000.
KdumpFixture piece(u64 start, u64 end, CodecKind codec = CodecKind::zlib) {
  KdumpFixture f;
  f.max_mapnr = 100000;
  f.codec = codec;
  for (u64 pfn = 0; pfn < 100000; pfn += 997) f.pages[pfn] = page_of(pfn);
  for (u64 pfn : {10ull, 40000ull, 90000ull}) f.pages[pfn] = std::vector<std::byte>(4096);
  f.split = true;
  f.start_pfn = start;
  f.end_pfn = end;
  return f;
}

std::unique_ptr<KdumpInput> open_mem(KdumpFixture f, const std::string& name) {
  Result<std::unique_ptr<KdumpInput>> in = KdumpInput::open(std::make_unique<MemorySource>(name, f.build()));
  REQUIRE(in);
  return std::move(*in);
}

Error order_err(std::vector<std::unique_ptr<KdumpInput>>& v) {
  std::vector<const KdumpInput*> p;
  for (auto& i : v) p.push_back(i.get());
  Result<std::vector<size_t>> r = order_split_set(p);
  REQUIRE_FALSE(r);
  return r.error();
}

}  // namespace

TEST_CASE("reassemble: pieces are put in pfn order", "[reassemble]") {
  std::vector<std::unique_ptr<KdumpInput>> v;
  v.push_back(open_mem(piece(70000, 100000), "c"));
  v.push_back(open_mem(piece(0, 30000), "a"));
  v.push_back(open_mem(piece(30000, 70000), "b"));
  std::vector<const KdumpInput*> p{v[0].get(), v[1].get(), v[2].get()};
  Result<std::vector<size_t>> order = order_split_set(p);
  REQUIRE(order);
  REQUIRE(*order == std::vector<size_t>{1, 2, 0});
}

TEST_CASE("reassemble: sets that do not fit together", "[reassemble]") {
  std::vector<std::unique_ptr<KdumpInput>> v;
  SECTION("gap") {
    v.push_back(open_mem(piece(0, 30000), "a"));
    v.push_back(open_mem(piece(40000, 100000), "b"));
    REQUIRE(order_err(v).msg == "b: pfns 0x9c40-0x186a0 leave a gap after a's pfns 0x0-0x7530");
  }
  SECTION("overlap") {
    v.push_back(open_mem(piece(0, 30000), "a"));
    v.push_back(open_mem(piece(20000, 100000), "b"));
    REQUIRE(order_err(v).msg == "b: pfns 0x4e20-0x186a0 overlap a's pfns 0x0-0x7530");
  }
  SECTION("missing last piece") {
    v.push_back(open_mem(piece(0, 30000), "a"));
    v.push_back(open_mem(piece(30000, 70000), "b"));
    REQUIRE(order_err(v).msg == "b: the set ends at pfn 0x11170, not at max_mapnr 0x186a0: a piece is missing");
  }
  SECTION("missing first piece") {
    v.push_back(open_mem(piece(30000, 70000), "b"));
    v.push_back(open_mem(piece(70000, 100000), "c"));
    REQUIRE(order_err(v).msg == "b: pfns 0x7530-0x11170 leave a gap after pfn 0");
  }
  SECTION("another kernel") {
    v.push_back(open_mem(piece(0, 30000), "a"));
    KdumpFixture other = piece(30000, 100000);
    other.vmcoreinfo = "OSRELEASE=6.1.0-57-amd64\nPAGESIZE=4096\n";
    v.push_back(open_mem(other, "b"));
    REQUIRE(order_err(v).msg == "b: notes and vmcoreinfo differs from a's: not pieces of the same dump");
  }
  SECTION("another max_mapnr") {
    v.push_back(open_mem(piece(0, 30000), "a"));
    KdumpFixture other = piece(30000, 90000);
    other.max_mapnr = 90000;
    v.push_back(open_mem(other, "b"));
    REQUIRE(order_err(v).msg == "b: max_mapnr differs from a's: not pieces of the same dump");
  }
  SECTION("not split") {
    v.push_back(open_mem(piece(0, 30000), "a"));
    KdumpFixture whole = piece(0, 0);
    whole.split = false;
    v.push_back(open_mem(whole, "w"));
    REQUIRE(order_err(v).msg == "w: not a piece of a --split set (its header has no split range)");
  }
  SECTION("one piece") {
    v.push_back(open_mem(piece(0, 100000), "a"));
    REQUIRE(order_err(v).code == Errc::usage);
  }
}

TEST_CASE("reassemble: the merged dump holds every piece's pages", "[reassemble]") {
  char t[] = "/tmp/kk-reassemble-test.XXXXXX";
  std::string dir = ::mkdtemp(t);
  CodecKind codec = GENERATE(CodecKind::none, CodecKind::zlib, CodecKind::lzo);
  std::vector<std::string> paths;
  u64 bounds[] = {0, 30000, 70000, 100000};
  for (int i = 2; i >= 0; --i) {  // given out of order
    KdumpFixture f = piece(bounds[i], bounds[i + 1], codec);
    std::vector<std::byte> b = f.build();
    std::string p = dir + "/piece" + std::to_string(i);
    int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    REQUIRE(::write(fd, b.data(), b.size()) == static_cast<ssize_t>(b.size()));
    ::close(fd);
    paths.push_back(p);
  }
  Result<ReassembleStats> st = run_reassemble(paths, dir + "/whole", false);
  INFO((st ? std::string() : st.error().msg));
  REQUIRE(st);
  KdumpFixture all = piece(0, 0, codec);
  REQUIRE(st->pages == all.pages.size());
  Result<InputFile> f = InputFile::open(dir + "/whole");
  REQUIRE(f);
  Result<std::unique_ptr<KdumpInput>> in = KdumpInput::open(std::make_unique<FileSource>(std::move(*f)));
  REQUIRE(in);
  REQUIRE_FALSE((*in)->layout().split);
  REQUIRE((*in)->dumped_pages() == all.pages.size());
  std::vector<std::byte> page(4096);
  for (const auto& [pfn, want] : all.pages) {
    INFO("pfn " << pfn);
    REQUIRE((*in)->read_pages(pfn, 1, page));
    REQUIRE(page == want);
  }
  // An existing output is refused without -f, and nothing else is left in the directory.
  REQUIRE(run_reassemble(paths, dir + "/whole", false).error().code == Errc::exists);
  REQUIRE(std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator()) == 4);
  std::filesystem::remove_all(dir);
}
