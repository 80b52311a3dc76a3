#include "kexec/load_frame.h"

#include <cstdio>

#include "kexec/purgatory_image.h"
#include "kexec/syscalls.h"

namespace kk {

Result<void> classic_load(const KexecOptions& opt, unsigned long kexec_arch, const ArchPlanStep& plan) {
  KK_TRY_ASSIGN(LoadFiles files, read_load_files(opt.kernel, opt.initrd));
  KK_TRY_ASSIGN(PlannedLoad load, plan(files));
  for (const std::string& w : load.warnings) std::fprintf(stderr, "kexec: warning: %s\n", w.c_str());
  if (opt.debug) print_segments(load.plan, load.cmdline);
  return sys_kexec_load(load.plan, kexec_arch | (opt.panic ? kKexecOnCrash : 0));
}

PurgatoryBuilder purgatory_builder(std::span<const unsigned char> blob, u64 console_port,
                                   const KexecOptions& opt) {
  return [blob, console_port, &opt](u64 entry, u64 arg, const BackupCopy& backup,
                                    const std::vector<Segment>& checked, Allocator& alloc) -> Result<Segment> {
    PurgatoryRequest req{entry, arg, console_port, opt.no_checks, /*allow_above_4g=*/true};
    req.spoil_digest = opt.test_spoil_digest;
    req.backup = backup;
    Result<Segment> seg = make_purgatory_segment(blob, req, checked, alloc);
    if (seg && opt.debug) print_purgatory_digest(*seg, checked, opt.test_spoil_digest);
    return seg;
  };
}

}  // namespace kk
