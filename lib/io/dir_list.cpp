#include "lib/io/dir_list.h"

#include <dirent.h>

#include <cerrno>
#include <memory>

namespace kk {

namespace {
struct CloseDir {
  void operator()(DIR* d) const { ::closedir(d); }
};
using DirHandle = std::unique_ptr<DIR, CloseDir>;
}  // namespace

Result<std::vector<std::string>> list_dir(const std::string& path) {
  DirHandle d(::opendir(path.c_str()));
  if (!d) return sys_error(path);
  std::vector<std::string> names;
  for (;;) {
    errno = 0;  // readdir's end and its failure differ only in errno
    dirent* e = ::readdir(d.get());
    if (!e) break;
    if (e->d_name[0] != '.') names.emplace_back(e->d_name);
  }
  if (errno != 0) return sys_error(path);
  return names;
}

}  // namespace kk
