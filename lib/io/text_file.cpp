#include "lib/io/text_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vector>

#include "lib/io/file.h"

namespace kk {

namespace {

Error too_large(const std::string& path, size_t max_bytes) {
  std::string limit = max_bytes >= (1u << 20) && max_bytes % (1u << 20) == 0
                          ? std::to_string(max_bytes >> 20) + " MiB"
                          : std::to_string(max_bytes) + " bytes";
  return make_error(Errc::unsupported, path + ": larger than " + limit);
}

// Appends what is left of fd in 64 KiB reads: files whose size stat() does not know (procfs),
// or that grew since.
Result<void> read_rest(int fd, const std::string& path, size_t max_bytes, std::vector<std::byte>& out) {
  std::byte buf[65536];
  for (;;) {
    Transfer t = transfer_all(sizeof buf, [&](size_t done) { return ::read(fd, buf + done, sizeof buf - done); });
    if (t.err) return sys_error(path, t.err);
    if (out.size() + t.done > max_bytes) return too_large(path, max_bytes);
    out.insert(out.end(), buf, buf + t.done);
    if (t.done < sizeof buf) return {};  // the end of the file
  }
}

}  // namespace

Result<std::vector<std::byte>> read_binary_file(const std::string& path, size_t max_bytes) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return sys_error(path);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return sys_error(path);
  std::vector<std::byte> out;
  const auto size = static_cast<u64>(st.st_size);
  // A sysfs attribute says it is a page long (4, 16 or 64 KiB) whatever it holds: a size over the
  // limit is only a hint, and read_rest below judges what the file really holds.
  if (S_ISREG(st.st_mode) && size > 0 && size <= max_bytes) {
    // One buffer of the file's size, read straight into: growing by doubling would hold the old
    // and the new buffer at once (a kernel or initrd read would peak at twice its size).
    out.resize(size);
    Transfer t = transfer_all(out.size(), [&](size_t done) {
      return ::read(fd.get(), out.data() + done, out.size() - done);
    });
    if (t.err) return sys_error(path, t.err);
    out.resize(t.done);  // shrank meanwhile: what there was
    if (t.done < size) return out;
  }
  KK_TRY(read_rest(fd.get(), path, max_bytes, out));
  return out;
}

Result<std::string> read_text_file(const std::string& path, size_t max_bytes) {
  KK_TRY_ASSIGN(std::vector<std::byte> b, read_binary_file(path, max_bytes));
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

}  // namespace kk
