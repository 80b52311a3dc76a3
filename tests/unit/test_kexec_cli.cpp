// test_kexec_cli.cpp: kexec's command line in the forms kdump scripts use (kdump-utils' kdumpctl:
// "kexec -s -p --command-line=... --initrd=... KERNEL"; Debian kdump-config: "kexec -p
// --command-line=... --initrd=... KERNEL", "kexec -u -p"; systemd: "kexec -e"), the options we do
// not offer yet, and the command line the new kernel gets (remove_cmdline_param, compose_cmdline).
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "kexec/cli.h"

using namespace kk;

namespace {

using Args = std::vector<std::string>;

KexecOptions parse_ok(const Args& args) {
  Result<KexecOptions> r = parse_kexec_cli(args);
  if (!r) FAIL("parse_kexec_cli: " << r.error().msg);
  return *std::move(r);
}

Error parse_err(const Args& args) {
  Result<KexecOptions> r = parse_kexec_cli(args);
  if (r) FAIL("parse_kexec_cli accepted what it should not");
  return std::move(r).error();
}

}  // namespace

TEST_CASE("kexec cli: -p --command-line=... --initrd=... KERNEL (Debian kdump-config)", "[kexec_cli]") {
  KexecOptions k = parse_ok({"-p", "--command-line=root=/dev/sda1 ro irqpoll nr_cpus=1 reset_devices",
                             "--initrd=/var/lib/kdump/initrd.img", "/boot/vmlinuz-6.1.0-18-amd64"});
  REQUIRE(k.action == KexecAction::load_panic);
  REQUIRE(k.panic);
  REQUIRE_FALSE(k.load_given);
  REQUIRE_FALSE(k.exec_after);
  REQUIRE(k.syscall == SyscallMode::auto_);
  REQUIRE(k.append == "root=/dev/sda1 ro irqpoll nr_cpus=1 reset_devices");
  REQUIRE(k.append_given);
  REQUIRE(k.initrd == "/var/lib/kdump/initrd.img");
  REQUIRE(k.kernel == "/boot/vmlinuz-6.1.0-18-amd64");
  REQUIRE_FALSE(k.reuse_cmdline);
}

TEST_CASE("kexec cli: -s -p (kdumpctl) and the syscall choices", "[kexec_cli]") {
  KexecOptions s = parse_ok({"-s", "-p", "--command-line", "irqpoll", "--initrd", "/x", "/boot/vmlinuz"});
  REQUIRE(s.action == KexecAction::load_panic);
  REQUIRE(s.syscall == SyscallMode::file);
  REQUIRE(s.append == "irqpoll");
  REQUIRE(s.initrd == "/x");
  REQUIRE(s.kernel == "/boot/vmlinuz");

  REQUIRE(parse_ok({"-c", "-p", "k"}).syscall == SyscallMode::classic);
  REQUIRE(parse_ok({"--kexec-syscall", "-p", "k"}).syscall == SyscallMode::classic);
  REQUIRE(parse_ok({"-a", "-p", "k"}).syscall == SyscallMode::auto_);
  REQUIRE(parse_ok({"-s", "-a", "-p", "k"}).syscall == SyscallMode::auto_);  // the last one wins
  REQUIRE(parse_ok({"-sp", "k"}).syscall == SyscallMode::file);                 // clustered
  REQUIRE(parse_ok({"-sp", "k"}).panic);
}

TEST_CASE("kexec cli: -l with several --append concatenates them", "[kexec_cli]") {
  KexecOptions k = parse_ok({"-l", "k", "--append", "a", "--append=b", "--command-line", "c d"});
  REQUIRE(k.action == KexecAction::load);
  REQUIRE(k.load_given);
  REQUIRE_FALSE(k.panic);
  REQUIRE(k.append == "a b c d");
  REQUIRE(k.kernel == "k");
  REQUIRE(k.initrd.empty());

  KexecOptions empty = parse_ok({"-l", "--append=", "k"});
  REQUIRE(empty.append_given);
  REQUIRE(empty.append.empty());

  REQUIRE(parse_ok({"-l", "--ramdisk=/r", "k"}).initrd == "/r");  // kexec-tools' alias
  REQUIRE(parse_ok({"k"}).action == KexecAction::load);             // -l is the default
}

TEST_CASE("kexec cli: --reuse-cmdline", "[kexec_cli]") {
  KexecOptions k = parse_ok({"-p", "--reuse-cmdline", "--append=irqpoll", "/boot/vmlinuz"});
  REQUIRE(k.reuse_cmdline);
  REQUIRE(k.append == "irqpoll");
  REQUIRE(k.action == KexecAction::load_panic);
}

TEST_CASE("kexec cli: -e, -f, -u, -S, --print-ckr-size", "[kexec_cli]") {
  SECTION("-e alone runs the loaded kernel, no image needed") {
    KexecOptions k = parse_ok({"-e"});
    REQUIRE(k.action == KexecAction::exec);
    REQUIRE(k.kernel.empty());
    REQUIRE(parse_ok({"--exec"}).action == KexecAction::exec);
  }
  SECTION("-l -e loads then execs") {
    KexecOptions k = parse_ok({"-l", "-e", "k"});
    REQUIRE(k.action == KexecAction::load);
    REQUIRE(k.exec_after);
  }
  SECTION("-f loads and execs at once") {
    KexecOptions k = parse_ok({"-f", "--append=quiet", "/boot/vmlinuz"});
    REQUIRE(k.action == KexecAction::load);
    REQUIRE(k.exec_after);
    REQUIRE(k.load_given);
    REQUIRE(k.kernel == "/boot/vmlinuz");
  }
  SECTION("-u -p unloads the crash kernel") {
    KexecOptions k = parse_ok({"-u", "-p"});
    REQUIRE(k.action == KexecAction::unload);
    REQUIRE(k.panic);
    KexecOptions l = parse_ok({"-u"});
    REQUIRE(l.action == KexecAction::unload);
    REQUIRE_FALSE(l.panic);
  }
  SECTION("-S asks for status") {
    REQUIRE(parse_ok({"-S"}).action == KexecAction::status);
    KexecOptions k = parse_ok({"-S", "-l"});
    REQUIRE(k.action == KexecAction::status);
    REQUIRE(k.load_given);
    REQUIRE(parse_ok({"--status", "-p"}).panic);
  }
  SECTION("--print-ckr-size wins over everything else") {
    REQUIRE(parse_ok({"--print-ckr-size"}).action == KexecAction::print_ckr_size);
    REQUIRE(parse_ok({"-p", "--print-ckr-size"}).action == KexecAction::print_ckr_size);
  }
  SECTION("help and version") {
    REQUIRE(parse_ok({"-h"}).action == KexecAction::help);
    REQUIRE(parse_ok({"--help", "-p"}).action == KexecAction::help);
    REQUIRE(parse_ok({"-v"}).action == KexecAction::version);
  }
  SECTION("flags that only set a switch") {
    KexecOptions k = parse_ok({"-d", "-i", "-y", "-x", "--mem-min=0x1000000", "--elf64-core-headers", "-p", "k"});
    REQUIRE(k.debug);
    REQUIRE(k.no_checks);
    REQUIRE(k.no_sync);
    REQUIRE(k.action == KexecAction::load_panic);
  }
  SECTION("--type=bzImage is what we load") {
    REQUIRE(parse_ok({"--type=bzImage", "-l", "k"}).type == "bzImage");
    REQUIRE(parse_ok({"-t", "bzImage64", "-l", "k"}).type == "bzImage64");
  }
}

TEST_CASE("kexec cli: errors", "[kexec_cli]") {
  SECTION("no kernel") {
    Error e = parse_err({"-p", "--initrd=/x"});
    REQUIRE(e.code == Errc::usage);
    REQUIRE(e.msg == "no kernel image given");
  }
  SECTION("two kernels") {
    Error e = parse_err({"-l", "a", "b"});
    REQUIRE(e.code == Errc::usage);
    REQUIRE(e.msg == "more than one kernel image given");
  }
  SECTION("an argument where none belongs") {
    Error e = parse_err({"-u", "-p", "/boot/vmlinuz"});
    REQUIRE(e.code == Errc::usage);
    REQUIRE_THAT(e.msg, Catch::Contains("'/boot/vmlinuz'"));
  }
  SECTION("unknown options") {
    Error a = parse_err({"--frobnicate", "-l", "k"});
    REQUIRE(a.code == Errc::usage);
    REQUIRE_THAT(a.msg, Catch::Contains("--frobnicate"));
    Error b = parse_err({"-Z", "k"});
    REQUIRE(b.code == Errc::usage);
    REQUIRE_THAT(b.msg, Catch::Contains("-Z"));
  }
  SECTION("an option missing its value") {
    Error e = parse_err({"-l", "k", "--initrd"});
    REQUIRE(e.code == Errc::usage);
    REQUIRE_THAT(e.msg, Catch::Contains("--initrd"));
  }
  SECTION("kexec-tools options we do not offer yet") {
    Error ri = parse_err({"--reuseinitrd", "-l", "k"});
    REQUIRE(ri.code == Errc::usage);  // exit status 2
    REQUIRE(ri.msg == "not supported yet: --reuseinitrd");
    Error hp = parse_err({"-p", "--hotplug", "k"});
    REQUIRE(hp.code == Errc::usage);
    REQUIRE(hp.msg == "not supported yet: --hotplug");
    REQUIRE(parse_err({"--load-preserve-context", "k"}).msg == "not supported yet: --load-preserve-context");
  }
  SECTION("--dtb (arm64) is taken") {
    REQUIRE(parse_ok({"--dtb=/tmp/virt.dtb", "-l", "k"}).dtb == "/tmp/virt.dtb");
    REQUIRE(parse_ok({"-p", "--dtb", "d.dtb", "k"}).dtb == "d.dtb");
  }
  SECTION("--type other than bzImage") {
    Error e = parse_err({"--type=elf", "-l", "k"});
    REQUIRE(e.code == Errc::usage);
    REQUIRE(e.msg == "--type=elf: only bzImage kernels are supported");
    REQUIRE(parse_err({"-t", "multiboot-x86", "k"}).code == Errc::usage);
  }
  SECTION("-e with -p") {
    Error e = parse_err({"-p", "-e", "k"});
    REQUIRE(e.code == Errc::usage);
    REQUIRE_THAT(e.msg, Catch::Contains("-e cannot run a crash kernel"));
  }
}

TEST_CASE("kexec cli: --test-spoil-digest (testing aid) only with a -c load that checks", "[kexec_cli]") {
  REQUIRE_FALSE(parse_ok({"-c", "-l", "k"}).test_spoil_digest);
  KexecOptions l = parse_ok({"-c", "-l", "--test-spoil-digest", "k"});
  REQUIRE(l.test_spoil_digest);
  REQUIRE(l.action == KexecAction::load);
  KexecOptions p = parse_ok({"--test-spoil-digest", "-c", "-p", "--initrd=/i", "k"});
  REQUIRE(p.test_spoil_digest);
  REQUIRE(p.action == KexecAction::load_panic);
  REQUIRE(parse_ok({"-c", "-f", "--test-spoil-digest", "k"}).exec_after);  // load and exec at once

  SECTION("-s and -a would use the kernel's purgatory: a usage error, not a silent no-op") {
    for (const Args& a : {Args{"-s", "-p", "--test-spoil-digest", "k"}, Args{"-l", "--test-spoil-digest", "k"},
                          Args{"-c", "-a", "-l", "--test-spoil-digest", "k"}}) {
      Error e = parse_err(a);
      REQUIRE(e.code == Errc::usage);
      REQUIRE_THAT(e.msg, Catch::Contains("--test-spoil-digest needs -c"));
    }
  }
  SECTION("not without a load") {
    for (const Args& a : {Args{"-c", "-e", "--test-spoil-digest"}, Args{"-c", "-u", "--test-spoil-digest"},
                          Args{"-c", "-S", "-p", "--test-spoil-digest"}}) {
      Error e = parse_err(a);
      REQUIRE(e.code == Errc::usage);
      REQUIRE_THAT(e.msg, Catch::Contains("goes with a load"));
    }
  }
  SECTION("not with -i, which skips the check it spoils") {
    Error e = parse_err({"-c", "-i", "-l", "--test-spoil-digest", "k"});
    REQUIRE(e.code == Errc::usage);
    REQUIRE_THAT(e.msg, Catch::Contains("-i tests nothing"));
  }
  REQUIRE_THAT(kexec_usage(), Catch::Contains("--test-spoil-digest"));
}

TEST_CASE("kexec cli: usage text lists the main forms", "[kexec_cli]") {
  std::string u = kexec_usage();
  REQUIRE_THAT(u, Catch::StartsWith("usage: kexec"));
  REQUIRE_THAT(u, Catch::Contains("--reuse-cmdline") && Catch::Contains("--print-ckr-size") &&
                      Catch::Contains("--load-panic"));
}

TEST_CASE("kexec cli: remove_cmdline_param", "[kexec_cli]") {
  const std::string proc = "BOOT_IMAGE=/boot/vmlinuz-6.1.0-18-amd64 root=UUID=1234-abcd ro crashkernel=256M quiet";
  REQUIRE(remove_cmdline_param(proc, "BOOT_IMAGE") == "root=UUID=1234-abcd ro crashkernel=256M quiet");
  REQUIRE(remove_cmdline_param(proc, "crashkernel") ==
          "BOOT_IMAGE=/boot/vmlinuz-6.1.0-18-amd64 root=UUID=1234-abcd ro quiet");
  REQUIRE(remove_cmdline_param(proc, "quiet") == "BOOT_IMAGE=/boot/vmlinuz-6.1.0-18-amd64 root=UUID=1234-abcd ro crashkernel=256M");
  REQUIRE(remove_cmdline_param(proc, "ro") == "BOOT_IMAGE=/boot/vmlinuz-6.1.0-18-amd64 root=UUID=1234-abcd crashkernel=256M quiet");

  SECTION("every occurrence goes") {
    REQUIRE(remove_cmdline_param("crashkernel=256M,high crashkernel=64M,low root=/dev/sda1 crashkernel", "crashkernel") ==
            "root=/dev/sda1");
  }
  SECTION("only the whole name matches") {
    REQUIRE(remove_cmdline_param("crashkernel_x=1 xcrashkernel=2 crash=3", "crashkernel") ==
            "crashkernel_x=1 xcrashkernel=2 crash=3");
    REQUIRE(remove_cmdline_param("crashkernel=256M", "crash") == "crashkernel=256M");
  }
  SECTION("quoted values are one word") {
    REQUIRE(remove_cmdline_param("dyndbg=\"file foo.c +p\" crashkernel=512M quiet", "dyndbg") ==
            "crashkernel=512M quiet");
    REQUIRE(remove_cmdline_param("dyndbg=\"file foo.c +p\" crashkernel=512M quiet", "crashkernel") ==
            "dyndbg=\"file foo.c +p\" quiet");
    // A quoted value that mentions the name is not the parameter.
    REQUIRE(remove_cmdline_param("opts=\"crashkernel=1G x\" crashkernel=2G", "crashkernel") ==
            "opts=\"crashkernel=1G x\"");
    REQUIRE(remove_cmdline_param("\"crashkernel=1G\" y", "crashkernel") == "\"crashkernel=1G\" y");
  }
  SECTION("spaces collapse, ends trimmed") {
    REQUIRE(remove_cmdline_param("  a=1   crashkernel=256M    b  ", "crashkernel") == "a=1 b");
    REQUIRE(remove_cmdline_param("crashkernel=256M", "crashkernel").empty());
    REQUIRE(remove_cmdline_param("", "crashkernel").empty());
  }
}

TEST_CASE("kexec cli: compose_cmdline", "[kexec_cli]") {
  // /proc/cmdline as the kernel shows it: one line, newline-terminated.
  const std::string proc = "BOOT_IMAGE=/boot/vmlinuz root=/dev/vda1 ro crashkernel=256M console=ttyS0\n";
  KexecOptions o;
  SECTION("no reuse: only --append") {
    o.append = "irqpoll nr_cpus=1";
    o.append_given = true;
    REQUIRE(compose_cmdline(o, proc) == "irqpoll nr_cpus=1");
  }
  SECTION("nothing at all") {
    REQUIRE(compose_cmdline(o, proc).empty());
  }
  SECTION("reuse for -l keeps crashkernel=, drops BOOT_IMAGE") {
    o.reuse_cmdline = true;
    REQUIRE(compose_cmdline(o, proc) == "root=/dev/vda1 ro crashkernel=256M console=ttyS0");
  }
  SECTION("reuse for -p strips crashkernel= too") {
    o.reuse_cmdline = true;
    o.panic = true;
    REQUIRE(compose_cmdline(o, proc) == "root=/dev/vda1 ro console=ttyS0");
  }
  SECTION("reuse for -p, then --append after it") {
    o.reuse_cmdline = true;
    o.panic = true;
    o.append = "irqpoll nr_cpus=1 reset_devices";
    o.append_given = true;
    REQUIRE(compose_cmdline(o, proc) == "root=/dev/vda1 ro console=ttyS0 irqpoll nr_cpus=1 reset_devices");
  }
  SECTION("reuse where crashkernel= is the last word") {
    o.reuse_cmdline = true;
    o.panic = true;
    o.append = "irqpoll";
    o.append_given = true;
    REQUIRE(compose_cmdline(o, "root=/dev/vda1 crashkernel=256M\n") == "root=/dev/vda1 irqpoll");
  }
  SECTION("an empty --append adds nothing") {
    o.reuse_cmdline = true;
    o.append_given = true;
    REQUIRE(compose_cmdline(o, "root=/dev/vda1\n") == "root=/dev/vda1");
  }
}
