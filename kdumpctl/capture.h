// capture.h: the parts of `kdumpctl save` (capture kernel), one file each: reaching a device
// or mount (capture_mount.cpp), running the collector and saving into a local directory or a
// raw device (capture_local.cpp), over ssh (capture_ssh.cpp), and the sequence with its
// actions (capture.cpp). Every target puts the dump in a directory created for it, never in
// one that existed (issue 18): a second crash in the same second gets <name>-1.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "lib/io/result.h"
#include "lib/kdump/kdump_conf.h"
#include "kdumpctl/host.h"

namespace kk {

// One dump being saved: the configuration, the machine, and its directory's name
// (dump_dir_name(), fixed once so that dump_to_rootfs after a failure uses the same).
struct SaveJob {
  const KdumpConf& conf;
  const Host& host;
  std::string name;
};

// A line on the console, "kdumpctl: " first.
void say(const std::string& s);

// The mount point of fs, rootfs and nfs targets (under the Host root in tests).
std::string mount_point(const Host& h);
// The last value of NAME= on /proc/cmdline, or "".
std::string cmdline_value(const Host& h, std::string_view name);
// /dev path of "/dev/..", "UUID=..", "LABEL=..", waiting for it to appear.
Result<std::string> resolve_device(const std::string& spec);
// Mounts the device of spec at mount_point(), trying each type; an NFS export with mount(8).
Result<void> mount_fs(const Host& h, const std::string& spec, const std::vector<std::string>& types);
Result<void> mount_nfs(const Host& h, const std::string& export_spec);

// The collector's argv for the vmcore, writing to out_path (or stdout when out_path is "").
std::vector<std::string> collector_argv(const SaveJob& job, const std::string& out_path);
// vmcore-dmesg.txt, report.txt and report.json into dir (best effort: said, not failed).
void logs_and_report(const SaveJob& job, const std::string& dir);

// Into base + path / a new directory; returns that directory.
Result<std::string> save_local(const SaveJob& job, const std::string& base);
// True when a device's first bytes are a flattened stream's signature: a dump is there.
bool holds_flattened_dump(std::span<const std::byte> head);
// The flattened stream onto the raw device, unless it holds a dump already; returns the device.
Result<std::string> save_raw(const SaveJob& job);
// The flattened stream through ssh into a new remote directory; returns user@host:dir.
Result<std::string> save_ssh(const SaveJob& job);

// The next-boot record (capture_record.cpp, crash_record.h). The panic line from local_dir's
// vmcore-dmesg.txt, else read from /proc/vmcore again; "" when none.
std::string capture_panic_line(const SaveJob& job, const std::string& local_dir);
// Where the dump went, as the first kernel names it (the mount point taken off).
std::string dump_location(const SaveJob& job, DumpTarget target, const std::string& where);
// Writes the record under the root file system's /var/lib/kdumpkit/captures (best effort: said).
struct CaptureRecord;
void record_capture(const SaveJob& job, const CaptureRecord& r);

}  // namespace kk
