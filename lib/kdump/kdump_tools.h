// kdump_tools.h: Debian's /etc/default/kdump-tools, read so that a user switching from
// kdump-tools keeps their settings (issue 17). Its variables that have a kdumpkit meaning are
// turned into kdump.conf directives and checked as those are; kdump.conf wins for anything it
// sets itself. The file is shell; we read plain NAME=value assignments (quoted or not) without
// running it, and name what we ignore.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "lib/io/result.h"
#include "lib/kdump/kdump_conf.h"

namespace kk {

inline constexpr std::string_view kKdumpToolsPath = "/etc/default/kdump-tools";

struct ShellVar {
  std::string value;
  size_t line = 0;
};

// NAME=value lines (an "export " before is allowed), values unquoted, '...' or "..." (with
// backslash escapes). A line that is not such an assignment, or a value the shell would expand ($, `),
// is a warning in *warnings ("FILE line N: ...") and left out. The last assignment wins.
std::map<std::string, ShellVar> read_shell_vars(std::string_view text, const std::string& file,
                                                std::vector<std::string>* warnings);

// kdump.conf (its text and the name used in messages) with kdump-tools' settings under it,
// finished as parse_kdump_conf does. The warnings of both, each naming its file and line.
Result<KdumpConf> load_kdump_conf(std::string_view conf_text, const std::string& conf_name,
                                  std::optional<std::string_view> kdump_tools_text);

}  // namespace kk
