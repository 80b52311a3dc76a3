// write_fault_shim.cpp: an LD_PRELOAD library for the write-fault tests (never installed). It
// watches write()/pwrite() to files whose path contains $KK_FAULT_PATH and, once $KK_FAULT_AFTER
// bytes have gone to them, injects $KK_FAULT: "eio" (that write and every later one fail with
// EIO, as a dying disk does), "sigterm" (raises SIGTERM once, then writes on) or "sigkill".
// The build's _FILE_OFFSET_BITS=64 would make glibc's headers rename pwrite to pwrite64: this file
// defines both, so it turns that off.
#undef _FILE_OFFSET_BITS
#include <dlfcn.h>
#include <sys/types.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

enum class Fault { none, eio, sigterm, sigkill };

struct Config {
  Fault fault = Fault::none;
  long long after = 0;
  const char* path = nullptr;
};

const Config& config() {
  static const Config c = [] {
    Config k;
    const char* f = std::getenv("KK_FAULT");
    const char* a = std::getenv("KK_FAULT_AFTER");
    k.path = std::getenv("KK_FAULT_PATH");
    if (!f || !a || !k.path) return k;
    k.after = std::atoll(a);
    if (!std::strcmp(f, "eio")) k.fault = Fault::eio;
    else if (!std::strcmp(f, "sigterm")) k.fault = Fault::sigterm;
    else if (!std::strcmp(f, "sigkill")) k.fault = Fault::sigkill;
    return k;
  }();
  return c;
}

std::atomic<long long> g_written{0};
std::atomic<bool> g_fired{false};

bool watched(int fd) {
  char link[64], target[4096];
  std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, target, sizeof target - 1);
  if (n <= 0) return false;
  target[n] = '\0';
  return std::strstr(target, config().path) != nullptr;
}

// How many of n bytes may be written now; -1 with errno set when the write must fail.
ssize_t admit(int fd, size_t n) {
  const Config& c = config();
  if (c.fault == Fault::none || !watched(fd)) return static_cast<ssize_t>(n);
  if (c.fault == Fault::eio && g_fired.load()) {
    errno = EIO;
    return -1;
  }
  long long before = g_written.fetch_add(static_cast<long long>(n));
  if (before + static_cast<long long>(n) <= c.after) return static_cast<ssize_t>(n);
  if (g_fired.exchange(true)) return static_cast<ssize_t>(n);  // sigterm: once
  switch (c.fault) {
    case Fault::eio:
      if (before < c.after) return static_cast<ssize_t>(c.after - before);  // a short write first
      errno = EIO;
      return -1;
    case Fault::sigterm: std::raise(SIGTERM); break;
    case Fault::sigkill: std::raise(SIGKILL); break;
    case Fault::none: break;
  }
  return static_cast<ssize_t>(n);
}

template <class F>
F next(const char* name) {
  return reinterpret_cast<F>(dlsym(RTLD_NEXT, name));
}

}  // namespace

extern "C" ssize_t write(int fd, const void* buf, size_t n) {
  static auto real = next<ssize_t (*)(int, const void*, size_t)>("write");
  ssize_t ok = admit(fd, n);
  return ok < 0 ? -1 : real(fd, buf, static_cast<size_t>(ok));
}

extern "C" ssize_t pwrite64(int fd, const void* buf, size_t n, off64_t off) {
  static auto real = next<ssize_t (*)(int, const void*, size_t, off64_t)>("pwrite64");
  ssize_t ok = admit(fd, n);
  return ok < 0 ? -1 : real(fd, buf, static_cast<size_t>(ok), off);
}

extern "C" ssize_t pwrite(int fd, const void* buf, size_t n, off_t off) { return pwrite64(fd, buf, n, off); }
