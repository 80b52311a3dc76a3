// codec_deflate.cpp: the zlib format (-c) through libdeflate, where the build has it. Each page is
// a whole zlib stream, as crash, drgn, libkdumpfile and makedumpfile read it (zlib's uncompress
// reads libdeflate's output); libdeflate compresses one whole buffer at a time, which is all a
// page is, at ~3-4x zlib's speed on kernel pages and level 1 output no larger than zlib's
// Z_BEST_SPEED (bench/README.md has the numbers that chose level 1).
#include "kk_config.h"

#if KK_HAVE_LIBDEFLATE
#include <libdeflate.h>
#endif

#include "lib/compress/codec.h"

namespace kk {

#if KK_HAVE_LIBDEFLATE

namespace {

constexpr int kLevel = 1;

class DeflateCodec final : public Codec {
 public:
  DeflateCodec() : comp_(libdeflate_alloc_compressor(kLevel)), decomp_(libdeflate_alloc_decompressor()) {}
  ~DeflateCodec() override {
    if (comp_) libdeflate_free_compressor(comp_);
    if (decomp_) libdeflate_free_decompressor(decomp_);
  }
  DeflateCodec(const DeflateCodec&) = delete;
  DeflateCodec& operator=(const DeflateCodec&) = delete;
  CodecKind kind() const override { return CodecKind::zlib; }
  // libdeflate's bound does not depend on the compressor's state; a null one is allowed.
  size_t bound(size_t n) const override { return libdeflate_zlib_compress_bound(nullptr, n); }

  Result<size_t> compress(std::span<const std::byte> in, std::span<std::byte> out) override {
    if (!comp_) return make_error(Errc::io, "zlib (libdeflate): cannot allocate a compressor");
    size_t n = libdeflate_zlib_compress(comp_, in.data(), in.size(), out.data(), out.size());
    if (n == 0) return make_error(Errc::io, "zlib (libdeflate): output buffer too small");
    return n < in.size() ? n : 0;
  }

  Result<void> decompress(std::span<const std::byte> in, std::span<std::byte> out) override {
    if (!decomp_) return make_error(Errc::io, "zlib (libdeflate): cannot allocate a decompressor");
    // No actual-size pointer: libdeflate then insists on exactly out.size() bytes.
    libdeflate_result r = libdeflate_zlib_decompress(decomp_, in.data(), in.size(), out.data(), out.size(), nullptr);
    if (r != LIBDEFLATE_SUCCESS) return make_error(Errc::corrupt, "zlib: bad compressed data");
    return {};
  }

 private:
  libdeflate_compressor* comp_;
  libdeflate_decompressor* decomp_;
};

}  // namespace

std::unique_ptr<Codec> make_deflate_codec() { return std::make_unique<DeflateCodec>(); }

#else

std::unique_ptr<Codec> make_deflate_codec() { return nullptr; }

#endif

}  // namespace kk
