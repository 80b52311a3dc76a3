// rearrange.cpp: -R. Records are written where they say, in stream order, so a later record that
// overwrites an earlier one wins, as in the index of input_flattened.cpp.
#include "dumpfilter/rearrange.h"

#include <unistd.h>

#include <vector>

#include "dumpfilter/flattened_format.h"
#include "dumpfilter/input_flattened.h"
#include "lib/io/file.h"
#include "lib/io/hex.h"

namespace kk {

namespace {

// Sequential reads from a pipe or file; short reads are retried, the end of input is a count.
class StreamReader {
 public:
  StreamReader(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}
  const std::string& name() const { return name_; }
  u64 pos() const { return pos_; }

  // Fills out unless the stream ends first; returns how many bytes it got.
  Result<size_t> read_up_to(std::span<std::byte> out) {
    Transfer t = transfer_all(out.size(), [&](size_t done) { return ::read(fd_, out.data() + done, out.size() - done); });
    if (t.err) return sys_error(name_ + ": read at " + hex(pos_ + t.done), t.err);
    pos_ += t.done;
    return t.done;
  }

  Result<void> read_exact(std::span<std::byte> out, const char* what) {
    u64 at = pos_;
    KK_TRY_ASSIGN(size_t n, read_up_to(out));
    if (n != out.size())
      return make_error(Errc::truncated, name_ + ": truncated flattened stream: " + what + " at " + hex(at) +
                                             " cut short (stream ends at " + hex(pos_) + ")");
    return {};
  }

 private:
  int fd_;
  std::string name_;
  u64 pos_ = 0;
};

}  // namespace

Result<u64> rearrange_flattened(int fd, const std::string& name, OutputFile& out) {
  StreamReader in(fd, name);
  std::vector<std::byte> buf(kRearrangeBuffer);
  KK_TRY(in.read_exact(std::span(buf).first(flattened::kHeaderBlock), "header block"));
  KK_TRY(check_flattened_header(std::span(buf).first(sizeof(flattened::Header)), name));
  u64 end = 0;
  for (;;) {
    flattened::RecordHeader rh;
    u64 at = in.pos();
    KK_TRY(in.read_exact(std::span(reinterpret_cast<std::byte*>(&rh), sizeof rh), "record header"));
    i64 off = rh.offset, size = rh.size;
    if (off == flattened::kEndOffset) break;
    if (off < 0 || size < 0)
      return make_error(Errc::corrupt, name + ": bad flattened record at " + hex(at) + " (offset " +
                                           std::to_string(off) + ", size " + std::to_string(size) + ")");
    u64 left = u64(size), dst = u64(off);
    while (left > 0) {
      std::span<std::byte> chunk = std::span(buf).first(std::min<u64>(left, buf.size()));
      KK_TRY(in.read_exact(chunk, "record data"));
      KK_TRY(out.write_at(dst, chunk));
      dst += chunk.size();
      left -= chunk.size();
    }
    end = std::max(end, u64(off) + u64(size));
  }
  return end;
}

Result<u64> run_rearrange(const std::string& output, bool force) {
  if (::isatty(STDIN_FILENO))
    return make_error(Errc::usage, "-R reads a flattened stream from standard input, which is a terminal");
  KK_TRY_ASSIGN(OutputFile out, OutputFile::create(output, force));
  Result<u64> size = rearrange_flattened(STDIN_FILENO, "standard input", out);
  if (!size) return std::move(size).error();
  // A stream whose last records are holes (zeros never sent) still rebuilds to its full size.
  if (::ftruncate(out.fd(), static_cast<off_t>(*size)) != 0) return sys_error(output + ": ftruncate");
  KK_TRY(out.publish());
  return *size;
}

}  // namespace kk
