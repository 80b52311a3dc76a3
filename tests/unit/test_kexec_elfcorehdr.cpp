// test_kexec_elfcorehdr.cpp: the ELF core header a capture kernel gets (kexec/elfcorehdr.h),
// read back with lib/elf's parser: notes per CPU then VMCOREINFO, kernel text, RAM, and the
// PT_LOADs that read the low-memory backup copy.
#include <catch2/catch.hpp>
#include <cstring>
#include <vector>

#include "lib/elf/elf_core.h"
#include "kexec/elfcorehdr.h"
#include "tests/unit/kexec_fixtures.h"

using namespace kk;
using namespace kk::test;

TEST_CASE("elfcorehdr: notes per CPU then VMCOREINFO, kernel text, then RAM", "[elfcorehdr]") {
  CrashMemory m = crash_memory();
  std::vector<std::byte> hdr = build_elfcorehdr(m);
  ElfCoreLayout layout = parse_back(hdr, 2 + 1 + 1 + 4);
  REQUIRE(layout.machine == kEmX86_64);

  REQUIRE(layout.notes.size() == 3);
  REQUIRE(layout.notes[0].offset == 0x17fc1e000);
  REQUIRE(layout.notes[0].size == 0x1a8);
  REQUIRE(layout.notes[1].offset == 0x17fc3e000);
  REQUIRE(layout.notes[1].size == 0x1a8);
  REQUIRE(layout.notes[2].offset == 0x2b6d000);  // VMCOREINFO last
  REQUIRE(layout.notes[2].size == 0x1024);

  REQUIRE(layout.loads.size() == 5);
  const LoadSegment& text = layout.loads[0];
  REQUIRE(text.vaddr == 0xffffffff81000000);
  REQUIRE(text.paddr == 0x5000000);
  REQUIRE(text.offset == 0x5000000);
  REQUIRE(text.filesz == 0x1c00000);
  REQUIRE(text.memsz == 0x1c00000);
  for (size_t i = 0; i < m.ram.size(); ++i) {
    const LoadSegment& l = layout.loads[i + 1];
    INFO("RAM PT_LOAD " << i);
    REQUIRE(l.paddr == m.ram[i].start);
    REQUIRE(l.offset == l.paddr);
    REQUIRE(l.vaddr == 0xffff888000000000 + m.ram[i].start);
    REQUIRE(l.filesz == m.ram[i].size());
    REQUIRE(l.memsz == m.ram[i].size());
  }

  // Header order and fields the layout does not keep: all PT_NOTEs first, PT_LOADs RWX.
  Elf64Ehdr eh;
  std::memcpy(&eh, hdr.data(), sizeof eh);
  REQUIRE(eh.version == 1);
  REQUIRE(eh.ehsize == 64);
  REQUIRE(eh.entry == 0);
  REQUIRE(eh.shoff == 0);
  REQUIRE(eh.shnum == 0);
  const u32 types[] = {kPtNote, kPtNote, kPtNote, kPtLoad, kPtLoad, kPtLoad, kPtLoad, kPtLoad};
  for (size_t i = 0; i < 8; ++i) {
    Elf64Phdr ph;
    std::memcpy(&ph, hdr.data() + 64 + i * 56, sizeof ph);
    INFO("phdr " << i);
    REQUIRE(ph.type == types[i]);
    REQUIRE(ph.flags == (ph.type == kPtLoad ? 7u : 0u));
    if (ph.type == kPtNote) {
      REQUIRE(ph.paddr == ph.offset);
      REQUIRE(ph.memsz == ph.filesz);
    }
  }
}

TEST_CASE("elfcorehdr: no VMCOREINFO, no kernel text, other machine", "[elfcorehdr]") {
  CrashMemory m = crash_memory();
  m.vmcoreinfo = {};
  m.kernel_text.reset();
  m.machine = kEmAarch64;
  m.page_offset = 0xffff000000000000;
  ElfCoreLayout layout = parse_back(build_elfcorehdr(m), 2 + 4);
  REQUIRE(layout.machine == kEmAarch64);
  REQUIRE(layout.notes.size() == 2);
  REQUIRE(layout.loads.size() == 4);
  REQUIRE(layout.loads[0].paddr == 0x1000);
  REQUIRE(layout.loads[0].vaddr == 0xffff000000001000);
  REQUIRE(layout.loads[3].paddr == 0x100000000);
  REQUIRE(layout.loads[3].filesz == 0x80000000);
}

TEST_CASE("elfcorehdr: only RAM inside the backup source reads the copy", "[elfcorehdr]") {
  CrashMemory m = crash_memory();
  m.ram = {{0x1000, 0x9f000}, {0x9f000, 0xa0000}, {0x100000, 0x200000}};
  m.backup_src = {0x1000, 0x9f000};
  m.backup_dst = 0x7e000000;
  ElfCoreLayout layout = parse_back(build_elfcorehdr(m), 3 + 1 + 3);
  REQUIRE(layout.loads[1].offset == 0x7e000000);
  REQUIRE(layout.loads[2].offset == 0x9f000);  // past the source: its own memory
  REQUIRE(layout.loads[3].offset == 0x100000);
  m.backup_src = {0x2000, 0x9f000};  // a range that starts inside but begins before: untouched
  layout = parse_back(build_elfcorehdr(m), 3 + 1 + 3);
  REQUIRE(layout.loads[1].offset == 0x1000);
}
