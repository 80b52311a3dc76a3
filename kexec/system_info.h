// system_info.h: what the running kernel tells a loader about the machine, read from /proc and
// /sys. Thin: each function reads and hands the text to a pure parser. Paths are parameters so
// tests can point them at fixtures.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "arch/x86_64/boot_params.h"
#include "arch/x86_64/efi.h"
#include "kexec/elfcorehdr.h"
#include "kexec/kcore_facts.h"
#include "lib/kernel/iomem.h"

namespace kk {

struct SysPaths {
  std::string root;  // prefix for every path below ("" on a real system)
  std::string iomem = "/proc/iomem";
  std::string memmap = "/sys/firmware/memmap";
  std::string cpu = "/sys/devices/system/cpu";
  std::string vmcoreinfo = "/sys/kernel/vmcoreinfo";
  std::string kcore = "/proc/kcore";
  std::string cmdline = "/proc/cmdline";
  std::string efi_systab = "/sys/firmware/efi/systab";
  std::string efi = "/sys/firmware/efi";  // fw_vendor, runtime, config_table, runtime-map/N/
  std::string boot_params = "/sys/kernel/boot_params/data";
  std::string kexec_loaded = "/sys/kernel/kexec_loaded";
  std::string kexec_crash_loaded = "/sys/kernel/kexec_crash_loaded";
  std::string lockdown = "/sys/kernel/security/lockdown";
  std::string fdt = "/sys/firmware/fdt";
  std::string self_status = "/proc/self/status";  // CapEff: may we kexec (capabilities.h)
  std::string at(const std::string& p) const { return root + p; }
};

Result<std::vector<IomemRange>> read_iomem(const SysPaths& p);
// The firmware memory map (/sys/firmware/memmap), or /proc/iomem's top level when absent.
// One /sys/firmware/memmap/N entry from its start, end (inclusive) and type files' text; nullopt
// when the numbers do not parse or end is below start (the entry is skipped, as an unreadable one).
std::optional<x86_64::E820Entry> parse_memmap_entry(std::string_view start, std::string_view end,
                                                    std::string_view type);
Result<std::vector<x86_64::E820Entry>> read_firmware_map(const SysPaths& p);
// Per possible CPU: the physical address and size of its crash_notes buffer.
Result<std::vector<NoteBuffer>> read_crash_notes(const SysPaths& p);
// /sys/kernel/vmcoreinfo: "<hex addr> <hex size>".
Result<NoteBuffer> read_vmcoreinfo_location(const SysPaths& p);
Result<NoteBuffer> parse_vmcoreinfo_location(std::string_view text);
// /proc/kcore's program headers (any type, p_paddr -1 kept), and the facts kcore_facts() finds in them.
Result<std::vector<Elf64Phdr>> read_kcore_phdrs(const std::string& path);
Result<KcoreFacts> read_kcore_facts(const SysPaths& p, KcoreLayout layout = KcoreLayout::x86_64);
// The facts a capture kernel's ELF core header is made of, for either architecture: per-CPU
// crash_notes, vmcoreinfo, and from /proc/kcore (read with `layout`) the kernel text mapping and
// the direct/linear-map offset. `ram` is what the dump holds. Without kcore facts the header's
// PT_LOAD vaddrs use `default_page_offset` and it lacks the kernel text segment: the capture
// still works (readers go by physical address and VMCOREINFO), and a warning says so.
Result<CrashMemory> read_crash_memory(const SysPaths& p, u16 machine, std::vector<PhysRange> ram,
                                      KcoreLayout layout, u64 default_page_offset);
// The kernel file and the initrd file (empty path: none), bounded (512 MiB, 4 GiB).
struct LoadFiles {
  std::vector<std::byte> kernel;
  std::vector<std::byte> initrd;
};
Result<LoadFiles> read_load_files(const std::string& kernel_path, const std::string& initrd_path);
// The ACPI RSDP: EFI systab ACPI20=/ACPI=, else the boot_params the kernel booted with; 0 if neither.
u64 read_acpi_rsdp(const SysPaths& p);
// The EFI facts a kexec'd kernel needs to keep runtime services: nullopt when the machine did
// not boot through EFI (no systab, no runtime map); an error when they are there but unreadable.
Result<std::optional<x86_64::EfiFirmware>> read_efi_firmware(const SysPaths& p);
// The lockdown mode in brackets ("none", "integrity", "confidentiality"); "none" if absent.
std::string read_lockdown(const SysPaths& p);
Result<bool> read_loaded(const std::string& path);

}  // namespace kk
