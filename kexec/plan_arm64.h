// plan_arm64.h: turns an arm64 Image (or EFI zboot vmlinuz), an initrd, a command line and the
// running machine's device tree into kexec segments: the kernel at a 2 MiB-aligned base +
// text_offset, the initrd, (for -p) the ELF core header, the device tree with its /chosen edited
// to name them, and the purgatory that checks them all and enters the kernel with x0 = device
// tree. Pure: memory facts in, a plan out.
#pragma once

#include <optional>

#include "arch/arm64/dtb.h"
#include "kexec/segments.h"

namespace kk {

struct Arm64LoadInput {
  std::span<const std::byte> kernel;  // the Image or zboot file
  std::span<const std::byte> initrd;  // empty: none
  std::span<const std::byte> dtb;     // /sys/firmware/fdt or --dtb
  std::string cmdline;
  bool panic = false;
  std::vector<PhysRange> placement;     // RAM for -l; the crash range for -p
  std::vector<std::byte> elfcorehdr;    // -p only
  std::optional<PhysRange> usable_memory;  // -p: the capture kernel's RAM (the crash range)
  // The running kernel's page size (4K, 16K or 64K on arm64): kexec_load takes only segments
  // that start and end on its pages.
  u64 page_size = kPageSize;
};

struct Arm64Plan {
  SegmentPlan plan;
  u64 kernel_addr = 0;  // the Image's first byte: base + text_offset
  u64 dtb_addr = 0;
  u64 initrd_addr = 0;
  u64 elfcorehdr_addr = 0;
  std::string cmdline;
};

// The kernel (unless a zboot payload, decompressed here) and initrd segments view in.kernel and
// in.initrd (no copies): their bytes must stay alive until the plan is loaded.
Result<Arm64Plan> plan_arm64_load(const Arm64LoadInput& in, const PurgatoryBuilder& purgatory);

}  // namespace kk
