// main.cpp: kexec's entry point. Parses, runs one action, prints one line on error.
#include <cstdio>

#include "kexec/capabilities.h"
#include "kexec/commands.h"
#include "kk_config.h"

int main(int argc, char** argv) {
  using namespace kk;
  std::vector<std::string> args(argv + 1, argv + argc);
  Result<KexecOptions> opt = parse_kexec_cli(args);
  if (!opt) {
    const Error& e = opt.error();
    std::fprintf(stderr, "kexec: %s%s\n", e.msg.c_str(), e.code == Errc::usage ? " (see kexec --help)" : "");
    return 2;
  }
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
    if (!may) {
      std::fprintf(stderr, "kexec: cannot tell whether this process holds CAP_SYS_BOOT: %s\n",
                   may.error().msg.c_str());
      return 1;
    }
    if (!*may) {
      std::fprintf(stderr, "kexec: this process lacks CAP_SYS_BOOT, which loading, unloading and "
                           "executing kernels need (run it as root, outside a container that drops it)\n");
      return kExitNoCapSysBoot;
    }
  }
  Result<int> rc = run_kexec(*opt, paths);
  if (!rc) {
    std::fprintf(stderr, "kexec: %s\n", rc.error().msg.c_str());
    return rc.error().code == Errc::usage || rc.error().code == Errc::unsupported ? 2 : 1;
  }
  return *rc;
}
