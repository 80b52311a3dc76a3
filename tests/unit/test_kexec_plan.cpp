// test_kexec_plan.cpp: the pure half of kexec -l / -p on x86_64: the placement allocator
// (segments.h), the ELF core header (elfcorehdr.h, read back with lib/elf's parser), the segment
// plan (plan_x86_64.h) and the purgatory segment (purgatory_image.h, with the real embedded blob).
// Fixtures: a bzImage built field by field, a QEMU-like memory layout (RAM below 2 GiB and at
// 4-6 GiB, crashkernel=256M at 0x6f000000), and the blob's own parameter block read back.
#include <openssl/evp.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstring>
#include <string>
#include <vector>

#include "arch/x86_64/boot_params.h"
#include "fake_bzimage.h"
#include "elf/elf_core.h"
#include "io/byte_cursor.h"
#include "kexec/elfcorehdr.h"
#include "kexec/plan_x86_64.h"
#include "kexec/purgatory_image.h"
#include "purgatory_abi.h"
#include "purgatory_blob.h"

using namespace kk;
using test::fake_bzimage;

namespace {

constexpr u64 k4G = 1ull << 32;
constexpr u64 kMiB = 1ull << 20;

template <class T>
void put(std::vector<std::byte>& b, size_t off, T v) {
  std::memcpy(b.data() + off, &v, sizeof v);
}

template <class T>
T get(std::span<const std::byte> b, size_t off) {
  return load_le<T>(b.data() + off);
}

std::vector<std::byte> pattern(size_t n, u8 seed) {
  std::vector<std::byte> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = std::byte(u8(i * 31 + seed + (i >> 8)));
  return v;
}

std::array<std::byte, 32> openssl_sha256(const std::vector<std::byte>& data) {
  std::array<std::byte, 32> out{};
  unsigned n = 0;
  REQUIRE(EVP_Digest(data.data(), data.size(), reinterpret_cast<unsigned char*>(out.data()), &n,
                     EVP_sha256(), nullptr) == 1);
  REQUIRE(n == 32);
  return out;
}

kk_purgatory_params read_params(const Segment& s) {
  kk_purgatory_params p;
  REQUIRE(s.data.size() >= KK_PURGATORY_PARAMS_OFFSET + sizeof p);
  std::memcpy(&p, s.data.data() + KK_PURGATORY_PARAMS_OFFSET, sizeof p);
  return p;
}

PurgatoryBuilder real_purgatory(bool skip_checks = false) {
  return [skip_checks](u64 entry, u64 bp, const BackupCopy& backup, const std::vector<Segment>& checked,
                       Allocator& alloc) {
    PurgatoryRequest req{entry, bp, 0x3f8, skip_checks};
    req.backup = backup;
    return make_purgatory_segment(purgatory_x86_64(), req, checked, alloc);
  };
}

bool inside_one(const std::vector<PhysRange>& ranges, u64 start, u64 end) {
  return std::any_of(ranges.begin(), ranges.end(),
                     [&](const PhysRange& r) { return start >= r.start && end <= r.end; });
}

// The invariants every plan keeps, whatever the inputs.
void check_plan_invariants(const X86Plan& plan, const std::vector<PhysRange>& placement) {
  const std::vector<Segment>& segs = plan.plan.segments;
  for (size_t i = 0; i < segs.size(); ++i) {
    const Segment& s = segs[i];
    INFO("segment " << s.what << " at " << hex(s.mem) << " memsz " << hex(s.memsz));
    REQUIRE(s.mem % kPageSize == 0);
    REQUIRE(s.memsz % kPageSize == 0);
    REQUIRE(s.memsz >= s.data.size());
    REQUIRE(inside_one(placement, s.mem, s.mem + s.memsz));
    for (size_t j = i + 1; j < segs.size(); ++j) {
      INFO("against " << segs[j].what << " at " << hex(segs[j].mem));
      REQUIRE((s.mem + s.memsz <= segs[j].mem || segs[j].mem + segs[j].memsz <= s.mem));
    }
  }
  REQUIRE(plan.plan.entry == segs.back().mem);
  REQUIRE(segs.back().what == "purgatory");
}

const Segment& segment(const X86Plan& plan, const std::string& what) {
  for (const Segment& s : plan.plan.segments)
    if (s.what == what) return s;
  FAIL("no segment '" << what << "'");
  return plan.plan.segments.front();  // not reached: FAIL throws
}

// boot_params' command line pointer, both halves.
u64 cmdline_ptr(const Segment& bp) {
  return get<u32>(bp.data, 0x228) | u64(get<u32>(bp.data, 0x0c8)) << 32;
}

std::vector<x86_64::E820Entry> boot_params_e820(const Segment& bp) {
  std::vector<x86_64::E820Entry> out;
  for (size_t i = 0; i < std::to_integer<size_t>(bp.data[0x1e8]); ++i)
    out.push_back({get<u64>(bp.data, 0x2d0 + i * 20), get<u64>(bp.data, 0x2d0 + i * 20 + 8),
                   get<u32>(bp.data, 0x2d0 + i * 20 + 16)});
  return out;
}

}  // namespace

// ---- Allocator ------------------------------------------------------------------------------

TEST_CASE("segments: bottom-up takes the lowest aligned fit, and does not reuse it", "[plan]") {
  Allocator a({{0x3000000, 0x4000000}, {0x1000000, 0x2000000}});  // unsorted on purpose
  Result<u64> k = a.take("kernel", 0x100000, 0x200000, 0, ~0ull, false);
  REQUIRE(k);
  REQUIRE(*k == 0x1000000);
  Result<u64> k2 = a.take("kernel", 0x100000, 0x200000, 0, ~0ull, false);
  REQUIRE(k2);
  REQUIRE(*k2 == 0x1200000);  // 0x1100000 is free but not 2 MiB aligned
  REQUIRE(a.free() == std::vector<PhysRange>{{0x1100000, 0x1200000}, {0x1300000, 0x2000000},
                                             {0x3000000, 0x4000000}});
  Result<u64> small = a.take("small", 0x1000, 0x1000, 0, ~0ull, false);
  REQUIRE(small);
  REQUIRE(*small == 0x1100000);  // the leftover gap is used for what fits there
}

TEST_CASE("segments: top-down takes the highest aligned fit", "[plan]") {
  Allocator a({{0x1000000, 0x2000000}, {0x3000000, 0x4000000}});
  REQUIRE(*a.take("a", 0x1000, 0x1000, 0, ~0ull, true) == 0x3fff000);
  REQUIRE(*a.take("b", 0x1000, 0x1000, 0, ~0ull, true) == 0x3ffe000);
  // 0x1800 bytes aligned to 2 MiB: the highest 2 MiB boundary with room below 0x3ffe000.
  REQUIRE(*a.take("c", 0x1800, 0x200000, 0, ~0ull, true) == 0x3e00000);
  REQUIRE(a.free() == std::vector<PhysRange>{{0x1000000, 0x2000000}, {0x3000000, 0x3e00000},
                                             {0x3e01800, 0x3ffe000}});
}

TEST_CASE("segments: lo and hi bound the search", "[plan]") {
  Allocator a({{0x1000000, 0x2000000}, {0x3000000, 0x4000000}});
  REQUIRE(*a.take("below hi", 0x1000, 0x1000, 0, 0x2800000, true) == 0x1fff000);
  REQUIRE(*a.take("above lo", 0x1000, 0x1000, 0x3800000, ~0ull, false) == 0x3800000);
  REQUIRE(*a.take("lo unaligned", 0x1000, 0x1000, 0x1000001, ~0ull, false) == 0x1001000);
  REQUIRE(*a.take("in window", 0x2000, 0x1000, 0x1800000, 0x1900000, true) == 0x18fe000);
  REQUIRE(*a.take("align 0 means 1", 0x10, 0, 0x3000003, ~0ull, false) == 0x3000003);
}

TEST_CASE("segments: nothing fits -> Errc::no_space naming what, size, alignment, bounds", "[plan]") {
  SECTION("too big for any one range, though the total would do") {
    Allocator a({{0x1000000, 0x2000000}, {0x3000000, 0x4000000}});
    Result<u64> r = a.take("initrd", 20 * kMiB, 0x1000, 0, k4G, true);
    REQUIRE_FALSE(r);
    REQUIRE(r.error().code == Errc::no_space);
    REQUIRE(r.error().msg == "no room for the initrd (20480 KiB, aligned to 0x1000) between 0x0 and 0x100000000");
    REQUIRE(a.free().size() == 2);  // a failed take changes nothing
  }
  SECTION("only room below lo") {
    Allocator a({{0x100000, 0x1000000}});
    Result<u64> r = a.take("kernel", 0x800000, 0x200000, 16 * kMiB, ~0ull, false);
    REQUIRE_FALSE(r);
    REQUIRE_THAT(r.error().msg, Catch::StartsWith("no room for the kernel (8192 KiB, aligned to 0x200000)"));
  }
  SECTION("alignment pushes it out (top-down)") {
    Allocator a({{0x1001000, 0x1100000}});
    REQUIRE_FALSE(a.take("kernel", 0x1000, 0x200000, 0, ~0ull, true));
  }
  SECTION("alignment pushes it out (bottom-up)") {
    Allocator a({{0x1001000, 0x1100000}});
    REQUIRE_FALSE(a.take("kernel", 0x1000, 0x200000, 0, ~0ull, false));
  }
  SECTION("consumed space is gone") {
    Allocator a({{0x1000, 0x3000}});
    REQUIRE(*a.take("a", 0x1000, 0x1000, 0, ~0ull, false) == 0x1000);
    REQUIRE(*a.take("b", 0x1000, 0x1000, 0, ~0ull, false) == 0x2000);
    REQUIRE(a.free().empty());
    Result<u64> r = a.take("c", 0x1000, 0x1000, 0, ~0ull, false);
    REQUIRE_FALSE(r);
    REQUIRE(r.error().code == Errc::no_space);
  }
  SECTION("touching input ranges are one") {
    Allocator a({{0x1000, 0x2000}, {0x2000, 0x3000}});
    REQUIRE(*a.take("both", 0x2000, 0x1000, 0, ~0ull, true) == 0x1000);
  }
}

// ---- ELF core header ------------------------------------------------------------------------

namespace {

CrashMemory crash_memory() {
  CrashMemory m;
  m.ram = {{0x1000, 0x9f000}, {0x100000, 0x6f000000}, {0x7f000000, 0x7ffe0000}, {0x100000000, 0x180000000}};
  m.cpu_notes = {{0x17fc1e000, 0x1a8}, {0x17fc3e000, 0x1a8}};
  m.vmcoreinfo = {0x2b6d000, 0x1024};
  m.kernel_text = KernelText{0xffffffff81000000, 0x5000000, 0x1c00000};
  m.page_offset = 0xffff888000000000;
  return m;
}

ElfCoreLayout parse_back(const std::vector<std::byte>& hdr, u32 expect_phnum) {
  REQUIRE(hdr.size() == 64 + expect_phnum * 56);
  Result<ElfCoreHead> head = parse_elf_core_head(std::span(hdr).first(64));
  if (!head) FAIL("parse_elf_core_head: " << head.error().msg);
  REQUIRE(head->phoff == 64);
  REQUIRE(head->phnum == expect_phnum);
  REQUIRE_FALSE(head->need_shdr0);
  // p_offset is a physical address: any file size that covers physical memory will do.
  Result<ElfCoreLayout> layout =
      parse_program_headers(*head, std::span(hdr).subspan(head->phoff), ~0ull >> 1);
  if (!layout) FAIL("parse_program_headers: " << layout.error().msg);
  return *std::move(layout);
}

}  // namespace

TEST_CASE("elfcorehdr: notes per CPU then VMCOREINFO, kernel text, then RAM", "[plan]") {
  CrashMemory m = crash_memory();
  std::vector<std::byte> hdr = build_elfcorehdr(m);
  ElfCoreLayout layout = parse_back(hdr, 2 + 1 + 1 + 4);
  REQUIRE(layout.machine == kEmX86_64);

  REQUIRE(layout.notes.size() == 3);
  REQUIRE(layout.notes[0].offset == 0x17fc1e000);
  REQUIRE(layout.notes[0].size == 0x1a8);
  REQUIRE(layout.notes[1].offset == 0x17fc3e000);
  REQUIRE(layout.notes[1].size == 0x1a8);
  REQUIRE(layout.notes[2].offset == 0x2b6d000);  // VMCOREINFO last
  REQUIRE(layout.notes[2].size == 0x1024);

  REQUIRE(layout.loads.size() == 5);
  const LoadSegment& text = layout.loads[0];
  REQUIRE(text.vaddr == 0xffffffff81000000);
  REQUIRE(text.paddr == 0x5000000);
  REQUIRE(text.offset == 0x5000000);
  REQUIRE(text.filesz == 0x1c00000);
  REQUIRE(text.memsz == 0x1c00000);
  for (size_t i = 0; i < m.ram.size(); ++i) {
    const LoadSegment& l = layout.loads[i + 1];
    INFO("RAM PT_LOAD " << i);
    REQUIRE(l.paddr == m.ram[i].start);
    REQUIRE(l.offset == l.paddr);
    REQUIRE(l.vaddr == 0xffff888000000000 + m.ram[i].start);
    REQUIRE(l.filesz == m.ram[i].size());
    REQUIRE(l.memsz == m.ram[i].size());
  }

  // Header order and fields the layout does not keep: all PT_NOTEs first, PT_LOADs RWX.
  Elf64Ehdr eh;
  std::memcpy(&eh, hdr.data(), sizeof eh);
  REQUIRE(eh.version == 1);
  REQUIRE(eh.ehsize == 64);
  REQUIRE(eh.entry == 0);
  REQUIRE(eh.shoff == 0);
  REQUIRE(eh.shnum == 0);
  const u32 types[] = {kPtNote, kPtNote, kPtNote, kPtLoad, kPtLoad, kPtLoad, kPtLoad, kPtLoad};
  for (size_t i = 0; i < 8; ++i) {
    Elf64Phdr ph;
    std::memcpy(&ph, hdr.data() + 64 + i * 56, sizeof ph);
    INFO("phdr " << i);
    REQUIRE(ph.type == types[i]);
    REQUIRE(ph.flags == (ph.type == kPtLoad ? 7u : 0u));
    if (ph.type == kPtNote) {
      REQUIRE(ph.paddr == ph.offset);
      REQUIRE(ph.memsz == ph.filesz);
    }
  }
}

TEST_CASE("elfcorehdr: no VMCOREINFO, no kernel text, other machine", "[plan]") {
  CrashMemory m = crash_memory();
  m.vmcoreinfo = {};
  m.kernel_text.reset();
  m.machine = kEmAarch64;
  m.page_offset = 0xffff000000000000;
  ElfCoreLayout layout = parse_back(build_elfcorehdr(m), 2 + 4);
  REQUIRE(layout.machine == kEmAarch64);
  REQUIRE(layout.notes.size() == 2);
  REQUIRE(layout.loads.size() == 4);
  REQUIRE(layout.loads[0].paddr == 0x1000);
  REQUIRE(layout.loads[0].vaddr == 0xffff000000001000);
  REQUIRE(layout.loads[3].paddr == 0x100000000);
  REQUIRE(layout.loads[3].filesz == 0x80000000);
}

// ---- x86_64 plan ----------------------------------------------------------------------------

namespace {

// RAM as kexec -l gets it (System RAM minus the first MiB), with odd edges so alignment shows.
const std::vector<PhysRange> kLoadPlacement{
    {0x100000, 0x1105000}, {0x1203000, 0x80000000}, {0x100000000, 0x180000000}};
const std::vector<x86_64::E820Entry> kFirmwareMap{
    {0x0, 0x9fc00, x86_64::kE820Ram},          {0x9fc00, 0x400, x86_64::kE820Reserved},
    {0xf0000, 0x10000, x86_64::kE820Reserved}, {0x100000, 0x7fee0000, x86_64::kE820Ram},
    {0x7ffe0000, 0x20000, x86_64::kE820Reserved}, {0xb0000000, 0x10000000, x86_64::kE820Reserved},
    {0x100000000, 0x80000000, x86_64::kE820Ram},
};
const PhysRange kCrash{0x6f000000, 0x7f000000};

X86Plan plan_ok(const X86LoadInput& in, const PurgatoryBuilder& p = real_purgatory()) {
  Result<X86Plan> r = plan_x86_64_load(in, p);
  if (!r) FAIL("plan_x86_64_load: " << r.error().msg);
  return *std::move(r);
}

}  // namespace

TEST_CASE("plan: kexec -l places kernel, initrd, boot_params, purgatory", "[plan]") {
  std::vector<std::byte> kernel = fake_bzimage();
  std::vector<std::byte> initrd = pattern(100 * 1024 + 123, 7);
  X86LoadInput in;
  in.kernel = kernel;
  in.initrd = initrd;
  in.cmdline = "root=/dev/vda console=ttyS0";
  in.placement = kLoadPlacement;
  in.e820 = kFirmwareMap;
  in.acpi_rsdp = 0x7fb7e014;
  X86Plan plan = plan_ok(in);
  check_plan_invariants(plan, kLoadPlacement);

  const std::vector<Segment>& segs = plan.plan.segments;
  REQUIRE(segs.size() == 4);
  REQUIRE(segs[0].what == "kernel");
  REQUIRE(segs[1].what == "initrd");
  REQUIRE(segs[2].what == "boot parameters");
  REQUIRE(segs[3].what == "purgatory");

  // Kernel: lowest 2 MiB-aligned spot at or above 16 MiB with init_size (8 MiB) of room. The
  // first range ends at 0x1105000; the second starts at 0x1203000, aligned up to 0x1400000.
  const Segment& k = segs[0];
  REQUIRE(k.mem == 0x1400000);
  REQUIRE(plan.kernel_addr == 0x1400000);
  REQUIRE(k.mem % 0x200000 == 0);
  REQUIRE(k.mem >= 16 * kMiB);
  REQUIRE(k.memsz == 0x800000);
  REQUIRE(k.data == std::vector<std::byte>(kernel.begin() + 2560, kernel.end()));

  // Initrd: highest below 4 GiB (the top of the second range), data as given.
  const Segment& rd = segs[1];
  REQUIRE(rd.memsz == 0x1a000);
  REQUIRE(rd.mem == 0x80000000 - 0x1a000);
  REQUIRE(rd.data == initrd);

  // boot_params: the zero page, the command line right after it, below the initrd.
  const Segment& bp = segs[2];
  REQUIRE(plan.boot_params_addr == bp.mem);
  REQUIRE(bp.mem == rd.mem - 0x2000);
  REQUIRE(bp.data.size() == 4096 + in.cmdline.size() + 1);
  REQUIRE(bp.memsz == 0x2000);
  REQUIRE(cmdline_ptr(bp) == bp.mem + 4096);
  REQUIRE(std::string(reinterpret_cast<const char*>(bp.data.data() + 4096), in.cmdline.size()) == in.cmdline);
  REQUIRE(bp.data.back() == std::byte{0});
  REQUIRE(plan.cmdline == in.cmdline);
  REQUIRE(get<u32>(bp.data, 0x218) == rd.mem);           // ramdisk_image
  REQUIRE(get<u32>(bp.data, 0x21c) == initrd.size());    // ramdisk_size
  REQUIRE(std::to_integer<u8>(bp.data[0x210]) == 0x0d);  // type_of_loader: kexec
  REQUIRE(get<u64>(bp.data, 0x070) == 0x7fb7e014);       // acpi_rsdp_addr
  REQUIRE(boot_params_e820(bp) == kFirmwareMap);         // -l: the firmware map as it is

  // Purgatory: below 4 GiB, entered first; it enters startup_64 with %rsi = boot_params.
  const Segment& pg = segs[3];
  REQUIRE(pg.mem + pg.memsz <= k4G);
  REQUIRE(plan.plan.entry == pg.mem);
  kk_purgatory_params p = read_params(pg);
  REQUIRE(p.entry == 0x1400000 + 0x200);
  REQUIRE(p.arg == bp.mem);
  REQUIRE(p.nr_regions == 3);
  for (u32 i = 0; i < 3; ++i) {
    REQUIRE(p.regions[i].start == segs[i].mem);
    REQUIRE(p.regions[i].len == segs[i].data.size());
  }
  std::vector<std::byte> all;
  for (size_t i = 0; i < 3; ++i) all.insert(all.end(), segs[i].data.begin(), segs[i].data.end());
  REQUIRE(std::memcmp(p.digest, openssl_sha256(all).data(), 32) == 0);
}

TEST_CASE("plan: the purgatory builder gets the kernel entry, boot_params and the segments", "[plan]") {
  std::vector<std::byte> kernel = fake_bzimage();
  X86LoadInput in;
  in.kernel = kernel;
  in.cmdline = "quiet";
  in.placement = kLoadPlacement;
  u64 got_entry = 0, got_bp = 0, got_backup_len = 1;
  std::vector<std::string> got_whats;
  PurgatoryBuilder fake = [&](u64 entry, u64 bp, const BackupCopy& backup, const std::vector<Segment>& checked,
                              Allocator& alloc) -> Result<Segment> {
    got_entry = entry;
    got_bp = bp;
    got_backup_len = backup.len;
    for (const Segment& s : checked) got_whats.push_back(s.what);
    Result<u64> at = alloc.take("purgatory", 0x5000, 0x1000, 0, k4G, true);
    if (!at) return std::move(at).error();
    Segment s;
    s.what = "purgatory";
    s.data = pattern(100, 1);
    s.mem = *at;
    s.memsz = 0x5000;
    return s;
  };
  X86Plan plan = plan_ok(in, fake);
  check_plan_invariants(plan, kLoadPlacement);
  REQUIRE(got_entry == plan.kernel_addr + 0x200);  // startup_64
  REQUIRE(got_bp == plan.boot_params_addr);
  REQUIRE(got_backup_len == 0);  // -l: nothing to back up
  REQUIRE(got_whats == std::vector<std::string>{"kernel", "boot parameters"});  // no initrd given
  REQUIRE(plan.plan.segments.size() == 3);
  const Segment& bp = segment(plan, "boot parameters");
  REQUIRE(get<u32>(bp.data, 0x218) == 0);
  REQUIRE(get<u32>(bp.data, 0x21c) == 0);
  // The purgatory took the highest room left below 4 GiB: right under boot_params.
  REQUIRE(plan.plan.entry == bp.mem - 0x5000);

  SECTION("a builder error stops the plan") {
    PurgatoryBuilder failing = [](u64, u64, const BackupCopy&, const std::vector<Segment>&, Allocator&) -> Result<Segment> {
      return make_error(Errc::corrupt, "purgatory: broken");
    };
    Result<X86Plan> r = plan_x86_64_load(in, failing);
    REQUIRE_FALSE(r);
    REQUIRE(r.error().msg == "purgatory: broken");
  }
}

TEST_CASE("plan: kexec -p places everything in the crash range and names elfcorehdr=", "[plan]") {
  std::vector<std::byte> kernel = fake_bzimage();
  std::vector<std::byte> initrd = pattern(100 * 1024 + 123, 9);
  std::vector<std::byte> core = build_elfcorehdr(crash_memory());
  // The capture kernel's map as commands.cpp builds it: firmware non-RAM, low RAM, the crash range.
  std::vector<x86_64::E820Entry> capture_map{
      {0x9fc00, 0x400, x86_64::kE820Reserved},      {0xf0000, 0x10000, x86_64::kE820Reserved},
      {0x7ffe0000, 0x20000, x86_64::kE820Reserved}, {0xb0000000, 0x10000000, x86_64::kE820Reserved},
      {0x0, 0x9fc00, x86_64::kE820Ram},             {kCrash.start, kCrash.size(), x86_64::kE820Ram},
  };
  X86LoadInput in;
  in.kernel = kernel;
  in.initrd = initrd;
  in.cmdline = "root=/dev/vda console=ttyS0 irqpoll nr_cpus=1 reset_devices";
  in.panic = true;
  in.placement = {kCrash};
  in.e820 = capture_map;
  in.crash = crash_memory();
  X86Plan plan = plan_ok(in);
  check_plan_invariants(plan, {kCrash});

  const std::vector<Segment>& segs = plan.plan.segments;
  REQUIRE(segs.size() == 5);
  REQUIRE(segs[0].what == "kernel");
  REQUIRE(segs[1].what == "elfcorehdr");
  REQUIRE(segs[2].what == "initrd");
  REQUIRE(segs[3].what == "boot parameters");
  REQUIRE(segs[4].what == "purgatory");

  // No 16 MiB floor for -p: the kernel goes at the (2 MiB-aligned) start of the reservation.
  REQUIRE(plan.kernel_addr == kCrash.start);
  REQUIRE(segs[0].mem % 0x200000 == 0);

  // The ELF core header: at the top of the range, as given, and named on the command line.
  const Segment& eh = segs[1];
  REQUIRE(eh.data == core);
  REQUIRE(eh.memsz == 0x1000);
  REQUIRE(eh.mem == kCrash.end - 0x1000);
  REQUIRE(plan.elfcorehdr_addr == eh.mem);
  REQUIRE(plan.cmdline == in.cmdline + " elfcorehdr=0x7efff000");

  const Segment& bp = segs[3];
  REQUIRE(cmdline_ptr(bp) == bp.mem + 4096);
  REQUIRE(std::string(reinterpret_cast<const char*>(bp.data.data() + 4096)) == plan.cmdline);
  REQUIRE(get<u32>(bp.data, 0x218) == segs[2].mem);

  // The header's page is out of the capture kernel's RAM; the rest of the map is kept, sorted.
  std::vector<x86_64::E820Entry> map = boot_params_e820(bp);
  REQUIRE(map == std::vector<x86_64::E820Entry>{
                     {0x0, 0x9fc00, x86_64::kE820Ram},
                     {0x9fc00, 0x400, x86_64::kE820Reserved},
                     {0xf0000, 0x10000, x86_64::kE820Reserved},
                     {kCrash.start, eh.mem - kCrash.start, x86_64::kE820Ram},
                     {0x7ffe0000, 0x20000, x86_64::kE820Reserved},
                     {0xb0000000, 0x10000000, x86_64::kE820Reserved},
                 });
  for (const x86_64::E820Entry& e : map)
    if (e.type == x86_64::kE820Ram) REQUIRE((e.addr + e.size <= eh.mem || e.addr >= eh.mem + eh.memsz));

  // The purgatory checks the elfcorehdr too.
  kk_purgatory_params p = read_params(segs[4]);
  REQUIRE(p.nr_regions == 4);
  REQUIRE(p.regions[1].start == eh.mem);
  REQUIRE(p.regions[1].len == core.size());
  REQUIRE(p.entry == kCrash.start + 0x200);
  REQUIRE(p.arg == bp.mem);
}

TEST_CASE("plan: -p backs up low memory into the reservation and the header reads the copy", "[plan]") {
  std::vector<std::byte> kernel = fake_bzimage();
  X86LoadInput in;
  in.kernel = kernel;
  in.cmdline = "irqpoll";
  in.panic = true;
  in.placement = {kCrash};
  in.e820 = {{0x0, 0x1000, x86_64::kE820Reserved},
             {0x1000, 0x9ec00, x86_64::kE820Ram},
             {0x9fc00, 0x400, x86_64::kE820Reserved},
             {kCrash.start, kCrash.size(), x86_64::kE820Ram}};
  CrashMemory mem = crash_memory();  // RAM from 0x1000: the first range is the low 636 KiB
  mem.ram.front() = {0x1000, 0x9fc00};
  mem.backup_src = {0x1000, 0x9fc00};
  in.crash = mem;
  X86Plan plan = plan_ok(in);
  check_plan_invariants(plan, {kCrash});
  const std::vector<Segment>& segs = plan.plan.segments;
  REQUIRE(segs.size() == 5);  // kernel, backup, elfcorehdr, boot parameters, purgatory
  REQUIRE(segs[1].what == "backup");
  REQUIRE(segs[2].what == "elfcorehdr");

  // The backup: page-rounded, at the top of the reservation (kexec-tools' order: backup first),
  // no data of its own (the kernel zero-fills it at load time, the purgatory fills it).
  const Segment& backup = segs[1];
  REQUIRE(backup.data.empty());
  REQUIRE(backup.memsz == 0x9f000);
  REQUIRE(backup.mem == kCrash.end - 0x9f000);
  REQUIRE(plan.backup.src == 0x1000);
  REQUIRE(plan.backup.dst == backup.mem);
  REQUIRE(plan.backup.len == 0x9ec00);

  // The header: the low RAM PT_LOAD keeps its address and reads the copy; the others read
  // their own memory. It is exactly what build_elfcorehdr makes once backup_dst is known.
  const Segment& eh = segs[2];
  mem.backup_dst = backup.mem;
  REQUIRE(eh.data == build_elfcorehdr(mem));
  REQUIRE(eh.mem == backup.mem - 0x1000);
  ElfCoreLayout layout = parse_back(eh.data, 2 + 1 + 1 + 4);
  REQUIRE(layout.loads[1].paddr == 0x1000);
  REQUIRE(layout.loads[1].vaddr == 0xffff888000001000);
  REQUIRE(layout.loads[1].offset == backup.mem);
  REQUIRE(layout.loads[1].filesz == 0x9ec00);
  REQUIRE(layout.loads[2].offset == layout.loads[2].paddr);
  REQUIRE(layout.loads[0].offset == layout.loads[0].paddr);  // kernel text

  // Neither the backup nor the header is RAM for the capture kernel; the low RAM is.
  std::vector<x86_64::E820Entry> map = boot_params_e820(segment(plan, "boot parameters"));
  for (const x86_64::E820Entry& e : map) {
    if (e.type != x86_64::kE820Ram) continue;
    REQUIRE((e.addr + e.size <= eh.mem || e.addr >= backup.mem + backup.memsz));
  }
  REQUIRE(map[1] == x86_64::E820Entry{0x1000, 0x9ec00, x86_64::kE820Ram});
  REQUIRE(map.back().addr + map.back().size <= 0x100000000);

  // The purgatory gets the copy to make, and does not hash the (empty) backup.
  kk_purgatory_params p = read_params(segs.back());
  REQUIRE(p.backup_src == 0x1000);
  REQUIRE(p.backup_dst == backup.mem);
  REQUIRE(p.backup_len == 0x9ec00);
  REQUIRE(p.nr_regions == 3);  // kernel, elfcorehdr, boot parameters
  REQUIRE(p.regions[1].start == eh.mem);
}

TEST_CASE("elfcorehdr: only RAM inside the backup source reads the copy", "[plan]") {
  CrashMemory m = crash_memory();
  m.ram = {{0x1000, 0x9f000}, {0x9f000, 0xa0000}, {0x100000, 0x200000}};
  m.backup_src = {0x1000, 0x9f000};
  m.backup_dst = 0x7e000000;
  ElfCoreLayout layout = parse_back(build_elfcorehdr(m), 3 + 1 + 3);
  REQUIRE(layout.loads[1].offset == 0x7e000000);
  REQUIRE(layout.loads[2].offset == 0x9f000);  // past the source: its own memory
  REQUIRE(layout.loads[3].offset == 0x100000);
  m.backup_src = {0x2000, 0x9f000};  // a range that starts inside but begins before: untouched
  layout = parse_back(build_elfcorehdr(m), 3 + 1 + 3);
  REQUIRE(layout.loads[1].offset == 0x1000);
}

TEST_CASE("plan: -p with an empty command line gets just elfcorehdr=", "[plan]") {
  std::vector<std::byte> kernel = fake_bzimage();
  X86LoadInput in;
  in.kernel = kernel;
  in.panic = true;
  in.placement = {{0x30000000, 0x38000000}};
  in.crash = crash_memory();
  X86Plan plan = plan_ok(in);
  REQUIRE(plan.cmdline == "elfcorehdr=0x37fff000");
}

TEST_CASE("plan: -p into a reservation above 4 GiB (crashkernel=X,high)", "[plan]") {
  const PhysRange high{0x23f000000, 0x24f000000};
  std::vector<std::byte> initrd = pattern(100 * 1024, 5);
  X86LoadInput in;
  in.initrd = initrd;
  in.cmdline = "irqpoll";
  in.panic = true;
  in.placement = {high};
  in.crash = crash_memory();
  PurgatoryBuilder purgatory = [](u64 entry, u64 bp, const BackupCopy& backup,
                                  const std::vector<Segment>& checked, Allocator& alloc) {
    PurgatoryRequest req{entry, bp, 0x3f8, false, true};
    req.backup = backup;
    return make_purgatory_segment(purgatory_x86_64(), req, checked, alloc);
  };
  SECTION("a kernel that can be loaded above 4 GiB: everything goes there") {
    std::vector<std::byte> kernel = fake_bzimage();
    in.kernel = kernel;
    X86Plan plan = plan_ok(in, purgatory);
    check_plan_invariants(plan, {high});
    REQUIRE(plan.plan.segments.size() == 5);
    REQUIRE(plan.kernel_addr == high.start);
    REQUIRE(plan.elfcorehdr_addr == high.end - 0x1000);
    REQUIRE(plan.cmdline == "irqpoll elfcorehdr=0x24efff000");
    // boot_params above 4 GiB: the command line pointer needs both halves.
    const Segment& bp = segment(plan, "boot parameters");
    REQUIRE(bp.mem >= k4G);
    REQUIRE(cmdline_ptr(bp) == bp.mem + 4096);
    REQUIRE(get<u32>(bp.data, 0x0c8) == 2);  // ext_cmd_line_ptr
    REQUIRE(std::string(reinterpret_cast<const char*>(bp.data.data() + 4096)) == plan.cmdline);
    const Segment& rd = segment(plan, "initrd");
    REQUIRE((get<u32>(bp.data, 0x218) | u64(get<u32>(bp.data, 0x0c0)) << 32) == rd.mem);
    kk_purgatory_params p = read_params(plan.plan.segments.back());
    REQUIRE(p.arg == bp.mem);
    REQUIRE(p.entry == high.start + 0x200);
  }
  SECTION("a kernel without XLF_CAN_BE_LOADED_ABOVE_4G cannot use it") {
    std::vector<std::byte> kernel = fake_bzimage(x86_64::kXlfKernel64);
    in.kernel = kernel;
    in.initrd = {};
    Result<X86Plan> r = plan_x86_64_load(in, purgatory);
    REQUIRE_FALSE(r);
    REQUIRE(r.error().code == Errc::no_space);
    // Not even the kernel: without the flag it must sit below 4 GiB too (boot.rst).
    REQUIRE_THAT(r.error().msg, Catch::StartsWith("no room for the kernel"));
  }
}

TEST_CASE("plan: the initrd goes above 4 GiB only when the kernel says it may", "[plan]") {
  // Below 4 GiB: room for the kernel and 1 MiB more, too little for a 2 MiB initrd.
  const std::vector<PhysRange> placement{{0x1000000, 0x1900000}, {0x100000000, 0x180000000}};
  std::vector<std::byte> initrd = pattern(2 * kMiB, 3);
  SECTION("can_be_loaded_above_4g") {
    std::vector<std::byte> kernel = fake_bzimage();
    X86LoadInput in;
    in.kernel = kernel;
    in.initrd = initrd;
    in.placement = placement;
    X86Plan plan = plan_ok(in);
    check_plan_invariants(plan, placement);
    const Segment& rd = segment(plan, "initrd");
    REQUIRE(rd.mem == 0x180000000 - 2 * kMiB);
    const Segment& bp = segment(plan, "boot parameters");
    REQUIRE(bp.mem + bp.memsz <= k4G);
    REQUIRE(get<u32>(bp.data, 0x218) == u32(rd.mem));
    REQUIRE(get<u32>(bp.data, 0x0c0) == 1);  // ext_ramdisk_image
  }
  SECTION("without it: no room") {
    std::vector<std::byte> kernel = fake_bzimage(x86_64::kXlfKernel64);
    X86LoadInput in;
    in.kernel = kernel;
    in.initrd = initrd;
    in.placement = placement;
    Result<X86Plan> r = plan_x86_64_load(in, real_purgatory());
    REQUIRE_FALSE(r);
    REQUIRE(r.error().code == Errc::no_space);
    REQUIRE_THAT(r.error().msg, Catch::StartsWith("no room for the initrd (2048 KiB"));
    REQUIRE_THAT(r.error().msg, Catch::EndsWith("and 0x80000000"));  // initrd_addr_max + 1
  }
}

TEST_CASE("plan: command line length against cmdline_size", "[plan]") {
  std::vector<std::byte> kernel = fake_bzimage();
  X86LoadInput in;
  in.kernel = kernel;
  in.placement = kLoadPlacement;
  SECTION("2047 bytes fit") {
    in.cmdline = std::string(2047, 'x');
    X86Plan plan = plan_ok(in);
    const Segment& bp = segment(plan, "boot parameters");
    REQUIRE(bp.data.size() == 4096 + 2048);
    REQUIRE(bp.memsz == 0x2000);
  }
  SECTION("2048 do not") {
    in.cmdline = std::string(2048, 'x');
    Result<X86Plan> r = plan_x86_64_load(in, real_purgatory());
    REQUIRE_FALSE(r);
    REQUIRE(r.error().code == Errc::usage);
    REQUIRE(r.error().msg == "command line is 2048 bytes, the kernel takes at most 2047");
  }
  SECTION("-p counts the elfcorehdr= it adds") {
    in.panic = true;
    in.placement = {kCrash};
    in.crash = crash_memory();
    in.cmdline = std::string(2040, 'x');
    Result<X86Plan> r = plan_x86_64_load(in, real_purgatory());
    REQUIRE_FALSE(r);
    REQUIRE(r.error().code == Errc::usage);
    REQUIRE_THAT(r.error().msg, Catch::StartsWith("command line is 2062 bytes"));
  }
}

TEST_CASE("plan: errors from the image and the placement come through", "[plan]") {
  std::vector<std::byte> kernel = fake_bzimage();
  X86LoadInput in;
  in.kernel = kernel;
  in.placement = kLoadPlacement;
  SECTION("not a bzImage") {
    std::vector<std::byte> bad = kernel;
    bad[0x1fe] = std::byte{0};
    in.kernel = bad;
    Result<X86Plan> r = plan_x86_64_load(in, real_purgatory());
    REQUIRE_FALSE(r);
    REQUIRE_THAT(r.error().msg, Catch::Contains("not a bzImage"));
  }
  SECTION("-p without an ELF core header") {
    in.panic = true;
    in.placement = {kCrash};
    Result<X86Plan> r = plan_x86_64_load(in, real_purgatory());
    REQUIRE_FALSE(r);
    REQUIRE(r.error().code == Errc::missing);
  }
  SECTION("a crash range too small for the kernel") {
    in.panic = true;
    in.placement = {{0x6f000000, 0x6f400000}};
    in.crash = crash_memory();
    Result<X86Plan> r = plan_x86_64_load(in, real_purgatory());
    REQUIRE_FALSE(r);
    REQUIRE(r.error().code == Errc::no_space);
    REQUIRE_THAT(r.error().msg, Catch::StartsWith("no room for the kernel"));
  }
  SECTION("only memory below 16 MiB for -l") {
    in.placement = {{0x100000, 0x1000000}};
    Result<X86Plan> r = plan_x86_64_load(in, real_purgatory());
    REQUIRE_FALSE(r);
    REQUIRE_THAT(r.error().msg, Catch::StartsWith("no room for the kernel"));
  }
}

TEST_CASE("plan: cut_from_ram takes a range out of RAM entries only", "[plan]") {
  using E = x86_64::E820Entry;
  const std::vector<E> map{{0x0, 0x9fc00, x86_64::kE820Ram},
                           {0x9fc00, 0x400, x86_64::kE820Reserved},
                           {0x100000, 0xff00000, x86_64::kE820Ram},
                           {0x10000000, 0x1000000, x86_64::kE820Acpi}};
  SECTION("middle of an entry: split in two") {
    REQUIRE(cut_from_ram(map, {0x200000, 0x201000}) ==
            std::vector<E>{map[0], map[1], {0x100000, 0x100000, 1}, {0x201000, 0xfdff000, 1}, map[3]});
  }
  SECTION("at the start edge") {
    REQUIRE(cut_from_ram(map, {0x100000, 0x101000}) ==
            std::vector<E>{map[0], map[1], {0x101000, 0xfeff000, 1}, map[3]});
  }
  SECTION("at the end edge") {
    REQUIRE(cut_from_ram(map, {0xffff000, 0x10000000}) ==
            std::vector<E>{map[0], map[1], {0x100000, 0xfeff000, 1}, map[3]});
  }
  SECTION("covering a whole entry removes it") {
    REQUIRE(cut_from_ram(map, {0x0, 0x9fc00}) == std::vector<E>{map[1], map[2], map[3]});
  }
  SECTION("across RAM and non-RAM: only RAM is cut") {
    REQUIRE(cut_from_ram(map, {0x9f000, 0x101000}) ==
            std::vector<E>{{0x0, 0x9f000, 1}, map[1], {0x101000, 0xfeff000, 1}, map[3]});
    REQUIRE(cut_from_ram(map, {0x10000000, 0x10001000}) == map);  // ACPI tables untouched
  }
  SECTION("touching only: nothing changes") {
    REQUIRE(cut_from_ram(map, {0x9fc00, 0x100000}) == map);
  }
}

// ---- purgatory segment ----------------------------------------------------------------------

namespace {

std::vector<Segment> checked_segments() {
  std::vector<Segment> v(4);
  v[0] = {"kernel", pattern(0x10000, 1), 0x1400000, 0x800000};
  v[1] = {"initrd", pattern(0x1a000 - 77, 2), 0x7ffe6000, 0x1a000};
  v[2] = {"empty", {}, 0x7ffe5000, 0x1000};  // nothing to hash: no region
  v[3] = {"boot parameters", pattern(4096 + 28, 3), 0x7ffe3000, 0x2000};
  return v;
}

}  // namespace

TEST_CASE("purgatory: the embedded blob is patched with entry, arg, regions and digest", "[plan]") {
  std::span<const unsigned char> blob = purgatory_x86_64();
  kk_purgatory_params orig;
  std::memcpy(&orig, blob.data() + KK_PURGATORY_PARAMS_OFFSET, sizeof orig);
  REQUIRE(orig.magic == KK_PURGATORY_MAGIC);
  REQUIRE(orig.image_mem_size == kk_purgatory_x86_64_image_mem_size);

  std::vector<Segment> checked = checked_segments();
  Allocator alloc({{0x1000000, 0x2000000}, {0x100000000, 0x200000000}});
  Result<Segment> seg = make_purgatory_segment(blob, PurgatoryRequest{0x1400200, 0x7ffe3000, 0x3f8, false},
                                               checked, alloc);
  if (!seg) FAIL("make_purgatory_segment: " << seg.error().msg);

  REQUIRE(seg->what == "purgatory");
  REQUIRE(seg->memsz == align_up(orig.image_mem_size, kPageSize));
  REQUIRE(seg->mem == 0x2000000 - seg->memsz);  // top-down, below 4 GiB
  REQUIRE(seg->data.size() == blob.size());
  // Only the parameter block differs from the blob.
  REQUIRE(std::memcmp(seg->data.data(), blob.data(), KK_PURGATORY_PARAMS_OFFSET) == 0);
  size_t after = KK_PURGATORY_PARAMS_OFFSET + sizeof(kk_purgatory_params);
  REQUIRE(std::memcmp(seg->data.data() + after, blob.data() + after, blob.size() - after) == 0);

  kk_purgatory_params p = read_params(*seg);
  REQUIRE(p.magic == KK_PURGATORY_MAGIC);
  REQUIRE(p.abi_version == KK_PURGATORY_ABI_VERSION);
  REQUIRE(p.image_mem_size == orig.image_mem_size);
  REQUIRE(p.entry == 0x1400200);
  REQUIRE(p.arg == 0x7ffe3000);
  REQUIRE(p.console_port == 0x3f8);
  REQUIRE(p.skip_checks == 0);
  REQUIRE(p.flags == 0);
  REQUIRE(p.backup_len == 0);
  REQUIRE(p.nr_regions == 3);
  REQUIRE(p.regions[0].start == 0x1400000);
  REQUIRE(p.regions[0].len == 0x10000);
  REQUIRE(p.regions[1].start == 0x7ffe6000);
  REQUIRE(p.regions[1].len == 0x1a000 - 77);
  REQUIRE(p.regions[2].start == 0x7ffe3000);
  REQUIRE(p.regions[2].len == 4096 + 28);
  for (u32 i = 3; i < KK_PURGATORY_MAX_REGIONS; ++i) {
    REQUIRE(p.regions[i].start == 0);
    REQUIRE(p.regions[i].len == 0);
  }

  // The digest is SHA-256 over the segments' data, concatenated in order.
  std::vector<std::byte> all;
  for (const Segment& s : checked) all.insert(all.end(), s.data.begin(), s.data.end());
  std::array<std::byte, 32> want = openssl_sha256(all);
  REQUIRE(std::memcmp(p.digest, want.data(), 32) == 0);
  REQUIRE(*segments_digest(checked) == want);
}

TEST_CASE("purgatory: segments_digest is plain SHA-256 (FIPS 180-2 \"abc\")", "[plan]") {
  Segment a{"a", {std::byte('a')}, 0, 0x1000};
  Segment bc{"bc", {std::byte('b'), std::byte('c')}, 0x1000, 0x1000};
  std::array<std::byte, 32> d = *segments_digest({a, bc});
  const u8 want[32] = {0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40,
                       0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17,
                       0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
  REQUIRE(std::memcmp(d.data(), want, 32) == 0);
}

TEST_CASE("purgatory: skip_checks and console_port pass through", "[plan]") {
  Allocator alloc({{0x1000000, 0x2000000}});
  Result<Segment> seg =
      make_purgatory_segment(purgatory_x86_64(), PurgatoryRequest{0x1, 0x2, 0, true}, checked_segments(), alloc);
  REQUIRE(seg);
  kk_purgatory_params p = read_params(*seg);
  REQUIRE(p.skip_checks == 1);
  REQUIRE(p.console_port == 0);
  REQUIRE(p.nr_regions == 3);  // still listed
}

TEST_CASE("purgatory: spoil_digest (kexec --test-spoil-digest) flips one bit of the digest only", "[plan]") {
  std::vector<Segment> checked = checked_segments();
  PurgatoryRequest req{0x1400200, 0x7ffe3000, 0x3f8, false};
  Allocator a1({{0x1000000, 0x2000000}}), a2({{0x1000000, 0x2000000}});
  Result<Segment> good = make_purgatory_segment(purgatory_x86_64(), req, checked, a1);
  req.spoil_digest = true;
  Result<Segment> bad = make_purgatory_segment(purgatory_x86_64(), req, checked, a2);
  REQUIRE(good);
  REQUIRE(bad);
  REQUIRE(bad->mem == good->mem);
  REQUIRE(bad->memsz == good->memsz);
  kk_purgatory_params g = read_params(*good), b = read_params(*bad);
  std::array<std::byte, 32> real = *segments_digest(checked);
  REQUIRE(std::memcmp(g.digest, real.data(), 32) == 0);
  REQUIRE(b.digest[0] == (g.digest[0] ^ 0x01));
  REQUIRE(std::memcmp(b.digest + 1, g.digest + 1, 31) == 0);
  // Everything else in the segment, parameter block included, is what a good load gets.
  REQUIRE(b.skip_checks == 0);
  REQUIRE(b.nr_regions == g.nr_regions);
  size_t digest_at = KK_PURGATORY_PARAMS_OFFSET + offsetof(kk_purgatory_params, digest);
  REQUIRE(bad->data.size() == good->data.size());
  size_t differing = 0;
  for (size_t i = 0; i < bad->data.size(); ++i)
    if (bad->data[i] != good->data[i]) {
      ++differing;
      REQUIRE(i == digest_at);
    }
  REQUIRE(differing == 1);
}

TEST_CASE("purgatory: allow_above_4g prefers below 4 GiB, else goes above", "[plan]") {
  PurgatoryRequest req{0x1, 0x2, 0, false, true};
  Allocator both({{0x1000000, 0x2000000}, {0x100000000, 0x200000000}});
  Result<Segment> low = make_purgatory_segment(purgatory_x86_64(), req, checked_segments(), both);
  REQUIRE(low);
  REQUIRE(low->mem == 0x2000000 - low->memsz);
  Allocator high({{0x100000000, 0x200000000}});
  Result<Segment> up = make_purgatory_segment(purgatory_x86_64(), req, checked_segments(), high);
  REQUIRE(up);
  REQUIRE(up->mem == 0x200000000 - up->memsz);
}

TEST_CASE("purgatory: a damaged or unusable blob is refused", "[plan]") {
  std::span<const unsigned char> orig = purgatory_x86_64();
  std::vector<unsigned char> blob(orig.begin(), orig.end());
  Allocator alloc({{0x1000000, 0x2000000}});
  const std::vector<Segment> checked = checked_segments();
  auto refused = [&](std::span<const unsigned char> b, const std::vector<Segment>& c = checked_segments()) {
    Result<Segment> r = make_purgatory_segment(b, PurgatoryRequest{}, c, alloc);
    if (r) FAIL("make_purgatory_segment accepted it");
    return std::move(r).error();
  };
  SECTION("corrupted magic") {
    blob[KK_PURGATORY_PARAMS_OFFSET + KK_PP_MAGIC] ^= 0x01;
    Error e = refused(blob);
    REQUIRE(e.code == Errc::corrupt);
    REQUIRE_THAT(e.msg, Catch::Contains("wrong magic"));
  }
  SECTION("other ABI version") {
    blob[KK_PURGATORY_PARAMS_OFFSET + KK_PP_ABI_VERSION] = KK_PURGATORY_ABI_VERSION + 1;
    Error e = refused(blob);
    REQUIRE(e.code == Errc::corrupt);
    REQUIRE_THAT(e.msg, Catch::Contains("ABI version"));
  }
  SECTION("image_mem_size smaller than the file") {
    u64 small = blob.size() - 1;
    std::memcpy(blob.data() + KK_PURGATORY_PARAMS_OFFSET + KK_PP_IMAGE_MEM_SIZE, &small, 8);
    Error e = refused(blob);
    REQUIRE(e.code == Errc::corrupt);
    REQUIRE_THAT(e.msg, Catch::Contains("implausible image size"));
  }
  SECTION("too small to hold the parameter block") {
    Error e = refused(std::span(blob).first(KK_PURGATORY_PARAMS_OFFSET + KK_PP_SIZE - 1));
    REQUIRE(e.code == Errc::corrupt);
    REQUIRE_THAT(e.msg, Catch::Contains("too small"));
  }
  SECTION("more segments than regions") {
    std::vector<Segment> many(KK_PURGATORY_MAX_REGIONS + 1, Segment{"x", pattern(16, 0), 0x1000, 0x1000});
    Error e = refused(blob, many);
    REQUIRE(e.code == Errc::unsupported);
    REQUIRE_THAT(e.msg, Catch::Contains("more than 16 segments"));
  }
  SECTION("no room below 4 GiB") {
    Allocator high({{0x100000000, 0x200000000}});
    Result<Segment> r = make_purgatory_segment(blob, PurgatoryRequest{}, checked, high);
    REQUIRE_FALSE(r);
    REQUIRE(r.error().code == Errc::no_space);
    REQUIRE_THAT(r.error().msg, Catch::StartsWith("no room for the purgatory"));
  }
  REQUIRE(alloc.free() == std::vector<PhysRange>{{0x1000000, 0x2000000}});  // nothing taken on refusal
}

TEST_CASE("plan: a map of more than 128 entries: the rest in SETUP_E820_EXT, chained with SETUP_EFI", "[plan]") {
  std::vector<std::byte> kernel = fake_bzimage(x86_64::kXlfKernel64 | x86_64::kXlfCanBeLoadedAbove4G |
                                               x86_64::kXlfEfiKexec);
  X86LoadInput in;
  in.kernel = kernel;
  in.cmdline = "quiet";
  in.placement = kLoadPlacement;
  // 200 reserved 4 KiB holes above 8 GiB (as a machine with many PCI windows might list).
  in.e820 = kFirmwareMap;
  for (u64 i = 0; i < 200; ++i) in.e820.push_back({0x200000000 + i * 0x2000, 0x1000, x86_64::kE820Reserved});
  const size_t total = kFirmwareMap.size() + 200;

  auto chain = [](const Segment& bp) {  // (type, payload) of each setup_data, in list order
    std::vector<std::pair<u32, std::span<const std::byte>>> out;
    for (u64 at = get<u64>(bp.data, 0x250); at != 0;) {
      REQUIRE(at >= bp.mem + 4096);
      REQUIRE(at % 8 == 0);
      size_t off = at - bp.mem;
      u32 len = get<u32>(bp.data, off + 12);
      REQUIRE(off + 16 + len <= bp.data.size());
      out.emplace_back(get<u32>(bp.data, off + 8), std::span(bp.data).subspan(off + 16, len));
      at = get<u64>(bp.data, off);
    }
    return out;
  };
  SECTION("the map alone") {
    X86Plan plan = plan_ok(in);
    const Segment& bp = segment(plan, "boot parameters");
    REQUIRE(std::to_integer<u8>(bp.data[0x1e8]) == 128);
    auto items = chain(bp);
    REQUIRE(items.size() == 1);
    REQUIRE(items[0].first == 1);  // SETUP_E820_EXT
    REQUIRE(items[0].second.size() == (total - 128) * 20);
    // The last entry of the map is the last of the extension.
    std::span<const std::byte> last = items[0].second.last(20);
    REQUIRE(get<u64>(last, 0) == 0x200000000 + 199 * 0x2000);
    REQUIRE(get<u32>(last, 16) == x86_64::kE820Reserved);
    // The command line is still right after the zero page.
    REQUIRE(std::string(reinterpret_cast<const char*>(bp.data.data() + 4096)) == "quiet");
  }
  SECTION("with EFI: SETUP_E820_EXT then SETUP_EFI, and the runtime map after them") {
    x86_64::EfiFirmware fw;
    fw.boot_info.loader_signature = x86_64::kEfiLoaderSignature64;
    fw.boot_info.memdesc_version = 1;
    fw.boot_info.systab = 0x7fbee018;
    fw.fw_vendor = 0x7fbec018;
    fw.runtime = 0x7fbeeb98;
    fw.config_table = 0x7fbeec98;
    fw.runtime_map = {{11, 0xffe00000, 0xfffffffeffe00000, 0x200, 0x8000000000000001},
                      {6, 0x7ff58000, 0xfffffffeffd58000, 0x20, 0x800000000000000f}};
    in.efi = fw;
    X86Plan plan = plan_ok(in);
    REQUIRE(plan.efi_passed);
    const Segment& bp = segment(plan, "boot parameters");
    auto items = chain(bp);
    REQUIRE(items.size() == 2);
    REQUIRE(items[0].first == 1);
    REQUIRE(items[1].first == 4);  // SETUP_EFI
    REQUIRE(get<u64>(items[1].second, 0) == 0x7fbec018);
    u64 memmap = get<u32>(bp.data, 0x1d0) | u64(get<u32>(bp.data, 0x1dc)) << 32;
    REQUIRE(memmap >= bp.mem + 4096);
    REQUIRE(memmap + 80 == bp.mem + bp.data.size());  // last in the segment
    REQUIRE(get<u64>(bp.data, memmap - bp.mem + 40 + 8) == 0x7ff58000);  // 2nd descriptor's phys_addr
  }
  SECTION("a kernel before boot protocol 2.09 has no setup_data: refused, not cut") {
    put<u16>(kernel, 0x206, 0x0208);
    Result<X86Plan> r = plan_x86_64_load(in, real_purgatory());
    REQUIRE_FALSE(r);
    REQUIRE(r.error().code == Errc::unsupported);
    REQUIRE_THAT(r.error().msg, Catch::Contains(std::to_string(total) + " entries") && Catch::Contains("2.09"));
  }
}
