#include "arch/x86_64/bzimage.h"

#include <cstdio>

namespace kk::x86_64 {

namespace {
template <class T>
T at(std::span<const std::byte> b, size_t off) {
  return load_le<T>(b.data() + off);
}
}  // namespace

Result<BzImage> parse_bzimage(std::span<const std::byte> image) {
  if (image.size() < 0x268)
    return make_error(Errc::corrupt, "too small for a bzImage (" + std::to_string(image.size()) + " bytes)");
  if (at<u16>(image, hdr::kBootFlag) != 0xaa55 || at<u32>(image, hdr::kHeader) != 0x53726448)
    return make_error(Errc::corrupt, "not a bzImage (no boot flag 0xaa55 / \"HdrS\" signature)");
  BzImage b;
  b.version = at<u16>(image, hdr::kVersion);
  char ver[16];
  std::snprintf(ver, sizeof ver, "%u.%02u", b.version >> 8, b.version & 0xff);
  // 2.12 brings xloadflags, the only way to know a 64-bit entry exists.
  if (b.version < 0x020c)
    return make_error(Errc::unsupported, std::string("boot protocol ") + ver +
                                             " is too old: a 64-bit entry needs 2.12 or later");
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
  b.xloadflags = at<u16>(image, hdr::kXloadflags);
  b.cmdline_size = at<u32>(image, hdr::kCmdlineSize);
  b.pref_address = at<u64>(image, hdr::kPrefAddress);
  b.init_size = at<u32>(image, hdr::kInitSize);
  b.initrd_addr_max = at<u32>(image, hdr::kInitrdAddrMax);
  if (!(b.xloadflags & kXlfKernel64))
    return make_error(Errc::unsupported, "kernel has no 64-bit entry point (xloadflags bit 0)");
  if (!b.relocatable) return make_error(Errc::unsupported, "kernel is not relocatable");
  if (!(u8(image[hdr::kLoadflags]) & kLoadedHigh))
    return make_error(Errc::unsupported, "kernel is not a bzImage (zImage loads low)");
  if (b.kernel_alignment == 0 || (b.kernel_alignment & (b.kernel_alignment - 1)) != 0)
    return make_error(Errc::corrupt, "bad kernel_alignment " + std::to_string(b.kernel_alignment));
  if (b.init_size < b.kernel.size()) b.init_size = b.kernel.size();
  return b;
}

}  // namespace kk::x86_64
