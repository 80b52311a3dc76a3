// kcore_facts.h: what /proc/kcore's program headers tell a crash loader: where the kernel text
// is mapped and the direct (x86_64) or linear (arm64) map's base, which KASLR moves. Pure:
// program headers in, facts out; system_info.h reads them from the file.
#pragma once

#include <optional>
#include <span>

#include "lib/elf/elf_core.h"
#include "kexec/elfcorehdr.h"

namespace kk {

struct KcoreFacts {
  std::optional<KernelText> text;
  std::optional<u64> page_offset;
};

// x86_64: the text is the PT_LOAD in [-2 GiB, -1 GiB). arm64: the kernel image lies above the
// linear map (Linux 5.4+ layout, any VA size), so it is the highest PT_LOAD with a physical
// address (kcore gives one to KCORE_TEXT and KCORE_RAM only); the others are the linear map.
enum class KcoreLayout { x86_64, arm64 };

// PT_LOADs without a physical address (p_paddr = -1: vmalloc, modules, vmemmap) are skipped;
// so are all other segment types.
KcoreFacts kcore_facts(std::span<const Elf64Phdr> phdrs, KcoreLayout layout);

}  // namespace kk
