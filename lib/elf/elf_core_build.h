// elf_core_build.h: the headers of an ELF64 little-endian core file, as kexec's elfcorehdr and
// dumpfilter -E write them. One place for the identity, the counts and the PN_XNUM rule, so the
// two writers cannot drift apart. Pure: values in, headers (or bytes) out.
#pragma once

#include <span>
#include <vector>

#include "lib/elf/elf_core.h"

namespace kk {

inline constexpr u32 kPfRwx = 7;  // PF_R | PF_W | PF_X: what kernels put on vmcore PT_LOADs

// The ELF header of a core with `phnum` program headers at `phoff`. With phnum >= PN_XNUM the
// count cannot go in e_phnum: it says PN_XNUM and the real count goes in section header 0 at
// `shoff` (ELF's extended numbering; the caller writes that header).
Elf64Ehdr core_ehdr(u16 machine, u64 phnum, u64 phoff, u64 shoff = 0, u32 flags = 0);

// A PT_NOTE over [offset, offset + size) of the file; paddr as the producer knows it (0: none).
Elf64Phdr core_note_phdr(u64 offset, u64 paddr, u64 size);

// A PT_LOAD for `s`, RWX.
Elf64Phdr core_load_phdr(const LoadSegment& s);

// A whole header block: the ELF header, then `phdrs` right after it (e_phoff = 64), then
// section header 0 when there are PN_XNUM or more.
std::vector<std::byte> core_header_bytes(u16 machine, std::span<const Elf64Phdr> phdrs);

}  // namespace kk
