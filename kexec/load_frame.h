// load_frame.h: the one shape of a kexec_load on every architecture: read the kernel and
// initrd, let the architecture gather its facts and plan the segments, say what was left out,
// list the segments for -d, then call the kernel. load_x86_64.cpp and load_arm64.cpp supply
// only the middle step.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <vector>

#include "kexec/cli.h"
#include "kexec/segments.h"
#include "kexec/system_info.h"

namespace kk {

// What an architecture's planning step hands back.
struct PlannedLoad {
  SegmentPlan plan;
  std::string cmdline;                // as the new kernel will see it
  std::vector<std::string> warnings;  // what was left out and why
};

// The architecture's step: the machine's facts and the plan for these files. Errors name
// their file; plan errors are put in the kernel file's context by the step.
using ArchPlanStep = std::function<Result<PlannedLoad>(const LoadFiles& files)>;

// files -> plan -> print -> syscall; `kexec_arch` is the KEXEC_ARCH_* of the plan.
Result<void> classic_load(const KexecOptions& opt, unsigned long kexec_arch, const ArchPlanStep& plan);

// The purgatory segment for a load, from the architecture's embedded `blob`: the plan's entry,
// argument and backup copy, the options' -i and --test-spoil-digest, and with -d the digest it
// will check. `console_port`: the UART it reports on (0: silent).
PurgatoryBuilder purgatory_builder(std::span<const unsigned char> blob, u64 console_port,
                                   const KexecOptions& opt);

}  // namespace kk
