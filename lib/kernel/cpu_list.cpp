#include "lib/kernel/cpu_list.h"

#include <string>

#include "lib/io/lines.h"
#include "lib/io/number.h"

namespace kk {

Result<std::vector<int>> parse_cpu_list(std::string_view text) {
  std::vector<int> cpus;
  text = trim(text);
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view part = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    size_t dash = part.find('-');
    std::optional<u64> a = parse_unsigned(trim(part.substr(0, dash)), 10);
    std::optional<u64> b = dash == std::string_view::npos ? a : parse_unsigned(trim(part.substr(dash + 1)), 10);
    if (!a || !b || *b < *a || *b > 65535)
      return make_error(Errc::corrupt, "bad CPU list '" + std::string(part) + "'");
    for (u64 c = *a; c <= *b; ++c) cpus.push_back(static_cast<int>(c));
  }
  return cpus;
}

}  // namespace kk
