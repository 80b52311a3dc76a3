// codec_snappy.cpp: snappy through its C API, when the build found libsnappy.
#include "lib/compress/codec.h"
#include "kk_config.h"

#if KK_HAVE_SNAPPY
#include <snappy-c.h>
#endif

namespace kk {

#if KK_HAVE_SNAPPY
namespace {

class SnappyCodec final : public Codec {
 public:
  CodecKind kind() const override { return CodecKind::snappy; }
  size_t bound(size_t n) const override { return snappy_max_compressed_length(n); }

  Result<size_t> compress(std::span<const std::byte> in, std::span<std::byte> out) override {
    size_t n = out.size();
    if (snappy_compress(reinterpret_cast<const char*>(in.data()), in.size(),
                        reinterpret_cast<char*>(out.data()), &n) != SNAPPY_OK)
      return make_error(Errc::io, "snappy: compression failed");
    return n < in.size() ? n : 0;
  }

  Result<void> decompress(std::span<const std::byte> in, std::span<std::byte> out) override {
    size_t n = out.size();
    if (snappy_uncompress(reinterpret_cast<const char*>(in.data()), in.size(),
                          reinterpret_cast<char*>(out.data()), &n) != SNAPPY_OK ||
        n != out.size())
      return make_error(Errc::corrupt, "snappy: bad compressed data");
    return {};
  }
};

}  // namespace

std::unique_ptr<Codec> make_snappy_codec() { return std::make_unique<SnappyCodec>(); }
#else
std::unique_ptr<Codec> make_snappy_codec() { return nullptr; }
#endif

}  // namespace kk
