#include "kexec/crash_ranges.h"

namespace kk {

Result<std::vector<PhysRange>> crash_ranges(const std::vector<IomemRange>& iomem) {
  std::vector<PhysRange> out;
  for (const IomemRange& r : iomem_find(iomem, "Crash kernel")) out.push_back({r.start, r.end + 1});
  if (out.empty())
    return make_error(Errc::missing, "no memory is reserved for a crash kernel (boot with crashkernel=...)");
  return out;
}

PhysRange crash_segment_range(const std::vector<PhysRange>& crash) {
  PhysRange best = crash.front();
  for (const PhysRange& r : crash)
    if (r.start > best.start) best = r;
  return best;
}

std::vector<PhysRange> system_ram(const std::vector<IomemRange>& iomem) {
  std::vector<PhysRange> out;
  for (const IomemRange& r : iomem_system_ram(iomem)) out.push_back({r.start, r.end + 1});
  return merge_ranges(out);
}

}  // namespace kk
