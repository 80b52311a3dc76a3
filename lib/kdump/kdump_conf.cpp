// kdump_conf.cpp: the strict kdump.conf reader (see kdump_conf.h and man/kdump.conf.5).
#include "kdump/kdump_conf.h"

#include <algorithm>
#include <array>
#include <optional>
#include <set>

#include "io/lines.h"

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
constexpr std::array<std::string_view, 4> fs_types{"ext2", "ext3", "ext4", "xfs"};
// Directives that may appear once; extra_modules and extra_bins accumulate.
constexpr std::array<std::string_view, 10> single{"path", "sshkey", "core_collector", "kdump_pre",
                                                   "kdump_post", "failure_action", "final_action",
                                                   "force_rebuild", "force_no_rebuild", "target"};

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

Result<KdumpConf> parse_kdump_conf(std::string_view text) {
  KdumpConf conf;
  std::set<std::string> seen;
  size_t collector_line = 0;
  Lines lines(text);
  std::string_view raw_line;
  while (lines.next(&raw_line)) {
    auto fail = [&](const std::string& what) {
      return make_error(Errc::corrupt, "line " + std::to_string(lines.number()) + ": " + what);
    };
    std::string_view line = raw_line.substr(0, raw_line.find('#'));
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    for (char c : line)
      if (static_cast<unsigned char>(c) < 0x20 && c != '\t') return fail("control character in line");
    std::vector<std::string> w = words_of(line);
    if (w.empty()) continue;
    const std::string& key = w[0];
    // The value is the rest of the line, blanks around it trimmed.
    std::string value = std::string(line.substr(line.find(key) + key.size()));
    value.erase(0, value.find_first_not_of(" \t"));
    value.erase(value.find_last_not_of(" \t") + 1);
    bool is_target = key == "raw" || key == "ssh" || key == "nfs" ||
                     std::find(fs_types.begin(), fs_types.end(), key) != fs_types.end();
    std::string slot = is_target ? "target" : key;
    if (std::find(single.begin(), single.end(), slot) != single.end() && !seen.insert(slot).second)
      return fail(is_target ? "a second dump target ('" + key + "'); kdump.conf takes one"
                            : "'" + key + "' given twice");
    if (value.empty()) return fail("'" + key + "' needs a value");
    bool one_word = w.size() == 2;
    if (key == "path") {
      if (!one_word || !is_plain_abs_path(value))
        return fail("path must be one absolute path without . or .., not '" + value + "'");
      conf.path = value;
    } else if (std::find(fs_types.begin(), fs_types.end(), key) != fs_types.end()) {
      if (!one_word) return fail(key + " takes one device");
      if (std::optional<std::string> e = check_device(value)) return fail(*e);
      conf.target = DumpTarget::fs;
      conf.fs_type = key;
      conf.device = value;
    } else if (key == "raw") {
      if (!one_word || !value.starts_with("/dev/") || value.size() <= 5)
        return fail("raw takes one /dev/ device, not '" + value + "'");
      conf.target = DumpTarget::raw;
      conf.device = value;
    } else if (key == "ssh") {
      if (!one_word || !is_ssh_target(value)) return fail("ssh takes user@host, not '" + value + "'");
      conf.target = DumpTarget::ssh;
      conf.ssh = value;
    } else if (key == "nfs") {
      if (!one_word || !is_nfs_target(value)) return fail("nfs takes host:/export, not '" + value + "'");
      conf.target = DumpTarget::nfs;
      conf.nfs = value;
    } else if (key == "sshkey") {
      if (!one_word || !is_abs_path(value)) return fail("sshkey must be one absolute path");
      conf.sshkey = value;
    } else if (key == "core_collector") {
      if (w[1] != "dumpfilter" && w[1] != "makedumpfile")
        return fail("core_collector must run dumpfilter or makedumpfile, not '" + w[1] + "'");
      conf.core_collector = value;
      collector_line = lines.number();
    } else if (key == "kdump_pre" || key == "kdump_post") {
      if (!one_word || !is_abs_path(value)) return fail(key + " must be one absolute path");
      (key == "kdump_pre" ? conf.kdump_pre : conf.kdump_post) = value;
    } else if (key == "extra_modules" || key == "extra_bins") {
      for (size_t i = 1; i < w.size(); ++i) {
        if (key == "extra_bins" && !is_abs_path(w[i])) return fail("extra_bins takes absolute paths, not '" + w[i] + "'");
        if (key == "extra_modules" && w[i].find('/') != std::string::npos)
          return fail("extra_modules takes module names, not '" + w[i] + "'");
        (key == "extra_modules" ? conf.extra_modules : conf.extra_bins).push_back(w[i]);
      }
    } else if (key == "failure_action") {
      std::optional<FailureAction> a = one_word ? pick(value, failure_actions) : std::nullopt;
      if (!a) return fail("failure_action must be reboot, halt, poweroff, shell or dump_to_rootfs, not '" + value + "'");
      conf.failure_action = *a;
    } else if (key == "final_action") {
      std::optional<FinalAction> a = one_word ? pick(value, final_actions) : std::nullopt;
      if (!a) return fail("final_action must be reboot, halt or poweroff, not '" + value + "'");
      conf.final_action = *a;
    } else if (key == "force_rebuild" || key == "force_no_rebuild") {
      if (value != "0" && value != "1") return fail(key + " must be 0 or 1, not '" + value + "'");
      (key == "force_rebuild" ? conf.force_rebuild : conf.force_no_rebuild) = value == "1";
    } else {
      return fail("unknown directive '" + key + "'");
    }
  }
  // Whole-file checks, after every line has been read.
  if (conf.force_rebuild && conf.force_no_rebuild)
    return make_error(Errc::corrupt, "force_rebuild 1 and force_no_rebuild 1 contradict each other");
  bool flattened = conf.target == DumpTarget::raw || conf.target == DumpTarget::ssh;
  if (conf.core_collector.empty()) {
    conf.core_collector = std::string(default_core_collector) + (flattened ? " -F" : "");
  } else if (flattened && !collector_has_flatten(words_of(conf.core_collector))) {
    return make_error(Errc::corrupt, "line " + std::to_string(collector_line) + ": a " +
                                         std::string(to_string(conf.target)) +
                                         " target needs a core_collector with -F (flattened output)");
  }
  if (conf.failure_action == FailureAction::dump_to_rootfs && conf.target == DumpTarget::rootfs)
    return make_error(Errc::corrupt, "failure_action dump_to_rootfs needs a dump target other than the root file system");
  return conf;
}

}  // namespace kk
