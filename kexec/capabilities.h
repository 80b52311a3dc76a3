// capabilities.h: may this process load, unload or boot kernels? The kernel asks for
// CAP_SYS_BOOT (kexec_load, kexec_file_load, reboot), not uid 0: root in a container without it
// is refused, and a service given only that capability is allowed. Parsing and the decision are
// pure; may_boot reads the process's status file.
#pragma once

#include <string_view>

#include "lib/io/result.h"
#include "lib/io/types.h"
#include "kexec/cli.h"
#include "kexec/system_info.h"

namespace kk {

inline constexpr int kCapSysBoot = 22;  // include/uapi/linux/capability.h
// kexec's exit status when CAP_SYS_BOOT is missing (man/kexec.8, EXIT STATUS): a script can tell
// "not allowed here" from "the kernel refused" (1) and a usage error (2).
inline constexpr int kExitNoCapSysBoot = 3;

// The effective capability set from /proc/PID/status text (the "CapEff:\t%016llx" line).
Result<u64> parse_cap_eff(std::string_view status);
inline bool has_cap_sys_boot(u64 cap_eff) { return (cap_eff >> kCapSysBoot) & 1; }
// Whether the action reaches the kernel's kexec calls (the status query, --print-ckr-size,
// --help and --version only read).
bool needs_cap_sys_boot(KexecAction a);
// Whether this process holds CAP_SYS_BOOT, from p.self_status under p.root; capget(2) when /proc
// is not mounted on a real system (the file is missing and root is "").
Result<bool> may_boot(const SysPaths& p);

}  // namespace kk
