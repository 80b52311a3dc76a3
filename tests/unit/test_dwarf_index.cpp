// test_dwarf_index.cpp: DwarfIndex (libdw) on a small executable built with -g from
// fixtures/dwarf_fixture.cpp: its answers must match the compiler's sizeof and offsetof. Run on a
// g++ build (DW_OP_addr) and a clang -gdwarf-5 build (DW_OP_addrx): fixture_outer has internal
// linkage, so no symbol-table fallback can find it; only its DWARF location gives its address.
#include <catch2/catch.hpp>
#include <cstddef>
#include <cstdlib>
#include <string>

#include "lib/debuginfo/dwarf_index.h"
#include "lib/debuginfo/libdw_loader.h"
#include "tests/unit/fixtures/dwarf_fixture.h"

using namespace kk;
using namespace kk::debuginfo;

namespace {

DwarfIndex& fixture() {
  static std::unique_ptr<DwarfIndex> idx = [] {
    const char* path = std::getenv("KK_DWARF_FIXTURE");
    REQUIRE(path != nullptr);
    Result<std::unique_ptr<DwarfIndex>> r = DwarfIndex::open(path);
    if (!r) FAIL(r.error().msg);
    REQUIRE((*r)->prepare({"fixture_outer", "fixture_ptr", "fixture_list"}, {"list_head"}));
    return std::move(*r);
  }();
  return *idx;
}

Variable var(const char* name) {
  Result<std::optional<Variable>> v = fixture().variable(name);
  REQUIRE(v);
  REQUIRE(*v);
  return **v;
}

TypeDesc desc(TypeId t) {
  Result<TypeDesc> d = fixture().describe(t);
  REQUIRE(d);
  return *d;
}

Member mem(TypeId t, const char* name) {
  Result<std::optional<Member>> m = fixture().member(t, name);
  INFO(name);
  REQUIRE(m);
  REQUIRE(*m);
  return **m;
}

}  // namespace

TEST_CASE("dwarf index: variables, typedefs and qualifiers looked through", "[dwarf_index]") {
  Variable o = var("fixture_outer");
  Variable p = var("fixture_ptr");
  REQUIRE(o.address != 0);
  REQUIRE(p.address != 0);
  REQUIRE(o.address != p.address);
  REQUIRE(p.symbol_size == sizeof(outer*));  // the DWARF address is the symbol's
  TypeDesc od = desc(o.type);  // const outer_t -> outer
  REQUIRE(od.kind == TypeKind::structure);
  REQUIRE(od.name == "outer");
  REQUIRE(od.size == sizeof(outer));
  TypeDesc pd = desc(p.type);
  REQUIRE(pd.kind == TypeKind::pointer);
  REQUIRE(pd.size == 8);
  REQUIRE(desc(pd.target).name == "outer");
  Result<std::optional<Variable>> none = fixture().variable("no_such_variable");
  REQUIRE(none);
  REQUIRE(!*none);
}

TEST_CASE("dwarf index: members, anonymous members, bit-fields", "[dwarf_index]") {
  TypeId o = var("fixture_outer").type;
  REQUIRE(mem(o, "tag").offset == offsetof(outer, tag));
  Member in = mem(o, "in");
  REQUIRE(in.offset == offsetof(outer, in));
  REQUIRE(mem(in.type, "b").offset == offsetof(inner, b));
  REQUIRE(mem(o, "u_int").offset == offsetof(outer, u_int));
  REQUIRE(mem(o, "u_bytes").offset == offsetof(outer, u_bytes));
  REQUIRE(mem(o, "s2").offset == offsetof(outer, s2));
  REQUIRE(mem(o, "node").offset == offsetof(outer, node));
  Result<std::optional<Member>> bits = fixture().member(o, "flags");
  REQUIRE(!bits);
  REQUIRE(bits.error().msg == "member 'flags' is a bit-field");
  Result<std::optional<Member>> none = fixture().member(o, "nosuch");
  REQUIRE(none);
  REQUIRE(!*none);
}

TEST_CASE("dwarf index: arrays, pointers to void and to const char", "[dwarf_index]") {
  TypeId o = var("fixture_outer").type;
  TypeDesc tag = desc(mem(o, "tag").type);
  REQUIRE(tag.kind == TypeKind::array);
  REQUIRE(tag.count == 16);
  REQUIRE(tag.size == 16);
  REQUIRE(desc(tag.target).kind == TypeKind::base);
  REQUIRE(desc(tag.target).size == 1);
  TypeDesc grid = desc(mem(o, "grid").type);  // int[3][5]
  REQUIRE(grid.count == 3);
  REQUIRE(grid.size == sizeof(int) * 15);
  TypeDesc row = desc(grid.target);
  REQUIRE(row.kind == TypeKind::array);
  REQUIRE(row.count == 5);
  REQUIRE(row.size == sizeof(int) * 5);
  REQUIRE(desc(row.target).name == "int");
  TypeDesc opaque = desc(mem(o, "opaque").type);
  REQUIRE(opaque.kind == TypeKind::pointer);
  REQUIRE(desc(opaque.target).kind == TypeKind::void_type);
  TypeDesc name = desc(mem(o, "name").type);
  REQUIRE(name.kind == TypeKind::pointer);
  TypeDesc ch = desc(name.target);  // const char -> char
  REQUIRE(ch.kind == TypeKind::base);
  REQUIRE(ch.name == "char");
}

TEST_CASE("dwarf index: struct types by tag", "[dwarf_index]") {
  Result<std::optional<TypeId>> lh = fixture().structure("list_head");
  REQUIRE(lh);
  REQUIRE(*lh);
  REQUIRE(desc(**lh).size == sizeof(list_head));
  REQUIRE(mem(**lh, "prev").offset == offsetof(list_head, prev));
  REQUIRE(desc(var("fixture_list").type).name == "list_head");
  REQUIRE(var("fixture_list").symbol_size == sizeof(list_head));  // from the ELF symbol table
  Result<std::optional<TypeId>> none = fixture().structure("no_such_struct");
  REQUIRE(none);
  REQUIRE(!*none);
}

TEST_CASE("dwarf index: a file without DWARF is refused, naming it", "[dwarf_index]") {
  Result<std::unique_ptr<DwarfIndex>> r = DwarfIndex::open("/nonexistent/vmlinux");
  REQUIRE(!r);
  REQUIRE(r.error().msg.find("/nonexistent/vmlinux") == 0);
}

TEST_CASE("libdw loader: every function resolves; a missing library is a clear error", "[dwarf_index]") {
  Result<LibDw> dw = open_libdw("libdw.so.1");
  if (!dw) FAIL(dw.error().msg);
  REQUIRE(dw->dwarf_begin != nullptr);
  REQUIRE(dw->gelf_getsym != nullptr);  // libelf's, found through libdw's dependencies
  Result<LibDw> none = open_libdw("libkdumpkit-no-such-lib.so.1");
  REQUIRE(!none);
  REQUIRE(none.error().code == Errc::missing);
  REQUIRE(none.error().msg.find("libkdumpkit-no-such-lib.so.1") != std::string::npos);
  REQUIRE(none.error().msg.find("libdw1") != std::string::npos);
}
