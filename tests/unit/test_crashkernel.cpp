// Crashkernel= in every form, evaluated against RAM sizes, and every malformed value refused.
#include <catch2/catch.hpp>

#include "lib/kernel/crashkernel.h"

using namespace kk;

static constexpr u64 M = u64{1} << 20, G = u64{1} << 30, T = u64{1} << 40;

TEST_CASE("memsize: suffixes, hex, refusals", "[crashkernel]") {
  REQUIRE(*parse_memsize("256M") == 256 * M);
  REQUIRE(*parse_memsize("256m") == 256 * M);
  REQUIRE(*parse_memsize("2G") == 2 * G);
  REQUIRE(*parse_memsize("1T") == T);
  REQUIRE(*parse_memsize("1536K") == 1536 * 1024);
  REQUIRE(*parse_memsize("0x1000000") == 16 * M);
  REQUIRE(*parse_memsize("4096") == 4096);
  REQUIRE(!parse_memsize(""));
  REQUIRE(!parse_memsize("M"));
  REQUIRE(!parse_memsize("12Q"));
  REQUIRE(!parse_memsize("-1M"));
  REQUIRE(!parse_memsize("99999999999999999999"));
  REQUIRE(!parse_memsize("16E"));  // 2^64: does not fit
  REQUIRE(format_memsize(256 * M) == "256M");
  REQUIRE(format_memsize(2 * G) == "2G");
  REQUIRE(format_memsize(1536 * M) == "1536M");
  REQUIRE(format_memsize(1000) == "1000");
}

TEST_CASE("crashkernel: plain size and size@offset", "[crashkernel]") {
  Result<Crashkernel> ck = parse_crashkernel("256M");
  REQUIRE(ck);
  REQUIRE(ck->kind == Crashkernel::Kind::size);
  REQUIRE(ck->size == 256 * M);
  REQUIRE(!ck->offset);
  REQUIRE(crashkernel_size(*ck, 512 * M) == 256 * M);  // a plain size applies whatever the RAM

  ck = parse_crashkernel("128M@16M");
  REQUIRE(ck);
  REQUIRE(ck->size == 128 * M);
  REQUIRE(*ck->offset == 16 * M);
}

TEST_CASE("crashkernel: ranges, chosen by RAM", "[crashkernel]") {
  Result<Crashkernel> ck = parse_crashkernel("1G-2G:256M,2G-4G:320M,4G-:512M");
  REQUIRE(ck);
  REQUIRE(ck->kind == Crashkernel::Kind::ranges);
  REQUIRE(ck->ranges.size() == 3);
  REQUIRE(crashkernel_size(*ck, 512 * M) == 0);       // below the first range: nothing
  REQUIRE(crashkernel_size(*ck, 1 * G) == 256 * M);   // start is inclusive
  REQUIRE(crashkernel_size(*ck, 2 * G - 1) == 256 * M);
  REQUIRE(crashkernel_size(*ck, 2 * G) == 320 * M);   // end is exclusive
  REQUIRE(crashkernel_size(*ck, 64 * G) == 512 * M);  // open end
  ck = parse_crashkernel("512M-2G:64M,2G-:128M@16M");
  REQUIRE(ck);
  REQUIRE(*ck->offset == 16 * M);
  REQUIRE(crashkernel_size(*ck, G) == 64 * M);
}

TEST_CASE("crashkernel: ,high and ,low", "[crashkernel]") {
  Result<Crashkernel> hi = parse_crashkernel("512M,high");
  REQUIRE(hi);
  REQUIRE(hi->zone == Crashkernel::Zone::high);
  REQUIRE(hi->size == 512 * M);
  Result<Crashkernel> lo = parse_crashkernel("128M,low");
  REQUIRE(lo);
  REQUIRE(lo->zone == Crashkernel::Zone::low);
  REQUIRE(crashkernel_size(*lo, 8 * G) == 128 * M);
}

TEST_CASE("crashkernel: auto uses the RHEL 8 table", "[crashkernel]") {
  Result<Crashkernel> ck = parse_crashkernel("auto");
  REQUIRE(ck);
  REQUIRE(ck->kind == Crashkernel::Kind::auto_table);
  REQUIRE(crashkernel_size(*ck, 768 * M) == 0);
  REQUIRE(crashkernel_size(*ck, 4 * G) == 160 * M);
  REQUIRE(crashkernel_size(*ck, 128 * G) == 256 * M);
  REQUIRE(crashkernel_size(*ck, 2 * T) == 512 * M);
}

TEST_CASE("crashkernel: every malformed value is refused", "[crashkernel]") {
  const char* bad[] = {
      "",                    // empty
      "0",                   // nothing to reserve
      "abc",                 // not a size
      "256X",                // unknown suffix
      "256M@",               // offset missing
      "256M@xyz",            // offset not a size
      "256M,middle",         // unknown zone
      "256M,high@16M",       // zone and offset together
      "1G-2G:256M,high",     // zone after ranges
      "1G:256M",             // range without '-'
      "1G-2G256M",           // range without ':'
      "1G-2G:",              // range without size
      "2G-1G:256M",          // empty range
      "1G-1G:256M",          // empty range
      "1G-4G:256M,2G-:512M", // overlapping ranges
      "4G-:512M,1G-2G:256M", // out of order (open range first)
      "1G-2G:256M;2G-:1G",   // wrong separator
      "1G-2G:256M,",         // trailing comma
      "AUTO",                // auto is lower case only
      "256M 128M",           // trailing junk
  };
  for (const char* b : bad) {
    INFO(b);
    Result<Crashkernel> ck = parse_crashkernel(b);
    REQUIRE(!ck);
    REQUIRE(ck.error().msg.find("crashkernel=") == 0);
  }
}

TEST_CASE("crashkernel: found on a command line", "[crashkernel]") {
  std::vector<std::string> v =
      find_crashkernel_values("BOOT_IMAGE=/vmlinuz root=/dev/sda1 crashkernel=512M,high quiet crashkernel=128M,low");
  REQUIRE(v == std::vector<std::string>{"512M,high", "128M,low"});
  REQUIRE(find_crashkernel_values("root=/dev/sda1 quiet").empty());
  REQUIRE(find_crashkernel_values("crashkernel").empty());
}
