#include "arch/x86_64/pgtable.h"

#include "lib/io/hex.h"

namespace kk::x86_64 {

Result<std::optional<Mapping>> walk(PagingForm form, const PhysReader& mem, u64 root, u64 vaddr,
                                    u64 enc_mask) {
  u64 table = root & kAddrMask & ~enc_mask;
  // Level shifts from the top: PML5 48, PML4 39, PUD 30, PMD 21, PTE 12.
  for (int level = form.levels; level >= 1; --level) {
    unsigned shift = 12 + 9 * static_cast<unsigned>(level - 1);
    u64 index = (vaddr >> shift) & 0x1ff;
    std::byte raw[8];
    Result<void> r = mem.read_phys(table + index * 8, raw);
    if (!r) return std::move(r).error().context("page table at " + hex(table) + " for " + hex(vaddr));
    u64 entry = load_le<u64>(raw) & ~enc_mask;
    if (!(entry & kPresent)) return std::optional<Mapping>();
    bool leaf = level == 1 || ((level == 2 || level == 3) && (entry & kHuge));
    if (leaf) {
      u64 size = 1ull << shift;
      u64 base = entry & kAddrMask & ~(size - 1);
      return std::optional<Mapping>(Mapping{base + (vaddr & (size - 1)), size});
    }
    table = entry & kAddrMask;
  }
  return std::optional<Mapping>();
}

}  // namespace kk::x86_64
