// The ssh target's host key in the first kernel (issue 18 point 5): kdumpctl propagate records
// it in kdumpkit's known_hosts (ssh-keyscan), never replaces a recorded one, installs the key
// with strict checking against it, and hook-info puts the file in the capture image.
#include <stdlib.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "kdumpctl/kdumpctl.h"
#include "tests/unit/temp_dir.h"
#include "tests/unit/test_files.h"

using namespace kk;
using kk::test::put;
using kk::test::slurp;
using kk::test::TempDir;

namespace {

struct Setup {
  TempDir t;
  std::string root = t.file("root"), bin = t.file("bin"), log = t.file("log");
  Setup() {
    put(root + "/root/.ssh/kdump_id_rsa", "private", 0600);
    put(root + "/root/.ssh/kdump_id_rsa.pub", "public");
    put(bin + "/ssh-keyscan", "#!/bin/sh\nprintf '%s\\n' \"$*\" >>\"$FAKE_LOG/keyscan.log\"\n"
                              "echo \"# dumphost:22 SSH-2.0-OpenSSH\" >&2\necho \"dumphost ssh-ed25519 $FAKE_SSH_KEY\"\n", 0755);
    put(bin + "/ssh-copy-id", "#!/bin/sh\nprintf '%s\\n' \"$*\" >>\"$FAKE_LOG/copy-id.log\"\n", 0755);
    std::filesystem::create_directories(log);
    setenv("PATH", (bin + ":/usr/bin:/bin").c_str(), 1);
    setenv("FAKE_LOG", log.c_str(), 1);
  }
  Ctl ctl(const std::string& conf_text) {
    Ctl c;
    c.host = Host(root);
    Result<KdumpConf> conf = parse_kdump_conf(conf_text);
    REQUIRE(conf);
    c.conf = *conf;
    return c;
  }
  std::string known_hosts() const { return root + "/root/.ssh/kdump_id_rsa.known_hosts"; }
};

}  // namespace

TEST_CASE("kdumpctl propagate: records the host key and installs with strict checking", "[kdumpctl_ssh_setup]") {
  Setup s;
  setenv("FAKE_SSH_KEY", "AAAAfirst", 1);
  Ctl c = s.ctl("ssh kdump@dumphost\n");
  Result<Outcome> r = cmd_propagate(c);
  REQUIRE(r);
  REQUIRE(slurp(s.known_hosts()) == "dumphost ssh-ed25519 AAAAfirst\n");
  struct stat st {};
  REQUIRE(stat(s.known_hosts().c_str(), &st) == 0);
  REQUIRE((st.st_mode & 077) == 0);
  REQUIRE(slurp(s.log + "/keyscan.log") == "-T 10 -- dumphost\n");
  REQUIRE(slurp(s.log + "/copy-id.log") ==
          "-i " + s.root + "/root/.ssh/kdump_id_rsa.pub -o StrictHostKeyChecking=yes -o UserKnownHostsFile=" +
              s.known_hosts() + " -o GlobalKnownHostsFile=/dev/null -- kdump@dumphost\n");
  // A recorded key is kept: a host that now answers with another key is not trusted anew.
  setenv("FAKE_SSH_KEY", "AAAAsecond", 1);
  r = cmd_propagate(c);
  REQUIRE(r);
  REQUIRE(slurp(s.known_hosts()) == "dumphost ssh-ed25519 AAAAfirst\n");
}

TEST_CASE("kdumpctl propagate: no host key, no install", "[kdumpctl_ssh_setup]") {
  Setup s;
  put(s.bin + "/ssh-keyscan", "#!/bin/sh\nexit 1\n", 0755);
  Ctl c = s.ctl("ssh kdump@dumphost\n");
  REQUIRE(!cmd_propagate(c));
  REQUIRE(!std::filesystem::exists(s.log + "/copy-id.log"));
  REQUIRE(!std::filesystem::exists(s.known_hosts()));
}

TEST_CASE("kdumpctl hook-info: the capture image gets the recorded host keys", "[kdumpctl_ssh_setup]") {
  Setup s;
  Ctl c = s.ctl("ssh kdump@dumphost\n");
  Result<Outcome> r = cmd_hook_info(c);
  REQUIRE(r);
  REQUIRE((r->message + "\n").find("\nfile /root/.ssh/kdump_id_rsa.known_hosts\n") != std::string::npos);
  c = s.ctl("nfs server:/export\n");
  r = cmd_hook_info(c);
  REQUIRE(r);
  REQUIRE(r->message.find("known_hosts") == std::string::npos);
}
