// test_output_faults.cpp: the pure and file-level parts of issue 10's write side. A dump that stops
// early (a sink that runs out of space part-way) keeps its incomplete flag and its unwritten page
// descriptors read as lost (all zero); dump files live under "<final>-incomplete" until published
// and symbolic links are refused; private directories (the manifest: test_manifest.cpp).
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "temp_dir.h"
#include "dumpfilter/cli.h"
#include "dumpfilter/writer_diskdump.h"
#include "io/sink.h"

using namespace kk;
using kk::test::TempDir;

namespace {

constexpr u64 kPage = 4096;

bool exists(const std::string& p) {
  struct stat st;
  return ::lstat(p.c_str(), &st) == 0;
}

// A file in memory that holds `limit` bytes: writes past it store what fits and fail as a full
// disk does.
class FullSink final : public ByteSink {
 public:
  explicit FullSink(u64 limit) : limit_(limit) {}
  Result<void> write_at(u64 offset, std::span<const std::byte> data) override {
    u64 fits = offset >= limit_ ? 0 : std::min<u64>(data.size(), limit_ - offset);
    if (bytes.size() < offset + fits) bytes.resize(offset + fits);
    std::memcpy(bytes.data() + offset, data.data(), fits);
    if (fits < data.size()) return make_error(Errc::no_space, "mem: write at " + std::to_string(offset) + ": No space left on device");
    return {};
  }
  Result<void> finish() override { return make_error(Errc::io, "mem: finish of a full sink"); }
  Result<std::string> keep_partial() override { return name_; }
  const std::string& name() const override { return name_; }
  std::vector<std::byte> bytes;

 private:
  u64 limit_;
  std::string name_ = "mem";
};

template <class T>
T at(const std::vector<std::byte>& b, u64 off) {
  T v{};
  if (off + sizeof v <= b.size()) std::memcpy(&v, b.data() + off, sizeof v);
  return v;  // past the end: zeros, as a sparse file's hole reads
}

}  // namespace

TEST_CASE("diskdump writer stopped by a full disk: flagged, unwritten descriptors lost", "[faults]") {
  constexpr u64 kPages = 600, kMaxPfn = 1024;
  DiskdumpMeta meta;
  meta.block_size = kPage;
  meta.max_pfn = kMaxPfn;
  meta.codec = CodecKind::none;
  DiskdumpLayout l = plan_diskdump_layout(kPage, 0, kMaxPfn);
  u64 data_offset = l.desc_offset + kPages * sizeof(diskdump::PageDesc);
  // Room for the shared zero block and 400 pages: the second 1 MiB flush fails part-way.
  FullSink sink(data_offset + kPage + 400 * kPage);
  DiskdumpWriter w(sink, meta);
  REQUIRE(w.write_headers());
  std::vector<std::byte> bm(kMaxPfn / 8, std::byte{0});
  for (u64 i = 0; i < kPages / 8; ++i) bm[i] = std::byte{0xff};
  REQUIRE(w.add_bitmaps(0, bm, bm, {}));
  REQUIRE(w.start_data(kPages));
  // From here on the file reaches past the descriptor table.
  REQUIRE(sink.bytes.size() >= data_offset + kPage);
  std::vector<std::byte> page(kPage, std::byte{0x5a});
  Result<void> r;
  u64 added = 0;
  for (; added < kPages; ++added) {
    r = w.add_page(added, page, 0);
    if (!r) break;
  }
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::no_space);
  CHECK(added < kPages);
  DumpWriter::Saved s = w.stop_early();
  CHECK(s.planned == kPages);
  CHECK(s.pages == 256);  // the first flush: 256 pages make 1 MiB (the zero block went first)
  auto h = at<diskdump::DiskDumpHeader>(sink.bytes, 0);
  CHECK((h.status & diskdump::kIncomplete) != 0);
  for (u64 i = 0; i < kPages; ++i) {
    auto d = at<diskdump::PageDesc>(sink.bytes, l.desc_offset + i * sizeof(diskdump::PageDesc));
    INFO("descriptor " << i);
    if (i < s.pages) {
      CHECK(d.offset > 0);
      CHECK(d.size == kPage);
      CHECK(u64(d.offset) + d.size <= sink.bytes.size());  // its data is there
    } else {
      CHECK(d.offset == 0);  // lost, as makedumpfile and crash read it
      CHECK(d.size == 0);
    }
  }
}

TEST_CASE("diskdump writer: the header says incomplete from the first write", "[faults]") {
  DiskdumpMeta meta;
  meta.max_pfn = 64;
  meta.codec = CodecKind::zlib;
  FullSink sink(1u << 20);
  DiskdumpWriter w(sink, meta);
  REQUIRE(w.write_headers());
  // What a SIGKILL here leaves behind.
  auto h = at<diskdump::DiskDumpHeader>(sink.bytes, 0);
  CHECK((h.status & diskdump::kIncomplete) != 0);
  CHECK((h.status & diskdump::kCompressedZlib) != 0);
}

TEST_CASE("dump files are written as <final>-incomplete and only publish() names them", "[faults]") {
  TempDir t;
  std::string final_path = t.file("vmcore");
  {
    Result<OutputFile> out = OutputFile::create(final_path, false, OutputFile::Naming::incomplete_suffix);
    REQUIRE(out);
    CHECK(out->temp_path() == final_path + "-incomplete");
    CHECK(exists(final_path + "-incomplete"));
    CHECK_FALSE(exists(final_path));
    struct stat st;
    REQUIRE(::stat(out->temp_path().c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
  }
  CHECK_FALSE(exists(final_path + "-incomplete"));  // dropped: nothing worth keeping
  {
    Result<OutputFile> out = OutputFile::create(final_path, false, OutputFile::Naming::incomplete_suffix);
    REQUIRE(out);
    REQUIRE(out->write_at(0, as_bytes_of("partial")));
    Result<std::string> kept = out->keep_incomplete();
    REQUIRE(kept);
    CHECK(*kept == final_path + "-incomplete");
  }
  CHECK(exists(final_path + "-incomplete"));
  // An earlier partial dump is not replaced without -f, and is with it.
  Result<OutputFile> again = OutputFile::create(final_path, false, OutputFile::Naming::incomplete_suffix);
  REQUIRE_FALSE(again);
  CHECK(again.error().code == Errc::exists);
  Result<OutputFile> forced = OutputFile::create(final_path, true, OutputFile::Naming::incomplete_suffix);
  REQUIRE(forced);
  REQUIRE(forced->write_at(0, as_bytes_of("whole")));
  REQUIRE(forced->publish());
  CHECK(exists(final_path));
  CHECK_FALSE(exists(final_path + "-incomplete"));
}

TEST_CASE("a symbolic link at the output name is refused, with or without -f", "[faults]") {
  TempDir t;
  REQUIRE(::symlink(t.file("target").c_str(), t.file("link").c_str()) == 0);
  REQUIRE(::symlink(t.file("target").c_str(), t.file("other-incomplete").c_str()) == 0);
  for (bool force : {false, true}) {
    for (auto naming : {OutputFile::Naming::hidden_temp, OutputFile::Naming::incomplete_suffix}) {
      Result<OutputFile> out = OutputFile::create(t.file("link"), force, naming);
      REQUIRE_FALSE(out);
      CHECK(out.error().msg.find("symbolic link") != std::string::npos);
    }
    Result<OutputFile> out = OutputFile::create(t.file("other"), force, OutputFile::Naming::incomplete_suffix);
    REQUIRE_FALSE(out);
    CHECK(out.error().msg.find("other-incomplete: is a symbolic link") != std::string::npos);
  }
  CHECK_FALSE(exists(t.file("target")));
}

TEST_CASE("missing output directories are created 0700", "[faults]") {
  TempDir t;
  std::string dir = t.file("a/b/c");
  REQUIRE(make_private_dirs(dir));
  for (const std::string& d : {t.file("a"), t.file("a/b"), dir}) {
    struct stat st;
    REQUIRE(::stat(d.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);
  }
  REQUIRE(make_private_dirs(dir));  // existing: fine
  FILE* f = std::fopen(t.file("plain").c_str(), "w");
  REQUIRE(f);
  std::fclose(f);
  Result<void> bad = make_private_dirs(t.file("plain/sub"));
  REQUIRE_FALSE(bad);
  CHECK(bad.error().msg == t.file("plain") + ": is not a directory");
}

TEST_CASE("--verify takes exactly one DUMPFILE", "[faults][cli]") {
  Result<CliOptions> c = parse_cli({"--verify", "/var/crash/vmcore"});
  REQUIRE(c);
  CHECK(c->command == Command::verify);
  CHECK(c->dump.output == "/var/crash/vmcore");
  for (std::vector<std::string> bad : {std::vector<std::string>{"--verify"},
                                       std::vector<std::string>{"--verify", "a", "b"}}) {
    Result<CliOptions> e = parse_cli(bad);
    REQUIRE_FALSE(e);
    CHECK(e.error().code == Errc::usage);
    CHECK(e.error().msg == "--verify takes one DUMPFILE");
  }
}
