// commands.h: kexec's actions as passes: gather facts from /proc and /sys, plan (pure), call the
// kernel. Returns the process exit status; errors travel up as values with the reason spelled out.
#pragma once

#include "kexec/cli.h"
#include "kexec/system_info.h"

namespace kk {

Result<int> run_kexec(const KexecOptions& opt, const SysPaths& paths);

// The command line the new kernel gets: --reuse-cmdline's /proc/cmdline (minus BOOT_IMAGE, and
// crashkernel= for a crash kernel) followed by --append.
std::string compose_cmdline(const KexecOptions& opt, const std::string& proc_cmdline);

// The "Crash kernel" ranges of /proc/iomem (crashk_res, and crashk_low_res when there is one).
Result<std::vector<PhysRange>> crash_ranges(const std::vector<IomemRange>& iomem);
// The facts a capture kernel's ELF core header is made of (x86_64): RAM outside the crash
// ranges, the low memory to back up, crash_notes, VMCOREINFO, kernel text and direct-map base.
Result<CrashMemory> gather_crash_memory(const SysPaths& p, const std::vector<IomemRange>& iomem,
                                        const std::vector<PhysRange>& crash);

}  // namespace kk
