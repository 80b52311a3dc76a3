// segments.h: what a kexec_load call carries: buffers and where they go in physical memory,
// and a placement allocator over the ranges the new kernel may be put in. Pure.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "lib/io/result.h"
#include "lib/kernel/iomem.h"

namespace kk {

struct Segment {
  std::string what;             // "kernel", "initrd", ... for messages
  std::vector<std::byte> data;  // bufsz = data.size()
  u64 mem = 0;                  // page-aligned destination
  u64 memsz = 0;                // page-aligned, >= data.size()
};

struct SegmentPlan {
  std::vector<Segment> segments;
  u64 entry = 0;  // where the kernel jumps after copying (the purgatory)
};

inline constexpr u64 kPageSize = 4096;
inline constexpr size_t kMaxSegments = 16;  // KEXEC_SEGMENT_MAX

// A segment whose memsz covers at least its data, page-aligned.
Segment make_segment(std::string what, std::vector<std::byte> data, u64 mem, u64 memsz);

// -d: one line per segment (what, where, bytes of memsz), then the entry and command line.
void print_segments(const SegmentPlan& plan, const std::string& cmdline);

inline constexpr u64 k4G = 1ull << 32;

// Where a segment may go: `align`-aligned inside [lo, hi), the highest fit when top_down, else
// the lowest. Align 0 means 1.
struct Placement {
  u64 align = kPageSize;
  u64 lo = 0;
  u64 hi = ~0ull;
  bool top_down = false;
};

class Allocator {
 public:
  // granule: the running kernel's page size; every block taken starts and ends on one.
  explicit Allocator(std::vector<PhysRange> free, u64 granule = kPageSize)
      : free_(merge_ranges(std::move(free))), granule_(granule) {}

  // Finds size bytes (rounded up to the granule) where `at` allows and takes them out of the
  // free ranges. Errors say what did not fit.
  Result<u64> take(const std::string& what, u64 size, const Placement& at);
  const std::vector<PhysRange>& free() const { return free_; }
  u64 granule() const { return granule_; }

 private:
  std::vector<PhysRange> free_;
  u64 granule_;
};

// A copy the purgatory makes after its checks pass, just before it jumps (kexec -p on x86_64:
// the low memory the capture kernel is about to reuse). len 0: none.
struct BackupCopy {
  u64 src = 0;
  u64 dst = 0;
  u64 len = 0;
};

// Builds the purgatory segment once the others are placed: it gets the kernel entry, the
// argument the kernel is entered with (x86_64: boot_params; arm64: the device tree), the copy to
// make before the jump, and the segments to check, and takes its own room from the allocator.
using PurgatoryBuilder = std::function<Result<Segment>(u64 entry, u64 arg, const BackupCopy& backup,
                                                       const std::vector<Segment>& checked,
                                                       Allocator& alloc)>;

}  // namespace kk
