// capture.cpp: `kdumpctl save`, run by the capture initramfs (initramfs-tools boot script or
// dracut hook) in the capture kernel. Passes: kdump_pre, reach the target, core_collector to
// <path>/<host>-<date>/vmcore-incomplete, fsync, rename to vmcore, kernel log and triage
// report beside it, kdump_post; on any failure failure_action; then final_action. Every line
// it prints starts "kdumpctl: " so a console log shows what happened.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sys/wait.h>

#include <cstring>
#include <ctime>
#include <iostream>

#include "kernel/cmdline.h"
#include "kdumpctl/kdumpctl.h"

namespace kk {

namespace {

constexpr const char* kMnt = "/kdumproot";
constexpr int kDeviceWaitSeconds = 10;

void say(const std::string& s) { std::cout << "kdumpctl: " << s << std::endl; }

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

// /dev path for "/dev/..", "UUID=..", "LABEL=..": udev's links, else busybox/util-linux
// findfs; waits for the device to appear (drivers probe asynchronously).
Result<std::string> resolve_device(const std::string& spec) {
  for (int i = 0; i < kDeviceWaitSeconds * 10; ++i) {
    std::string link = spec.starts_with("UUID=") ? "/dev/disk/by-uuid/" + spec.substr(5)
                       : spec.starts_with("LABEL=") ? "/dev/disk/by-label/" + spec.substr(6) : spec;
    struct stat st {};
    if (stat(link.c_str(), &st) == 0 && S_ISBLK(st.st_mode)) return link;
    if (link != spec && !find_program("findfs").empty()) {
      char tmpl[] = "/tmp/findfs.XXXXXX";
      int fd = mkstemp(tmpl);
      if (fd >= 0) {
        unlink(tmpl);
        Result<int> rc = run({"findfs", spec}, RunIo{-1, fd});
        std::string dev(256, '\0');
        ssize_t n = pread(fd, dev.data(), dev.size(), 0);
        close(fd);
        if (rc && *rc == 0 && n > 0) {
          dev.resize(static_cast<size_t>(n));
          dev = dev.substr(0, dev.find('\n'));
          if (stat(dev.c_str(), &st) == 0 && S_ISBLK(st.st_mode)) return dev;
        }
      }
    }
    usleep(100000);
  }
  return make_error(Errc::missing, spec + ": no such block device after " + std::to_string(kDeviceWaitSeconds) + " s");
}

Result<void> mount_fs(const std::string& spec, const std::vector<std::string>& types) {
  Result<std::string> dev = resolve_device(spec);
  if (!dev) return std::move(dev).error();
  mkdir(kMnt, 0700);
  std::string tried;
  for (const std::string& t : types) {
    if (mount(dev->c_str(), kMnt, t.c_str(), 0, nullptr) == 0) return {};
    tried += (tried.empty() ? "" : ", ") + t + ": " + strerror(errno);
  }
  return make_error(Errc::io, "mount " + *dev + " on " + kMnt + " (" + tried + ")");
}

std::string dump_dir_name(const Host& h) {
  std::string host = cmdline_value(h, "kdumpkit.host");
  if (host.empty()) {
    char buf[256] = {};
    gethostname(buf, sizeof buf - 1);
    host = buf[0] ? buf : "localhost";
  }
  time_t now = time(nullptr);
  struct tm tm {};
  gmtime_r(&now, &tm);
  char date[32];
  strftime(date, sizeof date, "%Y-%m-%d-%H:%M:%S", &tm);
  return host + "-" + date;
}

struct Target {
  std::string dir;         // local directory (fs, rootfs, nfs), empty for raw and ssh
  std::string remote_dir;  // ssh: directory on the remote host
};

// Runs the collector to `out_path`, or (flattened: raw, ssh) with its stdout on out_fd.
Result<void> collect(const KdumpConf& conf, const std::string& vmcore, const std::string& out_path, int out_fd) {
  std::vector<std::string> argv = collector_words(conf);
  argv.push_back(vmcore);
  if (out_fd < 0) argv.push_back(out_path);
  say("running " + conf.core_collector);
  return run_ok(argv, RunIo{-1, out_fd}).ok() ? Result<void>()
                                              : make_error(Errc::io, "core_collector '" + conf.core_collector + "' failed");
}

// Kernel log and triage report beside the dump (the collector's log is best effort: a dump
// without them is still a dump).
void logs_and_report(const std::string& vmcore, const std::string& dir) {
  std::string df = find_program("dumpfilter").empty() ? "" : "dumpfilter";
  if (df.empty()) {
    say("no dumpfilter in the initramfs: no vmcore-dmesg.txt or report");
    return;
  }
  Result<int> rc = run({df, "--dump-dmesg", vmcore, dir + "/vmcore-dmesg.txt"});
  say(std::string("vmcore-dmesg.txt ") + (rc && *rc == 0 ? "saved" : "failed"));
  rc = run({df, "--report", dir + "/report.txt", vmcore});
  say(std::string("report.txt, report.json ") + (rc && *rc == 0 ? "saved" : "failed"));
}

// dumpfilter writes a SHA-256 manifest beside the file it was given (vmcore-incomplete.sha256);
// once that file is renamed to vmcore the manifest follows it. The manifest names no file (it
// gives sizes and byte ranges), so the rename is all it takes. Other core_collectors write none.
void rename_manifest(const std::string& dir) {
  std::string from = dir + "/vmcore-incomplete.sha256", to = dir + "/vmcore.sha256";
  ::rename(from.c_str(), to.c_str());
}

Result<std::string> save_local(const KdumpConf& conf, const Host& h, const std::string& base) {
  std::string dir = base + conf.path + "/" + dump_dir_name(h);
  KK_TRY(make_dirs(dir, 0700));
  std::string vmcore = h.path("/proc/vmcore");
  std::string incomplete = dir + "/vmcore-incomplete";
  KK_TRY(collect(conf, vmcore, incomplete, -1));
  chmod(incomplete.c_str(), 0600);
  KK_TRY(fsync_path(incomplete));
  if (rename(incomplete.c_str(), (dir + "/vmcore").c_str()) != 0) return sys_error("rename " + incomplete);
  rename_manifest(dir);
  KK_TRY(fsync_path(dir));
  logs_and_report(vmcore, dir);
  sync();
  return dir;
}

Result<std::string> save_raw(const KdumpConf& conf, const Host& h) {
  Result<std::string> dev = resolve_device(conf.device);
  if (!dev) return std::move(dev).error();
  int fd = open(dev->c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return sys_error("open " + *dev);
  Result<void> r = collect(conf, h.path("/proc/vmcore"), "", fd);
  int e = fsync(fd) == 0 ? 0 : errno;
  close(fd);
  if (!r) return std::move(r).error();
  if (e) return sys_error("fsync " + *dev, e);
  return *dev;
}

Result<std::string> save_ssh(const KdumpConf& conf, const Host& h) {
  std::string dir = conf.path + "/" + dump_dir_name(h);
  std::vector<std::string> ssh = {"ssh", "-i", conf.sshkey, "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
                                  "-o", "UserKnownHostsFile=/dev/null", conf.ssh};
  auto remote = [&](const std::string& cmd) { std::vector<std::string> a = ssh; a.push_back(cmd); return a; };
  KK_TRY(run_ok(remote("umask 077 && mkdir -p '" + dir + "'")));
  // Flattened stream: collector stdout -> pipe -> ssh stdin -> remote file.
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) return sys_error("pipe");
  pid_t pid = fork();
  if (pid == 0) {
    close(p[1]);
    Result<int> rc = run(remote("umask 077 && cat > '" + dir + "/vmcore-incomplete'"), RunIo{p[0], -1});
    _exit(rc && *rc == 0 ? 0 : 1);
  }
  close(p[0]);
  Result<void> r = collect(conf, h.path("/proc/vmcore"), "", p[1]);
  close(p[1]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!r) return std::move(r).error();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return make_error(Errc::io, "ssh " + conf.ssh + ": copying the dump failed");
  KK_TRY(run_ok(remote("sync && mv '" + dir + "/vmcore-incomplete' '" + dir + "/vmcore.flat'")));
  // The log and report are written locally, then streamed the same way.
  mkdir("/tmp/kdump", 0700);
  logs_and_report(h.path("/proc/vmcore"), "/tmp/kdump");
  for (const char* f : {"vmcore-dmesg.txt", "report.txt", "report.json"}) {
    int fd = open((std::string("/tmp/kdump/") + f).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    Result<int> rc = run(remote("umask 077 && cat > '" + dir + "/" + f + "'"), RunIo{fd, -1});
    close(fd);
    if (!rc || *rc != 0) say(std::string("copying ") + f + " failed");
  }
  return conf.ssh + ":" + dir;
}

Result<std::string> save_to(const KdumpConf& conf, const Host& h, DumpTarget target) {
  switch (target) {
    case DumpTarget::fs:
      KK_TRY(mount_fs(conf.device, {conf.fs_type}));
      return save_local(conf, h, kMnt);
    case DumpTarget::rootfs: {
      std::string root = cmdline_value(h, "root");
      if (root.empty()) return make_error(Errc::missing, "no root= on the command line");
      std::string type = cmdline_value(h, "rootfstype");
      KK_TRY(mount_fs(root, type.empty() ? std::vector<std::string>{"ext4", "xfs", "ext3", "ext2", "btrfs"}
                                         : std::vector<std::string>{type}));
      return save_local(conf, h, kMnt);
    }
    case DumpTarget::nfs:
      mkdir(kMnt, 0700);
      KK_TRY(run_ok({"mount", "-t", "nfs", "-o", "nolock,tcp,soft", conf.nfs, kMnt}));
      return save_local(conf, h, kMnt);
    case DumpTarget::raw: return save_raw(conf, h);
    case DumpTarget::ssh: return save_ssh(conf, h);
  }
  return make_error(Errc::unsupported, "unknown target");
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

}  // namespace

Result<Outcome> cmd_save(Ctl& c) {
  umask(077);
  if (!c.host.exists("/proc/vmcore")) return make_error(Errc::missing, c.host.path("/proc/vmcore") + ": not in a capture kernel");
  const KdumpConf& conf = c.conf;
  Result<std::string> where = make_error(Errc::io, "not started");
  if (!conf.kdump_pre.empty() && !run_ok({conf.kdump_pre}).ok()) {
    where = make_error(Errc::io, "kdump_pre " + conf.kdump_pre + " failed");
  } else {
    where = save_to(conf, c.host, conf.target);
  }
  if (where) say("saved the dump to " + *where);
  else say("saving the dump failed: " + where.error().msg);
  if (!conf.kdump_post.empty()) {
    Result<int> rc = run({conf.kdump_post, where ? "0" : "1"});
    if (!rc || *rc != 0) say("kdump_post " + conf.kdump_post + " failed");
  }
  umount(kMnt);
  if (!where) {
    // failure_action, then final_action (dump_to_rootfs saves to the root file system first).
    act("failure_action", to_string(conf.failure_action), c.host.prefixed());
    if (conf.failure_action == FailureAction::dump_to_rootfs) {
      Result<std::string> again = save_to(conf, c.host, DumpTarget::rootfs);
      say(again ? "saved the dump to " + *again + " (dump_to_rootfs)" : "dump_to_rootfs failed: " + again.error().msg);
      umount(kMnt);
    }
  }
  act("final_action", to_string(conf.final_action), c.host.prefixed());
  if (c.host.prefixed()) return Outcome{where ? kExitOk : kExitError, "kdumpctl: fixture root, actions not taken"};
  return Outcome{kExitError, "kdumpctl: final_action returned"};
}

}  // namespace kk
