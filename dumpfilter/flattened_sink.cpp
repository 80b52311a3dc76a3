#include "dumpfilter/flattened_sink.h"

#include <cstring>

#include "dumpfilter/flattened_format.h"

namespace kk {

Result<void> FlattenedSink::emit(std::span<const std::byte> bytes) {
  KK_TRY(write_all(fd_, bytes, name_));
  out_bytes_ += bytes.size();
  return {};
}

Result<void> FlattenedSink::flush() {
  if (!started_) {
    std::vector<std::byte> head(flattened::kHeaderBlock);
    flattened::Header h{};
    std::memcpy(h.signature.data(), flattened::kSignature, sizeof flattened::kSignature);
    h.type = flattened::kType;
    h.version = flattened::kVersion;
    std::memcpy(head.data(), &h, sizeof h);
    KK_TRY(emit(head));
    started_ = true;
  }
  if (pending_.empty()) return {};
  flattened::RecordHeader r{};
  r.offset = static_cast<i64>(pending_offset_);
  r.size = static_cast<i64>(pending_.size());
  KK_TRY(emit({reinterpret_cast<const std::byte*>(&r), sizeof r}));
  KK_TRY(emit(pending_));
  pending_offset_ += pending_.size();
  pending_.clear();
  return {};
}

Result<void> FlattenedSink::write_at(u64 offset, std::span<const std::byte> data) {
  if (finished_) return make_error(Errc::io, name_ + ": write after the end of the stream");
  while (!data.empty()) {
    if (!pending_.empty() && offset != pending_offset_ + pending_.size()) KK_TRY(flush());
    if (pending_.empty()) pending_offset_ = offset;
    size_t n = std::min(data.size(), kMaxRecord - pending_.size());
    pending_.insert(pending_.end(), data.begin(), data.begin() + static_cast<long>(n));
    data = data.subspan(n);
    offset += n;
    if (pending_.size() == kMaxRecord) KK_TRY(flush());
  }
  return {};
}

Result<void> FlattenedSink::finish() {
  KK_TRY(flush());
  flattened::RecordHeader end{};
  end.offset = flattened::kEndOffset;
  end.size = flattened::kEndOffset;
  KK_TRY(emit({reinterpret_cast<const std::byte*>(&end), sizeof end}));
  finished_ = true;
  return {};
}

Result<std::string> FlattenedSink::keep_partial() {
  KK_TRY(flush());
  finished_ = true;
  return name_ + " (flattened stream without its end record)";
}

}  // namespace kk
