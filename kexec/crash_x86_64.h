// crash_x86_64.h: the x86_64 facts of a kexec -p load that come from /proc/iomem and the
// firmware map: what the ELF core header calls RAM, which low memory the purgatory backs up,
// and the capture kernel's memory map. Pure: parsed text in, ranges out.
#pragma once

#include <vector>

#include "arch/x86_64/boot_params.h"
#include "kexec/crash_ranges.h"
#include "lib/kernel/iomem.h"

namespace kk {

// The low memory the capture kernel boots through and so overwrites: the first System RAM
// range that ends within the first 640 KiB (0x1000-0x9fbff on SeaBIOS and OVMF guests), else
// the whole 640 KiB. kexec-tools' choice, so both loaders' /proc/vmcore look the same.
PhysRange x86_backup_source(const std::vector<IomemRange>& iomem);

// The capture kernel's memory map, by the rules the kernel follows for its own kexec_file_load
// (arch/x86/kernel/crash.c, crash_setup_memmap_entries): taken from the first kernel's view in
// /proc/iomem, not the firmware's map: "Reserved", "ACPI Tables" and "ACPI Non-volatile
// Storage" ranges as they are, RAM only below 1 MiB (what the boot path needs there; that RAM is
// backed up first, and since Linux 5.13 the first kernel keeps the rest of it to itself) and in
// the crash reservation. /proc/iomem has what the firmware's map lacks: page 0, which every
// x86 kernel reserves (arch/x86/kernel/setup.c, trim_bios_range); Debian's kexec-tools hands the
// same ranges (tests/unit/test_kexec_guests.cpp compares the three).
std::vector<x86_64::E820Entry> capture_memory_map(const std::vector<IomemRange>& iomem,
                                                  const std::vector<PhysRange>& crash);

}  // namespace kk
