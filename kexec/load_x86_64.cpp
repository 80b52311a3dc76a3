#include "kexec/load_x86_64.h"

#include "kexec/crash_x86_64.h"
#include "kexec/load_frame.h"
#include "kexec/plan_x86_64.h"
#include "kexec/syscalls.h"
#include "purgatory/include/purgatory_blob.h"

namespace kk {

namespace {

constexpr u64 kLowMemEnd = 1ull << 20;
constexpr u64 kDefaultPageOffset = 0xffff888000000000ull;  // x86_64 direct map without KASLR
constexpr u64 kConsolePort = 0x3f8;

// -p: the crash memory facts, the reservation to place into and the capture kernel's map.
Result<void> add_crash_facts(X86LoadInput& in, const std::vector<IomemRange>& iomem, const SysPaths& p,
                             std::vector<std::string>& warnings) {
  Result<std::vector<PhysRange>> crash = crash_ranges(iomem);
  if (!crash) return std::move(crash).error();
  KK_TRY_ASSIGN(CrashMemory mem, gather_crash_memory(p, iomem, *crash));
  warnings.insert(warnings.end(), mem.warnings.begin(), mem.warnings.end());
  in.crash = std::move(mem);
  in.placement = {crash_segment_range(*crash)};
  in.e820 = capture_memory_map(iomem, *crash);
  return {};
}

Result<PlannedLoad> plan_x86_64(const KexecOptions& opt, const std::string& cmdline, const SysPaths& p,
                                const LoadFiles& files) {
  KK_TRY_ASSIGN(std::vector<IomemRange> iomem, read_iomem(p));
  KK_TRY_ASSIGN(std::vector<x86_64::E820Entry> firmware, read_firmware_map(p));
  X86LoadInput in;
  in.kernel = files.kernel;
  in.initrd = files.initrd;
  in.cmdline = cmdline;
  in.panic = opt.panic;
  in.acpi_rsdp = read_acpi_rsdp(p);
  std::vector<std::string> warnings;
  if (std::optional<std::string> w = add_efi_facts(in, p)) warnings.push_back(std::move(*w));
  if (opt.panic) {
    KK_TRY(add_crash_facts(in, iomem, p, warnings));
  } else {
    in.placement = subtract_ranges(system_ram(iomem), {{0, kLowMemEnd}});
    in.e820 = firmware;
  }
  Result<X86Plan> plan = plan_x86_64_load(in, purgatory_builder(purgatory_x86_64(), kConsolePort, opt));
  if (!plan) return std::move(plan).error().context(opt.kernel);
  warnings.insert(warnings.end(), plan->warnings.begin(), plan->warnings.end());
  return PlannedLoad{std::move(plan->plan), std::move(plan->cmdline), std::move(warnings)};
}

}  // namespace

std::optional<std::string> add_efi_facts(X86LoadInput& in, const SysPaths& p) {
  Result<std::optional<x86_64::EfiFirmware>> efi = read_efi_firmware(p);
  if (!efi) return "EFI: " + efi.error().msg + "; the kernel boots without EFI runtime services";
  in.efi = std::move(*efi);
  return std::nullopt;
}

Result<CrashMemory> gather_crash_memory(const SysPaths& p, const std::vector<IomemRange>& iomem,
                                        const std::vector<PhysRange>& crash) {
  // The capture kernel boots through the low memory too (capture_memory_map gives it that RAM):
  // the purgatory saves the first 640 KiB into the reservation first, and the header reads the
  // copy, as with kexec-tools' kexec_load (kexec_file_load leaves the low 1 MiB out instead).
  Result<CrashMemory> m = read_crash_memory(p, kEmX86_64, subtract_ranges(system_ram(iomem), crash),
                                            KcoreLayout::x86_64, kDefaultPageOffset);
  if (!m) return m;
  m->backup_src = x86_backup_source(iomem);
  return m;
}

Result<void> load_classic_x86_64(const KexecOptions& opt, const std::string& cmdline, const SysPaths& p) {
  return classic_load(opt, kKexecArchX86_64,
                      [&](const LoadFiles& files) { return plan_x86_64(opt, cmdline, p, files); });
}

}  // namespace kk
