// crypt_target.cpp: see crypt_target.h.
#include "kdumpctl/crypt_target.h"

#include <dirent.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <vector>

#include "lib/io/text_file.h"

namespace kk {

namespace {

// Device stacks are shallow (partition, LUKS, LVM, RAID); the bound stops a looping fixture.
constexpr int kMaxDepth = 16;

std::string first_line(const std::string& path) {
  Result<std::string> t = read_text_file(path, 4096);
  if (!t) return "";
  return t->substr(0, t->find('\n'));
}

std::vector<std::string> slaves(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = opendir((dir + "/slaves").c_str());
  if (!d) return out;
  while (struct dirent* e = readdir(d))
    if (e->d_name[0] != '.') out.push_back(dir + "/slaves/" + e->d_name);
  closedir(d);
  return out;
}

std::optional<std::string> crypt_under(const std::string& dir, int depth) {
  if (depth > kMaxDepth) return std::nullopt;
  if (first_line(dir + "/dm/uuid").starts_with("CRYPT-")) {
    std::string name = first_line(dir + "/dm/name");
    return name.empty() ? dir.substr(dir.rfind('/') + 1) : name;
  }
  // A partition: its disk (the directory above it in sysfs) may be the encrypted one.
  struct stat st {};
  if (stat((dir + "/partition").c_str(), &st) == 0)
    if (std::optional<std::string> up = crypt_under(dir + "/..", depth + 1)) return up;
  for (const std::string& s : slaves(dir))
    if (std::optional<std::string> found = crypt_under(s, depth + 1)) return found;
  return std::nullopt;
}

// /dev/..., UUID=..., LABEL=... as a path under the host root.
std::string device_path(const Host& h, const std::string& spec) {
  if (spec.starts_with("UUID=")) return h.path("/dev/disk/by-uuid/" + spec.substr(5));
  if (spec.starts_with("LABEL=")) return h.path("/dev/disk/by-label/" + spec.substr(6));
  return h.path(spec);
}

}  // namespace

std::optional<std::string> crypt_layer(const std::string& sysfs, unsigned maj, unsigned min) {
  return crypt_under(sysfs + "/dev/block/" + std::to_string(maj) + ":" + std::to_string(min), 0);
}

std::optional<dev_t> target_block_device(const Host& h, const KdumpConf& conf) {
  struct stat st {};
  switch (conf.target) {
    case DumpTarget::rootfs: {
      // The path may not exist yet: the nearest directory above it that does.
      for (std::string p = conf.path; !p.empty(); p = p.substr(0, p.rfind('/')))
        if (stat(h.path(p).c_str(), &st) == 0) return st.st_dev;
      if (stat(h.path("/").c_str(), &st) == 0) return st.st_dev;
      return std::nullopt;
    }
    case DumpTarget::fs:
    case DumpTarget::raw:
      if (stat(device_path(h, conf.device).c_str(), &st) == 0 && S_ISBLK(st.st_mode)) return st.st_rdev;
      return std::nullopt;
    case DumpTarget::ssh:
    case DumpTarget::nfs: break;
  }
  return std::nullopt;
}

std::optional<std::string> encrypted_target_reason(const Host& h, const KdumpConf& conf) {
  std::optional<dev_t> dev = target_block_device(h, conf);
  if (!dev) return std::nullopt;
  std::optional<std::string> layer = crypt_layer(h.path("/sys"), major(*dev), minor(*dev));
  if (!layer) return std::nullopt;
  std::string what = conf.target == DumpTarget::rootfs ? conf.path : conf.device;
  return "the dump target " + what + " is on an encrypted device (dm-crypt " + *layer +
         "), which the capture kernel cannot unlock; choose an unencrypted target in kdump.conf";
}

}  // namespace kk
