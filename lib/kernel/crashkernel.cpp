// crashkernel.cpp: parsing and evaluating crashkernel= (see crashkernel.h for the forms).
#include "lib/kernel/crashkernel.h"

#include "lib/io/number.h"
#include "lib/kernel/cmdline.h"

namespace kk {

namespace {

Error bad(std::string_view what, std::string_view value) {
  return make_error(Errc::corrupt, "crashkernel=" + std::string(value) + ": " + std::string(what));
}

// Splits "number[suffix]" off the front of s; returns the size and leaves the rest in s.
Result<u64> take_memsize(std::string_view* s) {
  size_t n = 0;
  bool hex = s->size() > 2 && (*s)[0] == '0' && ((*s)[1] == 'x' || (*s)[1] == 'X');
  if (hex) n = 2;
  while (n < s->size() && (hex ? std::isxdigit(static_cast<unsigned char>((*s)[n])) != 0
                               : ((*s)[n] >= '0' && (*s)[n] <= '9')))
    ++n;
  if (n < s->size() && std::string_view("KkMmGgTtPpEe").find((*s)[n]) != std::string_view::npos) ++n;
  Result<u64> v = parse_memsize(s->substr(0, n));
  if (!v) return v;
  s->remove_prefix(n);
  return v;
}

}  // namespace

Result<u64> parse_memsize(std::string_view s) {
  if (s.empty()) return make_error(Errc::corrupt, "empty size");
  unsigned shift = 0;
  switch (s.back()) {
    case 'K': case 'k': shift = 10; break;
    case 'M': case 'm': shift = 20; break;
    case 'G': case 'g': shift = 30; break;
    case 'T': case 't': shift = 40; break;
    case 'P': case 'p': shift = 50; break;
    case 'E': case 'e': shift = 60; break;
    default: break;
  }
  std::string_view digits = shift ? s.substr(0, s.size() - 1) : s;
  bool hex = digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X');
  std::optional<u64> v = parse_unsigned(digits, hex ? 16 : 10);
  if (!v) return make_error(Errc::corrupt, "'" + std::string(s) + "' is not a size");
  if (shift && *v > (~u64{0} >> shift)) return make_error(Errc::corrupt, "'" + std::string(s) + "' is too large");
  return *v << shift;
}

std::string format_memsize(u64 bytes) {
  static constexpr char suffix[] = "KMGTPE";
  if (bytes == 0) return "0";
  int i = -1;
  while (i < 5 && bytes % (u64{1} << (10 * (i + 2))) == 0) ++i;
  if (i < 0) return std::to_string(bytes);
  return std::to_string(bytes >> (10 * (i + 1))) + suffix[i];
}

static Result<std::vector<CrashkernelRange>> parse_ranges(std::string_view* s, std::string_view value) {
  std::vector<CrashkernelRange> out;
  for (;;) {
    CrashkernelRange r;
    Result<u64> start = take_memsize(s);
    if (!start) return bad("range start: " + start.error().msg, value);
    r.start = *start;
    if (s->empty() || s->front() != '-') return bad("a range needs '-' after its start", value);
    s->remove_prefix(1);
    if (!s->empty() && s->front() != ':') {
      Result<u64> end = take_memsize(s);
      if (!end) return bad("range end: " + end.error().msg, value);
      if (*end <= r.start) return bad("range " + format_memsize(r.start) + "-" + format_memsize(*end) + " is empty", value);
      r.end = *end;
    }
    if (s->empty() || s->front() != ':') return bad("a range needs ':' before its size", value);
    s->remove_prefix(1);
    Result<u64> size = take_memsize(s);
    if (!size) return bad("range size: " + size.error().msg, value);
    r.size = *size;
    if (!out.empty() && (!out.back().end || r.start < *out.back().end))
      return bad("ranges overlap or are out of order", value);
    out.push_back(r);
    if (s->empty() || s->front() == '@') return out;
    if (s->front() != ',') return bad("unexpected '" + std::string(s->substr(0, 1)) + "' after a range", value);
    s->remove_prefix(1);
  }
}

Result<Crashkernel> parse_crashkernel(std::string_view value) {
  Crashkernel ck;
  std::string_view s = value;
  if (s.empty()) return bad("empty value", value);
  if (s == "auto") {
    ck.kind = Crashkernel::Kind::auto_table;
    std::string_view t = auto_table;
    KK_TRY_ASSIGN(std::vector<CrashkernelRange> r, parse_ranges(&t, auto_table));
    ck.ranges = std::move(r);
    return ck;
  }
  // The zone suffix applies to the size form only (the kernel reads ",high" after a size).
  for (auto [suffix, zone] : {std::pair{std::string_view(",high"), Crashkernel::Zone::high},
                              std::pair{std::string_view(",low"), Crashkernel::Zone::low}}) {
    if (s.size() > suffix.size() && s.ends_with(suffix)) {
      ck.zone = zone;
      s.remove_suffix(suffix.size());
    }
  }
  if (s.find(':') != std::string_view::npos) {
    if (ck.zone != Crashkernel::Zone::any) return bad(",high/,low go with a plain size, not ranges", value);
    ck.kind = Crashkernel::Kind::ranges;
    KK_TRY_ASSIGN(std::vector<CrashkernelRange> r, parse_ranges(&s, value));
    ck.ranges = std::move(r);
  } else {
    Result<u64> size = take_memsize(&s);
    if (!size) return bad(size.error().msg, value);
    if (*size == 0) return bad("size is 0", value);
    ck.size = *size;
  }
  if (!s.empty() && s.front() == '@') {
    if (ck.zone != Crashkernel::Zone::any) return bad("@offset cannot go with ,high/,low", value);
    s.remove_prefix(1);
    Result<u64> off = take_memsize(&s);
    if (!off) return bad("offset: " + off.error().msg, value);
    ck.offset = *off;
  }
  if (!s.empty()) return bad("unexpected '" + std::string(s) + "'", value);
  return ck;
}

u64 crashkernel_size(const Crashkernel& ck, u64 ram) {
  if (ck.kind == Crashkernel::Kind::size) return ck.size;
  for (const CrashkernelRange& r : ck.ranges)
    if (ram >= r.start && (!r.end || ram < *r.end)) return r.size;
  return 0;
}

std::vector<std::string> find_crashkernel_values(std::string_view cmdline) {
  std::vector<std::string> out;
  Result<std::vector<std::string>> words = split_cmdline(cmdline);
  if (!words) return out;
  for (const std::string& w : *words)
    if (param_name(w) == "crashkernel" && w.size() > 12) out.push_back(w.substr(12));
  return out;
}

}  // namespace kk
