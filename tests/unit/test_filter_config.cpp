// test_filter_config.cpp: makedumpfile.conf(5) parsing: every construct of the manual page, and
// each bad line reported with its number.
#include <catch2/catch.hpp>
#include <string>

#include "dumpfilter/filter_config.h"

using namespace kk;

namespace {

FilterConfig parse_ok(const std::string& text) {
  Result<FilterConfig> c = parse_filter_config(text);
  INFO(text);
  if (!c) FAIL(c.error().msg);
  return std::move(*c);
}

}  // namespace

TEST_CASE("filter config: erase forms of the manual page", "[filter_config]") {
  FilterConfig c = parse_ok(
      "# a comment line\n"
      "[vmlinux]\n"
      "erase array_var\n"
      "erase mystruct1.buffer size 25\n"
      "\terase mystruct1.name   # trailing comment\n"
      "erase mystruct1.addr1 nullify\n"
      "erase mystruct1.addr2 size 1K\n"
      "erase big size 2m\n"
      "erase mystruct2.addr size mystruct2.addr_size\n"
      "erase table[3].entries[1][2].key\n");
  REQUIRE(c.commands.size() == 8);
  const EraseCommand& e0 = c.commands[0].erases[0];
  REQUIRE(c.commands[0].line == 3);
  REQUIRE(!c.commands[0].loop);
  REQUIRE(e0.target.text == "array_var");
  REQUIRE(e0.size == EraseSize::natural);
  REQUIRE(c.commands[1].erases[0].size == EraseSize::bytes);
  REQUIRE(c.commands[1].erases[0].bytes == 25);
  REQUIRE(c.commands[1].erases[0].target.parts.size() == 2);
  REQUIRE(c.commands[1].erases[0].target.parts[1].name == "buffer");
  REQUIRE(c.commands[2].line == 5);
  REQUIRE(c.commands[3].erases[0].size == EraseSize::nullify);
  REQUIRE(c.commands[4].erases[0].bytes == 1024);
  REQUIRE(c.commands[5].erases[0].bytes == 2 * 1024 * 1024);
  const EraseCommand& e6 = c.commands[6].erases[0];
  REQUIRE(e6.size == EraseSize::symbol);
  REQUIRE(e6.size_expr.text == "mystruct2.addr_size");
  const SymbolExpr& ix = c.commands[7].erases[0].target;
  REQUIRE(ix.parts.size() == 3);
  REQUIRE(ix.parts[0].indexes == std::vector<u64>{3});
  REQUIRE(ix.parts[1].name == "entries");
  REQUIRE(ix.parts[1].indexes == std::vector<u64>{1, 2});
  REQUIRE(ix.parts[2].indexes.empty());
  REQUIRE(c.symbols() == std::vector<std::string>{"array_var", "mystruct1", "big", "mystruct2", "table"});
}

TEST_CASE("filter config: a command may continue on the next line", "[filter_config]") {
  FilterConfig c = parse_ok("erase foo\n  size\n 16\nerase bar nullify erase baz\n");
  REQUIRE(c.commands.size() == 3);
  REQUIRE(c.commands[0].erases[0].bytes == 16);
  REQUIRE(c.commands[2].erases[0].target.text == "baz");
  REQUIRE(c.commands[2].line == 4);
}

TEST_CASE("filter config: the three loops", "[filter_config]") {
  FilterConfig c = parse_ok(
      "for mys1 in mystruct1 via next\n"
      "  erase mys1.private\n"
      "  erase mys1.key size mys1.key_size\n"
      "endfor\n"
      "for mys1 in s1_list_head.next within s1:list\n"
      "  erase mys1.private\n"
      "endfor\n"
      "for e in s1_list_head within s1\n"
      "  erase e nullify\n"
      "endfor\n"
      "for mys1 in myarray\n"
      "  erase mys1.key size 8\n"
      "endfor\n");
  REQUIRE(c.commands.size() == 4);
  const LoopSpec& via = *c.commands[0].loop;
  REQUIRE(via.kind == LoopKind::via);
  REQUIRE(via.var == "mys1");
  REQUIRE(via.list.text == "mystruct1");
  REQUIRE(via.next_member == "next");
  REQUIRE(c.commands[0].erases.size() == 2);
  REQUIRE(c.commands[0].erases[1].size_expr.text == "mys1.key_size");
  const LoopSpec& within = *c.commands[1].loop;
  REQUIRE(within.kind == LoopKind::within);
  REQUIRE(within.struct_name == "s1");
  REQUIRE(within.list_member == "list");
  REQUIRE(c.commands[2].loop->list_member == "list");  // makedumpfile's default member
  REQUIRE(c.commands[3].loop->kind == LoopKind::plain);
  REQUIRE(c.commands[3].line == 11);
  // The loop variable is not a global to look up; the lists are.
  REQUIRE(c.symbols() == std::vector<std::string>{"mystruct1", "s1_list_head", "myarray"});
  REQUIRE(c.struct_names() == std::vector<std::string>{"s1"});
}

TEST_CASE("filter config: every bad line is an error naming it", "[filter_config]") {
  auto [text, msg] = GENERATE(table<std::string, std::string>({
      {"erase\n", "line 1: expected a symbol after 'erase'"},
      {"erase foo\nerase size 4\n", "line 2: expected a symbol after 'erase'"},
      {"erase foo size\n", "line 1: expected a size after 'size'"},
      {"erase foo size nullify\n", "line 1: expected a size after 'size'"},
      {"erase foo size 0\n", "line 1: size must be positive"},
      {"erase foo size -4\n", "line 1: bad symbol expression '-4': '-4' is not a name"},
      {"\nerase foo size 12X\n", "line 2: size '12X' is not a number with an optional K or M"},
      {"erase foo size 0x10\n", "line 1: size '0x10' is not a number with an optional K or M"},
      {"erase foo size 99999999999M\n", "line 1: size '99999999999M' is too large"},
      {"erase foo..bar\n", "line 1: bad symbol expression 'foo..bar': empty name"},
      {"erase foo.\n", "line 1: bad symbol expression 'foo.': empty name"},
      {"erase 3foo\n", "line 1: bad symbol expression '3foo': '3foo' is not a name"},
      {"erase foo[2\n", "line 1: bad symbol expression 'foo[2': unbalanced '['"},
      {"erase foo[x]\n", "line 1: bad symbol expression 'foo[x]': index 'x' is not a decimal number"},
      {"erase foo[]\n", "line 1: bad symbol expression 'foo[]': index '' is not a decimal number"},
      {"erase foo bar\n", "line 1: expected 'erase' or 'for', found 'bar'"},
      {"nullify foo\n", "line 1: expected 'erase' or 'for', found 'nullify'"},
      {"endfor\n", "line 1: expected 'erase' or 'for', found 'endfor'"},
      {"[vmlinux\nerase foo\n", "line 1: section name without ']'"},
      {"[]\n", "line 1: empty section name"},
      {"[vmlinux] erase foo\n", "line 1: text after the section name"},
      {"for\n", "line 1: expected a loop variable after 'for'"},
      {"for a.b in list\n erase a\nendfor\n", "line 1: loop variable 'a.b' is not a plain name"},
      {"for x of list\n", "line 1: expected 'in' after 'for x'"},
      {"for x\n", "line 1: expected 'in' after 'for x'"},
      {"for x in\n", "line 1: expected an array or list after 'in'"},
      {"for x in x.next\n erase x\nendfor\n", "line 1: the list 'x.next' cannot use the loop variable"},
      {"for x in head via\n", "line 1: expected a member name after 'via'"},
      {"for x in head via a.b\n", "line 1: 'a.b' is not a member name"},
      {"for x in head within\n", "line 1: expected STRUCT:MEMBER after 'within'"},
      {"for x in head within s:\n", "line 1: expected STRUCT:MEMBER after 'within', found 's:'"},
      {"for x in head within :list\n", "line 1: expected STRUCT:MEMBER after 'within', found ':list'"},
      {"for x in arr\n erase x.a\n", "line 2: no 'endfor' for the loop of line 1"},
      {"for x in arr\n erase x.a\n[vmlinux]\nendfor\n", "line 3: no 'endfor' for the loop of line 1"},
      {"for x in arr\n erase y.a\nendfor\n", "line 2: erase inside the loop must start with its variable 'x', not 'y'"},
      {"for x in arr\n for y in x\n", "line 2: loops cannot be nested"},
      {"for x in arr\n size 4\nendfor\n", "line 2: expected 'erase' or 'endfor' in the loop, found 'size'"},
      {"for x in arr\nendfor\n", "line 1: loop without an erase command"},
      {"# only a comment\n\n", "no erase command"},
  }));
  INFO(text);
  Result<FilterConfig> c = parse_filter_config(text);
  REQUIRE(!c);
  REQUIRE(c.error().code == Errc::corrupt);
  REQUIRE(c.error().msg == msg);
}

TEST_CASE("filter config: module sections are refused, naming the line", "[filter_config]") {
  Result<FilterConfig> c = parse_filter_config("erase foo\n\n[mymodule]\nerase array_var\n");
  REQUIRE(!c);
  REQUIRE(c.error().code == Errc::unsupported);
  REQUIRE(c.error().msg == "line 3: section [mymodule]: only [vmlinux] is supported (kernel modules are not)");
}
