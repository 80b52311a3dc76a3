// kdump_tools.cpp: /etc/default/kdump-tools under kdump.conf (see kdump_tools.h, kdump.conf(5)).
#include "lib/kdump/kdump_tools.h"

#include <array>
#include <utility>

#include "lib/io/lines.h"

namespace kk {

namespace {

bool is_name(std::string_view n) {
  if (n.empty() || (n[0] >= '0' && n[0] <= '9')) return false;
  for (char c : n)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

// The shell word at the start of s (quotes joined, escapes undone), and the rest of the line
// after it; nullopt when the word has an expansion or an open quote.
std::optional<std::pair<std::string, std::string_view>> shell_word(std::string_view s) {
  std::string out;
  size_t i = 0;
  while (i < s.size() && s[i] != ' ' && s[i] != '\t') {
    char c = s[i];
    if (c == '$' || c == '`') return std::nullopt;
    if (c == '\'') {
      size_t end = s.find('\'', i + 1);
      if (end == std::string_view::npos) return std::nullopt;
      out += s.substr(i + 1, end - i - 1);
      i = end + 1;
    } else if (c == '"') {
      for (++i; i < s.size() && s[i] != '"'; ++i) {
        if (s[i] == '$' || s[i] == '`') return std::nullopt;
        if (s[i] == '\\' && i + 1 < s.size() && std::string_view("\"\\$`").find(s[i + 1]) != std::string_view::npos) ++i;
        out += s[i];
      }
      if (i >= s.size()) return std::nullopt;
      ++i;
    } else if (c == '\\' && i + 1 < s.size()) {
      out += s[i + 1];
      i += 2;
    } else {
      out += c;
      ++i;
    }
  }
  return std::pair{out, s.substr(i)};
}

std::string_view blank_trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::map<std::string, ShellVar> read_shell_vars(std::string_view text, const std::string& file,
                                                std::vector<std::string>* warnings) {
  std::map<std::string, ShellVar> vars;
  Lines lines(text);
  std::string_view line;
  while (lines.next(&line)) {
    std::string where = file + " line " + std::to_string(lines.number());
    std::string_view l = blank_trim(line);
    if (l.empty() || l.front() == '#') continue;
    if (l.starts_with("export ")) l = blank_trim(l.substr(7));
    size_t eq = l.find('=');
    std::optional<std::pair<std::string, std::string_view>> w;
    if (eq != std::string_view::npos && is_name(l.substr(0, eq))) w = shell_word(l.substr(eq + 1));
    std::string_view rest = w ? blank_trim(w->second) : std::string_view();
    if (!w || !(rest.empty() || rest.front() == '#')) {
      warnings->push_back(where + ": not a plain NAME=value assignment kdumpkit can read; ignored");
      continue;
    }
    vars[std::string(l.substr(0, eq))] = ShellVar{w->first, lines.number()};
  }
  return vars;
}

namespace {

// kdump-tools variable -> kdump.conf directive (the value after it).
constexpr std::array<std::pair<std::string_view, std::string_view>, 5> as_directive{{
    {"KDUMP_COREDIR", "path"}, {"SSH", "ssh"}, {"NFS", "nfs"}, {"SSH_KEY", "sshkey"}, {"KDUMP_NUM_DUMPS", "keep_dumps"}}};

// The slot a directive fills in KdumpConf::given.
std::string slot_of(std::string_view directive) {
  return directive == "ssh" || directive == "nfs" ? "target" : std::string(directive);
}

// KDUMP_CMDLINE_APPEND without systemd.unit= (kdump-tools' own capture service, which a
// kdumpkit capture initramfs does not have).
std::string cmdline_words(const std::string& v, const std::string& where, std::vector<std::string>* warnings) {
  std::string out;
  size_t i = 0;
  while (i < v.size()) {
    size_t j = v.find_first_of(" \t", i);
    if (j == std::string::npos) j = v.size();
    std::string w = v.substr(i, j - i);
    if (w.starts_with("systemd.unit=")) warnings->push_back(where + ": KDUMP_CMDLINE_APPEND: " + w + " is kdump-tools' own; left out");
    else if (!w.empty()) out += (out.empty() ? "" : " ") + w;
    i = j + 1;
  }
  return out;
}

Result<void> apply_vars(KdumpConf& conf, const std::map<std::string, ShellVar>& vars) {
  std::string file(kKdumpToolsPath);
  auto where = [&](const ShellVar& v) { return file + " line " + std::to_string(v.line); };
  for (const auto& [name, directive] : as_directive) {
    auto it = vars.find(std::string(name));
    if (it == vars.end() || it->second.value.empty() || conf.given.count(slot_of(directive))) continue;
    KK_TRY(apply_kdump_directive(conf, std::string(directive) + " " + it->second.value, where(it->second) + " (" + std::string(name) + ")"));
  }
  if (auto it = vars.find("MAKEDUMP_ARGS"); it != vars.end() && !it->second.value.empty() && !conf.given.count("core_collector")) {
    bool flat = conf.target == DumpTarget::ssh || conf.target == DumpTarget::raw;
    std::string args = it->second.value;
    // kdump-tools adds -F itself for ssh; the collector line here must say it.
    if (flat && (" " + args + " ").find(" -F ") == std::string::npos) args += " -F";
    KK_TRY(apply_kdump_directive(conf, "core_collector dumpfilter " + args, where(it->second) + " (MAKEDUMP_ARGS)"));
  }
  if (auto it = vars.find("KDUMP_CMDLINE_APPEND"); it != vars.end())
    conf.cmdline_append = cmdline_words(it->second.value, where(it->second), &conf.warnings);
  if (auto it = vars.find("USE_KDUMP"); it != vars.end()) {
    if (it->second.value == "0" || it->second.value == "1") conf.enabled = it->second.value == "1";
    else conf.warnings.push_back(where(it->second) + ": USE_KDUMP must be 0 or 1; ignored");
  }
  return {};
}

// Variables read above, and those with no kdumpkit meaning that need no warning (kdump-tools'
// own paths and switches whose kdumpkit counterpart is fixed: the kernel log is always saved).
bool handled(const std::string& name) {
  for (const auto& [n, d] : as_directive)
    if (n == name) return true;
  for (std::string_view n : {"MAKEDUMP_ARGS", "KDUMP_CMDLINE_APPEND", "USE_KDUMP", "KDUMP_DUMP_DMESG"})
    if (n == name) return true;
  return false;
}

}  // namespace

Result<KdumpConf> load_kdump_conf(std::string_view conf_text, const std::string& conf_name,
                                  std::optional<std::string_view> kdump_tools_text) {
  Result<KdumpConf> conf = read_kdump_conf_lines(conf_text);
  if (!conf) return std::move(conf).error().context(conf_name);
  for (std::string& w : conf->warnings) w = conf_name + ": " + w;
  if (kdump_tools_text) {
    std::string file(kKdumpToolsPath);
    std::map<std::string, ShellVar> vars = read_shell_vars(*kdump_tools_text, file, &conf->warnings);
    KK_TRY(apply_vars(*conf, vars));
    for (const auto& [name, v] : vars)
      if (!handled(name) && !v.value.empty())
        conf->warnings.push_back(file + " line " + std::to_string(v.line) + ": " + name + ": not used by kdumpkit; ignored");
  }
  Result<void> done = finish_kdump_conf(*conf);
  if (!done) return std::move(done).error().context(conf_name);
  return conf;
}

}  // namespace kk
