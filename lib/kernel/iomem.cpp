#include "lib/kernel/iomem.h"

#include <algorithm>
#include <charconv>

#include "lib/io/lines.h"

namespace kk {

namespace {
bool parse_hex(std::string_view s, u64* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out, 16);
  return ec == std::errc() && p == s.data() + s.size() && !s.empty();
}
}  // namespace

Result<std::vector<IomemRange>> parse_iomem(std::string_view text) {
  std::vector<IomemRange> out;
  Lines lines(text);
  std::string_view line;
  while (lines.next(&line)) {
    if (line.empty()) continue;
    size_t indent = line.find_first_not_of(' ');
    size_t dash = line.find('-', indent);
    size_t colon = line.find(" : ", indent);
    auto bad = [&] {
      return make_error(Errc::corrupt, "iomem: line " + std::to_string(lines.number()) + " is not 'START-END : NAME': '" +
                                           std::string(line.substr(0, 80)) + "'");
    };
    if (indent == std::string_view::npos || dash == std::string_view::npos ||
        colon == std::string_view::npos || dash > colon)
      return bad();
    IomemRange r;
    if (!parse_hex(line.substr(indent, dash - indent), &r.start) ||
        !parse_hex(line.substr(dash + 1, colon - dash - 1), &r.end) || r.end < r.start)
      return bad();
    r.name = std::string(line.substr(colon + 3));
    r.depth = static_cast<int>(indent / 2);
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<IomemRange> iomem_find(const std::vector<IomemRange>& all, std::string_view name) {
  std::vector<IomemRange> out;
  for (const IomemRange& r : all)
    if (r.name == name) out.push_back(r);
  return out;
}

std::vector<IomemRange> iomem_system_ram(const std::vector<IomemRange>& all) {
  std::vector<IomemRange> out;
  for (const IomemRange& r : all)
    if (r.depth == 0 && r.name.rfind("System RAM", 0) == 0) out.push_back(r);
  return out;
}

std::vector<PhysRange> merge_ranges(std::vector<PhysRange> ranges) {
  std::sort(ranges.begin(), ranges.end(),
            [](const PhysRange& a, const PhysRange& b) { return a.start < b.start; });
  std::vector<PhysRange> out;
  for (const PhysRange& r : ranges) {
    if (r.end <= r.start) continue;
    if (!out.empty() && r.start <= out.back().end)
      out.back().end = std::max(out.back().end, r.end);
    else
      out.push_back(r);
  }
  return out;
}

std::vector<PhysRange> subtract_ranges(std::vector<PhysRange> ranges, std::vector<PhysRange> holes) {
  ranges = merge_ranges(std::move(ranges));
  holes = merge_ranges(std::move(holes));
  std::vector<PhysRange> out;
  for (PhysRange r : ranges) {
    for (const PhysRange& h : holes) {
      if (h.end <= r.start || h.start >= r.end) continue;
      if (h.start > r.start) out.push_back({r.start, h.start});
      r.start = std::max(r.start, h.end);
      if (r.start >= r.end) break;
    }
    if (r.start < r.end) out.push_back(r);
  }
  return out;
}

}  // namespace kk
