// fuzz_elf_vmcore.cpp: an ELF vmcore in memory (headers, PT_NOTEs, vmcoreinfo, PT_LOADs), opened
// as dumpfilter opens /proc/vmcore, then every present page read (up to a bound) and the kernel's
// page-table root derived from its vmcoreinfo.
#include "dumpfilter/kernel_memory.h"
#include "dumpfilter/vmcore_input.h"
#include "tests/fuzz/fuzz_util.h"

using namespace kk;

namespace {
constexpr u64 kMaxPagesRead = 256;  // keeps one input fast whatever max_pfn says
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const std::byte> in = fuzz::bytes_of(data, size);
  auto src = std::make_unique<MemorySource>("fuzz.elf", std::vector<std::byte>(in.begin(), in.end()));
  Result<std::unique_ptr<ElfVmcore>> vm = ElfVmcore::open(std::move(src));
  if (!vm) return 0;
  const ElfVmcore& v = **vm;
  std::vector<std::byte> page(v.page_size());
  u64 read = 0;
  for (const PfnRun& r : v.present_runs(0, v.max_pfn())) {
    for (u64 pfn = r.start; pfn < r.end && read < kMaxPagesRead; ++pfn, ++read)
      (void)v.read_pages(pfn, 1, page);
  }
  std::byte b[16];
  (void)v.read_phys(0, b);
  (void)v.read_phys(~0ull - 8, b);
  (void)open_kernel_memory(v);
  return 0;
}
