#include "kexec/commands.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>

#include "lib/io/file.h"
#include "lib/io/text_file.h"
#include "kexec/capabilities.h"
#include "kexec/crash_ranges.h"
#include "kexec/load_arm64.h"
#include "kexec/load_x86_64.h"
#include "kexec/syscalls.h"

namespace kk {

namespace {

bool wants_fallback(int err) {
  // kexec_file_load cannot take this image or does not exist: kexec_load may. Signature failures
  // (EKEYREJECTED, ENOKEY, EBADMSG, ...) are answers, not reasons to retry without a signature.
  return err == ENOSYS || err == EINVAL || err == ENOEXEC || err == EOPNOTSUPP;
}

// Turns a failed kexec call into a sentence a person can act on.
Error explain(Error e, bool file_syscall, const SysPaths& paths) {
  std::string why;
  switch (e.sys_errno) {
    case EPERM: {
      std::string lockdown = read_lockdown(paths);
      Result<bool> may = may_boot(paths);
      if (may && !*may) why = "this process lacks CAP_SYS_BOOT";
      else if (!file_syscall && lockdown != "none")
        why = "the kernel is locked down (" + lockdown + ") and refuses kexec_load; use -s "
              "(kexec_file_load) with a signed kernel";
      else why = "not permitted (kernel.kexec_load_disabled set, or a security module refused)";
      break;
    }
    case ENOSYS:
      why = file_syscall ? "this kernel has no kexec_file_load (CONFIG_KEXEC_FILE); try -c"
                         : "this kernel has no kexec_load (CONFIG_KEXEC)";
      break;
    case EKEYREJECTED: case ENOKEY: case EBADMSG: case EMSGSIZE: case ENOPKG: case ELIBBAD:
      why = "the kernel image's signature was not accepted";
      break;
    // The kernel's segment check answers this both for a segment outside the memory it accepts
    // and for one not aligned to ITS page size (a 16K- or 64K-page arm64 kernel).
    case EADDRNOTAVAIL:
      why = "a segment lies outside the memory the kernel accepts or is not aligned to its page size";
      break;
    case EBUSY: why = "a kexec is already in progress"; break;
    case ENOMEM: why = "not enough memory (is the crashkernel= reservation big enough?)"; break;
    default: break;
  }
  if (!why.empty()) e.msg += " (" + why + ")";
  return e;
}

// The loader loads kernels for where it runs.
Result<void> load_classic(const KexecOptions& opt, const std::string& cmdline, const SysPaths& p) {
#if defined(__aarch64__)
  return load_classic_arm64(opt, cmdline, p);
#else
  return load_classic_x86_64(opt, cmdline, p);
#endif
}

Result<void> load_file(const KexecOptions& opt, const std::string& cmdline) {
  Fd kfd(::open(opt.kernel.c_str(), O_RDONLY | O_CLOEXEC));
  if (!kfd.valid()) return sys_error(opt.kernel);
  Fd ifd;
  if (!opt.initrd.empty()) {
    ifd = Fd(::open(opt.initrd.c_str(), O_RDONLY | O_CLOEXEC));
    if (!ifd.valid()) return sys_error(opt.initrd);
  }
  unsigned long flags = (opt.panic ? kKexecFileOnCrash : 0) | (ifd.valid() ? 0 : kKexecFileNoInitramfs);
  return sys_kexec_file_load(kfd.get(), ifd.valid() ? ifd.get() : -1, cmdline, flags);
}

Result<int> do_load(const KexecOptions& opt, const SysPaths& p) {
  std::string proc_cmdline;
  if (opt.reuse_cmdline) {
    KK_TRY_ASSIGN(std::string c, read_text_file(p.at(p.cmdline), 65536));
    proc_cmdline = std::move(c);
  }
  std::string cmdline = compose_cmdline(opt, proc_cmdline);
  if (opt.syscall != SyscallMode::classic) {
    Result<void> r = load_file(opt, cmdline);
    if (r) return 0;
    if (opt.syscall == SyscallMode::file || !wants_fallback(r.error().sys_errno))
      return explain(std::move(r).error(), true, p);
    if (opt.debug) std::fprintf(stderr, "kexec: %s; falling back to kexec_load\n", r.error().msg.c_str());
  }
  Result<void> r = load_classic(opt, cmdline, p);
  if (!r) return explain(std::move(r).error(), false, p);
  return 0;
}

Result<int> do_unload(const KexecOptions& opt, const SysPaths& p) {
  if (opt.syscall != SyscallMode::classic) {
    Result<void> r = sys_kexec_file_load(-1, -1, "", kKexecFileUnload | (opt.panic ? kKexecFileOnCrash : 0));
    if (r) return 0;
    if (opt.syscall == SyscallMode::file || !wants_fallback(r.error().sys_errno))
      return explain(std::move(r).error(), true, p);
  }
  Result<void> r = sys_kexec_unload(kKexecArchNative | (opt.panic ? kKexecOnCrash : 0));
  if (!r) return explain(std::move(r).error(), false, p);
  return 0;
}

Result<int> do_exec(const KexecOptions& opt, const SysPaths& p) {
  Result<bool> loaded = read_loaded(p.at(p.kexec_loaded));
  if (!loaded) return std::move(loaded).error().context("kexec support missing (CONFIG_KEXEC?)");
  if (!*loaded) return make_error(Errc::missing, "no kernel is loaded (load one with kexec -l first)");
  if (!opt.no_sync) ::sync();
  Result<void> r = sys_reboot_kexec();
  return explain(std::move(r).error(), false, p);
}

}  // namespace

Result<int> run_kexec(const KexecOptions& opt, const SysPaths& p) {
  switch (opt.action) {
    case KexecAction::print_ckr_size: {
      KK_TRY_ASSIGN(std::vector<IomemRange> io, read_iomem(p));
      u64 total = 0;
      for (const IomemRange& r : iomem_find(io, "Crash kernel")) total += r.size();
      std::printf("%llu\n", static_cast<unsigned long long>(total));
      return 0;
    }
    case KexecAction::status: {
      // kexec-tools' convention: exit status 1 when loaded, 0 when not.
      const std::string& path = opt.load_given ? p.kexec_loaded : p.kexec_crash_loaded;
      Result<bool> loaded = read_loaded(p.at(path));
      if (!loaded) return std::move(loaded).error().context("kexec support missing (CONFIG_KEXEC?)");
      return *loaded ? 1 : 0;
    }
    case KexecAction::help: case KexecAction::version: return 0;
    default: break;
  }
  if (::access(p.at(p.kexec_loaded).c_str(), F_OK) != 0)
    return make_error(Errc::unsupported, "this kernel has no kexec support (CONFIG_KEXEC is off)");
  switch (opt.action) {
    case KexecAction::load:
    case KexecAction::load_panic: {
      Result<int> r = do_load(opt, p);
      if (!r || !opt.exec_after) return r;
      return do_exec(opt, p);
    }
    case KexecAction::unload: return do_unload(opt, p);
    case KexecAction::exec: return do_exec(opt, p);
    default: return 0;
  }
}

}  // namespace kk
