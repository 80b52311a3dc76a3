// cli.h: kexec's command line, as kexec-tools spells it (the options kdump-utils' kdumpctl and
// Debian's kdump-config pass). The table is data; unsupported options say so and exit 2.
#pragma once

#include <string>
#include <vector>

#include "lib/io/result.h"

namespace kk {

enum class KexecAction { load, load_panic, exec, unload, status, print_ckr_size, help, version };
enum class SyscallMode { auto_, file, classic };

struct KexecOptions {
  KexecAction action = KexecAction::load;
  bool panic = false;          // -p given (with -u/-S it names the crash kernel)
  bool load_given = false;     // -l given
  bool exec_after = false;     // -f: load and exec at once
  SyscallMode syscall = SyscallMode::auto_;
  std::string kernel;
  std::string initrd;
  std::string dtb;             // arm64 --dtb: device tree to edit (default: /sys/firmware/fdt)
  std::string append;
  bool append_given = false;
  bool reuse_cmdline = false;
  std::string type;            // --type: only bzImage on x86_64
  bool debug = false;
  bool no_sync = false;
  bool no_checks = false;      // -i: purgatory skips the SHA-256 check
  // --test-spoil-digest (testing aid, -c loads only): flip one bit of the digest handed to the
  // purgatory after computing it, so the purgatory's check fails and it refuses to boot. Proves
  // the refusal path on a real kexec -e / panic (tests/qemu/kexec-boot.sh --spoil).
  bool test_spoil_digest = false;
};

Result<KexecOptions> parse_kexec_cli(const std::vector<std::string>& args);
std::string kexec_usage();

// Removes every "name=..." (or bare "name") word from a kernel command line.
std::string remove_cmdline_param(const std::string& cmdline, std::string_view name);

// The command line the new kernel gets: --reuse-cmdline's /proc/cmdline (minus BOOT_IMAGE, and
// crashkernel= for a crash kernel) followed by --append.
std::string compose_cmdline(const KexecOptions& opt, const std::string& proc_cmdline);

}  // namespace kk
