#include "io/text_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <vector>

#include "io/file.h"

namespace kk {

Result<std::vector<std::byte>> read_binary_file(const std::string& path, size_t max_bytes) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return sys_error(path);
  std::vector<std::byte> out;
  std::byte buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error(path);
    }
    if (n == 0) break;
    if (out.size() + static_cast<size_t>(n) > max_bytes)
      return make_error(Errc::unsupported, path + ": larger than " + std::to_string(max_bytes >> 20) + " MiB");
    out.insert(out.end(), buf, buf + n);
  }
  return out;
}

Result<std::string> read_text_file(const std::string& path, size_t max_bytes) {
  Result<std::vector<std::byte>> b = read_binary_file(path, max_bytes);
  if (!b) return std::move(b).error();
  return std::string(reinterpret_cast<const char*>(b->data()), b->size());
}

}  // namespace kk
