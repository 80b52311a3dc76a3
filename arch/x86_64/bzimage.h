// bzimage.h: the x86 Linux boot protocol's view of a bzImage (Documentation/arch/x86/boot.rst):
// the real-mode setup sectors carrying the setup header, then the protected-mode kernel whose
// 64-bit entry point sits 0x200 bytes in. Pure: bytes in, fields out.
#pragma once

#include <span>

#include "io/result.h"
#include "io/types.h"

namespace kk::x86_64 {

// Offsets of setup-header fields inside the image (and inside boot_params).
namespace hdr {
inline constexpr size_t kSetupSects = 0x1f1;
inline constexpr size_t kBootFlag = 0x1fe;    // 0xaa55
inline constexpr size_t kJump = 0x200;
inline constexpr size_t kHeader = 0x202;      // "HdrS"
inline constexpr size_t kVersion = 0x206;
inline constexpr size_t kTypeOfLoader = 0x210;
inline constexpr size_t kLoadflags = 0x211;
inline constexpr size_t kRamdiskImage = 0x218;
inline constexpr size_t kRamdiskSize = 0x21c;
inline constexpr size_t kCmdLinePtr = 0x228;
inline constexpr size_t kInitrdAddrMax = 0x22c;
inline constexpr size_t kKernelAlignment = 0x230;
inline constexpr size_t kRelocatable = 0x234;
inline constexpr size_t kXloadflags = 0x236;
inline constexpr size_t kCmdlineSize = 0x238;
inline constexpr size_t kSetupData = 0x250;
inline constexpr size_t kPrefAddress = 0x258;
inline constexpr size_t kInitSize = 0x260;
}  // namespace hdr

inline constexpr u16 kXlfKernel64 = 1 << 0;
inline constexpr u16 kXlfCanBeLoadedAbove4G = 1 << 1;
inline constexpr u8 kLoadedHigh = 1 << 0;

struct BzImage {
  u16 version = 0;             // boot protocol, e.g. 0x020f
  u64 setup_size = 0;          // real-mode part: (setup_sects + 1) * 512
  std::span<const std::byte> setup;   // the real-mode part (for the setup header)
  std::span<const std::byte> kernel;  // protected-mode part, loaded at the kernel address
  u64 kernel_alignment = 0;
  bool relocatable = false;
  u16 xloadflags = 0;
  u32 cmdline_size = 0;        // max command line length without the NUL
  u64 pref_address = 0;
  u64 init_size = 0;           // memory the kernel needs from its load address to boot
  u32 initrd_addr_max = 0;
};

// Checks the image is a relocatable bzImage with a 64-bit entry we can load (protocol >= 2.12
// for xloadflags; older images are refused with the reason).
Result<BzImage> parse_bzimage(std::span<const std::byte> image);

}  // namespace kk::x86_64
