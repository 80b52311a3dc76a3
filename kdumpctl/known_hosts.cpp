// known_hosts.cpp: see known_hosts.h.
#include "kdumpctl/known_hosts.h"

#include "lib/io/text_file.h"
#include "kdumpctl/dirs.h"

namespace kk {

std::string known_hosts_path(const KdumpConf& conf) { return conf.sshkey + ".known_hosts"; }

std::string ssh_host(std::string_view user_at_host) {
  std::string_view h = user_at_host.substr(user_at_host.find('@') + 1);
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  return std::string(h);
}

bool known_hosts_has(std::string_view text, std::string_view host) {
  while (!text.empty()) {
    std::string_view line = text.substr(0, text.find('\n'));
    text.remove_prefix(std::min(line.size() + 1, text.size()));
    if (line.empty() || line.front() == '#') continue;
    std::string_view names = line.substr(0, line.find_first_of(" \t"));
    while (!names.empty()) {
      std::string_view n = names.substr(0, names.find(','));
      if (n == host && names.size() < line.size()) return true;
      names.remove_prefix(std::min(n.size() + 1, names.size()));
    }
  }
  return false;
}

Result<std::string> record_host_key(const Host& h, const KdumpConf& conf) {
  std::string file = h.path(known_hosts_path(conf)), host = ssh_host(conf.ssh);
  Result<std::string> old = std::string();
  if (h.exists(known_hosts_path(conf))) old = read_text_file(file, 1 << 20);
  if (!old) return std::move(old).error();
  if (known_hosts_has(*old, host)) return std::string();
  Result<std::string> keys = run_output({"ssh-keyscan", "-T", "10", "--", host});
  if (!keys) return std::move(keys).error().context("recording the host key of " + host);
  if (!known_hosts_has(*keys, host))
    return make_error(Errc::missing, "ssh-keyscan " + host + ": no host key received (is the target up?)");
  KK_TRY(make_dirs(file.substr(0, file.rfind('/')), 0700));
  KK_TRY(write_file_atomic(file, *old + *keys));
  return "recorded the host key of " + host + " in " + file;
}

std::vector<std::string> host_key_options(const Host& h, const KdumpConf& conf) {
  return {"-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=" + h.path(known_hosts_path(conf)), "-o",
          "GlobalKnownHostsFile=/dev/null"};
}

std::vector<std::string> ssh_options(const Host& h, const KdumpConf& conf) {
  std::vector<std::string> o = {"-i", h.path(conf.sshkey), "-o", "BatchMode=yes"};
  for (std::string& x : host_key_options(h, conf)) o.push_back(std::move(x));
  return o;
}

}  // namespace kk
