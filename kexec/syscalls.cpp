#include "kexec/syscalls.h"

#include <linux/reboot.h>
#include <sys/reboot.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace kk {

namespace {
// The kernel's struct kexec_segment.
struct KexecSegment {
  const void* buf;
  size_t bufsz;
  const void* mem;
  size_t memsz;
};
}  // namespace

Result<void> sys_kexec_load(const SegmentPlan& plan, unsigned long flags) {
  std::vector<KexecSegment> segs;
  for (const Segment& s : plan.segments)
    segs.push_back({s.data.data(), s.data.size(), reinterpret_cast<const void*>(s.mem), s.memsz});
  long rc = ::syscall(SYS_kexec_load, plan.entry, segs.size(), segs.data(), flags);
  if (rc != 0) return sys_error("kexec_load");
  return {};
}

Result<void> sys_kexec_unload(unsigned long flags) {
  long rc = ::syscall(SYS_kexec_load, 0ul, 0ul, nullptr, flags);
  if (rc != 0) return sys_error("kexec_load (unload)");
  return {};
}

Result<void> sys_kexec_file_load(int kernel_fd, int initrd_fd, const std::string& cmdline,
                                 unsigned long flags) {
#ifdef SYS_kexec_file_load
  // The length counts the terminating NUL; an empty command line is passed as length 0.
  unsigned long len = cmdline.empty() ? 0 : cmdline.size() + 1;
  long rc = ::syscall(SYS_kexec_file_load, kernel_fd, initrd_fd, len,
                      cmdline.empty() ? nullptr : cmdline.c_str(), flags);
  if (rc != 0) return sys_error("kexec_file_load");
  return {};
#else
  (void)kernel_fd, (void)initrd_fd, (void)cmdline, (void)flags;
  return sys_error("kexec_file_load", ENOSYS);
#endif
}

Result<void> sys_reboot_kexec() {
  ::reboot(LINUX_REBOOT_CMD_KEXEC);
  return sys_error("reboot(LINUX_REBOOT_CMD_KEXEC)");
}

}  // namespace kk
