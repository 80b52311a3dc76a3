// test_dmesg.cpp: kernel logs built in a fake kernel memory, checked against the exact text
// makedumpfile 1.7.2 --dump-dmesg writes for them (1.7.5+ for the caller column, whose format was
// checked byte for byte against unstable's 1.7.8 on the 6.1 fixtures). Layouts are the x86_64
// ones of Linux 6.1 (lockless ring) and 4.19 (log_buf), as their vmcoreinfo describes them.

#include <catch2/catch.hpp>

#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <type_traits>
#include <vector>

#include "dumpfilter/dmesg.h"
#include "lib/io/hex.h"

using namespace kk;

namespace {

// Sparse kernel memory: a few mapped regions, zero-filled until written.
class FakeKernel final : public KernelReader {
 public:
  void map(u64 base, u64 size) { regions_[base].assign(size, std::byte{0}); }

  void put(u64 addr, const void* src, size_t n) {
    if (n == 0) return;  // an empty string_view may carry a null pointer
    std::byte* dst = find(addr, n);
    REQUIRE(dst != nullptr);
    std::memcpy(dst, src, n);
  }
  void put64(u64 addr, u64 v) { put(addr, &v, 8); }
  void put32(u64 addr, u32 v) { put(addr, &v, 4); }
  void put16(u64 addr, u16 v) { put(addr, &v, 2); }
  void put_text(u64 addr, std::string_view s) { put(addr, s.data(), s.size()); }

  Result<void> read_virt(u64 vaddr, std::span<std::byte> out) const override {
    const std::byte* src = const_cast<FakeKernel*>(this)->find(vaddr, out.size());
    if (!src) return make_error(Errc::missing, "kernel address " + hex(vaddr) + " is not mapped");
    std::memcpy(out.data(), src, out.size());
    return {};
  }

 private:
  std::byte* find(u64 addr, size_t n) {
    auto it = regions_.upper_bound(addr);
    if (it == regions_.begin()) return nullptr;
    --it;
    u64 off = addr - it->first;
    if (off > it->second.size() || n > it->second.size() - off) return nullptr;
    return it->second.data() + off;
  }
  std::map<u64, std::vector<std::byte>> regions_;
};

Vmcoreinfo parse(const std::string& text) {
  Result<Vmcoreinfo> vi = Vmcoreinfo::parse(text);
  REQUIRE(vi.ok());
  return std::move(*vi);
}

std::string without_line(std::string text, const std::string& key) {
  size_t at = text.find(key);
  REQUIRE(at != std::string::npos);
  text.erase(at, text.find('\n', at) + 1 - at);
  return text;
}

// What makedumpfile prints for a byte >= 0x80: "\x%02x" of a plain char.
std::string esc_high(unsigned v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "\\x%s%02x", std::is_signed_v<char> ? "ffffff" : "", v);
  return buf;
}

// --- lockless ringbuffer ------------------------------------------------------------------------

constexpr u64 kPrbSym = 0xffffffff82a1b2c0;   // &prb
constexpr u64 kPrb = 0xffffffff82a1c000;      // printk_rb_static
constexpr u64 kDescs = 0xffffffff82a20000;    // 8 descriptors
constexpr u64 kInfos = 0xffffffff82a21000;    // 8 printk_info
constexpr u64 kData = 0xffffffff82a22000;     // 256 bytes of text
constexpr u64 kIdMask = (u64{1} << 62) - 1;
constexpr u64 kTail = kIdMask - 2;            // ids wrap: tail, tail+1, tail+2, 0, 1, 2
constexpr u64 kReserved = 0, kCommitted = 1, kFinalized = 2;
[[maybe_unused]] constexpr u64 kReusable = 3;  // the fourth state, named for completeness

const std::string kPrbInfo =
    "OSRELEASE=6.1.0-18-amd64\n"
    "PAGESIZE=4096\n"
    "SYMBOL(prb)=ffffffff82a1b2c0\n"
    "SIZE(printk_ringbuffer)=88\n"
    "OFFSET(printk_ringbuffer.desc_ring)=0\n"
    "OFFSET(printk_ringbuffer.text_data_ring)=48\n"
    "OFFSET(printk_ringbuffer.fail)=80\n"
    "SIZE(prb_desc_ring)=48\n"
    "OFFSET(prb_desc_ring.count_bits)=0\n"
    "OFFSET(prb_desc_ring.descs)=8\n"
    "OFFSET(prb_desc_ring.infos)=16\n"
    "OFFSET(prb_desc_ring.head_id)=24\n"
    "OFFSET(prb_desc_ring.tail_id)=32\n"
    "SIZE(prb_desc)=24\n"
    "OFFSET(prb_desc.state_var)=0\n"
    "OFFSET(prb_desc.text_blk_lpos)=8\n"
    "SIZE(prb_data_blk_lpos)=16\n"
    "OFFSET(prb_data_blk_lpos.begin)=0\n"
    "OFFSET(prb_data_blk_lpos.next)=8\n"
    "SIZE(printk_info)=88\n"
    "OFFSET(printk_info.seq)=0\n"
    "OFFSET(printk_info.ts_nsec)=8\n"
    "OFFSET(printk_info.text_len)=16\n"
    "OFFSET(printk_info.caller_id)=20\n"
    "OFFSET(printk_info.dev_info)=24\n"
    "SIZE(prb_data_ring)=32\n"
    "OFFSET(prb_data_ring.size_bits)=0\n"
    "OFFSET(prb_data_ring.data)=8\n"
    "OFFSET(prb_data_ring.head_lpos)=16\n"
    "OFFSET(prb_data_ring.tail_lpos)=24\n"
    "SIZE(atomic_long_t)=8\n"
    "OFFSET(atomic_long_t.counter)=0\n";

struct PrbBuilder {
  FakeKernel mem;

  PrbBuilder(u32 count_bits = 3, u32 size_bits = 8) {
    mem.map(kPrbSym, 8);
    mem.put64(kPrbSym, kPrb);
    mem.map(kPrb, 88);
    mem.put32(kPrb + 0, count_bits);
    mem.put64(kPrb + 8, kDescs);
    mem.put64(kPrb + 16, kInfos);
    mem.put32(kPrb + 48, size_bits);
    mem.put64(kPrb + 56, kData);
    mem.map(kDescs, 24u << count_bits);
    mem.map(kInfos, 88u << count_bits);
    mem.map(kData, u64{1} << size_bits);
  }
  void ids(u64 tail, u64 head) {
    mem.put64(kPrb + 32, tail);
    mem.put64(kPrb + 24, head);
  }
  // A descriptor whose data block spans [begin, next) in logical positions; the text goes at
  // the block's start (+8 for the id), or at the ring's start when the block wraps.
  void record(u64 index, u64 id, u64 state, u64 begin, u64 next, u64 ts_nsec,
              std::string_view text, u16 text_len_override = 0) {
    u64 d = kDescs + index * 24;
    mem.put64(d, state << 62 | id);
    mem.put64(d + 8, begin);
    mem.put64(d + 16, next);
    u64 i = kInfos + index * 88;
    mem.put64(i + 8, ts_nsec);
    mem.put16(i + 16, text_len_override ? text_len_override : static_cast<u16>(text.size()));
    if (text.empty()) return;
    u64 off = begin % 256 > next % 256 ? 0 : begin % 256;
    mem.put64(kData + off, id);
    mem.put_text(kData + off + 8, text);
  }
};

// The ring of the header comment: wrap 3 starts at lpos 768, wrap 4 at 1024.
PrbBuilder sample_ring() {
  PrbBuilder b;
  b.ids(kTail, 2);
  b.record(5, kTail, kFinalized, 768 + 160, 768 + 192, 1'500'000'000, "Linux version 6.1.0");
  b.record(6, kTail + 1, kCommitted, 768 + 192, 768 + 216, 2'000'123'456,
           "tab\there \x01 caf\xc3\xa9");
  b.record(7, kTail + 2, kReserved, 768 + 216, 768 + 232, 2'500'000'000, "SECRET");
  b.record(0, 0, kFinalized, 768 + 232, 1024 + 32, 3'000'000'000, "first line\nsecond line");
  b.record(1, 1, kFinalized, 1, 1, 3'100'000'000, "");  // data-less (FAILED_LPOS)
  b.record(2, 2, kFinalized, 1024 + 32, 1024 + 56, 12'345'678'901'234, "truncated record", 100);
  b.record(3, kTail - 2, kFinalized, 1024 + 56, 1024 + 72, 1'000, "STALE1");   // older than tail
  b.record(4, 12345, kFinalized, 1024 + 72, 1024 + 88, 1'000, "STALE2");       // id not here
  return b;
}

const std::string kSampleOut =
    "[    1.500000] Linux version 6.1.0\n"
    "[    2.000123] tab\there \\x01 caf" + esc_high(0xc3) + esc_high(0xa9) + "\n"
    "[    3.000000] first line\n"
    "               second line\n"
    "[12345.678901] truncated record\n";

}  // namespace

TEST_CASE("lockless ring: records from tail to head, makedumpfile's format", "[dmesg]") {
  PrbBuilder b = sample_ring();
  Result<std::string> out = extract_dmesg(parse(kPrbInfo), b.mem);
  REQUIRE(out.ok());
  CHECK(*out == kSampleOut);
}

TEST_CASE("lockless ring: the dynamic ring is found through the prb pointer", "[dmesg]") {
  PrbBuilder b = sample_ring();
  // setup_log_buf() moved the ring: prb now points at a copy of the header elsewhere.
  constexpr u64 kDyn = 0xffff888003000000;
  b.mem.map(kDyn, 88);
  std::byte hdr[88];
  REQUIRE(b.mem.read_virt(kPrb, hdr).ok());
  b.mem.put(kDyn, hdr, sizeof hdr);
  b.mem.put64(kPrb + 24, 0);  // the static ring's own ids are stale
  b.mem.put64(kPrbSym, kDyn);
  Result<std::string> out = extract_dmesg(parse(kPrbInfo), b.mem);
  REQUIRE(out.ok());
  CHECK(*out == kSampleOut);
}

TEST_CASE("lockless ring: escapes and spacing", "[dmesg]") {
  PrbBuilder b;
  b.ids(0, 0);
  // \t \v \f \r and space pass through, NUL and DEL are escaped, as with C-locale isprint/isspace.
  std::string text = std::string("a\tb\vc\fd\re ") + '\0' + "\x7f~\xff";
  b.record(0, 0, kFinalized, 0, 32, 123'456'789'012'345'678, text);
  Result<std::string> out = extract_dmesg(parse(kPrbInfo), b.mem);
  REQUIRE(out.ok());
  CHECK(*out == "[123456789.012345] a\tb\vc\fd\re \\x00\\x7f~" + esc_high(0xff) + "\n");
}

TEST_CASE("lockless ring: a multi-line record indents by the width of its own prefix",
          "[dmesg]") {
  PrbBuilder b;
  b.ids(0, 0);
  b.record(0, 0, kFinalized, 0, 48, 123'456'000'000'000, "x\n\ny\n");
  Result<std::string> out = extract_dmesg(parse(kPrbInfo), b.mem);
  REQUIRE(out.ok());
  const std::string pad(16, ' ');  // "[123456.000000] " is 16 wide
  CHECK(*out == "[123456.000000] x\n" + pad + "\n" + pad + "y\n" + pad + "\n");
}

TEST_CASE("lockless ring: a missing vmcoreinfo key is named", "[dmesg]") {
  PrbBuilder b = sample_ring();
  Result<std::string> out =
      extract_dmesg(parse(without_line(kPrbInfo, "OFFSET(printk_info.text_len)")), b.mem);
  REQUIRE(!out.ok());
  CHECK(out.error().code == Errc::missing);
  CHECK(out.error().msg == "vmcoreinfo: missing OFFSET(printk_info.text_len)");

  Result<std::string> none = extract_dmesg(parse("PAGESIZE=4096\n"), b.mem);
  REQUIRE(!none.ok());
  CHECK(none.error().code == Errc::missing);
  CHECK(none.error().msg.find("SYMBOL(prb)") != std::string::npos);
}

TEST_CASE("lockless ring: an unmapped text ring names the address", "[dmesg]") {
  PrbBuilder b = sample_ring();
  b.mem.put64(kPrb + 56, 0xffffffff90000000);
  Result<std::string> out = extract_dmesg(parse(kPrbInfo), b.mem);
  REQUIRE(!out.ok());
  // The first record printed is at data offset 160, its text 8 bytes further.
  CHECK(out.error().msg.find("0xffffffff900000a8 is not mapped") != std::string::npos);
}

TEST_CASE("lockless ring: corrupt header and descriptors end cleanly", "[dmesg]") {
  Vmcoreinfo vi = parse(kPrbInfo);

  SECTION("absurd descriptor count") {
    PrbBuilder b = sample_ring();
    b.mem.put32(kPrb + 0, 40);
    Result<std::string> out = extract_dmesg(vi, b.mem);
    REQUIRE(!out.ok());
    CHECK(out.error().code == Errc::corrupt);
    CHECK(out.error().msg.find("count_bits = 40") != std::string::npos);
  }
  SECTION("absurd text ring size") {
    PrbBuilder b = sample_ring();
    b.mem.put32(kPrb + 48, 31);
    Result<std::string> out = extract_dmesg(vi, b.mem);
    REQUIRE(!out.ok());
    CHECK(out.error().code == Errc::corrupt);
  }
  SECTION("tail and head 2^61 ids apart: same records as the full walk, at once") {
    PrbBuilder b = sample_ring();
    b.ids(0, u64{1} << 61);  // ids 0 .. 2^61: the records with ids 0, 1 (data-less) and 2
    Result<std::string> out = extract_dmesg(vi, b.mem);
    REQUIRE(out.ok());
    CHECK(*out ==
          "[    3.000000] first line\n"
          "               second line\n"
          "[12345.678901] truncated record\n");
  }
  SECTION("head_id with state bits: makedumpfile would never reach it") {
    PrbBuilder b = sample_ring();
    b.ids(kTail, u64{3} << 62 | 2);
    Result<std::string> out = extract_dmesg(vi, b.mem);
    REQUIRE(!out.ok());
    CHECK(out.error().code == Errc::corrupt);
  }
  SECTION("tail_id with state bits matches nothing itself; the walk goes on from tail + 1") {
    PrbBuilder b = sample_ring();
    b.ids(u64{1} << 62 | kTail, 2);
    Result<std::string> out = extract_dmesg(vi, b.mem);
    REQUIRE(out.ok());
    CHECK(*out == kSampleOut.substr(kSampleOut.find("[    2.")));
  }
  SECTION("garbage lpos stays inside the ring") {
    PrbBuilder b;
    b.ids(0, 1);
    b.mem.put_text(kData + 8, "abc");
    b.record(0, 0, kFinalized, 0xfffffffffffffff8, 0x4, 1'000'000, "", 60000);  // wraps, next < 8
    b.record(1, 1, kFinalized, 250, 252, 2'000'000, "", 60000);  // begin + 8 past the ring end
    Result<std::string> out = extract_dmesg(vi, b.mem);
    INFO((out.ok() ? std::string() : out.error().msg));
    REQUIRE(out.ok());
    // Record 0: begin > next, so its text starts at 8 and runs to the ring's end (248 bytes).
    CHECK(out->rfind("[    0.001000] abc", 0) == 0);
    CHECK(out->find("\n[    0.002000] \n") != std::string::npos);
  }
  SECTION("every descriptor pointing at the same block stops at the output bound") {
    PrbBuilder b;
    b.ids(0, 7);
    for (u64 i = 0; i < 8; ++i)
      b.record(i, i, kFinalized, 0, 255, 1'000'000, std::string(240, '\n'), 65535);
    Result<std::string> out = extract_dmesg(vi, b.mem);
    REQUIRE(!out.ok());
    CHECK(out.error().code == Errc::corrupt);
  }
}

// --- log_buf, Linux 3.5 .. 5.9 -----------------------------------------------------------------

namespace {

constexpr u64 kLogBufSym = 0xffffffff8254a3b8;  // &log_buf (char *)
constexpr u64 kLogBufLenSym = 0xffffffff8254a3b0;
constexpr u64 kFirstIdxSym = 0xffffffff82b0c1f8;
constexpr u64 kNextIdxSym = 0xffffffff82b0c1fc;
constexpr u64 kLogBuf = 0xffffffff82c43000;

std::string log_buf_info(const std::string& s) {
  return "OSRELEASE=4.19.0-26-amd64\n"
         "PAGESIZE=4096\n"
         "SYMBOL(log_buf)=ffffffff8254a3b8\n"
         "SYMBOL(log_buf_len)=ffffffff8254a3b0\n"
         "SYMBOL(log_first_idx)=ffffffff82b0c1f8\n"
         "SYMBOL(clear_idx)=ffffffff82b0c200\n"
         "SYMBOL(log_next_idx)=ffffffff82b0c1fc\n"
         "SIZE(" + s + ")=16\n"
         "OFFSET(" + s + ".ts_nsec)=0\n"
         "OFFSET(" + s + ".len)=8\n"
         "OFFSET(" + s + ".text_len)=10\n"
         "OFFSET(" + s + ".dict_len)=12\n";
}

struct LogBufBuilder {
  FakeKernel mem;
  explicit LogBufBuilder(u32 len = 256) {
    mem.map(kLogBufLenSym, 16);
    mem.put64(kLogBufSym, kLogBuf);
    mem.put32(kLogBufLenSym, len);
    mem.map(kFirstIdxSym, 8);
    mem.map(kLogBuf, len);
  }
  void idx(u32 first, u32 next) {
    mem.put32(kFirstIdxSym, first);
    mem.put32(kNextIdxSym, next);
  }
  // struct printk_log at idx: text, then the dictionary, padded to 8 bytes.
  void record(u64 idx, u64 ts_nsec, std::string_view text, std::string_view dict = {},
              u16 len = 0) {
    u64 at = kLogBuf + idx;
    mem.put64(at, ts_nsec);
    mem.put16(at + 8, len ? len : static_cast<u16>(align_up(16 + text.size() + dict.size(), 8)));
    mem.put16(at + 10, static_cast<u16>(text.size()));
    mem.put16(at + 12, static_cast<u16>(dict.size()));
    mem.put_text(at + 16, text);
    mem.put_text(at + 16 + text.size(), dict);
  }
  void end_marker(u64 idx) { mem.put16(kLogBuf + idx + 8, 0); }
};

LogBufBuilder sample_log_buf() {
  LogBufBuilder b;
  b.idx(96, 32);
  b.record(96, 5'250'000'000, "hello world", "SUBSYSTEM=pci");  // 96 .. 136
  b.record(136, 6'000'000'000, "line1\nline2");                 // 136 .. 168
  b.end_marker(168);                                              // wraps to 0
  b.record(0, 7'000'001'000, "wrapped \x7f\xe2");                 // 0 .. 32
  return b;
}

const std::string kLogBufOut =
    "[    5.250000] hello world\n"
    "[    6.000000] line1\n"
    "               line2\n"
    "[    7.000001] wrapped \\x7f" + esc_high(0xe2) + "\n";

}  // namespace

TEST_CASE("log_buf: records from log_first_idx to log_next_idx, wrapping at len 0", "[dmesg]") {
  LogBufBuilder b = sample_log_buf();
  Result<std::string> out = extract_dmesg(parse(log_buf_info("printk_log")), b.mem);
  REQUIRE(out.ok());
  CHECK(*out == kLogBufOut);
}

TEST_CASE("log_buf: Linux 3.5 .. 3.10 call the record struct log", "[dmesg]") {
  LogBufBuilder b = sample_log_buf();
  Result<std::string> out = extract_dmesg(parse(log_buf_info("log")), b.mem);
  REQUIRE(out.ok());
  CHECK(*out == kLogBufOut);
}

TEST_CASE("log_buf: empty log, missing keys, corrupt indexes", "[dmesg]") {
  Vmcoreinfo vi = parse(log_buf_info("printk_log"));

  SECTION("first == next prints nothing") {
    LogBufBuilder b;
    b.idx(64, 64);
    Result<std::string> out = extract_dmesg(vi, b.mem);
    REQUIRE(out.ok());
    CHECK(out->empty());
  }
  SECTION("missing record layout") {
    LogBufBuilder b = sample_log_buf();
    Result<std::string> out =
        extract_dmesg(parse(without_line(log_buf_info("printk_log"), "OFFSET(printk_log.len)")),
                      b.mem);
    REQUIRE(!out.ok());
    CHECK(out.error().msg == "vmcoreinfo: missing OFFSET(printk_log.len)");
  }
  SECTION("a cycle is an error, not a hang") {
    LogBufBuilder b;
    b.idx(0, 200);
    b.record(0, 1'000, "a");  // len 24
    b.end_marker(24);         // 0 -> 24 -> (marker: 0 + len of record 0) 24 -> ...
    Result<std::string> out = extract_dmesg(vi, b.mem);
    REQUIRE(!out.ok());
    CHECK(out.error().code == Errc::corrupt);
    CHECK(out.error().msg.find("cycle at index 0x18") != std::string::npos);
  }
  SECTION("a record running out of the buffer") {
    LogBufBuilder b;
    b.idx(96, 32);
    b.record(96, 1'000, "x", {}, 250);
    Result<std::string> out = extract_dmesg(vi, b.mem);
    REQUIRE(!out.ok());
    CHECK(out.error().msg.find("record outside") != std::string::npos);
  }
  SECTION("log_first_idx beyond the buffer") {
    LogBufBuilder b;
    b.idx(0x7fffffff, 32);
    Result<std::string> out = extract_dmesg(vi, b.mem);
    REQUIRE(!out.ok());
    CHECK(out.error().code == Errc::corrupt);
  }
  SECTION("absurd log_buf_len") {
    LogBufBuilder b = sample_log_buf();
    b.mem.put32(kLogBufLenSym, 0xfffffff0);
    Result<std::string> out = extract_dmesg(vi, b.mem);
    REQUIRE(!out.ok());
    CHECK(out.error().code == Errc::corrupt);
  }
}

TEST_CASE("log_buf before Linux 3.5: plain text, oldest byte first", "[dmesg]") {
  constexpr u64 kLogEndSym = 0xffffffff81c0a000;
  const std::string info =
      "SYMBOL(log_buf)=ffffffff8254a3b8\n"
      "SYMBOL(log_buf_len)=ffffffff8254a3b0\n"
      "SYMBOL(log_end)=ffffffff81c0a000\n";
  LogBufBuilder b(16);
  b.mem.put_text(kLogBuf, "0123456789abcdef");
  b.mem.map(kLogEndSym, 8);

  b.mem.put32(kLogEndSym, 5);
  Result<std::string> young = extract_dmesg(parse(info), b.mem);
  REQUIRE(young.ok());
  CHECK(*young == "01234");

  b.mem.put32(kLogEndSym, 36);  // wrapped twice; the next byte goes at 4
  Result<std::string> old = extract_dmesg(parse(info), b.mem);
  REQUIRE(old.ok());
  CHECK(*old == "456789abcdef0123");
}

// Issue 18 (hostile dumps): a crafted ring must not make the log, and so --dump-dmesg and
// --report, take hundreds of MiB of a capture kernel's memory.
TEST_CASE("log_buf: a ring larger than any capture kernel could format is refused", "[dmesg]") {
  const std::string info =
      "SYMBOL(log_buf)=ffffffff8254a3b8\n"
      "SYMBOL(log_buf_len)=ffffffff8254a3b0\n"
      "SYMBOL(log_end)=ffffffff81c0a000\n";
  LogBufBuilder b(32u << 20);  // 32 MiB, every byte mapped
  b.mem.map(0xffffffff81c0a000, 8);
  b.mem.put32(0xffffffff81c0a000, 32u << 20);
  Result<std::string> out = extract_dmesg(parse(info), b.mem);
  REQUIRE(!out.ok());
  CHECK(out.error().code == Errc::corrupt);
  CHECK(out.error().msg == "log_buf_len = 33554432 is outside 1..16777216");
}

TEST_CASE("log_buf: escapes that would blow up the output stop at the output bound", "[dmesg]") {
  // 16 MiB of records whose text is all bytes >= 0x80: each prints as 4 to 10 bytes, so the
  // log as makedumpfile prints it would run to 64-160 MiB.
  constexpr u32 kLen = 16u << 20;
  const u64 kText = 65000, kRec = align_up(16 + kText, 8);
  LogBufBuilder b(kLen);
  std::string high(kText, '\xe2');
  u64 idx = 0;
  for (; idx + kRec <= kLen - 16; idx += kRec) b.record(idx, 1'000, high);
  b.idx(0, static_cast<u32>(idx));
  Result<std::string> out = extract_dmesg(parse(log_buf_info("printk_log")), b.mem);
  REQUIRE(!out.ok());
  CHECK(out.error().code == Errc::corrupt);
  CHECK(out.error().msg.find("more than 24 MiB") != std::string::npos);
}

// --- the printk caller column (makedumpfile 1.7.5+) --------------------------------------------

namespace {

std::string with_release(std::string info, const std::string& release) {
  info = without_line(info, "OSRELEASE=");
  return "OSRELEASE=" + release + "\n" + info;
}

}  // namespace

TEST_CASE("caller column: printed as the makedumpfile that supports the kernel prints it",
          "[dmesg]") {
  auto column = [](const std::string& release) {
    return makedumpfile_caller_column(parse(with_release(kPrbInfo, release)));
  };
  CHECK(column("6.1.0-57-amd64") == CallerColumn::omit);   // Debian 12, makedumpfile 1.7.2
  CHECK(column("6.6.0") == CallerColumn::omit);            // 1.7.4's newest
  CHECK(column("6.7.0") == CallerColumn::print);           // only 1.7.5+ supports it
  CHECK(column("6.12.117+deb13-amd64") == CallerColumn::print);  // Debian 13, 1.7.6
  CHECK(column("7.2.13+deb14-amd64") == CallerColumn::print);    // unstable, 1.7.8
  CHECK(column("10.0.0") == CallerColumn::print);
  CHECK(column("unknown") == CallerColumn::print);         // as the newest makedumpfile
  // No caller_id offset: no makedumpfile prints the column.
  CHECK(makedumpfile_caller_column(parse(without_line(
            with_release(kPrbInfo, "6.12.117+deb13-amd64"), "OFFSET(printk_info.caller_id)"))) ==
        CallerColumn::omit);
  CHECK(makedumpfile_caller_column(parse(log_buf_info("printk_log"))) == CallerColumn::omit);
}

TEST_CASE("caller column: lockless ring, T<pid> or C<cpu>, right-aligned in 8, widening the indent",
          "[dmesg]") {
  PrbBuilder b = sample_ring();
  auto caller = [&](u64 index, u32 id) { b.mem.put32(kInfos + index * 88 + 20, id); };
  caller(5, 0);                  // the boot CPU's idle task, pid 0
  caller(6, 0x80000003);         // CPU 3, outside task context
  caller(0, 123);                // pid 123, a multi-line record
  caller(2, 0x7fffffff);         // the widest pid: wider than the column
  Vmcoreinfo vi = parse(with_release(kPrbInfo, "6.12.117+deb13-amd64"));
  Result<std::string> out = extract_dmesg(vi, b.mem, CallerColumn::print);
  REQUIRE(out.ok());
  CHECK(*out ==
        "[    1.500000] [      T0] Linux version 6.1.0\n"
        "[    2.000123] [      C3] tab\there \\x01 caf" + esc_high(0xc3) + esc_high(0xa9) + "\n"
        "[    3.000000] [    T123] first line\n"
        "                          second line\n"
        "[12345.678901] [T2147483647] truncated record\n");
  // Asked for but not described by vmcoreinfo: omitted, as makedumpfile omits it.
  Result<std::string> bare = extract_dmesg(
      parse(without_line(kPrbInfo, "OFFSET(printk_info.caller_id)")), b.mem, CallerColumn::print);
  REQUIRE(bare.ok());
  CHECK(*bare == kSampleOut);
  // And omit leaves the 1.7.2 format alone.
  Result<std::string> old = extract_dmesg(vi, b.mem, CallerColumn::omit);
  REQUIRE(old.ok());
  CHECK(*old == kSampleOut);
}

TEST_CASE("caller column: log_buf records with printk_log.caller_id (CONFIG_PRINTK_CALLER)",
          "[dmesg]") {
  LogBufBuilder b = sample_log_buf();
  // A synthetic layout: the caller id where dict_len and the flags sit in the 16-byte header,
  // written after the records (whose dictionaries the log does not print).
  b.mem.put32(kLogBuf + 96 + 12, 1);
  b.mem.put32(kLogBuf + 136 + 12, 0x80000000);
  b.mem.put32(kLogBuf + 0 + 12, 4242);
  std::string info = log_buf_info("printk_log") + "OFFSET(printk_log.caller_id)=12\n";
  Result<std::string> out = extract_dmesg(parse(info), b.mem, CallerColumn::print);
  REQUIRE(out.ok());
  CHECK(*out ==
        "[    5.250000] [      T1] hello world\n"
        "[    6.000000] [      C0] line1\n"
        "                          line2\n"
        "[    7.000001] [   T4242] wrapped \\x7f" + esc_high(0xe2) + "\n");
  CHECK(makedumpfile_caller_column(parse(with_release(info, "5.4.0"))) == CallerColumn::omit);
}

TEST_CASE("caller column: an offset past the record is refused", "[dmesg]") {
  PrbBuilder b = sample_ring();
  std::string info = without_line(kPrbInfo, "OFFSET(printk_info.caller_id)") +
                     "OFFSET(printk_info.caller_id)=86\n";
  Result<std::string> out = extract_dmesg(parse(info), b.mem, CallerColumn::print);
  REQUIRE(!out.ok());
  CHECK(out.error().code == Errc::corrupt);
  CHECK(out.error().msg.find("caller_id") != std::string::npos);
}
