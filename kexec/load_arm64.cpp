#include "kexec/load_arm64.h"

#include <unistd.h>

#include "arch/arm64/dtb.h"
#include "lib/io/text_file.h"
#include "kexec/crash_ranges.h"
#include "kexec/load_frame.h"
#include "kexec/plan_arm64.h"
#include "kexec/syscalls.h"
#include "purgatory/include/purgatory_blob.h"

namespace kk {

namespace {

constexpr size_t kMaxDtbBytes = 2u << 20;

// The running kernel's device tree (what firmware gave it, /chosen as it was at boot), or --dtb.
Result<std::vector<std::byte>> read_dtb(const KexecOptions& opt, const SysPaths& p) {
  std::string path = opt.dtb.empty() ? p.at(p.fdt) : opt.dtb;
  Result<std::vector<std::byte>> dtb = read_binary_file(path, kMaxDtbBytes);
  if (!dtb)
    return std::move(dtb).error().context(opt.dtb.empty() ? "no device tree (give one with --dtb)" : "--dtb");
  return dtb;
}

// -p: the ELF core header and the capture kernel's memory, from the crash reservation; what
// had to be assumed goes into `warnings`.
Result<void> add_crash_facts(Arm64LoadInput& in, const std::vector<IomemRange>& iomem, const SysPaths& p,
                             std::vector<std::string>& warnings) {
  KK_TRY_ASSIGN(std::vector<PhysRange> crash, crash_ranges(iomem));
  // p_vaddr of the RAM PT_LOADs from kcore's linear map; readers translate with VMCOREINFO.
  KK_TRY_ASSIGN(CrashMemory mem, read_crash_memory(p, kEmAarch64, subtract_ranges(system_ram(iomem), crash),
                                                   KcoreLayout::arm64, 0));
  warnings.insert(warnings.end(), mem.warnings.begin(), mem.warnings.end());
  in.elfcorehdr = build_elfcorehdr(mem);
  in.placement = {crash_segment_range(crash)};
  in.usable_memory = crash_segment_range(crash);
  return {};
}

Result<PlannedLoad> plan_arm64(const KexecOptions& opt, const std::string& cmdline, const SysPaths& p,
                               const LoadFiles& files) {
  Result<std::vector<std::byte>> dtb = read_dtb(opt, p);
  if (!dtb) return std::move(dtb).error();
  KK_TRY_ASSIGN(std::vector<IomemRange> iomem, read_iomem(p));
  Arm64LoadInput in;
  in.kernel = files.kernel;
  in.initrd = files.initrd;
  in.dtb = *dtb;
  in.cmdline = cmdline;
  in.panic = opt.panic;
  in.page_size = static_cast<u64>(sysconf(_SC_PAGESIZE));
  std::vector<std::string> warnings;
  if (opt.panic) KK_TRY(add_crash_facts(in, iomem, p, warnings));
  else in.placement = system_ram(iomem);
  u64 console = arm64::stdout_pl011(*dtb).value_or(0);
  Result<Arm64Plan> plan = plan_arm64_load(in, purgatory_builder(purgatory_arm64(), console, opt));
  if (!plan) return std::move(plan).error().context(opt.kernel);
  return PlannedLoad{std::move(plan->plan), std::move(plan->cmdline), std::move(warnings)};
}

}  // namespace

Result<void> load_classic_arm64(const KexecOptions& opt, const std::string& cmdline, const SysPaths& p) {
  return classic_load(opt, kKexecArchArm64,
                      [&](const LoadFiles& files) { return plan_arm64(opt, cmdline, p, files); });
}

}  // namespace kk
