#include "lib/cli/argparse.h"

namespace kk {

Result<ParsedArgs> parse_args(std::span<const OptionSpec> table, const std::vector<std::string>& args) {
  ParsedArgs out;
  bool only_positional = false;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (only_positional || a.size() < 2 || a[0] != '-') {
      out.positional.emplace_back(a);
      continue;
    }
    if (a == "--") {
      only_positional = true;
      continue;
    }
    auto next_value = [&](std::string_view name) -> Result<std::string> {
      if (i + 1 >= args.size())
        return make_error(Errc::usage, "option " + std::string(name) + " needs a value");
      return args[++i];
    };
    if (a.substr(0, 2) == "--") {
      std::string_view body = a.substr(2);
      size_t eq = body.find('=');
      std::string_view name = body.substr(0, eq);
      const OptionSpec* spec = nullptr;
      for (const OptionSpec& o : table)
        if (!o.long_name.empty() && o.long_name == name) spec = &o;
      std::string spelled = "--" + std::string(name);
      if (!spec) return make_error(Errc::usage, "unknown option: " + spelled);
      ParsedOption p{spec, "", spelled};
      if (spec->takes_value) {
        if (eq != std::string_view::npos) {
          p.value = std::string(body.substr(eq + 1));
        } else {
          KK_TRY_ASSIGN(std::string v, next_value(spelled));
          p.value = std::move(v);
        }
      } else if (eq != std::string_view::npos) {
        return make_error(Errc::usage, "option " + spelled + " takes no value");
      }
      out.options.push_back(std::move(p));
      continue;
    }
    for (size_t k = 1; k < a.size(); ++k) {
      const OptionSpec* spec = nullptr;
      for (const OptionSpec& o : table)
        if (o.short_name == a[k]) spec = &o;
      std::string spelled = std::string("-") + a[k];
      if (!spec) return make_error(Errc::usage, "unknown option: " + spelled);
      ParsedOption p{spec, "", spelled};
      if (spec->takes_value) {
        if (k + 1 < a.size()) {
          p.value = std::string(a.substr(k + 1));
        } else {
          KK_TRY_ASSIGN(std::string v, next_value(spelled));
          p.value = std::move(v);
        }
        k = a.size();
      }
      out.options.push_back(std::move(p));
    }
  }
  return out;
}

}  // namespace kk
