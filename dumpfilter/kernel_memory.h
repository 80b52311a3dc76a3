// kernel_memory.h: kernel virtual reads over a dump's physical memory, translated through the
// crashed kernel's own page tables (init_top_pgt). Walking the tables rather than assuming the
// direct-map and vmemmap bases makes KASLR and QEMU dumps with p_vaddr 0 work the same.
#pragma once

#include <array>
#include <memory>

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

class X86KernelMemory final : public KernelReader {
 public:
  X86KernelMemory(const PhysReader& phys, X86Paging paging) : phys_(phys), paging_(paging) {}

  Result<void> read_virt(u64 vaddr, std::span<std::byte> out) const override;
  Result<std::optional<u64>> virt_to_phys(u64 vaddr) const override;
  // nullopt when vaddr is not mapped.
  Result<std::optional<x86_64::Mapping>> translate(u64 vaddr) const;
  const X86Paging& paging() const { return paging_; }

 private:
  struct CacheEntry {
    u64 vbase = 1;  // never a valid (aligned) base: empty
    u64 pbase = 0;
    u64 size = 0;
  };
  const PhysReader& phys_;
  X86Paging paging_;
  // Small translation cache: mem_map walks hit the same 2 MiB vmemmap pages thousands of times.
  mutable std::array<CacheEntry, 16> cache_{};
  mutable unsigned next_slot_ = 0;
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
