// fuzz_manifest.cpp: a dump's "<dump>.sha256" manifest through the parser --verify uses, then the
// text of what it accepted, which must parse back to the same manifest.
#include "dumpfilter/manifest.h"
#include "tests/fuzz/fuzz_util.h"

using namespace kk;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Result<Manifest> m = parse_manifest(std::string_view(reinterpret_cast<const char*>(data), size), "m.sha256");
  if (!m) return 0;
  // What parses tiles the file exactly; formatting it again must give the same manifest.
  u64 covered = 0;
  for (const RangeDigest& r : m->ranges) {
    if (r.offset != covered) __builtin_trap();
    covered += r.length;
  }
  if (covered != m->size) __builtin_trap();
  Result<Manifest> again = parse_manifest(format_manifest(*m), "m.sha256");
  if (!again || !(*again == *m)) __builtin_trap();
  return 0;
}
