#include "kexec/capabilities.h"

#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>

#include "lib/io/text_file.h"

namespace kk {

namespace {

// capget(2) with the 64-bit (version 3) layout: two 32-bit words per set. No glibc wrapper.
Result<u64> capget_effective() {
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (::syscall(SYS_capget, &hdr, data) != 0)
    return sys_error("capget");
  return u64(data[0].effective) | u64(data[1].effective) << 32;
}

}  // namespace

Result<u64> parse_cap_eff(std::string_view status) {
  constexpr std::string_view key = "CapEff:";
  size_t at = status.starts_with(key) ? 0 : status.find("\n" + std::string(key));
  if (at == std::string_view::npos) return make_error(Errc::missing, "no CapEff line");
  if (at != 0) ++at;  // past the '\n'
  std::string_view rest = status.substr(at + key.size());
  rest = rest.substr(0, rest.find('\n'));
  while (!rest.empty() && (rest.front() == '\t' || rest.front() == ' ')) rest.remove_prefix(1);
  u64 v = 0;
  auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), v, 16);
  if (rest.empty() || ec != std::errc() || end != rest.data() + rest.size()) {
    std::string msg = "CapEff \"";
    msg.append(rest).append("\" is not a 64-bit hex mask");
    return make_error(Errc::corrupt, std::move(msg));
  }
  return v;
}

bool needs_cap_sys_boot(KexecAction a) {
  switch (a) {
    case KexecAction::load: case KexecAction::load_panic: case KexecAction::exec:
    case KexecAction::unload:
      return true;
    case KexecAction::status: case KexecAction::print_ckr_size: case KexecAction::help:
    case KexecAction::version:
      return false;
  }
  return true;
}

Result<bool> may_boot(const SysPaths& p) {
  const std::string path = p.at(p.self_status);
  Result<std::string> text = read_text_file(path, 64 << 10);
  if (!text && p.root.empty() && text.error().sys_errno == ENOENT) {
    KK_TRY_ASSIGN(u64 eff, capget_effective());
    return has_cap_sys_boot(eff);
  }
  if (!text) return std::move(text).error();
  Result<u64> eff = parse_cap_eff(*text);
  if (!eff) return std::move(eff).error().context(path);
  return has_cap_sys_boot(*eff);
}

}  // namespace kk
