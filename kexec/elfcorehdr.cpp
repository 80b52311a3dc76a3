#include "kexec/elfcorehdr.h"

#include "lib/elf/elf_core_build.h"

namespace kk {

std::vector<std::byte> build_elfcorehdr(const CrashMemory& mem) {
  std::vector<Elf64Phdr> ph;
  // p_offset of a note is its physical address: the capture kernel reads old memory there.
  for (const NoteBuffer& n : mem.cpu_notes) ph.push_back(core_note_phdr(n.paddr, n.paddr, n.size));
  if (mem.vmcoreinfo.size)
    ph.push_back(core_note_phdr(mem.vmcoreinfo.paddr, mem.vmcoreinfo.paddr, mem.vmcoreinfo.size));
  auto load = [&](u64 vaddr, u64 paddr, u64 size) {
    bool in_backup = mem.backup_src.size() && paddr >= mem.backup_src.start &&
                     paddr + size <= mem.backup_src.end;
    u64 offset = in_backup ? mem.backup_dst + (paddr - mem.backup_src.start) : paddr;
    ph.push_back(core_load_phdr({offset, vaddr, paddr, size, size}));
  };
  if (mem.kernel_text) load(mem.kernel_text->vaddr, mem.kernel_text->paddr, mem.kernel_text->size);
  for (const PhysRange& r : mem.ram) load(mem.page_offset + r.start, r.start, r.size());
  return core_header_bytes(mem.machine, ph);
}

}  // namespace kk
