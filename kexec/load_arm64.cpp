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

constexpr size_t kMaxKernelBytes = 512u << 20;
constexpr size_t kMaxInitrdBytes = size_t{4096} << 20;
constexpr size_t kMaxDtbBytes = 2u << 20;

// The facts the capture kernel's ELF core header is made of (the builder is shared with x86_64).
Result<CrashMemory> gather_crash_memory_arm64(const SysPaths& p, const std::vector<IomemRange>& iomem,
                                              const std::vector<PhysRange>& crash) {
  CrashMemory m;
  m.machine = kEmAarch64;
  m.ram = subtract_ranges(system_ram(iomem), crash);
  Result<std::vector<NoteBuffer>> notes = read_crash_notes(p);
  if (!notes) return std::move(notes).error();
  m.cpu_notes = std::move(*notes);
  Result<NoteBuffer> vi = read_vmcoreinfo_location(p);
  if (!vi) return std::move(vi).error();
  m.vmcoreinfo = *vi;
  // p_vaddr of the RAM PT_LOADs and the kernel-image PT_LOAD come from /proc/kcore; readers
  // translate with VMCOREINFO anyway, so without kcore the capture still works: say so.
  Result<KcoreFacts> k = read_kcore_facts(p, KcoreLayout::arm64);
  if (k) {
    m.kernel_text = k->text;
    if (k->page_offset) m.page_offset = *k->page_offset;
  }
  if (!k || !k->page_offset)
    std::fprintf(stderr, "kexec: warning: no linear-map base from /proc/kcore (%s); the ELF core "
                 "header's p_vaddr fields are 0\n", k ? "no RAM segment" : k.error().msg.c_str());
  return m;
}

}  // namespace

Result<void> load_classic_arm64(const KexecOptions& opt, const std::string& cmdline, const SysPaths& p) {
  Result<std::vector<std::byte>> kernel = read_binary_file(opt.kernel, kMaxKernelBytes);
  if (!kernel) return std::move(kernel).error();
  std::vector<std::byte> initrd;
  if (!opt.initrd.empty()) {
    Result<std::vector<std::byte>> r = read_binary_file(opt.initrd, kMaxInitrdBytes);
    if (!r) return std::move(r).error();
    initrd = std::move(*r);
  }
  // The running kernel's device tree (what firmware gave it, /chosen as it was at boot), or --dtb.
  std::string dtb_path = opt.dtb.empty() ? p.at(p.fdt) : opt.dtb;
  Result<std::vector<std::byte>> dtb = read_binary_file(dtb_path, kMaxDtbBytes);
  if (!dtb)
    return std::move(dtb).error().context(opt.dtb.empty() ? "no device tree (give one with --dtb)"
                                                          : "--dtb");
  Result<std::vector<IomemRange>> iomem = read_iomem(p);
  if (!iomem) return std::move(iomem).error();

  Arm64LoadInput in;
  in.kernel = *kernel;
  in.initrd = initrd;
  in.dtb = *dtb;
  in.cmdline = cmdline;
  in.panic = opt.panic;
  if (opt.panic) {
    Result<std::vector<PhysRange>> crash = crash_ranges(*iomem);
    if (!crash) return std::move(crash).error();
    Result<CrashMemory> mem = gather_crash_memory_arm64(p, *iomem, *crash);
    if (!mem) return std::move(mem).error();
    in.elfcorehdr = build_elfcorehdr(*mem);
    in.placement = {crash_segment_range(*crash)};
    in.usable_memory = crash_segment_range(*crash);
  } else {
    in.placement = system_ram(*iomem);
  }
  u64 console = arm64::stdout_pl011(*dtb).value_or(0);
  PurgatoryBuilder purgatory = [&](u64 entry, u64 dtb_addr, const std::vector<Segment>& checked,
                                   Allocator& alloc) -> Result<Segment> {
    PurgatoryRequest req{entry, dtb_addr, console, opt.no_checks, /*allow_above_4g=*/true};
    req.spoil_digest = opt.test_spoil_digest;
    return make_purgatory_segment(purgatory_arm64(), req, checked, alloc);
  };
  Result<Arm64Plan> plan = plan_arm64_load(in, purgatory);
  if (!plan) return std::move(plan).error().context(opt.kernel);
  if (opt.debug) print_segments(plan->plan, plan->cmdline);
  return sys_kexec_load(plan->plan, kKexecArchArm64 | (opt.panic ? kKexecOnCrash : 0));
}

}  // namespace kk
