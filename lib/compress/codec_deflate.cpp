// codec_deflate.cpp: the zlib format (-c) through libdeflate, where the build has it. Each page is
// a whole zlib stream, as crash, drgn, libkdumpfile and makedumpfile read it (zlib's uncompress
// reads libdeflate's output); libdeflate compresses one whole buffer at a time, which is all a
// page is, at ~2-4x zlib's speed on kernel pages. Level 1 alone is smaller than zlib's
// Z_BEST_SPEED (makedumpfile -c) over user and cache pages but larger over what -d 31 keeps
// (slab, page tables: pages level 1 leaves at over half their size, where its single-probe
// match finder misses what zlib finds); those pages get a second try at level 2, and the smaller
// stream is kept (bench/README.md has the numbers that chose both).
#include "kk_config.h"

#if KK_HAVE_LIBDEFLATE
#include <libdeflate.h>
#endif

#include <cstring>
#include <vector>

#include "lib/compress/codec.h"

namespace kk {

#if KK_HAVE_LIBDEFLATE

namespace {

constexpr int kLevel = 1;
constexpr int kRetryLevel = 2;

class DeflateCodec final : public Codec {
 public:
  DeflateCodec() : comp_(libdeflate_alloc_compressor(kLevel)), decomp_(libdeflate_alloc_decompressor()) {}
  ~DeflateCodec() override {
    if (comp_) libdeflate_free_compressor(comp_);
    if (decomp_) libdeflate_free_decompressor(decomp_);
    if (retry_) libdeflate_free_compressor(retry_);
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
    if (n >= in.size()) return 0;
    if (n > in.size() / 2) n = retry(in, out, n);
    return n;
  }

  Result<void> decompress(std::span<const std::byte> in, std::span<std::byte> out) override {
    if (!decomp_) return make_error(Errc::io, "zlib (libdeflate): cannot allocate a decompressor");
    // No actual-size pointer: libdeflate then insists on exactly out.size() bytes.
    libdeflate_result r = libdeflate_zlib_decompress(decomp_, in.data(), in.size(), out.data(), out.size(), nullptr);
    if (r != LIBDEFLATE_SUCCESS) return make_error(Errc::corrupt, "zlib: bad compressed data");
    return {};
  }

 private:
  // Level 2 on a page level 1 left at `n` bytes in `out`: its stream replaces level 1's only if
  // shorter. Its compressor (~200 KiB once used) is made at the first such page, so a dump whose
  // pages all compress well never pays for it.
  size_t retry(std::span<const std::byte> in, std::span<std::byte> out, size_t n) {
    if (!retry_) retry_ = libdeflate_alloc_compressor(kRetryLevel);
    if (!retry_) return n;  // level 1's stream stands
    if (scratch_.size() < in.size()) scratch_.resize(in.size());
    size_t m = libdeflate_zlib_compress(retry_, in.data(), in.size(), scratch_.data(), n - 1);
    if (m == 0) return n;  // no shorter at level 2
    std::memcpy(out.data(), scratch_.data(), m);
    return m;
  }

  libdeflate_compressor* comp_;
  libdeflate_decompressor* decomp_;
  libdeflate_compressor* retry_ = nullptr;
  std::vector<std::byte> scratch_;
};

}  // namespace

std::unique_ptr<Codec> make_deflate_codec() { return std::make_unique<DeflateCodec>(); }

#else

std::unique_ptr<Codec> make_deflate_codec() { return nullptr; }

#endif

}  // namespace kk
