#include "kexec/crash_x86_64.h"

#include <algorithm>
#include <string_view>
#include <utility>

namespace kk {

namespace {
constexpr u64 kLowMemEnd = 1ull << 20;
constexpr u64 kBackupLimit = 0xa0000;  // 640 KiB: the conventional memory below the VGA hole
}  // namespace

PhysRange x86_backup_source(const std::vector<IomemRange>& iomem) {
  // iomem's inclusive end may be 0xa0000 itself (kexec-tools compares the inclusive end too).
  for (const IomemRange& r : iomem_system_ram(iomem))
    if (r.end <= kBackupLimit) return {r.start, r.end + 1};
  return {0, kBackupLimit};
}

std::vector<x86_64::E820Entry> capture_memory_map(const std::vector<IomemRange>& iomem,
                                                  const std::vector<PhysRange>& crash) {
  // The kernel walks these by resource descriptor (IORES_DESC_RESERVED, _ACPI_TABLES,
  // _ACPI_NV_STORAGE) at any depth; their names say the same. Lower-case "reserved" (pnp
  // claims) carries no descriptor and stays out, as there.
  constexpr std::pair<std::string_view, u32> kKept[] = {{"Reserved", x86_64::kE820Reserved},
                                                        {"ACPI Tables", x86_64::kE820Acpi},
                                                        {"ACPI Non-volatile Storage", x86_64::kE820Nvs}};
  std::vector<x86_64::E820Entry> out;
  for (const IomemRange& r : iomem)
    for (const auto& [name, type] : kKept)
      if (r.name == name) out.push_back({r.start, r.size(), type});
  std::vector<PhysRange> low;
  for (const PhysRange& r : system_ram(iomem))
    if (r.start < kLowMemEnd) low.push_back({r.start, std::min(r.end, kLowMemEnd)});
  for (const PhysRange& r : merge_ranges(low)) out.push_back({r.start, r.size(), x86_64::kE820Ram});
  for (const PhysRange& r : crash) out.push_back({r.start, r.size(), x86_64::kE820Ram});
  return out;
}

}  // namespace kk
