// pgtable.h: AArch64 stage-1 translation of kernel (TTBR1) addresses for the dumper: 4K, 16K and
// 64K granules, 39- to 52-bit virtual addresses, 48- or 52-bit output addresses. Pure: it reads
// descriptors through a PhysReader and says where a virtual address lives, or that it does not.
// Facts from the Arm ARM (VMSAv8-64): a granule of 2^s bytes resolves s-3 bits per level; the
// walk starts at the level that covers the VA size (64 - T1SZ); a descriptor with bit 0 clear is
// invalid, bit 1 set above the last level is a table, clear a block; at the last level it must
// be set (page).
#pragma once

#include <optional>

#include "lib/kernel/phys_reader.h"

namespace kk::arm64 {

struct PagingForm {
  u8 page_shift;  // 12, 14 or 16
  u8 va_bits;     // 64 - TCR_EL1.T1SZ: 39..52
  u8 pa_bits;     // 48, or 52 (64K granule with FEAT_LPA: PA[51:48] in descriptor bits 15:12)
  u8 levels() const {
    unsigned per = page_shift - 3u;
    return static_cast<u8>((va_bits - page_shift + per - 1) / per);
  }
};

inline constexpr PagingForm k4kVa48{12, 48, 48};
inline constexpr PagingForm k4kVa39{12, 39, 48};
inline constexpr PagingForm k16kVa47{14, 47, 48};
inline constexpr PagingForm k64kVa42{16, 42, 48};
inline constexpr PagingForm k64kVa52{16, 52, 52};

// Checks a form built from a dump's vmcoreinfo; the message says which value is implausible.
Result<void> check_form(const PagingForm& form);

// root: physical address of the top-level table (the kernel's swapper_pg_dir). vaddr must be a
// TTBR1 address (top bits set); pointer-authentication bits are the caller's to restore.
// Returns nullopt when the address is not mapped; an Error when a table cannot be read.
Result<std::optional<Mapping>> walk(const PagingForm& form, const PhysReader& mem, u64 root,
                                    u64 vaddr);

}  // namespace kk::arm64
