#include "arch/arm64/pgtable.h"

#include <string>

#include "lib/io/hex.h"

namespace kk::arm64 {

namespace {

constexpr u64 kValid = 1ull << 0;
constexpr u64 kTable = 1ull << 1;  // table (above the last level) or page (at it)

// Output address of a descriptor whose address field starts at bit `low`.
u64 output_address(const PagingForm& f, u64 desc, unsigned low) {
  u64 addr = desc & (((1ull << 48) - 1) & ~((1ull << low) - 1));
  if (f.pa_bits == 52 && f.page_shift == 16) addr |= ((desc >> 12) & 0xf) << 48;
  return addr;
}

}  // namespace

Result<void> check_form(const PagingForm& f) {
  if (f.page_shift != 12 && f.page_shift != 14 && f.page_shift != 16)
    return make_error(Errc::unsupported,
                      "arm64: page size " + std::to_string(1ull << f.page_shift) +
                          " is not a granule (4K, 16K, 64K)");
  if (f.va_bits < 36 || f.va_bits > 52)
    return make_error(Errc::corrupt, "arm64: " + std::to_string(f.va_bits) +
                                         "-bit kernel virtual addresses are implausible");
  if (f.pa_bits != 48 && f.pa_bits != 52)
    return make_error(Errc::unsupported, "arm64: " + std::to_string(f.pa_bits) +
                                             "-bit physical addresses are not supported");
  if (f.pa_bits == 52 && f.page_shift != 16)
    return make_error(Errc::unsupported,
                      "arm64: 52-bit physical addresses with a 4K/16K granule (FEAT_LPA2) are not "
                      "supported yet");
  return {};
}

Result<std::optional<Mapping>> walk(const PagingForm& f, const PhysReader& mem, u64 root,
                                    u64 vaddr) {
  const unsigned per = f.page_shift - 3u;
  const int levels = f.levels();
  const int first = 4 - levels;  // levels are numbered 0..3, the last one maps pages
  u64 table = output_address(f, root, f.page_shift);
  for (int level = first; level <= 3; ++level) {
    unsigned shift = f.page_shift + per * static_cast<unsigned>(3 - level);
    // The top level takes whatever VA bits are left (fewer than `per` in many forms).
    unsigned bits = level == first ? f.va_bits - shift : per;
    u64 index = (vaddr >> shift) & ((1ull << bits) - 1);
    std::byte raw[8];
    Result<void> r = mem.read_phys(table + index * 8, raw);
    if (!r)
      return std::move(r).error().context("arm64 page table at " + hex(table) + " for " +
                                          hex(vaddr));
    u64 desc = load_le<u64>(raw);
    if (!(desc & kValid)) return std::optional<Mapping>();
    bool leaf = level == 3 || !(desc & kTable);
    if (level == 3 && !(desc & kTable)) return std::optional<Mapping>();  // reserved encoding
    if (leaf) {
      // Blocks exist at level 1 (4K: 1 GiB; 64K with 52-bit PA: 4 TiB) and level 2; a block
      // descriptor at level 0 is invalid in every form Linux uses.
      if (level == 0) return std::optional<Mapping>();
      u64 size = 1ull << shift;
      u64 base = output_address(f, desc, shift);
      return std::optional<Mapping>(Mapping{base + (vaddr & (size - 1)), size});
    }
    table = output_address(f, desc, f.page_shift);
  }
  return std::optional<Mapping>();
}

}  // namespace kk::arm64
