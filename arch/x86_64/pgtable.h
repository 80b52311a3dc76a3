// pgtable.h: x86_64 page-table walk (4-level and 5-level paging) for the dumper. Pure: it reads
// table entries through a PhysReader and says where a virtual address lives, or that it does not.
#pragma once

#include <optional>

#include "lib/kernel/phys_reader.h"

namespace kk::x86_64 {

inline constexpr u64 kPresent = 1ull << 0;
inline constexpr u64 kHuge = 1ull << 7;        // PS bit: 1 GiB at PUD, 2 MiB at PMD
inline constexpr u64 kAddrMask = 0x000ffffffffff000ull;  // bits 12..51

// Start of the kernel text mapping; a kernel-text virtual address is (phys - phys_base) + this.
inline constexpr u64 kStartKernelMap = 0xffffffff80000000ull;

struct PagingForm {
  u8 levels;  // 4 or 5
};
inline constexpr PagingForm kFourLevel{4};
inline constexpr PagingForm kFiveLevel{5};

using kk::Mapping;  // page_size: 4 KiB, 2 MiB or 1 GiB

// root: physical address of the top-level table (the kernel's init_top_pgt).
// enc_mask: memory-encryption bits to strip from entries (AMD SME's C-bit; 0 if none).
// Returns nullopt when the address is not mapped; an Error when a table cannot be read.
Result<std::optional<Mapping>> walk(PagingForm form, const PhysReader& mem, u64 root, u64 vaddr,
                                    u64 enc_mask = 0);

}  // namespace kk::x86_64
