#include "dumpfilter/mem_map.h"

#include "lib/io/hex.h"

namespace kk {

namespace {
constexpr u64 kSectionMarkedPresent = 1ull << 0;
constexpr u64 kSectionHasMemMap = 1ull << 1;
// The flag bits below SECTION_MAP_LAST_BIT (bit 4 in 5.4, 5 in 6.1, 6 from 6.3). The encoded
// mem_map (mem_map - first pfn of the section) is at least 64-byte aligned, so clearing six bits
// is right for every version in range.
constexpr u64 kSectionMapMask = ~0x3full;
constexpr u64 kMinKernelAddress = 0xffff800000000000ull;
}  // namespace

Result<SparseLayout> sparse_layout_from(const Vmcoreinfo& vi, u64 page_size) {
  SparseLayout l;
  l.page_shift = static_cast<u64>(std::countr_zero(page_size));
  KK_TRY_ASSIGN(u64 sym, vi.need_symbol("mem_section"));
  l.mem_section_symbol = sym;
  KK_TRY_ASSIGN(u64 ps, vi.need_size("page"));
  l.struct_page_size = ps;
  KK_TRY_ASSIGN(u64 ms, vi.need_size("mem_section"));
  l.mem_section_size = ms;
  if (l.struct_page_size < 32 || l.struct_page_size > 1024 || l.mem_section_size == 0 ||
      l.mem_section_size > page_size)
    return make_error(Errc::corrupt, "vmcoreinfo: implausible SIZE(page) " +
                                         std::to_string(l.struct_page_size) +
                                         " or SIZE(mem_section) " + std::to_string(l.mem_section_size));
  bool l5 = vi.number("pgtable_l5_enabled").value_or(0) == 1;
  l.section_size_bits = static_cast<u64>(vi.number("SECTION_SIZE_BITS").value_or(27));
  l.max_physmem_bits = static_cast<u64>(vi.number("MAX_PHYSMEM_BITS").value_or(l5 ? 52 : 46));
  if (l.section_size_bits <= l.page_shift || l.section_size_bits > 40 ||
      l.max_physmem_bits <= l.section_size_bits || l.max_physmem_bits > 56)
    return make_error(Errc::corrupt, "vmcoreinfo: implausible SECTION_SIZE_BITS " +
                                         std::to_string(l.section_size_bits) +
                                         " / MAX_PHYSMEM_BITS " + std::to_string(l.max_physmem_bits));
  l.sections_per_root = page_size / l.mem_section_size;
  u64 extreme_roots = div_round_up(l.nr_sections(), l.sections_per_root);
  KK_TRY_ASSIGN(u64 len, vi.need_length("mem_section"));
  // LENGTH(mem_section) is NR_SECTION_ROOTS with SPARSEMEM_EXTREME, NR_MEM_SECTIONS without.
  if (len == extreme_roots) {
    l.extreme = true;
    l.nr_roots = extreme_roots;
  } else if (len == l.nr_sections()) {
    l.extreme = false;
    l.sections_per_root = 1;
    l.nr_roots = l.nr_sections();
  } else {
    return make_error(Errc::corrupt, "vmcoreinfo: LENGTH(mem_section) " + std::to_string(len) +
                                         " matches neither SPARSEMEM layout");
  }
  return l;
}

Result<std::optional<u64>> MemMap::section_mem_map(u64 nr) const {
  if (nr >= l_.nr_sections()) return std::optional<u64>();
  u64 root = nr / l_.sections_per_root;
  if (root != cached_root_) {
    // Cached only once known: a root that failed to read fails again when asked again, rather
    // than reading as "no memory here".
    cached_root_ = ~0ull;
    root_present_ = false;
    root_buf_.resize(l_.sections_per_root * l_.mem_section_size);
    u64 root_addr;
    if (l_.extreme) {
      // SYMBOL(mem_section) is the array of root pointers itself: before 4.15 a static array,
      // since then vmcoreinfo exports the value of the mem_section pointer.
      Result<u64> r = mem_.read_u64(l_.mem_section_symbol + root * 8);
      if (!r) return std::move(r).error().context("mem_section root " + std::to_string(root));
      root_addr = *r;
    } else {
      root_addr = l_.mem_section_symbol + root * l_.mem_section_size;
    }
    if (root_addr == 0) {
      cached_root_ = root;
      return std::optional<u64>();  // no memory in this root
    }
    Result<void> rd = mem_.read_virt(root_addr, root_buf_);
    if (!rd) return std::move(rd).error().context("mem_section root " + std::to_string(root));
    cached_root_ = root;
    root_present_ = true;
  }
  if (!root_present_) return std::optional<u64>();
  u64 idx = nr % l_.sections_per_root;
  u64 coded = load_le<u64>(root_buf_.data() + idx * l_.mem_section_size);
  if ((coded & kSectionMarkedPresent) == 0 || (coded & kSectionHasMemMap) == 0)
    return std::optional<u64>();
  u64 map = (coded & kSectionMapMask) + (nr << l_.pfn_section_shift()) * l_.struct_page_size;
  if (map < kMinKernelAddress) return std::optional<u64>();  // garbage: treat as unknown
  return std::optional<u64>(map);
}

Result<std::optional<u64>> MemMap::struct_page_addr(u64 pfn) const {
  u64 nr = pfn >> l_.pfn_section_shift();
  Result<std::optional<u64>> base = section_mem_map(nr);
  if (!base || !*base) return base;
  u64 first = nr << l_.pfn_section_shift();
  return std::optional<u64>(**base + (pfn - first) * l_.struct_page_size);
}

Result<bool> MemMap::read_struct_pages(u64 pfn, u64 count, std::span<std::byte> out) const {
  KK_TRY_ASSIGN(std::optional<u64> addr, struct_page_addr(pfn));
  if (!addr) return false;
  Result<void> r = mem_.read_virt(*addr, out.first(count * l_.struct_page_size));
  if (!r) return std::move(r).error().context("struct page of pfn " + hex(pfn));
  return true;
}

}  // namespace kk
