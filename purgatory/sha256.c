/* sha256.c: SHA-256 as FIPS 180-4 sections 4.2.2, 5.1.1, 5.3.3 and 6.2 state it, written for
 * clarity over speed: the purgatory hashes a kernel and an initrd (tens of MiB) once, where a
 * plain C loop costs well under a second. No libc calls (the purgatory has none) and no
 * floating point or vector registers (it runs with -mgeneral-regs-only). Valid C and C++ so the
 * host unit test can build this same file (sha256_host.cpp).
 */
#include "purgatory/sha256.h"

/* FIPS 180-4 4.2.2: the first 32 bits of the fractional parts of the cube roots of the first 64
 * primes. */
static const uint32_t kk_sha256_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t kk_rotr(uint32_t x, unsigned n) { return (x >> n) | (x << (32 - n)); }

static uint32_t kk_load_be32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static void kk_store_be32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

/* FIPS 180-4 6.2.2: one 512-bit block into the chaining state. The message schedule is kept as
 * a rolling 16-word window rather than all 64 words, to keep the purgatory's stack use small. */
static void kk_sha256_block(uint32_t h[8], const uint8_t *block) {
  uint32_t w[16];
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
  for (unsigned t = 0; t < 64; t++) {
    uint32_t wt;
    if (t < 16) {
      wt = kk_load_be32(block + 4 * t);
    } else {
      uint32_t w15 = w[(t - 15) & 15], w2 = w[(t - 2) & 15];
      uint32_t s0 = kk_rotr(w15, 7) ^ kk_rotr(w15, 18) ^ (w15 >> 3);
      uint32_t s1 = kk_rotr(w2, 17) ^ kk_rotr(w2, 19) ^ (w2 >> 10);
      wt = w[t & 15] + s0 + w[(t - 7) & 15] + s1;  /* w[t & 15] still holds W(t-16) */
    }
    w[t & 15] = wt;
    uint32_t big_s1 = kk_rotr(e, 6) ^ kk_rotr(e, 11) ^ kk_rotr(e, 25);
    uint32_t ch = (e & f) ^ (~e & g);
    uint32_t t1 = hh + big_s1 + ch + kk_sha256_k[t] + wt;
    uint32_t big_s0 = kk_rotr(a, 2) ^ kk_rotr(a, 13) ^ kk_rotr(a, 22);
    uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
    uint32_t t2 = big_s0 + maj;
    hh = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  h[0] += a;
  h[1] += b;
  h[2] += c;
  h[3] += d;
  h[4] += e;
  h[5] += f;
  h[6] += g;
  h[7] += hh;
}

void kk_sha256_init(struct kk_sha256_ctx *ctx) {
  /* FIPS 180-4 5.3.3: fractional parts of the square roots of the first 8 primes. */
  static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  for (unsigned i = 0; i < 8; i++) ctx->h[i] = iv[i];
  ctx->total = 0;
  ctx->fill = 0;
}

void kk_sha256_update(struct kk_sha256_ctx *ctx, const void *data, size_t len) {
  const uint8_t *p = (const uint8_t *)data;
  ctx->total += len;
  /* Top up a partial block first; then whole blocks straight from the input, no copy. */
  while (len > 0 && ctx->fill > 0) {
    ctx->block[ctx->fill++] = *p++;
    len--;
    if (ctx->fill == KK_SHA256_BLOCK_SIZE) {
      kk_sha256_block(ctx->h, ctx->block);
      ctx->fill = 0;
    }
  }
  for (; len >= KK_SHA256_BLOCK_SIZE; p += KK_SHA256_BLOCK_SIZE, len -= KK_SHA256_BLOCK_SIZE)
    kk_sha256_block(ctx->h, p);
  while (len > 0) {
    ctx->block[ctx->fill++] = *p++;
    len--;
  }
}

void kk_sha256_final(struct kk_sha256_ctx *ctx, uint8_t out[KK_SHA256_DIGEST_SIZE]) {
  /* FIPS 180-4 5.1.1: a 1 bit, zeros up to 56 mod 64 bytes, then the bit length big-endian.
   * When fewer than 9 bytes are left in the block (fill > 55) the padding spills into a second
   * block: the 55/56-byte boundary the unit test covers. */
  uint64_t bits = ctx->total * 8;
  ctx->block[ctx->fill++] = 0x80;
  if (ctx->fill > KK_SHA256_BLOCK_SIZE - 8) {
    while (ctx->fill < KK_SHA256_BLOCK_SIZE) ctx->block[ctx->fill++] = 0;
    kk_sha256_block(ctx->h, ctx->block);
    ctx->fill = 0;
  }
  while (ctx->fill < KK_SHA256_BLOCK_SIZE - 8) ctx->block[ctx->fill++] = 0;
  kk_store_be32(ctx->block + 56, (uint32_t)(bits >> 32));
  kk_store_be32(ctx->block + 60, (uint32_t)bits);
  kk_sha256_block(ctx->h, ctx->block);
  for (unsigned i = 0; i < 8; i++) kk_store_be32(out + 4 * i, ctx->h[i]);
}
