/* sha256.h: SHA-256 (FIPS 180-4) for the purgatory, which has no libc and no OpenSSL. The loader
 * hashes the segments with OpenSSL at load time; the purgatory hashes the same bytes again just
 * before it boots the new kernel, and both must agree. Freestanding C that is also valid C++, so
 * the unit test compiles this very source for the host and compares it with OpenSSL.
 * Shared by every architecture's purgatory.
 */
#ifndef KK_PURGATORY_SHA256_H
#define KK_PURGATORY_SHA256_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KK_SHA256_DIGEST_SIZE 32
#define KK_SHA256_BLOCK_SIZE 64

struct kk_sha256_ctx {
  uint32_t h[8];                        /* chaining state H0..H7 */
  uint64_t total;                       /* bytes fed so far (the length goes in the padding) */
  uint8_t block[KK_SHA256_BLOCK_SIZE];  /* partial block not yet compressed */
  uint32_t fill;                        /* bytes used in block[] */
};

void kk_sha256_init(struct kk_sha256_ctx *ctx);
void kk_sha256_update(struct kk_sha256_ctx *ctx, const void *data, size_t len);
void kk_sha256_final(struct kk_sha256_ctx *ctx, uint8_t out[KK_SHA256_DIGEST_SIZE]);

#ifdef __cplusplus
}
#endif

#endif /* KK_PURGATORY_SHA256_H */
