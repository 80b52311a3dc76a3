// elf_core.h: ELF64 core files as /proc/vmcore, kexec's elfcorehdr and QEMU's dump-guest-memory
// present them: the PT_LOAD map of physical memory and the notes (NT_PRSTATUS per CPU, VMCOREINFO).
// Parsing is pure (bytes in, structure out); the caller reads the bytes.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "lib/io/result.h"
#include "lib/io/types.h"

namespace kk {

// On-disk layouts (little-endian; we only read ELFDATA2LSB cores).
struct Elf64Ehdr {
  std::array<u8, 16> ident;
  ul16 type, machine;
  ul32 version;
  ul64 entry, phoff, shoff;
  ul32 flags;
  ul16 ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};
static_assert(sizeof(Elf64Ehdr) == 64 && alignof(Elf64Ehdr) == 1);

struct Elf64Phdr {
  ul32 type, flags;
  ul64 offset, vaddr, paddr, filesz, memsz, align;
};
static_assert(sizeof(Elf64Phdr) == 56 && alignof(Elf64Phdr) == 1);

struct Elf64Shdr {
  ul32 name, type;
  ul64 flags, addr, offset, size;
  ul32 link, info;
  ul64 addralign, entsize;
};
static_assert(sizeof(Elf64Shdr) == 64 && alignof(Elf64Shdr) == 1);

struct ElfNoteHdr {
  ul32 namesz, descsz, type;
};
static_assert(sizeof(ElfNoteHdr) == 12 && alignof(ElfNoteHdr) == 1);

// The start of an NT_PRSTATUS note's desc: struct elf_prstatus as the kernel's crash_save_cpu()
// fills it for each CPU (pr_pid is the task that was running there). The prefix is the same on
// every LP64 Linux architecture (x86_64, arm64); the registers that follow are not, and are not
// described here.
struct ElfPrstatusHead {
  il32 si_signo, si_code, si_errno;  // struct elf_siginfo pr_info
  ul16 pr_cursig;
  std::array<u8, 2> pad;
  ul64 pr_sigpend, pr_sighold;
  il32 pr_pid, pr_ppid, pr_pgrp, pr_sid;
};
static_assert(sizeof(ElfPrstatusHead) == 48 && alignof(ElfPrstatusHead) == 1);
static_assert(offsetof(ElfPrstatusHead, pr_pid) == 32);

inline constexpr u32 kPtLoad = 1;
inline constexpr u32 kPtNote = 4;
inline constexpr u16 kEtCore = 4;
inline constexpr u16 kEmX86_64 = 62;
inline constexpr u16 kEmAarch64 = 183;
inline constexpr u32 kNtPrstatus = 1;
inline constexpr u16 kPnXnum = 0xffff;

struct LoadSegment {
  u64 offset = 0;  // file offset of the data
  u64 vaddr = 0;
  u64 paddr = 0;
  u64 filesz = 0;
  u64 memsz = 0;
};

struct NoteSegment {
  u64 offset = 0;
  u64 size = 0;
};

struct ElfCoreLayout {
  u16 machine = 0;
  u32 e_flags = 0;
  u64 phoff = 0;
  u32 phnum = 0;
  std::vector<LoadSegment> loads;
  std::vector<NoteSegment> notes;
};

struct Note {
  std::string name;  // without the trailing NUL
  u32 type = 0;
  u64 desc_pos = 0;  // offset of desc within the bytes given to parse_notes
  std::span<const std::byte> desc;
};

// Checks the ELF identity (ELF64, little-endian, ET_CORE) and says where the program headers are.
// With e_phnum == PN_XNUM the real count is in section header 0; need_shdr0 is then true and the
// caller passes section header 0 to finish_phnum().
struct ElfCoreHead {
  Elf64Ehdr ehdr;
  u64 phoff;
  u32 phnum;
  bool need_shdr0;
};
Result<ElfCoreHead> parse_elf_core_head(std::span<const std::byte> first_64);
Result<u32> phnum_from_shdr0(std::span<const std::byte> shdr0);
Result<ElfCoreLayout> parse_program_headers(const ElfCoreHead& head, std::span<const std::byte> phdrs,
                                            u64 file_size);
// Walks the notes of one or more PT_NOTE contents; stops at a zero-filled tail (kexec pads the
// per-CPU notes). Spans in the result point into `bytes`.
Result<std::vector<Note>> parse_notes(std::span<const std::byte> bytes, u64 base_offset);
// Length of the meaningful prefix (up to the end of the last note), as parse_notes sees it.
u64 used_note_bytes(std::span<const std::byte> bytes);

}  // namespace kk
