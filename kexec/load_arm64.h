// load_arm64.h: kexec_load of an arm64 kernel with kdumpkit's purgatory (-c, and -a when
// kexec_file_load is missing, as on Debian's arm64 kernels): reads the files and the machine's
// facts (/proc/iomem, /sys/firmware/fdt or --dtb; for -p crash_notes, vmcoreinfo, /proc/kcore),
// plans with plan_arm64 and loads through the frame in load_frame.h, as load_x86_64.h does on
// x86_64.
#pragma once

#include <string>

#include "kexec/cli.h"
#include "kexec/system_info.h"

namespace kk {

Result<void> load_classic_arm64(const KexecOptions& opt, const std::string& cmdline, const SysPaths& p);

}  // namespace kk
