#include "kexec/plan_arm64.h"

#include <bit>

#include "arch/arm64/image.h"
#include "lib/io/hex.h"

namespace kk {

namespace {
// booting.rst: the device tree must not exceed 2 MiB, sit on an 8-byte boundary, and not share
// a 2 MiB block that is mapped with other attributes: we give it an aligned block of its own size.
constexpr u64 kMaxDtb = 2ull << 20;
}  // namespace

Result<Arm64Plan> plan_arm64_load(const Arm64LoadInput& in, const PurgatoryBuilder& purgatory) {
  std::vector<std::byte> unpacked;  // a zboot payload, decompressed
  KK_TRY_ASSIGN(arm64::Image img, arm64::load_kernel_image(in.kernel, unpacked));
  Arm64Plan out;
  Allocator alloc(in.placement, in.page_size);
  std::vector<Segment>& segs = out.plan.segments;

  // 1. The kernel: a 2 MiB-aligned base, lowest first (booting.rst: without the "anywhere"
  //    flag the base should be as close as possible to the start of DRAM), the Image at
  //    base + text_offset with image_size bytes (BSS included) from there.
  const u64 page = in.page_size;
  u64 span = align_up(img.text_offset + img.image_size, page);
  KK_TRY_ASSIGN(u64 base, alloc.take("kernel", span, {.align = arm64::kKernelAlign}));
  out.kernel_addr = base + img.text_offset;
  segs.push_back(make_segment("kernel", std::vector<std::byte>(img.bytes.begin(), img.bytes.end()),
                              out.kernel_addr, img.image_size));

  // 2. The initrd, right above the kernel where possible (inside the linear map the kernel
  //    sets up first).
  arm64::ChosenEdits edits;
  edits.bootargs = in.cmdline;
  if (!in.initrd.empty()) {
    KK_TRY_ASSIGN(u64 a, alloc.take("initrd", align_up(in.initrd.size(), page), {}));
    out.initrd_addr = a;
    segs.push_back(make_segment("initrd", std::vector<std::byte>(in.initrd.begin(), in.initrd.end()),
                                a, in.initrd.size()));
    edits.initrd = arm64::Range{a, in.initrd.size()};
  }

  // 3. The ELF core header (-p), at the top of the crash range; the capture kernel finds it
  //    through linux,elfcorehdr and may use only linux,usable-memory-range as RAM.
  if (in.panic) {
    if (in.elfcorehdr.empty()) return make_error(Errc::missing, "panic load without an ELF core header");
    if (!in.usable_memory) return make_error(Errc::missing, "panic load without the crash range");
    u64 size = align_up(in.elfcorehdr.size(), page);
    KK_TRY_ASSIGN(u64 a, alloc.take("ELF core header", size, {.top_down = true}));
    out.elfcorehdr_addr = a;
    segs.push_back(make_segment("elfcorehdr", in.elfcorehdr, a, size));
    edits.elfcorehdr = arm64::Range{a, size};
    edits.usable_memory = arm64::Range{in.usable_memory->start, in.usable_memory->size()};
  }

  // 4. The device tree, edited.
  KK_TRY_ASSIGN(std::vector<std::byte> dtb, arm64::edit_chosen(in.dtb, edits));
  if (dtb.size() > kMaxDtb)
    return make_error(Errc::unsupported, "device tree is " + std::to_string(dtb.size()) +
                                             " bytes; arm64 kernels take at most 2 MiB");
  u64 dtb_block = std::bit_ceil(align_up(dtb.size(), page));
  KK_TRY_ASSIGN(u64 d, alloc.take("device tree", dtb_block, {.align = dtb_block}));
  out.dtb_addr = d;
  segs.push_back(make_segment("device tree", std::move(dtb), d, dtb_block));

  // 5. The purgatory last: it checks every segment above, then enters the Image with x0 = dtb.
  KK_TRY_ASSIGN(Segment purg, purgatory(out.kernel_addr, out.dtb_addr, BackupCopy{}, segs, alloc));
  out.plan.entry = purg.mem;
  segs.push_back(std::move(purg));
  // Whole pages of the running kernel at both ends (the allocator took them so): a 16K-page
  // kernel refuses a 4 KiB-sized purgatory or kernel tail (kexec_load: EADDRNOTAVAIL).
  for (Segment& s : segs) s.memsz = align_up(s.memsz, page);
  if (segs.size() > kMaxSegments) return make_error(Errc::unsupported, "too many segments");
  out.cmdline = in.cmdline;
  return out;
}

}  // namespace kk
