#include "lib/elf/elf_core_build.h"

#include <cstring>

namespace kk {

Elf64Ehdr core_ehdr(u16 machine, u64 phnum, u64 phoff, u64 shoff, u32 flags) {
  Elf64Ehdr e{};
  const u8 ident[16] = {0x7f, 'E', 'L', 'F', 2 /*ELFCLASS64*/, 1 /*LSB*/, 1 /*EV_CURRENT*/};
  std::memcpy(e.ident.data(), ident, sizeof ident);
  e.type = kEtCore;
  e.machine = machine;
  e.version = 1;
  e.phoff = phoff;
  e.flags = flags;
  e.ehsize = sizeof(Elf64Ehdr);
  e.phentsize = sizeof(Elf64Phdr);
  if (phnum >= kPnXnum) {
    e.phnum = kPnXnum;
    e.shoff = shoff;
    e.shentsize = sizeof(Elf64Shdr);
    e.shnum = 1;
  } else {
    e.phnum = static_cast<u16>(phnum);
  }
  return e;
}

Elf64Phdr core_note_phdr(u64 offset, u64 paddr, u64 size) {
  Elf64Phdr p{};
  p.type = kPtNote;
  p.offset = offset;
  p.paddr = paddr;
  p.filesz = size;
  p.memsz = size;
  return p;
}

Elf64Phdr core_load_phdr(const LoadSegment& s) {
  Elf64Phdr p{};
  p.type = kPtLoad;
  p.flags = kPfRwx;
  p.offset = s.offset;
  p.vaddr = s.vaddr;
  p.paddr = s.paddr;
  p.filesz = s.filesz;
  p.memsz = s.memsz;
  return p;
}

std::vector<std::byte> core_header_bytes(u16 machine, std::span<const Elf64Phdr> phdrs) {
  const u64 shoff = sizeof(Elf64Ehdr) + phdrs.size_bytes();
  const bool xnum = phdrs.size() >= kPnXnum;
  Elf64Ehdr eh = core_ehdr(machine, phdrs.size(), sizeof(Elf64Ehdr), shoff);
  std::vector<std::byte> out(shoff + (xnum ? sizeof(Elf64Shdr) : 0));
  std::memcpy(out.data(), &eh, sizeof eh);
  if (!phdrs.empty()) std::memcpy(out.data() + sizeof eh, phdrs.data(), phdrs.size_bytes());
  if (xnum) {
    Elf64Shdr sh{};
    sh.info = static_cast<u32>(phdrs.size());
    std::memcpy(out.data() + shoff, &sh, sizeof sh);
  }
  return out;
}

}  // namespace kk
