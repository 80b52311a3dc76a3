// test_kexec_guests.cpp: the pure parts of kexec -p on facts captured from real QEMU guests
// (tests/qemu/kexec-compare.sh --facts, Debian's 6.1 kernel, nokaslr): /proc/iomem,
// /sys/firmware/memmap, crash_notes, vmcoreinfo, the head of /proc/kcore, boot_params and, for
// the UEFI guest, the EFI tables and runtime map. Each guest's directory under
// tests/unit/fixtures/ also holds what its capture kernel then showed after our kexec -c -p:
// the program headers of /proc/vmcore (capture_phdrs: "type paddr vaddr filesz memsz flags")
// and its e820 map (capture_e820: "start end type", inclusive, as the kernel prints it). The
// readers run on a fake root built from those files, and the header and memory map we would
// build from them must be what the capture kernel got.
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

std::vector<Phdr> capture_loads(const Guest& g) {
  std::vector<Phdr> out;
  for (const auto& row : rows(fixture(g, "capture_phdrs")))
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
std::vector<x86_64::E820Entry> capture_e820(const Guest& g) {
  const std::map<std::string, u32> types{{"usable", x86_64::kE820Ram},
                                         {"reserved", x86_64::kE820Reserved},
                                         {"ACPI_data", x86_64::kE820Acpi},
                                         {"ACPI_NVS", x86_64::kE820Nvs}};
  std::vector<x86_64::E820Entry> out;
  for (const auto& row : rows(fixture(g, "capture_e820"))) {
    REQUIRE(types.count(row[2]) == 1);
    out.push_back({num(row[0]), num(row[1]) - num(row[0]) + 1, types.at(row[2])});
  }
  return out;
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

TEST_CASE("guests: the ELF core header from real guests' facts is the one their capture showed", "[guests]") {
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

    // Every PT_LOAD as the capture kernel's /proc/vmcore showed it (our load, same guest).
    std::vector<std::byte> hdr = build_elfcorehdr(*mem);
    REQUIRE(our_loads(hdr) == capture_loads(g));
  }
}

TEST_CASE("guests: the capture kernel's memory map is the firmware's, RAM cut to the reservation", "[guests]") {
  for (const Guest& g : kGuests) {
    INFO("guest " << g.dir);
    GuestRoot gr(g);
    Result<std::vector<x86_64::E820Entry>> firmware = read_firmware_map(gr.root.paths);
    REQUIRE(firmware);
    REQUIRE(firmware->size() == rows(fixture(g, "memmap")).size());
    Result<std::vector<x86_64::E820Entry>> ours =
        x86_64::normalize_e820(capture_memory_map(*firmware, gr.iomem, gr.crash));
    REQUIRE(ours);
    std::vector<x86_64::E820Entry> got = capture_e820(g);

    // Not RAM: exactly what the capture kernel saw (the kernel drops page 0's entry itself on
    // SeaBIOS guests: it reserves the first page whatever the map says).
    auto not_ram = [](std::vector<x86_64::E820Entry> v) {
      std::erase_if(v, [](const x86_64::E820Entry& e) { return e.type == x86_64::kE820Ram || e.addr == 0; });
      return v;
    };
    REQUIRE(not_ram(*ours) == not_ram(got));
    // RAM: ours is the low memory and the reservation; the kernel got that minus the backup and
    // the ELF core header (cut by the planner at the load's addresses): every RAM byte it got
    // is ours, and it lacks no more than those two segments.
    u64 ours_ram = 0, got_ram = 0;
    for (const x86_64::E820Entry& e : *ours)
      if (e.type == x86_64::kE820Ram) ours_ram += e.size;
    for (const x86_64::E820Entry& e : got) {
      if (e.type != x86_64::kE820Ram) continue;
      got_ram += e.size;
      bool inside = std::any_of(ours->begin(), ours->end(), [&](const x86_64::E820Entry& o) {
        return o.type == x86_64::kE820Ram && e.addr >= o.addr && e.addr + e.size <= o.addr + o.size;
      });
      REQUIRE(inside);
    }
    u64 backup = align_up(x86_backup_source(gr.iomem).size(), 4096);
    REQUIRE(ours_ram - got_ram >= backup + 4096);
    REQUIRE(ours_ram - got_ram <= backup + 4 * 4096);
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
  in.e820 = capture_memory_map(*read_firmware_map(gr.root.paths), gr.iomem, gr.crash);
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
