// filter_config.cpp: the filter configuration is a stream of whitespace-separated words (a command
// may continue on the next line, as in makedumpfile), '#' starts a comment, and a line starting
// with '[' names a section. Unlike makedumpfile, which reports a bad command and goes on, every
// mistake here stops the dump: an erase rule that silently does nothing leaks what it was for.
#include "dumpfilter/filter_config.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

#include "lib/io/lines.h"
#include "lib/io/text_file.h"

namespace kk {

namespace {

struct Token {
  std::string_view text;
  int line;
};

constexpr std::array<std::string_view, 8> kKeywords{"erase", "size",  "nullify", "for",
                                                    "in",    "via",   "within",  "endfor"};

bool is_keyword(std::string_view s) {
  return std::find(kKeywords.begin(), kKeywords.end(), s) != kKeywords.end();
}

Error line_error(int line, const std::string& msg, Errc code = Errc::corrupt) {
  return make_error(code, "line " + std::to_string(line) + ": " + msg);
}

bool is_ident(std::string_view s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

// Splits the file into words, checking the section lines on the way.
Result<std::vector<Token>> tokenize(std::string_view text) {
  std::vector<Token> out;
  Lines lines(text);
  std::string_view line;
  while (lines.next(&line)) {
    int n = static_cast<int>(lines.number());
    if (size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string_view::npos) continue;
    line = line.substr(first);
    if (line[0] == '[') {
      size_t close = line.find(']');
      if (close == std::string_view::npos) return line_error(n, "section name without ']'");
      std::string_view name = line.substr(1, close - 1);
      if (line.find_first_not_of(" \t\r", close + 1) != std::string_view::npos)
        return line_error(n, "text after the section name");
      if (name.empty()) return line_error(n, "empty section name");
      if (name != "vmlinux")
        return line_error(n, "section [" + std::string(name) +
                                 "]: only [vmlinux] is supported (kernel modules are not)",
                          Errc::unsupported);
      out.push_back({"[vmlinux]", n});  // a section ends any command before it
      continue;
    }
    size_t pos = 0;
    while (pos < line.size()) {
      size_t start = line.find_first_not_of(" \t\r", pos);
      if (start == std::string_view::npos) break;
      size_t end = line.find_first_of(" \t\r", start);
      if (end == std::string_view::npos) end = line.size();
      out.push_back({line.substr(start, end - start), n});
      pos = end;
    }
  }
  return out;
}

Result<SymbolExpr> parse_expr(const Token& t) {
  SymbolExpr e;
  e.text = std::string(t.text);
  auto bad = [&](const std::string& why) {
    return line_error(t.line, "bad symbol expression '" + e.text + "': " + why);
  };
  std::string_view rest = t.text;
  while (true) {
    size_t dot = rest.find('.');
    std::string_view part = rest.substr(0, dot);
    size_t bracket = part.find('[');
    ExprPart p;
    p.name = std::string(part.substr(0, bracket));
    if (!is_ident(p.name)) return bad(p.name.empty() ? "empty name" : "'" + p.name + "' is not a name");
    std::string_view subs = bracket == std::string_view::npos ? std::string_view() : part.substr(bracket);
    while (!subs.empty()) {
      size_t close = subs.find(']');
      if (subs[0] != '[' || close == std::string_view::npos) return bad("unbalanced '['");
      std::string_view num = subs.substr(1, close - 1);
      u64 v = 0;
      auto [ptr, ec] = std::from_chars(num.data(), num.data() + num.size(), v, 10);
      if (num.empty() || ec != std::errc() || ptr != num.data() + num.size())
        return bad("index '" + std::string(num) + "' is not a decimal number");
      p.indexes.push_back(v);
      subs = subs.substr(close + 1);
    }
    e.parts.push_back(std::move(p));
    if (dot == std::string_view::npos) break;
    rest = rest.substr(dot + 1);
  }
  return e;
}

// size N, NK, NM (case-insensitive suffix, decimal, positive).
Result<u64> parse_size_value(const Token& t) {
  std::string_view s = t.text;
  u64 mult = 1;
  char last = s.back();
  if (last == 'K' || last == 'k') mult = 1024;
  if (last == 'M' || last == 'm') mult = 1024 * 1024;
  if (mult != 1) s.remove_suffix(1);
  u64 v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 10);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size())
    return line_error(t.line, "size '" + std::string(t.text) + "' is not a number with an optional K or M");
  if (v == 0) return line_error(t.line, "size must be positive");
  if (v > (u64{1} << 40) / mult) return line_error(t.line, "size '" + std::string(t.text) + "' is too large");
  return v * mult;
}

class Parser {
 public:
  explicit Parser(std::vector<Token> toks) : toks_(std::move(toks)) {}

  Result<FilterConfig> run() {
    FilterConfig cfg;
    while (pos_ < toks_.size()) {
      const Token& t = toks_[pos_++];
      if (t.text == "[vmlinux]") continue;
      FilterCommand cmd;
      cmd.line = t.line;
      if (t.text == "erase") {
        KK_TRY_ASSIGN(EraseCommand e, parse_erase(t, nullptr));
        cmd.erases.push_back(std::move(e));
      } else if (t.text == "for") {
        KK_TRY(parse_loop(t, cmd));
      } else {
        return line_error(t.line, "expected 'erase' or 'for', found '" + std::string(t.text) + "'");
      }
      cfg.commands.push_back(std::move(cmd));
    }
    return cfg;
  }

 private:
  const Token* peek() const { return pos_ < toks_.size() ? &toks_[pos_] : nullptr; }

  // The next word, which must be a name or expression rather than a keyword or a section.
  Result<Token> operand(const Token& after, const std::string& what) {
    const Token* t = peek();
    if (!t || t->text == "[vmlinux]" || is_keyword(t->text))
      return line_error(t && t->text != "[vmlinux]" ? t->line : after.line,
                        "expected " + what + " after '" + std::string(after.text) + "'");
    ++pos_;
    return *t;
  }

  Result<EraseCommand> parse_erase(const Token& kw, const LoopSpec* loop) {
    KK_TRY_ASSIGN(Token sym, operand(kw, "a symbol"));
    EraseCommand e;
    e.line = kw.line;
    Result<SymbolExpr> target = parse_expr(sym);
    if (!target) return std::move(target).error();
    e.target = std::move(*target);
    if (loop && e.target.parts[0].name != loop->var)
      return line_error(sym.line, "erase inside the loop must start with its variable '" + loop->var +
                                       "', not '" + e.target.parts[0].name + "'");
    const Token* next = peek();
    if (next && next->text == "nullify") {
      ++pos_;
      e.size = EraseSize::nullify;
    } else if (next && next->text == "size") {
      ++pos_;
      KK_TRY_ASSIGN(Token v, operand(*next, "a size"));
      if (std::isdigit(static_cast<unsigned char>(v.text[0]))) {
        KK_TRY_ASSIGN(u64 n, parse_size_value(v));
        e.size = EraseSize::bytes;
        e.bytes = n;
      } else {
        KK_TRY_ASSIGN(SymbolExpr se, parse_expr(v));
        e.size = EraseSize::symbol;
        e.size_expr = std::move(se);
      }
    }
    return e;
  }

  Result<void> parse_loop(const Token& kw, FilterCommand& cmd) {
    LoopSpec loop;
    Result<Token> var = operand(kw, "a loop variable");
    if (!var) return std::move(var).error();
    if (!is_ident(var->text))
      return line_error(var->line, "loop variable '" + std::string(var->text) + "' is not a plain name");
    loop.var = std::string(var->text);
    const Token* in = peek();
    if (!in || in->text != "in") return line_error(in ? in->line : var->line, "expected 'in' after 'for " + loop.var + "'");
    ++pos_;
    Result<Token> list = operand(*in, "an array or list");
    if (!list) return std::move(list).error();
    KK_TRY_ASSIGN(SymbolExpr le, parse_expr(*list));
    if (le.parts[0].name == loop.var)
      return line_error(list->line, "the list '" + le.text + "' cannot use the loop variable");
    loop.list = std::move(le);
    const Token* how = peek();
    if (how && how->text == "via") {
      ++pos_;
      KK_TRY_ASSIGN(Token m, operand(*how, "a member name"));
      if (!is_ident(m.text)) return line_error(m.line, "'" + std::string(m.text) + "' is not a member name");
      loop.kind = LoopKind::via;
      loop.next_member = std::string(m.text);
    } else if (how && how->text == "within") {
      ++pos_;
      KK_TRY_ASSIGN(Token s, operand(*how, "STRUCT:MEMBER"));
      std::string_view sv = s.text;
      size_t colon = sv.find(':');
      loop.kind = LoopKind::within;
      loop.struct_name = std::string(sv.substr(0, colon));
      loop.list_member = colon == std::string_view::npos ? "list" : std::string(sv.substr(colon + 1));
      if (!is_ident(loop.struct_name) || !is_ident(loop.list_member))
        return line_error(s.line, "expected STRUCT:MEMBER after 'within', found '" + std::string(sv) + "'");
    }
    while (true) {
      const Token* t = peek();
      if (!t || t->text == "[vmlinux]")
        return line_error(t ? t->line : toks_.back().line, "no 'endfor' for the loop of line " + std::to_string(kw.line));
      ++pos_;
      if (t->text == "endfor") break;
      if (t->text == "for") return line_error(t->line, "loops cannot be nested");
      if (t->text != "erase")
        return line_error(t->line, "expected 'erase' or 'endfor' in the loop, found '" + std::string(t->text) + "'");
      KK_TRY_ASSIGN(EraseCommand e, parse_erase(*t, &loop));
      cmd.erases.push_back(std::move(e));
    }
    if (cmd.erases.empty()) return line_error(kw.line, "loop without an erase command");
    cmd.loop = std::move(loop);
    return {};
  }

  std::vector<Token> toks_;
  size_t pos_ = 0;
};

void add_unique(std::vector<std::string>& v, const std::string& s) {
  if (std::find(v.begin(), v.end(), s) == v.end()) v.push_back(s);
}

}  // namespace

std::vector<std::string> FilterConfig::symbols() const {
  std::vector<std::string> out;
  for (const FilterCommand& c : commands) {
    std::string var = c.loop ? c.loop->var : "";
    if (c.loop) add_unique(out, c.loop->list.parts[0].name);
    for (const EraseCommand& e : c.erases) {
      if (e.target.parts[0].name != var) add_unique(out, e.target.parts[0].name);
      if (e.size == EraseSize::symbol && e.size_expr.parts[0].name != var)
        add_unique(out, e.size_expr.parts[0].name);
    }
  }
  return out;
}

std::vector<std::string> FilterConfig::struct_names() const {
  std::vector<std::string> out;
  for (const FilterCommand& c : commands)
    if (c.loop && c.loop->kind == LoopKind::within) add_unique(out, c.loop->struct_name);
  return out;
}

Result<FilterConfig> parse_filter_config(std::string_view text) {
  KK_TRY_ASSIGN(std::vector<Token> toks, tokenize(text));
  Result<FilterConfig> cfg = Parser(std::move(toks)).run();
  if (!cfg) return cfg;
  if (cfg->commands.empty()) return make_error(Errc::corrupt, "no erase command");
  return cfg;
}

Result<FilterConfig> read_filter_config(const std::string& path) {
  KK_TRY_ASSIGN(std::string text, read_text_file(path, kMaxFilterConfigBytes));
  Result<FilterConfig> cfg = parse_filter_config(text);
  if (!cfg) return std::move(cfg).error().context(path);
  return cfg;
}

}  // namespace kk
