// argparse.h: getopt_long-compatible parsing driven by a table, shared by kexec and dumpfilter.
// Accepts "-x", clusters "-cd31", "-d 31", "--name=value", "--name value", and "--". Produces
// the options in order; each tool applies them to its own settings.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lib/io/result.h"

namespace kk {

struct OptionSpec {
  char short_name;             // 0: long only
  std::string_view long_name;  // "": short only
  bool takes_value;
  int id;
};

struct ParsedOption {
  const OptionSpec* spec;
  std::string value;
  std::string spelled;  // as the user wrote the name: "-d", "--initrd"
};

struct ParsedArgs {
  std::vector<ParsedOption> options;
  std::vector<std::string> positional;
};

// Unknown options and missing values are Errc::usage errors naming the option.
Result<ParsedArgs> parse_args(std::span<const OptionSpec> table, const std::vector<std::string>& args);

}  // namespace kk
