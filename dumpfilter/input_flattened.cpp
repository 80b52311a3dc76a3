// input_flattened.cpp: the record index of a flattened file (layout in flattened_format.h).
#include "dumpfilter/input_flattened.h"

#include <algorithm>
#include <cstring>
#include <map>

#include "lib/io/byte_cursor.h"

namespace kk {

namespace {

// Overlapping records: replay them in stream order over an interval map. Only streams that
// rewrite something take this path; its memory is that of the index, a few times over.
std::vector<FlatPiece> resolve_overlaps(std::vector<FlatPiece> in_stream_order) {
  std::map<u64, FlatPiece> m;
  for (const FlatPiece& r : in_stream_order) {
    u64 a = r.offset, b = r.offset + r.size;
    auto it = m.lower_bound(a);
    if (it != m.begin()) {
      auto p = std::prev(it);
      FlatPiece whole = p->second;
      u64 pe = whole.offset + whole.size;
      if (pe > a) {
        p->second.size = a - whole.offset;  // keep its left part
        if (pe > b) m.emplace(b, FlatPiece{b, whole.in_offset + (b - whole.offset), pe - b});
      }
    }
    it = m.lower_bound(a);
    while (it != m.end() && it->first < b) {
      FlatPiece cur = it->second;
      u64 e = cur.offset + cur.size;
      it = m.erase(it);
      if (e > b) {
        m.emplace(b, FlatPiece{b, cur.in_offset + (b - cur.offset), e - b});
        break;
      }
    }
    m.emplace(a, r);
  }
  std::vector<FlatPiece> out;
  out.reserve(m.size());
  for (const auto& [off, p] : m) out.push_back(p);
  return out;
}

}  // namespace

// "makedumpfile" alone picks this reader, so a damaged rest of the header gets its own message.
Result<void> check_flattened_header(std::span<const std::byte> header, const std::string& name) {
  ByteCursor cur(header, name + ": flattened header");
  KK_TRY_ASSIGN(flattened::Header h, cur.read<flattened::Header>());
  if (std::memcmp(h.signature.data(), flattened::kSignature, sizeof flattened::kSignature) != 0)
    return make_error(Errc::corrupt, name + ": bad flattened header (no makedumpfile signature)");
  if (h.type != flattened::kType || h.version != flattened::kVersion)
    return make_error(Errc::unsupported, name + ": bad flattened header (type " +
                                             std::to_string(i64(h.type)) + ", version " +
                                             std::to_string(i64(h.version)) + "; this reader knows 1, 1)");
  return {};
}

void FlatIndexBuilder::add(FlatPiece record) {
  ++records_;
  if (record.size) pieces_.push_back(record);
}

std::vector<FlatPiece> FlatIndexBuilder::finish() {
  std::vector<FlatPiece> v = std::move(pieces_);
  std::stable_sort(v.begin(), v.end(), [](const FlatPiece& a, const FlatPiece& b) { return a.offset < b.offset; });
  bool overlaps = false;
  for (size_t i = 1; i < v.size() && !overlaps; ++i)
    overlaps = v[i - 1].offset + v[i - 1].size > v[i].offset;
  if (!overlaps) return v;
  std::sort(v.begin(), v.end(), [](const FlatPiece& a, const FlatPiece& b) { return a.in_offset < b.in_offset; });
  return resolve_overlaps(std::move(v));
}

Result<std::unique_ptr<FlattenedSource>> FlattenedSource::open(InputFile file, u64 max_records) {
  std::unique_ptr<FlattenedSource> s(new FlattenedSource(std::move(file)));
  const InputFile& f = s->file_;
  const std::string& name = f.path();
  if (f.size() < flattened::kHeaderBlock)
    return make_error(Errc::truncated, name + ": truncated flattened stream: header block is " +
                                           std::to_string(f.size()) + " of 4096 bytes");
  std::byte head[sizeof(flattened::Header)];
  KK_TRY(f.read_at(0, head));
  KK_TRY(check_flattened_header(head, name));
  FlatIndexBuilder b;
  u64 pos = flattened::kHeaderBlock;
  for (;;) {
    flattened::RecordHeader rh;
    if (f.size() - pos < sizeof rh)
      return make_error(Errc::truncated, name + ": truncated flattened stream: no end marker (stream ends at " +
                                             hex(f.size()) + ")");
    KK_TRY(f.read_at(pos, std::span(reinterpret_cast<std::byte*>(&rh), sizeof rh)));
    i64 off = rh.offset, size = rh.size;
    pos += sizeof rh;
    if (off == flattened::kEndOffset) break;
    if (off < 0 || size < 0)
      return make_error(Errc::corrupt, name + ": bad flattened record at " + hex(pos - sizeof rh) +
                                           " (offset " + std::to_string(off) + ", size " +
                                           std::to_string(size) + ")");
    if (u64(size) > f.size() - pos)
      return make_error(Errc::truncated, name + ": truncated flattened stream: record at " +
                                             hex(pos - sizeof rh) + " holds " + std::to_string(size) +
                                             " bytes but the stream ends at " + hex(f.size()));
    if (b.records() >= max_records)
      return make_error(Errc::unsupported, name + ": flattened stream has more than " +
                                               std::to_string(max_records) +
                                               " records; rebuild it with 'dumpfilter -R' first");
    b.add({u64(off), pos, u64(size)});
    s->size_ = std::max(s->size_, u64(off) + u64(size));
    pos += u64(size);
  }
  s->pieces_ = b.finish();
  for (const FlatPiece& p : s->pieces_) s->stored_ += p.size;
  return s;
}

Result<void> FlattenedSource::read_at(u64 offset, std::span<std::byte> out) const {
  if (offset > size_ || out.size() > size_ - offset)
    return make_error(Errc::truncated, path() + ": rebuilt file ends at " + hex(size_) +
                                           ", expected data up to " + hex(offset + out.size()));
  auto it = std::upper_bound(pieces_.begin(), pieces_.end(), offset,
                             [](u64 v, const FlatPiece& p) { return v < p.offset; });
  if (it != pieces_.begin() && std::prev(it)->offset + std::prev(it)->size > offset) --it;
  while (!out.empty()) {
    u64 n;
    if (it != pieces_.end() && it->offset <= offset) {
      u64 in = offset - it->offset;
      n = std::min<u64>(out.size(), it->size - in);
      KK_TRY(file_.read_at(it->in_offset + in, out.first(n)));
      ++it;
    } else {
      // A hole between records reads as zeros, as it does in the rebuilt (sparse) file.
      u64 next = it == pieces_.end() ? size_ : it->offset;
      n = std::min<u64>(out.size(), next - offset);
      std::memset(out.data(), 0, n);
    }
    out = out.subspan(n);
    offset += n;
  }
  return {};
}

}  // namespace kk
