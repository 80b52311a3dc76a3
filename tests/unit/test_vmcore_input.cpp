// test_vmcore_input.cpp: ElfVmcore over ELF vmcores built in code (one PT_NOTE with VMCOREINFO, one
// PT_LOAD of two pages), for the header damage the damaged-input test found.
#include <catch2/catch.hpp>

#include <sys/mman.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <functional>
#include <optional>
#include <string>
#include <tuple>
#include <unistd.h>
#include <vector>

#include "dumpfilter/input_window.h"
#include "dumpfilter/page_pipeline.h"
#include "dumpfilter/vmcore_input.h"
#include "tests/unit/temp_dir.h"

using namespace kk;

namespace {

template <class T>
void put(std::vector<std::byte>& b, size_t at, T v) {
  std::memcpy(b.data() + at, &v, sizeof v);
}

// ehdr, PT_NOTE, PT_LOAD (two pages at paddr, file offset 0x1000), the note, the pages.
std::vector<std::byte> small_vmcore(u64 paddr, const std::string& vmcoreinfo) {
  std::vector<std::byte> b(0x3000);
  const unsigned char ident[16] = {0x7f, 'E', 'L', 'F', 2, 1, 1};
  std::memcpy(b.data(), ident, sizeof ident);
  put<u16>(b, 16, kEtCore);
  put<u16>(b, 18, kEmX86_64);
  put<u32>(b, 20, 1);
  put<u64>(b, 32, 64);   // e_phoff
  put<u16>(b, 52, 64);   // e_ehsize
  put<u16>(b, 54, 56);   // e_phentsize
  put<u16>(b, 56, 2);    // e_phnum
  size_t note = 64 + 2 * 56;
  size_t desc = note + 12 + 12;  // "VMCOREINFO\0" padded to 12
  size_t note_size = 24 + ((vmcoreinfo.size() + 3) & ~size_t{3});
  put<u32>(b, 64, kPtNote);
  put<u64>(b, 64 + 8, note);
  put<u64>(b, 64 + 32, note_size);
  put<u64>(b, 64 + 40, note_size);
  put<u32>(b, 120, kPtLoad);
  put<u64>(b, 120 + 8, 0x1000);
  put<u64>(b, 120 + 16, 0xffff888000000000 + paddr);
  put<u64>(b, 120 + 24, paddr);
  put<u64>(b, 120 + 32, 0x2000);
  put<u64>(b, 120 + 40, 0x2000);
  put<u32>(b, note, 11);
  put<u32>(b, note + 4, static_cast<u32>(vmcoreinfo.size()));
  std::memcpy(b.data() + note + 12, "VMCOREINFO", 10);
  std::memcpy(b.data() + desc, vmcoreinfo.data(), vmcoreinfo.size());
  REQUIRE(desc + vmcoreinfo.size() <= 0x1000);
  return b;
}

Result<std::unique_ptr<ElfVmcore>> open_bytes(std::vector<std::byte> b) {
  return ElfVmcore::open(std::make_unique<MemorySource>("vmcore", std::move(b)));
}

}  // namespace

TEST_CASE("vmcore: a PT_LOAD inside the physical address space opens", "[vmcore]") {
  Result<std::unique_ptr<ElfVmcore>> v =
      open_bytes(small_vmcore(0x100000, "OSRELEASE=6.1.0\nPAGESIZE=4096\nNUMBER(MAX_PHYSMEM_BITS)=46\n"));
  REQUIRE(v.ok());
  REQUIRE((*v)->max_pfn() == 0x102u);
}

// Found by the damaged-input test (tests/integration/damaged_inputs.py): a flipped high bit of
// p_paddr made max_pfn about 2^36, and dumpfilter spent minutes on empty bitmap windows.
TEST_CASE("vmcore: a PT_LOAD past MAX_PHYSMEM_BITS is a damaged header", "[vmcore]") {
  Result<std::unique_ptr<ElfVmcore>> v = open_bytes(
      small_vmcore(0x100000 | (u64{1} << 46), "OSRELEASE=6.1.0\nPAGESIZE=4096\nNUMBER(MAX_PHYSMEM_BITS)=46\n"));
  REQUIRE_FALSE(v.ok());
  REQUIRE(v.error().code == Errc::corrupt);
  REQUIRE(v.error().msg.find("vmcore: PT_LOAD at paddr 0x400000100000") == 0);
  REQUIRE(v.error().msg.find("MAX_PHYSMEM_BITS") != std::string::npos);
  // Without the number, the bound is 52 bits (x86_64 5-level, arm64 LPA).
  REQUIRE(open_bytes(small_vmcore(u64{1} << 46, "OSRELEASE=6.1.0\nPAGESIZE=4096\n")).ok());
  REQUIRE_FALSE(open_bytes(small_vmcore(u64{1} << 52, "OSRELEASE=6.1.0\nPAGESIZE=4096\n")).ok());
}

// Issue 18: an ELF vmcore's page size is its VMCOREINFO PAGESIZE; a crafted 1 GiB (a power of
// two) once sized every page buffer of the dump. Only 4 KiB to 256 KiB is taken.
TEST_CASE("vmcore: a PAGESIZE outside 4 KiB..256 KiB is refused at open", "[vmcore]") {
  for (const char* ps : {"1073741824", "2048", "524288"}) {
    INFO(ps);
    Result<std::unique_ptr<ElfVmcore>> v =
        open_bytes(small_vmcore(0x100000, std::string("OSRELEASE=6.1.0\nPAGESIZE=") + ps + "\n"));
    REQUIRE_FALSE(v);
    CHECK(v.error().code == Errc::corrupt);
    CHECK(v.error().msg == std::string("vmcore: vmcoreinfo: bad PAGESIZE '") + ps + "'");
  }
  Result<std::unique_ptr<ElfVmcore>> ok = open_bytes(small_vmcore(0x100000, "OSRELEASE=6.1.0\nPAGESIZE=65536\n"));
  INFO((ok ? std::string() : ok.error().msg));
  REQUIRE(ok);
  CHECK((*ok)->page_size() == 65536u);
}

// --- Issue 20: /proc/vmcore read through mapped windows ---

TEST_CASE("input mapping: /proc/vmcore-like inputs are mapped, regular files read, --non-mmap reads",
          "[window]") {
  constexpr i64 kExt4 = 0xef53, kTmpfs = 0x01021994;
  CHECK(should_map(MapRequest::procfs, kProcSuperMagic));
  CHECK_FALSE(should_map(MapRequest::procfs, kExt4));
  CHECK_FALSE(should_map(MapRequest::procfs, kTmpfs));
  CHECK_FALSE(should_map(MapRequest::procfs, std::nullopt));  // fstatfs failed: read
  CHECK_FALSE(should_map(MapRequest::never, kProcSuperMagic));
  CHECK(should_map(MapRequest::any_file, kExt4));  // the tests' seam
  CHECK(map_request(false) == MapRequest::procfs);
  CHECK(map_request(true) == MapRequest::never);
  // What the file is, from the kernel: a file of /proc, a file in /tmp.
  int proc = ::open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
  REQUIRE(proc >= 0);
  CHECK(fs_type_of(proc) == kProcSuperMagic);
  ::close(proc);
  CHECK_FALSE(fs_type_of(-1));
}

TEST_CASE("input window: aligned to the window, longer across its edge, cut at the file's end", "[window]") {
  constexpr u64 kMiB = 1u << 20, kPage = 4096;
  std::optional<WindowSpan> w = plan_window(0x101234, kPage, 10 * kMiB, kPage, kMiB);
  REQUIRE(w);
  CHECK(w->start == kMiB);
  CHECK(w->size == kMiB);
  w = plan_window(kMiB - kPage, 2 * kPage, 10 * kMiB, kPage, kMiB);  // crosses 1 MiB
  REQUIRE(w);
  CHECK(w->start == kMiB - kPage);
  CHECK(w->size == kMiB);
  w = plan_window(0, 3 * kMiB, 10 * kMiB, kPage, kMiB);  // longer than a window
  REQUIRE(w);
  CHECK(w->size == 3 * kMiB);
  w = plan_window(kMiB + kMiB / 2, 100, kMiB + kMiB / 2 + 100, kPage, kMiB);  // last, partial page
  REQUIRE(w);
  CHECK(w->start == kMiB);
  CHECK(w->size == kMiB / 2 + kPage);
  CHECK_FALSE(plan_window(kMiB, kPage, kMiB + 100, kPage, kMiB));  // past the end
  CHECK_FALSE(plan_window(0, 0, kMiB, kPage, kMiB));
}

namespace {

constexpr u64 kPage = 4096;

struct Load {
  u64 paddr, filesz, memsz;
};

// A page of the fixture: zeros (pfn % 4 == 0), noise (1), or a short pattern, first word the pfn.
void fill_page(std::byte* p, u64 pfn) {
  u64 x = pfn * 0x9e3779b97f4a7c15ull + 1;
  for (size_t i = 0; i < kPage; ++i) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    p[i] = pfn % 4 == 0 ? std::byte{0} : pfn % 4 == 1 ? std::byte(static_cast<u8>(x)) : std::byte(static_cast<u8>(pfn + i % 16));
  }
  if (pfn % 4) std::memcpy(p, &pfn, sizeof pfn);
}

// ehdr, PT_NOTE, one PT_LOAD per load (file bytes page-aligned from 0x1000 on), the note, the pages.
std::vector<std::byte> vmcore_of(const std::vector<Load>& loads) {
  std::string vi = "OSRELEASE=6.1.0\nPAGESIZE=4096\n";
  std::vector<std::byte> b = small_vmcore(0, vi);  // the header and note; its PT_LOAD is replaced
  size_t nph = 1 + loads.size(), note = 64 + nph * 56;
  std::vector<std::byte> head(b.begin(), b.begin() + 64 + 56);
  head.resize(0x1000);
  put<u16>(head, 56, static_cast<u16>(nph));
  put<u64>(head, 64 + 8, note);
  size_t note_size = 24 + ((vi.size() + 3) & ~size_t{3});
  std::memcpy(head.data() + note, b.data() + 64 + 2 * 56, note_size);
  u64 off = 0x1000;
  std::vector<std::byte> data;
  for (size_t i = 0; i < loads.size(); ++i) {
    size_t ph = 64 + (1 + i) * 56;
    put<u32>(head, ph, kPtLoad);
    put<u64>(head, ph + 8, off);
    put<u64>(head, ph + 16, 0xffff888000000000 + loads[i].paddr);
    put<u64>(head, ph + 24, loads[i].paddr);
    put<u64>(head, ph + 32, loads[i].filesz);
    put<u64>(head, ph + 40, loads[i].memsz);
    size_t at = data.size();
    data.resize(at + align_up(loads[i].filesz, kPage));
    for (u64 p = 0; p < loads[i].filesz / kPage; ++p) fill_page(data.data() + at + p * kPage, loads[i].paddr / kPage + p);
    off += align_up(loads[i].filesz, kPage);
  }
  head.insert(head.end(), data.begin(), data.end());
  return head;
}

// A file source that counts the bytes read from the file after open (pages, not headers) and
// shows its descriptor for mapping, as FileSource does.
class CountingSource final : public ByteSource {
 public:
  explicit CountingSource(InputFile f, std::atomic<u64>* read) : f_(std::move(f)), read_(read) {}
  const std::string& path() const override { return f_.path(); }
  u64 size() const override { return f_.size(); }
  Result<void> read_at(u64 offset, std::span<std::byte> out) const override {
    *read_ += out.size();
    return f_.read_at(offset, out);
  }
  int map_fd() const override { return f_.fd(); }

 private:
  InputFile f_;
  std::atomic<u64>* read_;
};

struct Opened {
  std::unique_ptr<ElfVmcore> v;
  std::atomic<u64> read{0};
};

std::unique_ptr<Opened> open_file(const std::string& path, MapRequest req, MapSetup setup = {}) {
  auto o = std::make_unique<Opened>();
  Result<InputFile> f = InputFile::open(path);
  REQUIRE(f);
  Result<std::unique_ptr<ElfVmcore>> v = ElfVmcore::open(std::make_unique<CountingSource>(std::move(*f), &o->read), req, setup);
  INFO((v ? std::string() : v.error().msg));
  REQUIRE(v);
  o->v = std::move(*v);
  o->read = 0;
  return o;
}

void write_file(const std::string& path, const std::vector<std::byte>& b) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  REQUIRE(f);
  REQUIRE(std::fwrite(b.data(), 1, b.size(), f) == b.size());
  std::fclose(f);
}

using Stored = std::vector<std::tuple<u64, bool, u32, std::vector<std::byte>>>;

// Every present page through the pipeline (LZO), in jobs of two 20-page runs with 3-page gaps
// between them: what each page became.
Stored stored_pages(const DumpInput& in, int threads,
                    std::function<Result<std::span<std::byte>>(size_t)> out_space = {},
                    const std::function<void(const PageResult&)>& seen = {}) {
  std::vector<PfnRun> pieces;
  for (const PfnRun& r : in.present_runs(0, in.max_pfn()))
    for (u64 p = r.start; p < r.end; p += 23) pieces.push_back({p, std::min(p + 20, r.end)});
  // The piece 0x2fa-0x30e crosses from one segment into the next: read, not mapped.
  size_t next = 0;
  auto job = [&](PageJob& j) {
    if (next >= pieces.size()) return false;
    for (int k = 0; k < 2 && next < pieces.size(); ++k, ++next) {
      j.runs.push_back(pieces[next]);
      j.pages += pieces[next].end - pieces[next].start;
    }
    return true;
  };
  PipelineSettings s;
  s.input = &in;
  s.codec = CodecKind::lzo;
  s.codec_flag = 4;
  s.threads = threads;
  s.out_space = std::move(out_space);
  Stored got;
  Result<void> r = run_page_pipeline(s, job, [&](std::span<const PageResult> rs) -> Result<void> {
    for (const PageResult& pr : rs) {
      if (seen) seen(pr);
      got.emplace_back(pr.pfn, pr.zero, pr.flags, std::vector<std::byte>(pr.stored.begin(), pr.stored.end()));
    }
    return {};
  });
  INFO((r ? std::string() : r.error().msg));
  REQUIRE(r);
  return got;
}

// 0x100-0x2ff in one segment, 0x300-0x3ff in the next (adjacent), 0x500-0x560 where the file
// holds half of the last page (the rest reads as zeros: read, not mapped).
std::vector<Load> fixture_loads() {
  return {{0x100000, 0x200000, 0x200000}, {0x300000, 0x100000, 0x100000}, {0x500000, 0x60800, 0x80000}};
}

std::atomic<int> g_maps{0};

// Every other mmap fails, as an unaligned range or a kernel out of memory would.
void* every_other_fails(u64 len, int fd, u64 offset) {
  if (g_maps++ % 2) {
    errno = EINVAL;
    return MAP_FAILED;
  }
  return map_read_only(len, fd, offset);
}

// /proc/vmcore of a kernel without mmap support.
void* always_fails(u64, int, u64) {
  errno = ENODEV;
  return MAP_FAILED;
}

}  // namespace

TEST_CASE("vmcore: a regular file is read, not mapped, unless the tests' seam asks", "[vmcore][window]") {
  test::TempDir dir;
  std::string path = dir.file("vmcore");
  write_file(path, vmcore_of(fixture_loads()));
  std::vector<std::byte> page(kPage), want(kPage);
  fill_page(want.data(), 0x180);
  InputWindow w;
  for (MapRequest req : {MapRequest::procfs, MapRequest::never}) {
    std::unique_ptr<Opened> o = open_file(path, req);
    CHECK((*o).v->view_pages(0x180, 1, w) == nullptr);
  }
  std::unique_ptr<Opened> o = open_file(path, MapRequest::any_file);
  const std::byte* p = o->v->view_pages(0x180, 1, w);
  REQUIRE(p);
  CHECK(std::memcmp(p, want.data(), kPage) == 0);
  REQUIRE(o->v->read_pages(0x180, 1, page));
  CHECK(page == want);
  CHECK(o->v->view_pages(0x560, 1, w) == nullptr);  // beyond p_filesz: read_pages gives zeros
  CHECK(o->v->view_pages(0x2ff, 2, w) == nullptr);  // across two segments
  CHECK(o->v->view_pages(0x400, 1, w) == nullptr);  // not in the dump
  CHECK(o->v->view_pages(0x300, 2, w) != nullptr);
}

TEST_CASE("vmcore pipeline: mapped pages are compressed to the bytes the read path gives", "[vmcore][window]") {
  test::TempDir dir;
  std::string path = dir.file("vmcore");
  write_file(path, vmcore_of(fixture_loads()));
  std::unique_ptr<Opened> read = open_file(path, MapRequest::never);
  Stored want = stored_pages(*read->v, 1);
  REQUIRE(want.size() > 700);
  u64 read_bytes = read->read;
  CHECK(read_bytes >= 700 * kPage);
  for (int threads : {1, 3}) {
    CAPTURE(threads);
    CHECK(stored_pages(*read->v, threads) == want);
    // Windows of 16 pages: a 20-page run needs its own, the job's second run moves it again, so
    // each run must be compressed before the next one is located.
    for (u64 window : {u64{16} * kPage, kDefaultWindowBytes}) {
      CAPTURE(window);
      MapSetup setup;
      setup.window = window;
      std::unique_ptr<Opened> mapped = open_file(path, MapRequest::any_file, setup);
      CHECK(stored_pages(*mapped->v, threads) == want);
      // Only the run across the two segments and the one with the half page are read.
      CHECK(mapped->read.load() < 100 * kPage);
    }
  }
}

TEST_CASE("vmcore pipeline: at one thread the pages are stored in the writer's lent buffer, the same bytes",
          "[vmcore][window]") {
  // A writer's buffer (DumpWriter::page_space): each job's stored pages must land in the room it
  // lends, back to back from its start, and be handed to consume() from there, not from a slot.
  test::TempDir dir;
  std::string path = dir.file("vmcore");
  write_file(path, vmcore_of(fixture_loads()));
  std::unique_ptr<Opened> read = open_file(path, MapRequest::never);
  const Stored want = stored_pages(*read->v, 1);
  for (int threads : {1, 3}) {
    CAPTURE(threads);
    std::vector<std::byte> lent(64 * kPage);  // the fixture's jobs hold up to 40 pages
    std::vector<size_t> asked;
    auto out_space = [&](size_t n) -> Result<std::span<std::byte>> {
      asked.push_back(n);
      REQUIRE(n <= lent.size());
      return std::span(lent).first(n);
    };
    u64 in_place = 0, stored = 0;
    const std::byte* next = nullptr;
    auto seen = [&](const PageResult& pr) {
      if (pr.stored.empty()) return;
      ++stored;
      bool inside = pr.stored.data() >= lent.data() && pr.stored.data() < lent.data() + lent.size();
      if (!inside) return;
      ++in_place;
      // Back to back: each stored page starts where the job's previous one ended.
      if (next && pr.stored.data() != lent.data()) CHECK(pr.stored.data() == next);
      next = pr.stored.data() + pr.stored.size();
    };
    CHECK(stored_pages(*read->v, threads, out_space, seen) == want);
    REQUIRE(stored > 500);
    // One thread: every stored page in place. More: slots, but the writer is asked for the same
    // room per job, so it flushes at the same pages whatever the thread count.
    CHECK(in_place == (threads == 1 ? stored : 0));
    CHECK(asked.size() >= stored / 40);
    for (size_t n : asked) CHECK(n <= 42 * kPage);
  }
}

TEST_CASE("vmcore pipeline: a window mmap refuses is read instead, nothing lost", "[vmcore][window]") {
  test::TempDir dir;
  std::string path = dir.file("vmcore");
  write_file(path, vmcore_of(fixture_loads()));
  std::unique_ptr<Opened> read = open_file(path, MapRequest::never);
  Stored want = stored_pages(*read->v, 1);
  u64 read_bytes = read->read;
  for (int threads : {1, 3}) {
    CAPTURE(threads);
    MapSetup setup;
    setup.window = 16 * kPage;
    setup.map = always_fails;
    std::unique_ptr<Opened> none = open_file(path, MapRequest::any_file, setup);
    CHECK(stored_pages(*none->v, threads) == want);
    CHECK(none->read.load() == read_bytes);  // every page read, as with --non-mmap
    setup.map = every_other_fails;
    g_maps = 0;
    std::unique_ptr<Opened> half = open_file(path, MapRequest::any_file, setup);
    CHECK(stored_pages(*half->v, threads) == want);
    CHECK(g_maps.load() > 10);
    CHECK(half->read.load() > 100 * kPage);  // the refused windows' runs were read
    CHECK(half->read.load() < read_bytes);
  }
}
