// output_buffer.h: bytes bound for one contiguous stretch of a dump file (page data, page
// descriptors, program headers), gathered so the file gets writes of about a MiB rather than a
// system call per page. Each writer keeps one per stretch.
#pragma once

#include <algorithm>
#include <span>
#include <vector>

#include "lib/io/sink.h"

namespace kk {

template <class T>
std::span<const std::byte> bytes_of(const T& v) {
  return {reinterpret_cast<const std::byte*>(&v), sizeof v};
}

class OutputBuffer {
 public:
  static constexpr size_t kLimit = 1u << 20;  // flush at a MiB
  // Callers append one page (at most 64 KiB) past the limit before they flush: room for that is
  // reserved once, so the buffer never doubles and its size is the same in every run.
  static constexpr size_t kCapacity = kLimit + (64u << 10);

  // The next byte appended goes to file offset `at`.
  void restart(u64 at) {
    next_ = at;
    buf_.clear();
  }
  void append(std::span<const std::byte> b) {
    if (buf_.capacity() < kCapacity) buf_.reserve(std::max(kCapacity, buf_.size() + b.size()));
    buf_.insert(buf_.end(), b.begin(), b.end());
  }
  template <class T>
  void append_value(const T& v) {
    append(bytes_of(v));
  }
  bool full() const { return buf_.size() >= kLimit; }
  // File offset just past what has reached the sink.
  u64 flushed_end() const { return next_; }

  Result<void> flush(ByteSink& out) {
    if (buf_.empty()) return {};
    KK_TRY(out.write_at(next_, buf_));
    next_ += buf_.size();
    buf_.clear();
    return {};
  }

 private:
  std::vector<std::byte> buf_;
  u64 next_ = 0;
};

}  // namespace kk
