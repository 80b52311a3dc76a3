// rusage: runs a command and prints, on stderr, one line with what the kernel measured of it:
//   KK_RUSAGE rc=N maxrss_kb=K utime=S stime=S wall=S
// For the capture kernel, where busybox `time -v` is no help: its "Maximum resident set size"
// is ru_maxrss (already KiB) multiplied by 4 as if it counted pages, so 4x too high.
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double secs(struct timeval tv) { return (double)tv.tv_sec + (double)tv.tv_usec / 1e6; }

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: rusage COMMAND [ARG...]\n");
    return 2;
  }
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  pid_t pid = fork();
  if (pid < 0) {
    perror("rusage: fork");
    return 2;
  }
  if (pid == 0) {
    execvp(argv[1], argv + 1);
    perror("rusage: exec");
    _exit(127);
  }
  int status = 0;
  struct rusage ru;
  if (wait4(pid, &status, 0, &ru) < 0) {
    perror("rusage: wait4");
    return 2;
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  double wall = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  fprintf(stderr, "KK_RUSAGE rc=%d maxrss_kb=%ld utime=%.2f stime=%.2f wall=%.2f\n", rc, ru.ru_maxrss,
          secs(ru.ru_utime), secs(ru.ru_stime), wall);
  return rc;
}
