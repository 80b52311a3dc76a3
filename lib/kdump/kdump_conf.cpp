// kdump_conf.cpp: the strict kdump.conf reader (see kdump_conf.h and man/kdump.conf.5).
#include "lib/kdump/kdump_conf.h"

#include <algorithm>
#include <array>
#include <optional>

#include "lib/io/lines.h"

namespace kk {

namespace {

std::vector<std::string> words_of(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    size_t j = i;
    while (j < s.size() && s[j] != ' ' && s[j] != '\t') ++j;
    if (j > i) out.emplace_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

bool is_abs_path(std::string_view p) { return p.size() > 1 && p.front() == '/'; }

// An absolute path without "." or ".." components: the dump directory must stay where named.
bool is_plain_abs_path(std::string_view p) {
  if (!is_abs_path(p)) return false;
  for (size_t i = 0; i < p.size();) {
    size_t j = std::min(p.find('/', i + 1), p.size());
    std::string_view c = p.substr(i + 1, j - i - 1);
    if (c == "." || c == "..") return false;
    i = j;
  }
  return true;
}

bool all_of_set(std::string_view s, std::string_view extra) {
  return std::all_of(s.begin(), s.end(), [&](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || extra.find(c) != std::string_view::npos;
  });
}

// Host names and addresses reach ssh's and mount's argv: letters, digits, '.', '-' and '_'
// (never first: it would read as an option), or an IPv6 address in brackets.
bool is_host(std::string_view h) {
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') return all_of_set(h.substr(1, h.size() - 2), ":.");
  return !h.empty() && h.front() != '-' && h.front() != '.' && all_of_set(h, ".-_");
}

// user@host, the user a plain login name.
bool is_ssh_target(std::string_view v) {
  size_t at = v.find('@');
  if (at == std::string_view::npos) return false;
  std::string_view user = v.substr(0, at);
  return !user.empty() && user.front() != '-' && all_of_set(user, "._-") && is_host(v.substr(at + 1));
}

// host:/export; the host may be a bracketed IPv6 address, the export a path without blanks or
// commas (mount reads commas as option separators elsewhere; an export has no need of them).
bool is_nfs_target(std::string_view v) {
  size_t colon = v.starts_with("[") ? v.find("]:") : v.find(':');
  if (colon == std::string_view::npos) return false;
  if (v.starts_with("[")) ++colon;
  std::string_view exp = v.substr(colon + 1);
  return is_host(v.substr(0, colon)) && exp.size() > 1 && exp.front() == '/' && exp.find(',') == std::string_view::npos;
}

// "/dev/...", "UUID=<hex and dashes>", "LABEL=<anything>"
std::optional<std::string> check_device(std::string_view d) {
  if (d.starts_with("/dev/") && d.size() > 5) return std::nullopt;
  if (d.starts_with("UUID=")) {
    std::string_view u = d.substr(5);
    if (!u.empty() && std::all_of(u.begin(), u.end(), [](char c) {
          return std::isxdigit(static_cast<unsigned char>(c)) != 0 || c == '-';
        }))
      return std::nullopt;
    return "'" + std::string(d) + "' is not a UUID";
  }
  if (d.starts_with("LABEL=") && d.size() > 6) return std::nullopt;
  return "'" + std::string(d) + "' is not a device (/dev/..., UUID=... or LABEL=...)";
}

template <class E, size_t N>
std::optional<E> pick(std::string_view v, const std::array<std::pair<std::string_view, E>, N>& table) {
  for (const auto& [name, e] : table)
    if (name == v) return e;
  return std::nullopt;
}

constexpr std::array<std::pair<std::string_view, FailureAction>, 5> failure_actions{{
    {"reboot", FailureAction::reboot}, {"halt", FailureAction::halt},
    {"poweroff", FailureAction::poweroff}, {"shell", FailureAction::shell},
    {"dump_to_rootfs", FailureAction::dump_to_rootfs}}};
constexpr std::array<std::pair<std::string_view, FinalAction>, 3> final_actions{{
    {"reboot", FinalAction::reboot}, {"halt", FinalAction::halt}, {"poweroff", FinalAction::poweroff}}};

using Words = std::vector<std::string>;  // the directive's arguments, its name not included
using Problem = std::optional<std::string>;

std::string quoted(const Words& a) {
  std::string v;
  for (const std::string& w : a) v += (v.empty() ? "" : " ") + w;
  return "'" + v + "'";
}
Problem unless(bool ok, std::string what) { return ok ? std::nullopt : Problem(std::move(what)); }
Problem one_abs_path(std::string_view key, const Words& a) {
  return unless(a.size() == 1 && is_abs_path(a[0]), std::string(key) + " must be one absolute path");
}

// One row per directive: its name, whether it takes exactly one word, the slot that may be
// set once (empty: repeatable), the check (nullopt: fine) and what it sets.
struct Directive {
  std::string_view name;
  bool one_word;
  std::string_view slot;
  Problem (*check)(std::string_view key, const Words& a);
  void (*apply)(KdumpConf& c, std::string_view key, const Words& a, const std::string& value);
};

void set_fs(KdumpConf& c, std::string_view key, const Words& a, const std::string&) {
  c.target = DumpTarget::fs;
  c.fs_type = key;
  c.device = a[0];
}
Problem check_fs(std::string_view key, const Words& a) {
  if (a.size() != 1) return std::string(key) + " takes one device, not " + quoted(a);
  return check_device(a[0]);
}
Problem check_failure(std::string_view key, const Words& a) {
  return unless(a.size() == 1 && pick(a[0], failure_actions),
                std::string(key) + " must be reboot, halt, poweroff, shell or dump_to_rootfs, not " + quoted(a));
}
void set_failure(KdumpConf& c, std::string_view, const Words& a, const std::string&) {
  c.failure_action = *pick(a[0], failure_actions);
}
Problem check_bool(std::string_view key, const Words& a) {
  return unless(a.size() == 1 && (a[0] == "0" || a[0] == "1"), std::string(key) + " must be 0 or 1, not " + quoted(a));
}
Problem check_count(std::string_view key, const Words& a) {
  return unless(a.size() == 1 && !a[0].empty() && a[0].size() <= 6 &&
                    std::all_of(a[0].begin(), a[0].end(), [](char ch) { return ch >= '0' && ch <= '9'; }),
                std::string(key) + " must be a number of dumps (0: keep all), not " + quoted(a));
}

constexpr Directive directives[] = {
    {"path", true, "path",
     [](std::string_view, const Words& a) {
       return unless(a.size() == 1 && is_plain_abs_path(a[0]), "path must be one absolute path without . or .., not " + quoted(a));
     },
     [](KdumpConf& c, std::string_view, const Words& a, const std::string&) { c.path = a[0]; }},
    {"ext2", true, "target", check_fs, set_fs},
    {"ext3", true, "target", check_fs, set_fs},
    {"ext4", true, "target", check_fs, set_fs},
    {"xfs", true, "target", check_fs, set_fs},
    {"raw", true, "target",
     [](std::string_view, const Words& a) {
       return unless(a.size() == 1 && a[0].starts_with("/dev/") && a[0].size() > 5, "raw takes one /dev/ device, not " + quoted(a));
     },
     [](KdumpConf& c, std::string_view, const Words& a, const std::string&) { c.target = DumpTarget::raw, c.device = a[0]; }},
    {"ssh", true, "target",
     [](std::string_view, const Words& a) { return unless(a.size() == 1 && is_ssh_target(a[0]), "ssh takes user@host, not " + quoted(a)); },
     [](KdumpConf& c, std::string_view, const Words& a, const std::string&) { c.target = DumpTarget::ssh, c.ssh = a[0]; }},
    {"nfs", true, "target",
     [](std::string_view, const Words& a) { return unless(a.size() == 1 && is_nfs_target(a[0]), "nfs takes host:/export, not " + quoted(a)); },
     [](KdumpConf& c, std::string_view, const Words& a, const std::string&) { c.target = DumpTarget::nfs, c.nfs = a[0]; }},
    {"sshkey", true, "sshkey", one_abs_path,
     [](KdumpConf& c, std::string_view, const Words& a, const std::string&) { c.sshkey = a[0]; }},
    {"core_collector", false, "core_collector",
     [](std::string_view, const Words& a) {
       return unless(a[0] == "dumpfilter" || a[0] == "makedumpfile",
                     "core_collector must run dumpfilter or makedumpfile, not '" + a[0] + "'");
     },
     [](KdumpConf& c, std::string_view, const Words&, const std::string& v) { c.core_collector = v; }},
    {"kdump_pre", true, "kdump_pre", one_abs_path,
     [](KdumpConf& c, std::string_view, const Words& a, const std::string&) { c.kdump_pre = a[0]; }},
    {"kdump_post", true, "kdump_post", one_abs_path,
     [](KdumpConf& c, std::string_view, const Words& a, const std::string&) { c.kdump_post = a[0]; }},
    {"extra_modules", false, "",
     [](std::string_view, const Words& a) {
       for (const std::string& m : a)
         if (m.find('/') != std::string::npos) return Problem("extra_modules takes module names, not '" + m + "'");
       return Problem();
     },
     [](KdumpConf& c, std::string_view, const Words& a, const std::string&) { c.extra_modules.insert(c.extra_modules.end(), a.begin(), a.end()); }},
    {"extra_bins", false, "",
     [](std::string_view, const Words& a) {
       for (const std::string& b : a)
         if (!is_abs_path(b)) return Problem("extra_bins takes absolute paths, not '" + b + "'");
       return Problem();
     },
     [](KdumpConf& c, std::string_view, const Words& a, const std::string&) { c.extra_bins.insert(c.extra_bins.end(), a.begin(), a.end()); }},
    {"failure_action", true, "failure_action", check_failure, set_failure},
    {"default", true, "failure_action", check_failure, set_failure},  // RHEL's older name
    {"final_action", true, "final_action",
     [](std::string_view, const Words& a) {
       return unless(a.size() == 1 && pick(a[0], final_actions), "final_action must be reboot, halt or poweroff, not " + quoted(a));
     },
     [](KdumpConf& c, std::string_view, const Words& a, const std::string&) { c.final_action = *pick(a[0], final_actions); }},
    {"force_rebuild", true, "force_rebuild", check_bool,
     [](KdumpConf& c, std::string_view, const Words& a, const std::string&) { c.force_rebuild = a[0] == "1"; }},
    {"force_no_rebuild", true, "force_no_rebuild", check_bool,
     [](KdumpConf& c, std::string_view, const Words& a, const std::string&) { c.force_no_rebuild = a[0] == "1"; }},
    {"keep_dumps", true, "keep_dumps", check_count,
     [](KdumpConf& c, std::string_view, const Words& a, const std::string&) { c.keep_dumps = static_cast<unsigned>(std::stoul(a[0])); }},
};

// Fedora's and RHEL's directives that kdumpkit does not implement: warned about, ignored.
constexpr std::array<std::string_view, 11> foreign{
    "auto_reset_crashkernel", "dracut_args", "fence_kdump_args", "fence_kdump_nodes", "kdump_emergency",
    "override_resettable", "link_delay", "disk_timeout", "debug_mem_level", "blacklist", "options"};

bool collector_has_flatten(const std::vector<std::string>& w) {
  return std::any_of(w.begin() + 1, w.end(), [](const std::string& a) {
    return a == "-F" || (a.size() > 1 && a[0] == '-' && a[1] != '-' && a.find('F') != std::string::npos);
  });
}

}  // namespace

std::string_view to_string(FailureAction a) {
  for (const auto& [n, e] : failure_actions)
    if (e == a) return n;
  return "?";
}
std::string_view to_string(FinalAction a) {
  for (const auto& [n, e] : final_actions)
    if (e == a) return n;
  return "?";
}
std::string_view to_string(DumpTarget t) {
  switch (t) {
    case DumpTarget::rootfs: return "rootfs";
    case DumpTarget::fs: return "fs";
    case DumpTarget::raw: return "raw";
    case DumpTarget::ssh: return "ssh";
    case DumpTarget::nfs: return "nfs";
  }
  return "?";
}

std::vector<std::string> collector_words(const KdumpConf& conf) { return words_of(conf.core_collector); }

std::vector<std::string> collector_words(const KdumpConf& conf, bool has_makedumpfile) {
  std::vector<std::string> w = collector_words(conf);
  if (!has_makedumpfile && !w.empty() && w[0] == "makedumpfile") w[0] = "dumpfilter";
  return w;
}

std::vector<std::string> collector_input_files(const KdumpConf& conf) {
  std::vector<std::string> w = collector_words(conf), files;
  for (size_t i = 1; i < w.size(); ++i) {
    if (w[i] == "--") break;
    if ((w[i] == "-x" || w[i] == "--config") && i + 1 < w.size()) files.push_back(w[++i]);
    else if (w[i].starts_with("--config=")) files.push_back(w[i].substr(9));
    else if (w[i].starts_with("-x") && w[i].size() > 2) files.push_back(w[i].substr(2));
  }
  return files;
}

namespace {

// One line (comment and blanks taken off by the caller): checked against its row and applied.
Result<void> apply_words(KdumpConf& conf, const Words& w, std::string value, const std::string& where) {
  auto fail = [&](const std::string& what) { return make_error(Errc::corrupt, where + ": " + what); };
  const std::string& key = w[0];
  const Directive* d = nullptr;
  for (const Directive& row : directives)
    if (row.name == key) d = &row;
  if (!d) {
    if (std::find(foreign.begin(), foreign.end(), key) == foreign.end()) return fail("unknown directive '" + key + "'");
    // Once per directive: dracut_args on several lines is one thing kdumpkit does not do.
    if (conf.given.insert(key).second) conf.warnings.push_back(where + ": " + key + ": not implemented by kdumpkit; ignored");
    return {};
  }
  if (!d->slot.empty() && !conf.given.insert(std::string(d->slot)).second)
    return fail(d->slot == "target" ? "a second dump target ('" + key + "'); kdump.conf takes one"
                                    : "'" + std::string(d->slot) + "' given twice");
  if (value.empty()) return fail("'" + key + "' needs a value");
  Words args(w.begin() + 1, w.end());
  if (Problem p = d->check(key, args)) return fail(*p);
  if (d->one_word && args.size() != 1) return fail("'" + key + "' takes one value");
  d->apply(conf, key, args, value);
  if (key == "core_collector") conf.collector_where = where;
  return {};
}

Result<void> apply_line(KdumpConf& conf, std::string_view raw_line, const std::string& where) {
  std::string_view line = raw_line.substr(0, raw_line.find('#'));
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  for (char c : line)
    if (static_cast<unsigned char>(c) < 0x20 && c != '\t') return make_error(Errc::corrupt, where + ": control character in line");
  Words w = words_of(line);
  if (w.empty()) return {};
  // The value is the rest of the line, blanks around it trimmed.
  std::string value = std::string(line.substr(line.find(w[0]) + w[0].size()));
  value.erase(0, value.find_first_not_of(" \t"));
  value.erase(value.find_last_not_of(" \t") + 1);
  return apply_words(conf, w, std::move(value), where);
}

}  // namespace

Result<KdumpConf> read_kdump_conf_lines(std::string_view text) {
  KdumpConf conf;
  Lines lines(text);
  std::string_view raw_line;
  while (lines.next(&raw_line)) KK_TRY(apply_line(conf, raw_line, "line " + std::to_string(lines.number())));
  return conf;
}

Result<void> apply_kdump_directive(KdumpConf& conf, std::string_view line, const std::string& where) {
  return apply_line(conf, line, where);
}

Result<void> finish_kdump_conf(KdumpConf& conf) {
  if (conf.force_rebuild && conf.force_no_rebuild)
    return make_error(Errc::corrupt, "force_rebuild 1 and force_no_rebuild 1 contradict each other");
  bool flattened = conf.target == DumpTarget::raw || conf.target == DumpTarget::ssh;
  if (conf.core_collector.empty()) {
    conf.core_collector = std::string(default_core_collector) + (flattened ? " -F" : "");
  } else if (flattened && !collector_has_flatten(words_of(conf.core_collector))) {
    return make_error(Errc::corrupt, conf.collector_where + ": a " + std::string(to_string(conf.target)) +
                                         " target needs a core_collector with -F (flattened output)");
  }
  if (conf.failure_action == FailureAction::dump_to_rootfs && conf.target == DumpTarget::rootfs)
    return make_error(Errc::corrupt, "failure_action dump_to_rootfs needs a dump target other than the root file system");
  return {};
}

Result<KdumpConf> parse_kdump_conf(std::string_view text) {
  Result<KdumpConf> conf = read_kdump_conf_lines(text);
  if (!conf) return conf;
  KK_TRY(finish_kdump_conf(*conf));
  return conf;
}

}  // namespace kk
