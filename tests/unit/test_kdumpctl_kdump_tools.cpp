// Issue 17: kdumpctl honours /etc/default/kdump-tools: USE_KDUMP=0 loads nothing, and the
// capture image carries the file so that the capture kernel reads the same settings.
#include <catch2/catch.hpp>

#include "lib/kdump/kdump_tools.h"
#include "kdumpctl/kdumpctl.h"
#include "tests/unit/temp_dir.h"
#include "tests/unit/test_files.h"

using namespace kk;
using kk::test::put;
using kk::test::TempDir;

TEST_CASE("kdumpctl start: USE_KDUMP=0 in kdump-tools loads nothing", "[kdumpctl_kdump_tools]") {
  TempDir t;  // an empty root: start would fail reading /sys if it went on
  Ctl c;
  c.host = Host(t.file("root"));
  Result<KdumpConf> conf = load_kdump_conf("", "/etc/kdump.conf", "USE_KDUMP=0\n");
  REQUIRE(conf);
  c.conf = *conf;
  Result<Outcome> r = cmd_start(c);
  REQUIRE(r);
  REQUIRE(r->code == kExitOk);
  REQUIRE(r->message == "kdump: USE_KDUMP=0 in /etc/default/kdump-tools: capture kernel not loaded");
  c.conf.enabled = true;
  REQUIRE(!cmd_start(c));
}

TEST_CASE("kdumpctl hook-info: the capture image gets kdump-tools' file when there is one", "[kdumpctl_kdump_tools]") {
  TempDir t;
  Ctl c;
  c.host = Host(t.file("root"));
  Result<Outcome> r = cmd_hook_info(c);
  REQUIRE(r);
  REQUIRE(r->message.find("kdump-tools") == std::string::npos);
  put(t.file("root/etc/default/kdump-tools"), "KDUMP_NUM_DUMPS=2\n");
  r = cmd_hook_info(c);
  REQUIRE(r);
  REQUIRE(r->message.find("\nfile /etc/default/kdump-tools") != std::string::npos);
}
