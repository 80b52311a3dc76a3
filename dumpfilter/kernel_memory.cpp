#include "dumpfilter/kernel_memory.h"

#include "dumpfilter/dump_input.h"
#include "io/byte_cursor.h"

namespace kk {

Result<X86Paging> x86_paging_from(const Vmcoreinfo& vi) {
  X86Paging p;
  if (vi.number("pgtable_l5_enabled").value_or(0) == 1) p.form = x86_64::kFiveLevel;
  p.enc_mask = static_cast<u64>(vi.number("sme_mask").value_or(0));
  // NUMBER(phys_base) is exported since Linux 4.10; nothing older is in our range (5.4+).
  Result<i64> pb = vi.need_number("phys_base");
  if (!pb) return std::move(pb).error();
  p.phys_base = static_cast<u64>(*pb);
  std::optional<u64> top = vi.symbol("init_top_pgt");
  if (!top) top = vi.symbol("init_level4_pgt");
  if (!top) return make_error(Errc::missing, "vmcoreinfo: missing SYMBOL(init_top_pgt)");
  if (*top < x86_64::kStartKernelMap)
    return make_error(Errc::corrupt, "vmcoreinfo: SYMBOL(init_top_pgt) " + hex(*top) +
                                         " is not a kernel-text address");
  // The top table is kernel data: its physical address follows from the text mapping.
  p.root = *top - x86_64::kStartKernelMap + p.phys_base;
  return p;
}

Result<std::optional<x86_64::Mapping>> X86KernelMemory::translate(u64 vaddr) const {
  for (const CacheEntry& e : cache_)
    if (vaddr - e.vbase < e.size) return std::optional(x86_64::Mapping{e.pbase + (vaddr - e.vbase), e.size});
  Result<std::optional<x86_64::Mapping>> m =
      x86_64::walk(paging_.form, phys_, paging_.root, vaddr, paging_.enc_mask);
  if (!m || !*m) return m;
  const x86_64::Mapping& map = **m;
  CacheEntry& slot = cache_[next_slot_++ % cache_.size()];
  slot.vbase = vaddr & ~(map.page_size - 1);
  slot.pbase = map.paddr - (vaddr - slot.vbase);
  slot.size = map.page_size;
  return m;
}

Result<std::optional<u64>> X86KernelMemory::virt_to_phys(u64 vaddr) const {
  Result<std::optional<x86_64::Mapping>> m = translate(vaddr);
  if (!m) return std::move(m).error();
  if (!*m) return std::optional<u64>();
  return std::optional<u64>((*m)->paddr);
}

Result<void> X86KernelMemory::read_virt(u64 vaddr, std::span<std::byte> out) const {
  while (!out.empty()) {
    Result<std::optional<x86_64::Mapping>> m = translate(vaddr);
    if (!m) return std::move(m).error();
    if (!*m)
      return make_error(Errc::missing, "kernel address " + hex(vaddr) + " is not mapped");
    u64 left_in_page = (*m)->page_size - (vaddr & ((*m)->page_size - 1));
    u64 n = std::min<u64>(out.size(), left_in_page);
    Result<void> r = phys_.read_phys((*m)->paddr, out.first(n));
    if (!r) return std::move(r).error().context("kernel address " + hex(vaddr));
    out = out.subspan(n);
    vaddr += n;
  }
  return {};
}

Result<KernelMemory> open_kernel_memory(const DumpInput& in) {
  if (in.arch() != Arch::x86_64)
    return make_error(Errc::unsupported, "reading an arm64 kernel's memory is not supported yet");
  Result<X86Paging> paging = x86_paging_from(in.vmcoreinfo());
  if (!paging) return std::move(paging).error();
  KernelMemory km;
  km.phys_base = paging->phys_base;
  km.reader = std::make_unique<X86KernelMemory>(in, *paging);
  return km;
}

}  // namespace kk
