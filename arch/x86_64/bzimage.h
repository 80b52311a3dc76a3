// bzimage.h: the x86 Linux boot protocol's view of a bzImage (Documentation/arch/x86/boot.rst):
// the real-mode setup sectors carrying the setup header, then the protected-mode kernel whose
// 64-bit entry point sits 0x200 bytes in. Pure: bytes in, fields out.
#pragma once

#include <span>

#include "lib/io/result.h"
#include "lib/io/types.h"

namespace kk::x86_64 {

// Offsets of setup-header fields inside the image (and inside boot_params).
namespace hdr {
inline constexpr size_t kSetupSects = 0x1f1;
inline constexpr size_t kBootFlag = 0x1fe;    // 0xaa55
inline constexpr size_t kJump = 0x200;        // a short jump over the header...
inline constexpr size_t kJumpLength = 0x201;  // ...whose displacement says where the header ends
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
inline constexpr size_t kHandoverOffset = 0x264;
inline constexpr size_t kEnd = 0x268;  // a bzImage is at least this long: through handover_offset
}  // namespace hdr

inline constexpr u16 kBootFlagValue = 0xaa55;
inline constexpr u32 kHeaderMagic = 0x53726448;  // "HdrS", little-endian
// startup_64, the 64-bit entry, sits this far into the protected-mode kernel.
inline constexpr u64 kStartup64Offset = 0x200;

// Boot protocol versions whose fields the loader depends on (boot.rst, "THE REAL-MODE KERNEL
// HEADER"). 2.06 is Linux 2.6.22, the first relocatable x86_64 bzImage with cmdline_size.
inline constexpr u16 kProtoMin = 0x0206;         // cmdline_size
inline constexpr u16 kProtoSetupData = 0x0209;   // setup_data
inline constexpr u16 kProtoInitSize = 0x020a;    // pref_address, init_size
inline constexpr u16 kProtoXloadflags = 0x020c;  // xloadflags; ext_* boot_params fields honoured
inline constexpr u16 kProtoAcpiRsdp = 0x020e;    // acpi_rsdp_addr

inline constexpr u16 kXlfKernel64 = 1 << 0;
inline constexpr u16 kXlfCanBeLoadedAbove4G = 1 << 1;
inline constexpr u16 kXlfEfiKexec = 1 << 4;  // the kernel takes the EFI runtime map over kexec
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
  bool init_size_estimated = false;  // protocol < 2.10: no init_size field, see parse_bzimage
  u32 initrd_addr_max = 0;
  bool has_setup_data() const { return version >= kProtoSetupData; }
};

// Checks the image is a relocatable bzImage with a 64-bit entry we can load: protocol 2.06 or
// later (older images are refused with the reason). Before 2.12 there are no xloadflags: the
// 64-bit entry is taken as given (every relocatable x86_64 bzImage since 2.06 has startup_64 at
// 0x200) and nothing may go above 4 GiB; before 2.10 init_size is estimated.
Result<BzImage> parse_bzimage(std::span<const std::byte> image);

}  // namespace kk::x86_64
