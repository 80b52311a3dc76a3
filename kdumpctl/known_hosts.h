// known_hosts.h: the ssh target's host key. It is recorded in the first kernel (kdumpctl
// propagate and start), travels in the capture image, and the capture kernel connects with
// strict checking against it alone: an address from DHCP is no proof of who answers, and what
// is sent is the machine's memory (issue 18).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "lib/io/result.h"
#include "lib/kdump/kdump_conf.h"
#include "kdumpctl/host.h"

namespace kk {

// kdumpkit's own known_hosts file, beside the ssh key (sshkey + ".known_hosts"): recorded with
// the key's setup, listed by hook-info for the image with it.
std::string known_hosts_path(const KdumpConf& conf);

// The host of "user@host" as ssh and known_hosts name it (brackets of an IPv6 address removed).
std::string ssh_host(std::string_view user_at_host);

// Whether known_hosts text has a key line for `host` (plain host names; comma-separated lists).
bool known_hosts_has(std::string_view text, std::string_view host);

// Records the ssh target's host key with ssh-keyscan unless one is recorded already (a changed
// key is never replaced here: that is for the administrator to look into). Returns a message
// when it recorded one, "" when one was there.
Result<std::string> record_host_key(const Host& h, const KdumpConf& conf);

// ssh options for strict host-key checking against known_hosts_path() alone.
std::vector<std::string> host_key_options(const Host& h, const KdumpConf& conf);
// The ssh options of the capture kernel's connections: its key, no prompts, host_key_options().
std::vector<std::string> ssh_options(const Host& h, const KdumpConf& conf);

}  // namespace kk
