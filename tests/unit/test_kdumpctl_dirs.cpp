// kdumpctl's directory creation (issue 18 point 6): no symbolic link is followed, no directory
// that already existed is chmod'ed, and nothing is created in a world-writable parent that
// lacks the sticky bit.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>

#include "kdumpctl/dirs.h"
#include "temp_dir.h"

using namespace kk;
using kk::test::TempDir;

namespace {

unsigned mode_of(const std::string& p) {
  struct stat st {};
  REQUIRE(lstat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

bool exists(const std::string& p) {
  struct stat st {};
  return lstat(p.c_str(), &st) == 0;
}

}  // namespace

TEST_CASE("kdumpctl dirs: a planted link is refused, its target untouched", "[kdumpctl_dirs]") {
  TempDir t;
  REQUIRE(mkdir(t.file("victim").c_str(), 0755) == 0);
  REQUIRE(chmod(t.file("victim").c_str(), 0755) == 0);
  REQUIRE(symlink(t.file("victim").c_str(), t.file("crash").c_str()) == 0);
  auto r = make_dirs(t.file("crash"), 0700);
  REQUIRE(!r);
  INFO(r.error().msg);
  REQUIRE(r.error().msg.find("symbolic link") != std::string::npos);
  REQUIRE(mode_of(t.file("victim")) == 0755);
  REQUIRE(!make_dirs(t.file("crash/host-date"), 0700));
  REQUIRE(!exists(t.file("victim/host-date")));
}

TEST_CASE("kdumpctl dirs: a directory that existed keeps its mode", "[kdumpctl_dirs]") {
  TempDir t;
  std::string shared = t.file("tmp");  // as KDUMP_INITRD=/tmp/x.img makes it: /tmp
  REQUIRE(mkdir(shared.c_str(), 0700) == 0);
  REQUIRE(chmod(shared.c_str(), 01777) == 0);
  REQUIRE(make_dirs(shared, 0700));
  REQUIRE(mode_of(shared) == 01777);
  REQUIRE(make_dirs(shared + "/new", 0700));  // the sticky bit makes a shared parent safe
  REQUIRE(mode_of(shared + "/new") == 0700);
}

TEST_CASE("kdumpctl dirs: no new directory in a world-writable parent without the sticky bit", "[kdumpctl_dirs]") {
  TempDir t;
  std::string open = t.file("open");
  REQUIRE(mkdir(open.c_str(), 0700) == 0);
  REQUIRE(chmod(open.c_str(), 0777) == 0);
  auto r = make_dirs(open + "/crash", 0700);
  REQUIRE(!r);
  INFO(r.error().msg);
  REQUIRE(r.error().msg.find("world-writable") != std::string::npos);
  REQUIRE(!exists(open + "/crash"));
}

TEST_CASE("kdumpctl dirs: new directories get their modes exactly, whatever the umask", "[kdumpctl_dirs]") {
  TempDir t;
  mode_t old = umask(077);
  auto r = make_dirs(t.file("a/b/c"), 0700);
  umask(old);
  REQUIRE(r);
  REQUIRE(mode_of(t.file("a")) == 0755);
  REQUIRE(mode_of(t.file("a/b")) == 0755);
  REQUIRE(mode_of(t.file("a/b/c")) == 0700);
  REQUIRE(!make_dirs("relative/path", 0700));
}
