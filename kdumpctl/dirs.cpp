// dirs.cpp: see dirs.h.
#include "kdumpctl/dirs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <deque>
#include <vector>

namespace kk {

namespace {

constexpr int kDirFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
constexpr int kMaxSuffix = 999;
constexpr int kMaxLinks = 16;  // as the kernel's own limit on nested links (ELOOP)

// Splits "a//b/./c" into {"a", "b", "c"}; ".." stays a component.
std::deque<std::string> components(const std::string& path) {
  std::deque<std::string> out;
  for (size_t i = 0; i < path.size();) {
    size_t j = std::min(path.find('/', i), path.size());
    std::string name = path.substr(i, j - i);
    if (!name.empty() && name != ".") out.push_back(std::move(name));
    i = j + 1;
  }
  return out;
}

bool is_link(int parent, const std::string& name) {
  struct stat st {};
  return fstatat(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
}

// Only root could have made this link: root owns it and the directory holding it, and no one
// else may write to that directory. Such a link is the admin's (/var/crash -> /srv/crash) and is
// followed; any other could have been planted.
bool trusted_link(int parent, const std::string& name) {
  struct stat dir {}, link {};
  return fstat(parent, &dir) == 0 && dir.st_uid == 0 && !(dir.st_mode & (S_IWGRP | S_IWOTH)) &&
         fstatat(parent, name.c_str(), &link, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(link.st_mode) &&
         link.st_uid == 0;
}

Result<Fd> open_dir_at(int parent, const std::string& name, const std::string& shown) {
  int fd = openat(parent, name.c_str(), kDirFlags);
  if (fd >= 0) return Fd(fd);
  if (errno == ELOOP || errno == ENOTDIR) {
    return make_error(Errc::io, shown + (is_link(parent, name)
                                             ? ": is a symbolic link that someone other than root could have made; "
                                               "dump directories are not made through it"
                                             : ": not a directory"));
  }
  return sys_error("open " + shown);
}

Result<std::string> read_link_at(int parent, const std::string& name, const std::string& shown) {
  std::string target(4096, '\0');
  ssize_t n = readlinkat(parent, name.c_str(), target.data(), target.size());
  if (n < 0) return sys_error("readlink " + shown);
  if (static_cast<size_t>(n) == target.size()) return make_error(Errc::io, shown + ": link target too long");
  target.resize(static_cast<size_t>(n));
  return target;
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
// following links, so an untrusted link or a file there is refused then).
Result<bool> make_one(int parent, const std::string& name, unsigned mode, const std::string& shown) {
  struct stat st {};
  if (fstatat(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) return false;
  KK_TRY(check_parent(parent, shown.substr(0, shown.rfind('/') + 1)));
  if (mkdirat(parent, name.c_str(), mode) != 0) {
    if (errno == EEXIST) return false;
    return sys_error("mkdir " + shown);
  }
  KK_TRY_ASSIGN(Fd fd, open_dir_at(parent, name, shown));
  if (fchmod(fd.get(), mode) != 0) return sys_error("chmod " + shown);
  return true;
}

// The walk: a stack of open directories from the root down (".." in a link target pops, never
// above the root), the components still to walk, and the path as shown in messages.
struct Walk {
  std::vector<Fd> dirs;
  std::vector<std::string> names;  // the real path of each of dirs: names[0] the root's
  std::deque<std::string> todo;
  std::string shown;
  int links = 0;
};

// A trusted link at `name` in the current directory: its target's components replace it, from the
// root when absolute.
Result<void> follow_link(Walk& w, const std::string& name, const std::string& shown) {
  if (++w.links > kMaxLinks) return make_error(Errc::io, shown + ": too many levels of symbolic links");
  KK_TRY_ASSIGN(std::string target, read_link_at(w.dirs.back().get(), name, shown));
  if (!target.empty() && target.front() == '/') {
    w.dirs.resize(1);
    w.names.resize(1);
  }
  std::deque<std::string> parts = components(target);
  w.todo.insert(w.todo.begin(), parts.begin(), parts.end());
  return {};
}

Result<void> step(Walk& w, unsigned mode) {
  std::string name = std::move(w.todo.front());
  w.todo.pop_front();
  if (name == "..") {
    if (w.dirs.size() > 1) {
      w.dirs.pop_back();
      w.names.pop_back();
    }
    return {};
  }
  std::string shown = w.shown + (w.shown.empty() || w.shown.back() != '/' ? "/" : "") + name;
  int here = w.dirs.back().get();
  KK_TRY_ASSIGN(bool made, make_one(here, name, w.todo.empty() ? mode : 0755, shown));
  if (!made && trusted_link(here, name)) {
    w.shown = shown;
    return follow_link(w, name, shown);
  }
  KK_TRY_ASSIGN(Fd next, open_dir_at(here, name, shown));
  w.dirs.push_back(std::move(next));
  w.names.push_back(name);
  w.shown = shown;
  return {};
}

std::string real_path(const Walk& w) {
  std::string out = w.names[0] == "/" ? "" : w.names[0];
  for (size_t i = 1; i < w.names.size(); ++i) out += "/" + w.names[i];
  return out.empty() ? "/" : out;
}

}  // namespace

Result<MadeDir> make_dirs_under(const std::string& root, const std::string& path, unsigned mode) {
  if (root.empty() || root.front() != '/') return make_error(Errc::usage, "'" + root + "': not an absolute path");
  if (path.empty() || path.front() != '/') return make_error(Errc::usage, "'" + path + "': not an absolute path");
  Walk w;
  w.todo = components(path);
  for (const std::string& c : w.todo)
    if (c == "..") return make_error(Errc::usage, path + ": '..' in a directory path");
  // The root itself (/ or the capture kernel's mount point) is ours: opened as the kernel
  // resolves it.
  int fd = open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return sys_error("open " + root);
  w.dirs.emplace_back(fd);
  w.names.push_back(root);
  w.shown = root == "/" ? "" : root;
  while (!w.todo.empty()) KK_TRY(step(w, mode));
  return MadeDir{std::move(w.dirs.back()), real_path(w)};
}

Result<MadeDir> make_dirs(const std::string& path, unsigned mode) { return make_dirs_under("/", path, mode); }

Result<std::string> make_unique_dir(const std::string& root, const std::string& parent, const std::string& name,
                                    unsigned mode) {
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..")
    return make_error(Errc::usage, "'" + name + "': not a directory name");
  // Not KK_TRY_ASSIGN: g++ 12 -O2 takes the MadeDir moved out of the Result for uninitialized
  // (-Wmaybe-uninitialized, a false positive).
  Result<MadeDir> dir = make_dirs_under(root, parent, 0755);
  if (!dir) return std::move(dir).error();
  std::string base = dir->path == "/" ? "" : dir->path;
  for (int n = 0; n <= kMaxSuffix; ++n) {
    std::string candidate = n == 0 ? name : name + "-" + std::to_string(n);
    std::string shown = base + "/" + candidate;
    KK_TRY_ASSIGN(bool made, make_one(dir->fd.get(), candidate, mode, shown));
    if (made) return shown;
  }
  return make_error(Errc::io, base + "/" + name + ": " + std::to_string(kMaxSuffix + 1) + " directories of that name exist");
}

}  // namespace kk
