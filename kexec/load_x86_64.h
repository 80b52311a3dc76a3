// load_x86_64.h: kexec_load of an x86_64 bzImage with kdumpkit's purgatory (-c, and -a when
// kexec_file_load is missing or refuses the image): reads the machine's facts (/proc/iomem, the
// firmware memory map, ACPI and EFI tables; for -p crash_notes, vmcoreinfo, /proc/kcore), plans
// with plan_x86_64 and loads through the frame in load_frame.h, as load_arm64.h does on arm64.
#pragma once

#include <optional>
#include <string>

#include "kexec/cli.h"
#include "kexec/crash_ranges.h"
#include "kexec/plan_x86_64.h"
#include "kexec/system_info.h"

namespace kk {

Result<void> load_classic_x86_64(const KexecOptions& opt, const std::string& cmdline, const SysPaths& p);

// The machine's EFI facts into `in`. Unreadable ones cost the next kernel its EFI runtime
// services, not the load: the warning that says so (the load frame prints it), else nullopt.
std::optional<std::string> add_efi_facts(X86LoadInput& in, const SysPaths& p);

// The facts a capture kernel's ELF core header is made of (x86_64): RAM outside the crash
// ranges, the low memory to back up, crash_notes, VMCOREINFO, kernel text and direct-map base.
Result<CrashMemory> gather_crash_memory(const SysPaths& p, const std::vector<IomemRange>& iomem,
                                        const std::vector<PhysRange>& crash);

}  // namespace kk
