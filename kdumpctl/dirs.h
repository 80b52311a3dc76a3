// dirs.h: creating dump and image directories without trusting what is already there. A
// planted symbolic link or a directory swapped in a world-writable parent must not make root
// write a dump, or change modes, where someone else chose (issue 18).
#pragma once

#include <string>

#include "io/file.h"
#include "io/result.h"

namespace kk {

// mkdir -p for an absolute path, walked from / one component at a time with O_NOFOLLOW: a
// symbolic link anywhere on the way is refused. Directories that already exist are left as they
// are (never chmod'ed); new ones get `mode` (the last) or 0755 (parents), exactly. A new
// directory in a world-writable parent without the sticky bit is refused. Returns an fd of the
// last directory.
Result<Fd> make_dirs(const std::string& path, unsigned mode);

// Creates a new directory `name` in `parent` (made with make_dirs, 0755), or name-1, name-2, ...
// when that exists: never one that was there before, so an earlier dump is never written into.
// Returns the full path of the directory it created.
Result<std::string> make_unique_dir(const std::string& parent, const std::string& name, unsigned mode);

}  // namespace kk
