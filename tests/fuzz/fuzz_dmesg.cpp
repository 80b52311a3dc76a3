// fuzz_dmesg.cpp: the kernel log extracted from a damaged kernel memory. Input: a vmcoreinfo text,
// a NUL, then the memory: every kernel address reads the memory's bytes (modulo its size), so each
// pointer in the printk ring (lockless or log_buf) leads to fuzzed data. Must end, never crash.
#include "dumpfilter/dmesg.h"
#include "tests/fuzz/fuzz_util.h"

using namespace kk;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::TextAndBlob in = fuzz::split_at_nul(data, size);
  Result<Vmcoreinfo> vi = Vmcoreinfo::parse(in.text);
  if (!vi) return 0;
  fuzz::ModuloKernel mem(in.blob, 0xffff800000000000ull);
  (void)extract_dmesg(*vi, mem);
  return 0;
}
