// file.h: thin wrappers over file descriptors. InputFile reads with pread (no shared offset, so
// reader threads can share it); OutputFile writes a dump under a temporary name and only
// publish() gives it the final name, so a half-written dump never looks complete. A block device
// named as the output is written in place instead (it cannot be replaced by a file).
#pragma once

#include <cerrno>
#include <optional>
#include <span>
#include <string>

#include <sys/types.h>

#include "lib/io/result.h"
#include "lib/io/types.h"

namespace kk {

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(o.release()) {}
  Fd& operator=(Fd&& o) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd();
  int get() const { return fd_; }
  int release() {
    int f = fd_;
    fd_ = -1;
    return f;
  }
  bool valid() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

// A read or write may move fewer bytes than asked, or be interrupted by a signal: repeats
// op(done) (it moves bytes [done, total) and returns what read(2)/write(2) return) until all
// moved, a call returns 0 (end of file or device) or fails with anything but EINTR.
struct Transfer {
  size_t done = 0;
  int err = 0;  // errno of the call that failed, 0 when none did
};
template <class Op>
Transfer transfer_all(size_t total, Op op) {
  Transfer t;
  while (t.done < total) {
    ssize_t n = op(t.done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) t.err = errno;
    if (n <= 0) break;
    t.done += static_cast<size_t>(n);
  }
  return t;
}

class InputFile {
 public:
  static Result<InputFile> open(const std::string& path);
  // Wraps an already open descriptor (stdin for -R later); size 0 if not a regular file.
  static InputFile adopt(Fd fd, std::string path, u64 size);

  const std::string& path() const { return path_; }
  u64 size() const { return size_; }
  int fd() const { return fd_.get(); }

  // Reads exactly out.size() bytes at offset; reading past the end is Errc::truncated.
  Result<void> read_at(u64 offset, std::span<std::byte> out) const;
  // Reads up to out.size() bytes; returns how many (short only at end of file).
  Result<size_t> read_some_at(u64 offset, std::span<std::byte> out) const;

 private:
  Fd fd_;
  std::string path_;
  u64 size_ = 0;
};

// What create() does with what is already at the output's name (pure, so it is tested alone):
// nothing there or a regular file (with -f) gets a new file beside it, renamed at the end; a block
// device (with -f) is written in place, never unlinked or replaced by a file (in a capture kernel
// a file in /dev lives in RAM and is lost at reboot). Anything else is refused.
enum class OutputPlacement { new_file, in_place };
// existing: st_mode of what lstat() found at path, nullopt when nothing is there.
Result<OutputPlacement> plan_output_placement(const std::string& path, std::optional<unsigned> existing,
                                              bool overwrite);

class OutputFile {
 public:
  // How the file is named until publish(): a hidden "<dir>/.<name>.incomplete.XXXXXX" (small
  // files: logs, reports), or "<final>-incomplete" (dumps: what a SIGKILL leaves behind is already
  // named for what it is, kdump's vmcore-incomplete convention).
  enum class Naming { hidden_temp, incomplete_suffix };
  // Creates the file beside final_path, mode 0600, O_EXCL | O_NOFOLLOW. A symbolic link at the
  // final name is refused (never written through). With overwrite=false an existing final_path
  // is refused up front (and again at publish).
  // A block device at final_path (with overwrite) is written in place: see OutputPlacement.
  static Result<OutputFile> create(const std::string& final_path, bool overwrite,
                                   Naming naming = Naming::hidden_temp);
  OutputFile(OutputFile&&) noexcept = default;
  OutputFile& operator=(OutputFile&&) noexcept = default;
  ~OutputFile();  // removes the temporary if not published (never a dump publish() failed on)

  const std::string& path() const { return final_path_; }
  const std::string& temp_path() const { return temp_path_; }
  int fd() const { return fd_.get(); }
  // Written into a block device: no temporary name, no rename, nothing ever unlinked; reads of
  // what was never written return the device's old bytes, not zeros.
  bool in_place() const { return in_place_; }
  bool published() const { return published_; }  // publish() gave it its final name

  Result<void> write_at(u64 offset, std::span<const std::byte> data);
  Result<void> read_back(u64 offset, std::span<std::byte> out) const;
  // Writes the data to the disk (fdatasync): write-back errors show here, before anything is
  // renamed.
  Result<void> sync();
  // fsync, rename to the final name (no-clobber unless overwrite), fsync the directory. A dump
  // (Naming::incomplete_suffix) that fails here stays on disk under its "-incomplete" name: the
  // data was all written and is never deleted for a failed fsync or link.
  Result<void> publish();
  // Keeps what was written under "<final>-incomplete" instead of deleting it.
  Result<std::string> keep_incomplete();

 private:
  OutputFile() = default;
  static Result<OutputFile> open_in_place(const std::string& path);
  Fd fd_;
  std::string final_path_;
  std::string temp_path_;
  bool overwrite_ = false;
  bool in_place_ = false;
  bool keep_on_failure_ = false;  // a dump: publish() failing keeps it
  bool done_ = false;
  bool published_ = false;
  static constexpr u64 kWritebackEvery = 16u << 20;
  u64 not_started_ = 0;  // bytes written since writeback was last started
};

// Creates path's missing directories with mode 0700 (dumps hold a dead kernel's secrets); ones
// that exist are left as they are.
Result<void> make_private_dirs(const std::string& dir);
std::string dir_of(const std::string& path);
std::string base_of(const std::string& path);

Result<void> write_all(int fd, std::span<const std::byte> data, const std::string& what);

inline std::span<const std::byte> as_bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

}  // namespace kk
