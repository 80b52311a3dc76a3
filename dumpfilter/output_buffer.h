// output_buffer.h: bytes bound for one contiguous stretch of a dump file (page data, page
// descriptors, program headers), gathered so the file gets writes of a few hundred KiB rather
// than a system call per page. Each writer keeps one per stretch.
#pragma once

#include <algorithm>
#include <cstring>
#include <memory>
#include <span>

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
  size_t capacity() const { return cap_; }

  // The next byte appended goes to file offset `at`.
  void restart(u64 at) {
    next_ = at;
    size_ = 0;
  }
  // Bytes that land right where space() pointed (the caller wrote them in place) are only
  // counted; any others are copied, overlapping ones included.
  void append(std::span<const std::byte> b) {
    if (b.data() == buf_.get() + size_ && size_ + b.size() <= cap_) {
      size_ += b.size();
      return;
    }
    grow(size_ + b.size());
    std::memmove(buf_.get() + size_, b.data(), b.size());
    size_ += b.size();
  }
  template <class T>
  void append_value(const T& v) {
    append(bytes_of(v));
  }
  // Where the next n bytes would go, for a caller that writes them there itself and then
  // append()s that span: empty when they would take the buffer past its limit (flush first).
  // What is written in place is not copied again and needs no second buffer; and as append()
  // never passes the limit on the way, no flush on full() comes between the pages.
  std::span<std::byte> space(size_t n) {
    if (size_ + n > limit_) return {};
    grow(size_);
    return {buf_.get() + size_, n};
  }
  bool full() const { return size_ >= limit_; }
  // File offset just past what has reached the sink.
  u64 flushed_end() const { return next_; }

  // Gives the memory back once everything reached the sink (after the last page); the next
  // append() allocates it again.
  void release() {
    if (size_ == 0) {
      buf_.reset();
      cap_ = 0;
    }
  }

  Result<void> flush(ByteSink& out) {
    if (size_ == 0) return {};
    KK_TRY(out.write_at(next_, std::span<const std::byte>(buf_.get(), size_)));
    next_ += size_;
    size_ = 0;
    return {};
  }

 private:
  // Not zeroed when made: in a capture kernel only the bytes written count in RSS.
  void grow(size_t need) {
    size_t want = std::max(limit_ + kMaxAppend, need);
    if (cap_ >= want) return;
    auto p = std::make_unique_for_overwrite<std::byte[]>(want);
    if (size_) std::memcpy(p.get(), buf_.get(), size_);
    buf_ = std::move(p);
    cap_ = want;
  }

  size_t limit_;
  std::unique_ptr<std::byte[]> buf_;
  size_t cap_ = 0;
  size_t size_ = 0;
  u64 next_ = 0;
};

}  // namespace kk
