// kernel_reader.h: what the dumper's analysis passes (mem_map walk, dmesg, report) need from a
// crashed kernel's memory: reads by kernel virtual address. The implementation translates through
// the dump's own page tables; tests use a fake over a map of addresses.
#pragma once

#include <optional>
#include <span>
#include <string>

#include "lib/io/result.h"
#include "lib/io/types.h"

namespace kk {

class KernelReader {
 public:
  virtual ~KernelReader() = default;
  // Reads out.size() bytes at a kernel virtual address; an unmapped or absent page is an error
  // that names the address.
  virtual Result<void> read_virt(u64 vaddr, std::span<std::byte> out) const = 0;
  // The physical address behind a kernel virtual address; nullopt when it is not mapped. Readers
  // that cannot tell (test fakes of other modules) answer unsupported.
  virtual Result<std::optional<u64>> virt_to_phys(u64 vaddr) const {
    return make_error(Errc::unsupported, "no address translation for " + std::to_string(vaddr));
  }

  template <class T>
  Result<T> read_scalar(u64 vaddr) const {
    std::byte b[sizeof(T)];
    KK_TRY(read_virt(vaddr, b));
    return load_le<T>(b);
  }
  Result<u64> read_u64(u64 vaddr) const { return read_scalar<u64>(vaddr); }
  Result<u32> read_u32(u64 vaddr) const { return read_scalar<u32>(vaddr); }
};

}  // namespace kk
