// test_files.h: reading and writing whole small files in unit tests (fixture roots, logs).
#pragma once

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace kk::test {

// The whole file, or "" when it cannot be read.
inline std::string slurp(const std::string& p) {
  std::ifstream f(p);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// Writes `text` at p with `mode`, making the directories above it.
inline void put(const std::string& p, const std::string& text, mode_t mode = 0644) {
  std::filesystem::create_directories(std::filesystem::path(p).parent_path());
  std::ofstream(p) << text;
  REQUIRE(chmod(p.c_str(), mode) == 0);
}

}  // namespace kk::test
