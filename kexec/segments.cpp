#include "kexec/segments.h"

#include <algorithm>
#include <optional>

#include "io/byte_cursor.h"

namespace kk {

Result<u64> Allocator::take(const std::string& what, u64 size, u64 align, u64 lo, u64 hi,
                            bool top_down) {
  if (align == 0) align = 1;
  std::optional<u64> best;
  for (const PhysRange& r : free_) {
    u64 start = std::max(r.start, lo);
    u64 end = std::min(r.end, hi);
    if (end <= start || end - start < size) continue;
    u64 cand;
    if (top_down) {
      cand = (end - size) / align * align;
      if (cand < start) continue;
      if (!best || cand > *best) best = cand;
    } else {
      cand = align_up(start, align);
      if (cand + size > end) continue;
      if (!best || cand < *best) best = cand;
    }
  }
  if (!best)
    return make_error(Errc::no_space, "no room for the " + what + " (" + std::to_string(size >> 10) +
                                          " KiB, aligned to " + hex(align) + ") between " + hex(lo) +
                                          " and " + hex(hi));
  free_ = subtract_ranges(free_, {{*best, *best + size}});
  return *best;
}

}  // namespace kk
