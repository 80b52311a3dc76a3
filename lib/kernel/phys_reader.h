// phys_reader.h: read access to a crashed machine's physical memory, whatever holds it (an ELF
// vmcore, a kdump-compressed dump, a fake in a test). Page-table walkers only need this.
#pragma once

#include <span>

#include "lib/io/result.h"
#include "lib/io/types.h"

namespace kk {

// Where a page-table walk found a virtual address (every architecture's walker answers this).
struct Mapping {
  u64 paddr;      // physical address of vaddr itself
  u64 page_size;  // size of the page or block: the whole of it maps contiguously
};

class PhysReader {
 public:
  virtual ~PhysReader() = default;
  // Reads out.size() bytes at a physical address; memory the dump does not hold is an error.
  virtual Result<void> read_phys(u64 paddr, std::span<std::byte> out) const = 0;
};

}  // namespace kk
