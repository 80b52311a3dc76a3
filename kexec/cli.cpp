#include "kexec/cli.h"

#include <array>

#include "lib/cli/argparse.h"

namespace kk {

namespace {

enum class Opt {
  help, version, debug, force, no_checks, no_ifdown, no_sync, load, unload, exec, load_panic,
  file_syscall, classic_syscall, auto_syscall, status, type, dtb, initrd, append, reuse_cmdline,
  print_ckr_size, mem_bound, elf64_headers, test_spoil_digest, later,
};

constexpr std::array<OptionSpec, 44> kOptions{{
    {'h', "help", false, int(Opt::help)},
    {'?', "", false, int(Opt::help)},
    {'v', "version", false, int(Opt::version)},
    {'d', "debug", false, int(Opt::debug)},
    {'f', "force", false, int(Opt::force)},
    {'i', "no-checks", false, int(Opt::no_checks)},
    {'x', "no-ifdown", false, int(Opt::no_ifdown)},
    {'y', "no-sync", false, int(Opt::no_sync)},
    {'l', "load", false, int(Opt::load)},
    {'u', "unload", false, int(Opt::unload)},
    {'e', "exec", false, int(Opt::exec)},
    {'p', "load-panic", false, int(Opt::load_panic)},
    {'s', "kexec-file-syscall", false, int(Opt::file_syscall)},
    {'c', "kexec-syscall", false, int(Opt::classic_syscall)},
    {'a', "kexec-syscall-auto", false, int(Opt::auto_syscall)},
    {'S', "status", false, int(Opt::status)},
    {'t', "type", true, int(Opt::type)},
    {0, "initrd", true, int(Opt::initrd)},
    {0, "ramdisk", true, int(Opt::initrd)},
    {0, "append", true, int(Opt::append)},
    {0, "command-line", true, int(Opt::append)},
    {0, "reuse-cmdline", false, int(Opt::reuse_cmdline)},
    {0, "print-ckr-size", false, int(Opt::print_ckr_size)},
    {0, "mem-min", true, int(Opt::mem_bound)},
    {0, "mem-max", true, int(Opt::mem_bound)},
    {0, "elf64-core-headers", false, int(Opt::elf64_headers)},
    // Ours, a testing aid: the purgatory must refuse a load whose digest does not match.
    {0, "test-spoil-digest", false, int(Opt::test_spoil_digest)},
    // kexec-tools options this loader does not offer (yet).
    {0, "elf32-core-headers", false, int(Opt::later)},
    {0, "reuseinitrd", false, int(Opt::later)},
    {0, "load-preserve-context", false, int(Opt::later)},
    {0, "load-jump-back-helper", false, int(Opt::later)},
    {0, "entry", true, int(Opt::later)},
    {0, "load-live-update", false, int(Opt::later)},
    {0, "exec-live-update", false, int(Opt::later)},
    {0, "hotplug", false, int(Opt::later)},
    {0, "no-cma", false, int(Opt::later)},
    {0, "force-dtb", false, int(Opt::later)},
    {0, "dtb", true, int(Opt::dtb)},  // arm64: device tree to edit instead of /sys/firmware/fdt
    {0, "reset-vga", false, int(Opt::later)},
    {0, "serial", true, int(Opt::later)},
    {0, "serial-baud", true, int(Opt::later)},
    {0, "console-serial", false, int(Opt::later)},
    {0, "pass-memmap-cmdline", false, int(Opt::later)},
    {0, "noefi", false, int(Opt::later)},
}};

}  // namespace

Result<KexecOptions> parse_kexec_cli(const std::vector<std::string>& args) {
  KK_TRY_ASSIGN(ParsedArgs parsed, parse_args(kOptions, args));
  KexecOptions k;
  bool exec = false, unload = false, status = false, ckr = false, help = false, version = false;
  for (const ParsedOption& o : parsed.options) {
    switch (static_cast<Opt>(o.spec->id)) {
      case Opt::help: help = true; break;
      case Opt::version: version = true; break;
      case Opt::debug: k.debug = true; break;
      case Opt::force: k.exec_after = true; k.load_given = true; break;
      case Opt::no_checks: k.no_checks = true; break;
      case Opt::no_ifdown: break;  // we never take interfaces down: nothing to skip
      case Opt::no_sync: k.no_sync = true; break;
      case Opt::load: k.load_given = true; break;
      case Opt::unload: unload = true; break;
      case Opt::exec: exec = true; break;
      case Opt::load_panic: k.panic = true; break;
      case Opt::file_syscall: k.syscall = SyscallMode::file; break;
      case Opt::classic_syscall: k.syscall = SyscallMode::classic; break;
      case Opt::auto_syscall: k.syscall = SyscallMode::auto_; break;
      case Opt::status: status = true; break;
      case Opt::type:
        if (o.value != "bzImage" && o.value != "bzImage64")
          return make_error(Errc::usage, "--type=" + o.value + ": only bzImage kernels are supported");
        k.type = o.value;
        break;
      case Opt::initrd: k.initrd = o.value; break;
      case Opt::dtb: k.dtb = o.value; break;
      case Opt::append:
        k.append += (k.append.empty() ? "" : " ") + o.value;
        k.append_given = true;
        break;
      case Opt::reuse_cmdline: k.reuse_cmdline = true; break;
      case Opt::print_ckr_size: ckr = true; break;
      case Opt::mem_bound: break;  // accepted: placement stays within RAM / the crash range anyway
      case Opt::elf64_headers: break;  // what we always build
      case Opt::test_spoil_digest: k.test_spoil_digest = true; break;
      case Opt::later: return make_error(Errc::usage, "not supported yet: " + o.spelled);
    }
  }
  if (help) { k.action = KexecAction::help; return k; }
  if (version) { k.action = KexecAction::version; return k; }
  if (ckr) { k.action = KexecAction::print_ckr_size; return k; }
  if (status) k.action = KexecAction::status;
  else if (unload) k.action = KexecAction::unload;
  else if (exec && !k.load_given && !k.panic) k.action = KexecAction::exec;
  else if (k.panic) k.action = KexecAction::load_panic;
  else k.action = KexecAction::load;
  if (exec && (k.load_given || k.panic)) {
    if (k.panic) return make_error(Errc::usage, "-e cannot run a crash kernel (-p); it runs on panic");
    k.exec_after = true;
  }
  bool loading = k.action == KexecAction::load || k.action == KexecAction::load_panic;
  // --test-spoil-digest only means something where our purgatory runs: a -c load that checks.
  // kexec_file_load (-s, and -a when it succeeds) brings the kernel's own purgatory, so there it
  // would silently test nothing: refuse rather than pretend.
  if (k.test_spoil_digest) {
    if (!loading)
      return make_error(Errc::usage, "--test-spoil-digest goes with a load (-l or -p)");
    if (k.syscall != SyscallMode::classic)
      return make_error(Errc::usage, "--test-spoil-digest needs -c (only kexec_load runs kdumpkit's purgatory)");
    if (k.no_checks)
      return make_error(Errc::usage, "--test-spoil-digest with -i tests nothing (the purgatory skips the check)");
  }
  if (loading) {
    if (parsed.positional.size() != 1)
      return make_error(Errc::usage, parsed.positional.empty() ? "no kernel image given"
                                                                : "more than one kernel image given");
    k.kernel = parsed.positional[0];
  } else if (!parsed.positional.empty()) {
    return make_error(Errc::usage, "unexpected argument '" + parsed.positional[0] + "'");
  }
  return k;
}

std::string remove_cmdline_param(const std::string& cmdline, std::string_view name) {
  std::string out;
  size_t i = 0;
  while (i < cmdline.size()) {
    while (i < cmdline.size() && cmdline[i] == ' ') ++i;
    size_t start = i;
    bool quoted = false;
    while (i < cmdline.size() && (quoted || cmdline[i] != ' ')) {
      if (cmdline[i] == '"') quoted = !quoted;
      ++i;
    }
    std::string_view word(cmdline.data() + start, i - start);
    if (word.empty()) continue;
    std::string_view key = word.substr(0, word.find('='));
    if (key == name) continue;
    if (!out.empty()) out += ' ';
    out += word;
  }
  return out;
}

std::string kexec_usage() {
  return "usage: kexec [-l|-p] [-s|-c|-a] [--initrd=FILE] [--append=STR] [--reuse-cmdline] KERNEL\n"
         "       kexec -e | -u [-p] | -S [-p|-l] | --print-ckr-size\n"
         "\n"
         "  -l, --load              load KERNEL to boot with -e\n"
         "  -p, --load-panic        load KERNEL as the crash (kdump) kernel\n"
         "  -e, --exec              reboot into the loaded kernel now\n"
         "  -f, --force             load and reboot into it at once\n"
         "  -u, --unload            unload (with -p: the crash kernel)\n"
         "  -S, --status            exit 1 if a kernel is loaded (crash kernel unless -l), 0 if not\n"
         "  -s                      kexec_file_load only (signed images, lockdown)\n"
         "  -c                      kexec_load only, with kdumpkit's purgatory\n"
         "  -a                      kexec_file_load, falling back to kexec_load (default)\n"
         "  --initrd=FILE           initramfs (alias --ramdisk)\n"
         "  --dtb=FILE              arm64: device tree to pass (default /sys/firmware/fdt)\n"
         "  --append=STR            kernel command line (alias --command-line)\n"
         "  --reuse-cmdline         start from /proc/cmdline (minus crashkernel= for -p)\n"
         "  -t, --type=bzImage      image type (bzImage is the only one on x86_64)\n"
         "  -i, --no-checks         purgatory skips the SHA-256 check\n"
         "  -y, --no-sync           do not sync filesystems before -e\n"
         "  --test-spoil-digest     testing aid (-c loads only): flip one bit of the digest the\n"
         "                          purgatory checks, so it must refuse to boot the kernel\n"
         "  --print-ckr-size        print the size of the crash kernel reservation\n"
         "  -d, --debug             print the segment plan\n"
         "  -h, --help   -v, --version\n";
}

std::string compose_cmdline(const KexecOptions& opt, const std::string& proc_cmdline) {
  auto trim_end = [](std::string& s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  };
  std::string cmdline;
  if (opt.reuse_cmdline) {
    cmdline = remove_cmdline_param(proc_cmdline, "BOOT_IMAGE");
    if (opt.panic) cmdline = remove_cmdline_param(cmdline, "crashkernel");
    trim_end(cmdline);  // /proc/cmdline's final '\n' must not end up before --append's words
  }
  if (opt.append_given && !opt.append.empty()) cmdline += (cmdline.empty() ? "" : " ") + opt.append;
  trim_end(cmdline);
  return cmdline;
}

}  // namespace kk
