#include "arch/x86_64/efi.h"

#include <cstring>

#include "lib/io/lines.h"
#include "lib/io/number.h"

namespace kk::x86_64 {

namespace {

// The layouts, in the kernel's byte order (x86: little-endian), alignment 1.
struct EfiInfoRaw {
  ul32 loader_signature, systab, memdesc_size, memdesc_version, memmap, memmap_size, systab_hi,
      memmap_hi;
};
static_assert(sizeof(EfiInfoRaw) == kEfiInfoSize && alignof(EfiInfoRaw) == 1);

struct EfiMemDescRaw {
  ul32 type, pad;
  ul64 phys_addr, virt_addr, num_pages, attribute;
};
static_assert(sizeof(EfiMemDescRaw) == kEfiMemDescSize && alignof(EfiMemDescRaw) == 1);

// Since Linux 5.7 the second field is unused; older kernels read the runtime services table
// from it, so it still carries that address.
struct EfiSetupDataRaw {
  ul64 fw_vendor, runtime, tables, smbios;
  ul64 reserved[8];
};
static_assert(sizeof(EfiSetupDataRaw) == kEfiSetupDataSize && alignof(EfiSetupDataRaw) == 1);

template <class T>
void append(std::vector<std::byte>& out, const T& v) {
  size_t at = out.size();
  out.resize(at + sizeof v);
  std::memcpy(out.data() + at, &v, sizeof v);
}

}  // namespace

EfiInfo parse_efi_info(std::span<const std::byte, kEfiInfoSize> raw) {
  EfiInfoRaw r;
  std::memcpy(&r, raw.data(), sizeof r);
  EfiInfo e;
  e.loader_signature = r.loader_signature;
  e.systab = u64(r.systab) | u64(r.systab_hi) << 32;
  e.memdesc_size = r.memdesc_size;
  e.memdesc_version = r.memdesc_version;
  e.memmap = u64(r.memmap) | u64(r.memmap_hi) << 32;
  e.memmap_size = r.memmap_size;
  return e;
}

std::array<std::byte, kEfiInfoSize> encode_efi_info(const EfiInfo& e) {
  EfiInfoRaw r{};
  r.loader_signature = e.loader_signature;
  r.systab = static_cast<u32>(e.systab);
  r.systab_hi = static_cast<u32>(e.systab >> 32);
  r.memdesc_size = e.memdesc_size;
  r.memdesc_version = e.memdesc_version;
  r.memmap = static_cast<u32>(e.memmap);
  r.memmap_hi = static_cast<u32>(e.memmap >> 32);
  r.memmap_size = e.memmap_size;
  std::array<std::byte, kEfiInfoSize> out;
  std::memcpy(out.data(), &r, sizeof r);
  return out;
}

std::vector<std::byte> encode_efi_memmap(const std::vector<EfiMemDesc>& map) {
  std::vector<std::byte> out;
  out.reserve(map.size() * kEfiMemDescSize);
  for (const EfiMemDesc& d : map) {
    EfiMemDescRaw r{};
    r.type = d.type;
    r.phys_addr = d.phys_addr;
    r.virt_addr = d.virt_addr;
    r.num_pages = d.num_pages;
    r.attribute = d.attribute;
    append(out, r);
  }
  return out;
}

std::vector<std::byte> encode_efi_setup_data(const EfiFirmware& fw) {
  EfiSetupDataRaw r{};
  r.fw_vendor = fw.fw_vendor;
  r.runtime = fw.runtime;
  r.tables = fw.config_table;
  r.smbios = fw.smbios;
  std::vector<std::byte> out;
  append(out, r);
  return out;
}

Result<EfiInfo> next_efi_info(const EfiFirmware& fw, u64 memmap_addr) {
  const EfiInfo& b = fw.boot_info;
  if (b.loader_signature != kEfiLoaderSignature64)
    return make_error(Errc::unsupported, "the first kernel did not boot through 64-bit EFI");
  // Version 1 is the only EFI memory descriptor layout there is (UEFI 2.x).
  if (b.memdesc_version != 1)
    return make_error(Errc::unsupported,
                      "EFI memory descriptor version " + std::to_string(b.memdesc_version) + " is not 1");
  if (fw.runtime_map.empty()) return make_error(Errc::missing, "no EFI runtime map");
  EfiInfo e = b;
  e.memdesc_size = kEfiMemDescSize;
  e.memmap = memmap_addr;
  e.memmap_size = static_cast<u32>(fw.runtime_map.size() * kEfiMemDescSize);
  return e;
}

std::optional<u64> parse_efi_hex(std::string_view text) {
  text = trim(text);
  if (text.size() < 3 || text[0] != '0' || (text[1] != 'x' && text[1] != 'X')) return std::nullopt;
  return parse_unsigned(text, 16);
}

std::optional<u64> parse_systab_value(std::string_view systab, std::string_view key) {
  while (!systab.empty()) {
    size_t nl = systab.find('\n');
    std::string_view line = systab.substr(0, nl);
    systab = nl == std::string_view::npos ? std::string_view() : systab.substr(nl + 1);
    if (line.size() > key.size() && line.substr(0, key.size()) == key && line[key.size()] == '=')
      return parse_efi_hex(line.substr(key.size() + 1));
  }
  return std::nullopt;
}

}  // namespace kk::x86_64
