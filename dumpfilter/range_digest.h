// range_digest.h: the digests a manifest (manifest.h) may name for a byte range. New manifests use
// XXH3-128: the manifest guards against accidental damage in transit and storage (a bad sector, a
// short copy, a flipped bit), not against someone who rewrites the dump and its manifest together
// (who could recompute any digest kept beside the file), so a fast non-cryptographic 128-bit hash
// does the job at ~15-30 GB/s where SHA-256 took 0.85 s of a 5 s dump. Manifests written before
// carry SHA-256 lines and still verify.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "lib/hash/sha256.h"

namespace kk {

enum class DigestAlgo { xxh3_128, sha256 };

// The manifest's name for it ("xxh3-128", "sha256"), how people write it ("XXH3-128", "SHA-256"),
// and the length of its hex digest.
std::string_view digest_keyword(DigestAlgo a);
std::string_view digest_title(DigestAlgo a);
size_t digest_hex_size(DigestAlgo a);
std::optional<DigestAlgo> digest_from_keyword(std::string_view word);

class RangeDigester {
 public:
  explicit RangeDigester(DigestAlgo a = DigestAlgo::xxh3_128);
  ~RangeDigester();
  RangeDigester(RangeDigester&&) noexcept;
  RangeDigester& operator=(RangeDigester&&) noexcept;
  DigestAlgo algo() const { return algo_; }
  void update(std::span<const std::byte> data);
  // Lower-case hex; for XXH3-128 the canonical (big-endian) form xxh128sum prints. Once.
  std::string hex();

 private:
  struct Xxh;
  DigestAlgo algo_;
  std::unique_ptr<Xxh> xxh_;
  std::optional<Sha256> sha_;
};

}  // namespace kk
