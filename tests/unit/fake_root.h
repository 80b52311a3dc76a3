// fake_root.h: a temporary directory standing in for / (SysPaths.root), so kexec's readers of
// /proc and /sys run in unit tests on files written by the test.
#pragma once

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "kexec/system_info.h"

namespace kk::test {

// A temporary root; removed with everything under it when the test ends.
class FakeRoot {
 public:
  FakeRoot() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "kk-sysinfo-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) FAIL("mkdtemp failed");
    dir_ = tmpl;
    paths.root = dir_;
  }
  ~FakeRoot() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  FakeRoot(const FakeRoot&) = delete;
  FakeRoot& operator=(const FakeRoot&) = delete;

  // Writes `text` at root + path (an absolute path as on a real system), making directories.
  void write(const std::string& path, const std::string& text) const {
    std::filesystem::path p = dir_ + path;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
  }
  void mkdir(const std::string& path) const { std::filesystem::create_directories(dir_ + path); }

  SysPaths paths;

 private:
  std::string dir_;
};

}  // namespace kk::test
