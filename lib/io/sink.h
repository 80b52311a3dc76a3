// sink.h: where a dump's bytes go. Writers place bytes at file offsets; a sink either writes them
// into a file (temporary name, published when complete) or turns them into a stream (the
// flattened format on standard output). finish() is the only way output becomes "complete".
#pragma once

#include <span>
#include <string>

#include "lib/io/file.h"

namespace kk {

class ByteSink {
 public:
  virtual ~ByteSink() = default;
  virtual Result<void> write_at(u64 offset, std::span<const std::byte> data) = 0;
  // Makes the output final: the file gets its name, the stream its end marker.
  virtual Result<void> finish() = 0;
  // The output stopped early: keep what reached it, never under the final name (a file stays
  // "<final>-incomplete"; a stream gets no end marker). Returns where it was kept.
  virtual Result<std::string> keep_partial() = 0;
  virtual const std::string& name() const = 0;
  // Puts what was written on the disk (fsync), so that write-back errors show before the format's
  // "complete" mark is written. Streams: nothing to do.
  virtual Result<void> sync() { return {}; }
  // Makes [offset, offset + length) read as zeros where never-written bytes would not (a block
  // device written in place keeps its old bytes); a new file's holes already read as zeros.
  virtual Result<void> zero_range(u64 /*offset*/, u64 /*length*/) { return {}; }
  // finish() and whatever goes with a finished output (a dump file's manifest). When it fails,
  // published() says whether the output had its final name by then (only what goes with it
  // failed) or is still to be kept as partial.
  virtual Result<void> publish() { return finish(); }
  virtual bool published() const { return false; }
};

// A regular file: OutputFile's temporary, renamed by finish().
class FileSink final : public ByteSink {
 public:
  explicit FileSink(OutputFile file) : file_(std::move(file)) {}
  Result<void> write_at(u64 offset, std::span<const std::byte> data) override {
    return file_.write_at(offset, data);
  }
  Result<void> finish() override { return file_.publish(); }
  Result<std::string> keep_partial() override { return file_.keep_incomplete(); }
  const std::string& name() const override { return file_.path(); }
  Result<void> sync() override { return file_.sync(); }
  Result<void> zero_range(u64 offset, u64 length) override;
  bool published() const override { return file_.published(); }
  OutputFile& file() { return file_; }

 private:
  OutputFile file_;
};

}  // namespace kk
