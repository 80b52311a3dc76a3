#include "dumpfilter/digest_sink.h"

#include <sys/stat.h>


namespace kk {

void StreamedRun::wrote(u64 offset, std::span<const std::byte> data) {
  u64 stop = offset + data.size();
  if (data.empty() || stop <= start_) return;  // before the run: read back at the end
  if (offset == end_) {                          // appended: the run grows
    hash_.update(data);
    end_ = stop;
    return;
  }
  hash_ = RangeDigester();
  if (offset > end_) {  // past the end (a hole between): a new run starts here
    start_ = offset;
    hash_.update(data);
    end_ = stop;
    return;
  }
  // A rewrite inside the run: its digest no longer matches; everything so far is read back.
  start_ = end_ = std::max(end_, stop);
}

Result<void> DigestedFileSink::write_at(u64 offset, std::span<const std::byte> data) {
  KK_TRY(file_.write_at(offset, data));
  run_.wrote(offset, data);
  return {};
}

Result<void> DigestedFileSink::publish() {
  if (file_.file().in_place()) return finish();
  KK_TRY_ASSIGN(Manifest m, manifest());
  KK_TRY(finish());
  Result<void> w = write_manifest(name(), m);
  if (w) return {};
  Error e = std::move(w).error();
  e.msg += " (the dump itself is complete: " + name() + ")";
  return e;
}

Result<Manifest> DigestedFileSink::manifest() {
  OutputFile& f = file_.file();
  struct stat st;
  if (::fstat(f.fd(), &st) != 0) return sys_error(f.path() + ": fstat");
  Manifest m;
  m.size = static_cast<u64>(st.st_size);
  auto read = [&f](u64 off, std::span<std::byte> out) { return f.read_back(off, out); };
  auto read_back = [&](u64 from, u64 to) -> Result<void> {
    if (from >= to) return {};
    KK_TRY_ASSIGN(std::string hex, digest_of_range(read, DigestAlgo::xxh3_128, from, to - from));
    m.ranges.push_back({from, to - from, std::move(hex), DigestAlgo::xxh3_128});
    return {};
  };
  if (run_.end() > m.size || run_.start() == run_.end()) {
    // Nothing streamed (or the file shrank under the run): one range, all read back.
    KK_TRY(read_back(0, m.size));
    return m;
  }
  KK_TRY(read_back(0, run_.start()));
  m.ranges.push_back({run_.start(), run_.end() - run_.start(), run_.hex(), DigestAlgo::xxh3_128});
  KK_TRY(read_back(run_.end(), m.size));
  return m;
}

}  // namespace kk
