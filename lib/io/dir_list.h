// dir_list.h: the names in a directory, read through one RAII handle (opendir/closedir), so no
// caller leaks a DIR* on an early return.
#pragma once

#include <string>
#include <vector>

#include "lib/io/result.h"

namespace kk {

// Every name in `path` except hidden ones ("." and ".." included), in readdir order. An error
// (with errno, naming the path) when the directory cannot be opened or read.
Result<std::vector<std::string>> list_dir(const std::string& path);

}  // namespace kk
