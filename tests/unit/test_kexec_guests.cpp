// test_kexec_guests.cpp: the pure parts of kexec -p on facts captured from real QEMU guests
// (tests/qemu/kexec-compare.sh --facts, Debian's 6.1 kernel, nokaslr): /proc/iomem,
// /sys/firmware/memmap, crash_notes, vmcoreinfo, the head of /proc/kcore, boot_params and, for
// the UEFI guest, the EFI tables and runtime map. The readers run on a fake root built from
// those files, and the header and memory map we would build from them are compared with what
// the capture kernel of the same guest showed after loads made by others, never by us
// (kexec-compare.sh --loader debian|kernel): capture-debian/ after Debian's kexec-tools
// `kexec -c -p` (kexec_load: its own header, map and purgatory), capture-kernel/ after
// `kexec -s -p` (kexec_file_load: the running kernel builds header and map itself,
// arch/x86/kernel/crash.c). Each holds the capture's /proc/vmcore program headers (phdrs:
// "type paddr vaddr filesz memsz flags"), its e820 map (e820: "start end type", inclusive, as
// the kernel prints it) and its command line (cmdline). Every difference allowed is listed
// where it is allowed, with the rule that makes ours right.
#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "arch/x86_64/boot_params.h"
#include "lib/elf/elf_core.h"
#include "tests/unit/fake_bzimage.h"
#include "tests/unit/fake_root.h"
#include "kexec/load_x86_64.h"
#include "kexec/crash_x86_64.h"
#include "kexec/elfcorehdr.h"
#include "kexec/plan_x86_64.h"
#include "purgatory/include/purgatory_abi.h"
#include "purgatory/include/purgatory_blob.h"

using namespace kk;
using test::FakeRoot;

namespace {

struct Guest {
  std::string dir;  // under tests/unit/fixtures
  size_t cpus;
  bool efi;
};
const Guest kGuests[] = {
    {"x86_64-512m", 1, false},
    {"x86_64-4g-2cpu", 2, false},
    {"x86_64-efi-512m", 1, true},
};

std::string fixture(const Guest& g, const std::string& name) {
  std::ifstream in(std::string(KK_UNIT_FIXTURES) + "/" + g.dir + "/" + name, std::ios::binary);
  if (!in) FAIL("missing fixture " << g.dir << "/" << name);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::vector<std::string>> rows(const std::string& text) {
  std::vector<std::vector<std::string>> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::vector<std::string> row;
    for (std::string w; words >> w;) row.push_back(w);
    if (!row.empty()) out.push_back(std::move(row));
  }
  return out;
}

std::string unhex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out += char(std::stoi(hex.substr(i, 2), nullptr, 16));
  return out;
}

u64 num(const std::string& s) { return std::stoull(s, nullptr, 0); }

// The guest's /proc and /sys, as far as kexec reads them.
void populate(const FakeRoot& r, const Guest& g) {
  r.write("/proc/iomem", fixture(g, "iomem"));
  r.write("/proc/cmdline", fixture(g, "cmdline"));
  r.write("/proc/kcore", unhex(fixture(g, "kcore_head.hex")));
  r.write("/sys/kernel/boot_params/data", unhex(fixture(g, "boot_params.hex")));
  r.write("/sys/kernel/vmcoreinfo", fixture(g, "vmcoreinfo"));
  for (const auto& row : rows(fixture(g, "memmap"))) {  // "N start end Type Name"
    std::string dir = "/sys/firmware/memmap/" + row[0];
    std::string type = row[3];
    for (size_t i = 4; i < row.size(); ++i) type += " " + row[i];
    r.write(dir + "/start", row[1] + "\n");
    r.write(dir + "/end", row[2] + "\n");
    r.write(dir + "/type", type + "\n");
  }
  for (const auto& row : rows(fixture(g, "crash_notes"))) {  // "possible 0-1", "cpuN addr size"
    if (row[0] == "possible") {
      r.write("/sys/devices/system/cpu/possible", row[1] + "\n");
    } else {
      r.write("/sys/devices/system/cpu/" + row[0] + "/crash_notes", row[1] + "\n");
      r.write("/sys/devices/system/cpu/" + row[0] + "/crash_notes_size", row[2] + "\n");
    }
  }
  if (!g.efi) return;
  r.write("/sys/firmware/efi/systab", fixture(g, "efi_systab"));
  for (const auto& row : rows(fixture(g, "efi_tables"))) r.write("/sys/firmware/efi/" + row[0], row[1] + "\n");
  for (const auto& row : rows(fixture(g, "efi_runtime_map"))) {  // "N type phys virt pages attr"
    std::string dir = "/sys/firmware/efi/runtime-map/" + row[0] + "/";
    const char* names[] = {"type", "phys_addr", "virt_addr", "num_pages", "attribute"};
    for (size_t i = 0; i < 5; ++i) r.write(dir + names[i], row[i + 1] + "\n");
  }
}

struct Phdr {
  std::string type;
  u64 paddr, vaddr, filesz, memsz, flags;
  bool operator==(const Phdr&) const = default;
};

// Who loaded the capture kernel whose view a fixture holds: "debian" or "kernel".
std::vector<Phdr> capture_loads(const Guest& g, const std::string& who) {
  std::vector<Phdr> out;
  for (const auto& row : rows(fixture(g, "capture-" + who + "/phdrs")))
    if (row[0] == "LOAD") out.push_back({row[0], num(row[1]), num(row[2]), num(row[3]), num(row[4]), num(row[5])});
  return out;
}

std::vector<Phdr> our_loads(const std::vector<std::byte>& hdr) {
  Elf64Ehdr eh;
  std::memcpy(&eh, hdr.data(), sizeof eh);
  std::vector<Phdr> out;
  for (u32 i = 0; i < eh.phnum; ++i) {
    Elf64Phdr p;
    std::memcpy(&p, hdr.data() + eh.phoff + i * sizeof p, sizeof p);
    if (p.type == kPtLoad) out.push_back({"LOAD", p.paddr, p.vaddr, p.filesz, p.memsz, p.flags});
  }
  return out;
}

// The capture kernel's map as it printed it ("BIOS-e820: [mem A-B] usable" -> "A B usable").
std::vector<x86_64::E820Entry> capture_e820(const Guest& g, const std::string& who) {
  const std::map<std::string, u32> types{{"usable", x86_64::kE820Ram},
                                         {"reserved", x86_64::kE820Reserved},
                                         {"ACPI_data", x86_64::kE820Acpi},
                                         {"ACPI_NVS", x86_64::kE820Nvs}};
  std::vector<x86_64::E820Entry> out;
  for (const auto& row : rows(fixture(g, "capture-" + who + "/e820"))) {
    REQUIRE(types.count(row[2]) == 1);
    out.push_back({num(row[0]), num(row[1]) - num(row[0]) + 1, types.at(row[2])});
  }
  return out;
}

// elfcorehdr= on the capture's command line: "0x17000000" (kernel) or "507252K" (kexec-tools).
u64 capture_elfcorehdr(const Guest& g, const std::string& who) {
  for (const auto& row : rows(fixture(g, "capture-" + who + "/cmdline")))
    for (const std::string& w : row)
      if (w.rfind("elfcorehdr=", 0) == 0) {
        std::string v = w.substr(11);
        return v.back() == 'K' ? num(v.substr(0, v.size() - 1)) << 10 : num(v);
      }
  FAIL("no elfcorehdr= in " << g.dir << "/capture-" << who << "/cmdline");
  return 0;
}

template <class T>
T get_le(std::span<const std::byte> b, size_t off) {
  return load_le<T>(b.data() + off);
}

// A guest's fake root, its /proc/iomem and its one crashkernel=128M range, read as kexec does.
struct GuestRoot {
  explicit GuestRoot(const Guest& g) {
    populate(root, g);
    Result<std::vector<IomemRange>> io = read_iomem(root.paths);
    if (!io) FAIL(io.error().msg);
    iomem = *io;
    Result<std::vector<PhysRange>> c = crash_ranges(iomem);
    if (!c) FAIL(c.error().msg);
    crash = *c;
    REQUIRE(crash.size() == 1);
    REQUIRE(crash.front().size() == 128u << 20);
  }
  FakeRoot root;
  std::vector<IomemRange> iomem;
  std::vector<PhysRange> crash;
};

}  // namespace

TEST_CASE("guests: our ELF core header is kexec-tools', and the kernel's but for the low memory", "[guests]") {
  for (const Guest& g : kGuests) {
    INFO("guest " << g.dir);
    GuestRoot gr(g);
    Result<CrashMemory> mem = gather_crash_memory(gr.root.paths, gr.iomem, gr.crash);
    if (!mem) FAIL(mem.error().msg);
    REQUIRE(mem->cpu_notes.size() == g.cpus);
    REQUIRE(mem->vmcoreinfo.size == 0x1024);
    REQUIRE(mem->kernel_text);
    REQUIRE(mem->kernel_text->vaddr == 0xffffffff81000000);  // nokaslr
    REQUIRE(mem->page_offset == 0xffff888000000000);
    // The low memory both loaders back up: the first RAM range, from 4 KiB (page 0 is reserved).
    REQUIRE(mem->backup_src.start == 0x1000);
    REQUIRE(mem->backup_src.end == (g.efi ? 0xa0000 : 0x9fc00));
    std::vector<Phdr> ours = our_loads(build_elfcorehdr(*mem));

    // kexec_load by Debian's kexec-tools: every PT_LOAD the same, the backed-up low memory too.
    REQUIRE(ours == capture_loads(g, "debian"));

    // kexec_file_load: the kernel's own header (arch/x86/kernel/crash.c, elf_header_exclude_ranges)
    // leaves the first 1 MiB out, since the first kernel reserves it whole and keeps no data there
    // (and it has no backup to read it from). We back the low memory up as kexec-tools does, so a
    // dump still shows what the crashed kernel and firmware left there (the low-memory mark of
    // tests/integration/kexec_phdrs.sh). That PT_LOAD, exactly the backup's source, is the one
    // allowed difference.
    std::vector<Phdr> low, rest;
    for (const Phdr& p : ours) (p.paddr < (1u << 20) ? low : rest).push_back(p);
    REQUIRE(low.size() == 1);
    REQUIRE(low[0].paddr == mem->backup_src.start);
    REQUIRE(low[0].filesz == mem->backup_src.size());
    REQUIRE(rest == capture_loads(g, "kernel"));
  }
}

namespace {

// What our kexec -c -p would hand this guest's capture kernel: the map in the planned
// boot_params (cuts included), where the header and the backup went.
struct OurCapture {
  std::vector<x86_64::E820Entry> map;
  u64 elfcorehdr = 0;
  PhysRange backup;  // the segment, whole pages
};

OurCapture plan_capture(const GuestRoot& gr) {
  std::vector<std::byte> kernel = test::fake_bzimage(x86_64::kXlfKernel64 | x86_64::kXlfCanBeLoadedAbove4G);
  X86LoadInput in;
  in.kernel = kernel;
  in.cmdline = "irqpoll";
  in.panic = true;
  in.placement = gr.crash;
  in.e820 = capture_memory_map(gr.iomem, gr.crash);
  Result<CrashMemory> mem = gather_crash_memory(gr.root.paths, gr.iomem, gr.crash);
  if (!mem) FAIL(mem.error().msg);
  in.crash = *mem;
  PurgatoryBuilder purgatory = [](u64 entry, u64 bp, const BackupCopy& backup, const std::vector<Segment>& checked,
                                  Allocator& alloc) {
    PurgatoryRequest req{entry, bp, 0x3f8, false};
    req.backup = backup;
    return make_purgatory_segment(purgatory_x86_64(), req, checked, alloc);
  };
  Result<X86Plan> plan = plan_x86_64_load(in, purgatory);
  if (!plan) FAIL(plan.error().msg);
  OurCapture out;
  out.elfcorehdr = plan->elfcorehdr_addr;
  for (const Segment& s : plan->plan.segments) {
    if (s.what == "backup") out.backup = {s.mem, s.mem + s.memsz};
    if (s.what != "boot parameters") continue;
    size_t n = static_cast<size_t>(s.data[x86_64::params::kE820Entries]);
    REQUIRE(n <= x86_64::kE820Max);
    for (size_t i = 0; i < n; ++i) {
      size_t off = x86_64::params::kE820Table + i * x86_64::kE820EntrySize;
      out.map.push_back({get_le<u64>(s.data, off), get_le<u64>(s.data, off + x86_64::kE820SizeOffset),
                         get_le<u32>(s.data, off + x86_64::kE820TypeOffset)});
    }
  }
  REQUIRE(out.backup.size() > 0);
  return out;
}

bool inside(const x86_64::E820Entry& e, PhysRange r) { return e.addr >= r.start && e.addr + e.size <= r.end; }

std::vector<x86_64::E820Entry> outside_of(std::vector<x86_64::E820Entry> map, PhysRange r) {
  std::erase_if(map, [&](const x86_64::E820Entry& e) { return inside(e, r); });
  return map;
}

std::vector<x86_64::E820Entry> ram_inside(const std::vector<x86_64::E820Entry>& map, PhysRange r) {
  std::vector<x86_64::E820Entry> out;
  for (const x86_64::E820Entry& e : map)
    if (inside(e, r)) {
      REQUIRE(e.type == x86_64::kE820Ram);
      out.push_back(e);
    }
  return out;
}

}  // namespace

TEST_CASE("guests: the capture kernel's memory map is kexec-tools' and the kernel's, each difference explained",
          "[guests]") {
  for (const Guest& g : kGuests) {
    INFO("guest " << g.dir);
    GuestRoot gr(g);
    const PhysRange crash = gr.crash.front();
    const OurCapture ours = plan_capture(gr);
    const std::vector<x86_64::E820Entry> debian = capture_e820(g, "debian"), kernel = capture_e820(g, "kernel");

    // Outside the reservation all three are the same: the first kernel's view in /proc/iomem
    // (its RAM below 1 MiB, ACPI tables and NVS, "Reserved" ranges, page 0 among them).
    REQUIRE(outside_of(ours.map, crash) == outside_of(debian, crash));
    REQUIRE(outside_of(ours.map, crash) == outside_of(kernel, crash));
    REQUIRE(ours.map.front().addr == 0);
    REQUIRE(ours.map.front().size == 0x1000);
    REQUIRE(ours.map.front().type == x86_64::kE820Reserved);

    // Inside it, ours: RAM from the start up to the ELF core header, then header and backup (one
    // segment each, whole pages, top-down) to the end: nothing else is cut, and every entry is
    // whole pages (arch/x86/kernel/crash.c, crash_setup_memmap_entries, skips entries under a
    // page; memblock would drop a partial page anyway).
    const std::vector<x86_64::E820Entry> our_ram = ram_inside(ours.map, crash);
    REQUIRE(our_ram.size() == 1);
    REQUIRE(our_ram[0].addr == crash.start);
    REQUIRE(our_ram[0].addr + our_ram[0].size == ours.elfcorehdr);
    REQUIRE(ours.elfcorehdr + 0x1000 == ours.backup.start);
    REQUIRE(ours.backup.end == crash.end);

    // Debian's kexec-tools, the same rule with two differences, both its own:
    //  1. it keeps 16 KiB for its ELF core header where ours takes the header's one page, so its
    //     RAM ends 12 KiB lower, at its elfcorehdr=;
    //  2. it cuts only the backup's source size (0x9ec00) out of its page-rounded backup segment,
    //     leaving the last page's tail (1 KiB) as RAM: a range the kernel's own rule (above)
    //     would never hand out, inside a page the backup segment occupies
    //     (SeaBIOS guests: 0x9ec00 bytes from 0x1000; the UEFI guest's 0x9f000 leave no tail).
    const std::vector<x86_64::E820Entry> deb_ram = ram_inside(debian, crash);
    const bool tail = x86_backup_source(gr.iomem).size() % 0x1000 != 0;
    REQUIRE(deb_ram.size() == (tail ? 2u : 1u));
    REQUIRE(deb_ram[0].addr == crash.start);
    const u64 deb_hdr = capture_elfcorehdr(g, "debian");
    REQUIRE(deb_ram[0].addr + deb_ram[0].size == deb_hdr);
    REQUIRE(ours.elfcorehdr - deb_hdr == 0x3000);
    if (tail) {
      REQUIRE(deb_ram[1].size < 0x1000);
      REQUIRE(deb_ram[1].addr + deb_ram[1].size == crash.end);
      REQUIRE(deb_ram[1].addr > ours.backup.start);
    }

    // The kernel's kexec_file_load: its header's page at the bottom of the reservation, RAM
    // from there to the end, and no backup (its header leaves the low 1 MiB out, see above):
    // ours hands the capture kernel 640 KiB less, the backup that keeps the low memory in the dump.
    const std::vector<x86_64::E820Entry> k_ram = ram_inside(kernel, crash);
    REQUIRE(k_ram.size() == 1);
    REQUIRE(capture_elfcorehdr(g, "kernel") == crash.start);
    REQUIRE(k_ram[0].addr == crash.start + 0x1000);
    REQUIRE(k_ram[0].addr + k_ram[0].size == crash.end);
    REQUIRE(k_ram[0].size - our_ram[0].size == ours.backup.size());
  }
}

TEST_CASE("guests: the UEFI guest's runtime map and tables go to the next kernel", "[guests]") {
  const Guest& g = kGuests[2];
  GuestRoot gr(g);
  Result<std::optional<x86_64::EfiFirmware>> fw = read_efi_firmware(gr.root.paths);
  if (!fw) FAIL(fw.error().msg);
  REQUIRE(*fw);
  const std::vector<std::vector<std::string>> map_rows = rows(fixture(g, "efi_runtime_map"));
  REQUIRE((*fw)->runtime_map.size() == map_rows.size());
  for (size_t i = 0; i < map_rows.size(); ++i) {
    REQUIRE((*fw)->runtime_map[i].type == num(map_rows[i][1]));
    REQUIRE((*fw)->runtime_map[i].phys_addr == num(map_rows[i][2]));
    REQUIRE((*fw)->runtime_map[i].virt_addr == num(map_rows[i][3]));
    REQUIRE((*fw)->runtime_map[i].num_pages == num(map_rows[i][4]));
    REQUIRE((*fw)->runtime_map[i].attribute == num(map_rows[i][5]));
  }
  REQUIRE((*fw)->boot_info.loader_signature == x86_64::kEfiLoaderSignature64);
  REQUIRE((*fw)->boot_info.memdesc_version == 1);
  std::map<std::string, u64> tables;
  for (const auto& row : rows(fixture(g, "efi_tables"))) tables[row[0]] = num(row[1]);
  REQUIRE((*fw)->fw_vendor == tables.at("fw_vendor"));
  REQUIRE((*fw)->runtime == tables.at("runtime"));
  REQUIRE((*fw)->config_table == tables.at("config_table"));
  REQUIRE((*fw)->smbios == x86_64::parse_systab_value(fixture(g, "efi_systab"), "SMBIOS"));
  REQUIRE((*fw)->smbios != 0);

  // A load of a kernel that takes them (XLF_EFI_KEXEC): SETUP_EFI with the tables, and
  // boot_params.efi_info naming a copy of the runtime map inside the boot parameters segment.
  std::vector<std::byte> kernel = test::fake_bzimage(x86_64::kXlfKernel64 | x86_64::kXlfCanBeLoadedAbove4G |
                                                     x86_64::kXlfEfiKexec);
  X86LoadInput in;
  in.kernel = kernel;
  in.cmdline = "irqpoll";
  in.panic = true;
  in.placement = gr.crash;
  in.e820 = capture_memory_map(gr.iomem, gr.crash);
  in.crash = *gather_crash_memory(gr.root.paths, gr.iomem, gr.crash);
  in.efi = **fw;
  PurgatoryBuilder purgatory = [](u64 entry, u64 bp, const BackupCopy& backup, const std::vector<Segment>& checked,
                                  Allocator& alloc) {
    PurgatoryRequest req{entry, bp, 0x3f8, false};
    req.backup = backup;
    return make_purgatory_segment(purgatory_x86_64(), req, checked, alloc);
  };
  Result<X86Plan> plan = plan_x86_64_load(in, purgatory);
  if (!plan) FAIL(plan.error().msg);
  REQUIRE(plan->efi_passed);
  REQUIRE(plan->warnings.empty());
  const Segment* bp = nullptr;
  for (const Segment& s : plan->plan.segments)
    if (s.what == "boot parameters") bp = &s;
  REQUIRE(bp);
  x86_64::EfiInfo ei = x86_64::parse_efi_info(std::span<const std::byte, 32>(bp->data.data() + 0x1c0, 32));
  REQUIRE(ei.loader_signature == x86_64::kEfiLoaderSignature64);
  REQUIRE(ei.systab == (*fw)->boot_info.systab);
  REQUIRE(ei.memdesc_size == 40);
  REQUIRE(ei.memmap_size == 40 * map_rows.size());
  REQUIRE(ei.memmap > bp->mem);
  REQUIRE(ei.memmap + ei.memmap_size <= bp->mem + bp->data.size());
  std::span<const std::byte> copy(bp->data.data() + (ei.memmap - bp->mem), ei.memmap_size);
  REQUIRE(get_le<u64>(copy, 8) == (*fw)->runtime_map[0].phys_addr);
  REQUIRE(get_le<u64>(copy, 16) == (*fw)->runtime_map[0].virt_addr);
  // setup_data: one SETUP_EFI (the map has far fewer than 128 entries), in the same segment.
  u64 sd = get_le<u64>(bp->data, 0x250);
  REQUIRE(sd > bp->mem);
  std::span<const std::byte> sdb(bp->data.data() + (sd - bp->mem), 16 + 96);
  REQUIRE(get_le<u64>(sdb, 0) == 0);   // the only one
  REQUIRE(get_le<u32>(sdb, 8) == 4);   // SETUP_EFI
  REQUIRE(get_le<u32>(sdb, 12) == 96);
  REQUIRE(get_le<u64>(sdb, 16) == (*fw)->fw_vendor);
  REQUIRE(get_le<u64>(sdb, 24) == (*fw)->runtime);
  REQUIRE(get_le<u64>(sdb, 32) == (*fw)->config_table);
  REQUIRE(get_le<u64>(sdb, 40) == (*fw)->smbios);

  // Without XLF_EFI_KEXEC the kernel would not know what to do with them: left out, and said.
  std::vector<std::byte> old_kernel = test::fake_bzimage();
  in.kernel = old_kernel;
  Result<X86Plan> plain = plan_x86_64_load(in, purgatory);
  REQUIRE(plain);
  REQUIRE_FALSE(plain->efi_passed);
  REQUIRE(plain->warnings.size() == 1);
  REQUIRE_THAT(plain->warnings[0], Catch::Contains("XLF_EFI_KEXEC"));
}
