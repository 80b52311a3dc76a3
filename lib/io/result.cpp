#include "lib/io/result.h"

#include <cstring>

namespace kk {

Error make_error(Errc code, std::string msg) { return Error{code, 0, std::move(msg)}; }

Error sys_error(std::string_view what, int err) {
  Errc code = (err == ENOSPC || err == EDQUOT) ? Errc::no_space : Errc::io;
  return Error{code, err, std::string(what) + ": " + std::strerror(err)};
}

}  // namespace kk
