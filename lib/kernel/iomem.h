// iomem.h: /proc/iomem, the kernel's tree of physical address ranges ("System RAM", "Crash
// kernel", "Kernel code", "ACPI Tables", ...). Parsing is pure so loaders can be tested on text.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "lib/io/result.h"
#include "lib/io/types.h"

namespace kk {

struct IomemRange {
  u64 start = 0;
  u64 end = 0;  // inclusive, as /proc/iomem prints it
  std::string name;
  int depth = 0;  // indentation level: 0 top-level, 1 nested under the previous shallower line
  u64 size() const { return end - start + 1; }
};

// Lines "  0000000001000000-00000000017fffff : Kernel code". Anything else is an error naming
// the line; all-zero ranges (what an unprivileged reader sees) are kept as they are.
Result<std::vector<IomemRange>> parse_iomem(std::string_view text);

// Top-level or nested ranges with exactly this name.
std::vector<IomemRange> iomem_find(const std::vector<IomemRange>& all, std::string_view name);
// "System RAM" top-level ranges (any name starting with "System RAM", e.g. "System RAM (kmem)").
std::vector<IomemRange> iomem_system_ram(const std::vector<IomemRange>& all);

// A half-open physical range, for set arithmetic.
struct PhysRange {
  u64 start = 0;
  u64 end = 0;  // exclusive
  u64 size() const { return end - start; }
  bool operator==(const PhysRange&) const = default;
};

// ranges minus every range of holes; inputs need not be sorted; output sorted and merged.
std::vector<PhysRange> subtract_ranges(std::vector<PhysRange> ranges, std::vector<PhysRange> holes);
std::vector<PhysRange> merge_ranges(std::vector<PhysRange> ranges);

}  // namespace kk
