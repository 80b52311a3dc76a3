// test_codec.cpp: the per-page codecs. Each round-trips a page, answers 0 for a page it cannot
// shrink (the dump then stores it raw), and turns damaged input into Errc::corrupt, never into a
// page of garbage.
#include <catch2/catch.hpp>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <zlib.h>

#include "kk_config.h"
#if KK_HAVE_LIBDEFLATE
#include <libdeflate.h>
#endif

#include "lib/compress/codec.h"

using namespace kk;

namespace {

constexpr size_t kPage = 4096;

// A page that looks like kernel data: repeated text with a counter, compresses well.
std::vector<std::byte> text_page(int seed) {
  std::vector<std::byte> page(kPage);
  std::string line;
  for (size_t i = 0; i < kPage; ++i) {
    if (line.empty()) line = "task " + std::to_string(seed * 1000 + static_cast<int>(i / 64)) + " state R;";
    page[i] = static_cast<std::byte>(line.front());
    line.erase(0, 1);
  }
  return page;
}

std::vector<std::byte> random_page(u32 seed) {
  std::mt19937 rng(seed);
  std::vector<std::byte> page(kPage);
  for (auto& b : page) b = static_cast<std::byte>(rng() & 0xff);
  return page;
}

std::unique_ptr<Codec> codec_of(CodecKind kind) {
  Result<std::unique_ptr<Codec>> c = make_codec(kind);
  if (!c) FAIL("make_codec(" << codec_name(kind) << "): " << c.error().msg);
  REQUIRE(*c != nullptr);
  REQUIRE((*c)->kind() == kind);
  return std::move(*c);
}

// Compresses `page`; returns the stored bytes (empty if the codec answered 0).
std::vector<std::byte> pack(Codec& c, const std::vector<std::byte>& page) {
  std::vector<std::byte> out(c.bound(page.size()));
  Result<size_t> n = c.compress(page, out);
  if (!n) FAIL("compress: " << n.error().msg);
  out.resize(*n);
  return out;
}

// What crash, drgn and makedumpfile do with a -c page: zlib's own uncompress must give it back.
void require_zlib_reads(const std::vector<std::byte>& stored, const std::vector<std::byte>& page) {
  std::vector<std::byte> back(page.size());
  uLongf n = back.size();
  REQUIRE(uncompress(reinterpret_cast<Bytef*>(back.data()), &n,
                     reinterpret_cast<const Bytef*>(stored.data()), stored.size()) == Z_OK);
  REQUIRE(n == page.size());
  REQUIRE(back == page);
}

CodecKind any_kind() {
  return GENERATE(CodecKind::zlib, CodecKind::lzo, CodecKind::zstd, CodecKind::snappy);
}

}  // namespace

TEST_CASE("codec names map both ways", "[codec]") {
  REQUIRE(codec_name(CodecKind::none) == "none");
  REQUIRE(codec_name(CodecKind::zlib) == "zlib");
  REQUIRE(codec_name(CodecKind::lzo) == "lzo");
  REQUIRE(codec_name(CodecKind::zstd) == "zstd");
  REQUIRE(codec_name(CodecKind::snappy) == "snappy");
  REQUIRE(codec_from_name("zstd") == std::optional<CodecKind>(CodecKind::zstd));
  REQUIRE(codec_from_name("lzo") == std::optional<CodecKind>(CodecKind::lzo));
  REQUIRE(codec_from_name("none") == std::optional<CodecKind>(CodecKind::none));
  REQUIRE(codec_from_name("gzip") == std::nullopt);
  REQUIRE(codec_from_name("") == std::nullopt);
  REQUIRE(codec_available(CodecKind::zlib));
  REQUIRE(codec_available(CodecKind::lzo));
  REQUIRE(codec_available(CodecKind::zstd));
}

TEST_CASE("make_codec(none) is unsupported; snappy follows codec_available", "[codec]") {
  Result<std::unique_ptr<Codec>> none = make_codec(CodecKind::none);
  REQUIRE_FALSE(none);
  REQUIRE(none.error().code == Errc::unsupported);
  REQUIRE(none.error().msg == "no codec for 'none'");

  Result<std::unique_ptr<Codec>> sn = make_codec(CodecKind::snappy);
  if (codec_available(CodecKind::snappy)) {
    REQUIRE(sn);
    REQUIRE((*sn)->kind() == CodecKind::snappy);
  } else {
    REQUIRE_FALSE(sn);
    REQUIRE(sn.error().code == Errc::unsupported);
    REQUIRE(sn.error().msg == "snappy: this build has no snappy support");
  }
}

TEST_CASE("codec round-trips pages and reuses its state", "[codec]") {
  CodecKind kind = any_kind();
  if (!codec_available(kind)) {
    WARN(codec_name(kind) << " not built in");
    return;
  }
  INFO(codec_name(kind));
  std::unique_ptr<Codec> c = codec_of(kind);
  REQUIRE(c->bound(kPage) >= kPage);

  // Several pages through one instance: state must be reset between them.
  for (int seed : {1, 2, 3}) {
    std::vector<std::byte> page = text_page(seed);
    std::vector<std::byte> stored = pack(*c, page);
    REQUIRE_FALSE(stored.empty());
    REQUIRE(stored.size() < kPage / 2);
    std::vector<std::byte> back(kPage, std::byte{0xee});
    REQUIRE(c->decompress(stored, back));
    REQUIRE(back == page);
  }

  // An all-zero page shrinks to almost nothing.
  std::vector<std::byte> zero(kPage);
  std::vector<std::byte> zstored = pack(*c, zero);
  REQUIRE_FALSE(zstored.empty());
  REQUIRE(zstored.size() < 300u);
  std::vector<std::byte> zback(kPage, std::byte{1});
  REQUIRE(c->decompress(zstored, zback));
  REQUIRE(zback == zero);

  // Another instance reads what this one wrote (the stored form is self-contained).
  std::unique_ptr<Codec> other = codec_of(kind);
  std::vector<std::byte> page = text_page(9);
  std::vector<std::byte> stored = pack(*c, page);
  std::vector<std::byte> back(kPage);
  REQUIRE(other->decompress(stored, back));
  REQUIRE(back == page);
}

TEST_CASE("codec answers 0 for an incompressible page", "[codec]") {
  CodecKind kind = any_kind();
  if (!codec_available(kind)) {
    WARN(codec_name(kind) << " not built in");
    return;
  }
  INFO(codec_name(kind));
  std::unique_ptr<Codec> c = codec_of(kind);
  std::vector<std::byte> page = random_page(0x5eed);
  std::vector<std::byte> out(c->bound(kPage));
  Result<size_t> n = c->compress(page, out);
  REQUIRE(n);
  REQUIRE(*n == 0u);

  // And it still compresses the next page normally afterwards.
  std::vector<std::byte> text = text_page(4);
  std::vector<std::byte> stored = pack(*c, text);
  REQUIRE_FALSE(stored.empty());
  std::vector<std::byte> back(kPage);
  REQUIRE(c->decompress(stored, back));
  REQUIRE(back == text);
}

TEST_CASE("codec rejects damaged input as corrupt", "[codec]") {
  CodecKind kind = any_kind();
  if (!codec_available(kind)) {
    WARN(codec_name(kind) << " not built in");
    return;
  }
  INFO(codec_name(kind));
  std::unique_ptr<Codec> c = codec_of(kind);
  std::vector<std::byte> page = text_page(7);
  std::vector<std::byte> stored = pack(*c, page);
  REQUIRE(stored.size() > 8u);
  std::vector<std::byte> out(kPage);

  SECTION("truncated stream") {
    std::vector<std::byte> cut(stored.begin(), stored.begin() + static_cast<long>(stored.size() / 2));
    Result<void> r = c->decompress(cut, out);
    REQUIRE_FALSE(r);
    REQUIRE(r.error().code == Errc::corrupt);
    REQUIRE(r.error().msg == std::string(codec_name(kind)) + ": bad compressed data");
  }
  SECTION("garbage") {
    std::vector<std::byte> junk(64, std::byte{0xff});
    Result<void> r = c->decompress(junk, out);
    REQUIRE_FALSE(r);
    REQUIRE(r.error().code == Errc::corrupt);
  }
  SECTION("empty input") {
    Result<void> r = c->decompress(std::span<const std::byte>(), out);
    REQUIRE_FALSE(r);
    REQUIRE(r.error().code == Errc::corrupt);
  }
  SECTION("valid stream, wrong page size") {
    // A page descriptor whose size disagrees with the stored page must not pass.
    std::vector<std::byte> small(kPage - 1);
    Result<void> r1 = c->decompress(stored, small);
    REQUIRE_FALSE(r1);
    REQUIRE(r1.error().code == Errc::corrupt);
    std::vector<std::byte> big(kPage + 1);
    Result<void> r2 = c->decompress(stored, big);
    REQUIRE_FALSE(r2);
    REQUIRE(r2.error().code == Errc::corrupt);
  }
  // After a failure the codec still works.
  std::vector<std::byte> back(kPage);
  REQUIRE(c->decompress(stored, back));
  REQUIRE(back == page);
}

TEST_CASE("one codec table: diskdump flags both ways", "[codec]") {
  // The values are the kdump-compressed format's (page_desc.flags, disk_dump_header.status).
  REQUIRE(diskdump_codec_flag(CodecKind::none) == 0x0u);
  REQUIRE(diskdump_codec_flag(CodecKind::zlib) == 0x1u);
  REQUIRE(diskdump_codec_flag(CodecKind::lzo) == 0x2u);
  REQUIRE(diskdump_codec_flag(CodecKind::snappy) == 0x4u);
  REQUIRE(diskdump_codec_flag(CodecKind::zstd) == 0x20u);
  for (const CodecInfo& c : kCodecTable) {
    INFO(c.name);
    REQUIRE(codec_from_diskdump_flag(c.diskdump_flag) == std::optional<CodecKind>(c.kind));
    REQUIRE(codec_from_name(c.name) == std::optional<CodecKind>(c.kind));
  }
  REQUIRE(codec_from_diskdump_flag(0x8) == std::nullopt);  // the header's "incomplete" bit
  REQUIRE(codec_from_diskdump_flag(0x3) == std::nullopt);  // two codecs at once
  REQUIRE(codec_from_diskdump_flag(0x10) == std::nullopt);
}

TEST_CASE("-c pages are zlib streams that zlib itself reads, no larger than zlib's level 1",
          "[codec]") {
  // Whatever engine writes -c (libdeflate where built in), crash, drgn and makedumpfile read each
  // page with zlib's uncompress, and makedumpfile -c writes zlib's Z_BEST_SPEED.
  std::unique_ptr<Codec> c = codec_of(CodecKind::zlib);
  std::unique_ptr<Codec> zlib_own = make_zlib_lib_codec();
  size_t ours = 0, zlibs = 0;
  for (int seed = 0; seed < 16; ++seed) {
    std::vector<std::byte> page = text_page(seed);
    for (size_t i = 0; i < kPage; i += 97) page[i] = static_cast<std::byte>(seed * 31 + i);
    std::vector<std::byte> stored = pack(*c, page);
    REQUIRE_FALSE(stored.empty());
    require_zlib_reads(stored, page);
    // And ours reads zlib's.
    std::vector<std::byte> z = pack(*zlib_own, page);
    std::vector<std::byte> back2(kPage);
    REQUIRE(c->decompress(z, back2));
    REQUIRE(back2 == page);
    ours += stored.size();
    zlibs += z.size();
  }
  REQUIRE(ours <= zlibs);
}

namespace {

// A page that looks like slab or page-table memory: 8-byte words, mostly pointers into a few
// regions and small integers, some random. Level 1 leaves such pages at over half their size.
std::vector<std::byte> word_page(u32 seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::byte> page(kPage);
  for (size_t i = 0; i < kPage; i += 8) {
    u64 w = 0;
    switch (rng() % 4) {
      case 0: w = 0xffff888000000000ull | (rng() % 4096) << 12 | (rng() % 64) * 64; break;
      case 1: w = rng() % 256; break;
      case 2: w = rng(); break;
      default: w = 0xffffffff81000000ull + (rng() % 65536) * 16; break;
    }
    std::memcpy(page.data() + i, &w, sizeof w);
  }
  return page;
}

}  // namespace

TEST_CASE("-c gives a page level 1 leaves over half its size a second try, and keeps the shorter stream",
          "[codec]") {
  // What -d 31 keeps is mostly such pages; over them libdeflate's level 1 alone is larger than
  // makedumpfile -c's zlib (bench/README.md). The retry must never make a page larger, and what
  // it writes is still one zlib stream that zlib reads.
  std::unique_ptr<Codec> c = codec_of(CodecKind::zlib);
  std::unique_ptr<Codec> zlib_own = make_zlib_lib_codec();
  size_t ours = 0, zlibs = 0, shorter = 0;
  for (u32 seed = 0; seed < 8; ++seed) {
    std::vector<std::byte> page = word_page(seed);
    std::vector<std::byte> stored = pack(*c, page);
    REQUIRE(stored.size() > kPage / 4);
    require_zlib_reads(stored, page);
#if KK_HAVE_LIBDEFLATE
    // Level 1 alone, as the codec first writes it.
    libdeflate_compressor* l1 = libdeflate_alloc_compressor(1);
    REQUIRE(l1 != nullptr);
    std::vector<std::byte> one(libdeflate_zlib_compress_bound(nullptr, kPage));
    size_t first = libdeflate_zlib_compress(l1, page.data(), kPage, one.data(), one.size());
    libdeflate_free_compressor(l1);
    REQUIRE(first > kPage / 2);
    REQUIRE(stored.size() <= first);
    if (stored.size() < first) ++shorter;
#endif
    ours += stored.size();
    zlibs += pack(*zlib_own, page).size();
  }
#if KK_HAVE_LIBDEFLATE
  REQUIRE(shorter > 0);
#endif
  REQUIRE(ours <= zlibs);
}
