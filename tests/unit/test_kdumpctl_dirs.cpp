// kdumpctl's directory creation (issue 18 point 6): no symbolic link is followed, no directory
// that already existed is chmod'ed, and nothing is created in a world-writable parent that
// lacks the sticky bit.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>

#include "kdumpctl/dirs.h"
#include "tests/unit/temp_dir.h"

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
  // Planted where others may write (a /tmp-like directory): whoever owns the link, it is refused.
  std::string shared = t.file("shared");
  REQUIRE(mkdir(shared.c_str(), 0755) == 0);
  REQUIRE(chmod(shared.c_str(), 01777) == 0);
  REQUIRE(mkdir(t.file("victim").c_str(), 0755) == 0);
  REQUIRE(chmod(t.file("victim").c_str(), 0755) == 0);
  REQUIRE(symlink(t.file("victim").c_str(), (shared + "/crash").c_str()) == 0);
  auto r = make_dirs(shared + "/crash", 0700);
  REQUIRE(!r);
  INFO(r.error().msg);
  REQUIRE(r.error().msg.find("symbolic link") != std::string::npos);
  REQUIRE(mode_of(t.file("victim")) == 0755);
  REQUIRE(!make_dirs(shared + "/crash/host-date", 0700));
  REQUIRE(!exists(t.file("victim/host-date")));
  REQUIRE(!make_unique_dir("/", shared + "/crash", "host-date", 0700));
  REQUIRE(!exists(t.file("victim/host-date")));
}

TEST_CASE("kdumpctl dirs: a link in a group-writable directory is refused", "[kdumpctl_dirs]") {
  TempDir t;
  std::string group = t.file("group");
  REQUIRE(mkdir(group.c_str(), 0775) == 0);
  REQUIRE(chmod(group.c_str(), 0775) == 0);
  REQUIRE(mkdir(t.file("victim").c_str(), 0755) == 0);
  REQUIRE(symlink(t.file("victim").c_str(), (group + "/crash").c_str()) == 0);
  REQUIRE(!make_dirs(group + "/crash/new", 0700));
  REQUIRE(!exists(t.file("victim/new")));
}

TEST_CASE("kdumpctl dirs: the admin's link (root's, in a root-only directory) is followed", "[kdumpctl_dirs]") {
  TempDir t;  // root-owned and 0700 when the suite runs as root, as /var is
  if (geteuid() != 0) { WARN("not root: the rule under test is ownership by root"); return; }
  REQUIRE(mkdir(t.file("srv").c_str(), 0755) == 0);
  REQUIRE(mkdir(t.file("var").c_str(), 0755) == 0);
  REQUIRE(chmod(t.file("var").c_str(), 0755) == 0);
  REQUIRE(symlink("../srv", t.file("var/crash").c_str()) == 0);  // relative, with ..
  auto r = make_unique_dir("/", t.file("var/crash"), "host-date", 0700);
  REQUIRE(r);
  CHECK(*r == t.file("srv/host-date"));  // the real path, as the files are written through it
  CHECK(mode_of(t.file("srv/host-date")) == 0700);
  CHECK(mode_of(t.file("srv")) == 0755);  // existed: not chmod'ed
}

TEST_CASE("kdumpctl dirs: under the capture mount point an absolute link means the crashed system's path",
          "[kdumpctl_dirs]") {
  TempDir t;
  if (geteuid() != 0) { WARN("not root: the rule under test is ownership by root"); return; }
  std::string root = t.file("kdumproot");
  REQUIRE(mkdir(root.c_str(), 0755) == 0);
  REQUIRE(mkdir((root + "/var").c_str(), 0755) == 0);
  REQUIRE(chmod((root + "/var").c_str(), 0755) == 0);
  REQUIRE(symlink("/data/crash", (root + "/var/crash").c_str()) == 0);
  auto r = make_unique_dir(root, "/var/crash", "host-date", 0700);
  REQUIRE(r);
  CHECK(*r == root + "/data/crash/host-date");
  CHECK(exists(root + "/data/crash/host-date"));
  auto again = make_unique_dir(root, "/var/crash", "host-date", 0700);
  REQUIRE(again);
  CHECK(*again == root + "/data/crash/host-date-1");
}

TEST_CASE("kdumpctl dirs: a loop of links ends in an error", "[kdumpctl_dirs]") {
  TempDir t;
  if (geteuid() != 0) { WARN("not root: the rule under test is ownership by root"); return; }
  REQUIRE(symlink("b", t.file("a").c_str()) == 0);
  REQUIRE(symlink("a", t.file("b").c_str()) == 0);
  auto r = make_dirs(t.file("a/x"), 0700);
  REQUIRE(!r);
  REQUIRE(r.error().msg.find("too many levels") != std::string::npos);
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
