#include "lib/io/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

#include "lib/io/hex.h"
#include "lib/io/sink.h"

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
  Transfer t = transfer_all(out.size(), [&](size_t done) {
    return ::pread(fd_.get(), out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
  });
  if (t.err) return sys_error(path_ + ": read at " + hex(offset + t.done), t.err);
  return t.done;
}

Result<void> InputFile::read_at(u64 offset, std::span<std::byte> out) const {
  KK_TRY_ASSIGN(size_t n, read_some_at(offset, out));
  if (n != out.size())
    return make_error(Errc::truncated, path_ + ": file ends at " + hex(offset + n) +
                                           ", expected data up to " + hex(offset + out.size()));
  return {};
}

Result<void> write_all(int fd, std::span<const std::byte> data, const std::string& what) {
  Transfer t = transfer_all(data.size(), [&](size_t done) {
    return ::write(fd, data.data() + done, data.size() - done);
  });
  if (t.err) return sys_error(what, t.err);
  if (t.done < data.size()) return make_error(Errc::no_space, what + ": No space left on device");
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

Result<OutputPlacement> plan_output_placement(const std::string& path, std::optional<unsigned> existing,
                                              bool overwrite) {
  if (!existing) return OutputPlacement::new_file;
  mode_t m = static_cast<mode_t>(*existing);
  if (S_ISLNK(m)) return make_error(Errc::io, path + ": is a symbolic link, refusing to write through it");
  if (S_ISDIR(m)) return make_error(Errc::io, path + ": is a directory");
  if (!overwrite) return make_error(Errc::exists, path + ": already exists (use -f to overwrite)");
  if (S_ISREG(m)) return OutputPlacement::new_file;
  if (S_ISBLK(m)) return OutputPlacement::in_place;
  // A character device or a pipe would be replaced by a file: a stream goes through -F instead.
  return make_error(Errc::io, path + ": is not a regular file or a block device (to write a stream "
                                     "to it, use -F and redirect standard output)");
}

Result<OutputFile> OutputFile::create(const std::string& final_path, bool overwrite, Naming naming) {
  struct stat st;
  std::optional<unsigned> existing;
  if (::lstat(final_path.c_str(), &st) == 0) existing = st.st_mode;
  KK_TRY_ASSIGN(OutputPlacement place, plan_output_placement(final_path, existing, overwrite));
  if (place == OutputPlacement::in_place) return open_in_place(final_path);
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
    out.keep_on_failure_ = true;
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

Result<OutputFile> OutputFile::open_in_place(const std::string& path) {
  // No O_CREAT, no O_TRUNC: the node stays; O_NOFOLLOW: a link planted since lstat() is refused.
  int fd = ::open(path.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return sys_error(path + ": cannot open");
  OutputFile out;
  out.fd_ = Fd(fd);
  struct stat st;
  if (::fstat(fd, &st) != 0) return sys_error(path);
  if (!S_ISBLK(st.st_mode)) return make_error(Errc::io, path + ": is no longer a block device");
  out.final_path_ = out.temp_path_ = path;
  out.overwrite_ = true;
  out.in_place_ = true;
  out.keep_on_failure_ = true;
  return out;
}

OutputFile::~OutputFile() {
  if (in_place_) return;
  if (!done_ && !temp_path_.empty()) ::unlink(temp_path_.c_str());
}

Result<void> OutputFile::write_at(u64 offset, std::span<const std::byte> data) {
  Transfer t = transfer_all(data.size(), [&](size_t done) {
    return ::pwrite(fd_.get(), data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
  });
  if (t.err) return sys_error(final_path_ + ": write at " + hex(offset + t.done), t.err);
  if (t.done < data.size())  // the end of a block device: no room, never a busy loop
    return make_error(Errc::no_space, final_path_ + ": write at " + hex(offset + t.done) +
                                          ": No space left on device");
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
  Transfer t = transfer_all(out.size(), [&](size_t done) {
    return ::pread(fd_.get(), out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
  });
  if (t.err) return sys_error(final_path_ + ": read back at " + hex(offset + t.done), t.err);
  if (t.done < out.size()) return make_error(Errc::truncated, final_path_ + ": read back past end");
  return {};
}

Result<void> OutputFile::sync() {
  // The data and the size (what fdatasync covers): enough before the complete mark is written;
  // publish() then fsyncs everything.
  if (::fdatasync(fd_.get()) != 0) return sys_error(temp_path_ + ": fdatasync");
  return {};
}

Result<void> OutputFile::publish() {
  // Failing from here on, a dump keeps its data: the destructor leaves it where it is.
  if (keep_on_failure_) done_ = true;
  if (::fsync(fd_.get()) != 0) return sys_error(temp_path_ + ": fsync");
  if (in_place_) {
    published_ = true;
    return {};
  }
  if (overwrite_) {
    if (::rename(temp_path_.c_str(), final_path_.c_str()) != 0)
      return sys_error(final_path_ + ": rename");
  } else {
    // link() fails with EEXIST instead of clobbering a file that appeared meanwhile.
    if (::link(temp_path_.c_str(), final_path_.c_str()) != 0)
      return sys_error(final_path_ + ": cannot create");
    ::unlink(temp_path_.c_str());
  }
  done_ = published_ = true;
  Fd dir(::open(dir_of(final_path_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.valid()) ::fsync(dir.get());
  return {};
}

Result<std::string> OutputFile::keep_incomplete() {
  ::fsync(fd_.get());
  done_ = true;  // whatever happens below, what was written stays
  if (in_place_ || published_) return final_path_;
  std::string name = final_path_ + "-incomplete";
  if (temp_path_ != name && ::rename(temp_path_.c_str(), name.c_str()) != 0)
    return sys_error(name + ": rename");
  return name;
}

Result<void> FileSink::zero_range(u64 offset, u64 length) {
  if (!file_.in_place()) return {};  // a new file: its holes read as zeros already
  std::vector<std::byte> zeros(std::min<u64>(length, 1u << 20), std::byte{0});
  for (u64 done = 0; done < length;) {
    u64 n = std::min<u64>(zeros.size(), length - done);
    KK_TRY(file_.write_at(offset + done, std::span(zeros).first(n)));
    done += n;
  }
  return {};
}

}  // namespace kk
