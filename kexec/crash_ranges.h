// crash_ranges.h: the memory facts every architecture's loader takes from /proc/iomem: System
// RAM and the "Crash kernel" reservation(s). Pure: parsed iomem in, ranges out.
#pragma once

#include <vector>

#include "lib/io/result.h"
#include "lib/kernel/iomem.h"

namespace kk {

// Every "Crash kernel" range; an error that says how to get one when there is none.
Result<std::vector<PhysRange>> crash_ranges(const std::vector<IomemRange>& iomem);

// Where kexec_load(KEXEC_ON_CRASH) accepts segments: crashk_res only, every segment inside it
// (else EADDRNOTAVAIL). /proc/iomem names crashk_low_res "Crash kernel" too; the kernel reserves
// that one (below 4 GiB, for the capture kernel's DMA) only when crashk_res itself lies above
// 4 GiB (crashkernel=X,high), so crashk_res is always the highest "Crash kernel" range. The low
// one is still the capture kernel's RAM and still left out of the dump.
PhysRange crash_segment_range(const std::vector<PhysRange>& crash);

// System RAM, merged.
std::vector<PhysRange> system_ram(const std::vector<IomemRange>& iomem);

}  // namespace kk
