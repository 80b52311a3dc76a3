#include "kexec/segments.h"

#include <algorithm>
#include <cstdio>
#include <optional>

#include "io/byte_cursor.h"

namespace kk {

Segment make_segment(std::string what, std::vector<std::byte> data, u64 mem, u64 memsz) {
  Segment s;
  s.what = std::move(what);
  s.data = std::move(data);
  s.mem = mem;
  s.memsz = align_up(std::max<u64>(memsz, s.data.size()), kPageSize);
  return s;
}

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

void print_segments(const SegmentPlan& plan, const std::string& cmdline) {
  for (const Segment& s : plan.segments)
    std::fprintf(stderr, "kexec: %-16s %#014llx-%#014llx  %8zu bytes of %llu\n", s.what.c_str(),
                 static_cast<unsigned long long>(s.mem),
                 static_cast<unsigned long long>(s.mem + s.memsz - 1), s.data.size(),
                 static_cast<unsigned long long>(s.memsz));
  std::fprintf(stderr, "kexec: entry %#llx, command line: %s\n",
               static_cast<unsigned long long>(plan.entry), cmdline.c_str());
}

}  // namespace kk
