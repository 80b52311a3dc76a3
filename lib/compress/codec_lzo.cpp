// codec_lzo.cpp: LZO1X-1, what makedumpfile -l writes and crash/libkdumpfile read.
#include <lzo/lzo1x.h>

#include <mutex>
#include <vector>

#include "lib/compress/codec.h"

namespace kk {

namespace {

bool lzo_ready() {
  static std::once_flag once;
  static bool ok = false;
  std::call_once(once, [] { ok = lzo_init() == LZO_E_OK; });
  return ok;
}

class LzoCodec final : public Codec {
 public:
  LzoCodec() : work_(LZO1X_1_MEM_COMPRESS) {}
  CodecKind kind() const override { return CodecKind::lzo; }
  // LZO's documented worst case for incompressible input.
  size_t bound(size_t n) const override { return n + n / 16 + 64 + 3; }

  Result<size_t> compress(std::span<const std::byte> in, std::span<std::byte> out) override {
    if (!lzo_ready()) return make_error(Errc::io, "lzo: lzo_init failed");
    lzo_uint n = out.size();
    int rc = lzo1x_1_compress(reinterpret_cast<const unsigned char*>(in.data()), in.size(),
                              reinterpret_cast<unsigned char*>(out.data()), &n, work_.data());
    if (rc != LZO_E_OK) return make_error(Errc::io, "lzo: compression failed (" + std::to_string(rc) + ")");
    return n < in.size() ? static_cast<size_t>(n) : 0;
  }

  Result<void> decompress(std::span<const std::byte> in, std::span<std::byte> out) override {
    lzo_uint n = out.size();
    int rc = lzo1x_decompress_safe(reinterpret_cast<const unsigned char*>(in.data()), in.size(),
                                   reinterpret_cast<unsigned char*>(out.data()), &n, nullptr);
    if (rc != LZO_E_OK || n != out.size()) return make_error(Errc::corrupt, "lzo: bad compressed data");
    return {};
  }

 private:
  std::vector<unsigned char> work_;
};

}  // namespace

std::unique_ptr<Codec> make_lzo_codec() { return std::make_unique<LzoCodec>(); }

}  // namespace kk
