// fuzz_arm64_image.cpp: an arm64 kernel file as kexec reads it: EFI zboot probed and its gzip or
// zstd payload unpacked, or the Image header parsed directly; then the Image's bytes touched.
#include "arch/arm64/image.h"
#include "tests/fuzz/fuzz_util.h"

using namespace kk;

namespace {
// A few KiB of zstd can claim gigabytes; 16 MiB keeps one input fast while still letting the
// fuzzer cross the bound (the "over N bytes" path) and reach parse_image on the payload.
constexpr u64 kMaxUnpacked = 16ull << 20;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const std::byte> in = fuzz::bytes_of(data, size);
  (void)arm64::parse_image(in);
  std::vector<std::byte> storage;
  Result<arm64::Image> img = arm64::load_kernel_image(in, storage, kMaxUnpacked);
  if (!img) return 0;
  // plan_arm64_load copies the Image and places image_size bytes: the span must be real memory
  // and the sizes must hold what parse_image promised.
  volatile std::byte sink{};
  if (!img->bytes.empty()) {
    sink = img->bytes.front();
    sink = img->bytes.back();
  }
  (void)sink;
  if (img->image_size < img->bytes.size() || img->text_offset >= arm64::kKernelAlign) __builtin_trap();
  return 0;
}
