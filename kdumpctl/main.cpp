// kdumpctl: the kdump service's command (kdumpctl(8)): loads the capture kernel with our kexec
// in the first kernel, and saves the dump with our dumpfilter in the capture kernel. Errors
// are one line on stderr, "kdumpctl: FILE: problem", with the exit status of io/exit_status.h;
// outcomes that are not errors have theirs from ExitCode.
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <map>

#include "lib/cli/argparse.h"
#include "lib/io/exit_status.h"
#include "lib/kdump/kdump_tools.h"
#include "kdumpctl/kdumpctl.h"

using namespace kk;

namespace {

enum Opt { root, conf, kernel, initrd, force, value, help };
constexpr OptionSpec options[] = {
    {0, "root", true, root},     {0, "conf", true, conf},   {0, "kernel", true, kernel},
    {0, "initrd", true, initrd}, {0, "force", false, force}, {0, "value", true, value},
    {'h', "help", false, help},
};

constexpr const char* usage =
    "usage: kdumpctl [--root DIR] [--conf FILE] [--kernel FILE] [--initrd FILE] COMMAND\n"
    "commands: start, stop, status, restart, rebuild, showmem, estimate, test [--force],\n"
    "          propagate, reset-crashkernel [--value CRASHKERNEL], save (capture kernel),\n"
    "          report-crash (at boot)\n";

using Command = Result<Outcome> (*)(Ctl&);
const std::map<std::string, Command> commands = {
    {"start", cmd_start},       {"stop", cmd_stop},         {"status", cmd_status},
    {"rebuild", cmd_rebuild},   {"showmem", cmd_showmem},   {"estimate", cmd_estimate},
    {"test", cmd_test},         {"propagate", cmd_propagate}, {"reset-crashkernel", cmd_reset_crashkernel},
    {"hook-info", cmd_hook_info}, {"save", cmd_save}, {"report-crash", cmd_report_crash},
    {"restart", [](Ctl& c) -> Result<Outcome> {
       Result<Outcome> s = cmd_stop(c);
       if (!s) return s;
       return cmd_start(c);
     }},
};

// test without --force: the person at the terminal types YES, or nothing happens.
bool ask_yes() {
  std::cout << "This panics the machine now and saves a dump. Type YES to go on: " << std::flush;
  std::string answer;
  std::getline(std::cin, answer);
  return answer == "YES";
}

Result<Outcome> run_main(const std::vector<std::string>& args, Ctl& c) {
  KK_TRY_ASSIGN(ParsedArgs parsed, parse_args(options, args));
  c.confirm = ask_yes;
  std::string root, kernel_arg, initrd_arg;
  for (const ParsedOption& o : parsed.options) {
    switch (o.spec->id) {
      case Opt::root: root = o.value; break;
      case Opt::conf: c.conf_path = o.value; break;
      case Opt::kernel: kernel_arg = o.value; break;
      case Opt::initrd: initrd_arg = o.value; break;
      case Opt::force: c.force = true; break;
      case Opt::value: c.value = o.value; break;
      case Opt::help: return Outcome{kExitOk, usage};
    }
  }
  if (parsed.positional.size() != 1) return make_error(Errc::usage, "one command expected");
  const std::string& name = parsed.positional[0];
  auto cmd = commands.find(name);
  if (cmd == commands.end()) return make_error(Errc::usage, "unknown command '" + name + "'");
  // Everything but reading status needs root; a fixture root (--root) is for tests.
  bool read_only = name == "status" || name == "showmem" || name == "estimate" || name == "hook-info";
  if (!read_only && root.empty() && geteuid() != 0)
    return Outcome{kExitNotRoot, "kdumpctl " + name + ": must be run as root"};
  c.host = Host(root);
  if (name == "hook-info" && !c.conf_path.empty() && c.conf_path.front() != '/')
    return make_error(Errc::usage, "--conf takes an absolute path");
  KK_TRY_ASSIGN(std::string text, c.host.read(c.conf_path));
  // Debian's kdump-tools settings, where that file exists, under kdump.conf's (kdump.conf(5)).
  Result<std::string> tools = c.host.read(kKdumpToolsPath);
  if (!tools && c.host.exists(kKdumpToolsPath)) return std::move(tools).error();
  Result<KdumpConf> conf = load_kdump_conf(text, c.host.path(c.conf_path),
                                           tools ? std::optional<std::string_view>(*tools) : std::nullopt);
  if (!conf) return std::move(conf).error();
  c.conf = std::move(*conf);
  // What kdumpkit does not implement (a Fedora/RHEL or kdump-tools setting): said, then ignored.
  for (const std::string& w : c.conf.warnings) std::cerr << "kdumpctl: " << w << "\n";
  struct utsname u {};
  uname(&u);
  c.kver = u.release;
  if (const char* v = getenv("KDUMP_KERNELVER"); v && *v) c.kver = v;
  const char* ek = getenv("KDUMP_KERNEL");
  const char* ei = getenv("KDUMP_INITRD");
  c.kernel = !kernel_arg.empty() ? kernel_arg : c.host.path(ek && *ek ? ek : "/boot/vmlinuz-" + c.kver);
  c.initrd = !initrd_arg.empty() ? initrd_arg
                                 : c.host.path(ei && *ei ? ei : "/var/lib/kdumpkit/initrd-" + c.kver + ".img");
  return cmd->second(c);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  Ctl c;
  Result<Outcome> r = run_main(args, c);
  // What the command said on the way, then its outcome or error.
  for (const std::string& n : c.notes) std::cout << n << "\n";
  std::cout << std::flush;
  if (!r) return report_error("kdumpctl", r.error());
  if (!r->message.empty()) (r->code == kExitOk ? std::cout : std::cerr) << r->message << "\n";
  return r->code;
}
