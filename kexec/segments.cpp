#include "kexec/segments.h"

#include <algorithm>
#include <cstdio>
#include <optional>

#include "lib/io/hex.h"

namespace kk {

Segment make_segment(std::string what, SegmentBytes data, u64 mem, u64 memsz) {
  Segment s;
  s.what = std::move(what);
  s.data = std::move(data);
  s.mem = mem;
  s.memsz = align_up(std::max<u64>(memsz, s.data.size()), kPageSize);
  return s;
}

namespace {

// The best address for `size` bytes inside one free range under `at`, if it fits.
std::optional<u64> fit(const PhysRange& r, u64 size, const Placement& at, u64 align) {
  u64 start = std::max(r.start, at.lo);
  u64 end = std::min(r.end, at.hi);
  if (end <= start || end - start < size) return std::nullopt;
  u64 cand = at.top_down ? (end - size) / align * align : align_up(start, align);
  if (at.top_down ? cand < start : cand + size > end) return std::nullopt;
  return cand;
}

}  // namespace

Result<u64> Allocator::take(const std::string& what, u64 size_in, const Placement& at) {
  const u64 align = std::max(at.align == 0 ? 1 : at.align, granule_);
  const u64 size = align_up(size_in, granule_);
  std::optional<u64> best;
  for (const PhysRange& r : free_) {
    std::optional<u64> cand = fit(r, size, at, align);
    if (cand && (!best || (at.top_down ? *cand > *best : *cand < *best))) best = cand;
  }
  if (!best)
    return make_error(Errc::no_space, "no room for the " + what + " (" + std::to_string(size >> 10) +
                                          " KiB, aligned to " + hex(align) + ") between " + hex(at.lo) +
                                          " and " + hex(at.hi));
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
