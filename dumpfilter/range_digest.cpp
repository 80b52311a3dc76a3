#include "dumpfilter/range_digest.h"

#include <xxhash.h>

#include <new>

namespace kk {

namespace {

struct AlgoInfo {
  DigestAlgo algo;
  std::string_view keyword, title;
  size_t hex_size;
};
constexpr AlgoInfo kAlgos[] = {{DigestAlgo::xxh3_128, "xxh3-128", "XXH3-128", 32},
                               {DigestAlgo::sha256, "sha256", "SHA-256", 64}};

const AlgoInfo& info(DigestAlgo a) { return a == DigestAlgo::sha256 ? kAlgos[1] : kAlgos[0]; }

}  // namespace

std::string_view digest_keyword(DigestAlgo a) { return info(a).keyword; }
std::string_view digest_title(DigestAlgo a) { return info(a).title; }
size_t digest_hex_size(DigestAlgo a) { return info(a).hex_size; }

std::optional<DigestAlgo> digest_from_keyword(std::string_view word) {
  for (const AlgoInfo& i : kAlgos)
    if (i.keyword == word) return i.algo;
  return std::nullopt;
}

struct RangeDigester::Xxh {
  XXH3_state_t* state = XXH3_createState();
  Xxh() {
    if (!state) throw std::bad_alloc();  // a dump stops on out of memory like everywhere else
    XXH3_128bits_reset(state);
  }
  ~Xxh() { XXH3_freeState(state); }
  Xxh(const Xxh&) = delete;
  Xxh& operator=(const Xxh&) = delete;
};

RangeDigester::RangeDigester(DigestAlgo a) : algo_(a) {
  if (a == DigestAlgo::sha256) sha_.emplace();
  else xxh_ = std::make_unique<Xxh>();
}
RangeDigester::~RangeDigester() = default;
RangeDigester::RangeDigester(RangeDigester&&) noexcept = default;
RangeDigester& RangeDigester::operator=(RangeDigester&&) noexcept = default;

void RangeDigester::update(std::span<const std::byte> data) {
  if (sha_) sha_->update(data);
  else XXH3_128bits_update(xxh_->state, data.data(), data.size());
}

std::string RangeDigester::hex() {
  if (sha_) return sha_->hex();
  XXH128_canonical_t c;
  XXH128_canonicalFromHash(&c, XXH3_128bits_digest(xxh_->state));
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  for (unsigned char b : c.digest) {
    s += kDigits[b >> 4];
    s += kDigits[b & 15];
  }
  return s;
}

}  // namespace kk
