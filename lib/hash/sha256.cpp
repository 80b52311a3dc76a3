// sha256.cpp: the block engines behind Sha256 and the FIPS 180-4 padding around them.
#include "lib/hash/sha256.h"

#include <cstring>

// The portable engine is the purgatory's own block function (freestanding C that is also valid
// C++); tests/unit/test_purgatory checks it against OpenSSL.
#include "purgatory/sha256.c"

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#endif

namespace kk {
namespace {

void portable_blocks(uint32_t h[8], const unsigned char* p, size_t count) {
  for (; count > 0; --count, p += 64) kk_sha256_block(h, p);
}

#if defined(__x86_64__)
// SHA-NI: SHA256RNDS2 runs two rounds on the state split as ABEF / CDGH; SHA256MSG1/MSG2 extend
// the message schedule four words at a time (Intel SDM, "SHA extensions").
__attribute__((target("sha,sse4.1,ssse3"))) void shani_blocks(uint32_t h[8], const unsigned char* p,
                                                               size_t count) {
  const __m128i bswap = _mm_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3);
  // h[0..3] = A B C D, h[4..7] = E F G H (lowest lane first) -> ABEF = {F,E,B,A}, CDGH = {H,G,D,C}.
  __m128i abcd = _mm_loadu_si128(reinterpret_cast<const __m128i*>(h));
  __m128i efgh = _mm_loadu_si128(reinterpret_cast<const __m128i*>(h + 4));
  abcd = _mm_shuffle_epi32(abcd, 0xB1);  // B A D C
  efgh = _mm_shuffle_epi32(efgh, 0x1B);  // H G F E
  __m128i abef = _mm_alignr_epi8(abcd, efgh, 8);
  __m128i cdgh = _mm_blend_epi16(efgh, abcd, 0xF0);

  for (; count > 0; --count, p += 64) {
    const __m128i abef0 = abef, cdgh0 = cdgh;
    __m128i w[16];
    for (int i = 0; i < 4; ++i)
      w[i] = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * i)), bswap);
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i) {
      // W[t..t+3] from W[t-16..t-13], W[t-12..t-9], W[t-7..t-4] and W[t-4..t-1], computed just
      // before its rounds so the schedule's chain runs beside the rounds' chain.
      if (i >= 4) {
        __m128i x = _mm_sha256msg1_epu32(w[i - 4], w[i - 3]);
        x = _mm_add_epi32(x, _mm_alignr_epi8(w[i - 1], w[i - 2], 4));
        w[i] = _mm_sha256msg2_epu32(x, w[i - 1]);
      }
      __m128i k = _mm_loadu_si128(reinterpret_cast<const __m128i*>(kk_sha256_k + 4 * i));
      __m128i wk = _mm_add_epi32(w[i], k);
      // Two rounds make the old ABEF the new CDGH: the registers swap roles each time.
      cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk);
      abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(wk, 0x0E));
    }
    abef = _mm_add_epi32(abef, abef0);
    cdgh = _mm_add_epi32(cdgh, cdgh0);
  }

  __m128i feba = _mm_shuffle_epi32(abef, 0x1B);  // A B E F
  __m128i ghcd = _mm_shuffle_epi32(cdgh, 0xB1);  // G H C D
  _mm_storeu_si128(reinterpret_cast<__m128i*>(h), _mm_blend_epi16(feba, ghcd, 0xF0));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(h + 4), _mm_alignr_epi8(ghcd, feba, 8));
}

bool cpu_has_shani() {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
  bool sse41 = c & (1u << 19), ssse3 = c & (1u << 9);
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
  return sse41 && ssse3 && (b & (1u << 29));
}
#endif

bool have_shani() {
#if defined(__x86_64__)
  static const bool yes = cpu_has_shani();
  return yes;
#else
  return false;
#endif
}

}  // namespace

const char* Sha256::best_engine() { return have_shani() ? "sha-ni" : "portable"; }

Sha256::Sha256(Engine e) : blocks_(portable_blocks) {
#if defined(__x86_64__)
  if (e == Engine::best && have_shani()) blocks_ = shani_blocks;
#else
  (void)e;
#endif
  kk_sha256_ctx c;
  kk_sha256_init(&c);
  std::memcpy(h_, c.h, sizeof h_);
}

void Sha256::update(std::span<const std::byte> data) {
  if (data.empty()) return;  // an empty span may have no data() at all: memcpy's arguments must not be null
  auto p = reinterpret_cast<const unsigned char*>(data.data());
  size_t n = data.size();
  total_ += n;
  if (fill_) {
    size_t take = std::min(n, sizeof buf_ - fill_);
    std::memcpy(buf_ + fill_, p, take);
    fill_ += take;
    p += take;
    n -= take;
    if (fill_ < sizeof buf_) return;
    blocks_(h_, buf_, 1);
    fill_ = 0;
  }
  blocks_(h_, p, n / 64);  // whole blocks straight from the caller's buffer
  p += n / 64 * 64;
  n %= 64;
  std::memcpy(buf_, p, n);
  fill_ = n;
}

std::array<std::byte, 32> Sha256::digest() {
  // FIPS 180-4 5.1.1: 0x80, zeros to 56 mod 64, the length in bits big-endian.
  uint64_t bits = total_ * 8;
  unsigned char pad[128] = {0x80};
  size_t padlen = (fill_ < 56 ? 56 : 120) - fill_;
  for (int i = 0; i < 8; ++i) pad[padlen + i] = static_cast<unsigned char>(bits >> (56 - 8 * i));
  update(std::as_bytes(std::span(pad, padlen + 8)));
  std::array<std::byte, 32> out;
  for (size_t i = 0; i < out.size(); ++i) out[i] = std::byte(h_[i / 4] >> (24 - 8 * (i % 4)));
  return out;
}

std::string Sha256::hex() {
  static constexpr char digits[] = "0123456789abcdef";
  std::string s;
  for (std::byte b : digest()) {
    s += digits[std::to_integer<unsigned>(b) >> 4];
    s += digits[std::to_integer<unsigned>(b) & 15];
  }
  return s;
}

}  // namespace kk
