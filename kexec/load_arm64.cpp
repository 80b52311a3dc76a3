#include "kexec/load_arm64.h"

#include <cstdio>

#include "arch/arm64/dtb.h"
#include "io/text_file.h"
#include "kexec/crash_ranges.h"
#include "kexec/plan_arm64.h"
#include "kexec/purgatory_image.h"
#include "kexec/syscalls.h"
#include "purgatory_blob.h"

namespace kk {

namespace {

constexpr size_t kMaxDtbBytes = 2u << 20;

}  // namespace

Result<void> load_classic_arm64(const KexecOptions& opt, const std::string& cmdline, const SysPaths& p) {
  Result<LoadFiles> files = read_load_files(opt.kernel, opt.initrd);
  if (!files) return std::move(files).error();
  // The running kernel's device tree (what firmware gave it, /chosen as it was at boot), or --dtb.
  std::string dtb_path = opt.dtb.empty() ? p.at(p.fdt) : opt.dtb;
  Result<std::vector<std::byte>> dtb = read_binary_file(dtb_path, kMaxDtbBytes);
  if (!dtb)
    return std::move(dtb).error().context(opt.dtb.empty() ? "no device tree (give one with --dtb)"
                                                          : "--dtb");
  Result<std::vector<IomemRange>> iomem = read_iomem(p);
  if (!iomem) return std::move(iomem).error();

  Arm64LoadInput in;
  in.kernel = files->kernel;
  in.initrd = files->initrd;
  in.dtb = *dtb;
  in.cmdline = cmdline;
  in.panic = opt.panic;
  if (opt.panic) {
    Result<std::vector<PhysRange>> crash = crash_ranges(*iomem);
    if (!crash) return std::move(crash).error();
    // p_vaddr of the RAM PT_LOADs from kcore's linear map; readers translate with VMCOREINFO.
    Result<CrashMemory> mem = read_crash_memory(p, kEmAarch64, subtract_ranges(system_ram(*iomem), *crash),
                                                KcoreLayout::arm64, 0);
    if (!mem) return std::move(mem).error();
    in.elfcorehdr = build_elfcorehdr(*mem);
    in.placement = {crash_segment_range(*crash)};
    in.usable_memory = crash_segment_range(*crash);
  } else {
    in.placement = system_ram(*iomem);
  }
  u64 console = arm64::stdout_pl011(*dtb).value_or(0);
  PurgatoryBuilder purgatory = [&](u64 entry, u64 dtb_addr, const BackupCopy&, const std::vector<Segment>& checked,
                                   Allocator& alloc) -> Result<Segment> {
    PurgatoryRequest req{entry, dtb_addr, console, opt.no_checks, /*allow_above_4g=*/true};
    req.spoil_digest = opt.test_spoil_digest;
    Result<Segment> seg = make_purgatory_segment(purgatory_arm64(), req, checked, alloc);
    if (seg && opt.debug) print_purgatory_digest(*seg, checked, opt.test_spoil_digest);
    return seg;
  };
  Result<Arm64Plan> plan = plan_arm64_load(in, purgatory);
  if (!plan) return std::move(plan).error().context(opt.kernel);
  if (opt.debug) print_segments(plan->plan, plan->cmdline);
  return sys_kexec_load(plan->plan, kKexecArchArm64 | (opt.panic ? kKexecOnCrash : 0));
}

}  // namespace kk
