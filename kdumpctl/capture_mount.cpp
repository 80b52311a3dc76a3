// capture_mount.cpp: reaching the dump target's file system in the capture kernel (see
// capture.h).
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>

#include "kdumpctl/capture.h"
#include "lib/kernel/cmdline.h"

namespace kk {

namespace {

constexpr int kDeviceWaitSeconds = 10;

bool is_block(const std::string& p) {
  struct stat st {};
  return stat(p.c_str(), &st) == 0 && S_ISBLK(st.st_mode);
}

// busybox or util-linux findfs, for when udev made no /dev/disk links.
std::string findfs(const std::string& spec) {
  if (find_program("findfs").empty()) return "";
  Result<std::string> out = run_output({"findfs", spec}, 4096);
  if (!out) return "";
  std::string dev = out->substr(0, out->find('\n'));
  return is_block(dev) ? dev : "";
}

Result<void> make_mount_point(const std::string& mnt) {
  if (mkdir(mnt.c_str(), 0700) != 0 && errno != EEXIST) return sys_error("mkdir " + mnt);
  return {};
}

}  // namespace

void say(const std::string& s) { std::cout << "kdumpctl: " << s << std::endl; }

std::string mount_point(const Host& h) { return h.path("/kdumproot"); }

std::string cmdline_value(const Host& h, std::string_view name) {
  Result<std::string> cl = h.read_value("/proc/cmdline");
  if (!cl) return "";
  Result<std::vector<std::string>> w = split_cmdline(*cl);
  if (!w) return "";
  std::string v;
  for (const std::string& x : *w)
    if (param_name(x) == name && x.find('=') != std::string::npos) v = x.substr(x.find('=') + 1);
  return v;
}

// Drivers probe asynchronously: the device may appear a few seconds into the capture kernel.
Result<std::string> resolve_device(const std::string& spec) {
  std::string link = spec.starts_with("UUID=")    ? "/dev/disk/by-uuid/" + spec.substr(5)
                     : spec.starts_with("LABEL=") ? "/dev/disk/by-label/" + spec.substr(6)
                                                  : spec;
  for (int i = 0; i < kDeviceWaitSeconds * 10; ++i) {
    if (is_block(link)) return link;
    if (link != spec)
      if (std::string dev = findfs(spec); !dev.empty()) return dev;
    usleep(100000);
  }
  return make_error(Errc::missing, spec + ": no such block device after " + std::to_string(kDeviceWaitSeconds) + " s");
}

Result<void> mount_fs(const Host& h, const std::string& spec, const std::vector<std::string>& types) {
  KK_TRY_ASSIGN(std::string dev, resolve_device(spec));
  std::string mnt = mount_point(h);
  KK_TRY(make_mount_point(mnt));
  std::string tried;
  for (const std::string& t : types) {
    if (mount(dev.c_str(), mnt.c_str(), t.c_str(), 0, nullptr) == 0) return {};
    tried += (tried.empty() ? "" : ", ") + t + ": " + strerror(errno);
  }
  return make_error(Errc::io, "mount " + dev + " on " + mnt + " (" + tried + ")");
}

Result<void> mount_nfs(const Host& h, const std::string& export_spec) {
  std::string mnt = mount_point(h);
  KK_TRY(make_mount_point(mnt));
  // "--": the export is an operand whatever it looks like.
  return run_ok({"mount", "-t", "nfs", "-o", "nolock,tcp,soft", "--", export_spec, mnt});
}

}  // namespace kk
