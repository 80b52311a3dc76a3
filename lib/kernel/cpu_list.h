// cpu_list.h: the kernel's CPU list format (/sys/devices/system/cpu/{possible,online},
// cpuset.cpus): comma-separated numbers and ranges, "0-3,5".
#pragma once

#include <string_view>
#include <vector>

#include "lib/io/result.h"

namespace kk {

// "0-3,5\n" -> {0,1,2,3,5}; an empty list is empty. A range that runs backwards, a word that is
// not a number or a CPU past 65535 (no kernel's NR_CPUS is larger) is an error naming it.
Result<std::vector<int>> parse_cpu_list(std::string_view text);

}  // namespace kk
