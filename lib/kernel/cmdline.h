// cmdline.h: kernel command-line edits. kdumpctl gives the capture kernel the first kernel's
// command line minus what must not be repeated there (crashkernel= above all: the capture
// kernel must not try to reserve memory again) plus the usual capture additions.
// Words are split as the kernel splits them: on spaces and tabs, except inside double quotes
// (foo="a b" is one word). Pure functions over strings (fuzzed in issue 10).
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lib/io/result.h"
#include "lib/io/types.h"

namespace kk {

// The words of a command line, quotes kept as written. An unterminated quote is an error.
Result<std::vector<std::string>> split_cmdline(std::string_view cmdline);

// A word's parameter name: the part before '=', quotes removed, '-' read as '_' (the kernel
// treats "nr-cpus" and "nr_cpus" alike).
std::string param_name(std::string_view word);

// cmdline without every word whose parameter name is in `names` (compared as param_name does).
Result<std::string> remove_params(std::string_view cmdline, std::span<const std::string_view> names);

// What the capture kernel needs whatever the first kernel had: polled interrupts (the crashed
// kernel's interrupt state is unknown), one CPU, drivers that reset their devices, and no
// memory-hungry subsystems it cannot afford in the crashkernel= reservation.
inline constexpr std::string_view capture_additions[] = {
    "irqpoll", "nr_cpus=1", "reset_devices", "cgroup_disable=memory", "mce=off", "numa=off",
    "udev.children-max=2", "panic=10", "acpi_no_memhotplug", "transparent_hugepage=never",
    "novmcoredd"};
// Parameters of the first kernel the capture kernel must not get: the reservation itself, the
// boot loader's image name, huge page pools, resume from hibernation, CPU limits (ours win).
inline constexpr std::string_view capture_removals[] = {
    "crashkernel", "BOOT_IMAGE", "hugepages", "hugepagesz", "default_hugepagesz", "resume",
    "initrd", "kexec_jump_back_entry", "maxcpus", "nr_cpus", "irqpoll", "reset_devices", "panic",
    "numa", "mce", "cgroup_disable", "transparent_hugepage", "udev.children_max", "novmcoredd",
    "acpi_no_memhotplug"};

// The capture kernel's command line: first_cmdline minus capture_removals and minus the names
// in `remove`, then capture_additions with nr_cpus=`nr_cpus` (at least 1) in place of nr_cpus=1,
// then `append` (last, so its values win: the kernel takes the last of repeated parameters such
// as panic=). An nr_cpus= or maxcpus= in `append` is the administrator's choice: ours is left out.
Result<std::string> capture_cmdline(std::string_view first_cmdline, std::string_view remove,
                                    std::string_view append, unsigned nr_cpus = 1);

// How many CPUs the capture kernel boots with (nr_cpus=N). One CPU runs the dump; each further
// one costs kCaptureCpuCost of the reservation and lets dumpfilter compress on one more thread.
// Measured in QEMU on Debian 12's 6.1 (bench/README.md, "CPUs in the capture kernel"): per CPU
// ~0.25 MiB of per-CPU areas (MemTotal, Percpu), ~0.3 MiB of the kernel's runtime (MemAvailable,
// noisy) and ~0.85 MiB of dumpfilter's peak RSS per thread: ~1.5 MiB, rounded up to 2 MiB.
inline constexpr u64 kCaptureCpuCost = 2ull << 20;
// The most measured: 4 CPUs captured at the same crashkernel= as one (96M, a 2 GiB guest).
inline constexpr unsigned kMaxCaptureCpus = 4;
// N = 1 + what the reservation holds beyond `base_need` (kernel, initramfs, one CPU's runtime),
// in kCaptureCpuCost steps, at most `online` (0: unknown, taken as 1) and kMaxCaptureCpus.
unsigned pick_capture_cpus(unsigned online, u64 reserved, u64 base_need);
// The reservation that affords `cpus` CPUs: base_need plus kCaptureCpuCost per CPU past the first.
u64 capture_cpus_need(u64 base_need, unsigned cpus);

// Sets NAME=VALUE in the GRUB_CMDLINE_LINUX="..." line of /etc/default/grub text (replacing
// any NAME= word there; adding the line when there is none). Errors: a line that cannot be
// read as KEY="words", e.g. an unterminated quote.
Result<std::string> grub_default_set_param(std::string_view text, std::string_view name,
                                           std::string_view value);

}  // namespace kk
