// fuzz_iomem.cpp: /proc/iomem text, parsed into nested ranges, then the System RAM selection and
// the range arithmetic kexec -p does with it (crash kernel holes, merging).
#include "tests/fuzz/fuzz_util.h"
#include "lib/kernel/iomem.h"

using namespace kk;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Result<std::vector<IomemRange>> r =
      parse_iomem(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!r) return 0;
  std::vector<PhysRange> ram, holes;
  for (const IomemRange& x : iomem_system_ram(*r))
    if (x.end < ~0ull) ram.push_back({x.start, x.end + 1});
  for (const IomemRange& x : iomem_find(*r, "Crash kernel"))
    if (x.end < ~0ull) holes.push_back({x.start, x.end + 1});
  (void)merge_ranges(subtract_ranges(ram, holes));
  return 0;
}
