// commands.h: kexec's actions as passes: gather facts from /proc and /sys, plan (pure), call the
// kernel. Returns the process exit status; errors travel up as values with the reason spelled out.
#pragma once

#include "kexec/cli.h"
#include "kexec/system_info.h"

namespace kk {

Result<int> run_kexec(const KexecOptions& opt, const SysPaths& paths);

}  // namespace kk
