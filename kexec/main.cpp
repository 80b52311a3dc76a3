// main.cpp: kexec's entry point. Parses, runs one action, prints one line on error.
#include <cstdio>

#include "lib/io/exit_status.h"
#include "kexec/capabilities.h"
#include "kexec/commands.h"
#include "kk_config.h"

int main(int argc, char** argv) {
  using namespace kk;
  std::vector<std::string> args(argv + 1, argv + argc);
  Result<KexecOptions> opt = parse_kexec_cli(args);
  if (!opt) return report_error("kexec", opt.error());
  if (opt->action == KexecAction::help) {
    std::fputs(kexec_usage().c_str(), stdout);
    return 0;
  }
  if (opt->action == KexecAction::version) {
    std::printf("kexec (kdumpkit) %s\n", KK_VERSION);
    return 0;
  }
  const SysPaths paths;
  if (needs_cap_sys_boot(opt->action)) {
    Result<bool> may = may_boot(paths);
    if (!may)
      return report_error("kexec", std::move(may).error().context("cannot tell whether this process holds CAP_SYS_BOOT"));
    if (!*may) {
      std::fprintf(stderr, "kexec: this process lacks CAP_SYS_BOOT, which loading, unloading and "
                           "executing kernels need (run it as root, outside a container that drops it)\n");
      return kExitNoCapSysBoot;
    }
  }
  Result<int> rc = run_kexec(*opt, paths);
  if (!rc) return report_error("kexec", rc.error());
  return *rc;
}
