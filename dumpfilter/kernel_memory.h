// kernel_memory.h: kernel virtual reads over a dump's physical memory, translated through the
// crashed kernel's own page tables (x86_64 init_top_pgt, arm64 swapper_pg_dir). Walking the tables rather than assuming the
// direct-map and vmemmap bases makes KASLR and QEMU dumps with p_vaddr 0 work the same.
#pragma once

#include <array>
#include <memory>

#include "arch/arm64/pgtable.h"
#include "arch/x86_64/pgtable.h"
#include "dumpfilter/dump_input.h"
#include "dumpfilter/kernel_reader.h"

namespace kk {

struct X86Paging {
  x86_64::PagingForm form = x86_64::kFourLevel;
  u64 root = 0;       // physical address of init_top_pgt
  u64 phys_base = 0;  // physical load offset of the kernel text
  u64 enc_mask = 0;   // AMD SME C-bit
};

// Works out the paging setup from vmcoreinfo: NUMBER(pgtable_l5_enabled), NUMBER(phys_base),
// NUMBER(sme_mask), SYMBOL(init_top_pgt).
Result<X86Paging> x86_paging_from(const Vmcoreinfo& vi);

// Kernel virtual reads through a page-table walk, with a small translation cache: mem_map walks
// hit the same vmemmap pages thousands of times. Each architecture supplies walk().
class PagedKernelMemory : public KernelReader {
 public:
  explicit PagedKernelMemory(const PhysReader& phys) : phys_(phys) {}

  Result<void> read_virt(u64 vaddr, std::span<std::byte> out) const override;
  Result<std::optional<u64>> virt_to_phys(u64 vaddr) const override;
  // nullopt when vaddr is not mapped.
  Result<std::optional<Mapping>> translate(u64 vaddr) const;

 protected:
  virtual Result<std::optional<Mapping>> walk(u64 vaddr) const = 0;
  const PhysReader& phys_;

 private:
  struct CacheEntry {
    u64 vbase = 1;  // never a valid (aligned) base: empty
    u64 pbase = 0;
    u64 size = 0;
  };
  mutable std::array<CacheEntry, 16> cache_{};
  mutable unsigned next_slot_ = 0;
};

class X86KernelMemory final : public PagedKernelMemory {
 public:
  X86KernelMemory(const PhysReader& phys, X86Paging paging) : PagedKernelMemory(phys), paging_(paging) {}
  const X86Paging& paging() const { return paging_; }

 private:
  Result<std::optional<Mapping>> walk(u64 vaddr) const override {
    return x86_64::walk(paging_.form, phys_, paging_.root, vaddr, paging_.enc_mask);
  }
  X86Paging paging_;
};

struct Arm64Paging {
  arm64::PagingForm form = arm64::k4kVa48;
  u64 root = 0;             // physical address of swapper_pg_dir
  u64 kimage_voffset = 0;   // kernel image: paddr = vaddr - kimage_voffset
  u64 phys_offset = 0;      // PHYS_OFFSET: physical address of the linear map's start
  u64 pac_mask = 0;         // KERNELPACMASK: pointer-authentication bits of kernel pointers
};

// From vmcoreinfo: PAGESIZE, NUMBER(VA_BITS), NUMBER(TCR_EL1_T1SZ), NUMBER(kimage_voffset),
// NUMBER(PHYS_OFFSET), NUMBER(KERNELPACMASK), NUMBER(MAX_PHYSMEM_BITS), SYMBOL(swapper_pg_dir).
Result<Arm64Paging> arm64_paging_from(const Vmcoreinfo& vi);

class Arm64KernelMemory final : public PagedKernelMemory {
 public:
  Arm64KernelMemory(const PhysReader& phys, Arm64Paging paging)
      : PagedKernelMemory(phys), paging_(paging) {}
  const Arm64Paging& paging() const { return paging_; }

 private:
  Result<std::optional<Mapping>> walk(u64 vaddr) const override;
  Arm64Paging paging_;
};

class DumpInput;

// A crashed kernel's memory, whatever its architecture: the reader and the facts the dump header
// needs. The reader keeps a reference to the input, which must outlive it.
struct KernelMemory {
  std::unique_ptr<KernelReader> reader;
  u64 phys_base = 0;
};

// Picks the translation for in.arch() from its vmcoreinfo; errors name what is missing.
Result<KernelMemory> open_kernel_memory(const DumpInput& in);

}  // namespace kk
