// dmesg.cpp: the crashed kernel's log, in makedumpfile 1.7.2's --dump-dmesg format byte for byte
// (its printk.c dump_record() for the lockless ring, makedumpfile.c dump_log_entry() and
// dump_dmesg() for log_buf). One line per record: "[%5llu.%06llu] " (seconds, microseconds),
// then, as makedumpfile 1.7.5+ prints it, the caller column "[%8s] " of "T<pid>" or "C<cpu>",
// then the text, where every '\n' is followed by as many spaces as the prefix is wide and every
// byte that C-locale isprint()/isspace() rejects is written "\x%02x". No level, facility or
// dictionary is printed, and data-less records (empty lines) print nothing at all.
//
// makedumpfile trusts the crashed kernel's ring; we check it. Every size the ring claims is
// bounded before anything is allocated, every walk is bounded by the ring's own size, and what
// would send makedumpfile out of its buffers or round a loop forever ends here in an
// Errc::corrupt error.

#include "dumpfilter/dmesg.h"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <type_traits>
#include <vector>

#include "lib/io/hex.h"  // hex()

namespace kk {

namespace {

// The kernel accepts log_buf_len= up to 2 GiB, but a capture kernel has about 96 MiB for
// everything: the ring read whole, its text as printed and the dump's own buffers. Distributions
// build with 128 KiB to 1 MiB (CONFIG_LOG_BUF_SHIFT 17 to 20); a claim above 16 MiB is taken for
// a corrupt or hostile ring, not a big log.
constexpr unsigned kMaxRingBits = 24;
constexpr u64 kMaxRingBytes = u64{1} << kMaxRingBits;
// The kernel gives the ringbuffer one descriptor per 32 bytes of text (PRB_AVGBITS).
constexpr unsigned kMaxCountBits = kMaxRingBits - 5;
// SIZE(prb_desc), SIZE(printk_info), SIZE(printk_log) are a few dozen bytes.
constexpr u64 kMaxStructSize = 4096;

// Valid output is at most 22 bytes per text byte (a '\n' and an indent of at most 21 columns)
// and 22 per record (prefix and newline). Twice that leaves room for records a crash left
// pointing at recycled data; more means records share their text, and we stop rather than print
// the same bytes over and over.
u64 output_limit(u64 text_bytes, u64 records) { return 2 * 22 * (text_bytes + records) + 4096; }
// Whatever the ring: escapes print a byte as up to 10, so a full 16 MiB ring of crafted bytes
// would print as 160 MiB (--dump-dmesg, and --report, which reads the same log).
constexpr u64 kMaxLogOutput = 24ull << 20;

// Checked after each record: the text stays under kMaxLogOutput plus one record (640 KiB).
Result<void> check_output(const std::string& out, u64 limit, const char* ring) {
  if (out.size() > kMaxLogOutput)
    return make_error(Errc::corrupt, std::string(ring) + ": the log as printed runs to more than " +
                                         std::to_string(kMaxLogOutput >> 20) +
                                         " MiB; the log is most likely corrupt");
  if (out.size() > limit)
    return make_error(Errc::corrupt, std::string(ring) +
                                         ": records overlap beyond what the ring can hold; the "
                                         "log is most likely corrupt");
  return {};
}

// --- the line format --------------------------------------------------------------------------

// isprint() || isspace() in the C locale: makedumpfile never calls setlocale().
bool prints_as_is(unsigned char c) { return (c >= 0x20 && c <= 0x7e) || (c >= 0x09 && c <= 0x0d); }

// makedumpfile passes a plain char to "\\x%02x". Where char is signed (x86_64) a byte of 0x80 or
// more sign-extends and prints as \xffffffc2; where it is unsigned (arm64) as \xc2. We print what
// makedumpfile built for this host prints.
void append_escaped(std::string& out, unsigned char c) {
  int promoted = std::is_signed_v<char> ? static_cast<int>(static_cast<signed char>(c)) : c;
  char buf[16];
  int n = std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(promoted));
  out.append(buf, static_cast<size_t>(n));
}

// The kernel's caller id (printk_caller_id()): a CPU number with the top bit set when the
// record was written outside task context, else the writer's pid.
constexpr u32 kCallerIsCpu = 0x80000000;

// nullopt: no caller column.
void append_record(std::string& out, u64 ts_nsec, std::optional<u32> caller,
                   std::span<const std::byte> text) {
  char prefix[64];
  int indent = std::snprintf(prefix, sizeof prefix, "[%5llu.%06llu] ",
                             static_cast<unsigned long long>(ts_nsec / 1000000000),
                             static_cast<unsigned long long>(ts_nsec % 1000000000 / 1000));
  if (caller) {
    char id[16];
    std::snprintf(id, sizeof id, "%c%u", (*caller & kCallerIsCpu) ? 'C' : 'T',
                  *caller & ~kCallerIsCpu);
    // Right-aligned in 8 columns; a longer id widens the column (and the indent).
    indent += std::snprintf(prefix + indent, sizeof prefix - static_cast<size_t>(indent),
                            "[%8s] ", id);
  }
  out.append(prefix, static_cast<size_t>(indent));
  for (std::byte b : text) {
    auto c = static_cast<unsigned char>(b);
    if (c == '\n') {
      out += '\n';
      out.append(static_cast<size_t>(indent), ' ');
    } else if (prints_as_is(c)) {
      out += static_cast<char>(c);
    } else {
      append_escaped(out, c);
    }
  }
  out += '\n';
}

// "OFFSET(printk_info.text_len) runs past SIZE(printk_info)" rather than a read out of bounds.
Result<void> check_field(u64 off, u64 width, u64 struct_size, const char* field, const char* in) {
  if (off > struct_size || width > struct_size - off)
    return make_error(Errc::corrupt, std::string("vmcoreinfo: ") + field + " runs past SIZE(" + in +
                                         ") = " + std::to_string(struct_size));
  return {};
}

Result<void> check_struct_size(u64 size, const char* name) {
  if (size == 0 || size > kMaxStructSize)
    return make_error(Errc::corrupt, std::string("vmcoreinfo: implausible SIZE(") + name +
                                         ") = " + std::to_string(size));
  return {};
}

// --- lockless ringbuffer (Linux 5.10+, kernel/printk/printk_ringbuffer.h) ----------------------

// Byte offsets from vmcoreinfo. Atomic fields already include OFFSET(atomic_long_t.counter), and
// the lpos fields OFFSET(prb_desc.text_blk_lpos).
struct PrbLayout {
  u64 desc_ring = 0, text_data_ring = 0;                      // in printk_ringbuffer
  u64 count_bits = 0, descs = 0, infos = 0, head_id = 0, tail_id = 0;  // in prb_desc_ring
  u64 size_bits = 0, data = 0;                                // in prb_data_ring
  u64 desc_size = 0, state_var = 0, lpos_begin = 0, lpos_next = 0;  // in prb_desc
  u64 info_size = 0, ts_nsec = 0, text_len = 0;               // in printk_info
  std::optional<u64> caller_id;                               // in printk_info, when printed
};

Result<PrbLayout> prb_layout(const Vmcoreinfo& vi, CallerColumn caller) {
  PrbLayout l;
  u64 counter = 0, blk_lpos = 0;
  struct Want {
    u64* to;
    const char* key;
  };
  const Want offsets[] = {
      {&l.desc_ring, "printk_ringbuffer.desc_ring"},
      {&l.text_data_ring, "printk_ringbuffer.text_data_ring"},
      {&l.count_bits, "prb_desc_ring.count_bits"},
      {&l.descs, "prb_desc_ring.descs"},
      {&l.infos, "prb_desc_ring.infos"},
      {&l.head_id, "prb_desc_ring.head_id"},
      {&l.tail_id, "prb_desc_ring.tail_id"},
      {&l.size_bits, "prb_data_ring.size_bits"},
      {&l.data, "prb_data_ring.data"},
      {&l.state_var, "prb_desc.state_var"},
      {&blk_lpos, "prb_desc.text_blk_lpos"},
      {&l.lpos_begin, "prb_data_blk_lpos.begin"},
      {&l.lpos_next, "prb_data_blk_lpos.next"},
      {&l.ts_nsec, "printk_info.ts_nsec"},
      {&l.text_len, "printk_info.text_len"},
      {&counter, "atomic_long_t.counter"},
  };
  for (const Want& w : offsets) {
    KK_TRY_ASSIGN(u64 v, vi.need_offset(w.key));
    *w.to = v;
  }
  Result<u64> desc_size = vi.need_size("prb_desc");
  if (!desc_size) return std::move(desc_size).error();
  Result<u64> info_size = vi.need_size("printk_info");
  if (!info_size) return std::move(info_size).error();
  l.desc_size = *desc_size;
  l.info_size = *info_size;
  l.head_id += counter;
  l.tail_id += counter;
  l.state_var += counter;
  l.lpos_begin += blk_lpos;
  l.lpos_next += blk_lpos;

  KK_TRY(check_struct_size(l.desc_size, "prb_desc"));
  KK_TRY(check_struct_size(l.info_size, "printk_info"));
  KK_TRY(check_field(l.state_var, 8, l.desc_size, "OFFSET(prb_desc.state_var)", "prb_desc"));
  KK_TRY(check_field(l.lpos_begin, 8, l.desc_size, "OFFSET(prb_data_blk_lpos.begin)", "prb_desc"));
  KK_TRY(check_field(l.lpos_next, 8, l.desc_size, "OFFSET(prb_data_blk_lpos.next)", "prb_desc"));
  KK_TRY(check_field(l.ts_nsec, 8, l.info_size, "OFFSET(printk_info.ts_nsec)", "printk_info"));
  KK_TRY(check_field(l.text_len, 2, l.info_size, "OFFSET(printk_info.text_len)", "printk_info"));
  if (caller == CallerColumn::print) l.caller_id = vi.offset("printk_info.caller_id");
  if (l.caller_id)
    KK_TRY(check_field(*l.caller_id, 4, l.info_size, "OFFSET(printk_info.caller_id)",
                       "printk_info"));
  return l;
}

// The ring's header fields, read out of struct printk_ringbuffer.
struct PrbRing {
  u64 descs = 0, infos = 0, data = 0;  // kernel addresses of the three arrays
  u64 count = 0;                       // entries in descs[] and infos[]
  u64 data_size = 0;                   // bytes in data[]
  u64 head_id = 0, tail_id = 0;
};

Result<PrbRing> read_prb(u64 prb_sym, const PrbLayout& l, const KernelReader& mem) {
  // SYMBOL(prb) is the pointer variable: it points at printk_rb_static until log_buf_len= or
  // the CPU count makes setup_log_buf() switch to a bigger, memblock-allocated ring.
  KK_TRY_ASSIGN(u64 prb, mem.read_u64(prb_sym));
  u64 dr = prb + l.desc_ring;
  u64 tr = prb + l.text_data_ring;
  u64 count_bits = 0, size_bits = 0;
  PrbRing r;
  struct Field {
    u64* to;
    u64 addr;
    bool is_u32;
  };
  const Field fields[] = {
      {&count_bits, dr + l.count_bits, true}, {&r.descs, dr + l.descs, false},
      {&r.infos, dr + l.infos, false},        {&r.head_id, dr + l.head_id, false},
      {&r.tail_id, dr + l.tail_id, false},    {&size_bits, tr + l.size_bits, true},
      {&r.data, tr + l.data, false},
  };
  for (const Field& f : fields) {
    if (f.is_u32) {
      KK_TRY_ASSIGN(u32 v, mem.read_u32(f.addr));
      *f.to = v;
    } else {
      KK_TRY_ASSIGN(u64 v, mem.read_u64(f.addr));
      *f.to = v;
    }
  }
  if (count_bits > kMaxCountBits)
    return make_error(Errc::corrupt, "desc_ring.count_bits = " + std::to_string(count_bits) +
                                         " exceeds the limit of " + std::to_string(kMaxCountBits));
  if (size_bits > kMaxRingBits)
    return make_error(Errc::corrupt, "text_data_ring.size_bits = " + std::to_string(size_bits) +
                                         " (more than " + std::to_string(kMaxRingBytes >> 20) +
                                         " MiB of text)");
  r.count = u64{1} << count_bits;
  r.data_size = u64{1} << size_bits;
  return r;
}

// A kernel array of fixed-size structs, read kWindow entries at a time: memory stays constant
// however many descriptors the ring has, and a walk in index order costs one read per window.
class ArrayWindow {
 public:
  ArrayWindow(const KernelReader& mem, u64 base, u64 entry_size, u64 count, const char* name)
      : mem_(mem), base_(base), entry_size_(entry_size), count_(count), name_(name) {}

  // index < count.
  Result<const std::byte*> at(u64 index) {
    if (index < first_ || index >= first_ + n_) {
      first_ = index / kWindow * kWindow;
      n_ = std::min(kWindow, count_ - first_);
      buf_.resize(n_ * entry_size_);
      Result<void> r = mem_.read_virt(base_ + first_ * entry_size_, buf_);
      if (!r) {
        n_ = 0;
        return std::move(r).error().context(std::string(name_) + "[" + std::to_string(index) +
                                            "]");
      }
    }
    return buf_.data() + (index - first_) * entry_size_;
  }

 private:
  static constexpr u64 kWindow = 256;
  const KernelReader& mem_;
  u64 base_, entry_size_, count_;
  const char* name_;
  std::vector<std::byte> buf_;
  u64 first_ = 0, n_ = 0;
};

// 64-bit kernels keep a descriptor's state in the top two bits of state_var, its id below.
constexpr unsigned kDescFlagsShift = 62;
constexpr u64 kDescIdMask = (u64{1} << kDescFlagsShift) - 1;
constexpr u64 kDescCommitted = 1;  // desc_committed: written, the writer may still extend it
constexpr u64 kDescFinalized = 2;  // desc_finalized: complete

struct Hit {
  u64 step;   // position in the walk from tail_id
  u64 index;  // in descs[] and infos[]
};

// makedumpfile visits ids tail_id, tail_id + 1, ... up to head_id inclusive (ids wrap inside
// kDescIdMask) and prints the descriptor at id % count when its state_var holds that id and
// is committed or finalized. A descriptor holds one id, so each prints at most once, in the
// order of its id's distance from tail_id. Collecting them from one pass over descs[] gives
// the same records in the same order for any head/tail pair, where stepping through the ids
// could take 2^62 steps on a corrupt ring. Memory: 16 bytes per printable descriptor, 64 KiB for
// a default 128 KiB ring.
Result<std::vector<Hit>> records_in_order(const PrbLayout& l, const PrbRing& r,
                                          const KernelReader& mem) {
  if ((r.head_id & ~kDescIdMask) != 0)  // makedumpfile's walk would never reach it
    return make_error(Errc::corrupt, "desc_ring.head_id " + hex(r.head_id) + " has state bits");
  u64 span = (r.head_id - r.tail_id) & kDescIdMask;
  // A tail_id with state bits matches no descriptor: the walk only starts to match at tail + 1.
  u64 first_step = (r.tail_id & ~kDescIdMask) != 0 ? 1 : 0;
  ArrayWindow descs(mem, r.descs, l.desc_size, r.count, "desc_ring.descs");
  std::vector<Hit> hits;
  for (u64 i = 0; i < r.count; ++i) {
    KK_TRY_ASSIGN(const std::byte* d, descs.at(i));
    u64 sv = load_le<u64>(d + l.state_var);
    u64 id = sv & kDescIdMask;
    u64 state = sv >> kDescFlagsShift;
    if ((id & (r.count - 1)) != i) continue;  // the walk never looks for this id here
    if (state != kDescCommitted && state != kDescFinalized) continue;
    u64 step = (id - r.tail_id) & kDescIdMask;
    if (step < first_step || step > span) continue;
    hits.push_back({step, i});
  }
  std::sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) { return a.step < b.step; });
  return hits;
}

Result<std::string> dump_lockless(const Vmcoreinfo& vi, u64 prb_sym, const KernelReader& mem,
                                  CallerColumn caller) {
  Result<PrbLayout> layout = prb_layout(vi, caller);  // every key first: no read before a missing key
  if (!layout) return std::move(layout).error();
  const PrbLayout& l = *layout;
  Result<PrbRing> ring = read_prb(prb_sym, l, mem);
  if (!ring) return std::move(ring).error().context("prb");
  const PrbRing& r = *ring;
  Result<std::vector<Hit>> hits = records_in_order(l, r, mem);
  if (!hits) return std::move(hits).error().context("prb");

  ArrayWindow descs(mem, r.descs, l.desc_size, r.count, "desc_ring.descs");
  ArrayWindow infos(mem, r.infos, l.info_size, r.count, "desc_ring.infos");
  const u64 limit = output_limit(r.data_size, r.count);
  std::string out;
  std::vector<std::byte> text;
  for (const Hit& h : *hits) {
    Result<const std::byte*> d = descs.at(h.index);
    if (!d) return std::move(d).error().context("prb");
    u64 begin = load_le<u64>(*d + l.lpos_begin) % r.data_size;
    u64 next = load_le<u64>(*d + l.lpos_next) % r.data_size;
    if (begin == next) continue;  // no data: FAILED_LPOS, or an empty line (EMPTY_LINE_LPOS)
    Result<const std::byte*> info = infos.at(h.index);
    if (!info) return std::move(info).error().context("prb");
    u64 text_len = load_le<u16>(*info + l.text_len);
    u64 ts_nsec = load_le<u64>(*info + l.ts_nsec);

    if (begin > next) begin = 0;  // a block that would wrap is stored at the ring's start
    begin += 8;                   // past the block's copy of its descriptor id (unsigned long)
    // A truncated record keeps its full text_len. Unsigned like makedumpfile: when next < begin
    // this does not shorten anything.
    if (next - begin < text_len) text_len = next - begin;
    // makedumpfile would read past its copy of the ring here; only corrupt lpos gets this far.
    text_len = begin >= r.data_size ? 0 : std::min(text_len, r.data_size - begin);

    text.resize(text_len);
    if (text_len > 0) {
      Result<void> rd = mem.read_virt(r.data + begin, text);
      if (!rd) return std::move(rd).error().context("prb: text_data_ring");
    }
    std::optional<u32> cid;
    if (l.caller_id) cid = load_le<u32>(*info + *l.caller_id);
    append_record(out, ts_nsec, cid, text);
    KK_TRY(check_output(out, limit, "prb"));
  }
  return out;
}

// --- log_buf (Linux before 5.10) ---------------------------------------------------------------

Result<std::vector<std::byte>> read_buffer(const KernelReader& mem, u64 addr, u64 len) {
  std::vector<std::byte> buf(len);
  KK_TRY(mem.read_virt(addr, buf));
  return buf;
}

// Before 3.5 log_buf is plain text, log_end counting every byte ever written. makedumpfile
// copies it out unformatted, oldest byte first once the ring has wrapped.
Result<std::string> dump_plain_log_buf(u64 buf_addr, u64 buf_len, u64 log_end_sym,
                                       const KernelReader& mem) {
  // Linux 2.6.25 made log_end unsigned int; before, unsigned long, whose low half this is.
  Result<u32> end = mem.read_u32(log_end_sym);
  if (!end) return std::move(end).error().context("log_end");
  // [start, buf_len) is the older part, [0, start) the newer; unwrapped, just [0, log_end).
  u64 start = *end < buf_len ? 0 : *end & (buf_len - 1);  // log_buf_len is a power of two
  u64 old_len = *end < buf_len ? *end : buf_len - start;
  std::string text(old_len + start, '\0');
  std::span<std::byte> bytes = std::as_writable_bytes(std::span(text));
  Result<void> r = mem.read_virt(buf_addr + start, bytes.first(old_len));
  if (r && start > 0) r = mem.read_virt(buf_addr, bytes.subspan(old_len));
  if (!r) return std::move(r).error().context("log_buf");
  return text;
}

// struct printk_log, named struct log before Linux 3.11; vmcoreinfo uses whichever name the
// kernel had.
struct LogLayout {
  u64 size = 0, len = 0, text_len = 0, ts_nsec = 0;
  std::optional<u64> caller_id;  // when printed
};

Result<LogLayout> log_layout(const Vmcoreinfo& vi, CallerColumn caller) {
  const std::string s = vi.size("log") && !vi.size("printk_log") ? "log" : "printk_log";
  LogLayout l;
  struct Want {
    u64* to;
    std::string key;
  };
  const Want offsets[] = {
      {&l.len, s + ".len"}, {&l.text_len, s + ".text_len"}, {&l.ts_nsec, s + ".ts_nsec"}};
  Result<u64> size = vi.need_size(s);
  if (!size) return std::move(size).error();
  l.size = *size;
  for (const Want& w : offsets) {
    KK_TRY_ASSIGN(u64 v, vi.need_offset(w.key));
    *w.to = v;
  }
  KK_TRY(check_struct_size(l.size, s.c_str()));
  KK_TRY(check_field(l.len, 2, l.size, "OFFSET(.len)", s.c_str()));
  KK_TRY(check_field(l.text_len, 2, l.size, "OFFSET(.text_len)", s.c_str()));
  KK_TRY(check_field(l.ts_nsec, 8, l.size, "OFFSET(.ts_nsec)", s.c_str()));
  if (caller == CallerColumn::print) l.caller_id = vi.offset(s + ".caller_id");
  if (l.caller_id) KK_TRY(check_field(*l.caller_id, 4, l.size, "OFFSET(.caller_id)", s.c_str()));
  return l;
}

Error log_corrupt(const std::string& what, u64 buf_addr, u64 idx) {
  return make_error(Errc::corrupt, "log_buf " + hex(buf_addr) + ": " + what + " at index " +
                                       hex(idx) + "; the log is most likely corrupt");
}

// Records from log_first_idx to log_next_idx. A record with len 0 marks the end of the used
// part of the buffer: the record it stands for is the one at index 0. makedumpfile stops with an
// error on an index outside the buffer or on a cycle, after writing the records before it; we
// stop at the same places, with the error alone.
Result<std::string> walk_log_buf(const std::vector<std::byte>& buf, const LogLayout& l,
                                 u64 buf_addr, u64 first_idx, u64 next_idx) {
  const u64 len = buf.size();
  const u64 last_start = len - l.size;  // the highest index a whole header fits at
  auto u16_at = [&](u64 idx, u64 off) { return load_le<u16>(buf.data() + idx + off); };
  const u64 limit = output_limit(len, len / l.size);
  std::vector<bool> seen(len);  // one bit per index: a revisit is a cycle
  std::string out;
  u64 idx = first_idx;
  if (idx != next_idx && idx > last_start)
    return log_corrupt("log_first_idx outside", buf_addr, idx);
  while (idx != next_idx) {
    if (seen[idx]) return log_corrupt("cycle", buf_addr, idx);
    seen[idx] = true;
    u64 rec = u16_at(idx, l.len) == 0 ? 0 : idx;
    u64 text_off = rec + l.size;
    u64 text_len = std::min<u64>(u16_at(rec, l.text_len), len - text_off);
    std::optional<u32> cid;
    if (l.caller_id) cid = load_le<u32>(buf.data() + rec + *l.caller_id);
    append_record(out, load_le<u64>(buf.data() + rec + l.ts_nsec), cid,
                  std::span(buf).subspan(text_off, text_len));
    KK_TRY(check_output(out, limit, "log_buf"));
    u64 step = u16_at(idx, l.len);
    u64 next = step != 0 ? idx + step : u16_at(0, l.len);
    if (next > last_start) return log_corrupt("record outside", buf_addr, idx);
    idx = next;
  }
  return out;
}

Result<std::string> dump_log_buf(const Vmcoreinfo& vi, u64 buf_sym, const KernelReader& mem,
                                 CallerColumn caller) {
  KK_TRY_ASSIGN(u64 len_sym, vi.need_symbol("log_buf_len"));
  Result<u64> buf_addr = mem.read_u64(buf_sym);  // log_buf is a pointer: static or memblock
  if (!buf_addr) return std::move(buf_addr).error().context("log_buf");
  Result<u32> buf_len = mem.read_u32(len_sym);
  if (!buf_len) return std::move(buf_len).error().context("log_buf_len");
  if (*buf_len == 0 || *buf_len > kMaxRingBytes)
    return make_error(Errc::corrupt, "log_buf_len = " + std::to_string(*buf_len) +
                                         " is outside 1.." + std::to_string(kMaxRingBytes));
  if (std::optional<u64> log_end = vi.symbol("log_end"))
    return dump_plain_log_buf(*buf_addr, *buf_len, *log_end, mem);

  // Linux 3.5 to 5.9: variable-length records.
  KK_TRY_ASSIGN(u64 first_sym, vi.need_symbol("log_first_idx"));
  KK_TRY_ASSIGN(u64 next_sym, vi.need_symbol("log_next_idx"));
  KK_TRY_ASSIGN(LogLayout layout, log_layout(vi, caller));
  if (*buf_len < layout.size)
    return make_error(Errc::corrupt, "log_buf_len = " + std::to_string(*buf_len) +
                                         " cannot hold one record header");
  Result<u32> first = mem.read_u32(first_sym);
  if (!first) return std::move(first).error().context("log_first_idx");
  Result<u32> next = mem.read_u32(next_sym);
  if (!next) return std::move(next).error().context("log_next_idx");
  Result<std::vector<std::byte>> buf = read_buffer(mem, *buf_addr, *buf_len);
  if (!buf) return std::move(buf).error().context("log_buf");
  return walk_log_buf(*buf, layout, *buf_addr, *first, *next);
}

}  // namespace

CallerColumn makedumpfile_caller_column(const Vmcoreinfo& vi) {
  if (!vi.offset("printk_info.caller_id") && !vi.offset("printk_log.caller_id"))
    return CallerColumn::omit;
  unsigned major = 0, minor = 0;
  if (std::sscanf(vi.osrelease().c_str(), "%u.%u", &major, &minor) != 2) return CallerColumn::print;
  // makedumpfile 1.7.4's LATEST_VERSION is 6.6.0.
  return major > 6 || (major == 6 && minor > 6) ? CallerColumn::print : CallerColumn::omit;
}

Result<std::string> extract_dmesg(const Vmcoreinfo& vi, const KernelReader& mem,
                                  CallerColumn caller) {
  if (std::optional<u64> prb = vi.symbol("prb")) return dump_lockless(vi, *prb, mem, caller);
  if (std::optional<u64> log_buf = vi.symbol("log_buf"))
    return dump_log_buf(vi, *log_buf, mem, caller);
  return make_error(Errc::missing, "vmcoreinfo: missing SYMBOL(prb) and SYMBOL(log_buf)");
}

}  // namespace kk
