// cmdline.cpp: splitting and editing kernel command lines (see cmdline.h).
#include "kernel/cmdline.h"

#include <algorithm>

#include "io/lines.h"

namespace kk {

Result<std::vector<std::string>> split_cmdline(std::string_view s) {
  std::vector<std::string> out;
  std::string word;
  bool quoted = false, in_word = false;
  for (char c : s) {
    if (c == '\0') return make_error(Errc::corrupt, "command line has a NUL byte");
    if (c == '"') quoted = !quoted;
    if (!quoted && (c == ' ' || c == '\t' || c == '\n')) {
      if (in_word) out.push_back(std::move(word));
      word.clear();
      in_word = false;
      continue;
    }
    word += c;
    in_word = true;
  }
  if (quoted) return make_error(Errc::corrupt, "command line has an unterminated '\"'");
  if (in_word) out.push_back(std::move(word));
  return out;
}

std::string param_name(std::string_view word) {
  // As the kernel's next_arg(): the first '=' ends the name, quoted or not.
  std::string name;
  for (char c : word) {
    if (c == '"') continue;
    if (c == '=') break;
    name += c == '-' ? '_' : c;
  }
  return name;
}

static std::string normalize(std::string_view name) {
  std::string n(name);
  std::replace(n.begin(), n.end(), '-', '_');
  return n;
}

Result<std::string> remove_params(std::string_view cmdline, std::span<const std::string_view> names) {
  Result<std::vector<std::string>> words = split_cmdline(cmdline);
  if (!words) return std::move(words).error();
  std::vector<std::string> drop;
  for (std::string_view n : names) drop.push_back(normalize(n));
  std::string out;
  for (const std::string& w : *words) {
    if (std::find(drop.begin(), drop.end(), param_name(w)) != drop.end()) continue;
    if (!out.empty()) out += ' ';
    out += w;
  }
  return out;
}

Result<std::string> capture_cmdline(std::string_view first_cmdline, std::string_view remove,
                                    std::string_view append) {
  Result<std::vector<std::string>> extra = split_cmdline(remove);
  if (!extra) return std::move(extra).error().context("names to remove");
  std::vector<std::string_view> names(std::begin(capture_removals), std::end(capture_removals));
  for (const std::string& n : *extra) names.push_back(n);
  Result<std::string> out = remove_params(first_cmdline, names);
  if (!out) return std::move(out).error().context("first kernel's command line");
  Result<std::vector<std::string>> app = split_cmdline(append);
  if (!app) return std::move(app).error().context("words to append");
  for (std::string_view w : capture_additions) *out += (out->empty() ? "" : " ") + std::string(w);
  for (const std::string& w : *app) *out += " " + w;
  return out;
}

Result<std::string> grub_default_set_param(std::string_view text, std::string_view name,
                                           std::string_view value) {
  static constexpr std::string_view key = "GRUB_CMDLINE_LINUX=";
  std::string out;
  bool done = false;
  Lines lines(text);
  std::string_view line;
  std::string word = std::string(name) + "=" + std::string(value);
  while (lines.next(&line)) {
    if (!done && line.starts_with(key)) {
      std::string_view v = line.substr(key.size());
      char q = v.empty() ? '\0' : v.front();
      if (q == '"' || q == '\'') {
        if (v.size() < 2 || v.back() != q || v.substr(1, v.size() - 2).find(q) != std::string_view::npos)
          return make_error(Errc::corrupt, "line " + std::to_string(lines.number()) +
                                               ": GRUB_CMDLINE_LINUX has unbalanced quotes");
        v = v.substr(1, v.size() - 2);
      } else if (v.find_first_of(" \t\"'") != std::string_view::npos) {
        return make_error(Errc::corrupt, "line " + std::to_string(lines.number()) +
                                             ": GRUB_CMDLINE_LINUX is not one quoted value");
      }
      const std::string_view names[] = {name};
      Result<std::string> kept = remove_params(v, names);
      if (!kept) return std::move(kept).error().context("line " + std::to_string(lines.number()));
      out += std::string(key) + "\"" + *kept + (kept->empty() ? "" : " ") + word + "\"\n";
      done = true;
      continue;
    }
    out += line;
    out += '\n';
  }
  if (!done) out += std::string(key) + "\"" + word + "\"\n";
  return out;
}

}  // namespace kk
