// crashkernel.h: the crashkernel= boot parameter in every form the kernel (and older
// distributions) accept, and what it reserves on a machine with a given amount of RAM.
//   crashkernel=256M              size
//   crashkernel=256M@16M          size at a fixed physical offset
//   crashkernel=1G-2G:256M,2G-:512M[@off]   size chosen by the machine's RAM
//   crashkernel=512M,high / 128M,low        above / below 4 GiB (x86_64, arm64)
//   crashkernel=auto              RHEL/CentOS 7-8: the distribution's table (see auto_table)
// Pure functions over strings, so they are unit-tested and fuzzed (issue 10).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/io/result.h"
#include "lib/io/types.h"

namespace kk {

struct CrashkernelRange {
  u64 start = 0;
  std::optional<u64> end;  // exclusive; nullopt: "start-" (no upper bound)
  u64 size = 0;
};

struct Crashkernel {
  enum class Kind { size, ranges, auto_table } kind = Kind::size;
  enum class Zone { any, high, low } zone = Zone::any;
  u64 size = 0;                          // Kind::size
  std::vector<CrashkernelRange> ranges;  // Kind::ranges (and auto_table, filled from the table)
  std::optional<u64> offset;             // "@offset" (size and ranges forms)
};

// A kernel memory size: a number (decimal or 0x hex) with an optional K/M/G/T/P/E suffix
// (either case), as the kernel's memparse() reads it.
Result<u64> parse_memsize(std::string_view s);
// "256M", "1G", "1536K": the largest suffix that divides the value exactly.
std::string format_memsize(u64 bytes);

// The value after "crashkernel=". Errors name the part that is wrong.
Result<Crashkernel> parse_crashkernel(std::string_view value);

// Bytes reserved on a machine with `ram` bytes of memory: the first range with
// start <= ram < end, or 0 when none matches (the kernel then reserves nothing).
u64 crashkernel_size(const Crashkernel& ck, u64 ram);

// The table RHEL 8 kernels apply to crashkernel=auto on x86_64 (kernel/crash_core.c there):
// nothing below 1 GiB, 160M up to 64 GiB, 256M up to 1 TiB, 512M above.
inline constexpr std::string_view auto_table = "1G-64G:160M,64G-1T:256M,1T-:512M";

// Every crashkernel= value on a kernel command line, in order ("crashkernel=512M,high
// crashkernel=128M,low" gives both).
std::vector<std::string> find_crashkernel_values(std::string_view cmdline);

}  // namespace kk
