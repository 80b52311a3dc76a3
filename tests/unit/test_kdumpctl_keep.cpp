// Issue 17: keep_dumps N deletes the oldest dumps of this host beyond N, never the one just
// written, only directories that are surely dumps, never through a symbolic link.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "kdumpctl/keep_dumps.h"
#include "temp_dir.h"
#include "test_files.h"

using namespace kk;
using kk::test::put;
using kk::test::slurp;
using kk::test::TempDir;

namespace {

void dump(const std::string& dir, const std::string& marker) {
  put(dir + "/vmcore-dmesg.txt", "log", 0600);
  put(dir + "/vmcore", marker, 0600);
  put(dir + "/report.txt", "r", 0600);
  put(dir + "/report.json", "{}", 0600);
}

bool exists(const std::string& p) { return std::filesystem::exists(std::filesystem::symlink_status(p)); }

}  // namespace

TEST_CASE("keep_dumps: dump directory names", "[kdumpctl_keep]") {
  std::optional<DumpDirName> n = parse_dump_dir_name("web1-2026-12-07-04:00:00");
  REQUIRE((n && n->host == "web1" && n->date == "2026-12-07-04:00:00" && n->k == 0));
  n = parse_dump_dir_name("db-east-2-2026-12-07-04:00:00-3");
  REQUIRE((n && n->host == "db-east-2" && n->k == 3));
  n = parse_dump_dir_name("host-2026-12-07-04:00:00-2026-12-07-05:00:00");  // a host named like a date
  REQUIRE((n && n->host == "host-2026-12-07-04:00:00" && n->date == "2026-12-07-05:00:00"));
  for (const char* bad : {"2026-12-07-04:00:00", "-2026-12-07-04:00:00", "web1-2026-12-07-04:00", "web1-2026-12-07-04:00:00-x",
                          "web1-2026-12-07-04:00:00-", "lost+found", "web1-2026-12-07T04:00:00", ""}) {
    INFO(bad);
    REQUIRE(!parse_dump_dir_name(bad));
  }
}

TEST_CASE("keep_dumps: oldest first by date then k, never the new one", "[kdumpctl_keep]") {
  std::vector<std::string> names = {"h-2026-12-07-04:00:00-1", "h-2026-12-05-00:00:00", "h-2026-12-07-04:00:00",
                                    "h-2026-12-06-00:00:00", "h-2026-12-08-00:00:00"};
  REQUIRE(dumps_to_delete(names, 2, "h-2026-12-08-00:00:00") ==
          std::vector<std::string>{"h-2026-12-05-00:00:00", "h-2026-12-06-00:00:00", "h-2026-12-07-04:00:00"});
  REQUIRE(dumps_to_delete(names, 0, "h-2026-12-08-00:00:00").empty());  // 0: keep all
  REQUIRE(dumps_to_delete(names, 5, "h-2026-12-08-00:00:00").empty());
  // A capture kernel whose clock was reset names the new dump as the oldest: it stays.
  names.push_back("h-1970-01-01-00:00:05");
  REQUIRE(dumps_to_delete(names, 1, "h-1970-01-01-00:00:05").size() == 5);
  REQUIRE(dumps_to_delete({"h-1970-01-01-00:00:05"}, 1, "h-1970-01-01-00:00:05").empty());
}

TEST_CASE("keep_dumps: what is surely a dump", "[kdumpctl_keep]") {
  REQUIRE(looks_like_dump({{"vmcore", true}, {"vmcore-dmesg.txt", true}, {"report.txt", true}}));
  REQUIRE(looks_like_dump({{"vmcore-dmesg.txt", true}, {"vmcore-incomplete", true}}));  // a capture that failed midway
  REQUIRE(looks_like_dump({{"vmcore.flat", true}}));
  REQUIRE(!looks_like_dump({}));
  REQUIRE(!looks_like_dump({{"report.txt", true}}));
  REQUIRE(!looks_like_dump({{"vmcore", true}, {"notes.txt", true}}));  // someone put something there
  REQUIRE(!looks_like_dump({{"vmcore", false}}));                      // a link or a directory
}

TEST_CASE("keep_dumps: prune deletes only this host's real dumps, through no link", "[kdumpctl_keep]") {
  TempDir t;
  std::string crash = t.file("crash"), outside = t.file("outside");
  dump(crash + "/h-2026-12-01-00:00:00", "oldest");
  dump(crash + "/h-2026-12-02-00:00:00", "annotated");
  put(crash + "/h-2026-12-02-00:00:00/NOTES", "keep this", 0600);
  dump(crash + "/h-2026-12-03-00:00:00", "linked");
  REQUIRE(unlink((crash + "/h-2026-12-03-00:00:00/vmcore").c_str()) == 0);
  put(outside + "/precious", "precious");
  REQUIRE(symlink((outside + "/precious").c_str(), (crash + "/h-2026-12-03-00:00:00/vmcore").c_str()) == 0);
  dump(outside + "/h-2026-12-01-12:00:00", "outside");
  REQUIRE(symlink((outside + "/h-2026-12-01-12:00:00").c_str(), (crash + "/h-2026-12-01-12:00:00").c_str()) == 0);
  dump(crash + "/other-2026-11-01-00:00:00", "another host");
  dump(crash + "/h-2026-12-04-00:00:00", "older");
  dump(crash + "/h-2026-12-05-00:00:00", "newest old");
  dump(crash + "/h-2026-12-06-00:00:00", "new");
  put(crash + "/h-2026-12-00-not-a-dump.txt", "x");
  Result<std::vector<std::string>> gone = prune_dumps(crash, "h-2026-12-06-00:00:00", 2);
  REQUIRE(gone);
  // Five to go by age (keep 2 of 7): the link, the annotated dump and the one holding a link
  // are skipped (kept), not made up for by deleting a newer one.
  REQUIRE(*gone == std::vector<std::string>{"h-2026-12-01-00:00:00", "h-2026-12-04-00:00:00"});
  REQUIRE(!exists(crash + "/h-2026-12-01-00:00:00"));
  REQUIRE(slurp(crash + "/h-2026-12-02-00:00:00/NOTES") == "keep this");
  REQUIRE(slurp(outside + "/precious") == "precious");
  REQUIRE(slurp(outside + "/h-2026-12-01-12:00:00/vmcore") == "outside");
  REQUIRE(exists(crash + "/h-2026-12-01-12:00:00"));
  REQUIRE(slurp(crash + "/other-2026-11-01-00:00:00/vmcore") == "another host");
  REQUIRE(!exists(crash + "/h-2026-12-04-00:00:00"));
  REQUIRE(slurp(crash + "/h-2026-12-05-00:00:00/vmcore") == "newest old");
  REQUIRE(slurp(crash + "/h-2026-12-06-00:00:00/vmcore") == "new");
}

TEST_CASE("keep_dumps: keep 1 leaves only the new dump", "[kdumpctl_keep]") {
  TempDir t;
  std::string crash = t.file("crash");
  for (const char* n : {"h-2026-12-01-00:00:00", "h-2026-12-01-00:00:00-1", "h-2026-12-02-00:00:00"}) dump(crash + "/" + n, n);
  Result<std::vector<std::string>> gone = prune_dumps(crash, "h-2026-12-01-00:00:00-1", 1);
  REQUIRE(gone);
  REQUIRE(gone->size() == 2);
  REQUIRE(slurp(crash + "/h-2026-12-01-00:00:00-1/vmcore") == "h-2026-12-01-00:00:00-1");
  REQUIRE(!exists(crash + "/h-2026-12-02-00:00:00"));
}
