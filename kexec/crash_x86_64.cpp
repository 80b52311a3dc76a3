#include "kexec/crash_x86_64.h"

#include <algorithm>

namespace kk {

namespace {
constexpr u64 kLowMemEnd = 1ull << 20;
constexpr u64 kBackupLimit = 0xa0000;  // 640 KiB: the conventional memory below the VGA hole
}  // namespace

std::vector<PhysRange> system_ram(const std::vector<IomemRange>& iomem) {
  std::vector<PhysRange> out;
  for (const IomemRange& r : iomem_system_ram(iomem)) out.push_back({r.start, r.end + 1});
  return merge_ranges(out);
}

PhysRange x86_backup_source(const std::vector<IomemRange>& iomem) {
  // iomem's inclusive end may be 0xa0000 itself (kexec-tools compares the inclusive end too).
  for (const IomemRange& r : iomem_system_ram(iomem))
    if (r.end <= kBackupLimit) return {r.start, r.end + 1};
  return {0, kBackupLimit};
}

std::vector<x86_64::E820Entry> capture_memory_map(const std::vector<x86_64::E820Entry>& firmware,
                                                  const std::vector<IomemRange>& iomem,
                                                  const std::vector<PhysRange>& crash) {
  std::vector<x86_64::E820Entry> out;
  for (const x86_64::E820Entry& e : firmware)
    if (e.type != x86_64::kE820Ram) out.push_back(e);
  std::vector<PhysRange> low;
  for (const PhysRange& r : system_ram(iomem))
    if (r.start < kLowMemEnd) low.push_back({r.start, std::min(r.end, kLowMemEnd)});
  for (const PhysRange& r : merge_ranges(low)) out.push_back({r.start, r.size(), x86_64::kE820Ram});
  for (const PhysRange& r : crash) out.push_back({r.start, r.size(), x86_64::kE820Ram});
  return out;
}

}  // namespace kk
