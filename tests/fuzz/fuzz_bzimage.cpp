// fuzz_bzimage.cpp: a bzImage's real-mode setup header, as kexec reads it before planning segments.
#include "arch/x86_64/bzimage.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  kk::Result<kk::x86_64::BzImage> b = kk::x86_64::parse_bzimage(kk::fuzz::bytes_of(data, size));
  if (!b) return 0;
  // The spans must lie inside the input: touch their ends so ASan checks it.
  volatile std::byte sink{};
  if (!b->setup.empty()) sink = b->setup.back();
  if (!b->kernel.empty()) sink = b->kernel.back();
  (void)sink;
  return 0;
}
