#include "io/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

#include "io/byte_cursor.h"

namespace kk {

Fd& Fd::operator=(Fd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.release();
  }
  return *this;
}

Fd::~Fd() {
  if (fd_ >= 0) ::close(fd_);
}

std::string hex(u64 v) {
  char b[24];
  std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
  return b;
}

Result<InputFile> InputFile::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return sys_error(path);
  InputFile f;
  f.fd_ = Fd(fd);
  f.path_ = path;
  struct stat st;
  if (::fstat(fd, &st) != 0) return sys_error(path);
  if (S_ISDIR(st.st_mode)) return make_error(Errc::io, path + ": is a directory");
  f.size_ = static_cast<u64>(st.st_size);
  return f;
}

InputFile InputFile::adopt(Fd fd, std::string path, u64 size) {
  InputFile f;
  f.fd_ = std::move(fd);
  f.path_ = std::move(path);
  f.size_ = size;
  return f;
}

Result<size_t> InputFile::read_some_at(u64 offset, std::span<std::byte> out) const {
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::pread(fd_.get(), out.data() + done, out.size() - done,
                        static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error(path_ + ": read at " + hex(offset + done));
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

Result<void> InputFile::read_at(u64 offset, std::span<std::byte> out) const {
  Result<size_t> n = read_some_at(offset, out);
  if (!n) return std::move(n).error();
  if (*n != out.size())
    return make_error(Errc::truncated, path_ + ": file ends at " + hex(offset + *n) +
                                           ", expected data up to " + hex(offset + out.size()));
  return {};
}

Result<void> write_all(int fd, std::span<const std::byte> data, const std::string& what) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error(what);
    }
    done += static_cast<size_t>(n);
  }
  return {};
}

std::string dir_of(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string base_of(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

Result<void> make_private_dirs(const std::string& dir) {
  if (dir.empty() || dir == "." || dir == "/") return {};
  struct stat st;
  if (::stat(dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) return make_error(Errc::io, dir + ": is not a directory");
    return {};
  }
  KK_TRY(make_private_dirs(dir_of(dir)));
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return sys_error(dir + ": cannot create directory");
  return {};
}

Result<OutputFile> OutputFile::create(const std::string& final_path, bool overwrite, Naming naming) {
  struct stat st;
  if (::lstat(final_path.c_str(), &st) == 0) {
    if (S_ISLNK(st.st_mode))
      return make_error(Errc::io, final_path + ": is a symbolic link, refusing to write through it");
    if (!overwrite)
      return make_error(Errc::exists, final_path + ": already exists (use -f to overwrite)");
    if (S_ISDIR(st.st_mode)) return make_error(Errc::io, final_path + ": is a directory");
  }
  OutputFile out;
  out.final_path_ = final_path;
  out.overwrite_ = overwrite;
  if (naming == Naming::incomplete_suffix) {
    std::string name = final_path + "-incomplete";
    if (::lstat(name.c_str(), &st) == 0) {
      if (S_ISLNK(st.st_mode))
        return make_error(Errc::io, name + ": is a symbolic link, refusing to write through it");
      if (!overwrite)
        return make_error(Errc::exists, name + ": already exists (a dump that stopped early?); "
                                               "use -f to replace it");
      if (!S_ISREG(st.st_mode)) return make_error(Errc::io, name + ": is not a regular file");
      if (::unlink(name.c_str()) != 0) return sys_error(name + ": cannot remove");
    }
    // O_EXCL | O_NOFOLLOW: never an existing file, never through a link planted meanwhile.
    int fd = ::open(name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) return sys_error(name + ": cannot create");
    out.fd_ = Fd(fd);
    out.temp_path_ = name;
    return out;
  }
  std::string tmpl = dir_of(final_path) + "/." + base_of(final_path) + ".incomplete.XXXXXX";
  // mkostemp opens with O_EXCL and mode 0600: dumps hold secrets.
  int fd = ::mkostemp(tmpl.data(), O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return sys_error(final_path + ": cannot create output in " + dir_of(final_path));
  out.fd_ = Fd(fd);
  out.temp_path_ = tmpl;
  return out;
}

OutputFile::~OutputFile() {
  if (!done_ && !temp_path_.empty()) ::unlink(temp_path_.c_str());
}

Result<void> OutputFile::write_at(u64 offset, std::span<const std::byte> data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::pwrite(fd_.get(), data.data() + done, data.size() - done,
                         static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error(final_path_ + ": write at " + hex(offset + done));
    }
    done += static_cast<size_t>(n);
  }
  not_started_ += data.size();
  if (not_started_ >= kWritebackEvery) {
    // Start writing what there is to the disk now, while pages are still being compressed: the
    // fsync before publish() then waits for little, and a capture kernel's small memory does not
    // fill with dirty pages. Asynchronous; an I/O error shows at the fsync.
    ::sync_file_range(fd_.get(), 0, 0, SYNC_FILE_RANGE_WRITE);
    // Then drop the pages whose writeback has finished: a dump is read later, by other tools,
    // if at all, so caching it only pushes other memory out. Page cache stays at a few times
    // kWritebackEvery whatever the dump's size, and new writes reuse the pages just freed
    // (fresh pages cost a VM far more: -l -d 1 here, 3.6-6.2 s keeping them, 3.0-3.1 dropping).
    ::posix_fadvise(fd_.get(), 0, 0, POSIX_FADV_DONTNEED);
    not_started_ = 0;
  }
  return {};
}

Result<void> OutputFile::read_back(u64 offset, std::span<std::byte> out) const {
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::pread(fd_.get(), out.data() + done, out.size() - done,
                        static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error(final_path_ + ": read back at " + hex(offset + done));
    }
    if (n == 0) return make_error(Errc::truncated, final_path_ + ": read back past end");
    done += static_cast<size_t>(n);
  }
  return {};
}

Result<void> OutputFile::publish() {
  if (::fsync(fd_.get()) != 0) return sys_error(final_path_ + ": fsync");
  if (overwrite_) {
    if (::rename(temp_path_.c_str(), final_path_.c_str()) != 0)
      return sys_error(final_path_ + ": rename");
  } else {
    // link() fails with EEXIST instead of clobbering a file that appeared meanwhile.
    if (::link(temp_path_.c_str(), final_path_.c_str()) != 0)
      return sys_error(final_path_ + ": cannot create");
    ::unlink(temp_path_.c_str());
  }
  done_ = true;
  Fd dir(::open(dir_of(final_path_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.valid()) ::fsync(dir.get());
  return {};
}

Result<std::string> OutputFile::keep_incomplete() {
  std::string name = final_path_ + "-incomplete";
  ::fsync(fd_.get());
  if (temp_path_ != name && ::rename(temp_path_.c_str(), name.c_str()) != 0)
    return sys_error(name + ": rename");
  done_ = true;
  return name;
}

}  // namespace kk
