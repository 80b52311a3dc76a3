// boot_params.h: the "zero page" a 64-bit Linux entry reads (%rsi): the bzImage's own setup
// header, plus what the loader knows: command line, initrd, e820 memory map, ACPI RSDP.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "arch/x86_64/bzimage.h"

namespace kk::x86_64 {

inline constexpr size_t kBootParamsSize = 4096;
inline constexpr size_t kE820Max = 128;  // entries in boot_params itself

enum E820Type : u32 {
  kE820Ram = 1,
  kE820Reserved = 2,
  kE820Acpi = 3,
  kE820Nvs = 4,
  kE820Unusable = 5,
  kE820Pmem = 7,
  kE820Pram = 12,
  kE820SoftReserved = 0xefffffff,
};

struct E820Entry {
  u64 addr = 0;
  u64 size = 0;
  u32 type = kE820Ram;
  bool operator==(const E820Entry&) const = default;
};

// The type /sys/firmware/memmap/N/type names ("System RAM", "ACPI Tables", ...); nullopt: unknown.
std::optional<u32> e820_type_from_name(std::string_view name);
// Sorts, merges touching entries of one type; more than kE820Max is an error.
Result<std::vector<E820Entry>> normalize_e820(std::vector<E820Entry> entries);

struct BootParamsInput {
  u64 cmdline_addr = 0;
  u64 initrd_addr = 0;
  u64 initrd_size = 0;
  u64 acpi_rsdp = 0;
  u64 setup_data = 0;  // physical address of the first setup_data, 0 for none
  std::vector<E820Entry> e820;
};

inline constexpr u8 kLoaderTypeKexec = 0x0d;  // boot.rst's assigned id for kexec

// Builds the 4 KiB zero page: the image's setup header, then the loader's fields.
Result<std::vector<std::byte>> build_boot_params(const BzImage& image, const BootParamsInput& in);

}  // namespace kk::x86_64
