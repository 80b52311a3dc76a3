// memory_plan.h: what dumpfilter's pass 1 may hold, decided from the dump (its max_pfn and struct
// page size) and the options, never from how much memory the machine happens to have free. A
// capture kernel and a workstation given the same vmcore get the same plan; MemAvailable only
// lowers the ceiling where it is smaller than what the dump needs (a tiny crashkernel=).
#pragma once

#include <string_view>

#include "lib/io/types.h"

namespace kk {

// pfns of struct page read from mem_map per request: 64 KiB of 64-byte struct pages. Requests
// of this size cost the same per byte as 2 MiB ones (one pread each, 256 per GiB of machine)
// and keep the buffer small beside makedumpfile's whole process in a capture kernel (issue 20).
inline constexpr u64 kStructChunkPfns = 1024;
// Default ceiling on what pass 1 keeps for pass 2 (--cyclic-buffer): the 2nd bitmap of a
// machine up to 1 TiB (32 MiB) is kept whole; above it pass 2 classifies each window again.
inline constexpr u64 kDefaultPass1Budget = 64ull << 20;

// Bytes of the selector's struct page buffer: one chunk and the one struct page after it (a
// compound head's order).
u64 selector_buffer_bytes(u64 struct_page_size);

// The --cyclic-buffer budget: `requested` (bytes, 0 when not given) or the default, and no more
// than a quarter of `mem_available` (bytes, 0 when unknown). It is a ceiling, not an allocation:
// pass 1 keeps the dump's own 2nd bitmap (max_pfn / 8 bytes) when that fits half of it.
u64 pass1_budget(u64 requested, u64 mem_available);

// MemAvailable from the text of /proc/meminfo, in bytes; 0 when the text does not say.
u64 parse_mem_available(std::string_view meminfo);

}  // namespace kk
