// pagecmp: compares the pages of two dumps through our readers (any input dumpfilter opens), pfn
// by pfn, a window at a time so it runs in bounded memory on large dumps.
//
//   pagecmp same A B     A and B hold the same pfns with the same bytes
//   pagecmp subset A B   every page of A is in B with the same bytes (A filtered from B)
//
// Prints one line of counts; exit 0 when the relation holds, 1 when it does not, 2 on errors.
//
// It tests our READER (on makedumpfile's dumps, split pieces, incomplete dumps). Where a test
// judges what our WRITER produced, it reads with libkdumpfile instead
// (tests/tools/kdumpfile_pagecmp.py), so that one mistake in both cannot pass; write_faults and
// publish_faults keep pagecmp for the kept part of an interrupted dump, which Debian's
// libkdumpfile 0.5.1 cannot read (it stops at the first descriptor never written: "Wrong page
// size: 0", seen on makedumpfile's own cut dump).
#include <cstdio>
#include <cstring>
#include <string>

#include "dumpfilter/dump_input.h"
#include "lib/io/hex.h"

using namespace kk;

namespace {

constexpr u64 kWindow = 32768;
constexpr u64 kBatch = 256;

struct Counts {
  u64 a = 0, b = 0, both = 0, only_a = 0, only_b = 0, differ = 0;
  u64 first_bad = ~0ull;
};

std::vector<bool> present_in(const DumpInput& in, u64 w0, u64 w1) {
  std::vector<bool> p(w1 - w0);
  for (const PfnRun& r : in.present_runs(w0, w1))
    for (u64 pfn = r.start; pfn < r.end; ++pfn) p[pfn - w0] = true;
  return p;
}

Result<Counts> compare(const DumpInput& a, const DumpInput& b) {
  Counts c;
  const u64 ps = a.page_size();
  if (b.page_size() != ps) return make_error(Errc::corrupt, "page sizes differ");
  std::vector<std::byte> x(kBatch * ps), y(kBatch * ps);
  u64 max = std::max(a.max_pfn(), b.max_pfn());
  for (u64 w0 = 0; w0 < max; w0 += kWindow) {
    u64 w1 = std::min(w0 + kWindow, max);
    std::vector<bool> pa = present_in(a, w0, w1), pb = present_in(b, w0, w1);
    u64 pfn = w0;
    while (pfn < w1) {
      bool ina = pa[pfn - w0], inb = pb[pfn - w0];
      c.a += ina;
      c.b += inb;
      if (ina != inb) {
        (ina ? c.only_a : c.only_b)++;
        if (c.first_bad == ~0ull) c.first_bad = pfn;
        ++pfn;
        continue;
      }
      if (!ina) {
        ++pfn;
        continue;
      }
      u64 n = 1;
      while (pfn + n < w1 && n < kBatch && pa[pfn + n - w0] && pb[pfn + n - w0]) ++n;
      KK_TRY(a.read_pages(pfn, n, std::span(x).first(n * ps)));
      KK_TRY(b.read_pages(pfn, n, std::span(y).first(n * ps)));
      for (u64 i = 0; i < n; ++i) {
        ++c.both;
        if (std::memcmp(x.data() + i * ps, y.data() + i * ps, ps) != 0) {
          ++c.differ;
          if (c.first_bad == ~0ull) c.first_bad = pfn + i;
        }
      }
      c.a += n - 1;
      c.b += n - 1;
      pfn += n;
    }
  }
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4 || (std::strcmp(argv[1], "same") != 0 && std::strcmp(argv[1], "subset") != 0)) {
    std::fprintf(stderr, "usage: pagecmp same|subset A B\n");
    return 2;
  }
  Result<std::unique_ptr<DumpInput>> a = open_dump_input(argv[2]);
  if (!a) return std::fprintf(stderr, "pagecmp: %s\n", a.error().msg.c_str()), 2;
  Result<std::unique_ptr<DumpInput>> b = open_dump_input(argv[3]);
  if (!b) return std::fprintf(stderr, "pagecmp: %s\n", b.error().msg.c_str()), 2;
  Result<Counts> c = compare(**a, **b);
  if (!c) return std::fprintf(stderr, "pagecmp: %s\n", c.error().msg.c_str()), 2;
  bool same = std::strcmp(argv[1], "same") == 0;
  bool ok = c->differ == 0 && c->only_a == 0 && (!same || c->only_b == 0) && c->both > 0;
  std::printf("pagecmp %s: A %llu pages, B %llu, compared %llu, only A %llu, only B %llu, differ %llu%s\n",
              argv[1], (unsigned long long)c->a, (unsigned long long)c->b, (unsigned long long)c->both,
              (unsigned long long)c->only_a, (unsigned long long)c->only_b, (unsigned long long)c->differ,
              ok ? "" : (" (first at pfn " + hex(c->first_bad) + ")").c_str());
  return ok ? 0 : 1;
}
