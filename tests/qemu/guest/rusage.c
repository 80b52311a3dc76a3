// rusage: runs a command and prints, on stderr, one line with what the kernel measured of it:
//   KK_RUSAGE rc=N maxrss_kb=K utime=S stime=S wall=S max_threads=T
// For the capture kernel, where busybox `time -v` is no help: its "Maximum resident set size"
// is ru_maxrss (already KiB) multiplied by 4 as if it counted pages, so 4x too high.
// max_threads: the most threads /proc/PID/status showed, polled every 10 ms while it runs
// (how many threads dumpfilter really compressed on).
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

// The Threads: count of a running process; 0 when it cannot be read (it may just have exited).
static int threads_of(pid_t pid) {
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  int n = 0;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "Threads: %d", &n) == 1) break;
  fclose(f);
  return n;
}

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
  int status = 0, max_threads = 0;
  struct rusage ru;
  const struct timespec tick = {0, 10 * 1000 * 1000};
  for (;;) {
    pid_t r = wait4(pid, &status, WNOHANG, &ru);
    if (r == pid) break;
    if (r < 0) {
      perror("rusage: wait4");
      return 2;
    }
    int n = threads_of(pid);
    if (n > max_threads) max_threads = n;
    nanosleep(&tick, NULL);
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  double wall = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  fprintf(stderr, "KK_RUSAGE rc=%d maxrss_kb=%ld utime=%.2f stime=%.2f wall=%.2f max_threads=%d\n", rc,
          ru.ru_maxrss, secs(ru.ru_utime), secs(ru.ru_stime), wall, max_threads);
  return rc;
}
