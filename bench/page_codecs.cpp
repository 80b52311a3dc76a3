// page_codecs.cpp: per-page codec speed and size on a vmcore's own pages, one core, CPU time of
// the thread (so a busy machine disturbs it less than wall time): zlib level 1 (makedumpfile -c),
// libdeflate levels 1 and 2, LZO1X-1 and its 11/12/15-bit dictionary variants (same format;
// smaller dictionaries clear less work memory per page), zstd at fast levels with and without Huffman-coded
// literals, and XXH3-128 over the same bytes. Not part of the build:
//   g++ -O2 -o /tmp/page_codecs bench/page_codecs.cpp -lzstd -lz -ldeflate -lxxhash -llzo2
//   /tmp/page_codecs VMCORE   # 65,536 non-zero 4 KiB pages from 1 MiB into the file
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>
#include <zlib.h>
#include <libdeflate.h>
#include <xxhash.h>
#include <lzo/lzo1x.h>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <vector>
#include <string>
#include <functional>
#include <time.h>
static double cpu_now(){timespec t; clock_gettime(CLOCK_THREAD_CPUTIME_ID,&t); return t.tv_sec+t.tv_nsec*1e-9;}
int main(int argc, char** argv) {
  if (argc < 2) return 2;
  FILE* f = fopen(argv[1], "rb");
  if (!f) return perror(argv[1]), 1;
  size_t want = 1u << 16;
  long skip = 1 << 20;
  fseek(f, skip, SEEK_SET);
  std::vector<unsigned char> pages; std::vector<unsigned char> pg(4096); size_t n = 0;
  while (n < want && fread(pg.data(), 1, 4096, f) == 4096) {
    bool z = true; for (auto c : pg) if (c) { z = false; break; }
    if (z) continue;
    pages.insert(pages.end(), pg.begin(), pg.end());
    ++n;
  }
  printf("%zu non-zero pages\n", n);
  std::vector<unsigned char> out(8192);
  auto run = [&](const char* name, std::function<size_t(const unsigned char*)> fn) {
    double best = 1e9; size_t tot = 0;
    for (int r = 0; r < 2; ++r) {
      double t0 = cpu_now(); tot = 0;
      for (size_t i = 0; i < n; ++i) { size_t c = fn(&pages[i * 4096]); tot += (c && c < 4096) ? c : 4096; }
      double s = cpu_now() - t0; if (s < best) best = s;
    }
    printf("%-28s %7.0f MB/s  %6.2f %%\n", name, n * 4096 / best / 1e6, 100.0 * tot / (n * 4096.0));
  };
  z_stream zs{}; deflateInit(&zs, 1);
  run("zlib 1", [&](const unsigned char* p) { deflateReset(&zs); zs.next_in = (Bytef*)p; zs.avail_in = 4096; zs.next_out = out.data(); zs.avail_out = out.size(); deflate(&zs, Z_FINISH); return out.size() - zs.avail_out; });
  for (int l : {1, 2}) {
    auto* c = libdeflate_alloc_compressor(l);
    run(("libdeflate " + std::to_string(l)).c_str(), [&](const unsigned char* p) { return libdeflate_zlib_compress(c, p, 4096, out.data(), out.size()); });
  }
  lzo_init(); std::vector<unsigned char> wrk(LZO1X_1_15_MEM_COMPRESS);
  run("lzo1x_1", [&](const unsigned char* p) { lzo_uint o = out.size(); lzo1x_1_compress(p, 4096, out.data(), &o, wrk.data()); return (size_t)o; });
  run("lzo1x_1_11", [&](const unsigned char* p) { lzo_uint o = out.size(); lzo1x_1_11_compress(p, 4096, out.data(), &o, wrk.data()); return (size_t)o; });
  run("lzo1x_1_12", [&](const unsigned char* p) { lzo_uint o = out.size(); lzo1x_1_12_compress(p, 4096, out.data(), &o, wrk.data()); return (size_t)o; });
  run("lzo1x_1_15", [&](const unsigned char* p) { lzo_uint o = out.size(); lzo1x_1_15_compress(p, 4096, out.data(), &o, wrk.data()); return (size_t)o; });
  for (int l : {1, -1, -2, -3}) for (int lit : {0, 1}) {
    ZSTD_CCtx* c = ZSTD_createCCtx(); ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, l); ZSTD_CCtx_setParameter(c, ZSTD_c_windowLog, 12);
    if (lit) ZSTD_CCtx_setParameter(c, ZSTD_c_literalCompressionMode, 1 /*huffman*/);
    run(("zstd " + std::to_string(l) + (lit ? " lit=huf" : "")).c_str(), [&](const unsigned char* p) { return ZSTD_compress2(c, out.data(), out.size(), p, 4096); });
  }
  XXH3_state_t* st = XXH3_createState();
  double t0 = cpu_now(); for (int r = 0; r < 4; ++r) { XXH3_128bits_reset(st); XXH3_128bits_update(st, pages.data(), pages.size()); XXH3_128bits_digest(st);} 
  printf("xxh3-128 %.0f MB/s\n", 4 * pages.size() / (cpu_now() - t0) / 1e6);
}
