// digest_sink.h: a dump file that hashes its data as it is written, for the manifest
// (manifest.h). The writers put a head (header, bitmaps, page descriptors) at fixed offsets and
// rewrite parts of it until the end, but append the data region strictly in order; this sink
// hashes the longest run of in-order appends at the end of the file as it streams past, and at
// the end reads back only what lies outside that run. Which bytes are streamed is decided from
// the writes themselves, never assumed: a write that lands inside the run (a rewrite) drops it,
// and those bytes are read back like the head, so the digests are right whatever a writer does.
#pragma once

#include <optional>

#include "dumpfilter/manifest.h"
#include "dumpfilter/range_digest.h"
#include "lib/io/sink.h"

namespace kk {

// Pure bookkeeping of the streamed run, separate from the file so it can be tested alone.
class StreamedRun {
 public:
  // Called after each successful write of [offset, offset + size).
  void wrote(u64 offset, std::span<const std::byte> data);
  u64 start() const { return start_; }
  u64 end() const { return end_; }
  // The digest of [start, end); once.
  std::string hex() { return hash_.hex(); }

 private:
  u64 start_ = 0, end_ = 0;  // end_ is also the end of everything written so far
  RangeDigester hash_;
};

class DigestedFileSink final : public ByteSink {
 public:
  explicit DigestedFileSink(OutputFile file) : file_(std::move(file)) {}
  Result<void> write_at(u64 offset, std::span<const std::byte> data) override;
  Result<void> finish() override { return file_.finish(); }
  Result<std::string> keep_partial() override { return file_.keep_partial(); }
  const std::string& name() const override { return file_.name(); }
  Result<void> sync() override { return file_.sync(); }
  Result<void> zero_range(u64 offset, u64 length) override { return file_.zero_range(offset, length); }
  // The file gets its final name, then its manifest beside it (the head read back from the
  // descriptor before the rename, the data hashed as it was written). A block device written in
  // place gets none: beside it is /dev (in a capture kernel, RAM), and its size is the device's.
  Result<void> publish() override;
  bool published() const override { return file_.published(); }

  // The finished file's manifest: the streamed run's digest, the rest read back from the file.
  Result<Manifest> manifest();

 private:
  FileSink file_;
  StreamedRun run_;
};

}  // namespace kk
