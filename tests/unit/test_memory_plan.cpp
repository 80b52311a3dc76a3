// dumpfilter's memory plan: sized by the dump, not by the machine's free memory.
#include <algorithm>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "dumpfilter/memory_plan.h"
#include "dumpfilter/page_selector.h"

using namespace kk;

namespace {
constexpr u64 MiB = 1ull << 20;
constexpr u64 GiB = 1ull << 30;
}  // namespace

TEST_CASE("the struct page buffer is a small chunk, not a whole window") {
  // 64-byte struct pages (x86_64 and arm64 6.1): 64 KiB and one struct page.
  REQUIRE(selector_buffer_bytes(64) == 64 * 1025);
  REQUIRE(selector_buffer_bytes(64) <= 65 * 1024);
  // A window is a whole number of chunks, so chunking changes no window boundary.
  REQUIRE(kWindowPfns % kStructChunkPfns == 0);
}

TEST_CASE("the same vmcore gets the same budget on a 2 GiB and a 64 GiB machine") {
  REQUIRE(pass1_budget(0, 2 * GiB) == pass1_budget(0, 64 * GiB));
  REQUIRE(pass1_budget(0, 2 * GiB) == kDefaultPass1Budget);
  REQUIRE(pass1_budget(0, 0) == kDefaultPass1Budget);  // /proc/meminfo unreadable
  // The budget is a ceiling: a 2 GiB guest's 2nd bitmap (64 KiB) is far below either.
  REQUIRE((2 * GiB / 4096 / 8) <= pass1_budget(0, 2 * GiB) / 2);
}

TEST_CASE("scarce memory lowers the ceiling, and so does --cyclic-buffer") {
  REQUIRE(pass1_budget(0, 100 * MiB) == 25 * MiB);
  REQUIRE(pass1_budget(8 * MiB, 64 * GiB) == 8 * MiB);
  REQUIRE(pass1_budget(8 * MiB, 16 * MiB) == 4 * MiB);
}

TEST_CASE("MemAvailable is read from /proc/meminfo's text") {
  REQUIRE(parse_mem_available("MemTotal:        2000000 kB\nMemFree:  1 kB\nMemAvailable:     123456 kB\n") ==
          123456ull * 1024);
  REQUIRE(parse_mem_available("MemAvailable: 7 kB") == 7 * 1024);
  REQUIRE(parse_mem_available("MemTotal: 5 kB\n") == 0);
  REQUIRE(parse_mem_available("MemAvailable: lots\n") == 0);
  REQUIRE(parse_mem_available("MemAvailable: 99999999999999999999 kB\n") == 0);
  REQUIRE(parse_mem_available("") == 0);
}

namespace {

// An input of 100000 present pfns and nothing else: enough for a selector without a classifier.
class PfnsOnlyInput final : public DumpInput {
 public:
  const std::string& path() const override { return path_; }
  Arch arch() const override { return Arch::x86_64; }
  u64 page_size() const override { return 4096; }
  u64 max_pfn() const override { return 100000; }
  std::vector<PfnRun> present_runs(u64 lo, u64 hi) const override { return {{lo, hi}}; }
  Result<void> read_pages(u64, u64, std::span<std::byte>) const override { return {}; }
  Result<void> read_phys(u64, std::span<std::byte>) const override { return {}; }
  std::span<const std::byte> note_bytes() const override { return {}; }
  u64 vmcoreinfo_offset_in_notes() const override { return 0; }
  u64 vmcoreinfo_size() const override { return 0; }
  const Vmcoreinfo& vmcoreinfo() const override { return vi_; }
  int nr_cpus() const override { return 1; }

 private:
  std::string path_ = "fake";
  Vmcoreinfo vi_;
};

}  // namespace

TEST_CASE("the selector holds its buffers only while it walks the windows") {
  // Pass 2's buffers (the writer's, the pipeline's) then reuse that memory rather than add to it.
  PfnsOnlyInput in;
  Analysis a;  // no classifier: every present page kept
  PageSelector sel(in, a);
  CHECK(sel.held_bytes() == 0u);
  std::vector<std::byte> bm1(kWindowPfns / 8), bm2(kWindowPfns / 8);
  u64 kept = 0;
  for (int walk = 0; walk < 2; ++walk) {  // pass 2 walks again when pass 1 could not keep bm2
    for (u64 w0 = 0; w0 < in.max_pfn(); w0 += kWindowPfns) {
      u64 w1 = std::min(w0 + kWindowPfns, in.max_pfn());
      size_t n = (w1 - w0 + 7) / 8;
      SelectionCounts c;
      REQUIRE(sel.select(w0, w1, std::span(bm1).first(n), std::span(bm2).first(n), c));
      kept += c.kept;
      if (w1 < in.max_pfn()) CHECK(sel.held_bytes() > 0u);
    }
    CHECK(sel.held_bytes() == 0u);
  }
  CHECK(kept == 2 * in.max_pfn());
}
