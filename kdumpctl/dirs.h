// dirs.h: creating dump and image directories without trusting what is already there. A
// planted symbolic link or a directory swapped in a world-writable parent must not make root
// write a dump, or change modes, where someone else chose (issue 18).
#pragma once

#include <string>

#include "lib/io/file.h"
#include "lib/io/result.h"

namespace kk {

// A directory made (or found) by make_dirs: its fd and its real path, links resolved.
struct MadeDir {
  Fd fd;
  std::string path;
};

// mkdir -p for an absolute path, walked from `root` one component at a time with O_NOFOLLOW. A
// symbolic link on the way is followed only when root alone could have made it (owned by root,
// in a directory that root owns and no one else may write: the admin's /var/crash -> /srv/crash);
// any other link is refused. Absolute link targets resolve from `root`, so under the capture
// kernel's mount point a link of the crashed system still means that system's path.
// Directories that already exist are left as they are (never chmod'ed); new ones get `mode` (the
// last) or 0755 (parents), exactly. A new directory in a world-writable parent without the sticky
// bit is refused.
Result<MadeDir> make_dirs_under(const std::string& root, const std::string& path, unsigned mode);
Result<MadeDir> make_dirs(const std::string& path, unsigned mode);  // root "/"

// Creates a new directory `name` in `parent` (made with make_dirs_under(root, ...), 0755), or
// name-1, name-2, ... when that exists: never one that was there before, so an earlier dump is
// never written into. Returns the real path of the directory it created.
Result<std::string> make_unique_dir(const std::string& root, const std::string& parent, const std::string& name,
                                    unsigned mode);

}  // namespace kk
