// test_arm64_image.cpp: the arm64 Image header and EFI zboot unpacking, on images built in code
// (header fields at the offsets booting.rst gives; a zboot file whose payload is gzip'd with zlib
// or zstd-compressed here).
#include <zlib.h>
#include <zstd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <string>
#include <vector>

#include "arch/arm64/image.h"

using namespace kk;
using namespace kk::arm64;

namespace {

void put_le(std::vector<std::byte>& b, size_t off, u64 v, int n) {
  for (int i = 0; i < n; ++i) b[off + size_t(i)] = std::byte((v >> (8 * i)) & 0xff);
}

// A 128 KiB "Image": header as Debian's 6.1 arm64 kernel has it (text_offset 0, 4K pages,
// placement anywhere), the rest a recognisable pattern.
std::vector<std::byte> make_image(u64 flags = 0xa, u64 image_size = 0x2000000, u64 text_offset = 0) {
  std::vector<std::byte> b(128 * 1024);
  for (size_t i = 64; i < b.size(); ++i) b[i] = std::byte(i * 7 & 0xff);
  b[0] = std::byte('M');
  b[1] = std::byte('Z');
  put_le(b, 8, text_offset, 8);
  put_le(b, 16, image_size, 8);
  put_le(b, 24, flags, 8);
  put_le(b, 56, kImageMagic, 4);
  return b;
}

std::vector<std::byte> gzip(const std::vector<std::byte>& in) {
  z_stream zs{};
  REQUIRE(deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  std::vector<std::byte> out(deflateBound(&zs, in.size()) + 32);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&zs, Z_FINISH) == Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

std::vector<std::byte> zstd(const std::vector<std::byte>& in) {
  std::vector<std::byte> out(ZSTD_compressBound(in.size()));
  size_t n = ZSTD_compress(out.data(), out.size(), in.data(), in.size(), 3);
  REQUIRE_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}

// EFI zboot layout: "MZ", "zimg" at 4, payload offset/size at 8/12, codec name at 24.
std::vector<std::byte> make_zboot(const std::vector<std::byte>& payload, const char* codec) {
  std::vector<std::byte> b(0x200 + payload.size() + 0x100);
  b[0] = std::byte('M');
  b[1] = std::byte('Z');
  std::memcpy(b.data() + 4, "zimg", 4);
  put_le(b, 8, 0x200, 4);
  put_le(b, 12, payload.size(), 4);
  std::memcpy(b.data() + 24, codec, std::strlen(codec));
  std::memcpy(b.data() + 0x200, payload.data(), payload.size());
  return b;
}

}  // namespace

TEST_CASE("arm64 Image header: fields and flags", "[arm64][image]") {
  std::vector<std::byte> b = make_image(0xa, 0x2390000, 0);
  Result<Image> img = parse_image(b);
  REQUIRE(img);
  CHECK(img->text_offset == 0);
  CHECK(img->image_size == 0x2390000u);
  CHECK_FALSE(img->big_endian);
  CHECK(img->page_size == PageSizeFlag::k4k);
  CHECK(img->place_anywhere);
  CHECK(img->bytes.size() == b.size());

  img = parse_image(make_image(0x6, 0x2000000, 0x80000));  // 64K pages, near DRAM start
  REQUIRE(img);
  CHECK(img->page_size == PageSizeFlag::k64k);
  CHECK_FALSE(img->place_anywhere);
  CHECK(img->text_offset == 0x80000u);
}

TEST_CASE("arm64 Image header: refusals say why", "[arm64][image]") {
  std::vector<std::byte> b = make_image();
  put_le(b, 56, 0, 4);
  CHECK(parse_image(b).error().msg.find("magic") != std::string::npos);
  CHECK(parse_image(make_image(0xb)).error().msg.find("big-endian") != std::string::npos);
  CHECK(parse_image(make_image(0xa, 0)).error().msg.find("3.17") != std::string::npos);
  CHECK(parse_image(make_image(0xa, 0x1000)).error().msg.find("smaller than the file") !=
        std::string::npos);
  CHECK(parse_image(make_image(0xa, 0x2000000, 0x200000)).error().msg.find("text_offset") !=
        std::string::npos);
  CHECK(parse_image(std::span(b).first(40)).error().code == Errc::truncated);
}

// image_size comes from the file: text_offset + image_size (and the page-aligned span the loader
// reserves from it) must not wrap around 2^64 into a small reservation.
TEST_CASE("arm64 Image header: image_size is bounded so the kernel's span cannot wrap",
          "[arm64][image]") {
  for (u64 size : {u64(~0ull), u64(~0ull - 0xfff), u64(1) << 63, kMaxImageSize + 1}) {
    Result<Image> img = parse_image(make_image(0xa, size, 0x1000));
    REQUIRE_FALSE(img);
    CHECK(img.error().code == Errc::corrupt);
    CHECK(img.error().msg.find("image_size") != std::string::npos);
  }
  Result<Image> top = parse_image(make_image(0xa, kMaxImageSize, kKernelAlign - 4096));
  REQUIRE(top);
  CHECK(top->text_offset + top->image_size > top->image_size);  // no wrap at the bound
}

TEST_CASE("arm64 zboot: gzip and zstd payloads become the Image", "[arm64][image]") {
  const std::vector<std::byte> image = make_image();
  for (const char* codec : {"gzip", "zstd"}) {
    std::vector<std::byte> file =
        make_zboot(std::string(codec) == "gzip" ? gzip(image) : zstd(image), codec);
    Result<std::optional<Zboot>> z = probe_zboot(file);
    REQUIRE(z);
    REQUIRE(*z);
    CHECK((*z)->codec == codec);
    std::vector<std::byte> storage;
    Result<Image> img = load_kernel_image(file, storage);
    REQUIRE(img);
    CHECK(img->bytes.size() == image.size());
    CHECK(std::equal(image.begin(), image.end(), img->bytes.begin()));
  }
}

TEST_CASE("arm64 zboot: plain Image passes through, unknown codec and truncation named",
          "[arm64][image]") {
  std::vector<std::byte> plain = make_image();
  std::vector<std::byte> storage;
  Result<Image> img = load_kernel_image(plain, storage);
  REQUIRE(img);
  CHECK(img->bytes.data() == plain.data());  // not copied
  CHECK(storage.empty());

  std::vector<std::byte> lz = make_zboot(gzip(plain), "lzma");
  CHECK(load_kernel_image(lz, storage).error().msg.find("\"lzma\"") != std::string::npos);

  std::vector<std::byte> cut = make_zboot(gzip(plain), "gzip");
  put_le(cut, 12, cut.size(), 4);  // payload size past the end
  CHECK(load_kernel_image(cut, storage).error().code == Errc::truncated);

  std::vector<std::byte> bad = make_zboot(std::vector<std::byte>(4096, std::byte{0x55}), "gzip");
  CHECK(load_kernel_image(bad, storage).error().msg.find("gzip payload") != std::string::npos);
}
