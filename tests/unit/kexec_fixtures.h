// kexec_fixtures.h: what the kexec unit tests share: little-endian field access on segment
// bytes, patterned data, and a QEMU-like crash kernel's memory facts with the ELF core header
// parsed back. The purgatory's share is in kexec_purgatory_fixtures.h.
#pragma once

#include <catch2/catch.hpp>
#include <cstring>
#include <span>
#include <vector>

#include "lib/elf/elf_core.h"
#include "lib/io/byte_cursor.h"
#include "kexec/elfcorehdr.h"

namespace kk::test {

inline constexpr u64 kMiB = 1ull << 20;

template <class T>
void put(std::vector<std::byte>& b, size_t off, T v) {
  std::memcpy(b.data() + off, &v, sizeof v);
}

template <class T>
T get(std::span<const std::byte> b, size_t off) {
  return load_le<T>(b.data() + off);
}

inline std::vector<std::byte> pattern(size_t n, u8 seed) {
  std::vector<std::byte> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = std::byte(u8(i * 31 + seed + (i >> 8)));
  return v;
}

// RAM below 2 GiB and at 4-6 GiB, two CPUs' notes, VMCOREINFO, kernel text, no KASLR.
inline CrashMemory crash_memory() {
  CrashMemory m;
  m.ram = {{0x1000, 0x9f000}, {0x100000, 0x6f000000}, {0x7f000000, 0x7ffe0000}, {0x100000000, 0x180000000}};
  m.cpu_notes = {{0x17fc1e000, 0x1a8}, {0x17fc3e000, 0x1a8}};
  m.vmcoreinfo = {0x2b6d000, 0x1024};
  m.kernel_text = KernelText{0xffffffff81000000, 0x5000000, 0x1c00000};
  m.page_offset = 0xffff888000000000;
  return m;
}

inline ElfCoreLayout parse_back(std::span<const std::byte> hdr, u32 expect_phnum) {
  REQUIRE(hdr.size() == 64 + expect_phnum * 56);
  Result<ElfCoreHead> head = parse_elf_core_head(hdr.first(64));
  if (!head) FAIL("parse_elf_core_head: " << head.error().msg);
  REQUIRE(head->phoff == 64);
  REQUIRE(head->phnum == expect_phnum);
  REQUIRE_FALSE(head->need_shdr0);
  // p_offset is a physical address: any file size that covers physical memory will do.
  Result<ElfCoreLayout> layout =
      parse_program_headers(*head, hdr.subspan(head->phoff), ~0ull >> 1);
  if (!layout) FAIL("parse_program_headers: " << layout.error().msg);
  return *std::move(layout);
}

}  // namespace kk::test
