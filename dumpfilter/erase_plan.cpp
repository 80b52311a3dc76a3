// erase_plan.cpp: resolving the filter configuration. The semantics are makedumpfile.conf(5)'s:
// `.` follows pointers as well as struct members; an erase with no size covers the object, the
// string a char* points at (up to 1024 bytes), or the object another pointer points at; a size
// on a pointer erases what it points at; nullify zeroes the pointer itself. A NULL pointer on the
// way makes the command erase nothing, as in makedumpfile; anything else that does not resolve is
// an error naming the line, since a rule that quietly erases nothing leaks what it was meant to hide.
#include "dumpfilter/erase_plan.h"

#include <algorithm>
#include <cstring>

#include "lib/debuginfo/dwarf_index.h"
#include "dumpfilter/dump_input.h"
#include "lib/io/hex.h"

namespace kk {

using debuginfo::Member;
using debuginfo::TypeDesc;
using debuginfo::TypeId;
using debuginfo::TypeKind;

namespace {

// x86_64's __START_KERNEL_map: symbols of the kernel image move with KASLR; per-CPU symbols are
// offsets below it and need a CPU to mean anything.
constexpr u64 kKernelImageStart = 0xffffffff80000000ULL;

struct LValue {
  u64 addr = 0;
  TypeId type{};
  u64 symbol_size = 0;  // a bare global whose DWARF type is incomplete: the ELF symbol's size
};

const char* kind_name(TypeKind k) {
  switch (k) {
    case TypeKind::base: return "a number";
    case TypeKind::enumeration: return "an enum";
    case TypeKind::pointer: return "a pointer";
    case TypeKind::structure: return "a struct";
    case TypeKind::union_type: return "a union";
    case TypeKind::array: return "an array";
    case TypeKind::void_type: return "void";
    case TypeKind::function: return "a function";
    case TypeKind::other: break;
  }
  return "of an unsupported kind";
}

class Planner {
 public:
  explicit Planner(const EraseTarget& t) : t_(t) {}

  Result<void> run_command(const FilterCommand& c) {
    if (!c.loop) return run_erase(c.erases[0], nullptr, LValue{}, next_command_++);
    u32 first = next_command_;
    next_command_ += static_cast<u32>(c.erases.size());
    return run_loop(c, first);
  }

  Result<ErasePlan> finish() && {
    std::stable_sort(pieces_.begin(), pieces_.end(),
                     [](const ErasePiece& a, const ErasePiece& b) { return a.paddr < b.paddr; });
    // makedumpfile keeps one range per start address (the longer); so do we.
    std::vector<ErasePiece> out;
    for (const ErasePiece& p : pieces_) {
      if (!out.empty() && out.back().paddr == p.paddr) out.back().size = std::max(out.back().size, p.size);
      else out.push_back(p);
    }
    return ErasePlan(std::move(out), std::move(entries_), t_.page_size);
  }

 private:
  Error err(int line, const std::string& msg) const {
    return make_error(Errc::corrupt, "line " + std::to_string(line) + ": " + msg);
  }
  Error err(int line, Error e) const { return std::move(e).context("line " + std::to_string(line)); }

  Result<TypeDesc> describe(TypeId t) const {
    Result<TypeDesc> d = t_.types.describe(t);
    if (!d || (d->kind != TypeKind::structure && d->kind != TypeKind::union_type)) return d;
    if (!d->declaration || d->name.empty()) return d;
    // Only declared in this compile unit: the full type lives in another one.
    KK_TRY_ASSIGN(std::optional<TypeId> full, t_.types.structure(d->name));
    if (!full) return d;
    return t_.types.describe(*full);
  }

  Result<std::optional<Member>> member(TypeId agg, const TypeDesc& d, std::string_view name) const {
    if (!d.declaration) return t_.types.member(agg, name);
    KK_TRY_ASSIGN(std::optional<TypeId> full, t_.types.structure(d.name));
    if (!full) return std::optional<Member>();
    return t_.types.member(*full, name);
  }

  Result<u64> read_pointer(int line, u64 vaddr) const {
    Result<u64> v = t_.memory.read_u64(vaddr);
    if (!v) return err(line, std::move(v).error());
    return *v;
  }

  // The global a symbol expression starts from, at its address in the crashed kernel.
  Result<LValue> global(int line, const std::string& name) const {
    Result<std::optional<debuginfo::Variable>> v = t_.types.variable(name);
    if (!v) return err(line, std::move(v).error());
    if (!*v) return err(line, "no global variable '" + name + "' in the vmlinux");
    if ((*v)->address < kKernelImageStart)
      return err(line, "'" + name + "' is a per-CPU variable, which erase does not handle");
    return LValue{(*v)->address + t_.kernel_offset, (*v)->type, (*v)->symbol_size};
  }

  // Subscripts after a name: arrays index in place, pointers index what they point at.
  Result<std::optional<LValue>> index(int line, const std::string& what, LValue lv, const std::vector<u64>& idx) const {
    for (u64 i : idx) {
      Result<TypeDesc> d = describe(lv.type);
      if (!d) return err(line, std::move(d).error());
      if (d->kind == TypeKind::array) {
        if (i >= d->count) return err(line, what + "[" + std::to_string(i) + "] is past its " + std::to_string(d->count) + " elements");
        Result<TypeDesc> e = describe(d->target);
        if (!e) return err(line, std::move(e).error());
        lv = LValue{lv.addr + i * e->size, d->target};
      } else if (d->kind == TypeKind::pointer) {
        Result<TypeDesc> e = describe(d->target);
        if (!e) return err(line, std::move(e).error());
        if (e->size == 0) return err(line, what + " points at something of unknown size and cannot be indexed");
        KK_TRY_ASSIGN(u64 p, read_pointer(line, lv.addr));
        if (p == 0) return std::optional<LValue>();
        lv = LValue{p + i * e->size, d->target};
      } else {
        return err(line, what + " is " + kind_name(d->kind) + ", not an array");
      }
    }
    return std::optional(lv);
  }

  // Walks parts[1..] from the root; nullopt when a NULL pointer is met on the way.
  Result<std::optional<LValue>> walk(int line, const SymbolExpr& e, LValue lv) const {
    std::string so_far = e.parts[0].name;
    Result<std::optional<LValue>> cur = index(line, so_far, lv, e.parts[0].indexes);
    if (!cur || !*cur) return cur;
    lv = **cur;
    for (size_t i = 1; i < e.parts.size(); ++i) {
      const ExprPart& part = e.parts[i];
      Result<TypeDesc> d = describe(lv.type);
      if (!d) return err(line, std::move(d).error());
      TypeId agg = lv.type;
      if (d->kind == TypeKind::pointer) {
        KK_TRY_ASSIGN(u64 p, read_pointer(line, lv.addr));
        if (p == 0) return std::optional<LValue>();
        agg = d->target;
        lv = LValue{p, d->target};
        d = describe(d->target);
        if (!d) return err(line, std::move(d).error());
      }
      if (d->kind != TypeKind::structure && d->kind != TypeKind::union_type)
        return err(line, "'" + so_far + "' is " + kind_name(d->kind) + ", it has no member '" + part.name + "'");
      Result<std::optional<Member>> m = member(agg, *d, part.name);
      if (!m) return err(line, std::move(m).error());
      if (!*m)
        return err(line, (d->name.empty() ? std::string("'") + so_far + "'" : "struct " + d->name) +
                             " has no member '" + part.name + "'");
      so_far += "." + part.name;
      cur = index(line, so_far, LValue{lv.addr + (*m)->offset, (*m)->type}, part.indexes);
      if (!cur || !*cur) return cur;
      lv = **cur;
    }
    return std::optional(lv);
  }

  Result<std::optional<LValue>> eval(int line, const SymbolExpr& e, const std::string* var, LValue bound) const {
    LValue root = bound;
    if (!var || e.parts[0].name != *var) {
      KK_TRY_ASSIGN(LValue g, global(line, e.parts[0].name));
      root = g;
    }
    return walk(line, e, root);
  }

  // Bytes of the NUL-terminated string at vaddr, at most kMaxEraseString.
  Result<u64> string_length(int line, u64 vaddr) const {
    std::byte buf[64];
    u64 n = 0;
    while (n < kMaxEraseString) {
      u64 chunk = std::min<u64>({sizeof buf, kMaxEraseString - n, t_.page_size - (vaddr + n) % t_.page_size});
      Result<void> r = t_.memory.read_virt(vaddr + n, std::span(buf, chunk));
      if (!r) return err(line, std::move(r).error());
      for (u64 i = 0; i < chunk; ++i)
        if (buf[i] == std::byte{0}) return n + i;
      n += chunk;
    }
    return n;
  }

  Result<u64> size_value(const EraseCommand& e, const std::string* var, LValue bound) const {
    KK_TRY_ASSIGN(std::optional<LValue> lv, eval(e.line, e.size_expr, var, bound));
    if (!lv) return u64{0};
    Result<TypeDesc> d = describe(lv->type);
    if (!d) return err(e.line, std::move(d).error());
    if ((d->kind != TypeKind::base && d->kind != TypeKind::enumeration) || d->size == 0 || d->size > 8)
      return err(e.line, "size '" + e.size_expr.text + "' is " + kind_name(d->kind) + ", not an integer");
    std::byte raw[8] = {};
    Result<void> r = t_.memory.read_virt(lv->addr, std::span(raw, d->size));
    if (!r) return err(e.line, std::move(r).error());
    return load_le<u64>(raw);
  }

  // Adds [vaddr, vaddr + size) page by page, each page translated on its own.
  Result<void> add_range(int line, u64 vaddr, u64 size, bool nullify, u32 entry) {
    while (size > 0) {
      u64 chunk = std::min(size, t_.page_size - vaddr % t_.page_size);
      Result<std::optional<u64>> pa = t_.memory.virt_to_phys(vaddr);
      if (!pa) return err(line, std::move(pa).error());
      if (!*pa) return err(line, "kernel address " + hex(vaddr) + " is not mapped");
      if (pieces_.size() >= kMaxErasePieces)
        return err(line, "more than " + std::to_string(kMaxErasePieces) + " page pieces to erase");
      pieces_.push_back({**pa, static_cast<u32>(chunk), nullify, entry});
      vaddr += chunk;
      size -= chunk;
    }
    return {};
  }

  Result<void> run_erase(const EraseCommand& e, const std::string* var, LValue bound, u32 command, u64 iteration = 0) {
    Result<std::optional<LValue>> target = eval(e.line, e.target, var, bound);
    if (!target) return std::move(target).error();
    if (!*target) return {};
    LValue lv = **target;
    Result<TypeDesc> d = describe(lv.type);
    if (!d) return err(e.line, std::move(d).error());
    bool pointer = d->kind == TypeKind::pointer;
    u64 start = lv.addr, size = 0;
    if (e.size == EraseSize::nullify) {
      if (!pointer) return err(e.line, "nullify needs a pointer; '" + e.target.text + "' is " + kind_name(d->kind));
      size = d->size;
    } else {
      if (e.size == EraseSize::bytes) {
        size = e.bytes;
      } else if (e.size == EraseSize::symbol) {
        KK_TRY_ASSIGN(u64 v, size_value(e, var, bound));
        size = v;
      }
      if (pointer) {  // the data pointed at, not the pointer
        KK_TRY_ASSIGN(u64 p, read_pointer(e.line, lv.addr));
        if (p == 0) return {};
        start = p;
        if (e.size == EraseSize::natural) {
          Result<TypeDesc> pt = describe(d->target);
          if (!pt) return err(e.line, std::move(pt).error());
          if (pt->kind == TypeKind::void_type || pt->kind == TypeKind::function)
            return err(e.line, "'" + e.target.text + "' points at " + kind_name(pt->kind) + ": give a size or nullify");
          if (pt->kind == TypeKind::base && pt->size == 1) {
            KK_TRY_ASSIGN(u64 n, string_length(e.line, start));
            size = n;
          } else {
            size = pt->size;
          }
        }
      } else if (e.size == EraseSize::natural) {
        size = d->size ? d->size : lv.symbol_size;
      }
      if (e.size == EraseSize::natural && size == 0 && !pointer)
        return err(e.line, "the size of '" + e.target.text + "' is not known: give one");
    }
    if (size == 0) return {};
    if (size > (u64{1} << 40)) return err(e.line, "size " + std::to_string(size) + " of '" + e.target.text + "' is too large");
    u32 entry = static_cast<u32>(entries_.size());
    entries_.push_back({e.target.text, e.size == EraseSize::nullify, command, iteration});
    return add_range(e.line, start, size, e.size == EraseSize::nullify, entry);
  }

  Result<void> run_body(const FilterCommand& c, LValue element, u32 first, u64 iteration) {
    if (iteration >= kMaxLoopIterations)
      return err(c.line, "the loop runs past " + std::to_string(kMaxLoopIterations) + " elements (a corrupt or circular list?)");
    for (size_t i = 0; i < c.erases.size(); ++i)
      KK_TRY(run_erase(c.erases[i], &c.loop->var, element, first + static_cast<u32>(i), iteration));
    return {};
  }

  Result<void> run_loop(const FilterCommand& c, u32 first) {
    const LoopSpec& loop = *c.loop;
    int line = c.line;
    Result<std::optional<LValue>> list = eval(line, loop.list, nullptr, {});
    if (!list) return std::move(list).error();
    if (!*list) return {};
    LValue lv = **list;
    Result<TypeDesc> d = describe(lv.type);
    if (!d) return err(line, std::move(d).error());
    if (loop.kind == LoopKind::within) return run_within(c, lv, *d, first);
    if (loop.kind == LoopKind::plain && d->kind == TypeKind::array) {
      Result<TypeDesc> e = describe(d->target);
      if (!e) return err(line, std::move(e).error());
      u64 n = 0;
      for (u64 i = 0; i < d->count; ++i) {
        LValue el{lv.addr + i * e->size, d->target};
        if (e->kind == TypeKind::pointer) {  // arrays of pointers: NULL slots are skipped
          KK_TRY_ASSIGN(u64 p, read_pointer(line, el.addr));
          if (p == 0) continue;
        }
        KK_TRY(run_body(c, el, first, n++));
      }
      return {};
    }
    if (loop.kind == LoopKind::via && d->kind == TypeKind::array)
      return err(line, "'" + loop.list.text + "' is an array: loop over it without 'via'");
    // A struct, or a pointer to one, chained through its member `via` (makedumpfile: "next").
    TypeId st = lv.type;
    u64 node = lv.addr;
    if (d->kind == TypeKind::pointer) {
      KK_TRY_ASSIGN(u64 p, read_pointer(line, lv.addr));
      node = p;
      st = d->target;
      d = describe(st);
      if (!d) return err(line, std::move(d).error());
    }
    if (d->kind != TypeKind::structure)
      return err(line, "'" + loop.list.text + "' is " + kind_name(d->kind) + ": loop over an array or a struct list");
    if (d->name == "list_head") return err(line, "'" + loop.list.text + "' is a list_head: use 'within STRUCT:MEMBER'");
    std::string via = loop.kind == LoopKind::via ? loop.next_member : "next";
    Result<std::optional<Member>> m = member(st, *d, via);
    if (!m) return err(line, std::move(m).error());
    if (!*m) return err(line, "struct " + d->name + " has no member '" + via + "'");
    Result<TypeDesc> md = describe((*m)->type);
    if (!md) return err(line, std::move(md).error());
    if (md->kind != TypeKind::pointer) return err(line, "member '" + via + "' of struct " + d->name + " is not a pointer");
    u64 first_node = node;
    for (u64 n = 0; node != 0; ++n) {
      KK_TRY(run_body(c, LValue{node, st}, first, n));
      KK_TRY_ASSIGN(u64 next, read_pointer(line, node + (*m)->offset));
      node = next == first_node ? 0 : next;
    }
    return {};
  }

  // `for id in HEAD within STRUCT:MEMBER`: HEAD is a struct list_head (or HEAD.next); each entry
  // is the STRUCT around the list_head MEMBER, up to HEAD again.
  Result<void> run_within(const FilterCommand& c, LValue lv, const TypeDesc& d, u32 first) {
    const LoopSpec& loop = *c.loop;
    int line = c.line;
    bool via_next = d.kind == TypeKind::pointer && loop.list.parts.size() > 1 && loop.list.parts.back().name == "next" &&
                    loop.list.parts.back().indexes.empty();
    if (!(d.kind == TypeKind::structure && d.name == "list_head") && !via_next)
      return err(line, "'" + loop.list.text + "' is not a struct list_head");
    u64 head = lv.addr;  // HEAD.next sits at offset 0 of HEAD
    Result<std::optional<TypeId>> st = t_.types.structure(loop.struct_name);
    if (!st) return err(line, std::move(st).error());
    if (!*st) return err(line, "no struct " + loop.struct_name + " in the vmlinux");
    Result<TypeDesc> sd = describe(**st);
    if (!sd) return err(line, std::move(sd).error());
    Result<std::optional<Member>> m = member(**st, *sd, loop.list_member);
    if (!m) return err(line, std::move(m).error());
    if (!*m) return err(line, "struct " + loop.struct_name + " has no member '" + loop.list_member + "'");
    Result<TypeDesc> md = describe((*m)->type);
    if (!md) return err(line, std::move(md).error());
    if (md->kind != TypeKind::structure || md->name != "list_head")
      return err(line, "member '" + loop.list_member + "' of struct " + loop.struct_name + " is not a list_head");
    Result<std::optional<Member>> next_m = member((*m)->type, *md, "next");
    if (!next_m || !*next_m) return err(line, "struct list_head has no member 'next'");
    u64 next_off = (*next_m)->offset;
    Result<u64> pos = read_pointer(line, head + next_off);
    if (!pos) return std::move(pos).error();
    for (u64 n = 0; *pos != head && *pos != 0; ++n) {
      KK_TRY(run_body(c, LValue{*pos - (*m)->offset, **st}, first, n));
      pos = read_pointer(line, *pos + next_off);
      if (!pos) return std::move(pos).error();
    }
    return {};
  }

  const EraseTarget& t_;
  std::vector<ErasePiece> pieces_;
  std::vector<EraseEntry> entries_;
  u32 next_command_ = 0;
};

}  // namespace

ErasePlan::ErasePlan(std::vector<ErasePiece> pieces, std::vector<EraseEntry> entries, u64 page_size)
    : pieces_(std::move(pieces)), entries_(std::move(entries)), page_size_(page_size),
      applied_(std::make_unique<std::atomic<bool>[]>(pieces_.size())) {}

void ErasePlan::apply(u64 pfn, std::span<std::byte> page) const {
  u64 base = pfn * page_size_;
  auto it = std::lower_bound(pieces_.begin(), pieces_.end(), base,
                             [](const ErasePiece& p, u64 a) { return p.paddr < a; });
  for (; it != pieces_.end() && it->paddr < base + page.size(); ++it) {
    u64 off = it->paddr - base;
    u64 n = std::min<u64>(it->size, page.size() - off);
    std::memset(page.data() + off, it->nullify ? 0 : std::to_integer<int>(kEraseFill), n);
    applied_[static_cast<size_t>(it - pieces_.begin())].store(true, std::memory_order_relaxed);
  }
}

std::string ErasePlan::eraseinfo() const { return format(false); }

u64 ErasePlan::eraseinfo_bound() const { return format(true).size(); }

std::string ErasePlan::format(bool all) const {
  std::vector<u64> bytes(entries_.size(), 0);
  std::vector<bool> hit(entries_.size(), false);
  for (size_t i = 0; i < pieces_.size(); ++i) {
    if (!all && !applied_[i].load(std::memory_order_relaxed)) continue;
    bytes[pieces_[i].entry] += pieces_[i].size;
    hit[pieces_[i].entry] = true;
  }
  // makedumpfile lists each erase command's iterations together, commands in file order.
  std::vector<u32> order;
  for (u32 i = 0; i < entries_.size(); ++i)
    if (hit[i]) order.push_back(i);
  std::stable_sort(order.begin(), order.end(), [&](u32 a, u32 b) {
    return std::tie(entries_[a].command, entries_[a].iteration) < std::tie(entries_[b].command, entries_[b].iteration);
  });
  std::string out;
  for (u32 i : order)
    out += "erase " + entries_[i].expr + (entries_[i].nullify ? " nullify\n" : " size " + std::to_string(bytes[i]) + "\n");
  return out;
}

Result<ErasePlan> plan_erase(const FilterConfig& cfg, const EraseTarget& target) {
  Planner p(target);
  for (const FilterCommand& c : cfg.commands) KK_TRY(p.run_command(c));
  return std::move(p).finish();
}

Result<ErasePlan> plan_erase_for_dump(const std::string& config_path, const std::string& vmlinux_path,
                                      const DumpInput& in, const KernelReader& memory) {
  KK_TRY_ASSIGN(FilterConfig cfg, read_filter_config(config_path));
  KK_TRY_ASSIGN(std::unique_ptr<debuginfo::DwarfIndex> dw, debuginfo::DwarfIndex::open(vmlinux_path));
  std::vector<std::string> vars = cfg.symbols();
  vars.push_back("init_uts_ns");
  KK_TRY(dw->prepare(vars, cfg.struct_names()));
  const Vmcoreinfo& vi = in.vmcoreinfo();
  u64 offset = vi.kernel_offset().value_or(0);
  // A vmlinux of another build would put every erase in the wrong place: refuse it.
  std::optional<u64> uts = vi.symbol("init_uts_ns");
  Result<std::optional<debuginfo::Variable>> v = dw->variable("init_uts_ns");
  if (!v) return std::move(v).error().context(vmlinux_path);
  if (!uts || !*v) return make_error(Errc::missing, vmlinux_path + ": cannot check it against the dump (no init_uts_ns)");
  if ((*v)->address + offset != *uts)
    return make_error(Errc::corrupt, vmlinux_path + ": not the dump's kernel (init_uts_ns at " +
                                         hex((*v)->address + offset) + ", the dump says " + hex(*uts) + ")");
  EraseTarget t{*dw, memory, offset, in.page_size()};
  Result<ErasePlan> plan = plan_erase(cfg, t);
  if (!plan) return std::move(plan).error().context(config_path);
  return plan;
}

}  // namespace kk
