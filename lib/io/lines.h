// lines.h: walks text line by line without copying, counting lines for error messages
// ("iomem: line 12 is not ..."). A final line without '\n' counts; empty lines are returned too.
// trim() takes the blanks off both ends of a line or of a sysfs value.
#pragma once

#include <string_view>

namespace kk {

// Blanks: spaces, tabs, line ends, and the NUL some sysfs and firmware files end with.
inline std::string_view trim(std::string_view s) {
  constexpr std::string_view kBlanks(" \t\r\n\0", 5);
  size_t b = s.find_first_not_of(kBlanks);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(kBlanks) - b + 1);
}

class Lines {
 public:
  explicit Lines(std::string_view text) : rest_(text) {}
  // The next line without its '\n'; false at the end.
  bool next(std::string_view* line) {
    if (rest_.empty()) return false;
    size_t nl = rest_.find('\n');
    *line = rest_.substr(0, nl);
    rest_ = nl == std::string_view::npos ? std::string_view() : rest_.substr(nl + 1);
    ++number_;
    return true;
  }
  size_t number() const { return number_; }  // of the line next() returned last, from 1

 private:
  std::string_view rest_;
  size_t number_ = 0;
};

}  // namespace kk
