// commands.cpp: kdumpctl's first-kernel commands. Each reads as a list of passes; the
// decisions (what to rebuild, which command line, which kexec options) are made from files
// read through Host, so they run on fixture trees in the tests.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "lib/debuginfo/libdw_loader.h"
#include "lib/io/text_file.h"
#include "lib/kernel/cmdline.h"
#include "lib/kernel/crashkernel.h"
#include "lib/kdump/kdump_tools.h"
#include "kdumpctl/capture_cpus.h"
#include "kdumpctl/crash_record.h"
#include "kdumpctl/crypt_target.h"
#include "kdumpctl/dirs.h"
#include "kdumpctl/dump_name.h"
#include "kdumpctl/kdumpctl.h"
#include "kdumpctl/known_hosts.h"
#include "kdumpctl/space_check.h"

namespace kk {

namespace {

std::string env_or(const char* name, std::string_view fallback) {
  const char* v = getenv(name);
  return v && *v ? std::string(v) : std::string(fallback);
}

std::vector<std::string> words(std::string_view s) {
  std::vector<std::string> out;
  Result<std::vector<std::string>> w = split_cmdline(s);
  if (w) out = std::move(*w);
  return out;
}

Result<bool> crash_loaded(const Host& h) {
  Result<std::string> v = h.read_value("/sys/kernel/kexec_crash_loaded");
  if (!v) return std::move(v).error().context("is a capture kernel loaded");
  return *v == "1";
}

// Secure boot (the EFI variable's value byte after its 4 attribute bytes) or a kernel lockdown
// refuses kexec_load: only kexec_file_load (-s), with a signed kernel, is allowed then.
bool needs_file_load(const Host& h) {
  Result<std::string> lock = h.read("/sys/kernel/security/lockdown");
  if (lock && (lock->find("[integrity]") != std::string::npos ||
               lock->find("[confidentiality]") != std::string::npos))
    return true;
  Result<std::string> sb = h.read("/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c");
  return sb && sb->size() >= 5 && (*sb)[4] == 1;
}

// One line per input of the capture initramfs: when any changes, it is rebuilt.
std::string input_stamp(const Ctl& c) {
  std::vector<std::string> inputs = {c.host.path(c.conf_path), c.kernel,
                                     find_program(env_or("KDUMPKIT_DUMPFILTER", "dumpfilter")),
                                     find_program(env_or("KDUMPKIT_KDUMPCTL", "kdumpctl"))};
  for (const std::string* p : {&c.conf.kdump_pre, &c.conf.kdump_post})
    if (!p->empty()) inputs.push_back(c.host.path(*p));
  for (const std::string& b : c.conf.extra_bins) inputs.push_back(c.host.path(b));
  inputs.push_back(c.host.path(kKdumpToolsPath));
  if (c.conf.target == DumpTarget::ssh) inputs.push_back(c.host.path(known_hosts_path(c.conf)));
  std::string out;
  for (const std::string& p : inputs) {
    struct stat st {};
    if (p.empty() || stat(p.c_str(), &st) != 0) {
      out += p + " missing\n";
      continue;
    }
    out += p + " " + std::to_string(st.st_size) + " " + std::to_string(st.st_mtim.tv_sec) + "." +
           std::to_string(st.st_mtim.tv_nsec) + "\n";
  }
  return out;
}

Result<void> build_initramfs(const Ctl& c) {
  std::string builder = env_or("KDUMPKIT_BUILDER", !find_program("mkinitramfs").empty() ? "mkinitramfs" : "dracut");
  std::string tmp = c.initrd + ".new";
  // The hooks find kdump.conf and our binaries through the environment.
  setenv("KDUMPKIT_CONF", c.host.path(c.conf_path).c_str(), 1);
  std::vector<std::string> argv;
  if (builder == "mkinitramfs") {
    argv = {"mkinitramfs", "-d", data_dir() + "/initramfs-tools", "-o", tmp, c.kver};
  } else if (builder == "dracut") {
    // lvm is not omitted: host-only, dracut adds it only where the root or the target sits on
    // LVM, and there the capture kernel must activate the volume group to reach the dump target.
    argv = {"dracut", "--force", "--quiet", "--hostonly", "--add", "kdumpkit",
            "--omit", "plymouth resume crypt mdraid dmraid", "--kver", c.kver, tmp};
  } else {
    return make_error(Errc::usage, "KDUMPKIT_BUILDER must be mkinitramfs or dracut, not '" + builder + "'");
  }
  if (find_program(argv[0]).empty())
    return make_error(Errc::missing, "neither mkinitramfs (initramfs-tools) nor dracut is installed");
  KK_TRY(make_dirs(c.initrd.substr(0, c.initrd.rfind('/')), 0700));
  Result<void> r = run_ok(argv);
  if (!r) {
    unlink(tmp.c_str());
    return std::move(r).error().context("building the capture initramfs");
  }
  if (chmod(tmp.c_str(), 0600) != 0 || rename(tmp.c_str(), c.initrd.c_str()) != 0)
    return sys_error("installing " + c.initrd);
  return write_file_atomic(c.initrd + ".inputs", input_stamp(c));
}

// Rebuild when forced, when the image is missing, or when an input changed; never with
// force_no_rebuild (then the image must exist).
Result<std::string> rebuild_if_needed(const Ctl& c) {
  bool have = access(c.initrd.c_str(), R_OK) == 0;
  if (c.conf.force_no_rebuild) {
    if (!have) return make_error(Errc::missing, c.initrd + ": no capture initramfs, and force_no_rebuild is set");
    return std::string("using ") + c.initrd + " (force_no_rebuild)";
  }
  Result<std::string> old = read_text_file(c.initrd + ".inputs", 1 << 20);
  if (have && !c.conf.force_rebuild && old && *old == input_stamp(c)) return std::string("capture initramfs is up to date");
  KK_TRY(build_initramfs(c));
  return std::string("rebuilt ") + c.initrd;
}

// An ssh target's host key goes into the image: the capture kernel trusts no other.
Result<void> ensure_host_key(Ctl& c) {
  if (c.conf.target != DumpTarget::ssh) return {};
  KK_TRY_ASSIGN(std::string rec, record_host_key(c.host, c.conf));
  if (!rec.empty()) c.notes.push_back("kdump: " + rec);
  return {};
}

std::string hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0 || !buf[0]) return "localhost";
  return buf;
}

}  // namespace

std::string data_dir() { return env_or("KDUMPKIT_DATADIR", KK_DATADIR); }

Result<Outcome> cmd_start(Ctl& c) {
  if (!c.conf.enabled)
    return Outcome{kExitOk, "kdump: USE_KDUMP=0 in " + std::string(kKdumpToolsPath) + ": capture kernel not loaded"};
  // 1. Memory must be reserved, or no capture kernel can be loaded at all.
  KK_TRY_ASSIGN(std::string size, c.host.read_value("/sys/kernel/kexec_crash_size"));
  if (size == "0" || size.empty())
    return Outcome{kExitNoReservation, "kdump: no memory reserved for the crash kernel (no crashkernel= on the "
                                       "command line, or too little RAM for it); run kdumpctl reset-crashkernel and reboot"};
  Result<bool> loaded = crash_loaded(c.host);
  if (!loaded) return std::move(loaded).error();
  if (*loaded) return Outcome{kExitOk, "kdump: capture kernel already loaded"};
  // The capture kernel cannot unlock dm-crypt: refused now rather than a lost dump later.
  if (std::optional<std::string> why = encrypted_target_reason(c.host, c.conf)) return make_error(Errc::unsupported, *why);
  if (std::optional<std::string> low = start_space_warning(c.host, c.conf)) c.notes.push_back("kdump: " + *low);
  if (collector_words(c.conf, has_makedumpfile()) != collector_words(c.conf))
    c.notes.push_back("kdump: core_collector (" + c.conf.collector_where +
                      "): makedumpfile is not installed; dumpfilter runs with the same options");
  // 2. The capture initramfs, rebuilt when kdump.conf, the kernel or our binaries changed.
  if (access(c.kernel.c_str(), R_OK) != 0) return sys_error(c.kernel);
  KK_TRY(ensure_host_key(c));
  KK_TRY_ASSIGN(std::string rebuilt, rebuild_if_needed(c));
  c.notes.push_back("kdump: " + rebuilt);
  // 3. Its command line: the first kernel's without crashkernel= and the like, plus ours.
  KK_TRY_ASSIGN(std::string first, c.host.read_value("/proc/cmdline"));
  std::string append = c.conf.cmdline_append + " " + env_or("KDUMP_COMMANDLINE_APPEND", "") + " kdumpkit.host=" + safe_host_name(hostname());
  // Network targets: the capture initramfs brings the network up from ip= (DHCP unless the
  // administrator gave ip= in KDUMP_COMMANDLINE_APPEND).
  bool network = c.conf.target == DumpTarget::ssh || c.conf.target == DumpTarget::nfs;
  std::vector<std::string> app_words = words(append);
  if (network && std::none_of(app_words.begin(), app_words.end(), [](const std::string& w) { return param_name(w) == "ip"; }))
    append += " ip=dhcp";
  KK_TRY_ASSIGN(std::string cmdline, capture_cmdline(first, env_or("KDUMP_COMMANDLINE_REMOVE", ""), append, capture_cpus(c).n));
  // 4. Load; kexec_file_load under secure boot or lockdown.
  std::vector<std::string> argv = {env_or("KDUMPKIT_KEXEC", "kexec"), "-p"};
  std::vector<std::string> extra = words(env_or("KDUMP_KEXEC_ARGS", ""));
  if (needs_file_load(c.host) && std::find(extra.begin(), extra.end(), "-s") == extra.end()) argv.push_back("-s");
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.insert(argv.end(), {"--initrd=" + c.initrd, "--command-line=" + cmdline, c.kernel});
  KK_TRY(run_ok(argv));
  loaded = crash_loaded(c.host);
  if (!loaded) return std::move(loaded).error();
  if (!*loaded) return make_error(Errc::io, "kexec -p succeeded but /sys/kernel/kexec_crash_loaded is not 1");
  return Outcome{kExitOk, "kdump: capture kernel loaded (" + c.kernel + ", " + c.initrd + ")"};
}

Result<Outcome> cmd_stop(Ctl& c) {
  KK_TRY_ASSIGN(bool loaded, crash_loaded(c.host));
  if (!loaded) return Outcome{kExitOk, "kdump: not loaded"};
  std::vector<std::string> argv = {env_or("KDUMPKIT_KEXEC", "kexec"), "-p", "-u"};
  if (needs_file_load(c.host)) argv.push_back("-s");
  KK_TRY(run_ok(argv));
  return Outcome{kExitOk, "kdump: capture kernel unloaded"};
}

Result<Outcome> cmd_status(Ctl& c) {
  KK_TRY_ASSIGN(bool loaded, crash_loaded(c.host));
  std::optional<std::string> last = latest_record_line(c.host);
  std::string crash = last ? "\nkdump: " + *last : "";
  if (loaded) return Outcome{kExitOk, "kdump: operational (capture kernel loaded)" + crash};
  return Outcome{kExitNotLoaded, "kdump: not operational (no capture kernel loaded)" + crash};
}

Result<Outcome> cmd_report_crash(Ctl& c) {
  KK_TRY_ASSIGN(std::vector<std::string> lines, report_new_records(c.host));
  std::string out;
  for (const std::string& l : lines) out += (out.empty() ? "" : "\n") + l;
  return Outcome{kExitOk, out};
}

Result<Outcome> cmd_rebuild(Ctl& c) {
  KK_TRY(ensure_host_key(c));
  KK_TRY(build_initramfs(c));
  return Outcome{kExitOk, "kdump: rebuilt " + c.initrd};
}

Result<Outcome> cmd_test(Ctl& c) {
  KK_TRY_ASSIGN(bool loaded, crash_loaded(c.host));
  if (!loaded) return Outcome{kExitNotLoaded, "kdump: no capture kernel loaded; run kdumpctl start first"};
  if (!c.force && !(c.confirm && c.confirm()))
    return Outcome{kExitDeclined, "kdump: test not confirmed, nothing done"};
  sync();
  // /proc files cannot be replaced by rename: write them in place.
  for (auto [file, text] : {std::pair{"/proc/sys/kernel/sysrq", "1\n"}, std::pair{"/proc/sysrq-trigger", "c\n"}}) {
    FILE* f = fopen(c.host.path(file).c_str(), "w");
    if (!f) return sys_error(c.host.path(file));
    fputs(text, f);
    if (fclose(f) != 0) return sys_error(c.host.path(file));
  }
  return Outcome{kExitOk, "kdump: sysrq-c written; still running (a fixture root, or the crash did not happen)"};
}

Result<Outcome> cmd_propagate(Ctl& c) {
  if (c.conf.target != DumpTarget::ssh)
    return make_error(Errc::usage, "propagate needs an ssh target in " + c.conf_path);
  std::string key = c.host.path(c.conf.sshkey);
  if (access(key.c_str(), R_OK) != 0) {
    KK_TRY(make_dirs(key.substr(0, key.rfind('/')), 0700));
    KK_TRY(run_ok({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key}));
    c.notes.push_back("kdump: generated " + key);
  }
  KK_TRY(ensure_host_key(c));
  // ssh-copy-id checks the host against the key just recorded, as the capture kernel will.
  std::vector<std::string> argv = {"ssh-copy-id", "-i", key + ".pub"};
  for (std::string& o : host_key_options(c.host, c.conf)) argv.push_back(std::move(o));
  argv.insert(argv.end(), {"--", c.conf.ssh});
  KK_TRY(run_ok(argv));
  return Outcome{kExitOk, "kdump: " + key + ".pub installed on " + c.conf.ssh};
}

Result<Outcome> cmd_reset_crashkernel(Ctl& c) {
  // Fedora's x86_64 default table, extended below 2 GiB; --value overrides it.
  std::string value = c.value.empty() ? "1G-4G:192M,4G-64G:256M,64G-:512M" : c.value;
  KK_TRY(parse_crashkernel(value));
  if (!c.host.prefixed() && !find_program("grubby").empty()) {
    KK_TRY(run_ok({"grubby", "--update-kernel=ALL", "--args=crashkernel=" + value}));
    return Outcome{kExitOk, "kdump: crashkernel=" + value + " set with grubby; reboot to apply"};
  }
  std::string grub = c.host.path("/etc/default/grub");
  KK_TRY_ASSIGN(std::string text, read_text_file(grub, 1 << 20));
  Result<std::string> edited = grub_default_set_param(text, "crashkernel", value);
  if (!edited) return std::move(edited).error().context(grub);
  KK_TRY(write_file_atomic(grub, *edited));
  if (chmod(grub.c_str(), 0644) != 0) return sys_error("chmod " + grub);
  if (!c.host.prefixed() && !find_program("update-grub").empty()) KK_TRY(run_ok({"update-grub"}));
  return Outcome{kExitOk, "kdump: crashkernel=" + value + " set in " + grub + "; reboot to apply"};
}

Result<Outcome> cmd_hook_info(Ctl& c) {
  std::string out;
  auto add = [&](std::string_view kind, std::string_view v) { out += std::string(kind) + " " + std::string(v) + "\n"; };
  switch (c.conf.target) {
    case DumpTarget::fs: add("module", c.conf.fs_type == "xfs" ? "xfs" : "ext4"); break;
    case DumpTarget::rootfs: add("module", "ext4"); add("module", "xfs"); break;
    case DumpTarget::nfs: add("module", "nfs"); add("module", "nfsv3"); add("module", "af_packet"); break;
    case DumpTarget::ssh: add("module", "af_packet"); add("bin", "ssh"); break;
    case DumpTarget::raw: break;
  }
  if (c.conf.fs_type == "ext4" || c.conf.target == DumpTarget::rootfs) add("module", "crc32c_generic");
  // The block driver chain of the target device, when this machine can resolve it.
  if (c.conf.target == DumpTarget::fs || c.conf.target == DumpTarget::raw) {
    std::string dev = c.conf.device;
    if (dev.starts_with("UUID=")) dev = "/dev/disk/by-uuid/" + dev.substr(5);
    if (dev.starts_with("LABEL=")) dev = "/dev/disk/by-label/" + dev.substr(6);
    char real[4096];
    if (realpath(c.host.path(dev).c_str(), real)) {
      std::string sys = c.host.path("/sys/class/block/") + std::string(real).substr(std::string(real).rfind('/') + 1);
      char dpath[4096];
      if (realpath(sys.c_str(), dpath)) {
        for (std::string p = dpath; p.size() > 1; p = p.substr(0, p.rfind('/'))) {
          char mod[4096];
          if (realpath((p + "/driver/module").c_str(), mod)) add("module", std::string(mod).substr(std::string(mod).rfind('/') + 1));
        }
      }
    }
  }
  for (const std::string& m : c.conf.extra_modules) add("module", m);
  std::vector<std::string> cw = collector_words(c.conf, has_makedumpfile());
  add("bin", cw.empty() ? "dumpfilter" : cw[0]);
  if (cw.empty() || cw[0] != "dumpfilter") add("bin", "dumpfilter");  // logs and report
  for (const std::string* p : {&c.conf.kdump_pre, &c.conf.kdump_post})
    if (!p->empty()) add("bin", *p);
  for (const std::string& b : c.conf.extra_bins) add("bin", b);
  // The capture kernel's kdumpctl reads it too (keep_dumps, path, the collector's arguments).
  if (c.host.exists(kKdumpToolsPath)) add("file", kKdumpToolsPath);
  if (c.conf.target == DumpTarget::ssh) {
    add("file", c.conf.sshkey);
    add("file", known_hosts_path(c.conf));
  }
  // -x/--config: the files, and libdw, which dumpfilter opens only then (ldd does not see it).
  std::vector<std::string> inputs = collector_input_files(c.conf);
  for (const std::string& f : inputs) add("file", f);
  if (!inputs.empty()) {
    Result<std::string> dw = debuginfo::libdw_path();
    if (!dw) return std::move(dw).error().context("core_collector " + inputs.front());
    add("lib", *dw);
  }
  return Outcome{kExitOk, out.empty() ? out : out.substr(0, out.size() - 1)};
}

}  // namespace kk
