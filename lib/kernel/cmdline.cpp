// cmdline.cpp: splitting and editing kernel command lines (see cmdline.h).
#include "lib/kernel/cmdline.h"

#include <algorithm>

#include "lib/io/lines.h"

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
  KK_TRY_ASSIGN(std::vector<std::string> words, split_cmdline(cmdline));
  std::vector<std::string> drop;
  for (std::string_view n : names) drop.push_back(normalize(n));
  std::string out;
  for (const std::string& w : words) {
    if (std::find(drop.begin(), drop.end(), param_name(w)) != drop.end()) continue;
    if (!out.empty()) out += ' ';
    out += w;
  }
  return out;
}

Result<std::string> capture_cmdline(std::string_view first_cmdline, std::string_view remove,
                                    std::string_view append, unsigned nr_cpus) {
  Result<std::vector<std::string>> extra = split_cmdline(remove);
  if (!extra) return std::move(extra).error().context("names to remove");
  std::vector<std::string_view> names(std::begin(capture_removals), std::end(capture_removals));
  for (const std::string& n : *extra) names.push_back(n);
  Result<std::string> out = remove_params(first_cmdline, names);
  if (!out) return std::move(out).error().context("first kernel's command line");
  Result<std::vector<std::string>> app = split_cmdline(append);
  if (!app) return std::move(app).error().context("words to append");
  bool cpus_given = std::any_of(app->begin(), app->end(), [](const std::string& w) {
    std::string n = param_name(w);
    return n == "nr_cpus" || n == "maxcpus";
  });
  for (std::string_view w : capture_additions) {
    std::string word(w);
    if (param_name(w) == "nr_cpus") {
      if (cpus_given) continue;
      word = "nr_cpus=" + std::to_string(std::max(1u, nr_cpus));
    }
    *out += (out->empty() ? "" : " ") + word;
  }
  for (const std::string& w : *app) *out += " " + w;
  return out;
}

unsigned pick_capture_cpus(unsigned online, u64 reserved, u64 base_need) {
  u64 extra = reserved > base_need ? (reserved - base_need) / kCaptureCpuCost : 0;
  u64 n = std::min<u64>({1 + extra, std::max(1u, online), kMaxCaptureCpus});
  return static_cast<unsigned>(n);
}

u64 capture_cpus_need(u64 base_need, unsigned cpus) {
  return base_need + u64(std::max(1u, cpus) - 1) * kCaptureCpuCost;
}

namespace {

// The right-hand side of a KEY=... line in /etc/default/grub, which update-grub sources as
// shell: one word in single quotes, double quotes or none, then blanks and an optional comment.
struct GrubValue {
  char quote = '\0';  // '\'', '"' or '\0'
  std::string value;  // as the shell sees it (quotes and escapes removed)
  std::string tail;   // what followed the closing quote: blanks and a comment, kept verbatim
};

// A double-quoted word's value. Only \\ \" \$ \` are escapes there; an unescaped $ or `
// is an expansion whose value only the shell knows.
Result<std::string> unescape_double(std::string_view v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '$' || v[i] == '`') return make_error(Errc::corrupt, "GRUB_CMDLINE_LINUX expands '$' or '`'");
    if (v[i] == '\\' && i + 1 < v.size() && std::string_view("\\\"$`").find(v[i + 1]) != std::string_view::npos) ++i;
    out += v[i];
  }
  return out;
}

Result<GrubValue> parse_grub_value(std::string_view v) {
  GrubValue g;
  size_t end = v.size();
  if (!v.empty() && (v.front() == '\'' || v.front() == '"')) {
    g.quote = v.front();
    end = 1;
    while (end < v.size() && v[end] != g.quote) end += (g.quote == '"' && v[end] == '\\') ? 2 : 1;
    if (end >= v.size()) return make_error(Errc::corrupt, "GRUB_CMDLINE_LINUX has unbalanced quotes");
    std::string_view inner = v.substr(1, end - 1);
    if (g.quote == '\'') {
      g.value = inner;
    } else {
      KK_TRY_ASSIGN(std::string u, unescape_double(inner));
      g.value = u;
    }
    ++end;
  } else {
    end = std::min(v.find_first_of(" \t"), v.size());
    g.value = v.substr(0, end);
    if (g.value.find_first_of("\"'$`\\") != std::string::npos)
      return make_error(Errc::corrupt, "GRUB_CMDLINE_LINUX is not one quoted value");
  }
  g.tail = v.substr(end);
  std::string_view rest = std::string_view(g.tail);
  rest.remove_prefix(std::min(rest.find_first_not_of(" \t"), rest.size()));
  if (!rest.empty() && rest.front() != '#')
    return make_error(Errc::corrupt, "GRUB_CMDLINE_LINUX is not one quoted value");
  return g;
}

// The value written back in the quoting it had (unquoted values get single quotes once they
// hold a blank: inside them nothing is special).
std::string quote_grub_value(char quote, std::string_view value) {
  if (quote == '"') {
    std::string out = "\"";
    for (char c : value) {
      if (std::string_view("\\\"$`").find(c) != std::string_view::npos) out += '\\';
      out += c;
    }
    return out + "\"";
  }
  if (quote == '\0' && value.find_first_of(" \t") == std::string_view::npos) return std::string(value);
  return "'" + std::string(value) + "'";
}

}  // namespace

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
      std::string at = "line " + std::to_string(lines.number());
      Result<GrubValue> g = parse_grub_value(line.substr(key.size()));
      if (!g) return std::move(g).error().context(at);
      // A value with a single quote cannot be written back in single quotes.
      if (g->quote == '\'' && word.find('\'') != std::string::npos)
        return make_error(Errc::corrupt, at + ": a value with ' in a single-quoted GRUB_CMDLINE_LINUX");
      const std::string_view names[] = {name};
      Result<std::string> kept = remove_params(g->value, names);
      if (!kept) return std::move(kept).error().context(at);
      out += std::string(key) + quote_grub_value(g->quote, *kept + (kept->empty() ? "" : " ") + word) + g->tail + "\n";
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
