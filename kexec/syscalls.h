// syscalls.h: the only code that talks to the kernel's kexec interface. Errors keep errno so
// callers can explain EPERM (root, lockdown), ENOSYS (kernel built without it) and friends.
#pragma once

#include <string>

#include "kexec/segments.h"

namespace kk {

inline constexpr unsigned long kKexecOnCrash = 0x1;
inline constexpr unsigned long kKexecArchX86_64 = 62ul << 16;
inline constexpr unsigned long kKexecArchArm64 = 183ul << 16;
// The architecture kexec_load is told: the one this loader runs on (it loads kernels for it).
#if defined(__aarch64__)
inline constexpr unsigned long kKexecArchNative = kKexecArchArm64;
#else
inline constexpr unsigned long kKexecArchNative = kKexecArchX86_64;
#endif
inline constexpr unsigned long kKexecFileUnload = 0x1;
inline constexpr unsigned long kKexecFileOnCrash = 0x2;
inline constexpr unsigned long kKexecFileNoInitramfs = 0x4;

Result<void> sys_kexec_load(const SegmentPlan& plan, unsigned long flags);
Result<void> sys_kexec_unload(unsigned long flags);
Result<void> sys_kexec_file_load(int kernel_fd, int initrd_fd, const std::string& cmdline,
                                 unsigned long flags);
// reboot(LINUX_REBOOT_CMD_KEXEC): returns only on failure.
Result<void> sys_reboot_kexec();

}  // namespace kk
