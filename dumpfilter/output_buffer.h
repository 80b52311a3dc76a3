// output_buffer.h: bytes bound for one contiguous stretch of a dump file (page data, page
// descriptors, program headers), gathered so the file gets writes of a few hundred KiB rather
// than a system call per page. Each writer keeps one per stretch.
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
  // Flush at 256 KiB by default: a write per 256 KiB costs no more CPU than one per MiB, and in
  // a capture kernel every buffered byte is resident (issue 20).
  static constexpr size_t kDefaultLimit = 256u << 10;
  // Callers append at most one page (64 KiB) past the limit before they flush: room for that is
  // reserved once, so the buffer never doubles and its size is the same in every run.
  static constexpr size_t kMaxAppend = 64u << 10;

  explicit OutputBuffer(size_t limit = kDefaultLimit) : limit_(limit) {}
  size_t limit() const { return limit_; }
  size_t capacity() const { return buf_.capacity(); }

  // The next byte appended goes to file offset `at`.
  void restart(u64 at) {
    next_ = at;
    buf_.clear();
  }
  void append(std::span<const std::byte> b) {
    if (buf_.capacity() < limit_ + kMaxAppend) buf_.reserve(std::max(limit_ + kMaxAppend, buf_.size() + b.size()));
    buf_.insert(buf_.end(), b.begin(), b.end());
  }
  template <class T>
  void append_value(const T& v) {
    append(bytes_of(v));
  }
  bool full() const { return buf_.size() >= limit_; }
  // File offset just past what has reached the sink.
  u64 flushed_end() const { return next_; }

  // Gives the memory back once everything reached the sink (after the last page); the next
  // append() reserves it again.
  void release() {
    if (buf_.empty()) std::vector<std::byte>().swap(buf_);
  }

  Result<void> flush(ByteSink& out) {
    if (buf_.empty()) return {};
    KK_TRY(out.write_at(next_, buf_));
    next_ += buf_.size();
    buf_.clear();
    return {};
  }

 private:
  size_t limit_;
  std::vector<std::byte> buf_;
  u64 next_ = 0;
};

}  // namespace kk
