#include "kexec/system_info.h"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "lib/io/dir_list.h"
#include "lib/io/file.h"
#include "lib/io/hex.h"
#include "lib/io/lines.h"
#include "lib/io/number.h"
#include "lib/io/text_file.h"
#include "lib/kernel/cpu_list.h"

namespace kk {

namespace {

std::optional<u64> parse_u64(std::string_view s, int base) { return parse_unsigned(trim(s), base); }

Result<u64> read_number(const std::string& path, int base) {
  KK_TRY_ASSIGN(std::string t, read_text_file(path, 4096));
  std::optional<u64> v = parse_u64(t, base);
  if (!v) return make_error(Errc::corrupt, path + ": not a number: '" + std::string(trim(t)) + "'");
  return *v;
}

}  // namespace

Result<std::vector<IomemRange>> read_iomem(const SysPaths& p) {
  KK_TRY_ASSIGN(std::string t, read_text_file(p.at(p.iomem)));
  Result<std::vector<IomemRange>> r = parse_iomem(t);
  if (!r) return std::move(r).error().context(p.at(p.iomem));
  // Without CAP_SYS_ADMIN the kernel prints every range as 0-0.
  bool all_zero = std::all_of(r->begin(), r->end(), [](const IomemRange& x) { return x.end == 0; });
  if (!r->empty() && all_zero)
    return make_error(Errc::io, p.at(p.iomem) + ": addresses hidden (run as root)");
  return r;
}

std::optional<x86_64::E820Entry> parse_memmap_entry(std::string_view start, std::string_view end,
                                                    std::string_view type) {
  std::optional<u64> s = parse_u64(start, 16);
  std::optional<u64> e = parse_u64(end, 16);
  // end is inclusive; an end below start (or a range of the whole 2^64) has no e820 size.
  if (!s || !e || *e < *s || (*s == 0 && *e == ~0ull)) return std::nullopt;
  std::optional<u32> t = x86_64::e820_type_from_name(trim(type));
  return x86_64::E820Entry{*s, *e - *s + 1, t.value_or(x86_64::kE820Reserved)};
}

namespace {

// /sys/firmware/memmap/N/{start,end,type}; entries that do not read or parse are skipped.
std::vector<x86_64::E820Entry> read_sysfs_memmap(const std::string& dir) {
  std::vector<x86_64::E820Entry> out;
  Result<std::vector<std::string>> names = list_dir(dir);
  if (!names) return out;
  for (const std::string& n : *names) {
    Result<std::string> start = read_text_file(dir + "/" + n + "/start", 64);
    Result<std::string> end = read_text_file(dir + "/" + n + "/end", 64);
    Result<std::string> type = read_text_file(dir + "/" + n + "/type", 4096);
    if (!start || !end || !type) continue;
    if (std::optional<x86_64::E820Entry> e = parse_memmap_entry(*start, *end, *type)) out.push_back(*e);
  }
  return out;
}

}  // namespace

Result<std::vector<x86_64::E820Entry>> read_firmware_map(const SysPaths& p) {
  std::vector<x86_64::E820Entry> out = read_sysfs_memmap(p.at(p.memmap));
  if (!out.empty()) return out;
  KK_TRY_ASSIGN(std::vector<IomemRange> io, read_iomem(p));
  for (const IomemRange& r : io) {
    if (r.depth != 0) continue;
    std::optional<u32> t = r.name.rfind("System RAM", 0) == 0 ? std::optional<u32>(x86_64::kE820Ram)
                                                              : x86_64::e820_type_from_name(r.name);
    if (t) out.push_back({r.start, r.size(), *t});
  }
  return out;
}

Result<std::vector<NoteBuffer>> read_crash_notes(const SysPaths& p) {
  std::string base = p.at(p.cpu);
  Result<std::string> possible = read_text_file(base + "/possible", 4096);
  if (!possible) return std::move(possible).error().context("sysfs not mounted?");
  Result<std::vector<int>> cpus = parse_cpu_list(*possible);
  if (!cpus) return std::move(cpus).error().context(base + "/possible");
  std::vector<NoteBuffer> out;
  for (int c : *cpus) {
    std::string dir = base + "/cpu" + std::to_string(c);
    Result<u64> addr = read_number(dir + "/crash_notes", 16);
    if (!addr) continue;  // possible but never present: no buffer
    Result<u64> size = read_number(dir + "/crash_notes_size", 10);
    // crash_notes_size exists since 4.3; the note buffer was 1024 bytes before that.
    out.push_back({*addr, size ? *size : 1024});
  }
  if (out.empty()) return make_error(Errc::missing, base + ": no cpuN/crash_notes (kernel without CONFIG_CRASH_DUMP?)");
  return out;
}

Result<NoteBuffer> parse_vmcoreinfo_location(std::string_view text) {
  text = trim(text);
  size_t sp = text.find(' ');
  std::optional<u64> addr = parse_u64(text.substr(0, sp), 16);
  std::optional<u64> size = sp == std::string_view::npos ? std::nullopt : parse_u64(text.substr(sp + 1), 16);
  if (!addr || !size || *size == 0) return make_error(Errc::corrupt, "expected '<hex address> <hex size>'");
  return NoteBuffer{*addr, *size};
}

Result<NoteBuffer> read_vmcoreinfo_location(const SysPaths& p) {
  KK_TRY_ASSIGN(std::string t, read_text_file(p.at(p.vmcoreinfo), 4096));
  Result<NoteBuffer> n = parse_vmcoreinfo_location(t);
  if (!n) return std::move(n).error().context(p.at(p.vmcoreinfo));
  return n;
}

Result<std::vector<Elf64Phdr>> read_kcore_phdrs(const std::string& path) {
  KK_TRY_ASSIGN(InputFile f, InputFile::open(path));
  std::byte eh[sizeof(Elf64Ehdr)];
  KK_TRY(f.read_at(0, eh));
  Result<ElfCoreHead> head = parse_elf_core_head(eh);
  if (!head) return std::move(head).error().context(path);
  if (head->phnum > 65536) return make_error(Errc::corrupt, path + ": too many program headers");
  // The program headers are read raw, not with parse_program_headers(): that one checks a
  // vmcore and refuses /proc/kcore, whose vmalloc, module and vmemmap PT_LOADs have
  // p_paddr = -1 ("physical range wraps around"). Refusing them lost the kernel text PT_LOAD
  // and, worse, left the direct map at its non-KASLR default in the ELF core header, while
  // Debian's kernels randomise it (CONFIG_RANDOMIZE_MEMORY): every PT_LOAD vaddr was wrong.
  std::vector<Elf64Phdr> ph(head->phnum);
  KK_TRY(f.read_at(head->phoff, std::as_writable_bytes(std::span(ph))));
  return ph;
}

Result<KcoreFacts> read_kcore_facts(const SysPaths& p, KcoreLayout layout) {
  KK_TRY_ASSIGN(std::vector<Elf64Phdr> ph, read_kcore_phdrs(p.at(p.kcore)));
  return kcore_facts(ph, layout);
}

u64 read_acpi_rsdp(const SysPaths& p) {
  if (Result<std::string> t = read_text_file(p.at(p.efi_systab), 65536)) {
    std::string_view s = *t;
    for (std::string_view key : {"ACPI20=", "ACPI="}) {
      size_t at = s.find(key);
      if (at == std::string_view::npos) continue;
      std::string_view v = s.substr(at + key.size());
      v = v.substr(0, v.find('\n'));
      if (std::optional<u64> a = parse_u64(v, 16)) return *a;
    }
  }
  if (Result<std::vector<std::byte>> bp = read_binary_file(p.at(p.boot_params), 65536);
      bp && bp->size() >= x86_64::params::kAcpiRsdpAddr + sizeof(u64))
    return load_le<u64>(bp->data() + x86_64::params::kAcpiRsdpAddr);
  return 0;
}

namespace {

// "0x7fbee018\n" as /sys/firmware/efi's files hold their numbers.
Result<u64> read_efi_hex(const std::string& path) {
  KK_TRY_ASSIGN(std::string t, read_text_file(path, 4096));
  std::optional<u64> v = x86_64::parse_efi_hex(t);
  if (!v) return make_error(Errc::corrupt, path + ": not a 0x... number: '" + std::string(trim(t)) + "'");
  return *v;
}

Result<x86_64::EfiMemDesc> read_efi_mem_desc(const std::string& dir) {
  x86_64::EfiMemDesc md;
  Result<u64> type = read_efi_hex(dir + "type"), phys = read_efi_hex(dir + "phys_addr"),
              virt = read_efi_hex(dir + "virt_addr"), pages = read_efi_hex(dir + "num_pages"),
              attr = read_efi_hex(dir + "attribute");
  for (Result<u64>* r : {&type, &phys, &virt, &pages, &attr})
    if (!*r) return std::move(*r).error();
  md.type = static_cast<u32>(*type);
  md.phys_addr = *phys;
  md.virt_addr = *virt;
  md.num_pages = *pages;
  md.attribute = *attr;
  return md;
}

// runtime-map/0, 1, ...: read in numeric order, the order the first kernel listed them. No
// directory: no runtime map.
Result<std::vector<x86_64::EfiMemDesc>> read_efi_runtime_map(const std::string& dir) {
  std::vector<u64> ids;
  if (Result<std::vector<std::string>> names = list_dir(dir))
    for (const std::string& n : *names)
      if (std::optional<u64> id = parse_u64(n, 10)) ids.push_back(*id);
  std::sort(ids.begin(), ids.end());
  if (ids.size() > 4096) return make_error(Errc::corrupt, dir + ": more than 4096 entries");
  std::vector<x86_64::EfiMemDesc> map;
  for (u64 id : ids) {
    KK_TRY_ASSIGN(x86_64::EfiMemDesc md, read_efi_mem_desc(dir + "/" + std::to_string(id) + "/"));
    map.push_back(md);
  }
  return map;
}

}  // namespace

Result<std::optional<x86_64::EfiFirmware>> read_efi_firmware(const SysPaths& p) {
  using Fw = std::optional<x86_64::EfiFirmware>;
  Result<std::string> systab = read_text_file(p.at(p.efi_systab), 65536);
  if (!systab) return Fw{};  // not an EFI boot
  std::string dir = p.at(p.efi);
  // boot_params.efi_info as the first kernel got it: signature, systab, descriptor version.
  KK_TRY_ASSIGN(std::vector<std::byte> bp, read_binary_file(p.at(p.boot_params), 65536));
  if (bp.size() < x86_64::kEfiInfoOffset + x86_64::kEfiInfoSize)
    return make_error(Errc::corrupt, p.at(p.boot_params) + ": shorter than boot_params");
  x86_64::EfiFirmware fw;
  fw.boot_info = x86_64::parse_efi_info(
      std::span<const std::byte, x86_64::kEfiInfoSize>(bp.data() + x86_64::kEfiInfoOffset, x86_64::kEfiInfoSize));
  fw.smbios = x86_64::parse_systab_value(*systab, "SMBIOS").value_or(0);
  struct Table { const char* name; u64* to; };
  for (Table t : {Table{"fw_vendor", &fw.fw_vendor}, Table{"runtime", &fw.runtime},
                  Table{"config_table", &fw.config_table}}) {
    KK_TRY_ASSIGN(u64 v, read_efi_hex(dir + "/" + t.name));
    *t.to = v;
  }
  KK_TRY_ASSIGN(std::vector<x86_64::EfiMemDesc> map, read_efi_runtime_map(dir + "/runtime-map"));
  fw.runtime_map = std::move(map);
  return Fw{std::move(fw)};
}

std::string read_lockdown(const SysPaths& p) {
  Result<std::string> t = read_text_file(p.at(p.lockdown), 4096);
  if (!t) return "none";
  size_t a = t->find('['), b = t->find(']');
  if (a == std::string::npos || b == std::string::npos || b < a) return "none";
  return t->substr(a + 1, b - a - 1);
}

Result<bool> read_loaded(const std::string& path) {
  Result<u64> v = read_number(path, 10);
  if (!v) return std::move(v).error();
  return *v != 0;
}

Result<CrashMemory> read_crash_memory(const SysPaths& p, u16 machine, std::vector<PhysRange> ram,
                                      KcoreLayout layout, u64 default_page_offset) {
  CrashMemory m;
  m.machine = machine;
  m.ram = std::move(ram);
  KK_TRY_ASSIGN(std::vector<NoteBuffer> notes, read_crash_notes(p));
  m.cpu_notes = std::move(notes);
  KK_TRY_ASSIGN(NoteBuffer vi, read_vmcoreinfo_location(p));
  m.vmcoreinfo = vi;
  m.page_offset = default_page_offset;
  Result<KcoreFacts> k = read_kcore_facts(p, layout);
  if (k) {
    m.kernel_text = k->text;
    if (k->page_offset) m.page_offset = *k->page_offset;
  }
  if (!k || !k->page_offset)
    m.warnings.push_back("no direct-map base from /proc/kcore (" +
                         (k ? std::string("no RAM segment") : k.error().msg) +
                         "); the ELF core header assumes " + hex(default_page_offset));
  return m;
}

Result<LoadFiles> read_load_files(const std::string& kernel_path, const std::string& initrd_path) {
  constexpr size_t kMaxKernelBytes = 512u << 20;
  // size_t before the shift: 4096u << 20 is a 32-bit unsigned and wraps to 0 (every initrd refused).
  constexpr size_t kMaxInitrdBytes = size_t{4096} << 20;
  LoadFiles f;
  Result<std::vector<std::byte>> kernel = read_binary_file(kernel_path, kMaxKernelBytes);
  if (!kernel) return std::move(kernel).error();
  f.kernel = std::move(*kernel);
  if (!initrd_path.empty()) {
    KK_TRY_ASSIGN(std::vector<std::byte> r, read_binary_file(initrd_path, kMaxInitrdBytes));
    f.initrd = std::move(r);
  }
  return f;
}

}  // namespace kk
