#include "kexec/plan_x86_64.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "io/byte_cursor.h"

namespace kk {

namespace {
constexpr u64 k4G = 1ull << 32;
constexpr u64 kMinKernelAddr = 16ull << 20;  // LOAD_PHYSICAL_ADDR: a kernel never goes lower

Segment make_segment(std::string what, std::vector<std::byte> data, u64 mem, u64 memsz) {
  Segment s;
  s.what = std::move(what);
  s.data = std::move(data);
  s.mem = mem;
  s.memsz = align_up(std::max<u64>(memsz, s.data.size()), kPageSize);
  return s;
}
}  // namespace

std::vector<x86_64::E820Entry> cut_from_ram(std::vector<x86_64::E820Entry> map, PhysRange hole) {
  std::vector<x86_64::E820Entry> out;
  for (const x86_64::E820Entry& e : map) {
    u64 end = e.addr + e.size;
    if (e.type != x86_64::kE820Ram || hole.end <= e.addr || hole.start >= end) {
      out.push_back(e);
      continue;
    }
    if (hole.start > e.addr) out.push_back({e.addr, hole.start - e.addr, e.type});
    if (hole.end < end) out.push_back({hole.end, end - hole.end, e.type});
  }
  return out;
}

Result<X86Plan> plan_x86_64_load(const X86LoadInput& in, const PurgatoryBuilder& purgatory) {
  Result<x86_64::BzImage> img = x86_64::parse_bzimage(in.kernel);
  if (!img) return std::move(img).error();
  X86Plan out;
  Allocator alloc(in.placement);
  std::vector<Segment>& segs = out.plan.segments;

  // 1. The kernel, lowest first: it needs init_size bytes from its aligned start to decompress.
  u64 kernel_mem = align_up(img->init_size, kPageSize);
  // Protocol < 2.12 kernels (no XLF_CAN_BE_LOADED_ABOVE_4G) stay below 4 GiB.
  u64 kernel_max = (img->xloadflags & x86_64::kXlfCanBeLoadedAbove4G) ? ~0ull : k4G;
  Result<u64> kaddr = alloc.take("kernel", kernel_mem, img->kernel_alignment,
                                 in.panic ? 0 : kMinKernelAddr, kernel_max, false);
  if (!kaddr) return std::move(kaddr).error();
  out.kernel_addr = *kaddr;
  segs.push_back(make_segment("kernel", std::vector<std::byte>(img->kernel.begin(), img->kernel.end()),
                              *kaddr, kernel_mem));

  // 2. For -p: the backup of low memory, then the ELF core header (kexec-tools' order, both
  // top-down), named on the command line and kept out of the capture kernel's memory map.
  std::string cmdline = in.cmdline;
  std::vector<x86_64::E820Entry> e820 = in.e820;
  if (in.panic) {
    if (!in.crash) return make_error(Errc::missing, "panic load without crash memory facts");
    CrashMemory mem = *in.crash;
    if (mem.backup_src.size()) {
      u64 size = align_up(mem.backup_src.size(), kPageSize);
      Result<u64> b = alloc.take("backup of low memory", size, kPageSize, 0, ~0ull, true);
      if (!b) return std::move(b).error();
      mem.backup_dst = *b;
      out.backup = {mem.backup_src.start, *b, mem.backup_src.size()};
      // No data: the kernel zero-fills it at load, the purgatory fills it at the crash.
      segs.push_back(make_segment("backup", {}, *b, size));
      e820 = cut_from_ram(std::move(e820), {*b, *b + size});
    }
    std::vector<std::byte> hdr = build_elfcorehdr(mem);
    u64 size = align_up(hdr.size(), kPageSize);
    Result<u64> a = alloc.take("ELF core header", size, kPageSize, 0, ~0ull, true);
    if (!a) return std::move(a).error();
    out.elfcorehdr_addr = *a;
    segs.push_back(make_segment("elfcorehdr", std::move(hdr), *a, size));
    e820 = cut_from_ram(std::move(e820), {*a, *a + size});
    char arg[48];
    std::snprintf(arg, sizeof arg, "elfcorehdr=0x%llx", static_cast<unsigned long long>(*a));
    cmdline += (cmdline.empty() ? "" : " ") + std::string(arg);
  }

  // 3. The initrd, high but where the kernel can reach it.
  u64 initrd_addr = 0;
  if (!in.initrd.empty()) {
    u64 max = (img->xloadflags & x86_64::kXlfCanBeLoadedAbove4G) ? ~0ull : u64(img->initrd_addr_max) + 1;
    Result<u64> a = alloc.take("initrd", align_up(in.initrd.size(), kPageSize), kPageSize, 0,
                               std::min(max, k4G), true);
    if (!a) a = alloc.take("initrd", align_up(in.initrd.size(), kPageSize), kPageSize, 0, max, true);
    if (!a) return std::move(a).error();
    initrd_addr = *a;
    segs.push_back(make_segment("initrd", std::vector<std::byte>(in.initrd.begin(), in.initrd.end()),
                                *a, in.initrd.size()));
  }

  // 4. boot_params, then in the same segment the command line, the setup_data chain (map
  // entries past 128, EFI tables) and the EFI runtime map: one segment, below 4 GiB if possible.
  if (cmdline.size() > img->cmdline_size)
    return make_error(Errc::usage, "command line is " + std::to_string(cmdline.size()) +
                                       " bytes, the kernel takes at most " +
                                       std::to_string(img->cmdline_size));
  Result<std::vector<x86_64::E820Entry>> map = x86_64::normalize_e820(std::move(e820));
  if (!map) return std::move(map).error();
  std::vector<x86_64::SetupData> setup;
  if (std::optional<x86_64::SetupData> ext = x86_64::e820_ext(*map)) {
    if (!img->has_setup_data())
      return make_error(Errc::unsupported, "memory map has " + std::to_string(map->size()) +
                                               " entries and boot protocol before 2.09 takes only " +
                                               std::to_string(x86_64::kE820Max));
    setup.push_back(std::move(*ext));
  }
  std::optional<x86_64::EfiInfo> efi_info;
  std::vector<std::byte> efi_map;
  if (in.efi) {
    Result<x86_64::EfiInfo> ei = x86_64::next_efi_info(*in.efi, 0);
    if (!(img->xloadflags & x86_64::kXlfEfiKexec))
      out.warnings.push_back("the kernel does not take the EFI runtime map over kexec (no XLF_EFI_KEXEC): "
                             "it boots without EFI runtime services");
    else if (!ei)
      out.warnings.push_back(ei.error().msg + ": the kernel boots without EFI runtime services");
    else {
      efi_info = *ei;
      efi_map = x86_64::encode_efi_memmap(in.efi->runtime_map);
      setup.push_back({x86_64::kSetupEfi, x86_64::encode_efi_setup_data(*in.efi)});
    }
  }
  const u64 cmdline_end = x86_64::kBootParamsSize + cmdline.size() + 1;
  const u64 setup_off = align_up(cmdline_end, 16);
  const u64 map_off = align_up(setup_off + x86_64::setup_data_size(setup), 16);
  const u64 bp_size = setup.empty() && efi_map.empty() ? cmdline_end : map_off + efi_map.size();
  // Below 4 GiB when there is room; above it only if the kernel says it can take that
  // (XLF_CAN_BE_LOADED_ABOVE_4G covers kernel, boot_params, command line and initrd). A crash
  // reservation entirely above 4 GiB (crashkernel=X,high) has no room below.
  Result<u64> bp_addr = alloc.take("boot parameters", align_up(bp_size, kPageSize), kPageSize, 0, k4G, true);
  if (!bp_addr && (img->xloadflags & x86_64::kXlfCanBeLoadedAbove4G))
    bp_addr = alloc.take("boot parameters", align_up(bp_size, kPageSize), kPageSize, 0, ~0ull, true);
  if (!bp_addr) return std::move(bp_addr).error();
  x86_64::BootParamsInput bpi;
  bpi.cmdline_addr = *bp_addr + x86_64::kBootParamsSize;
  bpi.initrd_addr = initrd_addr;
  bpi.initrd_size = in.initrd.size();
  bpi.acpi_rsdp = in.acpi_rsdp;
  bpi.setup_data = setup.empty() ? 0 : *bp_addr + setup_off;
  bpi.e820 = *map;
  if (efi_info) {
    efi_info->memmap = *bp_addr + map_off;
    bpi.efi_info = efi_info;
    out.efi_passed = true;
  }
  Result<std::vector<std::byte>> bp = x86_64::build_boot_params(*img, bpi);
  if (!bp) return std::move(bp).error();
  std::vector<std::byte> bp_seg = std::move(*bp);
  bp_seg.resize(bp_size, std::byte{0});
  std::memcpy(bp_seg.data() + x86_64::kBootParamsSize, cmdline.data(), cmdline.size());
  std::vector<std::byte> chain = x86_64::link_setup_data(setup, bpi.setup_data);
  std::copy(chain.begin(), chain.end(), bp_seg.begin() + static_cast<std::ptrdiff_t>(setup_off));
  std::copy(efi_map.begin(), efi_map.end(), bp_seg.begin() + static_cast<std::ptrdiff_t>(map_off));
  out.boot_params_addr = *bp_addr;
  segs.push_back(make_segment("boot parameters", std::move(bp_seg), *bp_addr, bp_size));

  // 5. The purgatory last: it checks every segment above, then enters startup_64.
  Result<Segment> purg = purgatory(out.kernel_addr + 0x200, out.boot_params_addr, out.backup, segs, alloc);
  if (!purg) return std::move(purg).error();
  out.plan.entry = purg->mem;
  segs.push_back(std::move(*purg));
  if (segs.size() > kMaxSegments) return make_error(Errc::unsupported, "too many segments");
  out.cmdline = std::move(cmdline);
  return out;
}

}  // namespace kk
