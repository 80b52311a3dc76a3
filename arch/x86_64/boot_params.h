// boot_params.h: the "zero page" a 64-bit Linux entry reads (%rsi): the bzImage's own setup
// header, plus what the loader knows: command line, initrd, e820 memory map, ACPI RSDP.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "arch/x86_64/bzimage.h"
#include "arch/x86_64/efi.h"

namespace kk::x86_64 {

inline constexpr size_t kBootParamsSize = 4096;

// boot_params fields outside the setup header (arch/x86/include/uapi/asm/bootparam.h layout);
// the setup header's own fields sit at hdr:: offsets (bzimage.h).
namespace params {
inline constexpr size_t kAcpiRsdpAddr = 0x070;  // u64, protocol 2.14+
inline constexpr size_t kExtRamdiskImage = 0x0c0;
inline constexpr size_t kExtRamdiskSize = 0x0c4;
inline constexpr size_t kExtCmdLinePtr = 0x0c8;
inline constexpr size_t kE820Entries = 0x1e8;
inline constexpr size_t kE820Table = 0x2d0;
}  // namespace params
// One e820 entry as boot_params and SETUP_E820_EXT hold it: u64 addr, u64 size, u32 type.
inline constexpr size_t kE820EntrySize = 20;
inline constexpr size_t kE820SizeOffset = 8;
inline constexpr size_t kE820TypeOffset = 16;
inline constexpr size_t kE820Max = 128;  // entries in boot_params itself
// Entries a kernel keeps at all (E820_MAX_ENTRIES: 128 + 3 * MAX_NUMNODES, 1024 nodes in
// Debian's kernels); the ones past kE820Max travel in a SETUP_E820_EXT setup_data.
inline constexpr size_t kE820MaxTotal = 128 + 3 * 1024;

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
// Sorts, merges touching entries of one type; more than kE820MaxTotal is an error.
Result<std::vector<E820Entry>> normalize_e820(std::vector<E820Entry> entries);

// setup_data (boot.rst, protocol 2.09+): a linked list of typed blobs the kernel reads early.
inline constexpr u32 kSetupE820Ext = 1;
inline constexpr u32 kSetupEfi = 4;
inline constexpr size_t kSetupDataHeader = 16;  // u64 next, u32 type, u32 len
inline constexpr size_t kSetupDataType = 8;
inline constexpr size_t kSetupDataLen = 12;
struct SetupData {
  u32 type = 0;
  std::vector<std::byte> payload;
};
// The entries past the first kE820Max of a normalized map, 20 bytes each, as a SETUP_E820_EXT
// payload; nullopt when the map fits boot_params.
std::optional<SetupData> e820_ext(const std::vector<E820Entry>& normalized);
// Bytes the items take laid out by link_setup_data.
u64 setup_data_size(const std::vector<SetupData>& items);
// The items back to back from physical address `addr` (each 8-byte aligned), each `next`
// naming the one after it; boot_params.hdr.setup_data then names `addr`.
std::vector<std::byte> link_setup_data(const std::vector<SetupData>& items, u64 addr);

struct BootParamsInput {
  u64 cmdline_addr = 0;
  u64 initrd_addr = 0;
  u64 initrd_size = 0;
  u64 acpi_rsdp = 0;
  u64 setup_data = 0;  // physical address of the first setup_data, 0 for none (2.09+)
  std::vector<E820Entry> e820;  // the first kE820Max entries (normalized) go in boot_params
  std::optional<EfiInfo> efi_info;  // none: the next kernel boots without EFI
};

inline constexpr u8 kLoaderTypeKexec = 0x0d;  // boot.rst's assigned id for kexec

// Builds the 4 KiB zero page: the image's setup header, then the loader's fields. Refuses what
// the image's protocol cannot take: setup_data before 2.09, addresses above 4 GiB before 2.12.
Result<std::vector<std::byte>> build_boot_params(const BzImage& image, const BootParamsInput& in);

}  // namespace kk::x86_64
