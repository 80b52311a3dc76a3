// dump_name.cpp: see dump_name.h.
#include "kdumpctl/dump_name.h"

#include <cctype>

namespace kk {

std::string safe_host_name(std::string_view host) {
  std::string out;
  for (char c : host.substr(0, 64)) {
    bool keep = std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '-' || c == '_';
    out += keep ? c : '_';
  }
  if (out.empty()) return "localhost";
  if (out.front() == '.' || out.front() == '-') out.front() = '_';
  return out;
}

std::string dump_dir_name(std::string_view host, std::time_t now) {
  struct tm tm {};
  gmtime_r(&now, &tm);
  char date[32];
  strftime(date, sizeof date, "%Y-%m-%d-%H:%M:%S", &tm);
  return safe_host_name(host) + "-" + date;
}

}  // namespace kk
