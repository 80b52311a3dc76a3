// efi.h: what a kexec'd x86_64 kernel needs to keep using the firmware's EFI runtime services
// (Documentation/arch/x86/boot.rst; arch/x86/include/uapi/asm/bootparam.h, asm/efi.h). EFI
// can be entered only once with SetVirtualAddressMap, so the next kernel must map the runtime
// regions at the virtual addresses the first kernel chose: the loader passes the runtime map
// (/sys/firmware/efi/runtime-map) as the EFI memory map in boot_params.efi_info, and the
// firmware table addresses (fw_vendor, runtime, config_table, SMBIOS) in a SETUP_EFI
// setup_data, which tells the kernel it was kexec'd. Pure: facts in, bytes out.
#pragma once

#include <array>
#include <span>
#include <optional>
#include <string_view>
#include <vector>

#include "lib/io/result.h"
#include "lib/io/types.h"

namespace kk::x86_64 {

inline constexpr size_t kEfiInfoOffset = 0x1c0;  // struct efi_info in boot_params
inline constexpr size_t kEfiInfoSize = 32;
inline constexpr size_t kEfiMemDescSize = 40;    // efi_memory_desc_t
inline constexpr size_t kEfiSetupDataSize = 96;  // struct efi_setup_data
inline constexpr u32 kEfiLoaderSignature64 = 0x34364c45;  // "EL64"

// boot_params.efi_info, field by field.
struct EfiInfo {
  u32 loader_signature = 0;
  u64 systab = 0;
  u32 memdesc_size = 0;
  u32 memdesc_version = 0;
  u64 memmap = 0;
  u32 memmap_size = 0;
  bool operator==(const EfiInfo&) const = default;
};
EfiInfo parse_efi_info(std::span<const std::byte, kEfiInfoSize> raw);
std::array<std::byte, kEfiInfoSize> encode_efi_info(const EfiInfo& info);

// One entry of /sys/firmware/efi/runtime-map/N.
struct EfiMemDesc {
  u32 type = 0;
  u64 phys_addr = 0;
  u64 virt_addr = 0;
  u64 num_pages = 0;
  u64 attribute = 0;
  bool operator==(const EfiMemDesc&) const = default;
};

// What the first kernel booted with, as sysfs shows it.
struct EfiFirmware {
  EfiInfo boot_info;  // the first kernel's boot_params.efi_info (signature, systab, version)
  u64 fw_vendor = 0;
  u64 runtime = 0;
  u64 config_table = 0;
  u64 smbios = 0;  // 0: none
  std::vector<EfiMemDesc> runtime_map;
};

// The runtime map as an EFI memory map (kEfiMemDescSize bytes a descriptor).
std::vector<std::byte> encode_efi_memmap(const std::vector<EfiMemDesc>& map);
// struct efi_setup_data, the SETUP_EFI payload.
std::vector<std::byte> encode_efi_setup_data(const EfiFirmware& fw);
// efi_info for the next kernel: the first kernel's signature and system table, our memory map.
// Errors when the first kernel's info is unusable (not a 64-bit EFI boot, descriptor version
// other than 1): the caller then boots the next kernel without EFI.
Result<EfiInfo> next_efi_info(const EfiFirmware& fw, u64 memmap_addr);

// "0x7fbee018\n" (fw_vendor, runtime, config_table, runtime-map/N/*) -> value.
std::optional<u64> parse_efi_hex(std::string_view text);
// The value of KEY= in /sys/firmware/efi/systab ("ACPI20=0x7fb7e014\nSMBIOS=0x7f9d6000\n").
std::optional<u64> parse_systab_value(std::string_view systab, std::string_view key);

}  // namespace kk::x86_64
