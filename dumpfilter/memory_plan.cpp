#include "dumpfilter/memory_plan.h"

#include <algorithm>
#include <charconv>

namespace kk {

u64 selector_buffer_bytes(u64 struct_page_size) { return struct_page_size * (kStructChunkPfns + 1); }

u64 pass1_budget(u64 requested, u64 mem_available) {
  u64 budget = requested ? requested : kDefaultPass1Budget;
  // A capture kernel has little memory: keep at most a quarter of what is available.
  if (mem_available) budget = std::min(budget, mem_available / 4);
  return budget;
}

u64 parse_mem_available(std::string_view meminfo) {
  constexpr std::string_view key = "MemAvailable:";
  for (size_t at = 0; at < meminfo.size();) {
    size_t eol = meminfo.find('\n', at);
    if (eol == std::string_view::npos) eol = meminfo.size();
    std::string_view line = meminfo.substr(at, eol - at);
    at = eol + 1;
    if (!line.starts_with(key)) continue;
    line.remove_prefix(key.size());
    size_t digits = line.find_first_not_of(' ');
    if (digits == std::string_view::npos) return 0;
    u64 kb = 0;
    auto [end, ec] = std::from_chars(line.data() + digits, line.data() + line.size(), kb);
    if (ec != std::errc() || kb > (~0ull >> 10)) return 0;
    return kb << 10;
  }
  return 0;
}

}  // namespace kk
