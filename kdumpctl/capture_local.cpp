// capture_local.cpp: the collector, and saving into a local directory (fs, rootfs, nfs) or
// onto a raw device (see capture.h).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "dumpfilter/flattened_format.h"
#include "kdumpctl/capture.h"
#include "kdumpctl/dirs.h"
#include "kdumpctl/keep_dumps.h"

namespace kk {

namespace {

std::string vmcore_path(const SaveJob& job) { return job.host.path("/proc/vmcore"); }

Result<void> run_collector(const SaveJob& job, const std::string& out_path, int out_fd) {
  say("running " + job.conf.core_collector);
  Result<void> r = run_ok(collector_argv(job, out_path), RunIo{-1, out_fd});
  if (!r) return std::move(r).error().context("core_collector '" + job.conf.core_collector + "'");
  return {};
}

// dumpfilter writes a SHA-256 manifest beside the file it was given (vmcore-incomplete.sha256);
// it names no file (sizes and byte ranges), so it follows the dump by a rename. Other
// collectors write none.
void rename_manifest(const std::string& dir) {
  std::string from = dir + "/vmcore-incomplete.sha256";
  if (access(from.c_str(), F_OK) != 0) return;
  Result<void> r = rename_noreplace(from, dir + "/vmcore.sha256");
  if (!r) say("keeping the manifest as " + from + ": " + r.error().msg);
}

// keep_dumps: the oldest dumps of this host beyond N go, once the new one is safe on disk.
void keep_at_most(const SaveJob& job, const std::string& dir) {
  if (job.conf.keep_dumps == 0) return;
  size_t slash = dir.rfind('/');
  Result<std::vector<std::string>> gone = prune_dumps(dir.substr(0, slash), dir.substr(slash + 1), job.conf.keep_dumps);
  if (!gone) return say("keep_dumps " + std::to_string(job.conf.keep_dumps) + ": " + gone.error().msg);
  for (const std::string& n : *gone) say("deleted the old dump " + n + " (keep_dumps " + std::to_string(job.conf.keep_dumps) + ")");
  sync();
}

}  // namespace

std::vector<std::string> collector_argv(const SaveJob& job, const std::string& out_path) {
  std::vector<std::string> argv = collector_words(job.conf, has_makedumpfile());
  argv.push_back(vmcore_path(job));
  if (!out_path.empty()) argv.push_back(out_path);
  return argv;
}

// The kernel log first: small, and it says why the machine crashed, so it is on disk (synced)
// before the long dump that may not finish.
void save_kernel_log(const SaveJob& job, const std::string& dir) {
  if (find_program("dumpfilter").empty()) {
    say("no dumpfilter in the initramfs: no vmcore-dmesg.txt");
    return;
  }
  std::string log = dir + "/vmcore-dmesg.txt";
  Result<int> rc = run({"dumpfilter", "--dump-dmesg", vmcore_path(job), log});
  bool ok = rc && *rc == 0 && fsync_path(log) && fsync_path(dir);
  say(std::string("vmcore-dmesg.txt ") + (ok ? "saved" : "failed"));
}

void save_report(const SaveJob& job, const std::string& dir) {
  if (find_program("dumpfilter").empty()) {
    say("no dumpfilter in the initramfs: no report");
    return;
  }
  Result<int> rc = run({"dumpfilter", "--report", dir + "/report.txt", vmcore_path(job)});
  say(std::string("report.txt, report.json ") + (rc && *rc == 0 ? "saved" : "failed"));
}

void logs_and_report(const SaveJob& job, const std::string& dir) {
  save_kernel_log(job, dir);
  save_report(job, dir);
}

Result<std::string> save_local(const SaveJob& job, const std::string& base) {
  Result<std::string> dir = make_unique_dir(base, job.conf.path.empty() ? "/" : job.conf.path, job.name, 0700);
  if (!dir) return dir;
  save_kernel_log(job, *dir);
  std::string incomplete = *dir + "/vmcore-incomplete";
  KK_TRY(run_collector(job, incomplete, -1));
  if (chmod(incomplete.c_str(), 0600) != 0) return sys_error("chmod " + incomplete);
  KK_TRY(fsync_path(incomplete));
  KK_TRY(rename_noreplace(incomplete, *dir + "/vmcore"));
  rename_manifest(*dir);
  KK_TRY(fsync_path(*dir));
  save_report(job, *dir);
  sync();
  keep_at_most(job, *dir);
  return dir;
}

bool holds_flattened_dump(std::span<const std::byte> head) {
  return head.size() >= sizeof flattened::kSignature &&
         std::memcmp(head.data(), flattened::kSignature, sizeof flattened::kSignature) == 0;
}

Result<std::string> save_raw(const SaveJob& job) {
  Result<std::string> dev = resolve_device(job.conf.device);
  if (!dev) return std::move(dev).error();
  Fd fd(open(dev->c_str(), O_RDWR | O_CLOEXEC));
  if (!fd.valid()) return sys_error("open " + *dev);
  // A raw device holds one dump; one that is there has not been saved and cleared by the admin
  // yet: a second crash must not write over it (issue 18: never overwrite an earlier crash).
  std::array<std::byte, sizeof flattened::kSignature> head{};
  if (pread(fd.get(), head.data(), head.size(), 0) == static_cast<ssize_t>(head.size()) &&
      holds_flattened_dump(head))
    return make_error(Errc::exists, *dev + ": holds an earlier dump not yet saved; not writing over it "
                                           "(save it with 'dumpfilter -R FILE < " + *dev +
                                           "', then clear its first 4 KiB)");
  KK_TRY(run_collector(job, "", fd.get()));
  if (fsync(fd.get()) != 0) return sys_error("fsync " + *dev);
  return dev;
}

}  // namespace kk
