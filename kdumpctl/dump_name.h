// dump_name.h: the name of a dump's directory, <host>-<YYYY-MM-DD-HH:MM:SS>. The host name
// comes from the command line (kdumpkit.host=) or the capture kernel, so it is made safe as one
// path component before it is used.
#pragma once

#include <ctime>
#include <string>
#include <string_view>

namespace kk {

// Letters, digits, '.', '-' and '_' kept, anything else (a '/' above all) as '_'; a leading '.'
// or '-' as '_' (no "..", no hidden or option-like name); empty as "localhost"; at most 64 bytes.
std::string safe_host_name(std::string_view host);

// safe_host_name(host) + "-" + the UTC date and time of `now`.
std::string dump_dir_name(std::string_view host, std::time_t now);

}  // namespace kk
