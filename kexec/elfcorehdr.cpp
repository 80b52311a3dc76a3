#include "kexec/elfcorehdr.h"

#include <cstring>

namespace kk {

namespace {
constexpr u32 kPfR = 4, kPfW = 2, kPfX = 1;

template <class T>
void append(std::vector<std::byte>& out, const T& v) {
  const auto* p = reinterpret_cast<const std::byte*>(&v);
  out.insert(out.end(), p, p + sizeof v);
}
}  // namespace

std::vector<std::byte> build_elfcorehdr(const CrashMemory& mem) {
  std::vector<Elf64Phdr> ph;
  auto note = [&](const NoteBuffer& n) {
    Elf64Phdr p{};
    p.type = kPtNote;
    p.offset = n.paddr;
    p.paddr = n.paddr;
    p.filesz = n.size;
    p.memsz = n.size;
    ph.push_back(p);
  };
  for (const NoteBuffer& n : mem.cpu_notes) note(n);
  if (mem.vmcoreinfo.size) note(mem.vmcoreinfo);
  auto load = [&](u64 vaddr, u64 paddr, u64 size) {
    Elf64Phdr p{};
    p.type = kPtLoad;
    p.flags = kPfR | kPfW | kPfX;
    bool in_backup = mem.backup_src.size() && paddr >= mem.backup_src.start &&
                     paddr + size <= mem.backup_src.end;
    p.offset = in_backup ? mem.backup_dst + (paddr - mem.backup_src.start) : paddr;
    p.vaddr = vaddr;
    p.paddr = paddr;
    p.filesz = size;
    p.memsz = size;
    ph.push_back(p);
  };
  if (mem.kernel_text) load(mem.kernel_text->vaddr, mem.kernel_text->paddr, mem.kernel_text->size);
  for (const PhysRange& r : mem.ram) load(mem.page_offset + r.start, r.start, r.size());

  Elf64Ehdr eh{};
  const u8 ident[16] = {0x7f, 'E', 'L', 'F', 2 /*ELFCLASS64*/, 1 /*LSB*/, 1 /*EV_CURRENT*/};
  std::memcpy(eh.ident.data(), ident, sizeof ident);
  eh.type = kEtCore;
  eh.machine = mem.machine;
  eh.version = 1;
  eh.phoff = sizeof(Elf64Ehdr);
  eh.ehsize = sizeof(Elf64Ehdr);
  eh.phentsize = sizeof(Elf64Phdr);
  eh.phnum = static_cast<u16>(ph.size());

  std::vector<std::byte> out;
  out.reserve(sizeof eh + ph.size() * sizeof(Elf64Phdr));
  append(out, eh);
  for (const Elf64Phdr& p : ph) append(out, p);
  return out;
}

}  // namespace kk
