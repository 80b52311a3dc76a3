// capture.cpp: `kdumpctl save`, run by the capture initramfs (initramfs-tools boot script or
// dracut hook) in the capture kernel. Passes: kdump_pre, reach the target, save the dump into
// a new <path>/<host>-<date>/ (capture_local.cpp, capture_ssh.cpp), kdump_post; on any failure
// failure_action; then final_action. Every line it prints starts "kdumpctl: " so a console log
// shows what happened.
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "kdumpctl/capture.h"
#include "kdumpctl/crash_record.h"
#include "kdumpctl/dump_name.h"
#include "kdumpctl/kdumpctl.h"

namespace kk {

namespace {

std::string host_name(const Host& h) {
  std::string host = cmdline_value(h, "kdumpkit.host");
  if (!host.empty()) return host;
  char buf[256] = {};
  gethostname(buf, sizeof buf - 1);
  return buf;
}

Result<std::string> save_rootfs(const SaveJob& job) {
  std::string root = cmdline_value(job.host, "root");
  if (root.empty()) return make_error(Errc::missing, "no root= on the command line");
  std::string type = cmdline_value(job.host, "rootfstype");
  KK_TRY(mount_fs(job.host, root, type.empty() ? std::vector<std::string>{"ext4", "xfs", "ext3", "ext2", "btrfs"}
                                               : std::vector<std::string>{type}));
  return save_local(job, mount_point(job.host));
}

Result<std::string> save_to(const SaveJob& job, DumpTarget target) {
  switch (target) {
    case DumpTarget::fs:
      KK_TRY(mount_fs(job.host, job.conf.device, {job.conf.fs_type}));
      return save_local(job, mount_point(job.host));
    case DumpTarget::rootfs: return save_rootfs(job);
    case DumpTarget::nfs:
      KK_TRY(mount_nfs(job.host, job.conf.nfs));
      return save_local(job, mount_point(job.host));
    case DumpTarget::raw: return save_raw(job);
    case DumpTarget::ssh: return save_ssh(job);
  }
  return make_error(Errc::unsupported, "unknown target");
}

// Unmounts the target when one was mounted (a fixture root mounts nothing).
void unmount(const Host& h) {
  if (!h.prefixed() && umount(mount_point(h).c_str()) != 0 && errno != EINVAL && errno != ENOENT)
    say("umount " + mount_point(h) + ": " + strerror(errno));
}

// Runs failure_action or final_action. With a fixture root (tests) it only says what it would
// do; dump_to_rootfs is not an action here (cmd_save does the saving).
void act(std::string_view which, std::string_view action, bool dry) {
  say(std::string(which) + " " + std::string(action));
  sync();
  if (dry || action == "dump_to_rootfs") return;
  if (action == "shell") {
    Result<int> rc = run({"sh"});
    if (!rc) say("shell: " + rc.error().msg);
    return;
  }
  int how = action == "halt" ? RB_HALT_SYSTEM : action == "poweroff" ? RB_POWER_OFF : RB_AUTOBOOT;
  reboot(how);
  say(std::string(which) + " " + std::string(action) + " failed: " + strerror(errno));
}

Result<std::string> pre_and_save(const SaveJob& job) {
  if (!job.conf.kdump_pre.empty() && !run_ok({job.conf.kdump_pre}).ok())
    return make_error(Errc::io, "kdump_pre " + job.conf.kdump_pre + " failed");
  return save_to(job, job.conf.target);
}

// dump_to_rootfs: the second try, on the root file system; returns where it went.
Result<std::string> dump_to_rootfs(const SaveJob& job) {
  act("failure_action", to_string(job.conf.failure_action), job.host.prefixed());
  Result<std::string> again = save_to(job, DumpTarget::rootfs);
  say(again ? "saved the dump to " + *again + " (dump_to_rootfs)" : "dump_to_rootfs failed: " + again.error().msg);
  return again;
}

CaptureRecord record_of(const SaveJob& job, DumpTarget target, const Result<std::string>& where, std::string reason) {
  CaptureRecord r;
  r.time = time(nullptr);
  r.saved = where.ok();
  r.dump = where ? dump_location(job, target, *where) : "";
  r.panic = where ? capture_panic_line(job, *where) : capture_panic_line(job, "");
  r.reason = where ? std::move(reason) : where.error().msg;
  return r;
}

}  // namespace

Result<Outcome> cmd_save(Ctl& c) {
  umask(077);
  if (!c.host.exists("/proc/vmcore")) return make_error(Errc::missing, c.host.path("/proc/vmcore") + ": not in a capture kernel");
  SaveJob job{c.conf, c.host, dump_dir_name(host_name(c.host), time(nullptr))};
  Result<std::string> where = pre_and_save(job);
  if (where) say("saved the dump to " + *where);
  else say("saving the dump failed: " + where.error().msg);
  // Read while the target is still mounted: the panic line for the next boot's record.
  CaptureRecord rec = record_of(job, c.conf.target, where, "");
  if (!c.conf.kdump_post.empty()) {
    Result<int> rc = run({c.conf.kdump_post, where ? "0" : "1"});
    if (!rc || *rc != 0) say("kdump_post " + c.conf.kdump_post + " failed");
  }
  unmount(c.host);
  if (!where && c.conf.failure_action == FailureAction::dump_to_rootfs) {
    Result<std::string> again = dump_to_rootfs(job);
    std::string why = std::string(to_string(c.conf.target)) + " target failed: " + where.error().msg;
    CaptureRecord second = record_of(job, DumpTarget::rootfs, again, why);
    unmount(c.host);
    if (!again) second.reason = where.error().msg + "; dump_to_rootfs: " + again.error().msg;
    record_capture(job, second);
  } else {
    // Recorded before failure_action: reboot, halt and poweroff do not come back.
    record_capture(job, rec);
    if (!where) act("failure_action", to_string(c.conf.failure_action), c.host.prefixed());
  }
  act("final_action", to_string(c.conf.final_action), c.host.prefixed());
  if (c.host.prefixed()) return Outcome{where ? kExitOk : kExitError, "kdumpctl: fixture root, actions not taken"};
  return Outcome{kExitError, "kdumpctl: final_action returned"};
}

}  // namespace kk
