// test_elf_core.cpp: ELF64 core parsing (identity, program headers, PN_XNUM, notes). Every core is
// built here in memory, laid out as kexec-tools and the kernel's /proc/vmcore lay them out: ELF
// header, program headers, one PT_NOTE, then the PT_LOAD data.
#include <catch2/catch.hpp>
#include <cstring>
#include <string>
#include <vector>

#include "lib/elf/elf_core.h"

using namespace kk;

namespace {

template <class T>
void put(std::vector<std::byte>& buf, size_t at, const T& v) {
  if (buf.size() < at + sizeof v) buf.resize(at + sizeof v);
  std::memcpy(buf.data() + at, &v, sizeof v);
}

Elf64Ehdr core_ehdr(u16 phnum) {
  Elf64Ehdr e{};
  e.ident = {0x7f, 'E', 'L', 'F', 2 /*ELFCLASS64*/, 1 /*LSB*/, 1 /*EV_CURRENT*/};
  e.type = kEtCore;
  e.machine = kEmX86_64;
  e.version = 1;
  e.phoff = sizeof(Elf64Ehdr);
  e.flags = 0x5;
  e.ehsize = sizeof(Elf64Ehdr);
  e.phentsize = sizeof(Elf64Phdr);
  e.phnum = phnum;
  return e;
}

std::vector<std::byte> bytes_of(const Elf64Ehdr& e) {
  std::vector<std::byte> b;
  put(b, 0, e);
  return b;
}

Elf64Phdr phdr(u32 type, u64 offset, u64 paddr, u64 filesz, u64 memsz) {
  Elf64Phdr p{};
  p.type = type;
  p.flags = 7;
  p.offset = offset;
  p.vaddr = paddr ? 0xffff888000000000ull + paddr : 0;
  p.paddr = paddr;
  p.filesz = filesz;
  p.memsz = memsz;
  return p;
}

// One ELF note: header, name with its NUL padded to 4, desc padded to 4.
void add_note(std::vector<std::byte>& buf, const std::string& name, u32 type, const std::string& desc) {
  ElfNoteHdr h{};
  h.namesz = static_cast<u32>(name.size() + 1);
  h.descsz = static_cast<u32>(desc.size());
  h.type = type;
  size_t at = buf.size();
  put(buf, at, h);
  at += sizeof h;
  buf.resize(at + align_up(name.size() + 1, 4), std::byte{0});
  std::memcpy(buf.data() + at, name.data(), name.size());
  at = buf.size();
  buf.resize(at + align_up(desc.size(), 4), std::byte{0});
  std::memcpy(buf.data() + at, desc.data(), desc.size());
}

std::string str(std::span<const std::byte> s) { return {reinterpret_cast<const char*>(s.data()), s.size()}; }

ElfCoreHead head_ok(std::span<const std::byte> b) {
  Result<ElfCoreHead> h = parse_elf_core_head(b.first(std::min<size_t>(b.size(), 64)));
  if (!h) FAIL("parse_elf_core_head: " << h.error().msg);
  return *h;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// ELF identity

TEST_CASE("elf_core: a whole core parses into loads and notes", "[elf_core]") {
  // Layout: ehdr @0, 3 phdrs @64, notes @232, PT_LOAD data @0x1000 and @0x3000.
  std::vector<std::byte> file;
  put(file, 0, core_ehdr(3));
  std::vector<std::byte> notes;
  add_note(notes, "CORE", kNtPrstatus, std::string(336, 'p'));
  add_note(notes, "VMCOREINFO", 0, "PAGESIZE=4096\n");
  const u64 note_off = 64 + 3 * sizeof(Elf64Phdr);
  put(file, 64, phdr(kPtNote, note_off, 0, notes.size(), 0));
  put(file, 64 + 56, phdr(kPtLoad, 0x1000, 0x100000, 0x2000, 0x2000));
  put(file, 64 + 112, phdr(kPtLoad, 0x3000, 0x200000, 0x1000, 0x3000));  // memsz > filesz
  file.resize(note_off);
  file.insert(file.end(), notes.begin(), notes.end());
  file.resize(0x4000);

  ElfCoreHead head = head_ok(file);
  REQUIRE(head.phoff == 64u);
  REQUIRE(head.phnum == 3u);
  REQUIRE_FALSE(head.need_shdr0);
  REQUIRE(u16(head.ehdr.machine) == kEmX86_64);

  Result<ElfCoreLayout> lay =
      parse_program_headers(head, std::span(file).subspan(64, 3 * sizeof(Elf64Phdr)), file.size());
  REQUIRE(lay);
  REQUIRE(lay->machine == kEmX86_64);
  REQUIRE(lay->e_flags == 5u);
  REQUIRE(lay->phoff == 64u);
  REQUIRE(lay->phnum == 3u);
  REQUIRE(lay->notes.size() == 1u);
  REQUIRE(lay->notes[0].offset == note_off);
  REQUIRE(lay->notes[0].size == notes.size());
  REQUIRE(lay->loads.size() == 2u);
  REQUIRE(lay->loads[0].offset == 0x1000u);
  REQUIRE(lay->loads[0].paddr == 0x100000u);
  REQUIRE(lay->loads[0].vaddr == 0xffff888000100000ull);
  REQUIRE(lay->loads[0].filesz == 0x2000u);
  REQUIRE(lay->loads[1].paddr == 0x200000u);
  REQUIRE(lay->loads[1].filesz == 0x1000u);
  REQUIRE(lay->loads[1].memsz == 0x3000u);

  Result<std::vector<Note>> n =
      parse_notes(std::span(file).subspan(note_off, notes.size()), note_off);
  REQUIRE(n);
  REQUIRE(n->size() == 2u);
  REQUIRE((*n)[0].name == "CORE");
  REQUIRE((*n)[1].name == "VMCOREINFO");
  REQUIRE(str((*n)[1].desc) == "PAGESIZE=4096\n");
}

TEST_CASE("elf_core: bad magic and short headers are not ELF", "[elf_core]") {
  Elf64Ehdr e = core_ehdr(1);
  e.ident[1] = 'X';
  Result<ElfCoreHead> bad = parse_elf_core_head(bytes_of(e));
  REQUIRE_FALSE(bad);
  REQUIRE(bad.error().code == Errc::corrupt);
  REQUIRE(bad.error().msg == "not an ELF file (bad magic)");

  std::vector<std::byte> shortb = bytes_of(core_ehdr(1));
  shortb.resize(40);
  Result<ElfCoreHead> sh = parse_elf_core_head(shortb);
  REQUIRE_FALSE(sh);
  REQUIRE(sh.error().code == Errc::corrupt);
  REQUIRE(sh.error().msg == "not an ELF file (shorter than an ELF header)");

  // A kdump-compressed file is not ELF either.
  std::vector<std::byte> kdump(64, std::byte{' '});
  std::memcpy(kdump.data(), "KDUMP   ", 8);
  REQUIRE(parse_elf_core_head(kdump).error().msg == "not an ELF file (bad magic)");
}

TEST_CASE("elf_core: ELF32 and big-endian are unsupported", "[elf_core]") {
  Elf64Ehdr e32 = core_ehdr(1);
  e32.ident[4] = 1;  // ELFCLASS32
  Result<ElfCoreHead> r32 = parse_elf_core_head(bytes_of(e32));
  REQUIRE_FALSE(r32);
  REQUIRE(r32.error().code == Errc::unsupported);
  REQUIRE(r32.error().msg == "not an ELF64 file (ELFCLASS 1)");

  Elf64Ehdr be = core_ehdr(1);
  be.ident[5] = 2;  // ELFDATA2MSB
  Result<ElfCoreHead> rbe = parse_elf_core_head(bytes_of(be));
  REQUIRE_FALSE(rbe);
  REQUIRE(rbe.error().code == Errc::unsupported);
  REQUIRE(rbe.error().msg == "big-endian ELF cores are not supported");
}

TEST_CASE("elf_core: not ET_CORE, or a foreign phentsize, is corrupt", "[elf_core]") {
  Elf64Ehdr exec = core_ehdr(1);
  exec.type = 2;  // ET_EXEC: a vmlinux given by mistake
  Result<ElfCoreHead> r = parse_elf_core_head(bytes_of(exec));
  REQUIRE_FALSE(r);
  REQUIRE(r.error().code == Errc::corrupt);
  REQUIRE(r.error().msg == "ELF type 2 is not a core file (ET_CORE)");

  Elf64Ehdr odd = core_ehdr(1);
  odd.phentsize = 32;
  Result<ElfCoreHead> p = parse_elf_core_head(bytes_of(odd));
  REQUIRE_FALSE(p);
  REQUIRE(p.error().code == Errc::corrupt);
  REQUIRE(p.error().msg == "bad e_phentsize 32");
}

TEST_CASE("elf_core: PN_XNUM takes the count from section header 0", "[elf_core]") {
  Elf64Ehdr e = core_ehdr(kPnXnum);
  e.shoff = 0x40;
  e.shentsize = sizeof(Elf64Shdr);
  e.shnum = 0;
  ElfCoreHead head = head_ok(bytes_of(e));
  REQUIRE(head.need_shdr0);
  REQUIRE(head.phnum == kPnXnum);

  Elf64Shdr sh0{};
  sh0.info = 70000;  // more PT_LOADs than fit e_phnum (a machine with many memory ranges)
  std::vector<std::byte> shb;
  put(shb, 0, sh0);
  Result<u32> n = phnum_from_shdr0(shb);
  REQUIRE(n);
  REQUIRE(*n == 70000u);

  // With the real count filled in, program headers parse as usual.
  head.phnum = 2;
  std::vector<std::byte> ph;
  put(ph, 0, phdr(kPtLoad, 0x1000, 0x0, 0x1000, 0x1000));
  put(ph, 56, phdr(kPtLoad, 0x2000, 0x1000, 0x1000, 0x1000));
  Result<ElfCoreLayout> lay = parse_program_headers(head, ph, 0x3000);
  REQUIRE(lay);
  REQUIRE(lay->loads.size() == 2u);
  REQUIRE(lay->phnum == 2u);

  shb.resize(40);
  Result<u32> shortsh = phnum_from_shdr0(shb);
  REQUIRE_FALSE(shortsh);
  REQUIRE(shortsh.error().code == Errc::truncated);
  REQUIRE(shortsh.error().msg == "section header 0: truncated at offset 0x0 (need 64 bytes, have 40)");
}

TEST_CASE("elf_core: PN_XNUM without a section header is corrupt", "[elf_core]") {
  Elf64Ehdr e = core_ehdr(kPnXnum);  // shoff 0
  Result<ElfCoreHead> r = parse_elf_core_head(bytes_of(e));
  REQUIRE_FALSE(r);
  REQUIRE(r.error().code == Errc::corrupt);
  REQUIRE(r.error().msg == "e_phnum is PN_XNUM but there is no section header 0");

  e.shoff = 0x40;
  e.shentsize = 40;  // ELF32 section header size
  REQUIRE(parse_elf_core_head(bytes_of(e)).error().msg ==
          "e_phnum is PN_XNUM but there is no section header 0");
}

// ---------------------------------------------------------------------------------------------
// Program headers

TEST_CASE("elf_core: a PT_LOAD past end of file is a truncation error", "[elf_core]") {
  ElfCoreHead head = head_ok(bytes_of(core_ehdr(2)));
  std::vector<std::byte> ph;
  put(ph, 0, phdr(kPtNote, 0x100, 0, 0x80, 0));
  put(ph, 56, phdr(kPtLoad, 0x1000, 0x100000, 0x2000, 0x2000));
  Result<ElfCoreLayout> r = parse_program_headers(head, ph, 0x2800);  // file cut mid-segment
  REQUIRE_FALSE(r);
  REQUIRE(r.error().code == Errc::truncated);
  REQUIRE(r.error().msg ==
          "PT_LOAD 1 runs past end of file (offset 0x1000 + size 0x2000 > file size 0x2800)");

  // Exactly to the end is fine.
  REQUIRE(parse_program_headers(head, ph, 0x3000));

  // An offset beyond the file, even with a huge size that would wrap, is caught.
  std::vector<std::byte> wrap;
  put(wrap, 0, phdr(kPtNote, 0x100, 0, 0x80, 0));
  put(wrap, 56, phdr(kPtLoad, 0x1000, 0, ~0ull - 0x800, ~0ull));
  Result<ElfCoreLayout> w = parse_program_headers(head, wrap, 0x3000);
  REQUIRE_FALSE(w);
  REQUIRE(w.error().code == Errc::truncated);

  std::vector<std::byte> note_past;
  put(note_past, 0, phdr(kPtNote, 0x4000, 0, 0x80, 0));
  put(note_past, 56, phdr(kPtLoad, 0x1000, 0, 0x1000, 0x1000));
  Result<ElfCoreLayout> np = parse_program_headers(head, note_past, 0x3000);
  REQUIRE_FALSE(np);
  REQUIRE(np.error().msg ==
          "PT_NOTE 0 runs past end of file (offset 0x4000 + size 0x80 > file size 0x3000)");
}

TEST_CASE("elf_core: filesz > memsz and wrapping ranges are corrupt", "[elf_core]") {
  ElfCoreHead head = head_ok(bytes_of(core_ehdr(1)));
  std::vector<std::byte> ph;
  put(ph, 0, phdr(kPtLoad, 0x1000, 0x100000, 0x2000, 0x1000));
  Result<ElfCoreLayout> r = parse_program_headers(head, ph, 0x10000);
  REQUIRE_FALSE(r);
  REQUIRE(r.error().code == Errc::corrupt);
  REQUIRE(r.error().msg == "PT_LOAD 0: p_filesz > p_memsz");

  std::vector<std::byte> wrap;
  put(wrap, 0, phdr(kPtLoad, 0x1000, 0xfffffffffffff000ull, 0x1000, 0x2000));
  Result<ElfCoreLayout> w = parse_program_headers(head, wrap, 0x10000);
  REQUIRE_FALSE(w);
  REQUIRE(w.error().code == Errc::corrupt);
  REQUIRE(w.error().msg == "PT_LOAD 0: physical range wraps around");
}

TEST_CASE("elf_core: other segment types are skipped; short phdr table is truncated", "[elf_core]") {
  ElfCoreHead head = head_ok(bytes_of(core_ehdr(3)));
  std::vector<std::byte> ph;
  put(ph, 0, phdr(0 /*PT_NULL*/, 0xdead0000, 0, 0xffff, 0));  // would be past EOF if checked
  put(ph, 56, phdr(kPtLoad, 0x1000, 0x0, 0x1000, 0x1000));
  put(ph, 112, phdr(0x6474e551 /*PT_GNU_STACK*/, 0, 0, 0, 0));
  Result<ElfCoreLayout> r = parse_program_headers(head, ph, 0x2000);
  REQUIRE(r);
  REQUIRE(r->loads.size() == 1u);
  REQUIRE(r->notes.empty());
  REQUIRE(r->loads[0].paddr == 0u);

  ph.resize(56 + 20);  // the second header cut short
  Result<ElfCoreLayout> t = parse_program_headers(head, ph, 0x2000);
  REQUIRE_FALSE(t);
  REQUIRE(t.error().code == Errc::truncated);
  REQUIRE(t.error().msg == "program headers: truncated at offset 0x78 (need 56 bytes, have 20)");
}

// ---------------------------------------------------------------------------------------------
// Notes

TEST_CASE("elf_core: notes are padded to 4; desc spans point into the bytes", "[elf_core]") {
  std::vector<std::byte> notes;
  add_note(notes, "CORE", kNtPrstatus, "abc");        // namesz 5 -> 8, descsz 3 -> 4
  add_note(notes, "VMCOREINFO", 0, "SIZE(page)=64\n");  // namesz 11 -> 12, descsz 14 -> 16
  add_note(notes, "QEMU", 0, "");                      // empty desc
  REQUIRE(notes.size() == (12 + 8 + 4) + (12 + 12 + 16) + (12 + 8));

  Result<std::vector<Note>> r = parse_notes(notes, 0x2000);
  REQUIRE(r);
  REQUIRE(r->size() == 3u);
  const Note& core = (*r)[0];
  REQUIRE(core.name == "CORE");
  REQUIRE(core.type == kNtPrstatus);
  REQUIRE(core.desc_pos == 20u);
  REQUIRE(core.desc.size() == 3u);  // descsz, not the padded length
  REQUIRE(str(core.desc) == "abc");
  REQUIRE(core.desc.data() == notes.data() + 20);
  const Note& vi = (*r)[1];
  REQUIRE(vi.name == "VMCOREINFO");
  REQUIRE(vi.type == 0u);
  REQUIRE(vi.desc_pos == 24u + 24u);
  REQUIRE(str(vi.desc) == "SIZE(page)=64\n");
  REQUIRE((*r)[2].name == "QEMU");
  REQUIRE((*r)[2].desc.empty());
  REQUIRE(used_note_bytes(notes) == notes.size());
}

TEST_CASE("elf_core: a zero-filled tail ends the notes", "[elf_core]") {
  std::vector<std::byte> notes;
  add_note(notes, "CORE", kNtPrstatus, std::string(8, 'r'));
  const size_t used = notes.size();
  notes.resize(used + 200, std::byte{0});  // kexec reserves room for every possible CPU
  Result<std::vector<Note>> r = parse_notes(notes, 0);
  REQUIRE(r);
  REQUIRE(r->size() == 1u);
  REQUIRE(used_note_bytes(notes) == used);

  // A tail shorter than a note header is ignored too.
  std::vector<std::byte> tail6 = notes;
  tail6.resize(used + 6);
  REQUIRE(parse_notes(tail6, 0)->size() == 1u);
  REQUIRE(used_note_bytes(tail6) == used);

  std::vector<std::byte> empty;
  REQUIRE(parse_notes(empty, 0)->empty());
  REQUIRE(used_note_bytes(empty) == 0u);

  // A note after a zero header is not read.
  std::vector<std::byte> after(12, std::byte{0});
  add_note(after, "CORE", kNtPrstatus, "x");
  REQUIRE(parse_notes(after, 0)->empty());
}

TEST_CASE("elf_core: a note running past its segment is truncated", "[elf_core]") {
  std::vector<std::byte> notes;
  add_note(notes, "CORE", kNtPrstatus, "abcd");
  add_note(notes, "VMCOREINFO", 0, std::string(100, 'v'));
  const size_t second = 12 + 8 + 4;
  notes.resize(notes.size() - 40);  // desc cut short
  Result<std::vector<Note>> r = parse_notes(notes, 0x1f0);
  REQUIRE_FALSE(r);
  REQUIRE(r.error().code == Errc::truncated);
  REQUIRE(second == 0x18u);
  REQUIRE(r.error().msg ==
          "PT_NOTE: note at offset 0x208 runs past the segment (namesz 11, descsz 100)");
  REQUIRE(used_note_bytes(notes) == 0u);  // an invalid walk uses nothing

  // A name longer than the segment, and sizes that would overflow when padded.
  std::vector<std::byte> huge;
  ElfNoteHdr h{};
  h.namesz = 0xffffffffu;
  h.descsz = 0xffffffffu;
  h.type = 1;
  put(huge, 0, h);
  huge.resize(64);
  Result<std::vector<Note>> hr = parse_notes(huge, 0);
  REQUIRE_FALSE(hr);
  REQUIRE(hr.error().msg ==
          "PT_NOTE: note at offset 0x0 runs past the segment (namesz 4294967295, descsz 4294967295)");
}
