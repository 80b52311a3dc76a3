// text_file.h: whole small files (/proc and /sys entries), read with a size cap.
#pragma once

#include <string>
#include <vector>

#include "lib/io/result.h"

namespace kk {

// Reads up to max_bytes (procfs files report size 0, so this reads until EOF).
Result<std::string> read_text_file(const std::string& path, size_t max_bytes = 16u << 20);
Result<std::vector<std::byte>> read_binary_file(const std::string& path, size_t max_bytes);

}  // namespace kk
