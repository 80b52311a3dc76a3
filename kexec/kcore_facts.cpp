#include "kexec/kcore_facts.h"

namespace kk {

namespace {

// x86_64's kernel text mapping and the lowest the direct map starts (Documentation/arch/x86/
// x86_64/mm.rst, 4-level paging; 5-level only starts it lower, still in the upper half).
constexpr u64 kX86TextStart = 0xffffffff80000000ull;
constexpr u64 kX86TextEnd = 0xffffffffc0000000ull;
constexpr u64 kX86UpperHalf = 0xffff800000000000ull;

void add_x86_64(KcoreFacts& f, u64 vaddr, u64 paddr, u64 memsz) {
  if (vaddr >= kX86TextStart && vaddr < kX86TextEnd) {
    if (!f.text) f.text = KernelText{vaddr, paddr, memsz};
  } else if (!f.page_offset && vaddr >= kX86UpperHalf && vaddr >= paddr) {
    f.page_offset = vaddr - paddr;
  }
}

// The highest mapping seen so far is the text candidate; one it displaces was linear map.
void add_arm64(KcoreFacts& f, u64 vaddr, u64 paddr, u64 memsz) {
  if (!f.text || vaddr > f.text->vaddr) {
    if (f.text && !f.page_offset) f.page_offset = f.text->vaddr - f.text->paddr;
    f.text = KernelText{vaddr, paddr, memsz};
  } else if (!f.page_offset) {
    f.page_offset = vaddr - paddr;
  }
}

}  // namespace

KcoreFacts kcore_facts(std::span<const Elf64Phdr> phdrs, KcoreLayout layout) {
  KcoreFacts facts;
  for (const Elf64Phdr& ph : phdrs) {
    if (u32(ph.type) != kPtLoad || u64(ph.paddr) == ~0ull) continue;
    if (layout == KcoreLayout::arm64) add_arm64(facts, ph.vaddr, ph.paddr, ph.memsz);
    else add_x86_64(facts, ph.vaddr, ph.paddr, ph.memsz);
  }
  return facts;
}

}  // namespace kk
