// image.h: the arm64 kernel Image as the boot protocol describes it
// (Documentation/arch/arm64/booting.rst, "Call the kernel image"): a 64-byte header with the
// offset the image wants from a 2 MiB-aligned base, its effective size, and flags for
// endianness, page size and placement. Also EFI zboot vmlinuz (drivers/firmware/efi/libstub,
// Linux 6.1+): a PE file whose header names a compressed Image payload and its codec; we unpack
// it so the loader sees the Image. Pure: bytes in, fields out.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "lib/io/result.h"
#include "lib/io/types.h"

namespace kk::arm64 {

inline constexpr u32 kImageMagic = 0x644d5241;  // "ARM\x64" at offset 56
inline constexpr size_t kImageHeaderSize = 64;
inline constexpr u64 kKernelAlign = 2ull << 20;  // the base text_offset is added to

// The most image_size (the kernel's memory footprint, BSS included) accepted: Debian's 6.1 kernel
// needs 36 MiB. Bounding it keeps text_offset + image_size, rounded up to a page, far from
// wrapping around 2^64 into a small reservation.
inline constexpr u64 kMaxImageSize = 1ull << 30;

enum class PageSizeFlag : u8 { unspecified = 0, k4k = 1, k16k = 2, k64k = 3 };

struct Image {
  u64 text_offset = 0;      // load at a 2 MiB-aligned base + this
  u64 image_size = 0;       // bytes from the load address the kernel needs (incl. BSS)
  bool big_endian = false;  // flags bit 0
  PageSizeFlag page_size = PageSizeFlag::unspecified;  // flags bits 1-2
  bool place_anywhere = false;  // flags bit 3: base may be anywhere, not near DRAM start
  std::span<const std::byte> bytes;  // the whole Image (file contents to load)
};

// Parses the Image header. Refuses a big-endian kernel (this loader runs little-endian) and
// pre-3.17 images with image_size 0, saying why.
Result<Image> parse_image(std::span<const std::byte> bytes);

// EFI zboot: "MZ" then "zimg" at offset 4, u32 payload offset at 8 and size at 12, the codec's
// name (NUL-padded) at 24. nullopt when `bytes` is not a zboot image.
struct Zboot {
  u32 payload_offset = 0;
  u32 payload_size = 0;
  std::string codec;  // "gzip", "zstd", ...
};
Result<std::optional<Zboot>> probe_zboot(std::span<const std::byte> bytes);

// The Image to load from a kernel file: the file itself when it is an Image, its decompressed
// payload when it is EFI zboot (gzip and zstd; other codecs are named in the error). `storage`
// receives the decompressed bytes and must outlive the result's span. A payload that unpacks to
// more than `max_image` bytes is refused (a zstd bomb of a few KiB can claim gigabytes); the fuzz
// harness passes a smaller bound so one input cannot take seconds.
inline constexpr u64 kMaxImage = 512ull << 20;  // no arm64 Image comes near this
Result<Image> load_kernel_image(std::span<const std::byte> file, std::vector<std::byte>& storage,
                                u64 max_image = kMaxImage);

}  // namespace kk::arm64
