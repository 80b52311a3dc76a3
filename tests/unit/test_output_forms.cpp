// ELF pieces, the flattened stream and the page pipeline: the pure parts of -E, -F and threads.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <atomic>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <set>
#include <tuple>

#include "dumpfilter/flattened_format.h"
#include "dumpfilter/flattened_sink.h"
#include "dumpfilter/page_pipeline.h"
#include "dumpfilter/writer_elf.h"
#include "dumpfilter/writer_split.h"

using namespace kk;

namespace {

constexpr u64 kPs = 4096;

LoadSegment seg(u64 paddr, u64 size, u64 vaddr) {
  LoadSegment s;
  s.paddr = paddr;
  s.memsz = s.filesz = size;
  s.vaddr = vaddr;
  return s;
}

std::vector<ElfPiece> pieces_of(std::vector<LoadSegment> segs,
                                std::vector<std::pair<u64, bool>> pages) {
  std::vector<ElfPiece> out;
  ElfPieceTracker t(std::move(segs), kPs, [&](const ElfPiece& p) -> Result<void> {
    out.push_back(p);
    return {};
  });
  u64 off = 0x10000;
  for (auto [pfn, zero] : pages) {
    REQUIRE(t.add(pfn, zero, off));
    if (!zero) off += kPs;
  }
  REQUIRE(t.close());
  return out;
}

}  // namespace

TEST_CASE("elf pieces: runs of kept pages, zero tails in p_memsz", "[elf]") {
  // pfns 1,2 data, 3 zero (tail), 4 data (new piece: data after zeros), 6 zero alone (gap).
  auto p = pieces_of({seg(0, 16 * kPs, 0xffff800000000000)},
                     {{1, false}, {2, false}, {3, true}, {4, false}, {6, true}});
  REQUIRE(p.size() == 3);
  CHECK(p[0].paddr == kPs);
  CHECK(p[0].vaddr == 0xffff800000000000 + kPs);
  CHECK(p[0].filesz == 2 * kPs);
  CHECK(p[0].memsz == 3 * kPs);
  CHECK(p[0].offset == 0x10000);
  CHECK(p[1].paddr == 4 * kPs);
  CHECK(p[1].filesz == kPs);
  CHECK(p[1].offset == 0x10000 + 2 * kPs);
  CHECK(p[2].paddr == 6 * kPs);
  CHECK(p[2].filesz == 0);
  CHECK(p[2].memsz == kPs);
}

TEST_CASE("elf pieces: cut at segment edges; overlapping text shares the data", "[elf]") {
  // RAM [0, 0x9fc00) and [1 MiB, 8 MiB); kernel text mapped over [2 MiB, 3 MiB).
  std::vector<LoadSegment> segs = {seg(0, 0x9fc00, 0xffff888000000000),
                                   seg(0x100000, 0x700000, 0xffff888000100000),
                                   seg(0x200000, 0x100000, 0xffffffff81000000)};
  std::vector<std::pair<u64, bool>> pages;
  for (u64 pfn = 0x9e; pfn < 0xa0; ++pfn) pages.push_back({pfn, false});      // edge of low RAM
  for (u64 pfn = 0x1ff; pfn < 0x202; ++pfn) pages.push_back({pfn, false});    // into the text
  auto p = pieces_of(segs, pages);
  REQUIRE(p.size() == 3);
  CHECK(p[0].paddr == 0x9e000);
  CHECK(p[0].memsz == 0x9fc00 - 0x9e000);  // clipped to the segment, mid-page
  CHECK(p[0].filesz == p[0].memsz);
  CHECK(p[1].paddr == 0x1ff000);
  CHECK(p[1].memsz == 3 * kPs);
  CHECK(p[1].vaddr == 0xffff8880001ff000);
  CHECK(p[2].paddr == 0x200000);
  CHECK(p[2].vaddr == 0xffffffff81000000);
  CHECK(p[2].memsz == 2 * kPs);
  CHECK(p[2].offset == p[1].offset + kPs);  // the same bytes as the RAM piece
}

TEST_CASE("flattened sink: header, merged records, end marker", "[flattened]") {
  char path[] = "/tmp/kk-flat-XXXXXX";
  int fd = ::mkstemp(path);
  REQUIRE(fd >= 0);
  {
    FlattenedSink s(fd, "test stream");
    std::vector<std::byte> a(100, std::byte{1}), b(50, std::byte{2}), c(10, std::byte{3});
    REQUIRE(s.write_at(4096, a));
    REQUIRE(s.write_at(4196, b));  // continues the record
    REQUIRE(s.write_at(0, c));     // a new record
    REQUIRE(s.finish());
    REQUIRE_FALSE(s.write_at(0, c));  // nothing after the end
  }
  std::vector<std::byte> all(static_cast<size_t>(::lseek(fd, 0, SEEK_END)));
  REQUIRE(::pread(fd, all.data(), all.size(), 0) == static_cast<ssize_t>(all.size()));
  ::close(fd);
  ::unlink(path);
  REQUIRE(all.size() == 4096 + 16 + 150 + 16 + 10 + 16);
  REQUIRE(std::memcmp(all.data(), "makedumpfile", 12) == 0);
  flattened::RecordHeader r{};
  std::memcpy(&r, all.data() + 4096, sizeof r);
  CHECK(r.offset == 4096);
  CHECK(r.size == 150);
  std::memcpy(&r, all.data() + 4096 + 16 + 150, sizeof r);
  CHECK(r.offset == 0);
  CHECK(r.size == 10);
  std::memcpy(&r, all.data() + all.size() - 16, sizeof r);
  CHECK(r.offset == -1);
  CHECK(r.size == -1);
}

namespace {

// A 4096-page x86_64 input whose only real member is read_pages(): what the pipeline uses.
class PagesOnlyInput : public DumpInput {
 public:
  const std::string& path() const override { return path_; }
  Arch arch() const override { return Arch::x86_64; }
  u64 page_size() const override { return kPs; }
  u64 max_pfn() const override { return 4096; }
  std::vector<PfnRun> present_runs(u64 lo, u64 hi) const override { return {{lo, hi}}; }
  Result<void> read_phys(u64, std::span<std::byte>) const override { return {}; }
  std::span<const std::byte> note_bytes() const override { return {}; }
  u64 vmcoreinfo_offset_in_notes() const override { return 0; }
  u64 vmcoreinfo_size() const override { return 0; }
  const Vmcoreinfo& vmcoreinfo() const override { return vi_; }
  int nr_cpus() const override { return 1; }

 private:
  std::string path_ = "fake";
  Vmcoreinfo vi_;
};

// Pages whose first byte is the pfn's low byte; pfns divisible by 5 are all zeros; pfn 999 fails.
class FakeInput final : public PagesOnlyInput {
 public:
  Result<void> read_pages(u64 pfn, u64 count, std::span<std::byte> out) const override {
    std::memset(out.data(), 0, out.size());
    for (u64 i = 0; i < count; ++i) {
      if (pfn + i == 999) return make_error(Errc::io, "fake: bad page 999");
      if ((pfn + i) % 5) out[i * kPs] = std::byte(static_cast<u8>(pfn + i));
    }
    return {};
  }
};

}  // namespace

namespace {

// A job source for the 4096-page fake inputs: jobs of 64 pages, in order, then none.
std::function<bool(PageJob&)> whole_input_jobs() {
  return [next_pfn = u64{0}](PageJob& j) mutable {
    if (next_pfn >= 4096) return false;
    j.runs.push_back({next_pfn, next_pfn + 64});
    j.pages = 64;
    next_pfn += 64;
    return true;
  };
}

}  // namespace

TEST_CASE("page pipeline: results in job order at any thread count", "[pipeline]") {
  FakeInput in;
  for (int threads : {1, 3, 8}) {
    PipelineSettings s;
    s.input = &in;
    s.codec = CodecKind::zlib;
    s.codec_flag = 1;
    s.threads = threads;
    u64 next_pfn = 0;
    auto next = [&](PageJob& j) {
      if (next_pfn >= 900) return false;
      j.runs.push_back({next_pfn, next_pfn + 7});  // two runs per job, with a gap
      j.runs.push_back({next_pfn + 10, next_pfn + 12});
      j.pages = 9;
      next_pfn += 20;
      return true;
    };
    std::vector<u64> seen;
    u64 zeros = 0, packed = 0;
    auto consume = [&](std::span<const PageResult> rs) -> Result<void> {
      for (const PageResult& r : rs) {
        seen.push_back(r.pfn);
        if (r.zero) ++zeros;
        else if (r.flags == 1) ++packed;
      }
      return {};
    };
    REQUIRE(run_page_pipeline(s, next, consume));
    REQUIRE(seen.size() == 45 * 9);
    for (size_t i = 1; i < seen.size(); ++i) REQUIRE(seen[i] > seen[i - 1]);
    CHECK(zeros > 0);
    CHECK(packed == seen.size() - zeros);
  }
}

namespace {

// FakeInput's pages, but pfn 999 is malformed (not an I/O error): that stops a dump.
class MalformedInput final : public PagesOnlyInput {
 public:
  Result<void> read_pages(u64 pfn, u64 count, std::span<std::byte> out) const override {
    std::memset(out.data(), 0, out.size());
    if (pfn <= 999 && 999 < pfn + count) return make_error(Errc::corrupt, "fake: bad page 999");
    return {};
  }
};

}  // namespace

TEST_CASE("page pipeline: an unreadable page is lost, the rest of its run and the dump go on",
          "[pipeline]") {
  FakeInput in;
  for (int threads : {1, 4}) {
    PipelineSettings s;
    s.input = &in;
    s.codec = CodecKind::zlib;
    s.codec_flag = 1;
    s.threads = threads;
    auto next = whole_input_jobs();
    std::vector<u64> lost;
    u64 consumed = 0, stored = 0;
    Result<void> r = run_page_pipeline(s, next, [&](std::span<const PageResult> rs) -> Result<void> {
      for (const PageResult& p : rs) {
        CHECK(p.pfn == consumed++);
        if (p.lost) {
          lost.push_back(p.pfn);
          CHECK(p.stored.empty());
          CHECK_FALSE(p.zero);
        } else if (!p.zero) {
          ++stored;
        }
      }
      return {};
    });
    REQUIRE(r);
    CHECK(consumed == 4096);
    CHECK(lost == std::vector<u64>{999});
    // All but the zeros (820 multiples of 5, and 12 more multiples of 256 whose pfn byte is 0)
    // and pfn 999.
    CHECK(stored == 4096 - 820 - 12 - 1);
  }
}

namespace {

// Out of memory while reading pfn 2000, on whichever thread takes that job.
class OutOfMemoryInput final : public PagesOnlyInput {
 public:
  Result<void> read_pages(u64 pfn, u64 count, std::span<std::byte> out) const override {
    std::memset(out.data(), 0, out.size());
    if (pfn <= 2000 && 2000 < pfn + count) throw std::bad_alloc();
    return {};
  }
};

}  // namespace

TEST_CASE("page pipeline: out of memory on any thread comes back to the caller, not std::terminate",
          "[pipeline]") {
  OutOfMemoryInput in;
  for (int threads : {1, 4}) {
    PipelineSettings s;
    s.input = &in;
    s.threads = threads;
    auto next = whole_input_jobs();
    u64 consumed = 0;
    auto consume = [&](std::span<const PageResult> rs) -> Result<void> {
      consumed += rs.size();
      return {};
    };
    REQUIRE_THROWS_AS(run_page_pipeline(s, next, consume), std::bad_alloc);
    CHECK(consumed <= 2000);  // nothing after the failed job was written
  }
}

TEST_CASE("page pipeline: a malformed input stops it and is returned", "[pipeline]") {
  MalformedInput in;
  PipelineSettings s;
  s.input = &in;
  s.threads = 4;
  auto next = whole_input_jobs();
  u64 consumed = 0;
  Result<void> r = run_page_pipeline(s, next, [&](std::span<const PageResult> rs) -> Result<void> {
    consumed += rs.size();
    return {};
  });
  REQUIRE_FALSE(r);
  CHECK(r.error().msg == "fake: bad page 999");
  CHECK(consumed == 960);  // every job before the bad one, nothing after
}

namespace {

// Pages whose content is a function of the pfn: every third one incompressible noise, the others
// a short pattern, so a job mixes pages stored compressed and pages stored raw.
std::vector<std::byte> expected_page(u64 pfn) {
  std::vector<std::byte> p(kPs);
  u64 x = pfn * 0x9e3779b97f4a7c15ull + 1;
  for (size_t i = 0; i < p.size(); ++i) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    p[i] = pfn % 3 == 0 ? std::byte(static_cast<u8>(x)) : std::byte(static_cast<u8>(pfn + i % 16));
  }
  return p;
}

class PatternInput final : public PagesOnlyInput {
 public:
  Result<void> read_pages(u64 pfn, u64 count, std::span<std::byte> out) const override {
    for (u64 i = 0; i < count; ++i) {
      std::vector<std::byte> p = expected_page(pfn + i);
      std::memcpy(out.data() + i * kPs, p.data(), kPs);
    }
    return {};
  }
};

}  // namespace

TEST_CASE("page pipeline: the stored bytes give every page back, compressed or raw", "[pipeline]") {
  PatternInput in;
  for (CodecKind codec : {CodecKind::none, CodecKind::lzo, CodecKind::zstd}) {
    for (int threads : {1, 2, 5}) {
      CAPTURE(static_cast<int>(codec), threads);
      PipelineSettings s;
      s.input = &in;
      s.codec = codec;
      s.codec_flag = 4;
      s.threads = threads;
      u64 next_pfn = 0, handed = 0;
      auto next = [&](PageJob& j) {
        if (next_pfn >= 3000) return false;
        u64 n = 1 + next_pfn % job_pages(kPs);  // jobs of every size up to a job's, a gap after each
        j.runs.push_back({next_pfn, next_pfn + n});
        j.pages = n;
        next_pfn += n + 1;
        handed += n;
        return true;
      };
      std::unique_ptr<Codec> dec;
      if (codec != CodecKind::none) dec = std::move(*make_codec(codec));
      u64 raw = 0, packed = 0;
      std::optional<u64> last;
      std::vector<std::byte> page(kPs);
      Result<void> r = run_page_pipeline(s, next, [&](std::span<const PageResult> rs) -> Result<void> {
        for (const PageResult& pr : rs) {
          if (last && pr.pfn <= *last) return make_error(Errc::corrupt, "out of order at pfn " + std::to_string(pr.pfn));
          last = pr.pfn;
          if (pr.flags == 4) {
            KK_TRY(dec->decompress(pr.stored, page));
            ++packed;
          } else {
            if (pr.stored.size() != kPs) return make_error(Errc::corrupt, "raw page of the wrong size");
            std::memcpy(page.data(), pr.stored.data(), kPs);
            ++raw;
          }
          if (page != expected_page(pr.pfn)) return make_error(Errc::corrupt, "pfn " + std::to_string(pr.pfn) + " differs");
        }
        return {};
      });
      INFO((r ? std::string() : r.error().msg));
      REQUIRE(r);
      CHECK(raw + packed == handed);
      if (codec == CodecKind::none) CHECK(packed == 0);
      else CHECK((raw > 900 && packed > 1800));
    }
  }
}

TEST_CASE("page pipeline: one thread keeps its stored pages in one slot", "[pipeline]") {
  // A capture kernel runs one thread: each slot it touches stays resident (issue 20), and one
  // thread writes each job before taking the next, so every job goes through the same slot.
  CHECK(pipeline_slots(1) == 1u);
  CHECK(pipeline_slots(2) == 5u);
  FakeInput in;
  for (int threads : {1, 2}) {
    PipelineSettings s;
    s.input = &in;
    s.codec = CodecKind::lzo;
    s.threads = threads;
    auto next = whole_input_jobs();
    std::set<const std::byte*> slots;  // where each job's stored bytes start
    u64 consumed = 0;
    Result<void> r = run_page_pipeline(s, next, [&](std::span<const PageResult> rs) -> Result<void> {
      consumed += rs.size();
      for (const PageResult& p : rs)
        if (!p.stored.empty()) {
          slots.insert(p.stored.data());
          break;
        }
      return {};
    });
    REQUIRE(r);
    CHECK(consumed == 4096);
    CHECK(slots.size() <= pipeline_slots(threads));
    if (threads == 1) CHECK(slots.size() == 1u);
  }
}

namespace {

// PatternInput's pages, also shown in place as a mapping would: each thread's window holds the
// pages of its last view only (pfns 1024 to 1099 cannot be shown); counts the pages it is asked
// to read.
class ShownPatternInput final : public PagesOnlyInput {
 public:
  Result<void> read_pages(u64 pfn, u64 count, std::span<std::byte> out) const override {
    read_ += count;
    return PatternInput().read_pages(pfn, count, out);
  }
  const std::byte* view_pages(u64 pfn, u64 count, InputWindow& w) const override {
    if (pfn + count > 2048 || (pfn < 1100 && pfn + count > 1024)) return nullptr;
    std::lock_guard g(mu_);
    std::vector<std::byte>& b = windows_[&w];
    // The same memory each time, room for the longest run here (30 pages): the last view
    // replaces the one before.
    b.resize(64 * kPs);
    for (u64 i = 0; i < count; ++i) std::memcpy(b.data() + i * kPs, expected_page(pfn + i).data(), kPs);
    return b.data();
  }
  u64 pages_read() const { return read_; }

 private:
  mutable std::mutex mu_;
  mutable std::map<const InputWindow*, std::vector<std::byte>> windows_;
  mutable std::atomic<u64> read_{0};
};

// Every page's (pfn, flags, stored bytes) from a pipeline run over pfns [0, 2048).
std::vector<std::tuple<u64, u32, std::vector<std::byte>>> stored_pages(const DumpInput& in, CodecKind codec,
                                                                       int threads, bool edit) {
  PipelineSettings s;
  s.input = &in;
  s.codec = codec;
  s.codec_flag = 2;
  s.threads = threads;
  if (edit) s.edit = [](u64, std::span<std::byte>) {};
  std::vector<std::tuple<u64, u32, std::vector<std::byte>>> got;
  auto next = [pfn = u64{0}](PageJob& j) mutable {
    if (pfn >= 2048) return false;
    // Two runs a job, across the edges of what is shown.
    j.runs.push_back({pfn, pfn + 30});
    j.runs.push_back({pfn + 35, std::min<u64>(pfn + 50, 2048)});
    j.pages = j.runs[0].end - j.runs[0].start + j.runs[1].end - j.runs[1].start;
    pfn += 50;
    return true;
  };
  REQUIRE(run_page_pipeline(s, next, [&](std::span<const PageResult> rs) -> Result<void> {
    for (const PageResult& r : rs)
      got.emplace_back(r.pfn, r.flags, std::vector<std::byte>(r.stored.begin(), r.stored.end()));
    return {};
  }));
  return got;
}

}  // namespace

TEST_CASE("page pipeline: pages the input shows in place are compressed there, not read, to the same bytes",
          "[pipeline]") {
  PatternInput read_only;
  for (CodecKind codec : {CodecKind::lzo, CodecKind::zstd}) {
    auto want = stored_pages(read_only, codec, 1, false);
    REQUIRE(want.size() == 41 * 45 - 2);  // 2000-2029 and 2035-2047 last
    for (int threads : {1, 3}) {
      CAPTURE(static_cast<int>(codec), threads);
      ShownPatternInput shown;
      CHECK(stored_pages(shown, codec, threads, false) == want);
      // Only the runs that touch pfns 1024-1099 are read: 1000-1029, 1035-1049, 1050-1079, 1085-1099.
      CHECK(shown.pages_read() == 90);
    }
  }
  // An edit (--config) changes the page: it is read into memory of our own. Without a codec the
  // page is stored as read, straight into the job's slot.
  ShownPatternInput edited, raw;
  const u64 want_lzo_size = 41 * 45 - 2;
  CHECK(stored_pages(edited, CodecKind::lzo, 2, true) == stored_pages(read_only, CodecKind::lzo, 1, false));
  CHECK(edited.pages_read() == want_lzo_size);
  CHECK(stored_pages(raw, CodecKind::none, 2, false) == stored_pages(read_only, CodecKind::none, 1, false));
  CHECK(raw.pages_read() == want_lzo_size);
}

TEST_CASE("page pipeline: an error from the consumer stops it and is returned", "[pipeline]") {
  FakeInput in;
  for (int threads : {1, 2, 4}) {
    PipelineSettings s;
    s.input = &in;
    s.codec = CodecKind::lzo;
    s.threads = threads;
    u64 next_pfn = 0, handed = 0;
    auto next = [&](PageJob& j) {
      if (next_pfn >= 960) return false;  // before the fake input's bad page
      j.runs.push_back({next_pfn, next_pfn + 32});
      j.pages = 32;
      next_pfn += 32;
      ++handed;
      return true;
    };
    u64 calls = 0;
    Result<void> r = run_page_pipeline(s, next, [&](std::span<const PageResult>) -> Result<void> {
      if (++calls == 3) return make_error(Errc::io, "disk full");
      return {};
    });
    REQUIRE_FALSE(r);
    CHECK(r.error().msg == "disk full");
    CHECK(calls == 3);                                      // nothing consumed after the error
    CHECK(handed <= 3 + 2 * static_cast<u64>(threads) + 1);  // nor many more jobs read
  }
}

TEST_CASE("split boundaries: about equal kept pages per part", "[split]") {
  // Kept pages only in [100, 400): three parts of 100 each.
  auto kept_before = [](u64 pfn) { return std::clamp<u64>(pfn, 100, 400) - 100; };
  std::vector<u64> b = split_boundaries(1000, 300, 3, kept_before);
  REQUIRE(b == std::vector<u64>{0, 200, 300, 1000});
  // More parts than kept pages: empty parts are allowed, boundaries stay in order.
  std::vector<u64> few = split_boundaries(10, 1, 3, [](u64 pfn) { return pfn > 5 ? u64{1} : u64{0}; });
  REQUIRE(few.size() == 4);
  for (size_t i = 1; i < few.size(); ++i) REQUIRE(few[i] >= few[i - 1]);
  REQUIRE(few.back() == 10);
}
