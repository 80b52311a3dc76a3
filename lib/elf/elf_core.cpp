#include "lib/elf/elf_core.h"

#include "lib/io/byte_cursor.h"

namespace kk {

Result<ElfCoreHead> parse_elf_core_head(std::span<const std::byte> first_64) {
  ByteCursor cur(first_64, "ELF header");
  Result<Elf64Ehdr> eh = cur.read<Elf64Ehdr>();
  if (!eh) return make_error(Errc::corrupt, "not an ELF file (shorter than an ELF header)");
  const auto& id = eh->ident;
  if (id[0] != 0x7f || id[1] != 'E' || id[2] != 'L' || id[3] != 'F')
    return make_error(Errc::corrupt, "not an ELF file (bad magic)");
  if (id[4] != 2) return make_error(Errc::unsupported, "not an ELF64 file (ELFCLASS " +
                                                          std::to_string(id[4]) + ")");
  if (id[5] != 1) return make_error(Errc::unsupported, "big-endian ELF cores are not supported");
  if (eh->type != kEtCore)
    return make_error(Errc::corrupt, "ELF type " + std::to_string(u16(eh->type)) +
                                         " is not a core file (ET_CORE)");
  if (eh->phentsize != sizeof(Elf64Phdr))
    return make_error(Errc::corrupt, "bad e_phentsize " + std::to_string(u16(eh->phentsize)));
  ElfCoreHead head{*eh, eh->phoff, eh->phnum, eh->phnum == kPnXnum};
  if (head.need_shdr0 && (eh->shoff == 0 || eh->shentsize != sizeof(Elf64Shdr)))
    return make_error(Errc::corrupt, "e_phnum is PN_XNUM but there is no section header 0");
  return head;
}

Result<u32> phnum_from_shdr0(std::span<const std::byte> shdr0) {
  ByteCursor cur(shdr0, "section header 0");
  KK_TRY_ASSIGN(Elf64Shdr sh, cur.read<Elf64Shdr>());
  return u32(sh.info);
}

Result<ElfCoreLayout> parse_program_headers(const ElfCoreHead& head, std::span<const std::byte> phdrs,
                                            u64 file_size) {
  ElfCoreLayout layout;
  layout.machine = head.ehdr.machine;
  layout.e_flags = head.ehdr.flags;
  layout.phoff = head.phoff;
  layout.phnum = head.phnum;
  ByteCursor cur(phdrs, "program headers", head.phoff);
  for (u32 i = 0; i < head.phnum; ++i) {
    KK_TRY_ASSIGN(Elf64Phdr ph, cur.read<Elf64Phdr>());
    std::string which = (ph.type == kPtLoad ? "PT_LOAD " : "PT_NOTE ") + std::to_string(i);
    if (ph.type != kPtLoad && ph.type != kPtNote) continue;
    if (ph.offset > file_size || ph.filesz > file_size - ph.offset)
      return make_error(Errc::truncated, which + " runs past end of file (offset " +
                                             hex(ph.offset) + " + size " + hex(ph.filesz) +
                                             " > file size " + hex(file_size) + ")");
    if (ph.type == kPtNote) {
      layout.notes.push_back({ph.offset, ph.filesz});
    } else {
      if (ph.filesz > ph.memsz)
        return make_error(Errc::corrupt, which + ": p_filesz > p_memsz");
      if (ph.paddr + ph.memsz < ph.paddr)
        return make_error(Errc::corrupt, which + ": physical range wraps around");
      layout.loads.push_back({ph.offset, ph.vaddr, ph.paddr, ph.filesz, ph.memsz});
    }
  }
  return layout;
}

namespace {

// Walks notes; calls f(name, type, desc_pos, desc) for each. Returns the end of the last note.
template <class F>
Result<u64> walk_notes(std::span<const std::byte> bytes, u64 base, F&& f) {
  ByteCursor cur(bytes, "PT_NOTE", base);
  u64 end = 0;
  while (cur.remaining() >= sizeof(ElfNoteHdr)) {
    size_t start = cur.pos();
    KK_TRY_ASSIGN(ElfNoteHdr nh, cur.read<ElfNoteHdr>());
    if (nh.namesz == 0 && nh.descsz == 0 && nh.type == 0) break;  // zero padding
    u64 name_len = align_up(nh.namesz, 4);
    u64 desc_len = align_up(nh.descsz, 4);
    if (name_len > cur.remaining() || desc_len > cur.remaining() - name_len)
      return make_error(Errc::truncated, "PT_NOTE: note at offset " + hex(base + start) +
                                             " runs past the segment (namesz " +
                                             std::to_string(u32(nh.namesz)) + ", descsz " +
                                             std::to_string(u32(nh.descsz)) + ")");
    std::span<const std::byte> name = *cur.bytes(name_len);
    u64 desc_pos = cur.pos();
    std::span<const std::byte> desc = *cur.bytes(desc_len);
    std::string n(reinterpret_cast<const char*>(name.data()), nh.namesz);
    while (!n.empty() && n.back() == '\0') n.pop_back();
    f(std::move(n), u32(nh.type), desc_pos, desc.first(nh.descsz));
    end = cur.pos();
  }
  return end;
}

}  // namespace

Result<std::vector<Note>> parse_notes(std::span<const std::byte> bytes, u64 base_offset) {
  std::vector<Note> notes;
  Result<u64> end = walk_notes(bytes, base_offset,
                               [&](std::string name, u32 type, u64 pos, std::span<const std::byte> d) {
                                 notes.push_back({std::move(name), type, pos, d});
                               });
  if (!end) return std::move(end).error();
  return notes;
}

u64 used_note_bytes(std::span<const std::byte> bytes) {
  Result<u64> end = walk_notes(bytes, 0, [](auto&&...) {});
  return end ? *end : 0;
}

}  // namespace kk
