// fuzz_flattened.cpp: a flattened stream (makedumpfile -F), indexed as dumpfilter reads it in
// place; the rebuilt bytes are then read back and, when they are a kdump-compressed dump, opened.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>

#include "dumpfilter/input_flattened.h"
#include "dumpfilter/input_kdump.h"
#include "tests/fuzz/fuzz_util.h"

using namespace kk;

namespace {

// The reader takes a file: one memfd per process, rewritten for each input.
int stream_fd() {
  static int fd = ::memfd_create("fuzz.flat", 0);
  if (fd < 0) std::abort();
  return fd;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  int fd = stream_fd();
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, data, size, 0) != static_cast<ssize_t>(size))
    std::abort();
  InputFile f = InputFile::adopt(Fd(::dup(fd)), "fuzz.flat", size);
  Result<std::unique_ptr<FlattenedSource>> s = FlattenedSource::open(std::move(f), 4096);
  if (!s) return 0;
  std::vector<std::byte> buf(4096);
  u64 total = (*s)->size();
  for (u64 off : {u64{0}, total / 2, total > 4096 ? total - 4096 : 0})
    (void)(*s)->read_at(off, std::span(buf).first(std::min<u64>(buf.size(), total - off)));
  Result<std::unique_ptr<KdumpInput>> k = KdumpInput::open(std::move(*s));
  if (!k) return 0;
  std::vector<std::byte> page((*k)->page_size());
  u64 read = 0;
  for (const PfnRun& r : (*k)->present_runs(0, (*k)->max_pfn()))
    for (u64 pfn = r.start; pfn < r.end && read < 64; ++pfn, ++read) (void)(*k)->read_pages(pfn, 1, page);
  return 0;
}
