// mem_map.h: finds the struct page of a pfn through SPARSEMEM's mem_section table, as the crashed
// kernel itself does. Lookups go root by root with one cached root page, so memory stays bounded
// whatever the number of sections (x86_64 5-level paging allows 2^23 of them).
#pragma once

#include <optional>
#include <vector>

#include "dumpfilter/kernel_reader.h"
#include "lib/kernel/vmcoreinfo.h"

namespace kk {

struct SparseLayout {
  u64 page_shift = 12;
  u64 section_size_bits = 27;
  u64 max_physmem_bits = 46;
  u64 struct_page_size = 64;   // SIZE(page)
  u64 mem_section_size = 16;   // SIZE(mem_section)
  u64 mem_section_symbol = 0;  // SYMBOL(mem_section)
  bool extreme = true;         // SPARSEMEM_EXTREME: SYMBOL(mem_section) is an array of roots
  u64 sections_per_root = 256;
  u64 nr_roots = 0;

  u64 pfn_section_shift() const { return section_size_bits - page_shift; }
  u64 pfns_per_section() const { return 1ull << pfn_section_shift(); }
  u64 nr_sections() const { return 1ull << (max_physmem_bits - section_size_bits); }
};

// From vmcoreinfo: SYMBOL(mem_section), SIZE(page), SIZE(mem_section), LENGTH(mem_section),
// NUMBER(SECTION_SIZE_BITS), NUMBER(MAX_PHYSMEM_BITS) (x86_64 defaults when the last two are absent).
Result<SparseLayout> sparse_layout_from(const Vmcoreinfo& vi, u64 page_size);

class MemMap {
 public:
  MemMap(SparseLayout layout, const KernelReader& mem) : l_(layout), mem_(mem) {}

  const SparseLayout& layout() const { return l_; }
  // Kernel virtual address of the struct page of `pfn`; nullopt when its section has no mem_map.
  Result<std::optional<u64>> struct_page_addr(u64 pfn) const;
  // Reads the struct pages of [pfn, pfn + count) into out (count * SIZE(page) bytes). The range
  // must not cross a section. Returns false (out untouched) when the section has no mem_map.
  Result<bool> read_struct_pages(u64 pfn, u64 count, std::span<std::byte> out) const;

 private:
  Result<std::optional<u64>> section_mem_map(u64 section_nr) const;

  SparseLayout l_;
  const KernelReader& mem_;
  mutable u64 cached_root_ = ~0ull;
  mutable std::vector<std::byte> root_buf_;  // one root: sections_per_root * SIZE(mem_section)
  mutable bool root_present_ = false;
};

}  // namespace kk
