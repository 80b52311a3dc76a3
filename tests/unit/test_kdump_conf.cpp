// kdump.conf: every directive read, and every bad line refused with its line number.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "lib/kdump/kdump_conf.h"
#include "lib/kdump/kdump_tools.h"

using namespace kk;

TEST_CASE("kdump.conf: empty file gives the defaults", "[kdump_conf]") {
  Result<KdumpConf> c = parse_kdump_conf("# nothing but comments\n\n   \n");
  REQUIRE(c);
  REQUIRE(c->target == DumpTarget::rootfs);
  REQUIRE(c->path == "/var/crash");
  REQUIRE(c->core_collector == "dumpfilter -l --message-level 7 -d 31");
  REQUIRE(c->failure_action == FailureAction::reboot);
  REQUIRE(c->final_action == FinalAction::reboot);
  REQUIRE(!c->force_rebuild);
  REQUIRE(!c->force_no_rebuild);
}

TEST_CASE("kdump.conf: every directive", "[kdump_conf]") {
  Result<KdumpConf> c = parse_kdump_conf(
      "path /var/crash/dumps   # trailing comment\n"
      "ext4 LABEL=kkdump\n"
      "core_collector dumpfilter -z --message-level 1 -d 17\n"
      "kdump_pre /usr/local/bin/pre.sh\n"
      "kdump_post /usr/local/bin/post.sh\r\n"
      "extra_modules virtio_blk  crc32c_generic\n"
      "extra_modules nvme\n"
      "extra_bins /usr/bin/lsblk\n"
      "sshkey /etc/kdump/id_ed25519\n"
      "failure_action dump_to_rootfs\n"
      "final_action poweroff\n"
      "force_rebuild 1\n"
      "force_no_rebuild 0\n");
  REQUIRE(c);
  REQUIRE(c->path == "/var/crash/dumps");
  REQUIRE(c->target == DumpTarget::fs);
  REQUIRE(c->fs_type == "ext4");
  REQUIRE(c->device == "LABEL=kkdump");
  REQUIRE(c->core_collector == "dumpfilter -z --message-level 1 -d 17");
  REQUIRE(collector_words(*c) == std::vector<std::string>{"dumpfilter", "-z", "--message-level", "1", "-d", "17"});
  REQUIRE(c->kdump_pre == "/usr/local/bin/pre.sh");
  REQUIRE(c->kdump_post == "/usr/local/bin/post.sh");
  REQUIRE(c->extra_modules == std::vector<std::string>{"virtio_blk", "crc32c_generic", "nvme"});
  REQUIRE(c->extra_bins == std::vector<std::string>{"/usr/bin/lsblk"});
  REQUIRE(c->sshkey == "/etc/kdump/id_ed25519");
  REQUIRE(c->failure_action == FailureAction::dump_to_rootfs);
  REQUIRE(c->final_action == FinalAction::poweroff);
  REQUIRE(c->force_rebuild);
}

TEST_CASE("kdump.conf: targets", "[kdump_conf]") {
  Result<KdumpConf> c = parse_kdump_conf("xfs UUID=1b2c-3d4e-99aa\n");
  REQUIRE((c && c->target == DumpTarget::fs && c->fs_type == "xfs" && c->device == "UUID=1b2c-3d4e-99aa"));
  c = parse_kdump_conf("ext4 /dev/vdb1\n");
  REQUIRE((c && c->device == "/dev/vdb1"));
  c = parse_kdump_conf("raw /dev/vdc\n");
  REQUIRE((c && c->target == DumpTarget::raw && c->device == "/dev/vdc"));
  REQUIRE(c->core_collector == "dumpfilter -l --message-level 7 -d 31 -F");  // -F added
  c = parse_kdump_conf("ssh kdump@10.0.2.2\n");
  REQUIRE((c && c->target == DumpTarget::ssh && c->ssh == "kdump@10.0.2.2"));
  REQUIRE(c->core_collector.ends_with(" -F"));
  c = parse_kdump_conf("ssh root@dumps\ncore_collector makedumpfile -F -l -d 31\n");
  REQUIRE((c && c->core_collector == "makedumpfile -F -l -d 31"));
  c = parse_kdump_conf("nfs server:/exports/crash\n");
  REQUIRE((c && c->target == DumpTarget::nfs && c->nfs == "server:/exports/crash"));
}

TEST_CASE("kdump.conf: every bad line names its line", "[kdump_conf]") {
  struct Bad {
    const char* text;
    const char* want;  // expected start of the message
  };
  const Bad bad[] = {
      {"path /var/crash\nfrobnicate yes\n", "line 2: unknown directive 'frobnicate'"},
      {"path\n", "line 1: 'path' needs a value"},
      {"path var/crash\n", "line 1: path must be one absolute path"},
      {"path /var/crash /tmp\n", "line 1: path must be one absolute path"},
      {"path /a\npath /b\n", "line 2: 'path' given twice"},
      {"ext4 /dev/vdb\nxfs /dev/vdc\n", "line 2: a second dump target ('xfs')"},
      {"ext4 /dev/vdb\nraw /dev/vdc\n", "line 2: a second dump target ('raw')"},
      {"ext4 vdb\n", "line 1: 'vdb' is not a device"},
      {"ext4 /dev/\n", "line 1: '/dev/' is not a device"},
      {"ext4 UUID=xyz\n", "line 1: 'UUID=xyz' is not a UUID"},
      {"ext4 LABEL=\n", "line 1: 'LABEL=' is not a device"},
      {"ext4 /dev/vdb /dev/vdc\n", "line 1: ext4 takes one device"},
      {"btrfs /dev/vdb\n", "line 1: unknown directive 'btrfs'"},
      {"raw vdc\n", "line 1: raw takes one /dev/ device"},
      {"raw LABEL=x\n", "line 1: raw takes one /dev/ device"},
      {"ssh host\n", "line 1: ssh takes user@host"},
      {"ssh @host\n", "line 1: ssh takes user@host"},
      {"ssh user@\n", "line 1: ssh takes user@host"},
      {"ssh a@b@c\n", "line 1: ssh takes user@host"},
      {"nfs server\n", "line 1: nfs takes host:/export"},
      {"nfs server:export\n", "line 1: nfs takes host:/export"},
      {"nfs :/export\n", "line 1: nfs takes host:/export"},
      {"sshkey id_rsa\n", "line 1: sshkey must be one absolute path"},
      {"core_collector cp /proc/vmcore\n", "line 1: core_collector must run dumpfilter or makedumpfile"},
      {"\n\nraw /dev/vdc\ncore_collector dumpfilter -l -d 31\n", "line 4: a raw target needs a core_collector with -F"},
      {"ssh a@b\ncore_collector makedumpfile -l\n", "line 2: a ssh target needs a core_collector with -F"},
      {"core_collector dumpfilter\ncore_collector dumpfilter -l\n", "line 2: 'core_collector' given twice"},
      {"kdump_pre pre.sh\n", "line 1: kdump_pre must be one absolute path"},
      {"kdump_post /a /b\n", "line 1: kdump_post must be one absolute path"},
      {"extra_modules\n", "line 1: 'extra_modules' needs a value"},
      {"extra_modules kernel/fs/ext4.ko\n", "line 1: extra_modules takes module names"},
      {"extra_bins lsblk\n", "line 1: extra_bins takes absolute paths"},
      {"failure_action explode\n", "line 1: failure_action must be reboot, halt, poweroff, shell or dump_to_rootfs"},
      {"failure_action reboot now\n", "line 1: failure_action must be"},
      {"failure_action\n", "line 1: 'failure_action' needs a value"},
      {"final_action shell\n", "line 1: final_action must be reboot, halt or poweroff"},
      {"final_action reboot\nfinal_action halt\n", "line 2: 'final_action' given twice"},
      {"force_rebuild yes\n", "line 1: force_rebuild must be 0 or 1"},
      {"force_no_rebuild 2\n", "line 1: force_no_rebuild must be 0 or 1"},
      {"force_rebuild 1\nforce_no_rebuild 1\n", "force_rebuild 1 and force_no_rebuild 1 contradict"},
      {"failure_action dump_to_rootfs\n", "failure_action dump_to_rootfs needs a dump target"},
      {"path /var/\x01crash\n", "line 1: control character in line"},
      {"# ok\nPath /var/crash\n", "line 2: unknown directive 'Path'"},
  };
  for (const Bad& b : bad) {
    INFO(b.text);
    Result<KdumpConf> c = parse_kdump_conf(b.text);
    REQUIRE(!c);
    INFO(c.error().msg);
    REQUIRE(c.error().msg.starts_with(b.want));
  }
}

TEST_CASE("kdump.conf: the collector's -x and --config files, in every spelling", "[kdump_conf]") {
  Result<KdumpConf> c = parse_kdump_conf(
      "core_collector dumpfilter -l -x /usr/lib/debug/vmlinux --config /etc/erase.conf -d 31\n");
  REQUIRE(c);
  REQUIRE(collector_input_files(*c) == std::vector<std::string>{"/usr/lib/debug/vmlinux", "/etc/erase.conf"});
  c = parse_kdump_conf("core_collector dumpfilter -x/boot/vmlinux-dbg --config=/etc/e.conf\n");
  REQUIRE(c);
  REQUIRE(collector_input_files(*c) == std::vector<std::string>{"/boot/vmlinux-dbg", "/etc/e.conf"});
  c = parse_kdump_conf("core_collector dumpfilter -l -d 31\n");
  REQUIRE(c);
  REQUIRE(collector_input_files(*c).empty());
}

// Issue 18 point 8: values reach argv (ssh, mount) and remote paths. A value that would read as
// an option, or a path that climbs out of its directory, is refused at parse time.
TEST_CASE("kdump.conf: values that would be options or leave their directory", "[kdump_conf]") {
  struct Bad {
    const char* text;
    const char* want;
  };
  const Bad bad[] = {
      {"ssh -oProxyCommand=touch${IFS}/tmp/x@h\n", "line 1: ssh takes user@host"},
      {"ssh -oProxyCommand=x@h\n", "line 1: ssh takes user@host"},
      {"ssh root@-oProxyCommand=x\n", "line 1: ssh takes user@host"},
      {"ssh root@h;id\n", "line 1: ssh takes user@host"},
      {"ssh ro'ot@host\n", "line 1: ssh takes user@host"},
      {"\nnfs -oexec,suid:/x\n", "line 2: nfs takes host:/export"},
      {"nfs -server:/export\n", "line 1: nfs takes host:/export"},
      {"nfs server:/export,suid\n", "line 1: nfs takes host:/export"},
      {"path /var/crash/../../etc\n", "line 1: path must be one absolute path"},
      {"path /var/./crash\n", "line 1: path must be one absolute path"},
  };
  for (const Bad& b : bad) {
    INFO(b.text);
    Result<KdumpConf> c = parse_kdump_conf(b.text);
    REQUIRE(!c);
    INFO(c.error().msg);
    REQUIRE(c.error().msg.starts_with(b.want));
  }
  // What real targets look like still parses, a path with a quote included (it is quoted).
  for (const char* ok : {"ssh kdump@dumps.example.org\n", "ssh root@10.0.2.2\n", "ssh k-d_u.mp@[fe80::1]\n",
                         "nfs 10.0.2.2:/srv/crash\n", "nfs [fe80::1]:/srv/crash\n", "nfs nas-1.lan:/a/b_c\n",
                         "path /var/crash/it's\n"}) {
    INFO(ok);
    REQUIRE(parse_kdump_conf(ok));
  }
}

namespace {

std::string conf_fixture(const std::string& name) {
  std::ifstream f(std::string(KK_UNIT_FIXTURES) + "/kdump-conf/" + name);
  std::stringstream s;
  s << f.rdbuf();
  REQUIRE(!s.str().empty());
  return s.str();
}

}  // namespace

// Issue 17: a Fedora/RHEL user's kdump.conf loads; what kdumpkit does not implement is named,
// with its line, once per directive, and ignored.
TEST_CASE("kdump.conf: a stock Fedora/RHEL file loads, the rest warned about once each", "[kdump_conf]") {
  Result<KdumpConf> c = parse_kdump_conf(conf_fixture("fedora.conf"));
  if (!c) FAIL(c.error().msg);
  REQUIRE(c->target == DumpTarget::fs);
  REQUIRE(c->fs_type == "ext4");
  REQUIRE(c->device == "UUID=4b1f0c2e-9a7d-4c3b-8f51-2d6e0a9c7b13");
  REQUIRE(c->path == "/var/crash");
  REQUIRE(c->core_collector == "makedumpfile -l --message-level 7 -d 31");
  REQUIRE(c->sshkey == "/root/.ssh/kdump_id_rsa");
  REQUIRE(c->failure_action == FailureAction::halt);  // "default" is failure_action's old name
  REQUIRE(c->final_action == FinalAction::reboot);
  REQUIRE(c->extra_modules == std::vector<std::string>{"virtio_blk"});
  std::vector<std::string> want = {"line 13: auto_reset_crashkernel", "line 14: dracut_args",
                                   "line 15: fence_kdump_args", "line 16: fence_kdump_nodes",
                                   "line 17: kdump_emergency"};
  REQUIRE(c->warnings.size() == want.size());  // dracut_args again on line 27: not repeated
  for (size_t i = 0; i < want.size(); ++i) {
    INFO(c->warnings[i]);
    REQUIRE(c->warnings[i].starts_with(want[i] + ": "));
    REQUIRE(c->warnings[i].ends_with("not implemented by kdumpkit; ignored"));
  }
  // Its makedumpfile collector runs as dumpfilter with the same options where makedumpfile is
  // not installed, and as makedumpfile where it is.
  std::vector<std::string> opts = {"-l", "--message-level", "7", "-d", "31"};
  std::vector<std::string> as_dumpfilter = {"dumpfilter"}, as_makedumpfile = {"makedumpfile"};
  as_dumpfilter.insert(as_dumpfilter.end(), opts.begin(), opts.end());
  as_makedumpfile.insert(as_makedumpfile.end(), opts.begin(), opts.end());
  REQUIRE(collector_words(*c, false) == as_dumpfilter);
  REQUIRE(collector_words(*c, true) == as_makedumpfile);
}

TEST_CASE("kdump.conf: Fedora/RHEL ssh, nfs and raw files load", "[kdump_conf]") {
  Result<KdumpConf> c = parse_kdump_conf(conf_fixture("fedora-ssh.conf"));
  if (!c) FAIL(c.error().msg);
  REQUIRE((c->target == DumpTarget::ssh && c->ssh == "kdump@dumps.example.com" && c->path == "/var/crash/hosts"));
  REQUIRE(c->failure_action == FailureAction::dump_to_rootfs);
  REQUIRE(c->warnings == std::vector<std::string>{"line 7: auto_reset_crashkernel: not implemented by kdumpkit; ignored"});
  c = parse_kdump_conf(conf_fixture("fedora-nfs.conf"));
  if (!c) FAIL(c.error().msg);
  REQUIRE((c->target == DumpTarget::nfs && c->nfs == "nas.example.com:/export/crash" && c->warnings.size() == 1));
  c = parse_kdump_conf(conf_fixture("fedora-raw.conf"));
  if (!c) FAIL(c.error().msg);
  REQUIRE((c->target == DumpTarget::raw && c->device == "/dev/sdb1" && c->final_action == FinalAction::poweroff));
  REQUIRE(c->warnings.empty());
}

TEST_CASE("kdump.conf: default and failure_action together are refused, a typo still is", "[kdump_conf]") {
  Result<KdumpConf> c = parse_kdump_conf("default reboot\nfailure_action halt\n");
  REQUIRE(!c);
  REQUIRE(c.error().msg.starts_with("line 2: 'failure_action' given twice"));
  c = parse_kdump_conf("dracut_arg --add network\n");  // not a directive anywhere: a typo
  REQUIRE(!c);
  REQUIRE(c.error().msg.starts_with("line 1: unknown directive 'dracut_arg'"));
  c = parse_kdump_conf("dracut_args\n");  // ignored, whatever its value
  REQUIRE((c && c->warnings.size() == 1));
}

// Issue 17: a Debian user's /etc/default/kdump-tools, under kdump.conf.
TEST_CASE("kdump-tools: its settings apply where kdump.conf sets nothing", "[kdump_conf]") {
  std::string tools = conf_fixture("kdump-tools");
  Result<KdumpConf> c = load_kdump_conf("# only comments\n", "/etc/kdump.conf", tools);
  if (!c) FAIL(c.error().msg);
  REQUIRE(c->enabled);
  REQUIRE(c->path == "/srv/crash");
  REQUIRE(c->keep_dumps == 3);
  REQUIRE(c->core_collector == "dumpfilter -c -d 31");
  REQUIRE(c->sshkey == "/root/.ssh/kdump_id_rsa");
  REQUIRE(c->target == DumpTarget::rootfs);
  REQUIRE(c->cmdline_append == "reset_devices nr_cpus=1 irqpoll nousb");
  std::vector<std::string> want = {
      "/etc/default/kdump-tools line 12: KDUMP_CMDLINE_APPEND: systemd.unit=kdump-tools-dump.service is kdump-tools' own; left out",
      "/etc/default/kdump-tools line 8: KDUMP_FAIL_CMD: not used by kdumpkit; ignored",
      "/etc/default/kdump-tools line 6: KDUMP_INITRD: not used by kdumpkit; ignored",
      "/etc/default/kdump-tools line 5: KDUMP_KERNEL: not used by kdumpkit; ignored"};
  REQUIRE(c->warnings == want);
}

TEST_CASE("kdump-tools: kdump.conf wins for what it sets", "[kdump_conf]") {
  Result<KdumpConf> c = load_kdump_conf("path /var/crash\nkeep_dumps 0\nssh root@backup\n", "/etc/kdump.conf",
                                        "KDUMP_COREDIR=/srv/crash\nKDUMP_NUM_DUMPS=5\nNFS=nas:/x\nMAKEDUMP_ARGS='-l -d 31'\n");
  if (!c) FAIL(c.error().msg);
  REQUIRE(c->path == "/var/crash");
  REQUIRE(c->keep_dumps == 0);
  REQUIRE((c->target == DumpTarget::ssh && c->ssh == "root@backup"));
  REQUIRE(c->core_collector == "dumpfilter -l -d 31 -F");  // kdump-tools' args, made flattened for ssh
}

TEST_CASE("kdump-tools: targets, USE_KDUMP, and bad values named with their line", "[kdump_conf]") {
  Result<KdumpConf> c = load_kdump_conf("", "/etc/kdump.conf", "SSH=\"kdump@dumps.example.com\"\nUSE_KDUMP=0\n");
  REQUIRE(c);
  REQUIRE((c->target == DumpTarget::ssh && c->ssh == "kdump@dumps.example.com"));
  REQUIRE(c->core_collector.ends_with(" -F"));
  REQUIRE(!c->enabled);
  c = load_kdump_conf("", "/etc/kdump.conf", "export NFS=nas.lan:/export/crash # the NAS\n");
  REQUIRE((c && c->target == DumpTarget::nfs && c->nfs == "nas.lan:/export/crash"));
  c = load_kdump_conf("", "/etc/kdump.conf", "\nKDUMP_COREDIR=relative/dir\n");
  REQUIRE(!c);
  REQUIRE(c.error().msg.starts_with("/etc/default/kdump-tools line 2 (KDUMP_COREDIR): path must be one absolute path"));
  c = load_kdump_conf("", "/etc/kdump.conf", "KDUMP_NUM_DUMPS=many\n");
  REQUIRE(!c);
  REQUIRE(c.error().msg.starts_with("/etc/default/kdump-tools line 1 (KDUMP_NUM_DUMPS): keep_dumps must be a number"));
  // The shell would expand these: not read, named.
  c = load_kdump_conf("", "/etc/kdump.conf", "KDUMP_COREDIR=\"$HOME/crash\"\nif true; then :; fi\nUSE_KDUMP=yes\n");
  REQUIRE(c);
  REQUIRE(c->path == "/var/crash");
  REQUIRE(c->warnings == std::vector<std::string>{
      "/etc/default/kdump-tools line 1: not a plain NAME=value assignment kdumpkit can read; ignored",
      "/etc/default/kdump-tools line 2: not a plain NAME=value assignment kdumpkit can read; ignored",
      "/etc/default/kdump-tools line 3: USE_KDUMP must be 0 or 1; ignored"});
  // kdump.conf's warnings name their file in load_kdump_conf.
  c = load_kdump_conf("dracut_args --add x\n", "/etc/kdump.conf", std::nullopt);
  REQUIRE((c && c->warnings == std::vector<std::string>{"/etc/kdump.conf: line 1: dracut_args: not implemented by kdumpkit; ignored"}));
}

TEST_CASE("kdump-tools: shell words", "[kdump_conf]") {
  std::vector<std::string> warnings;
  std::map<std::string, ShellVar> v = read_shell_vars(
      "A='x y'\nB=\"a \\\"q\\\" \\$d\"\nC=plain\\ word\nD=\nE=\"open\nB=again\n", "f", &warnings);
  REQUIRE(v["A"].value == "x y");
  REQUIRE(v["C"].value == "plain word");
  REQUIRE(v["D"].value.empty());
  REQUIRE(v["B"].value == "again");  // the last assignment wins
  REQUIRE(v["B"].line == 6);
  REQUIRE(v.count("E") == 0);
  REQUIRE(warnings == std::vector<std::string>{"f line 5: not a plain NAME=value assignment kdumpkit can read; ignored"});
  warnings.clear();
  v = read_shell_vars("B=\"a \\\"q\\\" \\$d\"\n", "f", &warnings);
  REQUIRE(v["B"].value == "a \"q\" $d");
}
