// capture_record.cpp: the capture kernel's side of the next-boot report (crash_record.h): the
// panic line and the record, written on the crashed system's root file system.
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "lib/io/text_file.h"
#include "kdumpctl/capture.h"
#include "kdumpctl/crash_record.h"
#include "kdumpctl/dirs.h"

namespace kk {

std::string capture_panic_line(const SaveJob& job, const std::string& local_dir) {
  Result<std::string> log = make_error(Errc::missing, "no local directory");
  if (local_dir.starts_with("/")) log = read_text_file(local_dir + "/vmcore-dmesg.txt", 16 << 20);
  if (log) return panic_line(*log);
  // ssh and raw targets keep no local copy: read the log again into the capture's tmpfs.
  if (find_program("dumpfilter").empty()) return "";
  std::string tmp = job.host.path("/run/kdumpkit-dmesg.txt");
  unlink(tmp.c_str());
  Result<int> rc = run({"dumpfilter", "--dump-dmesg", job.host.path("/proc/vmcore"), tmp});
  log = read_text_file(tmp, 16 << 20);
  unlink(tmp.c_str());
  return rc && *rc == 0 && log ? panic_line(*log) : "";
}

std::string dump_location(const SaveJob& job, DumpTarget target, const std::string& where) {
  std::string mnt = mount_point(job.host);
  std::string rel = where.starts_with(mnt + "/") ? where.substr(mnt.size()) : where;
  switch (target) {
    case DumpTarget::fs: return job.conf.device + ":" + rel;
    case DumpTarget::nfs: return job.conf.nfs + rel;
    default: return rel;  // rootfs: the first kernel's own path; raw: the device; ssh: user@host:dir
  }
}

// Its own function so that the directory handle is closed before the caller unmounts.
static Result<void> write_record_under(const std::string& mnt, const std::string& name, const CaptureRecord& r) {
  KK_TRY_ASSIGN(MadeDir dir, make_dirs_under(mnt, std::string(kCaptureDir), 0700));
  return write_file_atomic(dir.path + "/" + name + std::string(kNewSuffix), format_record(r));
}

void record_capture(const SaveJob& job, const CaptureRecord& r) {
  std::string mnt = mount_point(job.host);
  // A fixture root (tests) has the root file system at the mount point: only made, not mounted.
  if (job.host.prefixed()) {
    mkdir(mnt.c_str(), 0700);
  } else {
    std::string root = cmdline_value(job.host, "root");
    std::string type = cmdline_value(job.host, "rootfstype");
    Result<void> m = root.empty() ? Result<void>(make_error(Errc::missing, "no root= on the command line"))
                                  : mount_fs(job.host, root, type.empty() ? std::vector<std::string>{"ext4", "xfs", "btrfs", "ext3", "ext2"}
                                                                          : std::vector<std::string>{type});
    if (!m) {
      say("no record for the next boot: " + m.error().msg);
      return;
    }
  }
  Result<void> w = write_record_under(mnt, job.name, r);
  say(w ? "recorded the capture for the next boot" : "no record for the next boot: " + w.error().msg);
  sync();
  if (!job.host.prefixed() && umount(mnt.c_str()) != 0) say("umount " + mnt + ": " + strerror(errno));
}

}  // namespace kk
