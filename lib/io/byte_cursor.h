// byte_cursor.h: bounds-checked reads from a byte buffer. The buffer's name and its base offset in
// the file go into every error, so a short note says where it is short.
#pragma once

#include <cstring>
#include <span>
#include <string>

#include "lib/io/hex.h"
#include "lib/io/result.h"
#include "lib/io/types.h"

namespace kk {

class ByteCursor {
 public:
  ByteCursor(std::span<const std::byte> buf, std::string name, u64 base = 0)
      : buf_(buf), name_(std::move(name)), base_(base) {}

  size_t pos() const { return pos_; }
  size_t remaining() const { return buf_.size() - pos_; }
  bool at_end() const { return pos_ >= buf_.size(); }
  void seek(size_t pos) { pos_ = pos < buf_.size() ? pos : buf_.size(); }

  template <class T>
  Result<T> read() {
    if (remaining() < sizeof(T)) return truncated(sizeof(T));
    T v;
    std::memcpy(&v, buf_.data() + pos_, sizeof v);
    pos_ += sizeof v;
    return v;
  }

  Result<std::span<const std::byte>> bytes(size_t n) {
    if (remaining() < n) return truncated(n);
    auto s = buf_.subspan(pos_, n);
    pos_ += n;
    return s;
  }

  Result<void> skip(size_t n) {
    if (remaining() < n) return truncated(n);
    pos_ += n;
    return {};
  }

 private:
  Error truncated(size_t want) const {
    return make_error(Errc::truncated, name_ + ": truncated at offset " + hex(base_ + pos_) + " (need " +
                                           std::to_string(want) + " bytes, have " +
                                           std::to_string(remaining()) + ")");
  }

  std::span<const std::byte> buf_;
  std::string name_;
  u64 base_;
  size_t pos_ = 0;
};

}  // namespace kk
