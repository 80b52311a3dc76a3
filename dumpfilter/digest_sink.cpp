#include "dumpfilter/digest_sink.h"

#include <sys/stat.h>

#include <vector>

namespace kk {

void StreamedRun::wrote(u64 offset, std::span<const std::byte> data) {
  u64 stop = offset + data.size();
  if (data.empty() || stop <= start_) return;  // before the run: read back at the end
  if (offset == end_) {                          // appended: the run grows
    hash_.update(data);
    end_ = stop;
    return;
  }
  hash_ = Sha256();
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

Result<Manifest> DigestedFileSink::manifest() {
  OutputFile& f = file_.file();
  struct stat st;
  if (::fstat(f.fd(), &st) != 0) return sys_error(f.path() + ": fstat");
  Manifest m;
  m.size = static_cast<u64>(st.st_size);
  std::vector<std::byte> buf;
  auto read_back = [&](u64 from, u64 to) -> Result<void> {
    if (from >= to) return {};
    buf.resize(static_cast<size_t>(std::min<u64>(1u << 20, to - from)));  // bound: 1 MiB
    Sha256 h;
    for (u64 off = from; off < to;) {
      auto chunk = std::span(buf).first(static_cast<size_t>(std::min<u64>(buf.size(), to - off)));
      KK_TRY(f.read_back(off, chunk));
      h.update(chunk);
      off += chunk.size();
    }
    m.ranges.push_back({from, to - from, h.hex()});
    return {};
  };
  if (run_.end() > m.size || run_.start() == run_.end()) {
    // Nothing streamed (or the file shrank under the run): one range, all read back.
    KK_TRY(read_back(0, m.size));
    return m;
  }
  KK_TRY(read_back(0, run_.start()));
  m.ranges.push_back({run_.start(), run_.end() - run_.start(), run_.hex()});
  KK_TRY(read_back(run_.end(), m.size));
  return m;
}

}  // namespace kk
