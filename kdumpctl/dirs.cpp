// dirs.cpp: see dirs.h.
#include "kdumpctl/dirs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace kk {

namespace {

constexpr int kDirFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
constexpr int kMaxSuffix = 999;

Result<Fd> open_dir_at(int parent, const std::string& name, const std::string& shown) {
  int fd = openat(parent, name.c_str(), kDirFlags);
  if (fd >= 0) return Fd(fd);
  if (errno == ELOOP || errno == ENOTDIR) {
    struct stat st {};
    bool link = fstatat(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
    return make_error(Errc::io, shown + (link ? ": is a symbolic link; dump directories are not made through links"
                                              : ": not a directory"));
  }
  return sys_error("open " + shown);
}

// A world-writable directory without the sticky bit lets anyone rename or replace what root
// creates in it.
Result<void> check_parent(int parent, const std::string& shown) {
  struct stat st {};
  if (fstat(parent, &st) != 0) return sys_error("stat " + shown);
  if ((st.st_mode & S_IWOTH) && !(st.st_mode & S_ISVTX))
    return make_error(Errc::io, shown + ": world-writable without the sticky bit; refusing to create a directory in it");
  return {};
}

// mkdirat, then the exact mode (umask would narrow it; only a directory made here is chmod'ed).
// Returns false when the name exists already (as anything: the caller opens it without
// following links, so a link or file there is refused then).
Result<bool> make_one(int parent, const std::string& name, unsigned mode, const std::string& shown) {
  struct stat st {};
  if (fstatat(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) return false;
  KK_TRY(check_parent(parent, shown.substr(0, shown.rfind('/') + 1)));
  if (mkdirat(parent, name.c_str(), mode) != 0) {
    if (errno == EEXIST) return false;
    return sys_error("mkdir " + shown);
  }
  Result<Fd> fd = open_dir_at(parent, name, shown);
  if (!fd) return std::move(fd).error();
  if (fchmod(fd->get(), mode) != 0) return sys_error("chmod " + shown);
  return true;
}

}  // namespace

Result<Fd> make_dirs(const std::string& path, unsigned mode) {
  if (path.empty() || path.front() != '/') return make_error(Errc::usage, "'" + path + "': not an absolute path");
  Result<Fd> dir = open_dir_at(AT_FDCWD, "/", "/");
  if (!dir) return dir;
  for (size_t i = 1; i < path.size();) {
    size_t j = std::min(path.find('/', i), path.size());
    std::string name = path.substr(i, j - i), shown = path.substr(0, j);
    i = j + 1;
    if (name.empty() || name == ".") continue;
    if (name == "..") return make_error(Errc::usage, path + ": '..' in a directory path");
    bool last = path.find_first_not_of('/', j) == std::string::npos;
    Result<bool> made = make_one(dir->get(), name, last ? mode : 0755, shown);
    if (!made) return std::move(made).error();
    Result<Fd> next = open_dir_at(dir->get(), name, shown);
    if (!next) return next;
    *dir = std::move(*next);
  }
  return dir;
}

Result<std::string> make_unique_dir(const std::string& parent, const std::string& name, unsigned mode) {
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..")
    return make_error(Errc::usage, "'" + name + "': not a directory name");
  Result<Fd> dir = make_dirs(parent, 0755);
  if (!dir) return std::move(dir).error();
  for (int n = 0; n <= kMaxSuffix; ++n) {
    std::string candidate = n == 0 ? name : name + "-" + std::to_string(n);
    std::string shown = parent + "/" + candidate;
    Result<bool> made = make_one(dir->get(), candidate, mode, shown);
    if (!made) return std::move(made).error();
    if (*made) return shown;
  }
  return make_error(Errc::io, parent + "/" + name + ": " + std::to_string(kMaxSuffix + 1) + " directories of that name exist");
}

}  // namespace kk
