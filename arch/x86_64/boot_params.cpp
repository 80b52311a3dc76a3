#include "arch/x86_64/boot_params.h"

#include <algorithm>
#include <cstring>

namespace kk::x86_64 {

namespace {
template <class T>
void put(std::vector<std::byte>& b, size_t off, T v) {
  std::memcpy(b.data() + off, &v, sizeof v);  // x86 is little-endian, as is the layout
}

void put_e820(std::vector<std::byte>& b, size_t off, const E820Entry& e) {
  put<u64>(b, off, e.addr);
  put<u64>(b, off + kE820SizeOffset, e.size);
  put<u32>(b, off + kE820TypeOffset, e.type);
}
}  // namespace

std::optional<u32> e820_type_from_name(std::string_view name) {
  struct Name {
    std::string_view name;
    u32 type;
  };
  static constexpr Name kNames[] = {
      {"System RAM", kE820Ram},           {"Reserved", kE820Reserved},
      {"reserved", kE820Reserved},        {"ACPI Tables", kE820Acpi},
      {"ACPI Non-volatile Storage", kE820Nvs}, {"Unusable memory", kE820Unusable},
      {"Persistent Memory (legacy)", kE820Pram}, {"Persistent Memory", kE820Pmem},
      {"Soft Reserved", kE820SoftReserved},
  };
  for (const Name& n : kNames)
    if (n.name == name) return n.type;
  return std::nullopt;
}

Result<std::vector<E820Entry>> normalize_e820(std::vector<E820Entry> entries) {
  std::sort(entries.begin(), entries.end(),
            [](const E820Entry& a, const E820Entry& b) { return a.addr < b.addr; });
  std::vector<E820Entry> out;
  for (const E820Entry& e : entries) {
    if (e.size == 0) continue;
    if (!out.empty() && out.back().type == e.type && out.back().addr + out.back().size == e.addr)
      out.back().size += e.size;
    else
      out.push_back(e);
  }
  if (out.size() > kE820MaxTotal)
    return make_error(Errc::unsupported, "memory map has " + std::to_string(out.size()) +
                                             " entries, more than the " + std::to_string(kE820MaxTotal) +
                                             " a kernel keeps");
  return out;
}

std::optional<SetupData> e820_ext(const std::vector<E820Entry>& normalized) {
  if (normalized.size() <= kE820Max) return std::nullopt;
  SetupData sd;
  sd.type = kSetupE820Ext;
  sd.payload.resize((normalized.size() - kE820Max) * kE820EntrySize);
  for (size_t i = kE820Max; i < normalized.size(); ++i)
    put_e820(sd.payload, (i - kE820Max) * kE820EntrySize, normalized[i]);
  return sd;
}

u64 setup_data_size(const std::vector<SetupData>& items) {
  u64 size = 0;
  for (const SetupData& sd : items) size = align_up(size, 8) + kSetupDataHeader + sd.payload.size();
  return size;
}

std::vector<std::byte> link_setup_data(const std::vector<SetupData>& items, u64 addr) {
  std::vector<std::byte> out;
  std::vector<size_t> starts;
  for (const SetupData& sd : items) {
    out.resize(align_up(out.size(), 8), std::byte{0});
    starts.push_back(out.size());
    out.resize(out.size() + kSetupDataHeader, std::byte{0});
    put<u32>(out, starts.back() + kSetupDataType, sd.type);
    put<u32>(out, starts.back() + kSetupDataLen, static_cast<u32>(sd.payload.size()));
    out.insert(out.end(), sd.payload.begin(), sd.payload.end());
  }
  for (size_t i = 0; i + 1 < starts.size(); ++i) put<u64>(out, starts[i], addr + starts[i + 1]);
  return out;
}

Result<std::vector<std::byte>> build_boot_params(const BzImage& image, const BootParamsInput& in) {
  std::vector<std::byte> bp(kBootParamsSize, std::byte{0});
  // The setup header runs from setup_sects to the jump's target: "HdrS" + its displacement.
  size_t hdr_end = hdr::kHeader + std::to_integer<size_t>(image.setup[hdr::kJumpLength]);
  if (hdr_end > image.setup.size() || hdr_end > params::kE820Table)
    return make_error(Errc::corrupt, "setup header length runs past the setup sectors");
  std::memcpy(bp.data() + hdr::kSetupSects, image.setup.data() + hdr::kSetupSects,
              hdr_end - hdr::kSetupSects);

  bp[hdr::kTypeOfLoader] = std::byte{kLoaderTypeKexec};
  put<u32>(bp, hdr::kCmdLinePtr, static_cast<u32>(in.cmdline_addr));
  put<u32>(bp, params::kExtCmdLinePtr, static_cast<u32>(in.cmdline_addr >> 32));
  put<u32>(bp, hdr::kRamdiskImage, static_cast<u32>(in.initrd_addr));
  put<u32>(bp, params::kExtRamdiskImage, static_cast<u32>(in.initrd_addr >> 32));
  put<u32>(bp, hdr::kRamdiskSize, static_cast<u32>(in.initrd_size));
  put<u32>(bp, params::kExtRamdiskSize, static_cast<u32>(in.initrd_size >> 32));
  if (image.version < kProtoXloadflags &&
      ((in.cmdline_addr | (in.initrd_addr + in.initrd_size) | in.setup_data) >> 32) != 0)
    return make_error(Errc::unsupported, "boot protocol before 2.12 takes no address above 4 GiB");
  if (in.setup_data != 0) {
    if (!image.has_setup_data())
      return make_error(Errc::unsupported, "boot protocol before 2.09 has no setup_data");
    put<u64>(bp, hdr::kSetupData, in.setup_data);
  }
  if (image.version >= kProtoAcpiRsdp) put<u64>(bp, params::kAcpiRsdpAddr, in.acpi_rsdp);
  if (in.efi_info) {
    std::array<std::byte, kEfiInfoSize> ei = encode_efi_info(*in.efi_info);
    std::memcpy(bp.data() + kEfiInfoOffset, ei.data(), ei.size());
  }

  KK_TRY_ASSIGN(std::vector<E820Entry> e820, normalize_e820(in.e820));
  // The rest, if any, is the caller's SETUP_E820_EXT (e820_ext()).
  if (e820.size() > kE820Max) e820.resize(kE820Max);
  bp[params::kE820Entries] = std::byte(static_cast<u8>(e820.size()));
  for (size_t i = 0; i < e820.size(); ++i) put_e820(bp, params::kE820Table + i * kE820EntrySize, e820[i]);
  return bp;
}

}  // namespace kk::x86_64
