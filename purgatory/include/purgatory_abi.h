/* purgatory_abi.h: the contract between the loader (C++, kexec/) and our freestanding purgatory
 * (C and assembly, purgatory/). The purgatory is a flat, position-independent blob: byte 0 is its
 * entry (a jmp over the parameter block), and at KK_PURGATORY_PARAMS_OFFSET sits one
 * struct kk_purgatory_params. The loader copies the blob into a kexec segment, patches that block
 * (kernel entry, boot argument, regions, digest), reserves image_mem_size bytes for the segment
 * (the blob's .bss and stack follow its file bytes) and needs no relocation at all.
 *
 * Plain C so that gcc -ffreestanding, g++ and gas (which sees only the #defines, under
 * __ASSEMBLER__) all read the same numbers. Every field is naturally aligned, so there is no
 * padding; the offsets are asserted below and repeated as #defines for entry.S. Little-endian
 * (x86_64, arm64).
 */
#ifndef KK_PURGATORY_ABI_H
#define KK_PURGATORY_ABI_H

/* "KKPURG01" read as a little-endian u64: bytes 4b 4b 50 55 52 47 30 31. */
#define KK_PURGATORY_MAGIC 0x3130475255504b4bULL
/* Bump on any layout or meaning change; the loader refuses a blob of a version it does not know. */
#define KK_PURGATORY_ABI_VERSION 1
/* Where the parameter block starts in the blob; bytes before it are the entry jmp and padding. */
#define KK_PURGATORY_PARAMS_OFFSET 0x10
/* Same bound as kexec-tools' sha256_regions[] (16): one per kexec segment but the purgatory's. */
#define KK_PURGATORY_MAX_REGIONS 16
#define KK_PURGATORY_DIGEST_SIZE 32

/* Field offsets inside struct kk_purgatory_params (checked against offsetof below). */
#define KK_PP_MAGIC 0x00
#define KK_PP_ABI_VERSION 0x08
#define KK_PP_NR_REGIONS 0x0c
#define KK_PP_IMAGE_MEM_SIZE 0x10
#define KK_PP_ENTRY 0x18
#define KK_PP_ARG 0x20
#define KK_PP_CONSOLE_PORT 0x28
#define KK_PP_SKIP_CHECKS 0x30
#define KK_PP_FLAGS 0x34
#define KK_PP_BACKUP_SRC 0x38
#define KK_PP_BACKUP_DST 0x40
#define KK_PP_BACKUP_LEN 0x48
#define KK_PP_REGIONS 0x50
#define KK_PP_DIGEST 0x150
#define KK_PP_SIZE 0x170

/* x86_64 selectors the Linux 64-bit boot protocol asks for (Documentation/arch/x86/boot.rst,
 * "64-bit BOOT PROTOCOL": CS = __BOOT_CS, DS/ES/SS = __BOOT_DS, 4 GiB flat). */
#define KK_X86_BOOT_CS 0x10
#define KK_X86_BOOT_DS 0x18

#if !defined(__ASSEMBLER__)

/* The C headers in C++ too: they guarantee the unqualified uint64_t this header uses. */
#include <stddef.h>
#include <stdint.h>

/* One physical range the purgatory hashes; identity-mapped when it runs. */
struct kk_purgatory_region {
  uint64_t start;
  uint64_t len;
};

struct kk_purgatory_params {
  /* Filled at build time; the loader checks them and leaves them alone. */
  uint64_t magic;          /* KK_PURGATORY_MAGIC */
  uint32_t abi_version;    /* KK_PURGATORY_ABI_VERSION */
  uint32_t nr_regions;     /* loader: used entries of regions[] (0..KK_PURGATORY_MAX_REGIONS) */
  uint64_t image_mem_size; /* bytes the segment must span: file bytes + .bss + stack */

  /* Filled by the loader. */
  uint64_t entry;        /* x86_64: kernel rip (startup_64); arm64: kernel Image entry */
  uint64_t arg;          /* x86_64: %rsi = boot_params phys address; arm64: x0 = DTB */
  uint64_t console_port; /* x86_64: UART I/O port (0x3f8 = COM1); 0 = silent */
  uint32_t skip_checks;  /* nonzero: do not hash (kexec --no-checks / -i) */
  uint32_t flags;        /* reserved, must be 0 */
  /* Optional copy done after the checks pass (kexec-tools' crashdump_backup_memory() idea:
   * save the low memory the capture kernel will reuse). backup_len 0 = no copy. */
  uint64_t backup_src;
  uint64_t backup_dst;
  uint64_t backup_len;
  struct kk_purgatory_region regions[KK_PURGATORY_MAX_REGIONS];
  /* SHA-256 over regions[0..nr_regions) concatenated in order (one digest, as kexec-tools). */
  uint8_t digest[KK_PURGATORY_DIGEST_SIZE];
};

#ifdef __cplusplus
#define KK_PURGATORY_STATIC_ASSERT(cond, msg) static_assert(cond, msg)
#else
#define KK_PURGATORY_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)
#endif

KK_PURGATORY_STATIC_ASSERT(sizeof(struct kk_purgatory_region) == 16, "region layout");
KK_PURGATORY_STATIC_ASSERT(offsetof(struct kk_purgatory_params, magic) == KK_PP_MAGIC, "magic");
KK_PURGATORY_STATIC_ASSERT(offsetof(struct kk_purgatory_params, abi_version) == KK_PP_ABI_VERSION,
                           "abi_version");
KK_PURGATORY_STATIC_ASSERT(offsetof(struct kk_purgatory_params, nr_regions) == KK_PP_NR_REGIONS,
                           "nr_regions");
KK_PURGATORY_STATIC_ASSERT(offsetof(struct kk_purgatory_params, image_mem_size) ==
                               KK_PP_IMAGE_MEM_SIZE,
                           "image_mem_size");
KK_PURGATORY_STATIC_ASSERT(offsetof(struct kk_purgatory_params, entry) == KK_PP_ENTRY, "entry");
KK_PURGATORY_STATIC_ASSERT(offsetof(struct kk_purgatory_params, arg) == KK_PP_ARG, "arg");
KK_PURGATORY_STATIC_ASSERT(offsetof(struct kk_purgatory_params, console_port) ==
                               KK_PP_CONSOLE_PORT,
                           "console_port");
KK_PURGATORY_STATIC_ASSERT(offsetof(struct kk_purgatory_params, skip_checks) == KK_PP_SKIP_CHECKS,
                           "skip_checks");
KK_PURGATORY_STATIC_ASSERT(offsetof(struct kk_purgatory_params, flags) == KK_PP_FLAGS, "flags");
KK_PURGATORY_STATIC_ASSERT(offsetof(struct kk_purgatory_params, backup_src) == KK_PP_BACKUP_SRC,
                           "backup_src");
KK_PURGATORY_STATIC_ASSERT(offsetof(struct kk_purgatory_params, backup_dst) == KK_PP_BACKUP_DST,
                           "backup_dst");
KK_PURGATORY_STATIC_ASSERT(offsetof(struct kk_purgatory_params, backup_len) == KK_PP_BACKUP_LEN,
                           "backup_len");
KK_PURGATORY_STATIC_ASSERT(offsetof(struct kk_purgatory_params, regions) == KK_PP_REGIONS,
                           "regions");
KK_PURGATORY_STATIC_ASSERT(offsetof(struct kk_purgatory_params, digest) == KK_PP_DIGEST, "digest");
KK_PURGATORY_STATIC_ASSERT(sizeof(struct kk_purgatory_params) == KK_PP_SIZE, "params size");

#undef KK_PURGATORY_STATIC_ASSERT

#endif /* !__ASSEMBLER__ */

#endif /* KK_PURGATORY_ABI_H */
