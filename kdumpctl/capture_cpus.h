// capture_cpus.h: how many CPUs kdumpctl gives the capture kernel (nr_cpus=N) and what the
// capture kernel needs in memory, shared by start, showmem and estimate (memory.cpp). The rule
// itself is pick_capture_cpus() in lib/kernel/cmdline.h; kdumpctl(8) documents it.
#pragma once

#include <string>
#include <string_view>

#include "lib/io/result.h"
#include "kdumpctl/kdumpctl.h"

namespace kk {

// What the capture kernel needs with one CPU, from the image and initramfs themselves.
struct CaptureNeed {
  u64 init_size = 0;     // the kernel's, from its bzImage header
  u64 initrd = 0;        // the compressed initramfs
  u64 unpacked = 0;      // its tmpfs copy (both are resident at the peak)
  u64 runtime = 0;       // dumpfilter and the capture kernel's own allocations, one CPU
  u64 total = 0;         // all four, plus struct page for the reservation itself
};
Result<CaptureNeed> capture_need(const std::string& kernel, const std::string& initrd);

// CPUs in a /sys/devices/system/cpu/online list ("0-3,8,10-11"); 0 when it cannot be read.
unsigned count_cpu_list(std::string_view list);

struct CaptureCpus {
  unsigned online = 0;  // 0: unknown
  u64 reserved = 0;     // /sys/kernel/kexec_crash_size
  unsigned n = 1;       // nr_cpus for the capture kernel
};
// From the host: its online CPUs, its reservation, and the need of c.kernel and c.initrd. What
// cannot be read counts as one CPU (the capture kernel still boots).
CaptureCpus capture_cpus(const Ctl& c);

}  // namespace kk
