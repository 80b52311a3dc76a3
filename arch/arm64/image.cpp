#include "arch/arm64/image.h"

#include <zlib.h>
#include <zstd.h>

#include <cstring>
#include <optional>

#include "lib/io/hex.h"

namespace kk::arm64 {

namespace {

// The output buffer's first size: kernels compress about 3:1, and the buffer doubles from there.
// Not a fixed megabyte: most damaged payloads fail in the first bytes, and faulting in a fresh
// megabyte for each of them was most of the arm64_image fuzzer's time.
u64 first_guess(size_t in_size, u64 max_out) {
  return std::min<u64>(std::max<u64>(u64(in_size) * 4, 64 << 10), max_out);
}

Result<void> gunzip(std::span<const std::byte> in, std::vector<std::byte>& out, u64 max_out) {
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)  // 16: gzip wrapper
    return make_error(Errc::io, "zboot: zlib init failed");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  out.resize(first_guess(in.size(), max_out));
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    if (zs.total_out == out.size()) {
      if (out.size() >= max_out) break;
      out.resize(std::min<u64>(out.size() * 2, max_out));
    }
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + zs.total_out);
    zs.avail_out = static_cast<uInt>(out.size() - zs.total_out);
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) break;
  }
  u64 n = zs.total_out;
  inflateEnd(&zs);
  if (rc != Z_STREAM_END)
    return make_error(Errc::corrupt, "zboot: gzip payload is damaged or over " + hex(max_out) + " bytes");
  out.resize(n);
  return {};
}

Result<void> unzstd(std::span<const std::byte> in, std::vector<std::byte>& out, u64 max_out) {
  ZSTD_DStream* ds = ZSTD_createDStream();
  if (!ds) return make_error(Errc::io, "zboot: zstd init failed");
  ZSTD_inBuffer ib{in.data(), in.size(), 0};
  out.resize(first_guess(in.size(), max_out));
  size_t pos = 0, rc = 1;
  while (rc != 0) {
    if (pos == out.size()) {
      if (out.size() >= max_out) break;
      out.resize(std::min<u64>(out.size() * 2, max_out));
    }
    ZSTD_outBuffer ob{out.data(), out.size(), pos};
    rc = ZSTD_decompressStream(ds, &ob, &ib);
    pos = ob.pos;
    if (ZSTD_isError(rc) || (rc != 0 && ib.pos == ib.size && ob.pos < ob.size)) break;
  }
  ZSTD_freeDStream(ds);
  if (rc != 0)
    return make_error(Errc::corrupt, "zboot: zstd payload is damaged or over " + hex(max_out) + " bytes");
  out.resize(pos);
  return {};
}

}  // namespace

Result<Image> parse_image(std::span<const std::byte> bytes) {
  if (bytes.size() < kImageHeaderSize)
    return make_error(Errc::truncated, "arm64 Image: " + std::to_string(bytes.size()) +
                                           " bytes, shorter than its 64-byte header");
  if (load_le<u32>(bytes.data() + 56) != kImageMagic)
    return make_error(Errc::corrupt, "not an arm64 Image (no \"ARM\\x64\" magic at offset 56)");
  Image img;
  img.text_offset = load_le<u64>(bytes.data() + 8);
  img.image_size = load_le<u64>(bytes.data() + 16);
  u64 flags = load_le<u64>(bytes.data() + 24);
  img.big_endian = flags & 1;
  img.page_size = static_cast<PageSizeFlag>((flags >> 1) & 3);
  img.place_anywhere = (flags >> 3) & 1;
  img.bytes = bytes;
  if (img.big_endian)
    return make_error(Errc::unsupported, "arm64 Image: big-endian kernel (flags bit 0); this "
                                         "loader boots little-endian kernels only");
  if (img.image_size == 0)
    return make_error(Errc::unsupported,
                      "arm64 Image: image_size 0 (a kernel older than 3.17): its memory needs are "
                      "unknown");
  if (img.image_size > kMaxImageSize)  // also keeps text_offset + image_size from wrapping
    return make_error(Errc::corrupt, "arm64 Image: image_size " + hex(img.image_size) +
                                         " is over " + hex(kMaxImageSize) + " bytes");
  if (img.image_size < bytes.size())
    return make_error(Errc::corrupt, "arm64 Image: image_size " + hex(img.image_size) +
                                         " is smaller than the file (" + hex(bytes.size()) + ")");
  if (img.text_offset >= kKernelAlign || img.text_offset % 4096)
    return make_error(Errc::corrupt, "arm64 Image: text_offset " + hex(img.text_offset) +
                                         " is not a page offset inside 2 MiB");
  return img;
}

Result<std::optional<Zboot>> probe_zboot(std::span<const std::byte> bytes) {
  if (bytes.size() < 64 || std::memcmp(bytes.data(), "MZ", 2) != 0 ||
      std::memcmp(bytes.data() + 4, "zimg", 4) != 0)
    return std::optional<Zboot>();
  Zboot z;
  z.payload_offset = load_le<u32>(bytes.data() + 8);
  z.payload_size = load_le<u32>(bytes.data() + 12);
  const char* name = reinterpret_cast<const char*>(bytes.data() + 24);
  z.codec.assign(name, strnlen(name, 32));
  if (u64(z.payload_offset) + z.payload_size > bytes.size())
    return make_error(Errc::truncated, "zboot: payload at " + hex(z.payload_offset) + " + " +
                                           hex(z.payload_size) + " runs past end of file (" +
                                           hex(bytes.size()) + ")");
  return std::optional<Zboot>(z);
}

Result<Image> load_kernel_image(std::span<const std::byte> file, std::vector<std::byte>& storage,
                                u64 max_image) {
  KK_TRY_ASSIGN(std::optional<Zboot> z, probe_zboot(file));
  if (!z) return parse_image(file);
  std::span<const std::byte> payload = file.subspan(z->payload_offset, z->payload_size);
  KK_TRY(z->codec == "gzip"   ? gunzip(payload, storage, max_image)
         : z->codec == "zstd" ? unzstd(payload, storage, max_image)
                                 : make_error(Errc::unsupported,
                                              "zboot: payload compressed with \"" +
                                                  z->codec +
                                                  "\" (gzip and zstd are supported)"));
  Result<Image> img = parse_image(storage);
  if (!img) return std::move(img).error().context("zboot payload");
  return img;
}

}  // namespace kk::arm64
