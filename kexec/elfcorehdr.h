// elfcorehdr.h: the ELF core header a capture kernel turns into /proc/vmcore. It describes the
// crashed kernel's memory: one PT_NOTE per possible CPU (its crash_notes buffer), one for
// VMCOREINFO, one PT_LOAD for the kernel text mapping and one per System RAM range outside the
// crash kernel's reservation. p_offset is the physical address: the capture kernel reads old
// memory from there. Pure: facts in, bytes out.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "lib/elf/elf_core.h"
#include "lib/kernel/iomem.h"

namespace kk {

struct NoteBuffer {
  u64 paddr = 0;
  u64 size = 0;
};

struct KernelText {
  u64 vaddr = 0;
  u64 paddr = 0;
  u64 size = 0;
};

struct CrashMemory {
  u16 machine = kEmX86_64;
  std::vector<PhysRange> ram;         // System RAM minus the crash kernel's ranges
  std::vector<NoteBuffer> cpu_notes;  // per possible CPU
  NoteBuffer vmcoreinfo;
  std::optional<KernelText> kernel_text;
  u64 page_offset = 0;                // direct-map base, for the RAM PT_LOADs' p_vaddr
  // x86_64 kexec_load: low memory the purgatory copies into the reservation just before the
  // capture kernel (which boots through it) reuses it. RAM PT_LOADs inside backup_src read the
  // copy at backup_dst instead (kexec-tools' layout). Empty: no copy, every p_offset = p_paddr.
  PhysRange backup_src;
  u64 backup_dst = 0;
  // What had to be assumed and why (no direct-map base from /proc/kcore): the loader's warnings,
  // printed by the load frame with its own.
  std::vector<std::string> warnings;
};

// One kexec segment holds it; the capture kernel finds it through elfcorehdr=.
std::vector<std::byte> build_elfcorehdr(const CrashMemory& mem);

}  // namespace kk
