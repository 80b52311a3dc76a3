// segments.h: what a kexec_load call carries: buffers and where they go in physical memory,
// and a placement allocator over the ranges the new kernel may be put in. Pure.
#pragma once

#include <algorithm>
#include <functional>
#include <initializer_list>
#include <span>
#include <string>
#include <vector>

#include "lib/io/result.h"
#include "lib/kernel/iomem.h"

namespace kk {

// A segment's bytes: made for this load (owned: headers, boot_params, the purgatory), or a view
// of bytes the caller keeps alive until kexec_load returns (borrowed: the kernel and initrd files,
// so a load holds one copy of them, not two). Copies stay right: a copy of an owned value views
// its own vector.
class SegmentBytes {
 public:
  SegmentBytes() = default;
  SegmentBytes(std::vector<std::byte> owned) : owned_(std::move(owned)) {}  // NOLINT: implicit on purpose
  SegmentBytes(std::initializer_list<std::byte> owned) : owned_(owned) {}
  static SegmentBytes borrow(std::span<const std::byte> view) {
    SegmentBytes b;
    b.view_ = view;
    b.borrowed_ = true;
    return b;
  }
  std::span<const std::byte> span() const { return borrowed_ ? view_ : std::span<const std::byte>(owned_); }
  operator std::span<const std::byte>() const { return span(); }  // NOLINT: implicit on purpose
  bool borrowed() const { return borrowed_; }
  const std::byte* data() const { return span().data(); }
  size_t size() const { return span().size(); }
  bool empty() const { return size() == 0; }
  const std::byte* begin() const { return data(); }
  const std::byte* end() const { return data() + size(); }
  const std::byte& operator[](size_t i) const { return span()[i]; }
  const std::byte& back() const { return span().back(); }
  friend bool operator==(const SegmentBytes& a, std::span<const std::byte> b) {
    return std::ranges::equal(a.span(), b);
  }

 private:
  std::vector<std::byte> owned_;
  std::span<const std::byte> view_;
  bool borrowed_ = false;
};

struct Segment {
  std::string what;   // "kernel", "initrd", ... for messages
  SegmentBytes data;  // bufsz = data.size()
  u64 mem = 0;        // page-aligned destination
  u64 memsz = 0;      // page-aligned, >= data.size()
};

struct SegmentPlan {
  std::vector<Segment> segments;
  u64 entry = 0;  // where the kernel jumps after copying (the purgatory)
};

inline constexpr u64 kPageSize = 4096;
inline constexpr size_t kMaxSegments = 16;  // KEXEC_SEGMENT_MAX

// A segment whose memsz covers at least its data, page-aligned. Pass SegmentBytes::borrow(file)
// for bytes that outlive the plan (the kernel and initrd files): they are not copied.
Segment make_segment(std::string what, SegmentBytes data, u64 mem, u64 memsz);

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
