#include "dumpfilter/kernel_memory.h"

#include <bit>
#include <string>

#include "dumpfilter/dump_input.h"
#include "lib/io/hex.h"
#include "lib/io/number.h"

namespace kk {

Result<X86Paging> x86_paging_from(const Vmcoreinfo& vi) {
  X86Paging p;
  if (vi.number("pgtable_l5_enabled").value_or(0) == 1) p.form = x86_64::kFiveLevel;
  p.enc_mask = static_cast<u64>(vi.number("sme_mask").value_or(0));
  // NUMBER(phys_base) is exported since Linux 4.10; nothing older is in our range (5.4+).
  KK_TRY_ASSIGN(i64 pb, vi.need_number("phys_base"));
  p.phys_base = static_cast<u64>(pb);
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

// arm64 prints its NUMBER()s in hex with 0x (kimage_voffset, PHYS_OFFSET, KERNELPACMASK,
// TCR_EL1_T1SZ; arch/arm64/kernel/crash_core.c) and VA_BITS in decimal: accept both.
std::optional<u64> arm64_number(const Vmcoreinfo& vi, std::string_view name) {
  std::optional<std::string_view> raw = vi.raw("NUMBER(" + std::string(name) + ")");
  if (!raw) return std::nullopt;
  if (raw->starts_with("0x") || raw->starts_with("0X")) return parse_unsigned(*raw, 16);
  return parse_unsigned(*raw, 10);
}

Result<Arm64Paging> arm64_paging_from(const Vmcoreinfo& vi) {
  Arm64Paging p;
  u64 ps = vi.page_size();
  if (ps == 0) return make_error(Errc::missing, "vmcoreinfo: missing PAGESIZE");
  p.form.page_shift = static_cast<u8>(std::countr_zero(ps));
  // TCR_EL1.T1SZ is what the MMU really uses (since Linux 5.12): a 52-bit VA_BITS kernel runs
  // with 48-bit addresses on a CPU without FEAT_LVA. Older kernels only give VA_BITS.
  std::optional<u64> t1sz = arm64_number(vi, "TCR_EL1_T1SZ");
  std::optional<u64> va = arm64_number(vi, "VA_BITS");
  if (t1sz && *t1sz > 0 && *t1sz < 64) p.form.va_bits = static_cast<u8>(64 - *t1sz);
  else if (va && *va < 64) p.form.va_bits = static_cast<u8>(*va);
  else return make_error(Errc::missing, "vmcoreinfo: missing NUMBER(VA_BITS)");
  std::optional<u64> pa = arm64_number(vi, "MAX_PHYSMEM_BITS");
  p.form.pa_bits = pa && *pa == 52 && p.form.page_shift == 16 ? 52 : 48;
  Result<void> ok = arm64::check_form(p.form);
  if (!ok) return std::move(ok).error().context("vmcoreinfo");
  std::optional<u64> kv = arm64_number(vi, "kimage_voffset");
  if (!kv) return make_error(Errc::missing, "vmcoreinfo: missing NUMBER(kimage_voffset)");
  p.kimage_voffset = *kv;
  p.phys_offset = arm64_number(vi, "PHYS_OFFSET").value_or(0);
  p.pac_mask = arm64_number(vi, "KERNELPACMASK").value_or(0);
  // swapper_pg_dir is kernel-image data: its physical address follows from kimage_voffset.
  KK_TRY_ASSIGN(u64 pgd, vi.need_symbol("swapper_pg_dir"));
  p.root = pgd - p.kimage_voffset;
  return p;
}

Result<std::optional<Mapping>> Arm64KernelMemory::walk(u64 vaddr) const {
  // A kernel pointer with a pointer-authentication code keeps bit 55 and loses the all-ones top
  // bits to the PAC: restore them before the walk.
  if (paging_.pac_mask && ((vaddr >> 55) & 1)) vaddr |= paging_.pac_mask;
  return arm64::walk(paging_.form, phys_, paging_.root, vaddr);
}

Result<std::optional<Mapping>> PagedKernelMemory::translate(u64 vaddr) const {
  for (const CacheEntry& e : cache_)
    if (vaddr - e.vbase < e.size) return std::optional(Mapping{e.pbase + (vaddr - e.vbase), e.size});
  Result<std::optional<Mapping>> m = walk(vaddr);
  if (!m || !*m) return m;
  const Mapping& map = **m;
  CacheEntry& slot = cache_[next_slot_++ % cache_.size()];
  slot.vbase = vaddr & ~(map.page_size - 1);
  slot.pbase = map.paddr - (vaddr - slot.vbase);
  slot.size = map.page_size;
  return m;
}

Result<std::optional<u64>> PagedKernelMemory::virt_to_phys(u64 vaddr) const {
  KK_TRY_ASSIGN(std::optional<Mapping> m, translate(vaddr));
  if (!m) return std::optional<u64>();
  return std::optional<u64>(m->paddr);
}

Result<void> PagedKernelMemory::read_virt(u64 vaddr, std::span<std::byte> out) const {
  while (!out.empty()) {
    KK_TRY_ASSIGN(std::optional<Mapping> m, translate(vaddr));
    if (!m)
      return make_error(Errc::missing, "kernel address " + hex(vaddr) + " is not mapped");
    u64 left_in_page = m->page_size - (vaddr & (m->page_size - 1));
    u64 n = std::min<u64>(out.size(), left_in_page);
    Result<void> r = phys_.read_phys(m->paddr, out.first(n));
    if (!r) return std::move(r).error().context("kernel address " + hex(vaddr));
    out = out.subspan(n);
    vaddr += n;
  }
  return {};
}

Result<KernelMemory> open_kernel_memory(const DumpInput& in) {
  KernelMemory km;
  if (in.arch() == Arch::arm64) {
    KK_TRY_ASSIGN(Arm64Paging paging, arm64_paging_from(in.vmcoreinfo()));
    // The dump header's phys_base: makedumpfile writes PHYS_OFFSET there on arm64.
    km.phys_base = paging.phys_offset;
    km.reader = std::make_unique<Arm64KernelMemory>(in, paging);
    return km;
  }
  KK_TRY_ASSIGN(X86Paging paging, x86_paging_from(in.vmcoreinfo()));
  km.phys_base = paging.phys_base;
  km.reader = std::make_unique<X86KernelMemory>(in, paging);
  return km;
}

}  // namespace kk
