// fake_bzimage.h: a bzImage built field by field for the loader's unit tests.
#pragma once

#include <cstring>
#include <vector>

#include "arch/x86_64/bzimage.h"

namespace kk::test {

template <class T>
void test_put(std::vector<std::byte>& b, size_t off, T v) {
  std::memcpy(b.data() + off, &v, sizeof v);        // x86 and the test host: little-endian
}

// A protocol 2.15 bzImage: 4 setup sectors, 2 MiB kernel_alignment, 8 MiB init_size, a 64 KiB
// patterned kernel part. Offsets from Documentation/arch/x86/boot.rst (test_kexec_bzimage.cpp
// checks them one by one).
inline std::vector<std::byte> fake_bzimage(
    u16 xloadflags = x86_64::kXlfKernel64 | x86_64::kXlfCanBeLoadedAbove4G, u32 cmdline_size = 2047) {
  std::vector<std::byte> b(2560 + 0x10000);
  for (size_t i = 0; i < b.size(); ++i) b[i] = std::byte(u8(i * 13 + 1));
  b[0x1f1] = std::byte(4);                          // setup_sects
  test_put<u16>(b, 0x1fe, 0xaa55);                  // boot_flag
  b[0x200] = std::byte(0xeb);                       // jump
  b[0x201] = std::byte(0x6a);                       // header ends at 0x26c
  std::memcpy(b.data() + 0x202, "HdrS", 4);         // header
  test_put<u16>(b, 0x206, 0x020f);                  // version
  b[0x211] = std::byte(x86_64::kLoadedHigh);        // loadflags
  test_put<u32>(b, 0x22c, 0x7fffffff);              // initrd_addr_max
  test_put<u32>(b, 0x230, 0x200000);                // kernel_alignment
  b[0x234] = std::byte(1);                          // relocatable_kernel
  test_put<u16>(b, 0x236, xloadflags);              // xloadflags
  test_put<u32>(b, 0x238, cmdline_size);            // cmdline_size
  test_put<u64>(b, 0x258, 0x1000000);               // pref_address
  test_put<u32>(b, 0x260, 0x800000);                // init_size
  return b;
}

}  // namespace kk::test
