// lines.h: walks text line by line without copying, counting lines for error messages
// ("iomem: line 12 is not ..."). A final line without '\n' counts; empty lines are returned too.
#pragma once

#include <string_view>

namespace kk {

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
