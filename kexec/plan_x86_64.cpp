#include "kexec/plan_x86_64.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "lib/io/hex.h"

namespace kk {

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

namespace {

constexpr u64 kMinKernelAddr = 16ull << 20;  // LOAD_PHYSICAL_ADDR: a kernel never goes lower

// What the steps share: the inputs, the allocator, the plan so far, and the command line and
// memory map as the steps change them.
struct PlanState {
  const X86LoadInput& in;
  const x86_64::BzImage& img;
  Allocator alloc;
  X86Plan out;
  std::string cmdline;
  std::vector<x86_64::E820Entry> e820;
  u64 initrd_addr = 0;

  bool above_4g_ok() const { return img.xloadflags & x86_64::kXlfCanBeLoadedAbove4G; }
  void add(Segment s) { out.plan.segments.push_back(std::move(s)); }
};

// 1. The kernel, lowest first: it needs init_size bytes from its aligned start to decompress.
// Protocol < 2.12 kernels (no XLF_CAN_BE_LOADED_ABOVE_4G) stay below 4 GiB.
Result<void> place_kernel(PlanState& s) {
  u64 mem = align_up(s.img.init_size, kPageSize);
  Placement at{.align = s.img.kernel_alignment, .lo = s.in.panic ? 0 : kMinKernelAddr,
               .hi = s.above_4g_ok() ? ~0ull : k4G};
  KK_TRY_ASSIGN(u64 addr, s.alloc.take("kernel", mem, at));
  s.out.kernel_addr = addr;
  // A view of the file (the input outlives the plan): one copy of the kernel per load.
  s.add(make_segment("kernel", SegmentBytes::borrow(s.img.kernel), addr, mem));
  return {};
}

// A top-down page-aligned segment of the reservation that the capture kernel must not use as
// RAM: cut out of its memory map.
Result<u64> take_hidden(PlanState& s, const std::string& what, u64 size) {
  Result<u64> a = s.alloc.take(what, size, {.top_down = true});
  if (a) s.e820 = cut_from_ram(std::move(s.e820), {*a, *a + size});
  return a;
}

// 2. For -p: the backup of low memory, then the ELF core header (kexec-tools' order, both
// top-down), named on the command line and kept out of the capture kernel's memory map.
Result<void> place_crash_segments(PlanState& s) {
  if (!s.in.crash) return make_error(Errc::missing, "panic load without crash memory facts");
  CrashMemory mem = *s.in.crash;
  if (mem.backup_src.size()) {
    u64 size = align_up(mem.backup_src.size(), kPageSize);
    KK_TRY_ASSIGN(u64 b, take_hidden(s, "backup of low memory", size));
    mem.backup_dst = b;
    s.out.backup = {mem.backup_src.start, b, mem.backup_src.size()};
    // No data: the kernel zero-fills it at load, the purgatory fills it at the crash.
    s.add(make_segment("backup", {}, b, size));
  }
  std::vector<std::byte> hdr = build_elfcorehdr(mem);
  u64 size = align_up(hdr.size(), kPageSize);
  KK_TRY_ASSIGN(u64 a, take_hidden(s, "ELF core header", size));
  s.out.elfcorehdr_addr = a;
  s.add(make_segment("elfcorehdr", std::move(hdr), a, size));
  char arg[48];
  std::snprintf(arg, sizeof arg, "elfcorehdr=0x%llx", static_cast<unsigned long long>(a));
  s.cmdline += (s.cmdline.empty() ? "" : " ") + std::string(arg);
  return {};
}

// 3. The initrd, high but where the kernel can reach it: below 4 GiB when it fits there.
Result<void> place_initrd(PlanState& s) {
  if (s.in.initrd.empty()) return {};
  u64 max = s.above_4g_ok() ? ~0ull : u64(s.img.initrd_addr_max) + 1;
  u64 size = align_up(s.in.initrd.size(), kPageSize);
  Result<u64> a = s.alloc.take("initrd", size, {.hi = std::min(max, k4G), .top_down = true});
  if (!a) a = s.alloc.take("initrd", size, {.hi = max, .top_down = true});
  if (!a) return std::move(a).error();
  s.initrd_addr = *a;
  s.add(make_segment("initrd", SegmentBytes::borrow(s.in.initrd), *a, s.in.initrd.size()));
  return {};
}

// What follows the command line in the boot_params segment: the setup_data chain (map entries
// past 128, EFI tables) and the EFI runtime map.
struct BootExtras {
  std::vector<x86_64::E820Entry> map;  // normalized
  std::vector<x86_64::SetupData> setup;
  std::optional<x86_64::EfiInfo> efi_info;
  std::vector<std::byte> efi_map;
};

// SETUP_EFI and the runtime map when the kernel takes them; else a warning says what is lost.
void add_efi(PlanState& s, BootExtras& x) {
  if (!s.in.efi) return;
  Result<x86_64::EfiInfo> ei = x86_64::next_efi_info(*s.in.efi, 0);
  if (!(s.img.xloadflags & x86_64::kXlfEfiKexec)) {
    s.out.warnings.push_back("the kernel does not take the EFI runtime map over kexec (no XLF_EFI_KEXEC): "
                             "it boots without EFI runtime services");
  } else if (!ei) {
    s.out.warnings.push_back(ei.error().msg + ": the kernel boots without EFI runtime services");
  } else {
    x.efi_info = *ei;
    x.efi_map = x86_64::encode_efi_memmap(s.in.efi->runtime_map);
    x.setup.push_back({x86_64::kSetupEfi, x86_64::encode_efi_setup_data(*s.in.efi)});
  }
}

Result<BootExtras> boot_extras(PlanState& s) {
  BootExtras x;
  Result<std::vector<x86_64::E820Entry>> map = x86_64::normalize_e820(std::move(s.e820));
  if (!map) return std::move(map).error();
  x.map = std::move(*map);
  if (std::optional<x86_64::SetupData> ext = x86_64::e820_ext(x.map)) {
    if (!s.img.has_setup_data())
      return make_error(Errc::unsupported, "memory map has " + std::to_string(x.map.size()) +
                                               " entries and boot protocol before 2.09 takes only " +
                                               std::to_string(x86_64::kE820Max));
    x.setup.push_back(std::move(*ext));
  }
  add_efi(s, x);
  return x;
}

// Offsets inside the boot_params segment: zero page, command line, setup_data, EFI map.
struct BootLayout {
  u64 cmdline_end, setup_off, map_off, size;
};

BootLayout boot_layout(const std::string& cmdline, const BootExtras& x) {
  BootLayout l;
  l.cmdline_end = x86_64::kBootParamsSize + cmdline.size() + 1;
  l.setup_off = align_up(l.cmdline_end, 16);
  l.map_off = align_up(l.setup_off + x86_64::setup_data_size(x.setup), 16);
  l.size = x.setup.empty() && x.efi_map.empty() ? l.cmdline_end : l.map_off + x.efi_map.size();
  return l;
}

// Below 4 GiB when there is room; above it only if the kernel says it can take that
// (XLF_CAN_BE_LOADED_ABOVE_4G covers kernel, boot_params, command line and initrd). A crash
// reservation entirely above 4 GiB (crashkernel=X,high) has no room below.
Result<u64> take_boot_params(PlanState& s, u64 size) {
  Result<u64> a = s.alloc.take("boot parameters", align_up(size, kPageSize), {.hi = k4G, .top_down = true});
  if (!a && s.above_4g_ok()) a = s.alloc.take("boot parameters", align_up(size, kPageSize), {.top_down = true});
  return a;
}

// The segment's bytes: the zero page, then at their offsets the command line, the setup_data
// chain and the EFI map.
Result<std::vector<std::byte>> boot_params_bytes(PlanState& s, BootExtras& x, const BootLayout& l, u64 addr) {
  x86_64::BootParamsInput bpi;
  bpi.cmdline_addr = addr + x86_64::kBootParamsSize;
  bpi.initrd_addr = s.initrd_addr;
  bpi.initrd_size = s.in.initrd.size();
  bpi.acpi_rsdp = s.in.acpi_rsdp;
  bpi.setup_data = x.setup.empty() ? 0 : addr + l.setup_off;
  bpi.e820 = x.map;
  if (x.efi_info) {
    x.efi_info->memmap = addr + l.map_off;
    bpi.efi_info = x.efi_info;
    s.out.efi_passed = true;
  }
  KK_TRY_ASSIGN(std::vector<std::byte> bp, x86_64::build_boot_params(s.img, bpi));
  std::vector<std::byte> seg = std::move(bp);
  seg.resize(l.size, std::byte{0});
  std::memcpy(seg.data() + x86_64::kBootParamsSize, s.cmdline.data(), s.cmdline.size());
  std::vector<std::byte> chain = x86_64::link_setup_data(x.setup, bpi.setup_data);
  std::copy(chain.begin(), chain.end(), seg.begin() + static_cast<std::ptrdiff_t>(l.setup_off));
  std::copy(x.efi_map.begin(), x.efi_map.end(), seg.begin() + static_cast<std::ptrdiff_t>(l.map_off));
  return seg;
}

// 4. boot_params, then in the same segment the command line, the setup_data chain and the EFI
// runtime map: one segment, below 4 GiB if possible.
Result<void> place_boot_params(PlanState& s) {
  if (s.cmdline.size() > s.img.cmdline_size)
    return make_error(Errc::usage, "command line is " + std::to_string(s.cmdline.size()) +
                                       " bytes, the kernel takes at most " +
                                       std::to_string(s.img.cmdline_size));
  KK_TRY_ASSIGN(BootExtras x, boot_extras(s));
  const BootLayout l = boot_layout(s.cmdline, x);
  KK_TRY_ASSIGN(u64 addr, take_boot_params(s, l.size));
  KK_TRY_ASSIGN(std::vector<std::byte> bytes, boot_params_bytes(s, x, l, addr));
  s.out.boot_params_addr = addr;
  s.add(make_segment("boot parameters", std::move(bytes), addr, l.size));
  return {};
}

// 5. The purgatory last: it checks every segment above, then enters startup_64.
Result<void> place_purgatory(PlanState& s, const PurgatoryBuilder& purgatory) {
  std::vector<Segment>& segs = s.out.plan.segments;
  KK_TRY_ASSIGN(Segment purg, purgatory(s.out.kernel_addr + x86_64::kStartup64Offset, s.out.boot_params_addr,
                                        s.out.backup, segs, s.alloc));
  s.out.plan.entry = purg.mem;
  segs.push_back(std::move(purg));
  if (segs.size() > kMaxSegments) return make_error(Errc::unsupported, "too many segments");
  return {};
}

}  // namespace

Result<X86Plan> plan_x86_64_load(const X86LoadInput& in, const PurgatoryBuilder& purgatory) {
  KK_TRY_ASSIGN(x86_64::BzImage img, x86_64::parse_bzimage(in.kernel));
  PlanState s{in, img, Allocator(in.placement), {}, in.cmdline, in.e820};
  KK_TRY(place_kernel(s));
  if (in.panic) KK_TRY(place_crash_segments(s));
  KK_TRY(place_initrd(s));
  KK_TRY(place_boot_params(s));
  KK_TRY(place_purgatory(s, purgatory));
  s.out.cmdline = std::move(s.cmdline);
  return std::move(s.out);
}

}  // namespace kk
