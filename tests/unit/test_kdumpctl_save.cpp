// kdumpctl save (capture kernel) on a fixture root, with stand-ins for the programs it runs:
// a dumpfilter that writes a marker, a mount that mounts nothing, an ssh that checks the host
// key options and runs the remote command here with sh. Issue 18: a second capture never
// overwrites the first (point 4), ssh trusts only the recorded host key (point 5), and values
// reach argv and remote commands only as operands and quoted words (point 8).
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <span>
#include <sstream>
#include <string>

#include "dumpfilter/flattened_format.h"
#include "kdumpctl/capture.h"
#include "kdumpctl/crash_record.h"
#include "kdumpctl/kdumpctl.h"
#include "kdumpctl/shell_quote.h"
#include "tests/unit/temp_dir.h"
#include "tests/unit/test_files.h"

using namespace kk;
using kk::test::put;
using kk::test::slurp;
using kk::test::TempDir;

namespace {

// ssh stand-in: logs its arguments, refuses (255) unless StrictHostKeyChecking=yes with a
// UserKnownHostsFile holding "HOST FAKE_SSH_KEY", unless FAKE_SSH_TRUSTING=1; then runs the
// remote command (its last argument) with sh.
constexpr const char* kFakeSsh = R"(#!/bin/sh
printf '%s\n' "$*" >>"$FAKE_LOG/ssh.log"
kh= strict=
while [ $# -gt 2 ]; do
  case $1 in
    -o) case $2 in UserKnownHostsFile=*) kh=${2#*=} ;; StrictHostKeyChecking=*) strict=${2#*=} ;; esac; shift 2 ;;
    -i) shift 2 ;;
    *) shift ;;
  esac
done
host=${1#*@}
if [ "$FAKE_SSH_TRUSTING" != 1 ]; then
  [ "$strict" = yes ] && grep -qx "$host ssh-ed25519 $FAKE_SSH_KEY" "$kh" 2>/dev/null || { echo "fake ssh: host key" >&2; exit 255; }
fi
exec sh -c "$2"
)";

// dumpfilter stand-in: the collector writes "dump $FAKE_ID" to its output (stdout with -F).
constexpr const char* kFakeDumpfilter = R"(#!/bin/sh
case $1 in
  --dump-dmesg) echo dmesg >>"$FAKE_LOG/dumpfilter.log"; printf '%s\n' "${FAKE_DMESG:-dmesg}" >"$3"; exit 0 ;;
  --report) echo report >>"$FAKE_LOG/dumpfilter.log"; echo report >"$2"; exit 0 ;;
esac
echo collector >>"$FAKE_LOG/dumpfilter.log"
for a; do last=$a; done
case " $* " in
  *" -F "*) echo "dump $FAKE_ID" ;;
  *) echo "dump $FAKE_ID" >"$last" ;;
esac
)";

constexpr const char* kFakeMount = R"(#!/bin/sh
printf '%s\n' "$*" >>"$FAKE_LOG/mount.log"
)";

struct Capture {
  TempDir t;
  std::string root = t.file("root"), bin = t.file("bin"), log = t.file("log");
  std::string remote = t.file("remote/crash");  // the ssh target's path (run here by the stand-in)

  Capture() {
    put(root + "/proc/vmcore", "core");
    put(root + "/proc/cmdline", "root=/dev/vda1 kdumpkit.host=testhost");
    put(bin + "/ssh", kFakeSsh, 0755);
    put(bin + "/dumpfilter", kFakeDumpfilter, 0755);
    put(bin + "/mount", kFakeMount, 0755);
    std::filesystem::create_directories(log);
    std::filesystem::create_directories(root + "/run");  // the capture's tmpfs
    setenv("PATH", (bin + ":/usr/bin:/bin").c_str(), 1);
    setenv("FAKE_LOG", log.c_str(), 1);
    setenv("FAKE_SSH_KEY", "AAAAgood", 1);
    setenv("FAKE_SSH_TRUSTING", "0", 1);
  }
  Result<Outcome> save(const std::string& conf_text, const std::string& id) {
    setenv("FAKE_ID", id.c_str(), 1);
    Ctl c;
    c.host = Host(root);
    Result<KdumpConf> conf = parse_kdump_conf(conf_text);
    REQUIRE(conf);
    c.conf = *conf;
    return cmd_save(c);
  }
  std::string ssh_conf(const std::string& path) const { return "path " + path + "\nssh kdump@dumphost\n"; }
  void record_key(const std::string& key) const { put(root + "/root/.ssh/kdump_id_rsa.known_hosts", "dumphost ssh-ed25519 " + key + "\n", 0600); }
};

// The directory names a capture started now or in the next seconds would pick.
std::vector<std::string> names_near_now(const std::string& host) {
  std::vector<std::string> out;
  time_t now = time(nullptr);
  for (int i = 0; i < 4; ++i) {
    struct tm tm {};
    time_t t = now + i;
    gmtime_r(&t, &tm);
    char date[32];
    strftime(date, sizeof date, "%Y-%m-%d-%H:%M:%S", &tm);
    out.push_back(host + "-" + date);
  }
  return out;
}

std::vector<std::string> entries(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

TEST_CASE("kdumpctl save: a second ssh capture in the same second keeps the first", "[kdumpctl_save]") {
  Capture cap;
  setenv("FAKE_SSH_TRUSTING", "1", 1);  // this test is about names, not keys
  cap.record_key("AAAAgood");
  // Earlier crashes whose directories have the names this capture would pick.
  std::vector<std::string> taken = names_near_now("testhost");
  for (const std::string& n : taken) put(cap.remote + "/" + n + "/vmcore.flat", "earlier " + n, 0600);
  for (const std::string& n : taken) put(cap.remote + "/" + n + "/report.txt", "earlier report", 0600);
  Result<Outcome> r = cap.save(cap.ssh_conf(cap.remote), "second");
  REQUIRE(r);
  REQUIRE(r->code == kExitOk);
  for (const std::string& n : taken) {
    REQUIRE(slurp(cap.remote + "/" + n + "/vmcore.flat") == "earlier " + n);
    REQUIRE(slurp(cap.remote + "/" + n + "/report.txt") == "earlier report");
    REQUIRE(entries(cap.remote + "/" + n) == std::vector<std::string>{"report.txt", "vmcore.flat"});
  }
  std::vector<std::string> now = entries(cap.remote);
  REQUIRE(now.size() == taken.size() + 1);
  std::string fresh;
  for (const std::string& n : now)
    if (std::find(taken.begin(), taken.end(), n) == taken.end()) fresh = n;
  REQUIRE(fresh.ends_with("-1"));
  REQUIRE(slurp(cap.remote + "/" + fresh + "/vmcore.flat") == "dump second\n");
  REQUIRE(slurp(cap.remote + "/" + fresh + "/report.txt") == "report\n");
}

TEST_CASE("kdumpctl save: a second local (nfs) capture in the same second keeps the first", "[kdumpctl_save]") {
  Capture cap;
  std::string crash = cap.root + "/kdumproot/var/crash";
  std::vector<std::string> taken = names_near_now("testhost");
  for (const std::string& n : taken) put(crash + "/" + n + "/vmcore", "earlier " + n, 0600);
  Result<Outcome> r = cap.save("nfs server:/export\n", "second");
  REQUIRE(r);
  REQUIRE(r->code == kExitOk);
  for (const std::string& n : taken) {
    REQUIRE(slurp(crash + "/" + n + "/vmcore") == "earlier " + n);
    REQUIRE(entries(crash + "/" + n) == std::vector<std::string>{"vmcore"});
  }
  REQUIRE(entries(crash).size() == taken.size() + 1);
  // The export is an operand, after "--".
  REQUIRE(slurp(cap.log + "/mount.log") == "-t nfs -o nolock,tcp,soft -- server:/export " + cap.root + "/kdumproot\n");
}

TEST_CASE("kdumpctl save: ssh with no recorded host key sends nothing", "[kdumpctl_save]") {
  Capture cap;
  Result<Outcome> r = cap.save(cap.ssh_conf(cap.remote), "x");
  REQUIRE(r);
  REQUIRE(r->code == kExitError);  // failure_action, then final_action (said, not taken)
  REQUIRE(!std::filesystem::exists(cap.log + "/ssh.log"));  // ssh was never started
  REQUIRE(!std::filesystem::exists(cap.remote));
}

TEST_CASE("kdumpctl save: ssh to a host whose key changed sends nothing", "[kdumpctl_save]") {
  Capture cap;
  cap.record_key("AAAAold");  // the host now presents AAAAgood
  Result<Outcome> r = cap.save(cap.ssh_conf(cap.remote), "x");
  REQUIRE(r);
  REQUIRE(r->code == kExitError);
  REQUIRE(!std::filesystem::exists(cap.remote));
}

TEST_CASE("kdumpctl save: ssh checks the recorded host key strictly", "[kdumpctl_save]") {
  Capture cap;
  cap.record_key("AAAAgood");
  Result<Outcome> r = cap.save(cap.ssh_conf(cap.remote), "first");
  REQUIRE(r);
  REQUIRE(r->code == kExitOk);
  std::string log = slurp(cap.log + "/ssh.log");
  REQUIRE(log.find("StrictHostKeyChecking=no") == std::string::npos);
  REQUIRE(log.find("UserKnownHostsFile=/dev/null") == std::string::npos);
  REQUIRE(log.find("-o StrictHostKeyChecking=yes -o UserKnownHostsFile=" + cap.root + "/root/.ssh/kdump_id_rsa.known_hosts") !=
          std::string::npos);
  REQUIRE(log.find(" -- kdump@dumphost ") != std::string::npos);  // the destination is an operand
  REQUIRE(entries(cap.remote).size() == 1);
}

TEST_CASE("kdumpctl save: a path with a quote and a host name with / stay inside the path", "[kdumpctl_save]") {
  Capture cap;
  setenv("FAKE_SSH_TRUSTING", "1", 1);
  cap.record_key("AAAAgood");
  put(cap.root + "/proc/cmdline", "root=/dev/vda1 kdumpkit.host=../../evil");
  std::string path = cap.t.file("it's");
  Result<Outcome> r = cap.save(cap.ssh_conf(path), "quoted");
  REQUIRE(r);
  REQUIRE(r->code == kExitOk);
  std::vector<std::string> made = entries(path);
  REQUIRE(made.size() == 1);
  REQUIRE(made[0].find('/') == std::string::npos);
  REQUIRE(!made[0].starts_with("."));
  REQUIRE(slurp(path + "/" + made[0] + "/vmcore.flat") == "dump quoted\n");
  for (const std::string& e : entries(cap.t.path())) REQUIRE(e.find("evil") == std::string::npos);
}

TEST_CASE("kdumpctl shell_quote: any value comes back from sh as it went in", "[kdumpctl_save]") {
  for (std::string v : {std::string("plain"), std::string("it's"), std::string("''"), std::string("$(id) `id` \"x\" \\ ;&|"),
                        std::string("-n"), std::string("a\nb"), std::string()}) {
    INFO(v);
    Result<std::string> out = run_output({"sh", "-c", "printf '%s' " + shell_quote(v)});
    REQUIRE(out);
    REQUIRE(*out == v);
  }
}

TEST_CASE("kdumpctl save: the kernel log is saved first, then the dump, then the report", "[kdumpctl_save]") {
  // The log is small and says why the machine crashed: it must be on disk before the long dump
  // that may not finish (issue 17).
  Capture cap;
  Result<Outcome> r = cap.save("nfs server:/export\n", "x");  // a local target the stand-ins can mount
  REQUIRE(r);
  REQUIRE(r->code == kExitOk);
  REQUIRE(slurp(cap.log + "/dumpfilter.log") == "dmesg\ncollector\nreport\n");
  std::string crash = cap.root + "/kdumproot/var/crash";
  std::vector<std::string> dirs = entries(crash);
  REQUIRE(dirs.size() == 1);
  REQUIRE(entries(crash + "/" + dirs[0]) == std::vector<std::string>{"report.txt", "vmcore", "vmcore-dmesg.txt"});
}

TEST_CASE("kdumpctl save: a raw device that holds a dump is recognised and not written over", "[kdumpctl_save]") {
  std::vector<std::byte> head(4096);
  CHECK_FALSE(holds_flattened_dump(head));  // a cleared device
  std::memcpy(head.data(), flattened::kSignature, sizeof flattened::kSignature);
  CHECK(holds_flattened_dump(head));  // what dumpfilter -F wrote after the earlier crash
  CHECK_FALSE(holds_flattened_dump(std::span(head).first(8)));
  head[3] = std::byte{'X'};
  CHECK_FALSE(holds_flattened_dump(head));
}

// Issue 17: the capture leaves a record on the root file system for the next boot.
TEST_CASE("kdumpctl save: a saved capture leaves a record with the dump and its panic line", "[kdumpctl_save]") {
  Capture cap;
  setenv("FAKE_DMESG", "[ 41.2] sysrq: Trigger a crash\n[ 41.3] Kernel panic - not syncing: sysrq triggered crash", 1);
  Result<Outcome> r = cap.save("nfs server:/export\n", "rec");
  unsetenv("FAKE_DMESG");
  REQUIRE(r);
  REQUIRE(r->code == kExitOk);
  std::string dir = cap.root + "/kdumproot" + std::string(kCaptureDir);
  std::vector<std::string> recs = entries(dir);
  REQUIRE(recs.size() == 1);
  REQUIRE(recs[0].starts_with("testhost-"));
  REQUIRE(recs[0].ends_with(".new"));
  Result<CaptureRecord> rec = parse_record(slurp(dir + "/" + recs[0]));
  REQUIRE(rec);
  REQUIRE(rec->saved);
  std::vector<std::string> dumps = entries(cap.root + "/kdumproot/var/crash");
  REQUIRE(rec->dump == "server:/export/var/crash/" + dumps[0]);
  REQUIRE(rec->panic == "Kernel panic - not syncing: sysrq triggered crash");
}

TEST_CASE("kdumpctl save: a failed capture leaves a record saying why", "[kdumpctl_save]") {
  Capture cap;
  Result<Outcome> r = cap.save(cap.ssh_conf(cap.remote), "x");  // no recorded host key
  REQUIRE(r);
  REQUIRE(r->code == kExitError);
  std::string dir = cap.root + "/kdumproot" + std::string(kCaptureDir);
  std::vector<std::string> recs = entries(dir);
  REQUIRE(recs.size() == 1);
  Result<CaptureRecord> rec = parse_record(slurp(dir + "/" + recs[0]));
  REQUIRE(rec);
  REQUIRE(!rec->saved);
  REQUIRE(rec->reason.find("known_hosts") != std::string::npos);
}

TEST_CASE("kdumpctl save: keep_dumps 2 deletes the oldest dumps after saving", "[kdumpctl_save]") {
  Capture cap;
  std::string crash = cap.root + "/kdumproot/var/crash";
  for (const char* n : {"testhost-2020-01-01-00:00:00", "testhost-2020-01-02-00:00:00", "testhost-2020-01-03-00:00:00"}) {
    put(crash + "/" + n + "/vmcore", n, 0600);
    put(crash + "/" + n + "/vmcore-dmesg.txt", "log", 0600);
  }
  Result<Outcome> r = cap.save("nfs server:/export\nkeep_dumps 2\n", "kept");
  REQUIRE(r);
  REQUIRE(r->code == kExitOk);
  std::vector<std::string> left = entries(crash);
  REQUIRE(left.size() == 2);
  REQUIRE(left[0] == "testhost-2020-01-03-00:00:00");
  REQUIRE(slurp(crash + "/" + left[1] + "/vmcore") == "dump kept\n");
}
