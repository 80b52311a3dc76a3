// write_fault_shim.cpp: an LD_PRELOAD library for the write-fault tests (never installed). It
// watches write()/pwrite() to files whose path contains $KK_FAULT_PATH and, once $KK_FAULT_AFTER
// bytes have gone to them, injects $KK_FAULT: "eio" (that write and every later one fail with
// EIO, as a dying disk does), "sigterm" (raises SIGTERM once, then writes on) or "sigkill".
// $KK_FAULT_OP moves an "eio" elsewhere (issue 18: what fails after the last page was written,
// and unreadable input pages):
//   fsync, fdatasync  every call on a watched descriptor fails with EIO (write-back errors);
//   link, rename      every call whose old or new path contains $KK_FAULT_PATH fails with EIO;
//   read              a pread()/read() on a watched descriptor whose byte range holds offset
//                     $KK_FAULT_AFTER fails with EIO (a bad page of /proc/vmcore, or the
//                     manifest's read-back of the dump's head at offset 0).
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
enum class Op { write, fsync, fdatasync, link, rename, read };

struct Config {
  Fault fault = Fault::none;
  Op op = Op::write;
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
    const char* op = std::getenv("KK_FAULT_OP");
    if (!op || !std::strcmp(op, "write")) k.op = Op::write;
    else if (!std::strcmp(op, "fsync")) k.op = Op::fsync;
    else if (!std::strcmp(op, "fdatasync")) k.op = Op::fdatasync;
    else if (!std::strcmp(op, "link")) k.op = Op::link;
    else if (!std::strcmp(op, "rename")) k.op = Op::rename;
    else if (!std::strcmp(op, "read")) k.op = Op::read;
    else k.fault = Fault::none;
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
  if (c.fault == Fault::none || c.op != Op::write || !watched(fd)) return static_cast<ssize_t>(n);
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

namespace {

// True (errno EIO) when the call of kind `op` on fd must fail.
bool fails(Op op, int fd) {
  const Config& c = config();
  if (c.fault != Fault::eio || c.op != op || !watched(fd)) return false;
  errno = EIO;
  return true;
}

bool fails_path(Op op, const char* a, const char* b) {
  const Config& c = config();
  if (c.fault != Fault::eio || c.op != op) return false;
  if (!std::strstr(a, c.path) && !std::strstr(b, c.path)) return false;
  errno = EIO;
  return true;
}

bool read_fails(int fd, long long off, size_t n) {
  const Config& c = config();
  if (c.fault != Fault::eio || c.op != Op::read || n == 0) return false;
  if (c.after < off || c.after >= off + static_cast<long long>(n) || !watched(fd)) return false;
  errno = EIO;
  return true;
}

}  // namespace

extern "C" int fsync(int fd) {
  static auto real = next<int (*)(int)>("fsync");
  return fails(Op::fsync, fd) ? -1 : real(fd);
}

extern "C" int fdatasync(int fd) {
  static auto real = next<int (*)(int)>("fdatasync");
  return fails(Op::fdatasync, fd) ? -1 : real(fd);
}

extern "C" int link(const char* from, const char* to) {
  static auto real = next<int (*)(const char*, const char*)>("link");
  return fails_path(Op::link, from, to) ? -1 : real(from, to);
}

extern "C" int rename(const char* from, const char* to) {
  static auto real = next<int (*)(const char*, const char*)>("rename");
  return fails_path(Op::rename, from, to) ? -1 : real(from, to);
}

extern "C" ssize_t pread64(int fd, void* buf, size_t n, off64_t off) {
  static auto real = next<ssize_t (*)(int, void*, size_t, off64_t)>("pread64");
  return read_fails(fd, off, n) ? -1 : real(fd, buf, n, off);
}

extern "C" ssize_t pread(int fd, void* buf, size_t n, off_t off) { return pread64(fd, buf, n, off); }

extern "C" ssize_t read(int fd, void* buf, size_t n) {
  static auto real = next<ssize_t (*)(int, void*, size_t)>("read");
  if (config().op == Op::read && config().fault == Fault::eio) {
    off_t pos = ::lseek(fd, 0, SEEK_CUR);
    if (pos >= 0 && read_fails(fd, pos, n)) return -1;
  }
  return real(fd, buf, n);
}
