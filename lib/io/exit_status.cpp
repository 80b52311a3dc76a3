#include "lib/io/exit_status.h"

#include <cstdio>
#include <string>

#include "lib/io/escape.h"

namespace kk {

int exit_status(Errc code) {
  switch (code) {
    case Errc::usage: return kExitBadUsage;
    case Errc::io:
    case Errc::truncated:
    case Errc::corrupt:
    case Errc::unsupported:
    case Errc::missing:
    case Errc::exists:
    case Errc::no_space:
    case Errc::stopped:
    case Errc::internal: return kExitFailure;
  }
  return kExitFailure;
}

int report_error(std::string_view program, const Error& e) {
  std::string p(program);
  std::string see = e.code == Errc::usage ? " (see " + p + " --help)" : "";
  std::fprintf(stderr, "%s: %s%s\n", p.c_str(), escape_for_terminal(e.msg).c_str(), see.c_str());
  return exit_status(e.code);
}

}  // namespace kk
