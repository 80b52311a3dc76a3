#include "lib/io/text_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <vector>

#include "lib/io/file.h"

namespace kk {

Result<std::vector<std::byte>> read_binary_file(const std::string& path, size_t max_bytes) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return sys_error(path);
  std::vector<std::byte> out;
  std::byte buf[65536];
  for (;;) {
    Transfer t = transfer_all(sizeof buf, [&](size_t done) { return ::read(fd.get(), buf + done, sizeof buf - done); });
    if (t.err) return sys_error(path, t.err);
    if (out.size() + t.done > max_bytes)
      return make_error(Errc::unsupported, path + ": larger than " + std::to_string(max_bytes >> 20) + " MiB");
    out.insert(out.end(), buf, buf + t.done);
    if (t.done < sizeof buf) return out;  // the end of the file
  }
}

Result<std::string> read_text_file(const std::string& path, size_t max_bytes) {
  KK_TRY_ASSIGN(std::vector<std::byte> b, read_binary_file(path, max_bytes));
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

}  // namespace kk
