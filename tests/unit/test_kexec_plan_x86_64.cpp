// test_kexec_plan_x86_64.cpp: the segment plan of kexec -l / -p on x86_64 (kexec/plan_x86_64.h)
// with the real embedded purgatory. Fixtures: a bzImage built field by field, a QEMU-like memory
// layout (RAM below 2 GiB and at 4-6 GiB, crashkernel=256M at 0x6f000000), and the blob's own
// parameter block read back.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstring>
#include <string>
#include <vector>

#include "arch/x86_64/boot_params.h"
#include "lib/elf/elf_core.h"
#include "tests/unit/fake_bzimage.h"
#include "lib/io/hex.h"
#include "kexec/elfcorehdr.h"
#include "kexec/plan_x86_64.h"
#include "kexec/purgatory_image.h"
#include "tests/unit/kexec_fixtures.h"
#include "tests/unit/kexec_purgatory_fixtures.h"
#include "purgatory/include/purgatory_abi.h"
#include "purgatory/include/purgatory_blob.h"

using namespace kk;
using namespace kk::test;

namespace {

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

TEST_CASE("plan: kexec -l places kernel, initrd, boot_params, purgatory", "[plan_x86_64]") {
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
  // A view of the file's bytes, not a copy: a load holds the kernel once (issue 20).
  REQUIRE(k.data.data() == kernel.data() + 2560);

  // Initrd: highest below 4 GiB (the top of the second range), data as given.
  const Segment& rd = segs[1];
  REQUIRE(rd.memsz == 0x1a000);
  REQUIRE(rd.mem == 0x80000000 - 0x1a000);
  REQUIRE(rd.data == initrd);
  REQUIRE(rd.data.data() == initrd.data());  // the initrd, once

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

TEST_CASE("plan: the purgatory builder gets the kernel entry, boot_params and the segments", "[plan_x86_64]") {
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
    Result<u64> at = alloc.take("purgatory", 0x5000, {.align = 0x1000, .hi = k4G, .top_down = true});
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

TEST_CASE("plan: kexec -p places everything in the crash range and names elfcorehdr=", "[plan_x86_64]") {
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

TEST_CASE("plan: -p backs up low memory into the reservation and the header reads the copy", "[plan_x86_64]") {
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

TEST_CASE("plan: -p with an empty command line gets just elfcorehdr=", "[plan_x86_64]") {
  std::vector<std::byte> kernel = fake_bzimage();
  X86LoadInput in;
  in.kernel = kernel;
  in.panic = true;
  in.placement = {{0x30000000, 0x38000000}};
  in.crash = crash_memory();
  X86Plan plan = plan_ok(in);
  REQUIRE(plan.cmdline == "elfcorehdr=0x37fff000");
}

TEST_CASE("plan: -p into a reservation above 4 GiB (crashkernel=X,high)", "[plan_x86_64]") {
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

TEST_CASE("plan: the initrd goes above 4 GiB only when the kernel says it may", "[plan_x86_64]") {
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

TEST_CASE("plan: command line length against cmdline_size", "[plan_x86_64]") {
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

TEST_CASE("plan: errors from the image and the placement come through", "[plan_x86_64]") {
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

TEST_CASE("plan: cut_from_ram takes a range out of RAM entries only", "[plan_x86_64]") {
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

TEST_CASE("plan: a map of more than 128 entries: the rest in SETUP_E820_EXT, chained with SETUP_EFI", "[plan_x86_64]") {
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
