// Issue 17: keep_dumps N deletes the oldest dumps of this host beyond N, never the one just
// written, only directories that are surely dumps, never through a symbolic link; and start
// warns when the target cannot hold a -d 31 dump of this machine.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "kdumpctl/keep_dumps.h"
#include "kdumpctl/space_check.h"
#include "tests/unit/temp_dir.h"
#include "tests/unit/test_files.h"

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

namespace {

// A 4 GiB machine: 3.2 GiB free, cache and user memory, 300 MiB the kernel's.
constexpr const char* kMeminfo =
    "MemTotal:        4194304 kB\n"
    "MemFree:         2097152 kB\n"
    "MemAvailable:    3000000 kB\n"
    "Buffers:          102400 kB\n"
    "Cached:           819200 kB\n"
    "SwapCached:            0 kB\n"
    "AnonPages:        868352 kB\n"
    "Shmem:             16384 kB\n";

}  // namespace

TEST_CASE("space: a -d 31 dump's size from the page counts", "[kdumpctl_keep]") {
  Result<u64> b = d31_dump_bytes(kMeminfo);
  REQUIRE(b);
  // Kept: 4194304 - 2097152 - 102400 - (819200 - 16384) - 868352 = 323584 kB; bitmaps 2 x 128 KiB.
  REQUIRE(*b == 323584ull * 1024 + 2 * 131072 + (1 << 20));
  REQUIRE(!d31_dump_bytes("MemTotal: 1 kB\n"));
  REQUIRE(*d31_dump_bytes("MemTotal: 100 kB\nMemFree: 90 kB\nBuffers: 0 kB\nCached: 50 kB\nAnonPages: 0 kB\n") ==
          2 * 4 + (1 << 20));  // more counted away than there is: nothing kept, not a wrap-around
}

TEST_CASE("space: warned about when the target is too small", "[kdumpctl_keep]") {
  REQUIRE(!space_warning(100 << 20, 200 << 20, "/var/crash"));
  REQUIRE(space_warning(300 << 20, 200 << 20, "/var/crash") ==
          "warning: /var/crash has 200 MiB free; a -d 31 dump of this machine can take up to 300 MiB "
          "(uncompressed; compressed usually less): free space, or lower keep_dumps");
  TempDir t;
  Host h(t.file("root"));
  put(t.file("root/var/crash/.keep"), "");
  KdumpConf conf;
  put(t.file("root/proc/meminfo"), "MemTotal: 8192 kB\nMemFree: 4096 kB\nBuffers: 0 kB\nCached: 0 kB\nAnonPages: 0 kB\n");
  REQUIRE(!start_space_warning(h, conf));  // 5 MiB: the test's tmp holds that
  // A machine of 1 PiB of kernel memory does not fit.
  put(t.file("root/proc/meminfo"), "MemTotal: 1099511627776 kB\nMemFree: 0 kB\nBuffers: 0 kB\nCached: 0 kB\nAnonPages: 0 kB\n");
  std::optional<std::string> w = start_space_warning(h, conf);
  REQUIRE(w);
  REQUIRE(w->starts_with("warning: /var/crash has "));
  conf.path = "/var/crash/not/made/yet";  // measured at the nearest directory that exists
  REQUIRE(start_space_warning(h, conf));
  conf.target = DumpTarget::ssh;  // not measurable from here: nothing said
  REQUIRE(!start_space_warning(h, conf));
}
