// test_erase_plan.cpp: resolving erase rules over a table of C types and a fake kernel memory
// (KASLR offset, a page mapped out of order), then editing pages and writing the eraseinfo.
#include <catch2/catch.hpp>
#include <cstring>
#include <map>
#include <string>

#include "tests/unit/temp_dir.h"
#include "dumpfilter/erase_plan.h"
#include "dumpfilter/writer_diskdump.h"
#include "dumpfilter/writer_elf.h"
#include "lib/io/file.h"
#include "lib/io/hex.h"
#include "lib/io/sink.h"
#include "lib/io/text_file.h"

using namespace kk;
using namespace kk::debuginfo;

namespace {

constexpr u64 kOffset = 0x200000;                 // KASLR offset of the kernel image
constexpr u64 kLink = 0xffffffff81000000ull;      // link address of the first variable
constexpr u64 kImage = kLink + kOffset;           // where the image really is
constexpr u64 kImagePhys = 0x1000000;
constexpr u64 kDirect = 0xffff888000000000ull;    // direct map: phys = vaddr - kDirect
constexpr u64 kOddPage = kDirect + 0x101000;      // ... except this page, at phys 0x9000

// Type ids
enum : u64 { tChar = 1, tInt, tULong, tCharP, tVoidP, tChar16, tItem, tItemP, tListHead, tListHeadP,
             tItemPtrs, tBox, tItems, tCharUnsized };

struct FakeType {
  TypeDesc desc;
  std::map<std::string, Member> members;
};

class FakeTypes final : public TypeSource {
 public:
  FakeTypes() {
    auto base = [](const char* n, u64 s) { return TypeDesc{TypeKind::base, n, s, {}, 0, false}; };
    auto ptr = [](u64 to) { return TypeDesc{TypeKind::pointer, "", 8, TypeId{to, 0}, 0, false}; };
    auto st = [](const char* n, u64 s) { return TypeDesc{TypeKind::structure, n, s, {}, 0, false}; };
    auto arr = [](u64 elem, u64 n, u64 s) { return TypeDesc{TypeKind::array, "", s, TypeId{elem, 0}, n, false}; };
    t_[tChar] = {base("char", 1), {}};
    t_[tInt] = {base("int", 4), {}};
    t_[tULong] = {base("long unsigned int", 8), {}};
    t_[tCharP] = {ptr(tChar), {}};
    t_[tVoidP] = {ptr(0), {}};
    t_[tChar16] = {arr(tChar, 16, 16), {}};
    t_[tListHead] = {st("list_head", 16), {{"next", {0, {tListHeadP, 0}}}, {"prev", {8, {tListHeadP, 0}}}}};
    t_[tListHeadP] = {ptr(tListHead), {}};
    // struct item { int key; char *name; struct item *next; struct list_head node; };
    t_[tItem] = {st("item", 40), {{"key", {0, {tInt, 0}}}, {"name", {8, {tCharP, 0}}},
                                  {"next", {16, {tItemP, 0}}}, {"node", {24, {tListHead, 0}}}}};
    t_[tItemP] = {ptr(tItem), {}};
    t_[tItemPtrs] = {arr(tItemP, 4, 32), {}};
    // struct box { char tag[16]; void *secret; unsigned long secret_len; struct item *first; };
    t_[tBox] = {st("box", 40), {{"tag", {0, {tChar16, 0}}}, {"secret", {16, {tVoidP, 0}}},
                                {"secret_len", {24, {tULong, 0}}}, {"first", {32, {tItemP, 0}}}}};
    t_[tItems] = {arr(tItem, 3, 120), {}};
    t_[tCharUnsized] = {arr(tChar, 0, 0), {}};  // extern const char banner[];
    vars_["box0"] = {kLink + 0x000, {tBox, 0}};
    vars_["box1"] = {kLink + 0x100, {tBox, 0}};
    vars_["items"] = {kLink + 0x200, {tItems, 0}};
    vars_["item_ptrs"] = {kLink + 0x300, {tItemPtrs, 0}};
    vars_["head"] = {kLink + 0x400, {tListHead, 0}};
    vars_["pcpu"] = {0x1a000, {tInt, 0}};
    vars_["banner"] = {kLink + 0x500, {tCharUnsized, 0}, 24};  // size from the ELF symbol
    vars_["unsized"] = {kLink + 0x600, {tCharUnsized, 0}};
  }
  Result<std::optional<Variable>> variable(std::string_view n) const override {
    auto it = vars_.find(std::string(n));
    return it == vars_.end() ? std::optional<Variable>() : std::optional(it->second);
  }
  Result<std::optional<TypeId>> structure(std::string_view n) const override {
    for (const auto& [id, t] : t_)
      if (t.desc.kind == TypeKind::structure && t.desc.name == n) return std::optional(TypeId{id, 0});
    return std::optional<TypeId>();
  }
  Result<TypeDesc> describe(TypeId t) const override {
    if (t.die == 0) return TypeDesc{TypeKind::void_type, "void", 0, {}, 0, false};
    return t_.at(t.die).desc;
  }
  Result<std::optional<Member>> member(TypeId agg, std::string_view n) const override {
    const auto& m = t_.at(agg.die).members;
    auto it = m.find(std::string(n));
    return it == m.end() ? std::optional<Member>() : std::optional(it->second);
  }

 private:
  std::map<u64, FakeType> t_;
  std::map<std::string, Variable> vars_;
};

// Kernel memory by virtual address, translated as the x86_64 kernel maps it.
class FakeMemory final : public KernelReader {
 public:
  void put(u64 vaddr, const void* data, size_t n) {
    for (size_t i = 0; i < n; ++i) bytes_[vaddr + i] = static_cast<const std::byte*>(data)[i];
  }
  void put64(u64 vaddr, u64 v) { put(vaddr, &v, 8); }
  void put_str(u64 vaddr, const std::string& s) { put(vaddr, s.c_str(), s.size() + 1); }
  Result<void> read_virt(u64 vaddr, std::span<std::byte> out) const override {
    for (size_t i = 0; i < out.size(); ++i) {
      Result<std::optional<u64>> pa = virt_to_phys(vaddr + i);
      if (!*pa) return make_error(Errc::missing, "kernel address " + hex(vaddr + i) + " is not mapped");
      auto it = bytes_.find(vaddr + i);
      out[i] = it == bytes_.end() ? std::byte{0} : it->second;
    }
    return {};
  }
  Result<std::optional<u64>> virt_to_phys(u64 v) const override {
    if (v >= kImage && v < kImage + 0x10000) return std::optional(kImagePhys + (v - kImage));
    if (v >= kOddPage && v < kOddPage + 0x1000) return std::optional(0x9000 + (v - kOddPage));
    if (v >= kDirect && v < kDirect + 0x10000000) return std::optional(v - kDirect);
    return std::optional<u64>();
  }

 private:
  std::map<u64, std::byte> bytes_;
};

constexpr u64 kItemA = kDirect + 0x200000, kItemB = kDirect + 0x200100, kItemC = kDirect + 0x200200;

FakeMemory fixture() {
  FakeMemory m;
  u64 box0 = kImage;
  m.put(box0, "secret-tag\0\0\0\0\0", 16);
  m.put64(box0 + 16, kDirect + 0x100f00);  // secret: runs from one page into the odd one
  m.put64(box0 + 24, 0x200);               // secret_len
  m.put64(box0 + 32, kItemA);              // first
  // box1: all NULL pointers.
  // items A -> B -> C -> A through next; on the list `head` as A, C.
  const char* names[] = {"alpha", "bravo", "charlie"};
  u64 items[] = {kItemA, kItemB, kItemC};
  for (int i = 0; i < 3; ++i) {
    m.put(items[i], &i, 4);
    m.put64(items[i] + 8, kDirect + 0x300000 + 0x40 * i);
    m.put_str(kDirect + 0x300000 + 0x40 * i, names[i]);
    m.put64(items[i] + 16, items[(i + 1) % 3]);
  }
  u64 head = kImage + 0x400;
  m.put64(head, kItemA + 24);
  m.put64(kItemA + 24, kItemC + 24);
  m.put64(kItemC + 24, head);
  // item_ptrs = {B, NULL, C, NULL}
  m.put64(kImage + 0x300, kItemB);
  m.put64(kImage + 0x310, kItemC);
  return m;
}

struct Planned {
  FakeTypes types;
  FakeMemory mem = fixture();
  Result<ErasePlan> plan(const std::string& text) {
    Result<FilterConfig> cfg = parse_filter_config(text);
    REQUIRE(cfg.ok());
    return plan_erase(*cfg, EraseTarget{types, mem, kOffset, 4096});
  }
  ErasePlan ok(const std::string& text) {
    Result<ErasePlan> p = plan(text);
    INFO(text);
    if (!p) FAIL(p.error().msg);
    return std::move(*p);
  }
};

u64 phys(u64 image_vaddr) { return kImagePhys + (image_vaddr - kImage); }

}  // namespace

TEST_CASE("erase plan: an object, a member, an element", "[erase_plan]") {
  Planned t;
  ErasePlan p = t.ok("erase box0.tag\nerase box0.tag[3]\nerase items[1].key\n");
  REQUIRE(p.pieces().size() == 3);
  REQUIRE(p.pieces()[0].paddr == phys(kImage));  // KASLR offset applied
  REQUIRE(p.pieces()[0].size == 16);
  REQUIRE(!p.pieces()[0].nullify);
  REQUIRE(p.pieces()[1].paddr == phys(kImage) + 3);
  REQUIRE(p.pieces()[1].size == 1);
  REQUIRE(p.pieces()[2].paddr == phys(kImage + 0x200 + 40));
  REQUIRE(p.pieces()[2].size == 4);
}

TEST_CASE("erase plan: an array declared without a size takes the ELF symbol's", "[erase_plan]") {
  Planned t;
  ErasePlan p = t.ok("erase banner\n");
  REQUIRE(p.pieces().size() == 1);
  REQUIRE(p.pieces()[0].paddr == phys(kImage + 0x500));
  REQUIRE(p.pieces()[0].size == 24);
  Result<ErasePlan> none = t.plan("erase unsized\n");
  REQUIRE(!none);
  REQUIRE(none.error().msg == "line 1: the size of 'unsized' is not known: give one");
  REQUIRE(t.ok("erase unsized size 8\n").pieces()[0].size == 8);
}

TEST_CASE("erase plan: pointers: strings, sizes from the dump, nullify", "[erase_plan]") {
  Planned t;
  ErasePlan s = t.ok("erase box0.first.name\n");  // char *: the string, without its NUL
  REQUIRE(s.pieces().size() == 1);
  REQUIRE(s.pieces()[0].paddr == 0x300000);
  REQUIRE(s.pieces()[0].size == 5);
  // A size on a void * erases what it points at; the range crosses into a page mapped elsewhere.
  ErasePlan v = t.ok("erase box0.secret size box0.secret_len\n");
  REQUIRE(v.pieces().size() == 2);
  REQUIRE(v.pieces()[0].paddr == 0x9000);
  REQUIRE(v.pieces()[0].size == 0x100);
  REQUIRE(v.pieces()[1].paddr == 0x100f00);
  REQUIRE(v.pieces()[1].size == 0x100);
  ErasePlan k = t.ok("erase box0.first size 1K\n");
  REQUIRE(k.pieces()[0].paddr == 0x200000);
  REQUIRE(k.pieces()[0].size == 1024);
  ErasePlan n = t.ok("erase box0.secret nullify\n");
  REQUIRE(n.pieces().size() == 1);
  REQUIRE(n.pieces()[0].paddr == phys(kImage + 16));
  REQUIRE(n.pieces()[0].size == 8);
  REQUIRE(n.pieces()[0].nullify);
  ErasePlan whole = t.ok("erase box0.first\n");  // struct item *: the struct
  REQUIRE(whole.pieces()[0].size == 40);
}

TEST_CASE("erase plan: a NULL pointer on the way erases nothing", "[erase_plan]") {
  Planned t;
  ErasePlan p = t.ok("erase box1.first.name\nerase box1.secret size 16\nfor it in box1.first via next\n erase it.key\nendfor\n");
  REQUIRE(p.empty());
}

TEST_CASE("erase plan: loops over an array, pointers, a chain, a list_head", "[erase_plan]") {
  Planned t;
  ErasePlan arr = t.ok("for it in items\n erase it.key\nendfor\n");
  REQUIRE(arr.pieces().size() == 3);
  REQUIRE(arr.entries().size() == 3);
  REQUIRE(arr.entries()[2].iteration == 2);
  REQUIRE(arr.entries()[2].expr == "it.key");
  ErasePlan ptrs = t.ok("for p in item_ptrs\n erase p.name\nendfor\n");  // NULL slots skipped
  REQUIRE(ptrs.pieces().size() == 2);
  REQUIRE(ptrs.pieces()[0].paddr == 0x300040);  // "bravo"
  REQUIRE(ptrs.pieces()[1].paddr == 0x300080);  // "charlie"
  REQUIRE(ptrs.pieces()[1].size == 7);
  ErasePlan via = t.ok("for it in box0.first via next\n erase it.key\n erase it.name\nendfor\n");
  REQUIRE(via.pieces().size() == 6);  // A, B, C, then back at A: stop
  ErasePlan dflt = t.ok("for it in box0.first\n erase it.key\nendfor\n");  // makedumpfile: "next"
  REQUIRE(dflt.pieces().size() == 3);
  ErasePlan within = t.ok("for it in head within item:node\n erase it.key\nendfor\n");
  REQUIRE(within.pieces().size() == 2);
  REQUIRE(within.pieces()[0].paddr == 0x200000);
  REQUIRE(within.pieces()[1].paddr == 0x200200);
  ErasePlan next = t.ok("for it in head.next within item:node\n erase it.key size it.key\nendfor\n");
  REQUIRE(next.pieces().size() == 1);  // A's key is 0 (erases nothing), C's is 2
  REQUIRE(next.pieces()[0].paddr == 0x200200);
  REQUIRE(next.pieces()[0].size == 2);
}

TEST_CASE("erase plan: what does not resolve is an error naming the line", "[erase_plan]") {
  Planned t;
  auto [text, msg] = GENERATE(table<std::string, std::string>({
      {"erase box0.tag\nerase nosuch\n", "line 2: no global variable 'nosuch' in the vmlinux"},
      {"erase box0.nosuch\n", "line 1: struct box has no member 'nosuch'"},
      {"erase box0.tag.x\n", "line 1: 'box0.tag' is an array, it has no member 'x'"},
      {"erase box0.secret_len.x\n", "line 1: 'box0.secret_len' is a number, it has no member 'x'"},
      {"erase box0.tag[16]\n", "line 1: box0.tag[16] is past its 16 elements"},
      {"erase box0.secret_len[1]\n", "line 1: box0.secret_len is a number, not an array"},
      {"erase box0.tag nullify\n", "line 1: nullify needs a pointer; 'box0.tag' is an array"},
      {"erase box0.secret\n", "line 1: 'box0.secret' points at void: give a size or nullify"},
      {"erase box0 size box0.tag\n", "line 1: size 'box0.tag' is an array, not an integer"},
      {"erase pcpu\n", "line 1: 'pcpu' is a per-CPU variable, which erase does not handle"},
      {"for it in box0\n erase it.tag\nendfor\n", "line 1: struct box has no member 'next'"},
      {"for it in head\n erase it.key\nendfor\n", "line 1: 'head' is a list_head: use 'within STRUCT:MEMBER'"},
      {"for it in items via next\n erase it.key\nendfor\n", "line 1: 'items' is an array: loop over it without 'via'"},
      {"for it in box0.tag within item:node\n erase it.key\nendfor\n", "line 1: 'box0.tag' is not a struct list_head"},
      {"for it in head within item:key\n erase it.key\nendfor\n", "line 1: member 'key' of struct item is not a list_head"},
      {"for it in head within nosuch:node\n erase it.key\nendfor\n", "line 1: no struct nosuch in the vmlinux"},
      {"for it in head within item:nosuch\n erase it.key\nendfor\n", "line 1: struct item has no member 'nosuch'"},
      {"for it in items\n erase it.nosuch\nendfor\n", "line 2: struct item has no member 'nosuch'"},
  }));
  Result<ErasePlan> p = t.plan(text);
  INFO(text);
  REQUIRE(!p);
  REQUIRE(p.error().msg == msg);
}

TEST_CASE("erase plan: an unmapped address is an error", "[erase_plan]") {
  Planned t;
  t.mem.put64(kImage + 32, 0xffffc90000000000ull);  // box0.first into a hole
  Result<ErasePlan> p = t.plan("erase box0.first size 8\n");
  REQUIRE(!p);
  REQUIRE(p.error().msg == "line 1: kernel address 0xffffc90000000000 is not mapped");
}

TEST_CASE("erase plan: a list that never comes back is cut at the bound", "[erase_plan]") {
  Planned t;
  t.mem.put64(kItemC + 16, kItemC);  // C -> C: not back at A
  Result<ErasePlan> p = t.plan("for it in box0.first via next\n erase it.name nullify\nendfor\n");
  REQUIRE(!p);
  REQUIRE(p.error().msg == "line 1: the loop runs past 1048576 elements (a corrupt or circular list?)");
}

TEST_CASE("erase plan: page edits and the eraseinfo of what was applied", "[erase_plan]") {
  Planned t;
  ErasePlan p = t.ok(
      "erase box0.tag size 4\n"        // same start as the next: one piece, the longer
      "erase box0.tag\n"
      "erase box0.secret nullify\n"
      "erase box0.secret size box0.secret_len\n"
      "for it in items\n erase it.key\nendfor\n");
  REQUIRE(p.pieces().size() == 7);  // 1 + 1 + 2 + 3
  u64 pfn = kImagePhys / 4096;
  std::vector<std::byte> page(4096, std::byte{0x11});
  p.apply(pfn, page);
  for (size_t i = 0; i < 16; ++i) REQUIRE(page[i] == std::byte{'X'});
  for (size_t i = 16; i < 24; ++i) REQUIRE(page[i] == std::byte{0});
  REQUIRE(page[24] == std::byte{0x11});
  REQUIRE(page[0x200 + 40] == std::byte{'X'});
  REQUIRE(page[0x200 + 44] == std::byte{0x11});
  // Only one page of the secret is dumped: the eraseinfo counts the bytes really erased.
  std::vector<std::byte> odd(4096, std::byte{0x22});
  p.apply(0x9000 / 4096, odd);
  REQUIRE(odd[0] == std::byte{'X'});
  REQUIRE(odd[0xff] == std::byte{'X'});
  REQUIRE(odd[0x100] == std::byte{0x22});
  std::vector<std::byte> other(4096, std::byte{0x33});
  p.apply(0x5000, other);
  REQUIRE(other == std::vector<std::byte>(4096, std::byte{0x33}));
  REQUIRE(p.eraseinfo() ==
          "erase box0.tag size 16\n"
          "erase box0.secret nullify\n"
          "erase box0.secret size 256\n"
          "erase it.key size 4\n"
          "erase it.key size 4\n"
          "erase it.key size 4\n");
  REQUIRE(ErasePlan().eraseinfo().empty());
  // What ELF output reserves: the eraseinfo with every piece applied, never less than the real one.
  REQUIRE(p.eraseinfo_bound() == std::string("erase box0.tag size 16\n"
                                             "erase box0.secret nullify\n"
                                             "erase box0.secret size 512\n").size() +
                                     3 * std::string("erase it.key size 4\n").size());
  REQUIRE(p.eraseinfo_bound() >= p.eraseinfo().size());
  REQUIRE(ErasePlan().eraseinfo_bound() == 0);
}

TEST_CASE("erase plan: the eraseinfo goes after the page data, placed by the sub-header", "[erase_plan]") {
  kk::test::TempDir tmp;
  const std::string path = tmp.file("dump");
  std::vector<std::byte> notes(40, std::byte{0x4e});
  DiskdumpMeta meta;
  meta.block_size = 4096;
  meta.max_pfn = 8;
  meta.codec = CodecKind::none;
  meta.notes = notes;
  const std::string info = "erase init_uts_ns.name.nodename size 65\nerase log_buf nullify\n";
  std::vector<std::byte> file;
  u64 data_end = 0;
  {
    Result<OutputFile> out = OutputFile::create(path, false);
    REQUIRE(out);
    FileSink sink(std::move(*out));
    DiskdumpWriter w(sink, meta);
    REQUIRE(w.write_headers());
    std::vector<std::byte> bm(1, std::byte{0x01});
    REQUIRE(w.add_bitmaps(0, bm, bm, {}));
    REQUIRE(w.start_data(1));
    std::vector<std::byte> page(4096, std::byte{'X'});
    REQUIRE(w.add_page(0, page, 0));
    data_end = w.bytes_end();
    REQUIRE(w.write_eraseinfo(info));
    REQUIRE(w.write_eraseinfo(""));  // nothing erased: nothing recorded
    REQUIRE(w.finish());
    REQUIRE(w.bytes_end() == data_end + info.size());
    REQUIRE(sink.finish());
  }
  Result<std::vector<std::byte>> bytes = read_binary_file(path, 1u << 20);
  REQUIRE(bytes);
  REQUIRE(bytes->size() == data_end + info.size());
  const std::byte* sub = bytes->data() + 4096;
  REQUIRE(load_le<u64>(sub + offsetof(diskdump::KdumpSubHeader, offset_eraseinfo)) == data_end);
  REQUIRE(load_le<u64>(sub + offsetof(diskdump::KdumpSubHeader, size_eraseinfo)) == info.size());
  REQUIRE(load_le<u64>(sub + offsetof(diskdump::KdumpSubHeader, size_note)) == notes.size());  // untouched
  REQUIRE(std::string(reinterpret_cast<const char*>(bytes->data() + data_end), info.size()) == info);
}

TEST_CASE("erase plan: ELF output keeps makedumpfile's ERASEINFO note after the notes", "[erase_plan]") {
  kk::test::TempDir tmp;
  const std::string path = tmp.file("core");
  std::vector<std::byte> notes(22, std::byte{0x4e});  // not a multiple of 4: the note is aligned
  const std::string info = "erase log_buf size 4096\n";
  ElfMeta em;
  em.notes = notes;
  LoadSegment s;
  s.paddr = 0;
  s.vaddr = 0xffff888000000000ull;
  s.filesz = s.memsz = 4096;
  em.segments = {s};
  em.eraseinfo_reserve = 30;  // the bound: more than the text
  {
    Result<OutputFile> out = OutputFile::create(path, false);
    REQUIRE(out);
    FileSink sink(std::move(*out));
    ElfWriter w(sink, em);
    REQUIRE(w.write_headers());
    std::vector<std::byte> bm(1, std::byte{0x01});
    REQUIRE(w.add_bitmaps(0, bm, bm, {}));
    REQUIRE(w.start_data(1));
    std::vector<std::byte> page(4096, std::byte{'X'});
    REQUIRE(w.add_page(0, page, 0));
    REQUIRE(!w.write_eraseinfo(std::string(31, 'e')));  // past the reservation
    REQUIRE(w.write_eraseinfo(info));
    REQUIRE(w.finish());
    REQUIRE(sink.finish());
  }
  Result<std::vector<std::byte>> bytes = read_binary_file(path, 1u << 20);
  REQUIRE(bytes);
  const std::byte* f = bytes->data();
  u64 phoff = load_le<u64>(f + 32);
  REQUIRE(load_le<u32>(f + phoff) == 4u);  // PT_NOTE first
  u64 note_off = load_le<u64>(f + phoff + 8);
  u64 note_size = load_le<u64>(f + phoff + 32);
  REQUIRE(note_size == 22 + 2 + 12 + 12 + 32);  // notes, alignment, Nhdr, "ERASEINFO\0" + pad, text room
  const std::byte* nh = f + note_off + 24;
  REQUIRE(load_le<u32>(nh) == 10u);
  REQUIRE(load_le<u32>(nh + 4) == 30u);
  REQUIRE(load_le<u32>(nh + 8) == 0u);
  REQUIRE(std::string(reinterpret_cast<const char*>(nh + 12)) == "ERASEINFO");
  REQUIRE(std::string(reinterpret_cast<const char*>(nh + 24), info.size()) == info);
  REQUIRE(nh[24 + info.size()] == std::byte{0});  // unused room stays zero
}
