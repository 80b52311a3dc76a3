// test_kexec_purgatory_image.cpp: the purgatory segment (kexec/purgatory_image.h) made from
// the real embedded blob: its parameter block patched with entry, argument, regions and the
// SHA-256 (checked against OpenSSL's), placement, and the blobs it refuses.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstring>
#include <vector>

#include "kexec/purgatory_image.h"
#include "tests/unit/kexec_fixtures.h"
#include "tests/unit/kexec_purgatory_fixtures.h"
#include "purgatory/include/purgatory_abi.h"
#include "purgatory/include/purgatory_blob.h"

using namespace kk;
using namespace kk::test;

namespace {

std::vector<Segment> checked_segments() {
  std::vector<Segment> v(4);
  v[0] = {"kernel", pattern(0x10000, 1), 0x1400000, 0x800000};
  v[1] = {"initrd", pattern(0x1a000 - 77, 2), 0x7ffe6000, 0x1a000};
  v[2] = {"empty", {}, 0x7ffe5000, 0x1000};  // nothing to hash: no region
  v[3] = {"boot parameters", pattern(4096 + 28, 3), 0x7ffe3000, 0x2000};
  return v;
}

}  // namespace

TEST_CASE("purgatory: the embedded blob is patched with entry, arg, regions and digest", "[purgatory_image]") {
  std::span<const unsigned char> blob = purgatory_x86_64();
  kk_purgatory_params orig;
  std::memcpy(&orig, blob.data() + KK_PURGATORY_PARAMS_OFFSET, sizeof orig);
  REQUIRE(orig.magic == KK_PURGATORY_MAGIC);
  REQUIRE(orig.image_mem_size == kk_purgatory_x86_64_image_mem_size);

  std::vector<Segment> checked = checked_segments();
  Allocator alloc({{0x1000000, 0x2000000}, {0x100000000, 0x200000000}});
  Result<Segment> seg = make_purgatory_segment(blob, PurgatoryRequest{0x1400200, 0x7ffe3000, 0x3f8, false},
                                               checked, alloc);
  if (!seg) FAIL("make_purgatory_segment: " << seg.error().msg);

  REQUIRE(seg->what == "purgatory");
  REQUIRE(seg->memsz == align_up(orig.image_mem_size, kPageSize));
  REQUIRE(seg->mem == 0x2000000 - seg->memsz);  // top-down, below 4 GiB
  REQUIRE(seg->data.size() == blob.size());
  // Only the parameter block differs from the blob.
  REQUIRE(std::memcmp(seg->data.data(), blob.data(), KK_PURGATORY_PARAMS_OFFSET) == 0);
  size_t after = KK_PURGATORY_PARAMS_OFFSET + sizeof(kk_purgatory_params);
  REQUIRE(std::memcmp(seg->data.data() + after, blob.data() + after, blob.size() - after) == 0);

  kk_purgatory_params p = read_params(*seg);
  REQUIRE(p.magic == KK_PURGATORY_MAGIC);
  REQUIRE(p.abi_version == KK_PURGATORY_ABI_VERSION);
  REQUIRE(p.image_mem_size == orig.image_mem_size);
  REQUIRE(p.entry == 0x1400200);
  REQUIRE(p.arg == 0x7ffe3000);
  REQUIRE(p.console_port == 0x3f8);
  REQUIRE(p.skip_checks == 0);
  REQUIRE(p.flags == 0);
  REQUIRE(p.backup_len == 0);
  REQUIRE(p.nr_regions == 3);
  REQUIRE(p.regions[0].start == 0x1400000);
  REQUIRE(p.regions[0].len == 0x10000);
  REQUIRE(p.regions[1].start == 0x7ffe6000);
  REQUIRE(p.regions[1].len == 0x1a000 - 77);
  REQUIRE(p.regions[2].start == 0x7ffe3000);
  REQUIRE(p.regions[2].len == 4096 + 28);
  for (u32 i = 3; i < KK_PURGATORY_MAX_REGIONS; ++i) {
    REQUIRE(p.regions[i].start == 0);
    REQUIRE(p.regions[i].len == 0);
  }

  // The digest is SHA-256 over the segments' data, concatenated in order.
  std::vector<std::byte> all;
  for (const Segment& s : checked) all.insert(all.end(), s.data.begin(), s.data.end());
  std::array<std::byte, 32> want = openssl_sha256(all);
  REQUIRE(std::memcmp(p.digest, want.data(), 32) == 0);
  REQUIRE(*segments_digest(checked) == want);
}

TEST_CASE("purgatory: segments_digest is plain SHA-256 (FIPS 180-2 \"abc\")", "[purgatory_image]") {
  Segment a{"a", {std::byte('a')}, 0, 0x1000};
  Segment bc{"bc", {std::byte('b'), std::byte('c')}, 0x1000, 0x1000};
  std::array<std::byte, 32> d = *segments_digest({a, bc});
  const u8 want[32] = {0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40,
                       0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17,
                       0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
  REQUIRE(std::memcmp(d.data(), want, 32) == 0);
}

TEST_CASE("purgatory: skip_checks and console_port pass through", "[purgatory_image]") {
  Allocator alloc({{0x1000000, 0x2000000}});
  Result<Segment> seg =
      make_purgatory_segment(purgatory_x86_64(), PurgatoryRequest{0x1, 0x2, 0, true}, checked_segments(), alloc);
  REQUIRE(seg);
  kk_purgatory_params p = read_params(*seg);
  REQUIRE(p.skip_checks == 1);
  REQUIRE(p.console_port == 0);
  REQUIRE(p.nr_regions == 3);  // still listed
}

TEST_CASE("purgatory: spoil_digest (kexec --test-spoil-digest) flips one bit of the digest only", "[purgatory_image]") {
  std::vector<Segment> checked = checked_segments();
  PurgatoryRequest req{0x1400200, 0x7ffe3000, 0x3f8, false};
  Allocator a1({{0x1000000, 0x2000000}}), a2({{0x1000000, 0x2000000}});
  Result<Segment> good = make_purgatory_segment(purgatory_x86_64(), req, checked, a1);
  req.spoil_digest = true;
  Result<Segment> bad = make_purgatory_segment(purgatory_x86_64(), req, checked, a2);
  REQUIRE(good);
  REQUIRE(bad);
  REQUIRE(bad->mem == good->mem);
  REQUIRE(bad->memsz == good->memsz);
  kk_purgatory_params g = read_params(*good), b = read_params(*bad);
  std::array<std::byte, 32> real = *segments_digest(checked);
  REQUIRE(std::memcmp(g.digest, real.data(), 32) == 0);
  REQUIRE(b.digest[0] == (g.digest[0] ^ 0x01));
  REQUIRE(std::memcmp(b.digest + 1, g.digest + 1, 31) == 0);
  // Everything else in the segment, parameter block included, is what a good load gets.
  REQUIRE(b.skip_checks == 0);
  REQUIRE(b.nr_regions == g.nr_regions);
  size_t digest_at = KK_PURGATORY_PARAMS_OFFSET + offsetof(kk_purgatory_params, digest);
  REQUIRE(bad->data.size() == good->data.size());
  size_t differing = 0;
  for (size_t i = 0; i < bad->data.size(); ++i)
    if (bad->data[i] != good->data[i]) {
      ++differing;
      REQUIRE(i == digest_at);
    }
  REQUIRE(differing == 1);
}

TEST_CASE("purgatory: allow_above_4g prefers below 4 GiB, else goes above", "[purgatory_image]") {
  PurgatoryRequest req{0x1, 0x2, 0, false, true};
  Allocator both({{0x1000000, 0x2000000}, {0x100000000, 0x200000000}});
  Result<Segment> low = make_purgatory_segment(purgatory_x86_64(), req, checked_segments(), both);
  REQUIRE(low);
  REQUIRE(low->mem == 0x2000000 - low->memsz);
  Allocator high({{0x100000000, 0x200000000}});
  Result<Segment> up = make_purgatory_segment(purgatory_x86_64(), req, checked_segments(), high);
  REQUIRE(up);
  REQUIRE(up->mem == 0x200000000 - up->memsz);
}

TEST_CASE("purgatory: a damaged or unusable blob is refused", "[purgatory_image]") {
  std::span<const unsigned char> orig = purgatory_x86_64();
  std::vector<unsigned char> blob(orig.begin(), orig.end());
  Allocator alloc({{0x1000000, 0x2000000}});
  const std::vector<Segment> checked = checked_segments();
  auto refused = [&](std::span<const unsigned char> b, const std::vector<Segment>& c = checked_segments()) {
    Result<Segment> r = make_purgatory_segment(b, PurgatoryRequest{}, c, alloc);
    if (r) FAIL("make_purgatory_segment accepted it");
    return std::move(r).error();
  };
  SECTION("corrupted magic") {
    blob[KK_PURGATORY_PARAMS_OFFSET + KK_PP_MAGIC] ^= 0x01;
    Error e = refused(blob);
    REQUIRE(e.code == Errc::corrupt);
    REQUIRE_THAT(e.msg, Catch::Contains("wrong magic"));
  }
  SECTION("other ABI version") {
    blob[KK_PURGATORY_PARAMS_OFFSET + KK_PP_ABI_VERSION] = KK_PURGATORY_ABI_VERSION + 1;
    Error e = refused(blob);
    REQUIRE(e.code == Errc::corrupt);
    REQUIRE_THAT(e.msg, Catch::Contains("ABI version"));
  }
  SECTION("image_mem_size smaller than the file") {
    u64 small = blob.size() - 1;
    std::memcpy(blob.data() + KK_PURGATORY_PARAMS_OFFSET + KK_PP_IMAGE_MEM_SIZE, &small, 8);
    Error e = refused(blob);
    REQUIRE(e.code == Errc::corrupt);
    REQUIRE_THAT(e.msg, Catch::Contains("implausible image size"));
  }
  SECTION("too small to hold the parameter block") {
    Error e = refused(std::span(blob).first(KK_PURGATORY_PARAMS_OFFSET + KK_PP_SIZE - 1));
    REQUIRE(e.code == Errc::corrupt);
    REQUIRE_THAT(e.msg, Catch::Contains("too small"));
  }
  SECTION("more segments than regions") {
    std::vector<Segment> many(KK_PURGATORY_MAX_REGIONS + 1, Segment{"x", pattern(16, 0), 0x1000, 0x1000});
    Error e = refused(blob, many);
    REQUIRE(e.code == Errc::unsupported);
    REQUIRE_THAT(e.msg, Catch::Contains("more than 16 segments"));
  }
  SECTION("no room below 4 GiB") {
    Allocator high({{0x100000000, 0x200000000}});
    Result<Segment> r = make_purgatory_segment(blob, PurgatoryRequest{}, checked, high);
    REQUIRE_FALSE(r);
    REQUIRE(r.error().code == Errc::no_space);
    REQUIRE_THAT(r.error().msg, Catch::StartsWith("no room for the purgatory"));
  }
  REQUIRE(alloc.free() == std::vector<PhysRange>{{0x1000000, 0x2000000}});  // nothing taken on refusal
}
