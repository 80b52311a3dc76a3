// dwarf_index.cpp: libdw over a debug vmlinux. Types are handed out as DIE offsets, so a TypeId
// stays valid for the life of the index and costs nothing to copy.
#include "lib/debuginfo/dwarf_index.h"
#include "lib/debuginfo/libdw_loader.h"

#include <dwarf.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <set>

namespace kk::debuginfo {

namespace {

// A variable's entries: several when static variables in different files share a name.
struct VarHits {
  std::vector<Variable> defined;          // with an address (DW_OP_addr or DW_OP_addrx)
  std::optional<TypeId> declared_type;    // from a declaration, when no definition has a location
};

// Only reached through a DwarfIndex, which open() makes after libdw() has loaded.
const LibDw& dw() { return **libdw(); }

constexpr int kMaxTypeChain = 64;  // typedef/const chains longer than this are corrupt DWARF

u64 die_offset(Dwarf_Die* d) { return static_cast<u64>(dw().dwarf_dieoffset(d)); }

std::optional<TypeId> type_of(Dwarf_Die* d) {
  Dwarf_Attribute a;
  Dwarf_Die t;
  if (!dw().dwarf_attr_integrate(d, DW_AT_type, &a) || !dw().dwarf_formref_die(&a, &t)) return std::nullopt;
  return TypeId{die_offset(&t), 0};
}

// A static variable's address: DW_OP_addr (gcc, DWARF 4 and 5), or DW_OP_addrx, an index into
// .debug_addr from the unit's DW_AT_addr_base (clang's DWARF 5; DW_OP_GNU_addr_index is its
// split-DWARF ancestor). libdw resolves the index into a DW_FORM_addr attribute for us.
std::optional<u64> address_of(Dwarf_Die* d) {
  Dwarf_Attribute a;
  if (!dw().dwarf_attr(d, DW_AT_location, &a)) return std::nullopt;
  Dwarf_Op* ops = nullptr;
  size_t n = 0;
  if (dw().dwarf_getlocation(&a, &ops, &n) != 0 || n != 1) return std::nullopt;
  if (ops[0].atom == DW_OP_addr) return static_cast<u64>(ops[0].number);
  if (ops[0].atom != DW_OP_addrx && ops[0].atom != DW_OP_GNU_addr_index) return std::nullopt;
  Dwarf_Attribute slot;
  Dwarf_Addr addr = 0;
  if (dw().dwarf_getlocation_attr(&a, &ops[0], &slot) != 0 || dw().dwarf_formaddr(&slot, &addr) != 0)
    return std::nullopt;
  return static_cast<u64>(addr);
}

const char* name_of(Dwarf_Die* d) {
  const char* n = dw().dwarf_diename(d);
  if (n) return n;
  Dwarf_Attribute a;
  if (dw().dwarf_attr_integrate(d, DW_AT_name, &a)) return dw().dwarf_formstring(&a);
  return nullptr;
}

bool has_flag(Dwarf_Die* d, unsigned attr) {
  bool v = false;
  Dwarf_Attribute a;
  return dw().dwarf_attr(d, attr, &a) && dw().dwarf_formflag(&a, &v) == 0 && v;
}

std::string dwarf_error_text() { return dw().dwarf_errmsg(-1); }

}  // namespace

struct DwarfIndex::Impl {
  int fd = -1;
  Dwarf* dbg = nullptr;
  mutable std::map<std::string, VarHits, std::less<>> vars;
  mutable std::set<std::string, std::less<>> vars_walked;  // looked up, found or not
  mutable std::map<std::string, TypeId, std::less<>> structs;
  mutable std::set<std::string, std::less<>> structs_walked;

  ~Impl() {
    if (dbg) dw().dwarf_end(dbg);
    if (fd >= 0) ::close(fd);
  }

  // The ELF symbol table's global object of that name, to choose among same-named statics.
  std::optional<GElf_Sym> global_symbol(std::string_view name) const {
    Elf* elf = dw().dwarf_getelf(dbg);
    Elf_Scn* scn = nullptr;
    while ((scn = dw().elf_nextscn(elf, scn))) {
      GElf_Shdr sh;
      if (!dw().gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB || sh.sh_entsize == 0) continue;
      Elf_Data* data = dw().elf_getdata(scn, nullptr);
      if (!data) return std::nullopt;
      for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; ++i) {
        GElf_Sym s;
        if (!dw().gelf_getsym(data, static_cast<int>(i), &s)) break;
        if (GELF_ST_BIND(s.st_info) == STB_LOCAL) continue;
        const char* n = dw().elf_strptr(elf, sh.sh_link, s.st_name);
        if (n && name == n) return s;
      }
    }
    return std::nullopt;
  }

  Result<Dwarf_Die> die_at(u64 off) const {
    Dwarf_Die d;
    if (!dw().dwarf_offdie(dbg, static_cast<Dwarf_Off>(off), &d))
      return make_error(Errc::corrupt, "no DWARF entry at offset " + std::to_string(off) + ": " + dwarf_error_text());
    return d;
  }

  // Follows typedefs and qualifiers; nullopt means void.
  Result<std::optional<Dwarf_Die>> strip(u64 off) const {
    if (off == 0) return std::optional<Dwarf_Die>();
    KK_TRY_ASSIGN(Dwarf_Die d, die_at(off));
    Dwarf_Die cur = d;
    for (int i = 0; i < kMaxTypeChain; ++i) {
      int tag = dw().dwarf_tag(&cur);
      if (tag != DW_TAG_typedef && tag != DW_TAG_const_type && tag != DW_TAG_volatile_type &&
          tag != DW_TAG_restrict_type && tag != DW_TAG_atomic_type)
        return std::optional(cur);
      std::optional<TypeId> next = type_of(&cur);
      if (!next) return std::optional<Dwarf_Die>();  // `const void`
      KK_TRY_ASSIGN(Dwarf_Die n, die_at(next->die));
      cur = n;
    }
    return make_error(Errc::corrupt, "DWARF type chain longer than " + std::to_string(kMaxTypeChain));
  }
};

DwarfIndex::DwarfIndex(std::string path, std::unique_ptr<Impl> impl) : path_(std::move(path)), impl_(std::move(impl)) {}
DwarfIndex::~DwarfIndex() = default;

Result<std::unique_ptr<DwarfIndex>> DwarfIndex::open(const std::string& path) {
  Result<const LibDw*> lib = libdw();
  if (!lib) return lib.error().context(path);
  auto impl = std::make_unique<Impl>();
  impl->fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (impl->fd < 0) return sys_error(path);
  dw().elf_version(EV_CURRENT);
  impl->dbg = dw().dwarf_begin(impl->fd, DWARF_C_READ);
  if (!impl->dbg) return make_error(Errc::unsupported, path + ": cannot read its DWARF: " + dwarf_error_text());
  return std::unique_ptr<DwarfIndex>(new DwarfIndex(path, std::move(impl)));
}

Result<void> DwarfIndex::prepare(const std::vector<std::string>& variables, const std::vector<std::string>& structs) {
  return walk(variables, structs);
}

// One pass over the top-level entries of every compile unit.
Result<void> DwarfIndex::walk(const std::vector<std::string>& variables, const std::vector<std::string>& structs) const {
  std::set<std::string, std::less<>> want_vars, want_structs;
  for (const std::string& v : variables)
    if (!impl_->vars_walked.count(v)) want_vars.insert(v);
  for (const std::string& s : structs)
    if (!impl_->structs_walked.count(s)) want_structs.insert(s);
  if (want_vars.empty() && want_structs.empty()) return {};
  Dwarf_CU* cu = nullptr;
  Dwarf_Die cudie;
  while (dw().dwarf_get_units(impl_->dbg, cu, &cu, nullptr, nullptr, &cudie, nullptr) == 0) {
    Dwarf_Die d;
    if (dw().dwarf_child(&cudie, &d) != 0) continue;
    do {
      int tag = dw().dwarf_tag(&d);
      if (tag == DW_TAG_variable && !want_vars.empty()) {
        const char* n = name_of(&d);
        if (!n) continue;
        auto w = want_vars.find(std::string_view(n));
        if (w == want_vars.end()) continue;
        VarHits& h = impl_->vars[*w];
        std::optional<TypeId> t = type_of(&d);
        if (!t) continue;
        if (std::optional<u64> addr = address_of(&d)) {
          bool seen = std::any_of(h.defined.begin(), h.defined.end(), [&](const Variable& v) { return v.address == *addr; });
          if (!seen) h.defined.push_back({*addr, *t});
        } else if (!h.declared_type) {
          h.declared_type = t;
        }
      } else if ((tag == DW_TAG_structure_type || tag == DW_TAG_union_type) && !want_structs.empty()) {
        const char* n = dw().dwarf_diename(&d);
        if (!n || has_flag(&d, DW_AT_declaration)) continue;
        auto w = want_structs.find(std::string_view(n));
        if (w == want_structs.end() || impl_->structs.count(*w)) continue;
        impl_->structs[*w] = TypeId{die_offset(&d), 0};
      }
    } while (dw().dwarf_siblingof(&d, &d) == 0);
  }
  for (const std::string& v : want_vars) impl_->vars_walked.insert(v);
  for (const std::string& s : want_structs) impl_->structs_walked.insert(s);
  return {};
}

Result<std::optional<Variable>> DwarfIndex::variable(std::string_view name) const {
  KK_TRY(walk({std::string(name)}, {}));
  auto it = impl_->vars.find(name);
  if (it == impl_->vars.end()) return std::optional<Variable>();
  const VarHits& h = it->second;
  std::optional<GElf_Sym> sym = impl_->global_symbol(name);
  // The symbol's size serves where the DWARF type is incomplete (`extern const char x[]`).
  auto with_size = [&](Variable v) {
    if (sym && sym->st_value == v.address) v.symbol_size = sym->st_size;
    return std::optional(v);
  };
  if (h.defined.size() == 1) return with_size(h.defined[0]);
  if (h.defined.empty()) {  // only declared in the DWARF (its definition was left out)
    if (!sym || !h.declared_type) return std::optional<Variable>();
    return with_size(Variable{sym->st_value, *h.declared_type, 0});
  }
  for (const Variable& v : h.defined)
    if (sym && v.address == sym->st_value) return with_size(v);
  return make_error(Errc::unsupported, path_ + ": '" + std::string(name) + "' names " +
                                           std::to_string(h.defined.size()) + " static variables");
}

Result<std::optional<TypeId>> DwarfIndex::structure(std::string_view name) const {
  KK_TRY(walk({}, {std::string(name)}));
  auto it = impl_->structs.find(name);
  if (it == impl_->structs.end()) return std::optional<TypeId>();
  return std::optional(it->second);
}

Result<TypeDesc> DwarfIndex::describe(TypeId t) const {
  TypeDesc out;
  Dwarf_Die d;
  if (t.dim == 0) {
    KK_TRY_ASSIGN(std::optional<Dwarf_Die> s, impl_->strip(t.die));
    if (!s) {
      out.kind = TypeKind::void_type;
      out.name = "void";
      return out;
    }
    d = *s;
  } else {
    KK_TRY_ASSIGN(Dwarf_Die a, impl_->die_at(t.die));
    d = a;
  }
  const char* n = dw().dwarf_diename(&d);
  out.name = n ? n : "";
  Dwarf_Word size = 0;
  Dwarf_Attribute attr;
  if (dw().dwarf_attr(&d, DW_AT_byte_size, &attr) && dw().dwarf_formudata(&attr, &size) == 0) out.size = size;
  switch (dw().dwarf_tag(&d)) {
    case DW_TAG_base_type: out.kind = TypeKind::base; break;
    case DW_TAG_enumeration_type: out.kind = TypeKind::enumeration; break;
    case DW_TAG_pointer_type: {
      out.kind = TypeKind::pointer;
      if (out.size == 0) out.size = 8;
      std::optional<TypeId> target = type_of(&d);
      out.target = target.value_or(TypeId{0, 0});
      break;
    }
    case DW_TAG_structure_type:
    case DW_TAG_class_type:
    case DW_TAG_union_type:
      out.kind = dw().dwarf_tag(&d) == DW_TAG_union_type ? TypeKind::union_type : TypeKind::structure;
      out.declaration = has_flag(&d, DW_AT_declaration);
      break;
    case DW_TAG_subroutine_type: out.kind = TypeKind::function; break;
    case DW_TAG_array_type: {
      out.kind = TypeKind::array;
      std::vector<u64> counts;
      Dwarf_Die sub;
      if (dw().dwarf_child(&d, &sub) == 0) {
        do {
          if (dw().dwarf_tag(&sub) != DW_TAG_subrange_type) continue;
          Dwarf_Word v = 0;
          if (dw().dwarf_attr(&sub, DW_AT_count, &attr) && dw().dwarf_formudata(&attr, &v) == 0) counts.push_back(v);
          else if (dw().dwarf_attr(&sub, DW_AT_upper_bound, &attr) && dw().dwarf_formudata(&attr, &v) == 0) counts.push_back(v + 1);
          else counts.push_back(0);  // flexible array member
        } while (dw().dwarf_siblingof(&sub, &sub) == 0);
      }
      if (counts.empty()) counts.push_back(0);
      if (t.dim >= counts.size()) return make_error(Errc::corrupt, "array type has no dimension " + std::to_string(t.dim));
      std::optional<TypeId> elem = type_of(&d);
      if (!elem) return make_error(Errc::corrupt, "array type without an element type");
      Result<TypeDesc> e = describe(*elem);
      if (!e) return e;
      u64 total = e->size;
      for (size_t i = t.dim; i < counts.size(); ++i) total *= counts[i];
      out.count = counts[t.dim];
      out.size = total;
      out.target = t.dim + 1 < counts.size() ? TypeId{die_offset(&d), t.dim + 1} : *elem;
      break;
    }
    default: out.kind = TypeKind::other; break;
  }
  return out;
}

Result<std::optional<Member>> DwarfIndex::member(TypeId aggregate, std::string_view name) const {
  KK_TRY_ASSIGN(std::optional<Dwarf_Die> s, impl_->strip(aggregate.die));
  if (!s) return std::optional<Member>();
  Dwarf_Die d = *s;
  Dwarf_Die m;
  if (dw().dwarf_child(&d, &m) != 0) return std::optional<Member>();
  do {
    if (dw().dwarf_tag(&m) != DW_TAG_member) continue;
    Dwarf_Word off = 0;
    Dwarf_Attribute attr;
    if (dw().dwarf_attr(&m, DW_AT_data_member_location, &attr) && dw().dwarf_formudata(&attr, &off) != 0)
      return make_error(Errc::unsupported, "member '" + std::string(name) + "': location is an expression");
    const char* n = dw().dwarf_diename(&m);
    std::optional<TypeId> t = type_of(&m);
    if (!t) continue;
    if (n && name == n) {
      if (dw().dwarf_hasattr(&m, DW_AT_bit_size))
        return make_error(Errc::unsupported, "member '" + std::string(name) + "' is a bit-field");
      return std::optional(Member{off, *t});
    }
    if (!n) {  // anonymous struct or union: its members belong to this one
      Result<std::optional<Member>> inner = member(*t, name);
      if (!inner) return inner;
      if (*inner) return std::optional(Member{off + (*inner)->offset, (*inner)->type});
    }
  } while (dw().dwarf_siblingof(&m, &m) == 0);
  return std::optional<Member>();
}

}  // namespace kk::debuginfo
