// Kernel command-line edits for the capture kernel and for /etc/default/grub.
#include <catch2/catch.hpp>

#include "lib/kernel/cmdline.h"

using namespace kk;

TEST_CASE("cmdline: split keeps quoted words whole", "[cmdline]") {
  Result<std::vector<std::string>> w = split_cmdline("  root=/dev/sda1\tfoo=\"a b\"  quiet\n");
  REQUIRE(w);
  REQUIRE(*w == std::vector<std::string>{"root=/dev/sda1", "foo=\"a b\"", "quiet"});
  REQUIRE(split_cmdline("")->empty());
  REQUIRE(!split_cmdline("foo=\"a b"));                       // unterminated quote
  REQUIRE(!split_cmdline(std::string_view("a\0b", 3)));         // NUL byte
}

TEST_CASE("cmdline: parameter names", "[cmdline]") {
  REQUIRE(param_name("nr-cpus=4") == "nr_cpus");
  REQUIRE(param_name("quiet") == "quiet");
  REQUIRE(param_name("\"dyndbg=+p\"") == "dyndbg");
  REQUIRE(param_name("foo.bar-baz=1") == "foo.bar_baz");
}

TEST_CASE("cmdline: remove_params", "[cmdline]") {
  const std::string_view names[] = {"crashkernel", "nr-cpus"};
  Result<std::string> s = remove_params("root=/dev/vda crashkernel=256M nr_cpus=4 crashkernel=1G,low x=\"y z\"", names);
  REQUIRE(s);
  REQUIRE(*s == "root=/dev/vda x=\"y z\"");
}

TEST_CASE("cmdline: the capture kernel's command line", "[cmdline]") {
  Result<std::string> s = capture_cmdline(
      "BOOT_IMAGE=/boot/vmlinuz-6.1 root=UUID=abc ro quiet crashkernel=1G-4G:192M,4G-:256M "
      "hugepages=100 nr_cpus=8 panic=0 console=ttyS0",
      "quiet", "panic=1 kk.test=1");
  REQUIRE(s);
  REQUIRE(s->starts_with("root=UUID=abc ro console=ttyS0 irqpoll nr_cpus=1 reset_devices "));
  REQUIRE(s->ends_with(" panic=1 kk.test=1"));
  REQUIRE(s->find("crashkernel") == std::string::npos);
  REQUIRE(s->find("BOOT_IMAGE") == std::string::npos);
  REQUIRE(s->find("hugepages") == std::string::npos);
  REQUIRE(s->find("nr_cpus=8") == std::string::npos);
  REQUIRE(s->find("quiet") == std::string::npos);
  REQUIRE(s->find("panic=0") == std::string::npos);
  REQUIRE(!capture_cmdline("root=\"x", "", ""));
  REQUIRE(!capture_cmdline("root=x", "", "a=\"b"));
}

TEST_CASE("cmdline: the capture kernel gets nr_cpus=N, and the administrator's append wins", "[cmdline]") {
  Result<std::string> s = capture_cmdline("root=/dev/vda nr_cpus=8", "", "", 2);
  REQUIRE(s);
  REQUIRE(s->find(" nr_cpus=2 ") != std::string::npos);
  REQUIRE(s->find("nr_cpus=1") == std::string::npos);
  REQUIRE(s->find("nr_cpus=8") == std::string::npos);
  // An explicit nr_cpus= or maxcpus= (either spelling) in the append: ours is left out.
  for (std::string_view app : {"nr_cpus=3", "nr-cpus=3", "maxcpus=3"}) {
    s = capture_cmdline("root=/dev/vda", "", app, 2);
    REQUIRE(s);
    REQUIRE(s->find("nr_cpus=2") == std::string::npos);
    REQUIRE(s->ends_with(std::string(" ") + std::string(app)));
  }
  REQUIRE(capture_cmdline("root=/dev/vda", "", "", 0)->find(" nr_cpus=1 ") != std::string::npos);  // never 0
}

TEST_CASE("cmdline: capture CPUs from the online CPUs and what the reservation affords", "[cmdline]") {
  constexpr u64 MiB = 1ull << 20;
  // The measured rule (bench/README.md, "CPUs in the capture kernel"): 2 MiB per CPU past the
  // first, at most 4. Literal numbers, so that a change of the constants shows here.
  REQUIRE(kCaptureCpuCost == 2 * MiB);
  REQUIRE(kMaxCaptureCpus == 4);
  // Room for the base need only: one CPU, whatever the machine has.
  REQUIRE(pick_capture_cpus(16, 200 * MiB, 200 * MiB) == 1);
  REQUIRE(pick_capture_cpus(16, 100 * MiB, 200 * MiB) == 1);  // too little even for one: still 1
  REQUIRE(pick_capture_cpus(16, 202 * MiB - 1, 200 * MiB) == 1);
  // Each further CPU costs 2 MiB of the reservation.
  REQUIRE(pick_capture_cpus(16, 202 * MiB, 200 * MiB) == 2);
  REQUIRE(pick_capture_cpus(16, 204 * MiB - 1, 200 * MiB) == 2);
  REQUIRE(pick_capture_cpus(16, 204 * MiB, 200 * MiB) == 3);
  REQUIRE(pick_capture_cpus(16, 206 * MiB, 200 * MiB) == 4);
  // Never more than online, nor more than 4 (the most measured).
  REQUIRE(pick_capture_cpus(2, 1024 * MiB, 200 * MiB) == 2);
  REQUIRE(pick_capture_cpus(64, 4096 * MiB, 200 * MiB) == 4);
  REQUIRE(pick_capture_cpus(0, 1024 * MiB, 200 * MiB) == 1);  // online unknown
  // The reservation a given count needs, the inverse of the pick.
  REQUIRE(capture_cpus_need(200 * MiB, 1) == 200 * MiB);
  REQUIRE(capture_cpus_need(200 * MiB, 3) == 204 * MiB);
  REQUIRE(capture_cpus_need(200 * MiB, 4) == 206 * MiB);
  REQUIRE(pick_capture_cpus(8, capture_cpus_need(200 * MiB, 3), 200 * MiB) == 3);
}

TEST_CASE("cmdline: /etc/default/grub edit", "[cmdline]") {
  Result<std::string> s = grub_default_set_param(
      "GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX=\"quiet crashkernel=128M\"\nGRUB_TIMEOUT=5\n", "crashkernel",
      "1G-4G:192M,4G-:256M");
  REQUIRE(s);
  REQUIRE(*s == "GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX=\"quiet crashkernel=1G-4G:192M,4G-:256M\"\nGRUB_TIMEOUT=5\n");
  s = grub_default_set_param("GRUB_CMDLINE_LINUX=''\n", "crashkernel", "256M");
  REQUIRE(*s == "GRUB_CMDLINE_LINUX='crashkernel=256M'\n");  // the quoting kept
  s = grub_default_set_param("GRUB_DEFAULT=0\n", "crashkernel", "256M");  // no line: added
  REQUIRE(*s == "GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX=\"crashkernel=256M\"\n");
  REQUIRE(!grub_default_set_param("GRUB_CMDLINE_LINUX=\"quiet\n", "crashkernel", "256M"));
  REQUIRE(!grub_default_set_param("GRUB_CMDLINE_LINUX=quiet splash\n", "crashkernel", "256M"));
  REQUIRE(!grub_default_set_param("GRUB_CMDLINE_LINUX=\"a\"b\"\n", "crashkernel", "256M"));
}

// Issue 18 point 7: update-grub sources the file as shell, so the quoting chosen by the
// administrator carries meaning: '$(id)' stays literal only inside single quotes, and a
// double-quoted value may hold escaped quotes. The edit keeps the original quoting and any
// trailing comment.
TEST_CASE("cmdline: /etc/default/grub edit keeps single quotes", "[cmdline]") {
  Result<std::string> s = grub_default_set_param("GRUB_CMDLINE_LINUX='quiet x=$(id) crashkernel=1G'\n",
                                                 "crashkernel", "256M");
  REQUIRE(s);
  REQUIRE(*s == "GRUB_CMDLINE_LINUX='quiet x=$(id) crashkernel=256M'\n");
  s = grub_default_set_param("GRUB_CMDLINE_LINUX='a=\"b c\" quiet'\n", "crashkernel", "256M");
  REQUIRE(s);
  REQUIRE(*s == "GRUB_CMDLINE_LINUX='a=\"b c\" quiet crashkernel=256M'\n");
}

TEST_CASE("cmdline: /etc/default/grub edit keeps escaped double quotes", "[cmdline]") {
  Result<std::string> s = grub_default_set_param("GRUB_CMDLINE_LINUX=\"a=\\\"b c\\\" quiet\"\n",
                                                 "crashkernel", "256M");
  REQUIRE(s);
  REQUIRE(*s == "GRUB_CMDLINE_LINUX=\"a=\\\"b c\\\" quiet crashkernel=256M\"\n");
}

TEST_CASE("cmdline: /etc/default/grub edit keeps a trailing comment", "[cmdline]") {
  Result<std::string> s = grub_default_set_param("GRUB_CMDLINE_LINUX='quiet'  # set by hand\n",
                                                 "crashkernel", "256M");
  REQUIRE(s);
  REQUIRE(*s == "GRUB_CMDLINE_LINUX='quiet crashkernel=256M'  # set by hand\n");
  s = grub_default_set_param("GRUB_CMDLINE_LINUX=\"quiet crashkernel=1G\" # old\n", "crashkernel", "256M");
  REQUIRE(s);
  REQUIRE(*s == "GRUB_CMDLINE_LINUX=\"quiet crashkernel=256M\" # old\n");
  // What the edit cannot keep exactly it refuses rather than rewrites.
  REQUIRE(!grub_default_set_param("GRUB_CMDLINE_LINUX='a'\"b\"\n", "crashkernel", "256M"));
  REQUIRE(!grub_default_set_param("GRUB_CMDLINE_LINUX=\"$(id)\"\n", "crashkernel", "256M"));
}
