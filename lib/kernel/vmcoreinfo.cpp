#include "lib/kernel/vmcoreinfo.h"

#include <charconv>

#include "lib/io/escape.h"
#include "lib/io/lines.h"
#include "lib/io/number.h"

namespace kk {

namespace {

std::optional<i64> parse_signed(std::string_view s) {
  i64 v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 10);
  if (ec == std::errc() && p == s.data() + s.size() && !s.empty()) return v;
  // Some NUMBER() values are printed as unsigned (%lu) and exceed i64 (e.g. masks).
  std::optional<u64> u = parse_unsigned(s, 10);
  if (u) return static_cast<i64>(*u);
  return std::nullopt;
}

std::string key_of(std::string_view kind, std::string_view name) {
  return std::string(kind) + "(" + std::string(name) + ")";
}

Error missing(std::string_view kind, std::string_view name) {
  return make_error(Errc::missing, "vmcoreinfo: missing " + key_of(kind, name));
}

}  // namespace

Result<Vmcoreinfo> Vmcoreinfo::parse(std::string_view text) {
  Vmcoreinfo vi;
  // The note may carry trailing NULs (it is padded to 4 bytes).
  while (!text.empty() && text.back() == '\0') text.remove_suffix(1);
  vi.text_ = std::string(text);
  Lines lines(text);
  std::string_view line;
  while (lines.next(&line)) {
    if (line.empty()) continue;
    size_t eq = line.find('=');
    if (eq == std::string_view::npos || eq == 0)
      return make_error(Errc::corrupt, "vmcoreinfo: line " + std::to_string(lines.number()) +
                                           " is not KEY=VALUE: '" +
                                           escape_for_terminal(line.substr(0, 60)) + "'");
    vi.kv_.insert_or_assign(std::string(line.substr(0, eq)), std::string(line.substr(eq + 1)));
  }
  if (auto ps = vi.raw("PAGESIZE")) {
    // Every page buffer is this size: only what a kernel can have, 4 KiB to 256 KiB (the bounds
    // of a kdump-compressed block too), whatever the input kind.
    std::optional<u64> v = parse_unsigned(*ps, 10);
    if (!v || *v < kMinPageSize || *v > kMaxPageSize || (*v & (*v - 1)) != 0)
      return make_error(Errc::corrupt, "vmcoreinfo: bad PAGESIZE '" + escape_for_terminal(*ps) + "'");
    vi.page_size_ = *v;
  }
  return vi;
}

std::optional<std::string_view> Vmcoreinfo::raw(std::string_view key) const {
  auto it = kv_.find(key);
  if (it == kv_.end()) return std::nullopt;
  return std::string_view(it->second);
}

std::optional<u64> Vmcoreinfo::symbol(std::string_view name) const {
  auto v = raw(key_of("SYMBOL", name));
  return v ? parse_unsigned(*v, 16) : std::nullopt;
}
std::optional<u64> Vmcoreinfo::size(std::string_view name) const {
  auto v = raw(key_of("SIZE", name));
  return v ? parse_unsigned(*v, 10) : std::nullopt;
}
std::optional<u64> Vmcoreinfo::offset(std::string_view name) const {
  auto v = raw(key_of("OFFSET", name));
  return v ? parse_unsigned(*v, 10) : std::nullopt;
}
std::optional<i64> Vmcoreinfo::number(std::string_view name) const {
  auto v = raw(key_of("NUMBER", name));
  return v ? parse_signed(*v) : std::nullopt;
}
std::optional<u64> Vmcoreinfo::length(std::string_view name) const {
  auto v = raw(key_of("LENGTH", name));
  return v ? parse_unsigned(*v, 10) : std::nullopt;
}

Result<u64> Vmcoreinfo::need_symbol(std::string_view name) const {
  if (auto v = symbol(name)) return *v;
  return missing("SYMBOL", name);
}
Result<u64> Vmcoreinfo::need_size(std::string_view name) const {
  if (auto v = size(name)) return *v;
  return missing("SIZE", name);
}
Result<u64> Vmcoreinfo::need_offset(std::string_view name) const {
  if (auto v = offset(name)) return *v;
  return missing("OFFSET", name);
}
Result<i64> Vmcoreinfo::need_number(std::string_view name) const {
  if (auto v = number(name)) return *v;
  return missing("NUMBER", name);
}
Result<u64> Vmcoreinfo::need_length(std::string_view name) const {
  if (auto v = length(name)) return *v;
  return missing("LENGTH", name);
}

std::string Vmcoreinfo::osrelease() const {
  auto v = raw("OSRELEASE");
  return v ? std::string(*v) : std::string();
}

std::optional<u64> Vmcoreinfo::kernel_offset() const {
  auto v = raw("KERNELOFFSET");
  return v ? parse_unsigned(*v, 16) : std::nullopt;
}

std::optional<i64> Vmcoreinfo::crash_time() const {
  auto v = raw("CRASHTIME");
  return v ? parse_signed(*v) : std::nullopt;
}

}  // namespace kk
