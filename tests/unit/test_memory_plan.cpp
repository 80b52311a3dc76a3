// dumpfilter's memory plan: sized by the dump, not by the machine's free memory.
#include <catch2/catch.hpp>

#include "dumpfilter/memory_plan.h"
#include "dumpfilter/page_selector.h"

using namespace kk;

namespace {
constexpr u64 MiB = 1ull << 20;
constexpr u64 GiB = 1ull << 30;
}  // namespace

TEST_CASE("the struct page buffer is a small chunk, not a whole window") {
  // 64-byte struct pages (x86_64 and arm64 6.1): 256 KiB and one struct page.
  REQUIRE(selector_buffer_bytes(64) == 64 * 4097);
  REQUIRE(selector_buffer_bytes(64) <= 260 * 1024);
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
