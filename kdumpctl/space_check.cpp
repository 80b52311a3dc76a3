// space_check.cpp: see space_check.h.
#include "kdumpctl/space_check.h"

#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>

#include <map>

#include "lib/io/lines.h"
#include "kdumpctl/crypt_target.h"

namespace kk {

namespace {

constexpr u64 kPage = 4096;
constexpr u64 kHeaders = 1 << 20;  // disk_dump_header, sub-header, notes, vmcoreinfo: well within

// "Name:   1234 kB" lines, in bytes.
std::map<std::string, u64> meminfo_bytes(std::string_view text) {
  std::map<std::string, u64> out;
  Lines lines(text);
  std::string_view l;
  while (lines.next(&l)) {
    size_t colon = l.find(':');
    if (colon == std::string_view::npos) continue;
    std::string num(l.substr(colon + 1));
    char* end = nullptr;
    unsigned long long v = std::strtoull(num.c_str(), &end, 10);
    if (end == num.c_str()) continue;
    out[std::string(l.substr(0, colon))] = v * (num.find("kB") != std::string::npos ? 1024 : 1);
  }
  return out;
}

std::optional<u64> free_at(const std::string& dir) {
  struct statvfs fs {};
  if (statvfs(dir.c_str(), &fs) != 0) return std::nullopt;
  return static_cast<u64>(fs.f_bavail) * fs.f_frsize;
}

// The nearest existing directory at or above abs under the host root.
std::optional<u64> free_under(const Host& h, const std::string& mount, const std::string& abs) {
  for (std::string p = abs; !p.empty(); p = p.substr(0, p.rfind('/'))) {
    struct stat st {};
    if (stat(h.path(mount + p).c_str(), &st) == 0) return free_at(h.path(mount + p));
  }
  return free_at(h.path(mount.empty() ? "/" : mount));
}

// Where the fs target's device is mounted in this kernel, from /proc/self/mounts.
std::optional<std::string> mount_of(const Host& h, dev_t dev) {
  Result<std::string> mounts = h.read("/proc/self/mounts");
  if (!mounts) return std::nullopt;
  Lines lines(*mounts);
  std::string_view l;
  while (lines.next(&l)) {
    size_t a = l.find(' '), b = a == std::string_view::npos ? a : l.find(' ', a + 1);
    if (b == std::string_view::npos) continue;
    std::string source(l.substr(0, a)), target(l.substr(a + 1, b - a - 1));
    struct stat st {};
    if (source.starts_with("/dev/") && stat(h.path(source).c_str(), &st) == 0 && S_ISBLK(st.st_mode) && st.st_rdev == dev)
      return target == "/" ? "" : target;
  }
  return std::nullopt;
}

std::string mib(u64 b) { return std::to_string((b + (1 << 20) - 1) >> 20) + " MiB"; }

}  // namespace

Result<u64> d31_dump_bytes(std::string_view meminfo) {
  std::map<std::string, u64> m = meminfo_bytes(meminfo);
  for (const char* k : {"MemTotal", "MemFree", "Buffers", "Cached", "AnonPages"})
    if (!m.count(k)) return make_error(Errc::missing, std::string("no ") + k + " in /proc/meminfo");
  u64 total = m["MemTotal"];
  // Shmem is counted in Cached but -d 31 keeps it (it is not file cache that can be re-read).
  u64 cache = m["Cached"] > m["Shmem"] ? m["Cached"] - m["Shmem"] : 0;
  u64 gone = m["MemFree"] + m["Buffers"] + cache + m["AnonPages"];
  u64 kept = total > gone ? total - gone : 0;
  u64 bitmaps = 2 * ((total / kPage + 7) / 8);
  return kept + bitmaps + kHeaders;
}

std::optional<u64> target_free_bytes(const Host& h, const KdumpConf& conf) {
  switch (conf.target) {
    case DumpTarget::rootfs: return free_under(h, "", conf.path);
    case DumpTarget::fs: {
      std::optional<dev_t> dev = target_block_device(h, conf);
      std::optional<std::string> mnt = dev ? mount_of(h, *dev) : std::nullopt;
      if (!mnt) return std::nullopt;
      return free_under(h, *mnt, conf.path);
    }
    case DumpTarget::raw: {
      std::optional<dev_t> dev = target_block_device(h, conf);
      if (!dev) return std::nullopt;
      Result<std::string> sectors = h.read_value("/sys/dev/block/" + std::to_string(major(*dev)) + ":" + std::to_string(minor(*dev)) + "/size");
      if (!sectors) return std::nullopt;
      return std::strtoull(sectors->c_str(), nullptr, 10) * 512;
    }
    case DumpTarget::ssh:
    case DumpTarget::nfs: break;
  }
  return std::nullopt;
}

std::optional<std::string> space_warning(u64 need, u64 free, const std::string& where) {
  if (free >= need) return std::nullopt;
  return "warning: " + where + " has " + mib(free) + " free; a -d 31 dump of this machine can take up to " + mib(need) +
         " (uncompressed; compressed usually less): free space, or lower keep_dumps";
}

std::optional<std::string> start_space_warning(const Host& h, const KdumpConf& conf) {
  Result<std::string> meminfo = h.read("/proc/meminfo");
  Result<u64> need = meminfo ? d31_dump_bytes(*meminfo) : Result<u64>(std::move(meminfo).error());
  std::optional<u64> free = target_free_bytes(h, conf);
  if (!need || !free) return std::nullopt;
  std::string where = conf.target == DumpTarget::raw ? conf.device : conf.target == DumpTarget::fs ? conf.device + ":" + conf.path : conf.path;
  return space_warning(*need, *free, where);
}

}  // namespace kk
