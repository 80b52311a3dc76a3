// test_vmcore_input.cpp: ElfVmcore over ELF vmcores built in code (one PT_NOTE with VMCOREINFO, one
// PT_LOAD of two pages), for the header damage the damaged-input test found.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <vector>

#include "dumpfilter/vmcore_input.h"

using namespace kk;

namespace {

template <class T>
void put(std::vector<std::byte>& b, size_t at, T v) {
  std::memcpy(b.data() + at, &v, sizeof v);
}

// ehdr, PT_NOTE, PT_LOAD (two pages at paddr, file offset 0x1000), the note, the pages.
std::vector<std::byte> small_vmcore(u64 paddr, const std::string& vmcoreinfo) {
  std::vector<std::byte> b(0x3000);
  const unsigned char ident[16] = {0x7f, 'E', 'L', 'F', 2, 1, 1};
  std::memcpy(b.data(), ident, sizeof ident);
  put<u16>(b, 16, kEtCore);
  put<u16>(b, 18, kEmX86_64);
  put<u32>(b, 20, 1);
  put<u64>(b, 32, 64);   // e_phoff
  put<u16>(b, 52, 64);   // e_ehsize
  put<u16>(b, 54, 56);   // e_phentsize
  put<u16>(b, 56, 2);    // e_phnum
  size_t note = 64 + 2 * 56;
  size_t desc = note + 12 + 12;  // "VMCOREINFO\0" padded to 12
  size_t note_size = 24 + ((vmcoreinfo.size() + 3) & ~size_t{3});
  put<u32>(b, 64, kPtNote);
  put<u64>(b, 64 + 8, note);
  put<u64>(b, 64 + 32, note_size);
  put<u64>(b, 64 + 40, note_size);
  put<u32>(b, 120, kPtLoad);
  put<u64>(b, 120 + 8, 0x1000);
  put<u64>(b, 120 + 16, 0xffff888000000000 + paddr);
  put<u64>(b, 120 + 24, paddr);
  put<u64>(b, 120 + 32, 0x2000);
  put<u64>(b, 120 + 40, 0x2000);
  put<u32>(b, note, 11);
  put<u32>(b, note + 4, static_cast<u32>(vmcoreinfo.size()));
  std::memcpy(b.data() + note + 12, "VMCOREINFO", 10);
  std::memcpy(b.data() + desc, vmcoreinfo.data(), vmcoreinfo.size());
  REQUIRE(desc + vmcoreinfo.size() <= 0x1000);
  return b;
}

Result<std::unique_ptr<ElfVmcore>> open_bytes(std::vector<std::byte> b) {
  return ElfVmcore::open(std::make_unique<MemorySource>("vmcore", std::move(b)));
}

}  // namespace

TEST_CASE("vmcore: a PT_LOAD inside the physical address space opens", "[vmcore]") {
  Result<std::unique_ptr<ElfVmcore>> v =
      open_bytes(small_vmcore(0x100000, "OSRELEASE=6.1.0\nPAGESIZE=4096\nNUMBER(MAX_PHYSMEM_BITS)=46\n"));
  REQUIRE(v.ok());
  REQUIRE((*v)->max_pfn() == 0x102u);
}

// Found by the damaged-input test (tests/integration/damaged_inputs.py): a flipped high bit of
// p_paddr made max_pfn about 2^36, and dumpfilter spent minutes on empty bitmap windows.
TEST_CASE("vmcore: a PT_LOAD past MAX_PHYSMEM_BITS is a damaged header", "[vmcore]") {
  Result<std::unique_ptr<ElfVmcore>> v = open_bytes(
      small_vmcore(0x100000 | (u64{1} << 46), "OSRELEASE=6.1.0\nPAGESIZE=4096\nNUMBER(MAX_PHYSMEM_BITS)=46\n"));
  REQUIRE_FALSE(v.ok());
  REQUIRE(v.error().code == Errc::corrupt);
  REQUIRE(v.error().msg.find("vmcore: PT_LOAD at paddr 0x400000100000") == 0);
  REQUIRE(v.error().msg.find("MAX_PHYSMEM_BITS") != std::string::npos);
  // Without the number, the bound is 52 bits (x86_64 5-level, arm64 LPA).
  REQUIRE(open_bytes(small_vmcore(u64{1} << 46, "OSRELEASE=6.1.0\nPAGESIZE=4096\n")).ok());
  REQUIRE_FALSE(open_bytes(small_vmcore(u64{1} << 52, "OSRELEASE=6.1.0\nPAGESIZE=4096\n")).ok());
}

// Issue 18: an ELF vmcore's page size is its VMCOREINFO PAGESIZE; a crafted 1 GiB (a power of
// two) once sized every page buffer of the dump. Only 4 KiB to 256 KiB is taken.
TEST_CASE("vmcore: a PAGESIZE outside 4 KiB..256 KiB is refused at open", "[vmcore]") {
  for (const char* ps : {"1073741824", "2048", "524288"}) {
    INFO(ps);
    Result<std::unique_ptr<ElfVmcore>> v =
        open_bytes(small_vmcore(0x100000, std::string("OSRELEASE=6.1.0\nPAGESIZE=") + ps + "\n"));
    REQUIRE_FALSE(v);
    CHECK(v.error().code == Errc::corrupt);
    CHECK(v.error().msg == std::string("vmcore: vmcoreinfo: bad PAGESIZE '") + ps + "'");
  }
  Result<std::unique_ptr<ElfVmcore>> ok = open_bytes(small_vmcore(0x100000, "OSRELEASE=6.1.0\nPAGESIZE=65536\n"));
  INFO((ok ? std::string() : ok.error().msg));
  REQUIRE(ok);
  CHECK((*ok)->page_size() == 65536u);
}
