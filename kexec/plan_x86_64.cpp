#include "kexec/plan_x86_64.h"

#include <cstdio>
#include <cstring>

#include "io/byte_cursor.h"

namespace kk {

namespace {
constexpr u64 k4G = 1ull << 32;
constexpr u64 kMinKernelAddr = 16ull << 20;  // LOAD_PHYSICAL_ADDR: a kernel never goes lower

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
  Result<u64> kaddr = alloc.take("kernel", kernel_mem, img->kernel_alignment,
                                 in.panic ? 0 : kMinKernelAddr, ~0ull, false);
  if (!kaddr) return std::move(kaddr).error();
  out.kernel_addr = *kaddr;
  segs.push_back(make_segment("kernel", std::vector<std::byte>(img->kernel.begin(), img->kernel.end()),
                              *kaddr, kernel_mem));

  // 2. The ELF core header (-p), named on the command line and kept out of the memory map.
  std::string cmdline = in.cmdline;
  std::vector<x86_64::E820Entry> e820 = in.e820;
  if (in.panic) {
    if (in.elfcorehdr.empty()) return make_error(Errc::missing, "panic load without an ELF core header");
    u64 size = align_up(in.elfcorehdr.size(), kPageSize);
    Result<u64> a = alloc.take("ELF core header", size, kPageSize, 0, ~0ull, true);
    if (!a) return std::move(a).error();
    out.elfcorehdr_addr = *a;
    segs.push_back(make_segment("elfcorehdr", in.elfcorehdr, *a, size));
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

  // 4. boot_params with the command line right after it, below 4 GiB if possible.
  if (cmdline.size() > img->cmdline_size)
    return make_error(Errc::usage, "command line is " + std::to_string(cmdline.size()) +
                                       " bytes, the kernel takes at most " +
                                       std::to_string(img->cmdline_size));
  u64 bp_size = x86_64::kBootParamsSize + cmdline.size() + 1;
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
  bpi.e820 = std::move(e820);
  Result<std::vector<std::byte>> bp = x86_64::build_boot_params(*img, bpi);
  if (!bp) return std::move(bp).error();
  std::vector<std::byte> bp_seg = std::move(*bp);
  bp_seg.resize(x86_64::kBootParamsSize + cmdline.size() + 1, std::byte{0});
  std::memcpy(bp_seg.data() + x86_64::kBootParamsSize, cmdline.data(), cmdline.size());
  out.boot_params_addr = *bp_addr;
  segs.push_back(make_segment("boot parameters", std::move(bp_seg), *bp_addr, bp_size));

  // 5. The purgatory last: it checks every segment above, then enters startup_64.
  Result<Segment> purg = purgatory(out.kernel_addr + 0x200, out.boot_params_addr, segs, alloc);
  if (!purg) return std::move(purg).error();
  out.plan.entry = purg->mem;
  segs.push_back(std::move(*purg));
  if (segs.size() > kMaxSegments) return make_error(Errc::unsupported, "too many segments");
  out.cmdline = std::move(cmdline);
  return out;
}

}  // namespace kk
