// plan_x86_64.h: turns a bzImage, an initrd and a command line into kexec segments for x86_64:
// kernel, initrd, boot_params + command line, (for -p) the ELF core header, and the purgatory
// that checks them and enters the kernel. Pure: memory facts in, a plan out.
#pragma once

#include <functional>

#include "arch/x86_64/boot_params.h"
#include "kexec/elfcorehdr.h"
#include "kexec/purgatory_image.h"
#include "kexec/segments.h"

namespace kk {

struct X86LoadInput {
  std::span<const std::byte> kernel;  // the bzImage file
  std::span<const std::byte> initrd;  // empty: none
  std::string cmdline;
  bool panic = false;
  std::vector<PhysRange> placement;  // where segments may go: RAM for -l, the crash range(s) for -p
  std::vector<x86_64::E820Entry> e820;  // the new kernel's memory map (for -p before the cuts below)
  // -p only: what the ELF core header describes. When its backup_src is not empty, a backup
  // segment is planned in the reservation, the purgatory copies backup_src there before the jump
  // and the header points at the copy. Backup and header are cut out of the map; elfcorehdr=
  // names the header.
  std::optional<CrashMemory> crash;
  u64 acpi_rsdp = 0;
  // The first kernel booted through EFI: pass its runtime map and tables on (SETUP_EFI) when the
  // image says it takes them (XLF_EFI_KEXEC), so the next kernel keeps EFI runtime services.
  std::optional<x86_64::EfiFirmware> efi;
};

struct X86Plan {
  SegmentPlan plan;
  u64 kernel_addr = 0;
  u64 boot_params_addr = 0;
  u64 elfcorehdr_addr = 0;
  BackupCopy backup;    // -p: what the purgatory copies before the jump (len 0: nothing)
  std::string cmdline;  // as the new kernel will see it
  bool efi_passed = false;            // SETUP_EFI and the runtime map went to the new kernel
  std::vector<std::string> warnings;  // what was left out and why, for the user
};

// The kernel and initrd segments view in.kernel and in.initrd (no copies): their bytes must stay
// alive until the plan is loaded.
Result<X86Plan> plan_x86_64_load(const X86LoadInput& in, const PurgatoryBuilder& purgatory);

// The memory map of a capture kernel: RAM only in `usable` (crash ranges, low memory), every
// non-RAM firmware range kept with its type; the elfcorehdr range is left out of RAM.
std::vector<x86_64::E820Entry> cut_from_ram(std::vector<x86_64::E820Entry> map, PhysRange hole);

}  // namespace kk
