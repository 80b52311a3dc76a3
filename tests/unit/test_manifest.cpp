// test_manifest.cpp: SHA-256 (both engines agree with FIPS 180-4's examples and each other),
// XXH3-128 (xxh128sum's answers), the manifest's text (new XXH3-128 lines, old SHA-256 ones), the streamed run of a dump file (what is hashed as written and what is read
// back), and --verify finding a flipped byte, a cut file and a bad manifest.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "tests/unit/temp_dir.h"
#include "dumpfilter/digest_sink.h"
#include "dumpfilter/manifest.h"
#include "dumpfilter/range_digest.h"
#include "lib/hash/sha256.h"
#include "lib/io/file.h"

using namespace kk;
using kk::test::TempDir;

namespace {

std::string sha(std::string_view s, Sha256::Engine e = Sha256::Engine::best) {
  Sha256 h(e);
  h.update(std::as_bytes(std::span(s.data(), s.size())));
  return h.hex();
}

// XXH3-128 in the canonical hex xxh128sum prints: what new manifests hold.
std::string xxh(std::string_view s) {
  RangeDigester h;
  h.update(std::as_bytes(std::span(s.data(), s.size())));
  return h.hex();
}

// A dump file as dumpfilter opens one: "<path>-incomplete" until finish().
std::unique_ptr<DigestedFileSink> digested_file(const std::string& path) {
  Result<OutputFile> out = OutputFile::create(path, false, OutputFile::Naming::incomplete_suffix);
  REQUIRE(out);
  return std::make_unique<DigestedFileSink>(std::move(*out));
}

std::string read_file(const std::string& p) {
  std::string s;
  FILE* f = std::fopen(p.c_str(), "rb");
  REQUIRE(f);
  char b[65536];
  for (size_t n; (n = std::fread(b, 1, sizeof b, f)) > 0;) s.append(b, n);
  std::fclose(f);
  return s;
}

}  // namespace

TEST_CASE("SHA-256: FIPS 180-4 examples on both engines", "[manifest][sha256]") {
  INFO("best engine here: " << Sha256::best_engine());
  for (auto e : {Sha256::Engine::best, Sha256::Engine::portable}) {
    CHECK(sha("", e) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(sha("abc", e) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(sha("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", e) ==
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    Sha256 m(e);
    std::string a(1000, 'a');
    for (int i = 0; i < 1000; ++i) m.update(std::as_bytes(std::span(a.data(), a.size())));
    CHECK(m.hex() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  }
}

TEST_CASE("SHA-256: engines agree at every length and split", "[manifest][sha256]") {
  std::mt19937_64 rng(7);
  std::string data(5000, '\0');
  for (char& c : data) c = static_cast<char>(rng());
  for (size_t len = 0; len < 300; ++len) {
    std::string_view s(data.data(), len);
    REQUIRE(sha(s, Sha256::Engine::best) == sha(s, Sha256::Engine::portable));
  }
  // Updates of odd sizes across block boundaries give the digest of the whole.
  Sha256 whole, parts;
  whole.update(std::as_bytes(std::span(data.data(), data.size())));
  for (size_t off = 0; off < data.size();) {
    size_t n = std::min<size_t>(rng() % 150, data.size() - off);
    parts.update(std::as_bytes(std::span(data.data() + off, n)));
    off += n;
  }
  CHECK(whole.hex() == parts.hex());
}

TEST_CASE("manifest text round-trips and must tile the file", "[manifest]") {
  Manifest m;
  m.size = 300;
  m.ranges = {{0, 100, std::string(32, 'a'), DigestAlgo::xxh3_128},
              {100, 200, std::string(64, 'b'), DigestAlgo::sha256}};
  std::string text = format_manifest(m);
  CHECK(text.find("size 300\nxxh3-128 0 100 " + std::string(32, 'a') + "\nsha256 100 200 " +
                  std::string(64, 'b') + "\n") != std::string::npos);
  Result<Manifest> back = parse_manifest(text, "m.sha256");
  REQUIRE(back);
  CHECK(*back == m);

  std::string d(64, 'c');
  for (const auto& [t, msg] : std::vector<std::pair<std::string, std::string>>{
           {"size 10\nsha256 0 5 " + d + "\n", "m.sha256: its ranges cover 5 of 10 bytes"},
           {"size 10\nsha256 1 9 " + d + "\n",
            "m.sha256: line 2: range 1+9 does not follow the previous one inside the file's size"},
           {"size 10\nsha256 0 11 " + d + "\n",
            "m.sha256: line 2: range 0+11 does not follow the previous one inside the file's size"},
           {"size 10\nsha256 0 10 XYZ\n", "m.sha256: line 2: is not 'sha256 OFFSET LENGTH DIGEST'"},
           {"size 10\nxxh3-128 0 10 " + d + "\n",  // a SHA-256's length on an XXH3-128 line
            "m.sha256: line 2: is not 'xxh3-128 OFFSET LENGTH DIGEST'"},
           {"size 10\nmd5 0 10 " + d.substr(0, 32) + "\n",
            "m.sha256: line 2: expected 'size BYTES' then 'xxh3-128 OFFSET LENGTH DIGEST' lines"},
           {"sha256 0 10 " + d + "\n",
            "m.sha256: line 1: expected 'size BYTES' then 'xxh3-128 OFFSET LENGTH DIGEST' lines"},
           {d + "  vmcore\n",
            "m.sha256: line 1: expected 'size BYTES' then 'xxh3-128 OFFSET LENGTH DIGEST' lines"},
           {"", "m.sha256: no 'size' line"},
       }) {
    Result<Manifest> r = parse_manifest(t, "m.sha256");
    REQUIRE_FALSE(r);
    CHECK(r.error().msg == msg);
  }
}

TEST_CASE("streamed run: appends are hashed, rewrites and head writes are not", "[manifest]") {
  auto bytes = [](const std::string& s) { return std::as_bytes(std::span(s.data(), s.size())); };
  std::string head(100, 'h'), data1(50, 'x'), data2(70, 'y');
  StreamedRun r;
  r.wrote(0, bytes(head));      // the run starts at 0...
  r.wrote(300, bytes(data1));   // ...a hole, then the data: a new run from 300
  r.wrote(350, bytes(data2));   // appended
  r.wrote(120, bytes(head));    // the head, rewritten: before the run, no effect
  CHECK(r.start() == 300);
  CHECK(r.end() == 420);
  CHECK(r.hex() == xxh(data1 + data2));

  StreamedRun rewrite;
  rewrite.wrote(0, bytes(data1));
  rewrite.wrote(10, bytes(std::string(5, 'z')));  // inside the run: dropped
  CHECK(rewrite.start() == 50);
  CHECK(rewrite.end() == 50);
  rewrite.wrote(50, bytes(data2));  // a new run from there
  CHECK(rewrite.start() == 50);
  CHECK(rewrite.end() == 120);
  CHECK(rewrite.hex() == xxh(data2));
}

TEST_CASE("a dump file's manifest and --verify", "[manifest][faults]") {
  TempDir t;
  std::string path = t.file("dump");
  auto owned = digested_file(path);
  DigestedFileSink& sink = *owned;
  // A head written first and rewritten last, data appended in pieces: what the writers do.
  std::string head(8192, 'H'), data(3u << 20, 'd');  // more than one read-back chunk
  for (size_t i = 0; i < data.size(); i += 4099) data[i] = static_cast<char>(i);
  REQUIRE(sink.write_at(0, as_bytes_of(head)));
  for (size_t off = 0; off < data.size(); off += 100000) {
    std::string piece = data.substr(off, 100000);
    REQUIRE(sink.write_at(16384 + off, as_bytes_of(piece)));
  }
  head[0] = 'h';
  REQUIRE(sink.write_at(0, as_bytes_of(head)));
  Result<Manifest> m = sink.manifest();
  REQUIRE(m);
  REQUIRE(sink.finish());
  REQUIRE(write_manifest(path, *m));
  std::string whole = read_file(path);
  REQUIRE(m->size == whole.size());
  REQUIRE(m->ranges.size() == 2);
  CHECK(m->ranges[0].offset == 0);
  CHECK(m->ranges[0].length == 16384);
  CHECK(m->ranges[0].hex == xxh(std::string_view(whole).substr(0, 16384)));
  CHECK(m->ranges[1].hex == xxh(data));
  CHECK(m->ranges[1].algo == DigestAlgo::xxh3_128);
  struct stat st;
  REQUIRE(::stat(manifest_path(path).c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  REQUIRE(verify_manifest(path));

  // A flipped byte in the data region is found, and the message names the range.
  FILE* f = std::fopen(path.c_str(), "r+b");
  REQUIRE(f);
  std::fseek(f, 2u << 20, SEEK_SET);
  std::fputc('j', f);
  std::fclose(f);
  Result<void> v = verify_manifest(path);
  REQUIRE_FALSE(v);
  CHECK(v.error().msg.find(path + ": bytes 16384-" + std::to_string(whole.size() - 1) + " have XXH3-128 ") == 0);
  CHECK(v.error().msg.find('\n') == std::string::npos);

  // A cut file is named as such before any hashing.
  REQUIRE(::truncate(path.c_str(), 10000) == 0);
  v = verify_manifest(path);
  REQUIRE_FALSE(v);
  CHECK(v.error().msg == path + ": is 10000 bytes, " + manifest_path(path) + " says " +
                             std::to_string(whole.size()) + ": the dump was cut short or has grown");
  CHECK_FALSE(verify_manifest(t.file("nothing")));
}

TEST_CASE("a file written out of order is read back whole", "[manifest]") {
  TempDir t;
  std::string path = t.file("odd");
  auto owned = digested_file(path);
  DigestedFileSink& sink = *owned;
  std::string a(5000, 'a'), b(3000, 'b');
  REQUIRE(sink.write_at(0, as_bytes_of(a)));
  REQUIRE(sink.write_at(1000, as_bytes_of(b)));  // a rewrite inside everything streamed
  Result<Manifest> m = sink.manifest();
  REQUIRE(m);
  REQUIRE(sink.finish());
  REQUIRE(m->ranges.size() == 1);
  CHECK(m->ranges[0].length == 5000);
  CHECK(m->ranges[0].hex == xxh(read_file(path)));
}

// Issue 18: --verify read w[0] of a line of spaces, an empty word list (undefined behaviour; a
// crash under ASan). Any line without words is now an error naming the line.
TEST_CASE("manifest: a line of spaces is an error, not a crash", "[manifest]") {
  std::string d(64, 'c');
  for (const std::string& t : {"size 10\n   \nsha256 0 10 " + d + "\n", "size 10\nsha256 0 10 " + d + "\n \n",
                               std::string(" \n")}) {
    Result<Manifest> r = parse_manifest(t, "m.sha256");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::corrupt);
    CHECK(r.error().msg.find("m.sha256: line ") == 0);
    CHECK(r.error().msg.find("expected 'size BYTES'") != std::string::npos);
  }
}

TEST_CASE("XXH3-128: xxh128sum's answers, in pieces as whole", "[manifest]") {
  CHECK(xxh("") == "99aa06d3014798d86001c324468d497f");
  CHECK(xxh("abc") == "06b05ab6733a618578af5f94892f3950");
  std::string big(1u << 20, 'q');
  for (size_t i = 0; i < big.size(); i += 131) big[i] = static_cast<char>(i);
  RangeDigester parts;
  for (size_t off = 0; off < big.size(); off += 77777)
    parts.update(std::as_bytes(std::span(big.data() + off, std::min<size_t>(77777, big.size() - off))));
  CHECK(parts.hex() == xxh(big));
  CHECK(digest_from_keyword("xxh3-128") == std::optional<DigestAlgo>(DigestAlgo::xxh3_128));
  CHECK(digest_from_keyword("sha256") == std::optional<DigestAlgo>(DigestAlgo::sha256));
  CHECK(digest_from_keyword("sha1") == std::nullopt);
}

// Manifests written before XXH3-128 hold SHA-256 lines: --verify still reads them, checks each
// range with SHA-256 and names a damaged one.
TEST_CASE("an old SHA-256 manifest still verifies and names the damaged range", "[manifest]") {
  TempDir t;
  std::string path = t.file("old");
  std::string a(6000, 'a'), b(9000, 'b');
  {
    FILE* f = std::fopen(path.c_str(), "wb");
    REQUIRE(f);
    std::fwrite((a + b).data(), 1, a.size() + b.size(), f);
    std::fclose(f);
    FILE* m = std::fopen(manifest_path(path).c_str(), "wb");
    REQUIRE(m);
    std::string text = "# dumpfilter manifest: SHA-256 of byte ranges of the dump; check: dumpfilter --verify DUMP\n"
                       "size 15000\nsha256 0 6000 " + sha(a) + "\nsha256 6000 9000 " + sha(b) + "\n";
    std::fwrite(text.data(), 1, text.size(), m);
    std::fclose(m);
  }
  REQUIRE(verify_manifest(path));
  FILE* f = std::fopen(path.c_str(), "r+b");
  REQUIRE(f);
  std::fseek(f, 7000, SEEK_SET);
  std::fputc('x', f);
  std::fclose(f);
  Result<void> v = verify_manifest(path);
  REQUIRE_FALSE(v);
  CHECK(v.error().msg.find(path + ": bytes 6000-14999 have SHA-256 ") == 0);
  CHECK(v.error().msg.find(", " + manifest_path(path) + " says " + sha(b) + ": ") != std::string::npos);
}

TEST_CASE("a range is read back 64 KiB at a time and digests as a whole", "[manifest]") {
  // The read-back runs at the end of a dump, with the writer's buffers still held: in a capture
  // kernel each byte of its buffer adds to the peak RSS (issue 20).
  std::string file(3u << 20, 'r');
  for (size_t i = 0; i < file.size(); i += 97) file[i] = static_cast<char>(i * 31);
  size_t largest = 0, reads = 0;
  ReadAt read = [&](u64 off, std::span<std::byte> out) -> Result<void> {
    largest = std::max(largest, out.size());
    ++reads;
    std::memcpy(out.data(), file.data() + off, out.size());
    return {};
  };
  const u64 off = 4096 + 5, len = file.size() - off - 3;
  Result<std::string> got = digest_of_range(read, DigestAlgo::xxh3_128, off, len);
  REQUIRE(got);
  CHECK(*got == xxh(std::string_view(file).substr(off, len)));
  CHECK(largest <= (64u << 10));
  CHECK(reads == (len + (64u << 10) - 1) / (64u << 10));
}
