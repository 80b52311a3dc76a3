// fuzz_kdump.cpp: a kdump-compressed dump in memory (header, sub-header, bitmaps, page_descs,
// compressed pages), opened as an input, then every present page read and decoded (up to a bound).
#include "dumpfilter/input_kdump.h"
#include "tests/fuzz/fuzz_util.h"

using namespace kk;

namespace {
constexpr u64 kMaxPagesRead = 256;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const std::byte> in = fuzz::bytes_of(data, size);
  auto src = std::make_unique<MemorySource>("fuzz.kdump", std::vector<std::byte>(in.begin(), in.end()));
  Result<std::unique_ptr<KdumpInput>> k = KdumpInput::open(std::move(src));
  if (!k) return 0;
  const KdumpInput& d = **k;
  std::vector<std::byte> page(d.page_size());
  u64 read = 0;
  for (const PfnRun& r : d.present_runs(0, d.max_pfn())) {
    for (u64 pfn = r.start; pfn < r.end && read < kMaxPagesRead; ++pfn, ++read)
      (void)d.read_pages(pfn, 1, page);
  }
  std::byte b[16];
  (void)d.read_phys(0, b);
  (void)d.read_phys(d.max_pfn() * d.page_size() - 8, b);
  (void)d.read_desc(0);
  return 0;
}
