// purgatory_blob.h: the purgatory images built into kexec. Each is a flat, position-independent
// blob (layout and parameter block in purgatory_abi.h) produced at build time by
// purgatory/meson.build: gcc -ffreestanding, static-PIE link, check_relocs.py (fails the build on
// any relocation), objcopy -O binary, embed.py. C linkage, no namespace: the generated source is
// a plain byte table, and the names say which architecture's purgatory it is.
//
// Use: copy purgatory_x86_64() into a buffer, patch the kk_purgatory_params at
// KK_PURGATORY_PARAMS_OFFSET, and load it as a segment of image_mem_size bytes (memsz), the file
// bytes first: kexec zero-fills the rest, which is the purgatory's .bss and stack. Place it
// page-aligned (16 bytes is the real minimum: GDT and stack alignment are relative to byte 0),
// point the kexec entry at its first byte, and leave it out of the regions it hashes (it is
// patched after the digest is known).
#pragma once

#include <cstddef>
#include <span>

#include "purgatory/include/purgatory_abi.h"

extern "C" {
// x86_64 purgatory for kexec_load (purgatory/x86_64/).
extern const unsigned char kk_purgatory_x86_64[];
extern const std::size_t kk_purgatory_x86_64_size;
// Build-time facts from check_relocs.py: relocations in the link (0, or the build fails) and the
// link's kk_image_end, which must equal the image_mem_size field inside the blob.
extern const unsigned kk_purgatory_x86_64_relocations;
extern const unsigned long long kk_purgatory_x86_64_image_mem_size;
// arm64 purgatory for kexec_load (purgatory/arm64/), the same facts.
extern const unsigned char kk_purgatory_arm64[];
extern const std::size_t kk_purgatory_arm64_size;
extern const unsigned kk_purgatory_arm64_relocations;
extern const unsigned long long kk_purgatory_arm64_image_mem_size;
}

namespace kk {

inline std::span<const unsigned char> purgatory_x86_64() {
  return {kk_purgatory_x86_64, kk_purgatory_x86_64_size};
}
inline std::span<const unsigned char> purgatory_arm64() {
  return {kk_purgatory_arm64, kk_purgatory_arm64_size};
}

}  // namespace kk
