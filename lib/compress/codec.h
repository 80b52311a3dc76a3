// codec.h: one interface for every per-page compressor. Dump formats compress page by page so a
// reader can fetch any page alone; a Codec instance keeps its scratch state (zlib stream, LZO work
// memory, zstd context) between pages and belongs to one thread at a time.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <span>
#include <string_view>

#include "lib/io/result.h"
#include "lib/io/types.h"

namespace kk {

enum class CodecKind { none, zlib, lzo, zstd, snappy };

// The one table of codecs: the name options and reports use, and the bit the kdump-compressed
// (diskdump) format gives the codec in a page descriptor's flags and in the header's status (0:
// stored raw). The writer, the reader and the tests' fixtures all go through it.
struct CodecInfo {
  CodecKind kind;
  std::string_view name;
  u32 diskdump_flag;
};
inline constexpr std::array<CodecInfo, 5> kCodecTable{{{CodecKind::none, "none", 0x0},
                                                       {CodecKind::zlib, "zlib", 0x1},
                                                       {CodecKind::lzo, "lzo", 0x2},
                                                       {CodecKind::snappy, "snappy", 0x4},
                                                       {CodecKind::zstd, "zstd", 0x20}}};

constexpr u32 diskdump_codec_flag(CodecKind kind) {
  for (const CodecInfo& c : kCodecTable)
    if (c.kind == kind) return c.diskdump_flag;
  return 0;
}
// A page descriptor's flags: exactly one codec's bit, or 0 (raw); anything else is nullopt.
std::optional<CodecKind> codec_from_diskdump_flag(u32 flags);

std::string_view codec_name(CodecKind kind);  // "zlib", "lzo", ...
std::optional<CodecKind> codec_from_name(std::string_view name);
bool codec_available(CodecKind kind);

class Codec {
 public:
  virtual ~Codec() = default;
  virtual CodecKind kind() const = 0;
  // Worst-case compressed size of n input bytes; `out` given to compress() must be this big.
  virtual size_t bound(size_t n) const = 0;
  // Returns the compressed size, or 0 when it would not be smaller than the input (the caller then
  // stores the data raw, as the dump formats expect).
  virtual Result<size_t> compress(std::span<const std::byte> in, std::span<std::byte> out) = 0;
  // Decompresses exactly out.size() bytes; anything else is Errc::corrupt.
  virtual Result<void> decompress(std::span<const std::byte> in, std::span<std::byte> out) = 0;
};

// Fails with Errc::unsupported when the codec was not built in (snappy without libsnappy).
Result<std::unique_ptr<Codec>> make_codec(CodecKind kind);

// Per-codec factories, one file each.
std::unique_ptr<Codec> make_zlib_codec();     // libdeflate where built in, else zlib
std::unique_ptr<Codec> make_zlib_lib_codec();  // zlib's own deflate (the fallback; tests compare)
std::unique_ptr<Codec> make_deflate_codec();   // nullptr when libdeflate is not built in
std::unique_ptr<Codec> make_lzo_codec();
std::unique_ptr<Codec> make_zstd_codec();
std::unique_ptr<Codec> make_snappy_codec();  // nullptr when not built in

}  // namespace kk
