// test_kexec_kcore.cpp: the facts a crash loader takes from /proc/kcore's program headers
// (kexec/kcore_facts.h), pure: the program headers of three QEMU guests' real /proc/kcore
// (tests/unit/fixtures/*/kcore_head.hex, Debian's 6.1 kernel, nokaslr) and headers made here for
// KASLR and arm64 layouts.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "lib/elf/elf_core.h"
#include "lib/elf/elf_core_build.h"
#include "kexec/kcore_facts.h"

using namespace kk;

namespace {

std::vector<std::byte> unhex_fixture(const std::string& guest) {
  std::ifstream in(std::string(KK_UNIT_FIXTURES) + "/" + guest + "/kcore_head.hex");
  if (!in) FAIL("missing fixture " << guest << "/kcore_head.hex");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string hex = ss.str();
  std::vector<std::byte> out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(std::byte(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

std::vector<Elf64Phdr> fixture_phdrs(const std::string& guest) {
  std::vector<std::byte> b = unhex_fixture(guest);
  Result<ElfCoreHead> head = parse_elf_core_head(std::span(b).first(64));
  if (!head) FAIL(guest << ": " << head.error().msg);
  REQUIRE(head->phoff + head->phnum * sizeof(Elf64Phdr) <= b.size());
  std::vector<Elf64Phdr> ph(head->phnum);
  std::memcpy(ph.data(), b.data() + head->phoff, ph.size() * sizeof(Elf64Phdr));
  return ph;
}

Elf64Phdr load(u64 vaddr, u64 paddr, u64 size) { return core_load_phdr({0, vaddr, paddr, size, size}); }

}  // namespace

TEST_CASE("kcore: x86_64 guests' /proc/kcore give the text mapping and the direct map", "[kcore]") {
  struct Guest {
    const char* dir;
    u64 text_paddr;
  };
  for (Guest g : {Guest{"x86_64-512m", 0x1000000}, Guest{"x86_64-4g-2cpu", 0x1000000},
                  Guest{"x86_64-efi-512m", 0x1600000}}) {
    INFO(g.dir);
    std::vector<Elf64Phdr> ph = fixture_phdrs(g.dir);
    // The fixture holds what makes the function earn its keep: PT_LOADs without a physical
    // address (vmalloc, vmemmap, modules: p_paddr = -1) among the kernel's own.
    REQUIRE(std::any_of(ph.begin(), ph.end(), [](const Elf64Phdr& p) { return u64(p.paddr) == ~0ull; }));
    KcoreFacts f = kcore_facts(ph, KcoreLayout::x86_64);
    REQUIRE(f.text);
    REQUIRE(f.text->vaddr == 0xffffffff81000000);  // nokaslr
    REQUIRE(f.text->paddr == g.text_paddr);
    REQUIRE(f.text->size == 0x3430000);
    REQUIRE(f.page_offset == std::optional<u64>(0xffff888000000000));
  }
}

TEST_CASE("kcore: x86_64 with KASLR: the first direct-map PT_LOAD gives the base", "[kcore]") {
  std::vector<Elf64Phdr> ph{
      load(0xffffb00000000000, ~0ull, 0x1000000),              // vmalloc: no physical address
      load(0xffffffff9a000000, 0x2e00000, 0x2000000),          // text, randomized
      load(0xffff9a4b40100000, 0x100000, 0x7fee0000),          // RAM in the randomized direct map
      load(0xffff9a4c40000000, 0x100000000, 0x80000000),       // later RAM: base already known
  };
  Elf64Phdr note{};
  note.type = kPtNote;
  note.vaddr = 0xffffffff80000000;  // not a PT_LOAD: never the text
  ph.insert(ph.begin(), note);
  KcoreFacts f = kcore_facts(ph, KcoreLayout::x86_64);
  REQUIRE(f.text);
  REQUIRE(f.text->vaddr == 0xffffffff9a000000);
  REQUIRE(f.text->paddr == 0x2e00000);
  REQUIRE(f.text->size == 0x2000000);
  REQUIRE(f.page_offset == std::optional<u64>(0xffff9a4b40000000));
}

TEST_CASE("kcore: x86_64 without RAM or text PT_LOADs gives nothing", "[kcore]") {
  KcoreFacts f = kcore_facts(std::vector<Elf64Phdr>{load(0xffffb00000000000, ~0ull, 0x1000)}, KcoreLayout::x86_64);
  REQUIRE_FALSE(f.text);
  REQUIRE_FALSE(f.page_offset);
  REQUIRE_FALSE(kcore_facts({}, KcoreLayout::x86_64).text);
}

TEST_CASE("kcore: arm64: the highest mapping is the text, the others the linear map", "[kcore]") {
  // 48-bit VA: linear map at 0xffff000000000000 (+ KASLR offset), kernel image above it.
  const u64 linear = 0xffff3a0000000000;
  std::vector<Elf64Phdr> ph{
      load(0xffff800008000000, 0x40210000, 0x1c00000),  // text first, as kcore lists it
      load(linear + 0x40000000, 0x40000000, 0x20000000),
      load(0xfffffc0000000000, ~0ull, 0x800000),        // vmemmap: skipped
  };
  KcoreFacts f = kcore_facts(ph, KcoreLayout::arm64);
  REQUIRE(f.text);
  REQUIRE(f.text->vaddr == 0xffff800008000000);
  REQUIRE(f.page_offset == std::optional<u64>(linear));
  // In the other order the same: the RAM seen first is displaced by the higher text.
  std::swap(ph[0], ph[1]);
  f = kcore_facts(ph, KcoreLayout::arm64);
  REQUIRE(f.text->vaddr == 0xffff800008000000);
  REQUIRE(f.page_offset == std::optional<u64>(linear));
}
