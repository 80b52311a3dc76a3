// kdumpctl.h: what kdumpctl's commands share: the parsed kdump.conf, the kernel and initramfs
// it loads, and the Host they run against.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "lib/io/result.h"
#include "lib/kdump/kdump_conf.h"
#include "kdumpctl/host.h"

namespace kk {

// Exit statuses a script can rely on (kdumpctl(8)).
enum ExitCode : int {
  kExitOk = 0,
  kExitError = 1,         // anything else that failed (the message says what)
  kExitUsage = 2,
  kExitNotLoaded = 3,     // status: no capture kernel loaded (LSB "not running")
  kExitNoReservation = 4, // no crashkernel= memory reserved
  kExitNotRoot = 5,
  kExitDeclined = 6,      // test: not confirmed
};

struct Ctl {
  Host host{""};
  std::string conf_path = "/etc/kdump.conf";  // under the root prefix
  KdumpConf conf;
  std::string kver;    // kernel release the capture kernel and initramfs are for
  std::string kernel;  // under the root prefix
  std::string initrd;  // under the root prefix
  bool force = false;  // test --force
  std::string value;   // reset-crashkernel --value
  // What a command says on the way (a low-space warning, the image rebuilt, a key made): main
  // prints them, in order, before the outcome or the error. Commands print nothing themselves.
  std::vector<std::string> notes;
  // test without --force: asks the person at the terminal (main sets it); unset, not confirmed.
  std::function<bool()> confirm;
};

// A command's result: an exit status and a message for stdout (errors travel as Error).
struct Outcome {
  int code = kExitOk;
  std::string message;
};

Result<Outcome> cmd_start(Ctl& c);
Result<Outcome> cmd_stop(Ctl& c);
Result<Outcome> cmd_status(Ctl& c);
// At boot (kdump.service): one line per capture record not yet reported (crash_record.h).
Result<Outcome> cmd_report_crash(Ctl& c);
Result<Outcome> cmd_rebuild(Ctl& c);
Result<Outcome> cmd_showmem(Ctl& c);
Result<Outcome> cmd_estimate(Ctl& c);
Result<Outcome> cmd_test(Ctl& c);
Result<Outcome> cmd_propagate(Ctl& c);
Result<Outcome> cmd_reset_crashkernel(Ctl& c);
// Internal, for the initramfs hooks: "module NAME" / "bin PATH" / "file PATH" lines.
Result<Outcome> cmd_hook_info(Ctl& c);
// The capture side (capture.cpp): save /proc/vmcore to the target, then the actions.
Result<Outcome> cmd_save(Ctl& c);

// Where kdumpctl's data files live (hooks, dracut module): $KDUMPKIT_DATADIR or the build's.
std::string data_dir();

}  // namespace kk
