// noload_rss: runs a kexec (ours or kexec-tools') with kexec_load, kexec_file_load and reboot
// made to fail with EPERM by a seccomp filter, so the kernel never sees a load whatever the
// host is, and prints the peak RSS the process reached (getrusage of the child, KiB):
//   KK_NOLOAD maxrss_kb=K rc=N
// A loader has read its files and built every segment before it calls kexec_load, so its peak is
// already reached when the call fails: the figure is the load's memory, on any machine.
// usage: noload_rss COMMAND [ARG...]
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>

#if defined(__x86_64__)
#define KK_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define KK_AUDIT_ARCH AUDIT_ARCH_AARCH64
#else
#error "noload_rss: x86_64 or aarch64 only"
#endif

namespace {

sock_filter stmt(unsigned short code, unsigned k) { return sock_filter{code, 0, 0, k}; }
sock_filter jeq(unsigned k, unsigned char jt, unsigned char jf) {
  return sock_filter{BPF_JMP | BPF_JEQ | BPF_K, jt, jf, k};
}

// Every other syscall is allowed; a foreign architecture's syscall numbers are refused outright.
int deny_kexec() {
  const unsigned eperm = SECCOMP_RET_ERRNO | EPERM;
  sock_filter f[] = {
      stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      jeq(KK_AUDIT_ARCH, 1, 0),
      stmt(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
      stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      jeq(__NR_kexec_load, 0, 1),
      stmt(BPF_RET | BPF_K, eperm),
      jeq(__NR_kexec_file_load, 0, 1),
      stmt(BPF_RET | BPF_K, eperm),
      jeq(__NR_reboot, 0, 1),
      stmt(BPF_RET | BPF_K, eperm),
      stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog prog = {static_cast<unsigned short>(sizeof f / sizeof f[0]), f};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -1;
  return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: noload_rss COMMAND [ARG...]\n");
    return 2;
  }
  pid_t pid = fork();
  if (pid < 0) {
    perror("noload_rss: fork");
    return 2;
  }
  if (pid == 0) {
    if (deny_kexec() != 0) {
      perror("noload_rss: seccomp");
      _exit(126);
    }
    execvp(argv[1], argv + 1);
    perror("noload_rss: exec");
    _exit(127);
  }
  int status = 0;
  rusage ru{};
  while (wait4(pid, &status, 0, &ru) < 0) {
    if (errno != EINTR) {
      perror("noload_rss: wait4");
      return 2;
    }
  }
  int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  fprintf(stderr, "KK_NOLOAD maxrss_kb=%ld rc=%d\n", ru.ru_maxrss, rc);
  return rc == 126 || rc == 127 ? rc : 0;
}
