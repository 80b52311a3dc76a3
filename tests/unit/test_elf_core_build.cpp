// test_elf_core_build.cpp: the ELF64 core header builder (lib/elf/elf_core_build.h) that kexec's
// elfcorehdr and dumpfilter -E share: fields laid out byte by byte, the PN_XNUM rule, and what
// it writes read back by lib/elf's own parser.
#include <catch2/catch.hpp>
#include <cstring>
#include <vector>

#include "lib/elf/elf_core.h"
#include "lib/elf/elf_core_build.h"

using namespace kk;

namespace {

template <class T>
T at(const std::vector<std::byte>& b, size_t off) {
  T v;
  std::memcpy(&v, b.data() + off, sizeof v);
  return v;
}

std::vector<std::byte> raw(const Elf64Ehdr& e) {
  std::vector<std::byte> b(sizeof e);
  std::memcpy(b.data(), &e, sizeof e);
  return b;
}

}  // namespace

TEST_CASE("elf_core_build: the ELF header, field by field", "[elf_core_build]") {
  std::vector<std::byte> b = raw(core_ehdr(kEmAarch64, 3, 0x40, 0, 0x1));
  const u8 ident[16] = {0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  REQUIRE(std::memcmp(b.data(), ident, 16) == 0);
  REQUIRE(at<u16>(b, 16) == kEtCore);
  REQUIRE(at<u16>(b, 18) == kEmAarch64);
  REQUIRE(at<u32>(b, 20) == 1);     // e_version
  REQUIRE(at<u64>(b, 24) == 0);     // e_entry
  REQUIRE(at<u64>(b, 32) == 0x40);  // e_phoff
  REQUIRE(at<u64>(b, 40) == 0);     // e_shoff
  REQUIRE(at<u32>(b, 48) == 0x1);   // e_flags
  REQUIRE(at<u16>(b, 52) == 64);    // e_ehsize
  REQUIRE(at<u16>(b, 54) == 56);    // e_phentsize
  REQUIRE(at<u16>(b, 56) == 3);     // e_phnum
  REQUIRE(at<u16>(b, 58) == 0);     // e_shentsize
  REQUIRE(at<u16>(b, 60) == 0);     // e_shnum
  REQUIRE(at<u16>(b, 62) == 0);     // e_shstrndx
}

TEST_CASE("elf_core_build: PN_XNUM or more headers: the count moves to section header 0", "[elf_core_build]") {
  Elf64Ehdr below = core_ehdr(kEmX86_64, kPnXnum - 1, 64, 0x1234);
  REQUIRE(below.phnum == kPnXnum - 1);
  REQUIRE(below.shoff == 0);  // no section header below PN_XNUM, whatever shoff says
  REQUIRE(below.shnum == 0);
  Elf64Ehdr xnum = core_ehdr(kEmX86_64, 70000, 64, 0x1234);
  REQUIRE(xnum.phnum == kPnXnum);
  REQUIRE(xnum.shoff == 0x1234);
  REQUIRE(xnum.shentsize == sizeof(Elf64Shdr));
  REQUIRE(xnum.shnum == 1);
}

TEST_CASE("elf_core_build: note and load headers", "[elf_core_build]") {
  Elf64Phdr n = core_note_phdr(0x1000, 0x2000, 0x1a8);
  REQUIRE(n.type == kPtNote);
  REQUIRE(n.flags == 0);
  REQUIRE(n.offset == 0x1000);
  REQUIRE(n.vaddr == 0);
  REQUIRE(n.paddr == 0x2000);
  REQUIRE(n.filesz == 0x1a8);
  REQUIRE(n.memsz == 0x1a8);
  REQUIRE(n.align == 0);
  Elf64Phdr l = core_load_phdr({0x3000, 0xffff888000100000, 0x100000, 0x2000, 0x5000});
  REQUIRE(l.type == kPtLoad);
  REQUIRE(l.flags == 7);
  REQUIRE(l.offset == 0x3000);
  REQUIRE(l.vaddr == 0xffff888000100000);
  REQUIRE(l.paddr == 0x100000);
  REQUIRE(l.filesz == 0x2000);
  REQUIRE(l.memsz == 0x5000);
  REQUIRE(l.align == 0);
}

TEST_CASE("elf_core_build: a header block reads back through the parser", "[elf_core_build]") {
  std::vector<Elf64Phdr> ph{core_note_phdr(0x9000, 0x9000, 0x400),
                            core_load_phdr({0x100000, 0xffffffff81000000, 0x100000, 0x200000, 0x200000})};
  std::vector<std::byte> b = core_header_bytes(kEmX86_64, ph);
  REQUIRE(b.size() == 64 + 2 * 56);
  Result<ElfCoreHead> head = parse_elf_core_head(std::span(b).first(64));
  REQUIRE(head);
  REQUIRE(head->phoff == 64);
  REQUIRE(head->phnum == 2);
  REQUIRE_FALSE(head->need_shdr0);
  Result<ElfCoreLayout> layout = parse_program_headers(*head, std::span(b).subspan(64), 1ull << 40);
  REQUIRE(layout);
  REQUIRE(layout->machine == kEmX86_64);
  REQUIRE(layout->notes.size() == 1);
  REQUIRE(layout->notes[0].offset == 0x9000);
  REQUIRE(layout->loads.size() == 1);
  REQUIRE(layout->loads[0].vaddr == 0xffffffff81000000);
}

TEST_CASE("elf_core_build: a header block of PN_XNUM headers carries section header 0", "[elf_core_build]") {
  std::vector<Elf64Phdr> ph(kPnXnum, core_note_phdr(0, 0, 0));
  std::vector<std::byte> b = core_header_bytes(kEmX86_64, ph);
  const size_t shoff = 64 + ph.size() * 56;
  REQUIRE(b.size() == shoff + sizeof(Elf64Shdr));
  Result<ElfCoreHead> head = parse_elf_core_head(std::span(b).first(64));
  REQUIRE(head);
  REQUIRE(head->need_shdr0);
  REQUIRE(head->ehdr.shoff == shoff);
  Result<u32> n = phnum_from_shdr0(std::span(b).subspan(shoff));
  REQUIRE(n);
  REQUIRE(*n == kPnXnum);
}
