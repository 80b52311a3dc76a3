// keep_dumps.cpp: see keep_dumps.h.
#include "kdumpctl/keep_dumps.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <tuple>

#include "lib/io/file.h"

namespace kk {

namespace {

constexpr std::array<std::string_view, 8> kDumpFiles{
    "vmcore", "vmcore-incomplete", "vmcore.flat", "vmcore.sha256", "vmcore-incomplete.sha256",
    "vmcore-dmesg.txt", "report.txt", "report.json"};

bool digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// YYYY-MM-DD-HH:MM:SS
bool is_date(std::string_view d) {
  constexpr std::string_view shape = "dddd-dd-dd-dd:dd:dd";
  if (d.size() != shape.size()) return false;
  for (size_t i = 0; i < d.size(); ++i)
    if (shape[i] == 'd' ? !(d[i] >= '0' && d[i] <= '9') : d[i] != shape[i]) return false;
  return true;
}

// The directory's entries with whether each is a regular file (not following links).
std::optional<std::vector<std::pair<std::string, bool>>> entries_of(int dir_fd) {
  int dup_fd = fcntl(dir_fd, F_DUPFD_CLOEXEC, 0);
  DIR* d = dup_fd < 0 ? nullptr : fdopendir(dup_fd);
  if (!d) {
    if (dup_fd >= 0) close(dup_fd);
    return std::nullopt;
  }
  std::vector<std::pair<std::string, bool>> out;
  while (struct dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n == "." || n == "..") continue;
    struct stat st {};
    bool regular = fstatat(dir_fd, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
    out.emplace_back(n, regular);
  }
  closedir(d);
  return out;
}

// Deletes parent/name when it still looks like a dump, through descriptors opened without
// following links, so what was checked is what is deleted.
Result<bool> delete_dump(int parent_fd, const std::string& parent, const std::string& name) {
  Fd dir(openat(parent_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dir.valid()) return false;  // a link, or gone: not ours to delete
  std::optional<std::vector<std::pair<std::string, bool>>> entries = entries_of(dir.get());
  if (!entries || !looks_like_dump(*entries)) return false;
  for (const auto& [n, regular] : *entries)
    if (unlinkat(dir.get(), n.c_str(), 0) != 0) return sys_error("deleting " + parent + "/" + name + "/" + n);
  if (unlinkat(parent_fd, name.c_str(), AT_REMOVEDIR) != 0) return sys_error("deleting " + parent + "/" + name);
  return true;
}

}  // namespace

std::optional<DumpDirName> parse_dump_dir_name(std::string_view name) {
  constexpr size_t date_len = 19;
  DumpDirName out;
  // A trailing -k is a suffix only when what is before it ends in a date.
  size_t dash = name.rfind('-');
  if (dash != std::string_view::npos && digits(name.substr(dash + 1)) && dash >= date_len + 2 &&
      is_date(name.substr(dash - date_len, date_len)) && name[dash - date_len - 1] == '-' && name.size() - dash <= 6) {
    out.k = static_cast<unsigned>(std::stoul(std::string(name.substr(dash + 1))));
    name = name.substr(0, dash);
  }
  if (name.size() < date_len + 2 || !is_date(name.substr(name.size() - date_len)) || name[name.size() - date_len - 1] != '-')
    return std::nullopt;
  out.date = name.substr(name.size() - date_len);
  out.host = name.substr(0, name.size() - date_len - 1);
  return out;
}

std::vector<std::string> dumps_to_delete(const std::vector<std::string>& names, unsigned keep,
                                         const std::string& just_written) {
  if (keep == 0) return {};
  std::vector<std::pair<DumpDirName, std::string>> others;
  bool have_new = false;
  for (const std::string& n : names) {
    std::optional<DumpDirName> p = parse_dump_dir_name(n);
    if (n == just_written) have_new = true;
    else if (p) others.emplace_back(*p, n);
  }
  std::sort(others.begin(), others.end(), [](const auto& a, const auto& b) {
    return std::tie(a.first.date, a.first.k) < std::tie(b.first.date, b.first.k);
  });
  size_t total = others.size() + (have_new ? 1 : 0);
  std::vector<std::string> out;
  for (size_t i = 0; i < others.size() && total - i > keep; ++i) out.push_back(others[i].second);
  return out;
}

bool looks_like_dump(const std::vector<std::pair<std::string, bool>>& entries) {
  bool has_dump = false;
  for (const auto& [n, regular] : entries) {
    if (!regular || std::find(kDumpFiles.begin(), kDumpFiles.end(), n) == kDumpFiles.end()) return false;
    has_dump |= n == "vmcore" || n == "vmcore-incomplete" || n == "vmcore.flat" || n == "vmcore-dmesg.txt";
  }
  return has_dump;
}

Result<std::vector<std::string>> prune_dumps(const std::string& parent, const std::string& just_written, unsigned keep) {
  std::optional<DumpDirName> mine = parse_dump_dir_name(just_written);
  if (keep == 0 || !mine) return std::vector<std::string>{};
  Fd pfd(open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!pfd.valid()) return sys_error("open " + parent);
  std::optional<std::vector<std::pair<std::string, bool>>> all = entries_of(pfd.get());
  if (!all) return sys_error("reading " + parent);
  // Only this host's: a shared target (nfs, one file system for several machines) holds others'.
  std::vector<std::string> names;
  for (const auto& [n, regular] : *all) {
    std::optional<DumpDirName> p = parse_dump_dir_name(n);
    if (p && p->host == mine->host) names.push_back(n);
  }
  std::vector<std::string> deleted;
  for (const std::string& n : dumps_to_delete(names, keep, just_written)) {
    KK_TRY_ASSIGN(bool gone, delete_dump(pfd.get(), parent, n));
    if (gone) deleted.push_back(n);
  }
  return deleted;
}

}  // namespace kk
