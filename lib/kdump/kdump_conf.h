// kdump_conf.h: /etc/kdump.conf (kdump.conf(5)), read strictly: an unknown directive, a
// malformed value, a second dump target or a repeated single-valued directive is an error
// naming its line, because a typo found at `kdumpctl start` costs nothing and one found after
// a crash costs the dump. Directives of Fedora's and RHEL's kdump.conf that kdumpkit does not
// implement are warnings (KdumpConf::warnings), so their files load (issue 17). Pure functions
// over the file's bytes (fuzzed in issue 10).
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "lib/io/result.h"

namespace kk {

enum class DumpTarget {
  rootfs,  // no target directive: `path` on the root file system
  fs,      // "ext4 /dev/vdb", "xfs UUID=...", "ext4 LABEL=..."
  raw,     // "raw /dev/vdc": the flattened stream (-F) written to the device
  ssh,     // "ssh user@host": the flattened stream piped through ssh
  nfs,     // "nfs host:/export"
};
enum class FailureAction { reboot, halt, poweroff, shell, dump_to_rootfs };
enum class FinalAction { reboot, halt, poweroff };

inline constexpr std::string_view default_core_collector = "dumpfilter -l --message-level 7 -d 31";

struct KdumpConf {
  DumpTarget target = DumpTarget::rootfs;
  std::string fs_type;  // fs: ext2, ext3, ext4 or xfs
  std::string device;   // fs and raw: /dev/..., UUID=..., LABEL=... (raw: a /dev path)
  std::string ssh;      // user@host
  std::string nfs;      // host:/export
  std::string sshkey = "/root/.ssh/kdump_id_rsa";
  std::string path = "/var/crash";  // directory on the target
  // Defaults to default_core_collector, with -F added for raw and ssh targets.
  std::string core_collector;
  std::string kdump_pre, kdump_post;  // absolute paths; empty: none
  std::vector<std::string> extra_modules, extra_bins;
  FailureAction failure_action = FailureAction::reboot;
  FinalAction final_action = FinalAction::reboot;
  bool force_rebuild = false, force_no_rebuild = false;
  unsigned keep_dumps = 0;     // keep at most this many dumps of this host; 0: all
  std::string cmdline_append;  // for the capture kernel (kdump-tools' KDUMP_CMDLINE_APPEND)
  bool enabled = true;         // false: kdump-tools' USE_KDUMP=0, start loads nothing

  // What reading left besides the settings:
  std::vector<std::string> warnings;  // "line N: NAME: not implemented by kdumpkit; ignored"
  std::set<std::string> given;        // directives set ("target" for the dump target)
  std::string collector_where;        // "line N" of core_collector, for the -F check
};

// read_kdump_conf_lines, then finish_kdump_conf.
Result<KdumpConf> parse_kdump_conf(std::string_view text);
// The directive lines only: no defaults filled in, no whole-file checks.
Result<KdumpConf> read_kdump_conf_lines(std::string_view text);
// One directive line from elsewhere (/etc/default/kdump-tools), checked as kdump.conf's own;
// `where` ("FILE line N") starts its error messages.
Result<void> apply_kdump_directive(KdumpConf& conf, std::string_view line, const std::string& where);
// The default core_collector (with -F for raw and ssh) and the checks across lines.
Result<void> finish_kdump_conf(KdumpConf& conf);

std::string_view to_string(FailureAction a);
std::string_view to_string(FinalAction a);
std::string_view to_string(DumpTarget t);

// The core_collector's words ("dumpfilter", "-l", ...), split on blanks.
std::vector<std::string> collector_words(const KdumpConf& conf);
// The words to run where `has_makedumpfile` says whether makedumpfile is installed: a peer's
// "core_collector makedumpfile ..." runs dumpfilter with the same options when it is not, since
// dumpfilter takes makedumpfile's options and the package only suggests makedumpfile.
std::vector<std::string> collector_words(const KdumpConf& conf, bool has_makedumpfile);

// Files the collector reads besides the vmcore: the debug vmlinux (-x) and the erase config
// (--config), in every spelling dumpfilter accepts. The capture initramfs must carry them, and
// libdw with them.
std::vector<std::string> collector_input_files(const KdumpConf& conf);

}  // namespace kk
