// test_kexec_segments.cpp: the placement allocator (kexec/segments.h): lowest or highest
// aligned fit inside [lo, hi), taken out of the free ranges, and what a failure says.
#include <catch2/catch.hpp>
#include <vector>

#include "kexec/segments.h"

using namespace kk;

namespace {
constexpr u64 kMiB = 1ull << 20;
}  // namespace
TEST_CASE("segments: bottom-up takes the lowest aligned fit, and does not reuse it", "[segments]") {
  Allocator a({{0x3000000, 0x4000000}, {0x1000000, 0x2000000}});  // unsorted on purpose
  Result<u64> k = a.take("kernel", 0x100000, {.align = 0x200000});
  REQUIRE(k);
  REQUIRE(*k == 0x1000000);
  Result<u64> k2 = a.take("kernel", 0x100000, {.align = 0x200000});
  REQUIRE(k2);
  REQUIRE(*k2 == 0x1200000);  // 0x1100000 is free but not 2 MiB aligned
  REQUIRE(a.free() == std::vector<PhysRange>{{0x1100000, 0x1200000}, {0x1300000, 0x2000000},
                                             {0x3000000, 0x4000000}});
  Result<u64> small = a.take("small", 0x1000, {.align = 0x1000});
  REQUIRE(small);
  REQUIRE(*small == 0x1100000);  // the leftover gap is used for what fits there
}

TEST_CASE("segments: top-down takes the highest aligned fit", "[segments]") {
  Allocator a({{0x1000000, 0x2000000}, {0x3000000, 0x4000000}});
  REQUIRE(*a.take("a", 0x1000, {.align = 0x1000, .top_down = true}) == 0x3fff000);
  REQUIRE(*a.take("b", 0x1000, {.align = 0x1000, .top_down = true}) == 0x3ffe000);
  // 0x1800 bytes aligned to 2 MiB: the highest 2 MiB boundary with room below 0x3ffe000; it
  // takes whole pages (the allocator's granule), 0x2000.
  REQUIRE(*a.take("c", 0x1800, {.align = 0x200000, .top_down = true}) == 0x3e00000);
  REQUIRE(a.free() == std::vector<PhysRange>{{0x1000000, 0x2000000}, {0x3000000, 0x3e00000},
                                             {0x3e02000, 0x3ffe000}});
}

TEST_CASE("segments: lo and hi bound the search", "[segments]") {
  Allocator a({{0x1000000, 0x2000000}, {0x3000000, 0x4000000}});
  REQUIRE(*a.take("below hi", 0x1000, {.align = 0x1000, .hi = 0x2800000, .top_down = true}) == 0x1fff000);
  REQUIRE(*a.take("above lo", 0x1000, {.align = 0x1000, .lo = 0x3800000}) == 0x3800000);
  REQUIRE(*a.take("lo unaligned", 0x1000, {.align = 0x1000, .lo = 0x1000001}) == 0x1001000);
  REQUIRE(*a.take("in window", 0x2000, {.align = 0x1000, .lo = 0x1800000, .hi = 0x1900000, .top_down = true}) == 0x18fe000);
  // Align 0 means 1, and no block starts off the granule (a page): the next page above lo.
  REQUIRE(*a.take("align 0 means 1", 0x10, {.align = 0, .lo = 0x3000003}) == 0x3001000);
}

TEST_CASE("segments: nothing fits -> Errc::no_space naming what, size, alignment, bounds", "[segments]") {
  SECTION("too big for any one range, though the total would do") {
    Allocator a({{0x1000000, 0x2000000}, {0x3000000, 0x4000000}});
    Result<u64> r = a.take("initrd", 20 * kMiB, {.align = 0x1000, .hi = k4G, .top_down = true});
    REQUIRE_FALSE(r);
    REQUIRE(r.error().code == Errc::no_space);
    REQUIRE(r.error().msg == "no room for the initrd (20480 KiB, aligned to 0x1000) between 0x0 and 0x100000000");
    REQUIRE(a.free().size() == 2);  // a failed take changes nothing
  }
  SECTION("only room below lo") {
    Allocator a({{0x100000, 0x1000000}});
    Result<u64> r = a.take("kernel", 0x800000, {.align = 0x200000, .lo = 16 * kMiB});
    REQUIRE_FALSE(r);
    REQUIRE_THAT(r.error().msg, Catch::StartsWith("no room for the kernel (8192 KiB, aligned to 0x200000)"));
  }
  SECTION("alignment pushes it out (top-down)") {
    Allocator a({{0x1001000, 0x1100000}});
    REQUIRE_FALSE(a.take("kernel", 0x1000, {.align = 0x200000, .top_down = true}));
  }
  SECTION("alignment pushes it out (bottom-up)") {
    Allocator a({{0x1001000, 0x1100000}});
    REQUIRE_FALSE(a.take("kernel", 0x1000, {.align = 0x200000}));
  }
  SECTION("consumed space is gone") {
    Allocator a({{0x1000, 0x3000}});
    REQUIRE(*a.take("a", 0x1000, {.align = 0x1000}) == 0x1000);
    REQUIRE(*a.take("b", 0x1000, {.align = 0x1000}) == 0x2000);
    REQUIRE(a.free().empty());
    Result<u64> r = a.take("c", 0x1000, {.align = 0x1000});
    REQUIRE_FALSE(r);
    REQUIRE(r.error().code == Errc::no_space);
  }
  SECTION("touching input ranges are one") {
    Allocator a({{0x1000, 0x2000}, {0x2000, 0x3000}});
    REQUIRE(*a.take("both", 0x2000, {.align = 0x1000, .top_down = true}) == 0x1000);
  }
}


TEST_CASE("segment bytes: owned ones are copied with the segment, borrowed ones stay views", "[segments]") {
  std::vector<std::byte> file(5000, std::byte{7});
  Segment kernel = make_segment("kernel", SegmentBytes::borrow(file), 0x1000000, 0x2000);
  REQUIRE(kernel.data.borrowed());
  REQUIRE(kernel.data.data() == file.data());  // the file's own bytes: no second copy
  REQUIRE(kernel.data.size() == 5000);
  REQUIRE(kernel.memsz == 0x2000);

  std::vector<std::byte> header{std::byte{1}, std::byte{2}, std::byte{3}};
  Segment hdr = make_segment("elfcorehdr", header, 0x2000000, 0);
  REQUIRE_FALSE(hdr.data.borrowed());
  REQUIRE(hdr.data.data() != header.data());
  REQUIRE(hdr.memsz == kPageSize);
  Segment copy = hdr;
  hdr = Segment{};  // the original's vector is gone: the copy must view its own
  REQUIRE(copy.data == header);
  REQUIRE(copy.data.back() == std::byte{3});

  Segment view_copy = kernel;
  REQUIRE(view_copy.data.data() == file.data());
}
