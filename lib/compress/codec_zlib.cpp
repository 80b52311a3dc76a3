// codec_zlib.cpp: zlib at Z_BEST_SPEED, the level makedumpfile writes, for builds without
// libdeflate (codec_deflate.cpp). One deflate stream is reset per page instead of compress2()
// allocating a new one each time.
#include <zlib.h>

#include "lib/compress/codec.h"

namespace kk {

namespace {

class ZlibCodec final : public Codec {
 public:
  ZlibCodec() {
    ok_ = deflateInit(&def_, Z_BEST_SPEED) == Z_OK;
    inf_ok_ = inflateInit(&inf_) == Z_OK;
  }
  ~ZlibCodec() override {
    if (ok_) deflateEnd(&def_);
    if (inf_ok_) inflateEnd(&inf_);
  }
  CodecKind kind() const override { return CodecKind::zlib; }
  size_t bound(size_t n) const override { return compressBound(static_cast<uLong>(n)); }

  Result<size_t> compress(std::span<const std::byte> in, std::span<std::byte> out) override {
    if (!ok_) return make_error(Errc::io, "zlib: deflateInit failed");
    if (deflateReset(&def_) != Z_OK) return make_error(Errc::io, "zlib: deflateReset failed");
    def_.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(in.data()));
    def_.avail_in = static_cast<uInt>(in.size());
    def_.next_out = reinterpret_cast<Bytef*>(out.data());
    def_.avail_out = static_cast<uInt>(out.size());
    int rc = deflate(&def_, Z_FINISH);
    if (rc != Z_STREAM_END) return make_error(Errc::io, "zlib: deflate failed (" + std::to_string(rc) + ")");
    size_t n = out.size() - def_.avail_out;
    return n < in.size() ? n : 0;
  }

  Result<void> decompress(std::span<const std::byte> in, std::span<std::byte> out) override {
    if (!inf_ok_ || inflateReset(&inf_) != Z_OK) return make_error(Errc::io, "zlib: inflate init failed");
    inf_.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(in.data()));
    inf_.avail_in = static_cast<uInt>(in.size());
    inf_.next_out = reinterpret_cast<Bytef*>(out.data());
    inf_.avail_out = static_cast<uInt>(out.size());
    int rc = inflate(&inf_, Z_FINISH);
    if (rc != Z_STREAM_END || inf_.avail_out != 0)
      return make_error(Errc::corrupt, "zlib: bad compressed data");
    return {};
  }

 private:
  z_stream def_{};
  z_stream inf_{};
  bool ok_ = false;
  bool inf_ok_ = false;
};

}  // namespace

std::unique_ptr<Codec> make_zlib_lib_codec() { return std::make_unique<ZlibCodec>(); }

std::unique_ptr<Codec> make_zlib_codec() {
  if (std::unique_ptr<Codec> c = make_deflate_codec()) return c;
  return make_zlib_lib_codec();
}

}  // namespace kk
