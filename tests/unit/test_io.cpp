// test_io.cpp: lib/io, the basics every other module stands on: Result and Error context,
// sys_error and the exit statuses, endian-typed fields, bitmaps, trim, the bounds-checked cursor,
// the EINTR-proof transfer loop and the publish-on-success OutputFile.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "tests/unit/temp_dir.h"
#include "lib/io/bitmap.h"
#include "lib/io/byte_cursor.h"
#include "lib/io/exit_status.h"
#include "lib/io/file.h"
#include "lib/io/hex.h"
#include "lib/io/lines.h"
#include "lib/io/result.h"
#include "lib/io/text_file.h"
#include "lib/io/types.h"

using namespace kk;
using kk::test::TempDir;

namespace {

void write_text(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
  REQUIRE(f.good());
}

std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

bool exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

std::vector<std::byte> bytes_of(std::initializer_list<int> v) {
  std::vector<std::byte> out;
  for (int b : v) out.push_back(static_cast<std::byte>(b));
  return out;
}

Result<int> parse_digit(char c) {
  if (c < '0' || c > '9') return make_error(Errc::corrupt, std::string("'") + c + "' is not a digit");
  return c - '0';
}

Result<void> check_two(char a, char b) {
  KK_TRY(parse_digit(a));
  KK_TRY(parse_digit(b));
  return {};
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Result and Error

TEST_CASE("Result holds a value or an error", "[result]") {
  Result<int> ok = parse_digit('7');
  REQUIRE(ok.ok());
  REQUIRE(static_cast<bool>(ok));
  REQUIRE(*ok == 7);
  REQUIRE(ok.value() == 7);

  Result<int> bad = parse_digit('x');
  REQUIRE_FALSE(bad.ok());
  REQUIRE_FALSE(static_cast<bool>(bad));
  REQUIRE(bad.error().code == Errc::corrupt);
  REQUIRE(bad.error().sys_errno == 0);
  REQUIRE(bad.error().msg == "'x' is not a digit");

  Result<std::string> s = std::string("abc");
  REQUIRE(s->size() == 3u);
  std::string moved = *std::move(s);
  REQUIRE(moved == "abc");
}

TEST_CASE("Result<void> and KK_TRY propagate the first error", "[result]") {
  Result<void> fine = check_two('1', '2');
  REQUIRE(fine.ok());
  REQUIRE(ok_result().ok());

  Result<void> first = check_two('a', 'b');
  REQUIRE_FALSE(first.ok());
  REQUIRE(first.error().msg == "'a' is not a digit");  // the first failure wins

  Result<void> second = check_two('1', 'z');
  REQUIRE_FALSE(second);
  REQUIRE(second.error().code == Errc::corrupt);
  REQUIRE(second.error().msg == "'z' is not a digit");
}

TEST_CASE("Error::context prepends, outermost first", "[result]") {
  Error e = make_error(Errc::truncated, "PT_LOAD 3 runs past EOF");
  Error outer = std::move(e).context("vmcore").context("/proc/vmcore");
  REQUIRE(outer.msg == "/proc/vmcore: vmcore: PT_LOAD 3 runs past EOF");
  REQUIRE(outer.code == Errc::truncated);

  // The const& overload copies and leaves the original alone.
  const Error base = make_error(Errc::missing, "no note");
  Error copy = base.context("notes");
  REQUIRE(copy.msg == "notes: no note");
  REQUIRE(copy.code == Errc::missing);
  REQUIRE(base.msg == "no note");

  // Through a Result on the way up.
  Result<int> r = parse_digit('q');
  Error up = std::move(r).error().context("line 4");
  REQUIRE(up.msg == "line 4: 'q' is not a digit");
}

TEST_CASE("sys_error keeps errno and appends strerror", "[result]") {
  Error e = sys_error("open", ENOENT);
  REQUIRE(e.code == Errc::io);
  REQUIRE(e.sys_errno == ENOENT);
  REQUIRE(e.msg == "open: No such file or directory");

  Error full = sys_error("write dump", ENOSPC);
  REQUIRE(full.code == Errc::no_space);
  REQUIRE(full.sys_errno == ENOSPC);
  REQUIRE(full.msg == "write dump: No space left on device");

  REQUIRE(sys_error("write", EDQUOT).code == Errc::no_space);
  REQUIRE(sys_error("read", EIO).code == Errc::io);

  errno = EACCES;  // the default argument is the current errno
  Error cur = sys_error("mkdir");
  REQUIRE(cur.sys_errno == EACCES);
  REQUIRE(cur.msg == "mkdir: Permission denied");
}

// ---------------------------------------------------------------------------------------------
// Endian-typed fields

TEST_CASE("Int<> fields store their declared byte order", "[types]") {
  ul32 a = 0x11223344u;
  REQUIRE(a.raw == std::array<std::byte, 4>{std::byte{0x44}, std::byte{0x33}, std::byte{0x22},
                                            std::byte{0x11}});
  REQUIRE(u32(a) == 0x11223344u);

  ub64 b = 0x0102030405060708ull;
  REQUIRE(b.raw[0] == std::byte{0x01});
  REQUIRE(b.raw[7] == std::byte{0x08});
  REQUIRE(u64(b) == 0x0102030405060708ull);

  ul64 c = 0x0102030405060708ull;
  REQUIRE(c.raw[0] == std::byte{0x08});
  REQUIRE(c.raw[7] == std::byte{0x01});

  il32 neg = -129;
  REQUIRE(neg.raw == std::array<std::byte, 4>{std::byte{0x7f}, std::byte{0xff}, std::byte{0xff},
                                              std::byte{0xff}});
  REQUIRE(i32(neg) == -129);

  ib64 bneg = -2;
  REQUIRE(bneg.raw[0] == std::byte{0xff});
  REQUIRE(bneg.raw[7] == std::byte{0xfe});
  REQUIRE(i64(bneg) == -2);

  ul16 d;  // value-initialised to zero
  REQUIRE(u16(d) == 0);
  d = 0xbeef;
  REQUIRE(d.raw[0] == std::byte{0xef});
  REQUIRE(d.raw[1] == std::byte{0xbe});
}

TEST_CASE("Int<> layouts have alignment 1 and read at odd offsets", "[types]") {
  struct Packed {
    u8 tag;
    ul32 x;
    ub64 y;
  };
  static_assert(sizeof(Packed) == 13 && alignof(Packed) == 1);
  std::vector<std::byte> buf =
      bytes_of({0xaa, 0x78, 0x56, 0x34, 0x12, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02});
  Packed p;
  std::memcpy(&p, buf.data(), sizeof p);
  REQUIRE(p.tag == 0xaa);
  REQUIRE(u32(p.x) == 0x12345678u);
  REQUIRE(u64(p.y) == 0x0102u);

  REQUIRE(load_le<u32>(buf.data() + 1) == 0x12345678u);
  REQUIRE(load_le<u16>(buf.data() + 11) == 0x0201u);
}

TEST_CASE("align_up, div_round_up and bswap", "[types]") {
  REQUIRE(align_up(0, 4096) == 0u);
  REQUIRE(align_up(1, 4096) == 4096u);
  REQUIRE(align_up(4096, 4096) == 4096u);
  REQUIRE(align_up(4097, 4096) == 8192u);
  REQUIRE(align_up(13, 4) == 16u);
  REQUIRE(align_up(10, 3) == 12u);  // not only powers of two
  REQUIRE(div_round_up(0, 8) == 0u);
  REQUIRE(div_round_up(1, 8) == 1u);
  REQUIRE(div_round_up(16, 8) == 2u);
  REQUIRE(div_round_up(17, 8) == 3u);
  REQUIRE(bswap(u16{0x1234}) == 0x3412);
  REQUIRE(bswap(u32{0x11223344}) == 0x44332211u);
  REQUIRE(bswap(u64{0x0102030405060708ull}) == 0x0807060504030201ull);
  REQUIRE(bswap(i32{-2}) == i32(0xfeffffffu));
}

// ---------------------------------------------------------------------------------------------
// ByteCursor

TEST_CASE("ByteCursor reads, skips and takes bytes in order", "[byte_cursor]") {
  std::vector<std::byte> buf = bytes_of({1, 0, 0, 0, 0xaa, 0xbb, 0xcc, 2, 0});
  ByteCursor cur(buf, "test buffer");
  REQUIRE(cur.remaining() == 9u);
  Result<ul32> a = cur.read<ul32>();
  REQUIRE(a);
  REQUIRE(u32(*a) == 1u);
  REQUIRE(cur.pos() == 4u);
  Result<std::span<const std::byte>> b = cur.bytes(2);
  REQUIRE(b);
  REQUIRE(b->size() == 2u);
  REQUIRE((*b)[0] == std::byte{0xaa});
  REQUIRE(b->data() == buf.data() + 4);  // a view, not a copy
  REQUIRE(cur.skip(1));
  Result<ul16> c = cur.read<ul16>();
  REQUIRE(c);
  REQUIRE(u16(*c) == 2u);
  REQUIRE(cur.at_end());
  REQUIRE(cur.remaining() == 0u);

  cur.seek(4);
  REQUIRE(cur.pos() == 4u);
  cur.seek(100);  // clamped to the end
  REQUIRE(cur.pos() == 9u);
  REQUIRE(cur.at_end());
}

TEST_CASE("ByteCursor truncation names the buffer and the file offset", "[byte_cursor]") {
  std::vector<std::byte> buf(16);
  ByteCursor cur(buf, "PT_NOTE", 0x1e8);
  REQUIRE(cur.skip(12));
  Result<ul64> r = cur.read<ul64>();
  REQUIRE_FALSE(r);
  REQUIRE(r.error().code == Errc::truncated);
  REQUIRE(r.error().msg == "PT_NOTE: truncated at offset 0x1f4 (need 8 bytes, have 4)");
  REQUIRE(cur.pos() == 12u);  // a failed read does not move

  Result<std::span<const std::byte>> b = cur.bytes(5);
  REQUIRE_FALSE(b);
  REQUIRE(b.error().msg == "PT_NOTE: truncated at offset 0x1f4 (need 5 bytes, have 4)");
  Result<void> s = cur.skip(6);
  REQUIRE_FALSE(s);
  REQUIRE(s.error().code == Errc::truncated);
  REQUIRE(s.error().msg == "PT_NOTE: truncated at offset 0x1f4 (need 6 bytes, have 4)");

  REQUIRE(cur.bytes(4));  // exactly what is left is fine
  REQUIRE(cur.at_end());

  ByteCursor empty(std::span<const std::byte>(), "ELF header");
  Result<u8> e = empty.read<u8>();
  REQUIRE_FALSE(e);
  REQUIRE(e.error().msg == "ELF header: truncated at offset 0x0 (need 1 bytes, have 0)");
}

TEST_CASE("hex formats with a 0x prefix, lower case", "[hex]") {
  REQUIRE(hex(0) == "0x0");
  REQUIRE(hex(0x1f4) == "0x1f4");
  REQUIRE(hex(0xffffffff80000000ull) == "0xffffffff80000000");
}

TEST_CASE("trim takes blanks, line ends and NULs off both ends only", "[lines]") {
  REQUIRE(trim(std::string_view(" \t0x1f4 \r\n\0", 11)) == "0x1f4");
  REQUIRE(trim("a b") == "a b");
  REQUIRE(trim(" \n\t ").empty());
  REQUIRE(trim("").empty());
}

TEST_CASE("bitmap bits are numbered from bit 0 of byte 0", "[bitmap]") {
  std::vector<std::byte> bm(3);
  set_bit(bm, 0);
  set_bit(bm, 9);
  set_bit(bm, 23);
  REQUIRE(bm == bytes_of({0x01, 0x02, 0x80}));
  REQUIRE(test_bit(bm, 9));
  REQUIRE_FALSE(test_bit(bm, 8));
  clear_bit(bm, 9);
  REQUIRE_FALSE(test_bit(bm, 9));
  std::vector<std::byte> ones(11, std::byte{0xff});
  REQUIRE(popcount_bytes(ones) == 88);
  REQUIRE(count_bits(ones, 3, 85) == 82);  // partial bytes at both ends, a whole word between
  REQUIRE(count_bits(bm, 0, 24) == 2);
  REQUIRE(count_bits(bm, 1, 23) == 0);
}

TEST_CASE("exit statuses: 2 for a command line the program does not take, 1 for the rest", "[exit_status]") {
  REQUIRE(exit_status(Errc::usage) == 2);
  for (Errc c : {Errc::io, Errc::truncated, Errc::corrupt, Errc::unsupported, Errc::missing, Errc::exists,
                 Errc::no_space, Errc::stopped, Errc::internal})
    REQUIRE(exit_status(c) == 1);
}

TEST_CASE("report_error prints one escaped line and the usage hint", "[exit_status]") {
  TempDir dir;
  std::string path = dir.file("stderr");
  int saved = ::dup(2);
  FILE* f = std::fopen(path.c_str(), "w");
  REQUIRE(f);
  ::dup2(::fileno(f), 2);
  int usage = report_error("prog", make_error(Errc::usage, "no input"));
  int stopped = report_error("prog", make_error(Errc::stopped, "line\none\x1b"));
  std::fflush(stderr);
  ::dup2(saved, 2);
  ::close(saved);
  std::fclose(f);
  REQUIRE(usage == 2);
  REQUIRE(stopped == 1);
  REQUIRE(read_text(path) == "prog: no input (see prog --help)\nprog: line\\x0aone\\x1b\n");
}

// ---------------------------------------------------------------------------------------------
// The transfer loop and InputFile

TEST_CASE("transfer_all retries EINTR, stops at 0 and keeps the errno of a failure", "[file]") {
  int calls = 0;
  Transfer t = transfer_all(10, [&](size_t done) -> ssize_t {
    ++calls;
    if (calls == 1) {
      errno = EINTR;
      return -1;
    }
    return done < 8 ? 4 : 0;  // 4, 4, then the end
  });
  REQUIRE(t.done == 8);
  REQUIRE(t.err == 0);
  REQUIRE(calls == 4);
  Transfer e = transfer_all(10, [&](size_t done) -> ssize_t {
    if (done == 3) {
      errno = EIO;
      return -1;
    }
    return 3;
  });
  REQUIRE(e.done == 3);
  REQUIRE(e.err == EIO);
  REQUIRE(transfer_all(5, [](size_t done) -> ssize_t { return static_cast<ssize_t>(5 - done); }).done == 5);
}

TEST_CASE("InputFile reads at offsets and reports a short file as truncated", "[file]") {
  TempDir dir;
  std::string path = dir.file("input.bin");
  write_text(path, "0123456789");
  Result<InputFile> f = InputFile::open(path);
  REQUIRE(f);
  REQUIRE(f->size() == 10u);
  REQUIRE(f->path() == path);

  std::array<std::byte, 4> out{};
  REQUIRE(f->read_at(3, out));
  REQUIRE(out[0] == std::byte{'3'});
  REQUIRE(out[3] == std::byte{'6'});

  Result<void> past = f->read_at(8, out);
  REQUIRE_FALSE(past);
  REQUIRE(past.error().code == Errc::truncated);
  REQUIRE(past.error().msg == path + ": file ends at 0xa, expected data up to 0xc");

  Result<size_t> some = f->read_some_at(8, out);
  REQUIRE(some);
  REQUIRE(*some == 2u);
  REQUIRE(out[0] == std::byte{'8'});
  REQUIRE(out[1] == std::byte{'9'});

  Result<size_t> none = f->read_some_at(20, out);
  REQUIRE(none);
  REQUIRE(*none == 0u);
}

TEST_CASE("InputFile::open errors carry errno and path", "[file]") {
  TempDir dir;
  std::string missing = dir.file("nope");
  Result<InputFile> f = InputFile::open(missing);
  REQUIRE_FALSE(f);
  REQUIRE(f.error().code == Errc::io);
  REQUIRE(f.error().sys_errno == ENOENT);
  REQUIRE(f.error().msg == missing + ": No such file or directory");

  Result<InputFile> d = InputFile::open(dir.path());
  REQUIRE_FALSE(d);
  REQUIRE(d.error().msg == dir.path() + ": is a directory");
}

// ---------------------------------------------------------------------------------------------
// OutputFile

TEST_CASE("OutputFile writes a 0600 temporary and publish() gives the final name", "[file]") {
  TempDir dir;
  std::string final_path = dir.file("dump");
  {
    Result<OutputFile> out = OutputFile::create(final_path, false);
    REQUIRE(out);
    REQUIRE(out->path() == final_path);
    const std::string temp = out->temp_path();
    REQUIRE(temp.rfind(dir.path() + "/.dump.", 0) == 0);  // beside the final name, hidden

    struct stat st;
    REQUIRE(::stat(temp.c_str(), &st) == 0);
    REQUIRE((st.st_mode & 07777) == 0600);
    REQUIRE(S_ISREG(st.st_mode));
    REQUIRE_FALSE(exists(final_path));

    REQUIRE(out->write_at(4, as_bytes_of("WXYZ")));
    REQUIRE(out->write_at(0, as_bytes_of("abcd")));
    std::array<std::byte, 3> back{};
    REQUIRE(out->read_back(3, back));
    REQUIRE(back[0] == std::byte{'d'});
    REQUIRE(back[1] == std::byte{'W'});
    Result<void> past = out->read_back(7, back);
    REQUIRE_FALSE(past);
    REQUIRE(past.error().code == Errc::truncated);
    REQUIRE_FALSE(exists(final_path));  // still not visible before publish

    REQUIRE(out->publish());
    REQUIRE(exists(final_path));
    REQUIRE_FALSE(exists(temp));
    REQUIRE(::stat(final_path.c_str(), &st) == 0);
    REQUIRE((st.st_mode & 07777) == 0600);
  }
  // Destruction after publish leaves the published file alone.
  REQUIRE(read_text(final_path) == "abcdWXYZ");
  REQUIRE(dir.entries() == std::vector<std::string>{"dump"});
}

TEST_CASE("OutputFile refuses an existing file unless overwriting", "[file]") {
  TempDir dir;
  std::string final_path = dir.file("dump");
  write_text(final_path, "old");

  Result<OutputFile> refused = OutputFile::create(final_path, false);
  REQUIRE_FALSE(refused);
  REQUIRE(refused.error().code == Errc::exists);
  REQUIRE(refused.error().msg == final_path + ": already exists (use -f to overwrite)");
  REQUIRE(dir.entries() == std::vector<std::string>{"dump"});  // no temporary left behind

  {
    Result<OutputFile> out = OutputFile::create(final_path, true);
    REQUIRE(out);
    REQUIRE(out->write_at(0, as_bytes_of("new!")));
    REQUIRE(read_text(final_path) == "old");  // untouched until publish
    REQUIRE(out->publish());
  }
  REQUIRE(read_text(final_path) == "new!");
  REQUIRE(dir.entries() == std::vector<std::string>{"dump"});
}

TEST_CASE("OutputFile refuses to overwrite a symlink or a directory", "[file]") {
  TempDir dir;
  std::string target = dir.file("target");
  write_text(target, "secret");
  std::string link = dir.file("link");
  REQUIRE(::symlink(target.c_str(), link.c_str()) == 0);
  Result<OutputFile> l = OutputFile::create(link, true);
  REQUIRE_FALSE(l);
  REQUIRE(l.error().msg == link + ": is a symbolic link, refusing to write through it");

  std::string sub = dir.file("sub");
  REQUIRE(::mkdir(sub.c_str(), 0700) == 0);
  Result<OutputFile> d = OutputFile::create(sub, true);
  REQUIRE_FALSE(d);
  REQUIRE(d.error().msg == sub + ": is a directory");
  REQUIRE(read_text(target) == "secret");
}

TEST_CASE("publish without overwrite does not clobber a file that appeared meanwhile", "[file]") {
  TempDir dir;
  std::string final_path = dir.file("dump");
  std::string temp;
  {
    Result<OutputFile> out = OutputFile::create(final_path, false);
    REQUIRE(out);
    temp = out->temp_path();
    REQUIRE(out->write_at(0, as_bytes_of("mine")));
    write_text(final_path, "theirs");
    Result<void> p = out->publish();
    REQUIRE_FALSE(p);
    REQUIRE(p.error().sys_errno == EEXIST);
    REQUIRE(p.error().msg == final_path + ": cannot create: File exists");
  }
  REQUIRE(read_text(final_path) == "theirs");
  REQUIRE_FALSE(exists(temp));  // the failed output is not left behind
  REQUIRE(dir.entries() == std::vector<std::string>{"dump"});
}

TEST_CASE("an unpublished OutputFile removes its temporary on destruction", "[file]") {
  TempDir dir;
  std::string final_path = dir.file("dump");
  std::string temp;
  {
    Result<OutputFile> out = OutputFile::create(final_path, false);
    REQUIRE(out);
    temp = out->temp_path();
    REQUIRE(out->write_at(0, as_bytes_of("partial")));
    REQUIRE(exists(temp));
    OutputFile moved = std::move(*out);  // ownership moves with the object
    REQUIRE(moved.temp_path() == temp);
    REQUIRE(exists(temp));
  }
  REQUIRE_FALSE(exists(temp));
  REQUIRE_FALSE(exists(final_path));
  REQUIRE(dir.entries().empty());
}

TEST_CASE("keep_incomplete keeps the data under <final>-incomplete", "[file]") {
  TempDir dir;
  std::string final_path = dir.file("dump");
  {
    Result<OutputFile> out = OutputFile::create(final_path, false);
    REQUIRE(out);
    REQUIRE(out->write_at(0, as_bytes_of("half")));
    Result<std::string> kept = out->keep_incomplete();
    REQUIRE(kept);
    REQUIRE(*kept == final_path + "-incomplete");
  }
  REQUIRE(read_text(final_path + "-incomplete") == "half");
  REQUIRE(dir.entries() == std::vector<std::string>{"dump-incomplete"});
}

TEST_CASE("OutputFile::create in a missing directory is an io error", "[file]") {
  TempDir dir;
  std::string path = dir.file("no/such/dir/dump");
  Result<OutputFile> out = OutputFile::create(path, false);
  REQUIRE_FALSE(out);
  REQUIRE(out.error().code == Errc::io);
  REQUIRE(out.error().sys_errno == ENOENT);
  REQUIRE(out.error().msg ==
          path + ": cannot create output in " + dir.file("no/such/dir") + ": No such file or directory");
}

TEST_CASE("read_binary_file reads a file into one buffer of its size", "[text_file]") {
  // kexec reads kernels and initrds with it: a buffer grown by doubling would hold the old and
  // the new buffer at once and end up to twice the file's size.
  TempDir dir;
  std::string path = dir.file("initrd.img");
  std::vector<char> bytes(1100003);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 7 + i / 4096);
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  Result<std::vector<std::byte>> got = read_binary_file(path, 2u << 20);
  REQUIRE(got);
  REQUIRE(got->size() == bytes.size());
  REQUIRE(got->capacity() == bytes.size());
  REQUIRE(std::memcmp(got->data(), bytes.data(), bytes.size()) == 0);

  Result<std::vector<std::byte>> big = read_binary_file(path, 1u << 20);
  REQUIRE_FALSE(big);
  REQUIRE(big.error().msg == path + ": larger than 1 MiB");
}

TEST_CASE("read_binary_file reads procfs files, whose size stat() gives as 0", "[text_file]") {
  Result<std::vector<std::byte>> status = read_binary_file("/proc/self/status", 1u << 20);
  REQUIRE(status);
  std::string text(reinterpret_cast<const char*>(status->data()), status->size());
  REQUIRE(text.starts_with("Name:"));
  REQUIRE(text.find("\nVmHWM:") != std::string::npos);  // well past the first line
  REQUIRE(read_binary_file("/proc/self/status", 16).error().code == Errc::unsupported);
}

TEST_CASE("read_binary_file reads sysfs files, whose size stat() gives as a page", "[text_file]") {
  // kexec reads /sys/devices/system/cpu/possible with a 4 KiB limit; on a 16K- or 64K-page
  // kernel stat() says 16 or 64 KiB, and that alone must not make the file "too large".
  const std::string possible = "/sys/devices/system/cpu/possible";
  struct stat st;
  if (::stat(possible.c_str(), &st) != 0) {
    WARN("no sysfs here: " << possible);
    return;
  }
  REQUIRE(st.st_size > 16);  // a page, not the few bytes it holds
  Result<std::string> cpus = read_text_file(possible, 16);
  REQUIRE(cpus);
  REQUIRE(cpus->size() <= 16);
  REQUIRE(cpus->ends_with("\n"));

  // What a file really holds is still held to the limit, in bytes under 1 MiB.
  TempDir dir;
  std::string path = dir.file("big.txt");
  std::ofstream(path) << std::string(100, 'x');
  Result<std::string> big = read_text_file(path, 10);
  REQUIRE_FALSE(big);
  REQUIRE(big.error().code == Errc::unsupported);
  REQUIRE(big.error().msg == path + ": larger than 10 bytes");
}
