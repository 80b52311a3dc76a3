#include "lib/compress/codec.h"

#include "kk_config.h"

namespace kk {

std::string_view codec_name(CodecKind kind) {
  for (const CodecInfo& e : kCodecTable)
    if (e.kind == kind) return e.name;
  return "?";
}

std::optional<CodecKind> codec_from_name(std::string_view name) {
  for (const CodecInfo& e : kCodecTable)
    if (e.name == name) return e.kind;
  return std::nullopt;
}

std::optional<CodecKind> codec_from_diskdump_flag(u32 flags) {
  for (const CodecInfo& e : kCodecTable)
    if (e.diskdump_flag == flags) return e.kind;
  return std::nullopt;
}

bool codec_available(CodecKind kind) { return kind != CodecKind::snappy || KK_HAVE_SNAPPY; }

Result<std::unique_ptr<Codec>> make_codec(CodecKind kind) {
  switch (kind) {
    case CodecKind::zlib: return make_zlib_codec();
    case CodecKind::lzo: return make_lzo_codec();
    case CodecKind::zstd: return make_zstd_codec();
    case CodecKind::snappy:
      if (std::unique_ptr<Codec> c = make_snappy_codec()) return c;
      return make_error(Errc::unsupported, "snappy: this build has no snappy support");
    case CodecKind::none: break;
  }
  return make_error(Errc::unsupported, "no codec for 'none'");
}

}  // namespace kk
