#include "arch/x86_64/bzimage.h"

#include <algorithm>
#include <cstdio>

namespace kk::x86_64 {

namespace {
template <class T>
T at(std::span<const std::byte> b, size_t off) {
  return load_le<T>(b.data() + off);
}
}  // namespace

Result<BzImage> parse_bzimage(std::span<const std::byte> image) {
  if (image.size() < hdr::kEnd)
    return make_error(Errc::corrupt, "too small for a bzImage (" + std::to_string(image.size()) + " bytes)");
  if (at<u16>(image, hdr::kBootFlag) != kBootFlagValue || at<u32>(image, hdr::kHeader) != kHeaderMagic)
    return make_error(Errc::corrupt, "not a bzImage (no boot flag 0xaa55 / \"HdrS\" signature)");
  BzImage b;
  b.version = at<u16>(image, hdr::kVersion);
  char ver[16];
  std::snprintf(ver, sizeof ver, "%u.%02u", b.version >> 8, b.version & 0xff);
  if (b.version < kProtoMin)
    return make_error(Errc::unsupported, std::string("boot protocol ") + ver +
                                             " is too old: a relocatable 64-bit kernel needs 2.06 or later");
  u8 setup_sects = u8(image[hdr::kSetupSects]);
  if (setup_sects == 0) setup_sects = 4;
  b.setup_size = (u64(setup_sects) + 1) * 512;
  if (b.setup_size >= image.size())
    return make_error(Errc::corrupt, "setup sectors (" + std::to_string(b.setup_size) +
                                         " bytes) run past the end of the image");
  b.setup = image.first(b.setup_size);
  b.kernel = image.subspan(b.setup_size);
  b.kernel_alignment = at<u32>(image, hdr::kKernelAlignment);
  b.relocatable = u8(image[hdr::kRelocatable]) != 0;
  b.cmdline_size = at<u32>(image, hdr::kCmdlineSize);
  b.initrd_addr_max = at<u32>(image, hdr::kInitrdAddrMax);
  if (b.version >= kProtoXloadflags) {
    b.xloadflags = at<u16>(image, hdr::kXloadflags);
    if (!(b.xloadflags & kXlfKernel64))
      return make_error(Errc::unsupported, "kernel has no 64-bit entry point (xloadflags bit 0)");
  } else {
    // No xloadflags yet (2.06-2.11, Linux 2.6.22-3.7): an x86_64 relocatable bzImage has
    // startup_64 at 0x200 all the same, but knows nothing of the ext_* fields, so everything
    // stays below 4 GiB (no XLF_CAN_BE_LOADED_ABOVE_4G).
    b.xloadflags = kXlfKernel64;
  }
  if (b.version >= kProtoInitSize) {
    b.pref_address = at<u64>(image, hdr::kPrefAddress);
    b.init_size = at<u32>(image, hdr::kInitSize);
  } else {
    // No init_size before 2.10: the decompressor needs room for the decompressed kernel plus
    // its own copy. Kernels of that era compress about 3:1 (gzip), so 4x the protected-mode
    // part, and never less than 16 MiB, is a safe bound.
    b.init_size = std::max<u64>(4 * b.kernel.size(), 16ull << 20);
    b.init_size_estimated = true;
  }
  if (!b.relocatable) return make_error(Errc::unsupported, "kernel is not relocatable");
  if (!(u8(image[hdr::kLoadflags]) & kLoadedHigh))
    return make_error(Errc::unsupported, "kernel is not a bzImage (zImage loads low)");
  if (b.kernel_alignment == 0 || (b.kernel_alignment & (b.kernel_alignment - 1)) != 0)
    return make_error(Errc::corrupt, "bad kernel_alignment " + std::to_string(b.kernel_alignment));
  if (b.init_size < b.kernel.size()) b.init_size = b.kernel.size();
  return b;
}

}  // namespace kk::x86_64
