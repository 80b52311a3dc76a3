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

#include "tests/unit/temp_dir.h"
#include "dumpfilter/cli.h"
#include "dumpfilter/dump_outputs.h"
#include "dumpfilter/dumper.h"
#include "dumpfilter/writer_diskdump.h"
#include "lib/io/sink.h"

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
  // Room for the shared zero block (written by start_data) and 400 pages: the data goes out in
  // flushes of kDataChunk, and the first flush that does not fit whole fails part-way.
  constexpr u64 kRoomPages = 400, kFlushPages = DiskdumpWriter::kDataChunk / kPage;
  static_assert(kRoomPages % kFlushPages != 0, "the failing flush must be cut part-way");
  FullSink sink(data_offset + kPage + kRoomPages * kPage);
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
  CHECK(s.pages == kRoomPages / kFlushPages * kFlushPages);  // the flushes that fit whole
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

// --- issue 18: publishing that fails keeps the dump; block devices are written in place --------

TEST_CASE("a dump whose link() fails at publish stays on disk as -incomplete", "[faults][publish]") {
  TempDir t;
  std::string final_path = t.file("vmcore");
  {
    Result<OutputFile> out = OutputFile::create(final_path, false, OutputFile::Naming::incomplete_suffix);
    REQUIRE(out);
    REQUIRE(out->write_at(0, as_bytes_of("the whole dump")));
    // Another file takes the final name meanwhile: link() fails with EEXIST (never clobbers it).
    FILE* f = std::fopen(final_path.c_str(), "w");
    REQUIRE(f);
    std::fclose(f);
    Result<void> r = out->publish();
    REQUIRE_FALSE(r);
    CHECK(r.error().msg.find(final_path + ": cannot create") == 0);
    CHECK_FALSE(out->published());
  }  // the OutputFile is gone: what it wrote must not be
  REQUIRE(exists(final_path + "-incomplete"));
  CHECK(std::filesystem::file_size(final_path + "-incomplete") == 14);
}

TEST_CASE("a dump whose rename() fails at publish (-f) stays on disk as -incomplete", "[faults][publish]") {
  TempDir t;
  std::string final_path = t.file("vmcore");
  {
    Result<OutputFile> out = OutputFile::create(final_path, true, OutputFile::Naming::incomplete_suffix);
    REQUIRE(out);
    REQUIRE(out->write_at(0, as_bytes_of("data")));
    // A non-empty directory appears at the final name: rename() cannot replace it.
    REQUIRE(::mkdir(final_path.c_str(), 0700) == 0);
    REQUIRE(::mkdir((final_path + "/x").c_str(), 0700) == 0);
    REQUIRE_FALSE(out->publish());
    Result<std::string> kept = out->keep_incomplete();
    REQUIRE(kept);
    CHECK(*kept == final_path + "-incomplete");
  }
  CHECK(exists(final_path + "-incomplete"));
}

TEST_CASE("small files (reports, logs) that fail to publish are still removed", "[faults][publish]") {
  TempDir t;
  std::string final_path = t.file("report");
  std::string temp;
  {
    Result<OutputFile> out = OutputFile::create(final_path, false);
    REQUIRE(out);
    temp = out->temp_path();
    FILE* f = std::fopen(final_path.c_str(), "w");
    REQUIRE(f);
    std::fclose(f);
    REQUIRE_FALSE(out->publish());
  }
  CHECK_FALSE(exists(temp));
}

TEST_CASE("what is at the output's name decides: new file, in place (block device) or refused",
          "[faults][blockdev]") {
  auto plan = [](std::optional<unsigned> mode, bool force) {
    return plan_output_placement("/dev/x", mode, force);
  };
  CHECK(*plan(std::nullopt, false) == OutputPlacement::new_file);
  CHECK(*plan(S_IFREG | 0600, true) == OutputPlacement::new_file);
  CHECK(*plan(S_IFBLK | 0660, true) == OutputPlacement::in_place);
  Result<OutputPlacement> no_force = plan(S_IFBLK | 0660, false);
  REQUIRE_FALSE(no_force);  // a device may hold an earlier dump: -f, as for a file
  CHECK(no_force.error().code == Errc::exists);
  CHECK(plan(S_IFREG | 0600, false).error().code == Errc::exists);
  for (unsigned m : {S_IFCHR | 0666u, S_IFIFO | 0600u, S_IFSOCK | 0600u}) {
    Result<OutputPlacement> r = plan(m, true);  // would be replaced by a file: refused
    REQUIRE_FALSE(r);
    CHECK(r.error().msg == "/dev/x: is not a regular file or a block device (to write a stream to it, "
                           "use -F and redirect standard output)");
  }
  CHECK(plan(S_IFLNK | 0777, true).error().msg.find("symbolic link") != std::string::npos);
  CHECK(plan(S_IFDIR | 0700, true).error().msg == "/dev/x: is a directory");
}

namespace {

// A block device in memory: it starts full of old bytes (0xee), never reads back zeros for what
// was not written, and zero_range() really writes zeros, as FileSink does in place.
class DeviceSink final : public ByteSink {
 public:
  explicit DeviceSink(u64 size) : bytes(size, std::byte{0xee}) {}
  Result<void> write_at(u64 offset, std::span<const std::byte> data) override {
    if (offset + data.size() > bytes.size()) return make_error(Errc::no_space, "dev: full");
    std::memcpy(bytes.data() + offset, data.data(), data.size());
    return {};
  }
  Result<void> zero_range(u64 offset, u64 length) override {
    std::vector<std::byte> z(length, std::byte{0});
    return write_at(offset, z);
  }
  Result<void> finish() override { return {}; }
  Result<std::string> keep_partial() override { return name_; }
  const std::string& name() const override { return name_; }
  std::vector<std::byte> bytes;

 private:
  std::string name_ = "dev";
};

}  // namespace

TEST_CASE("kdump-compressed into a device with old bytes: never-written descriptors read as lost",
          "[faults][blockdev]") {
  constexpr u64 kPages = 100, kMaxPfn = 256;
  DiskdumpMeta meta;
  meta.block_size = kPage;
  meta.max_pfn = kMaxPfn;
  meta.codec = CodecKind::none;
  DeviceSink dev(4u << 20);
  DiskdumpWriter w(dev, meta);
  REQUIRE(w.write_headers());
  std::vector<std::byte> bm(kMaxPfn / 8, std::byte{0});
  for (u64 i = 0; i < kPages / 8; ++i) bm[i] = std::byte{0xff};
  bm[kPages / 8] = std::byte{0x0f};  // pages 96..99
  REQUIRE(w.add_bitmaps(0, bm, bm, {}));
  REQUIRE(w.start_data(kPages));
  std::vector<std::byte> page(kPage, std::byte{0x5a});
  for (u64 pfn = 0; pfn < 10; ++pfn) REQUIRE(w.add_page(pfn, page, 0));
  DumpWriter::Saved s = w.stop_early();
  CHECK(s.pages == 10);
  const DiskdumpLayout& l = w.layout();
  // The bitmaps' padding past max_pfn and the header block's tail: zeros, not the old bytes.
  CHECK(at<u8>(dev.bytes, l.bitmap1_offset + kMaxPfn / 8) == 0);
  CHECK(at<u8>(dev.bytes, sizeof(diskdump::DiskDumpHeader) + 8) == 0);
  for (u64 i = 10; i < kPages; ++i) {
    auto d = at<diskdump::PageDesc>(dev.bytes, l.desc_offset + i * sizeof(diskdump::PageDesc));
    INFO("descriptor " << i);
    CHECK(d.offset == 0);
    CHECK(d.size == 0);
  }
  CHECK((at<diskdump::DiskDumpHeader>(dev.bytes, 0).status & diskdump::kIncomplete) != 0);
}

TEST_CASE("kdump-compressed: an unreadable page gets an all-zero descriptor, the dump stays flagged",
          "[faults][lost]") {
  constexpr u64 kPages = 16;
  DiskdumpMeta meta;
  meta.block_size = kPage;
  meta.max_pfn = 64;
  meta.codec = CodecKind::none;
  FullSink sink(1u << 20);
  DiskdumpWriter w(sink, meta);
  REQUIRE(w.write_headers());
  std::vector<std::byte> bm(64 / 8, std::byte{0});
  bm[0] = bm[1] = std::byte{0xff};
  REQUIRE(w.add_bitmaps(0, bm, bm, {}));
  REQUIRE(w.start_data(kPages));
  std::vector<std::byte> page(kPage, std::byte{0x5a});
  for (u64 pfn = 0; pfn < kPages; ++pfn) {
    Result<void> r = pfn == 7 ? w.add_lost_page(pfn) : w.add_page(pfn, page, 0);
    REQUIRE(r);
  }
  REQUIRE(w.finish());
  const DiskdumpLayout& l = w.layout();
  for (u64 i = 0; i < kPages; ++i) {
    auto d = at<diskdump::PageDesc>(sink.bytes, l.desc_offset + i * sizeof(diskdump::PageDesc));
    INFO("descriptor " << i);
    CHECK((d.offset == 0) == (i == 7));
    CHECK((d.size == 0) == (i == 7));
  }
  // Readers take an offset-0 descriptor as lost only in a dump flagged incomplete.
  CHECK((at<diskdump::DiskDumpHeader>(sink.bytes, 0).status & diskdump::kIncomplete) != 0);
}

TEST_CASE("lost pages: merged pfn ranges and one line saying how many", "[faults][lost]") {
  DumpStats s;
  for (u64 pfn : {5, 6, 7, 20}) s.add_lost(pfn);
  REQUIRE(s.lost_ranges.size() == 2);
  CHECK(s.lost_pages == 4);
  CHECK(lost_pages_message(s, "/proc/vmcore", "/var/crash/vmcore") ==
        "/proc/vmcore: 4 pages could not be read (pfn 0x5-0x7, 0x14); /var/crash/vmcore holds "
        "everything else, those pages marked lost and the dump marked incomplete");
  DumpStats many;
  for (u64 i = 0; i < DumpStats::kMaxLostRanges + 5; ++i) many.add_lost(i * 2);
  CHECK(many.lost_ranges.size() == DumpStats::kMaxLostRanges);
  CHECK(many.lost_pages == DumpStats::kMaxLostRanges + 5);
  CHECK(lost_pages_message(many, "in", "out").find(", ...); out holds") != std::string::npos);
}

namespace {

// A file in memory whose sync() or publish() can fail; it records the header's status at each.
class PublishSink final : public ByteSink {
 public:
  Result<void> write_at(u64 offset, std::span<const std::byte> data) override {
    if (bytes.size() < offset + data.size()) bytes.resize(offset + data.size());
    std::memcpy(bytes.data() + offset, data.data(), data.size());
    return {};
  }
  Result<void> sync() override {
    status_at_sync = status();
    if (fail_sync) return make_error(Errc::io, "mem-incomplete: fdatasync: Input/output error");
    return {};
  }
  Result<void> finish() override { return {}; }
  Result<void> publish() override {
    status_at_publish = status();
    if (fail_publish) return make_error(Errc::io, "mem: cannot create: Input/output error");
    published_ = true;
    return {};
  }
  bool published() const override { return published_; }
  Result<std::string> keep_partial() override {
    ++kept;
    return std::string("mem-incomplete");
  }
  const std::string& name() const override { return name_; }
  u32 status() const { return at<diskdump::DiskDumpHeader>(bytes, 0).status; }

  std::vector<std::byte> bytes;
  bool fail_sync = false, fail_publish = false;
  std::optional<u32> status_at_sync, status_at_publish;
  int kept = 0;

 private:
  bool published_ = false;
  std::string name_ = "mem";
};

// A whole 8-page kdump-compressed dump through DiskdumpWriter, up to finish_data().
void write_whole_dump(DiskdumpWriter& w) {
  REQUIRE(w.write_headers());
  std::vector<std::byte> bm(8, std::byte{0});
  bm[0] = std::byte{0xff};
  REQUIRE(w.add_bitmaps(0, bm, bm, {}));
  REQUIRE(w.start_data(8));
  std::vector<std::byte> page(kPage, std::byte{0x33});
  for (u64 pfn = 0; pfn < 8; ++pfn) REQUIRE(w.add_page(pfn, page, 0));
  REQUIRE(w.finish_data());
}

}  // namespace

TEST_CASE("publish_dump: data synced before the complete mark, then named", "[faults][publish]") {
  DiskdumpMeta meta;
  meta.max_pfn = 64;
  meta.codec = CodecKind::none;
  Outputs outs;
  auto owned = std::make_unique<PublishSink>();
  PublishSink& sink = *owned;
  outs.sink = std::move(owned);
  DiskdumpWriter w(sink, meta);
  write_whole_dump(w);
  SECTION("all goes well") {
    REQUIRE(publish_dump(w, outs));
    REQUIRE(sink.status_at_sync);
    CHECK((*sink.status_at_sync & diskdump::kIncomplete) != 0);  // synced before the mark
    CHECK((*sink.status_at_publish & diskdump::kIncomplete) == 0);
    CHECK((sink.status() & diskdump::kIncomplete) == 0);
    CHECK(sink.kept == 0);
  }
  SECTION("the sync fails: kept, never marked complete, never named") {
    sink.fail_sync = true;
    Result<void> r = publish_dump(w, outs);
    REQUIRE_FALSE(r);
    CHECK(r.error().msg == "mem-incomplete: fdatasync: Input/output error; saved 8 of 8 pages in "
                           "mem-incomplete (marked incomplete)");
    CHECK_FALSE(sink.status_at_publish);
    CHECK((sink.status() & diskdump::kIncomplete) != 0);
    CHECK(sink.kept == 1);
  }
  SECTION("naming fails after the mark: kept, and the incomplete mark is put back") {
    sink.fail_publish = true;
    Result<void> r = publish_dump(w, outs);
    REQUIRE_FALSE(r);
    CHECK(r.error().msg.find("; saved 8 of 8 pages in mem-incomplete (marked incomplete)") != std::string::npos);
    CHECK((*sink.status_at_publish & diskdump::kIncomplete) == 0);
    CHECK((sink.status() & diskdump::kIncomplete) != 0);
    CHECK(sink.kept == 1);
  }
}
