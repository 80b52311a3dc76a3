// flattened_sink.h: -F. Every positioned write becomes a flattened record on a stream (standard
// output, a pipe to ssh, a raw device), so the random-access formats can be written where nothing
// can seek. Sequential writes are merged into records of up to kMaxRecord bytes; a stream without
// the end record is incomplete, and readers (-R) refuse it.
#pragma once

#include <vector>

#include "lib/io/sink.h"

namespace kk {

class FlattenedSink final : public ByteSink {
 public:
  static constexpr size_t kMaxRecord = 1u << 20;

  // fd is not owned (standard output); name is what errors call it.
  FlattenedSink(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}
  Result<void> write_at(u64 offset, std::span<const std::byte> data) override;
  Result<void> finish() override;
  // Sends what is buffered, without the end record: readers see an incomplete stream.
  Result<std::string> keep_partial() override;
  const std::string& name() const override { return name_; }
  u64 bytes_out() const { return out_bytes_; }

 private:
  Result<void> emit(std::span<const std::byte> bytes);
  Result<void> flush();

  int fd_;
  std::string name_;
  bool started_ = false;
  bool finished_ = false;
  u64 pending_offset_ = 0;
  std::vector<std::byte> pending_;
  u64 out_bytes_ = 0;
};

}  // namespace kk
