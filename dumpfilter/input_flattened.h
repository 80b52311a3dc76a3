// input_flattened.h: a flattened file (makedumpfile -F, ours with -F) read in place, without
// rebuilding it first. One scan of the record headers at open builds an index from offsets of the
// rebuilt file to offsets in the stream; reads then go straight to the record data.
//
// Bound: the index holds one 24-byte entry per record, after later records have overwritten
// earlier ones. makedumpfile writes records of up to 64 KiB of page data (13,095 records for a
// 400 MB -d 0 dump of a 512 MiB machine: 314 KB of index), so the index is about 0.1 % of the
// stream. Streams with more than kMaxFlatRecords records (a 384 MiB index) are refused with a
// hint to rebuild them with -R first.
#pragma once

#include <cstring>
#include <memory>
#include <vector>

#include "dumpfilter/flattened_format.h"
#include "dumpfilter/input_source.h"

namespace kk {

inline constexpr u64 kMaxFlatRecords = u64{1} << 24;

// Inline: every dump opened is probed with it, and the capture path's code is kept apart from the
// readers it does not use (dumpfilter/capture_path.ld).
inline bool is_flattened_signature(std::span<const std::byte> first_bytes) {
  return first_bytes.size() >= 12 && std::memcmp(first_bytes.data(), flattened::kSignature, 12) == 0;
}
// Checks the 32 meaningful bytes of the 4096-byte header block. Errors name `name`.
Result<void> check_flattened_header(std::span<const std::byte> header, const std::string& name);

// One stretch of the rebuilt file and where its bytes are in the stream.
struct FlatPiece {
  u64 offset;     // in the rebuilt file
  u64 in_offset;  // in the stream
  u64 size;
};

// Folds records, in stream order, into sorted non-overlapping pieces: a later record wins where
// it overwrites an earlier one (makedumpfile rewrites the header of a dump it had to cut short).
class FlatIndexBuilder {
 public:
  void add(FlatPiece record);
  std::vector<FlatPiece> finish();
  u64 records() const { return records_; }

 private:
  std::vector<FlatPiece> pieces_;  // stream order
  u64 records_ = 0;
};

class FlattenedSource final : public ByteSource {
 public:
  static Result<std::unique_ptr<FlattenedSource>> open(InputFile file, u64 max_records = kMaxFlatRecords);

  const std::string& path() const override { return file_.path(); }
  u64 size() const override { return size_; }  // of the rebuilt file
  u64 stored_size() const override { return stored_; }  // bytes of the records, holes left out
  Result<void> read_at(u64 offset, std::span<std::byte> out) const override;
  const std::vector<FlatPiece>& pieces() const { return pieces_; }

 private:
  explicit FlattenedSource(InputFile f) : file_(std::move(f)) {}
  InputFile file_;
  std::vector<FlatPiece> pieces_;
  u64 size_ = 0;
  u64 stored_ = 0;
};

// The bytes of the dump at `path`: the file itself, or for a flattened file the file it rebuilds
// to, through the index. Every reader of dump files starts here.
Result<std::unique_ptr<ByteSource>> open_dump_source(const std::string& path);

}  // namespace kk
