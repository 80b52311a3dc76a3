/* verify.c: the purgatory's one decision, shared by every architecture, between entry.S's setup
 * and its jump into the new kernel: do the loaded segments still hold exactly the bytes the loader
 * hashed? If not (a stray DMA, a bug, corrupted crash-kernel memory), booting them would at best
 * fail obscurely and at worst run garbage, so we say so on the console and stop the machine for
 * good. The architecture supplies the console byte and the stop (verify.h).
 *
 * Runs identity-mapped (arm64: with the MMU off) with no libc, no interrupts, and only our
 * 16 KiB stack. Physical addresses are dereferenced directly; address 0 is a legal region start,
 * which is why the build passes -fno-delete-null-pointer-checks.
 */
#include <stddef.h>
#include <stdint.h>

#include "purgatory/include/purgatory_abi.h"
#include "purgatory/sha256.h"
#include "purgatory/verify.h"

/* Defined in entry.S, patched by the loader. */
extern struct kk_purgatory_params kk_purgatory_params;

void kk_purgatory_main(void);

#define kk_putc kk_arch_putc

/* ---- console ---- */

static void kk_puts(const char *s) {
  for (; *s; s++) {
    if (*s == '\n') kk_putc('\r');
    kk_putc(*s);
  }
}

static void kk_put_hex_bytes(const uint8_t *p, size_t n) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    kk_putc(digits[p[i] >> 4]);
    kk_putc(digits[p[i] & 15]);
  }
}

static void kk_put_hex64(uint64_t v) {
  static const char digits[] = "0123456789abcdef";
  kk_puts("0x");
  for (int shift = 60; shift >= 0; shift -= 4) kk_putc(digits[(v >> shift) & 15]);
}

__attribute__((noreturn)) static void kk_refuse(const char *why) {
  kk_puts("kdumpkit purgatory: ");
  kk_puts(why);
  kk_puts(", not booting\n");
  kk_arch_halt();
}

/* ---- checks ---- */

static void kk_digest_regions(const struct kk_purgatory_params *pp,
                              uint8_t out[KK_SHA256_DIGEST_SIZE]) {
  struct kk_sha256_ctx ctx;
  kk_sha256_init(&ctx);
  for (uint32_t i = 0; i < pp->nr_regions; i++) {
    const uint8_t *start = (const uint8_t *)(uintptr_t)pp->regions[i].start;
    kk_sha256_update(&ctx, start, (size_t)pp->regions[i].len);
  }
  kk_sha256_final(&ctx, out);
}

static int kk_digest_equal(const uint8_t *a, const uint8_t *b) {
  uint8_t diff = 0;
  for (size_t i = 0; i < KK_SHA256_DIGEST_SIZE; i++) diff |= (uint8_t)(a[i] ^ b[i]);
  return diff == 0;
}

static void kk_copy_backup(const struct kk_purgatory_params *pp) {
  volatile uint8_t *dst = (volatile uint8_t *)(uintptr_t)pp->backup_dst;
  const volatile uint8_t *src = (const volatile uint8_t *)(uintptr_t)pp->backup_src;
  for (uint64_t i = 0; i < pp->backup_len; i++) dst[i] = src[i];
}

void kk_purgatory_main(void) {
  const struct kk_purgatory_params *pp = &kk_purgatory_params;

  /* A block the loader did not fill sensibly is refused like a bad digest: guessing is worse. */
  if (pp->nr_regions > KK_PURGATORY_MAX_REGIONS) kk_refuse("bad parameter block (nr_regions)");
  if (pp->entry == 0) kk_refuse("bad parameter block (no kernel entry)");

  if (pp->skip_checks) {
    kk_puts("kdumpkit purgatory: checks skipped\n");
  } else {
    uint8_t digest[KK_SHA256_DIGEST_SIZE];
    kk_digest_regions(pp, digest);
    if (!kk_digest_equal(digest, pp->digest)) {
      kk_puts("kdumpkit purgatory: digest mismatch, not booting\n");
      kk_puts("kdumpkit purgatory: expected ");
      kk_put_hex_bytes(pp->digest, KK_SHA256_DIGEST_SIZE);
      kk_puts("\nkdumpkit purgatory: computed ");
      kk_put_hex_bytes(digest, KK_SHA256_DIGEST_SIZE);
      kk_puts("\n");
      kk_arch_halt();
    }
    kk_puts("kdumpkit purgatory: checks ok\n");
  }

  if (pp->backup_len != 0) kk_copy_backup(pp);

  kk_puts("kdumpkit purgatory: entering kernel at ");
  kk_put_hex64(pp->entry);
  kk_puts("\n");
}
