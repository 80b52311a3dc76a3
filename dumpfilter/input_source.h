// input_source.h: random-access bytes of a dump, whatever stores them. A kdump-compressed dump is
// read the same way from a plain file and from a flattened stream (through its record index), so
// the format readers take a ByteSource, not a file.
#pragma once

#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "lib/io/file.h"

namespace kk {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  virtual const std::string& path() const = 0;
  virtual u64 size() const = 0;
  // The bytes the source really holds: size() for a file; for a flattened stream the bytes of
  // its records, which can be far fewer (a record may lie at any offset, and holes read as
  // zeros). Sizes a dump claims for what is read whole are checked against this.
  virtual u64 stored_size() const { return size(); }
  // Exactly out.size() bytes at offset; past the end is Errc::truncated naming path(). Safe to
  // call from several threads at once.
  virtual Result<void> read_at(u64 offset, std::span<std::byte> out) const = 0;
  // A descriptor whose file offsets are this source's offsets, for mapping pages instead of
  // reading them (input_window.h); -1 when there is none (bytes in memory, a flattened stream).
  virtual int map_fd() const { return -1; }
};

class FileSource final : public ByteSource {
 public:
  explicit FileSource(InputFile f) : file_(std::move(f)) {}
  const std::string& path() const override { return file_.path(); }
  u64 size() const override { return file_.size(); }
  Result<void> read_at(u64 offset, std::span<std::byte> out) const override {
    return file_.read_at(offset, out);
  }
  int map_fd() const override { return file_.fd(); }

 private:
  InputFile file_;
};

// Bytes in memory: unit-test fixtures, and small pieces read ahead.
class MemorySource final : public ByteSource {
 public:
  MemorySource(std::string name, std::vector<std::byte> bytes)
      : name_(std::move(name)), bytes_(std::move(bytes)) {}
  const std::string& path() const override { return name_; }
  u64 size() const override { return bytes_.size(); }
  Result<void> read_at(u64 offset, std::span<std::byte> out) const override {
    if (offset > bytes_.size() || out.size() > bytes_.size() - offset)
      return make_error(Errc::truncated, name_ + ": file ends at " + std::to_string(bytes_.size()) +
                                             ", expected data up to " +
                                             std::to_string(offset + out.size()));
    if (!out.empty()) std::memcpy(out.data(), bytes_.data() + offset, out.size());
    return {};
  }

 private:
  std::string name_;
  std::vector<std::byte> bytes_;
};

}  // namespace kk
