#include "kexec/plan_arm64.h"

#include <bit>

#include "arch/arm64/image.h"
#include "lib/io/hex.h"

namespace kk {

namespace {
// booting.rst: the device tree must not exceed 2 MiB, sit on an 8-byte boundary, and not share
// a 2 MiB block that is mapped with other attributes: we give it an aligned block of its own size.
constexpr u64 kMaxDtb = 2ull << 20;

// What the steps share: the inputs, the Image, the allocator, the plan so far and the /chosen
// edits that name what the steps placed.
struct PlanState {
  const Arm64LoadInput& in;
  const arm64::Image& img;
  std::vector<std::byte>& unpacked;  // a zboot payload, decompressed (img views it); else empty
  Allocator alloc;
  Arm64Plan out;
  arm64::ChosenEdits edits;

  u64 page() const { return in.page_size; }
  void add(Segment s) { out.plan.segments.push_back(std::move(s)); }
};

// The Image's bytes, never a second copy: a view of the file (which outlives the plan), or the
// decompressed zboot payload moved into the segment.
SegmentBytes image_bytes(PlanState& s) {
  if (s.unpacked.empty()) return SegmentBytes::borrow(s.img.bytes);
  if (s.img.bytes.data() == s.unpacked.data() && s.img.bytes.size() == s.unpacked.size())
    return std::move(s.unpacked);
  return std::vector<std::byte>(s.img.bytes.begin(), s.img.bytes.end());
}

// 1. The kernel: a 2 MiB-aligned base, lowest first (booting.rst: without the "anywhere" flag
// the base should be as close as possible to the start of DRAM), the Image at base +
// text_offset with image_size bytes (BSS included) from there.
Result<void> place_kernel(PlanState& s) {
  u64 span = align_up(s.img.text_offset + s.img.image_size, s.page());
  KK_TRY_ASSIGN(u64 base, s.alloc.take("kernel", span, {.align = arm64::kKernelAlign}));
  s.out.kernel_addr = base + s.img.text_offset;
  s.add(make_segment("kernel", image_bytes(s), s.out.kernel_addr, s.img.image_size));
  return {};
}

// 2. The initrd, right above the kernel where possible (inside the linear map the kernel sets
// up first).
Result<void> place_initrd(PlanState& s) {
  if (s.in.initrd.empty()) return {};
  KK_TRY_ASSIGN(u64 a, s.alloc.take("initrd", align_up(s.in.initrd.size(), s.page()), {}));
  s.out.initrd_addr = a;
  s.add(make_segment("initrd", SegmentBytes::borrow(s.in.initrd), a, s.in.initrd.size()));
  s.edits.initrd = arm64::Range{a, s.in.initrd.size()};
  return {};
}

// 3. The ELF core header (-p), at the top of the crash range; the capture kernel finds it
// through linux,elfcorehdr and may use only linux,usable-memory-range as RAM.
Result<void> place_elfcorehdr(PlanState& s) {
  if (s.in.elfcorehdr.empty()) return make_error(Errc::missing, "panic load without an ELF core header");
  if (!s.in.usable_memory) return make_error(Errc::missing, "panic load without the crash range");
  u64 size = align_up(s.in.elfcorehdr.size(), s.page());
  KK_TRY_ASSIGN(u64 a, s.alloc.take("ELF core header", size, {.top_down = true}));
  s.out.elfcorehdr_addr = a;
  s.add(make_segment("elfcorehdr", s.in.elfcorehdr, a, size));
  s.edits.elfcorehdr = arm64::Range{a, size};
  s.edits.usable_memory = arm64::Range{s.in.usable_memory->start, s.in.usable_memory->size()};
  return {};
}

// 4. The device tree, its /chosen edited to name the command line and the segments above.
Result<void> place_dtb(PlanState& s) {
  KK_TRY_ASSIGN(std::vector<std::byte> dtb, arm64::edit_chosen(s.in.dtb, s.edits));
  if (dtb.size() > kMaxDtb)
    return make_error(Errc::unsupported, "device tree is " + std::to_string(dtb.size()) +
                                             " bytes; arm64 kernels take at most 2 MiB");
  u64 block = std::bit_ceil(align_up(dtb.size(), s.page()));
  KK_TRY_ASSIGN(u64 d, s.alloc.take("device tree", block, {.align = block}));
  s.out.dtb_addr = d;
  s.add(make_segment("device tree", std::move(dtb), d, block));
  return {};
}

// 5. The purgatory last: it checks every segment above, then enters the Image with x0 = dtb.
// Then whole pages of the running kernel at both ends (the allocator took them so): a 16K-page
// kernel refuses a 4 KiB-sized purgatory or kernel tail (kexec_load: EADDRNOTAVAIL).
Result<void> place_purgatory(PlanState& s, const PurgatoryBuilder& purgatory) {
  std::vector<Segment>& segs = s.out.plan.segments;
  KK_TRY_ASSIGN(Segment purg, purgatory(s.out.kernel_addr, s.out.dtb_addr, BackupCopy{}, segs, s.alloc));
  s.out.plan.entry = purg.mem;
  segs.push_back(std::move(purg));
  for (Segment& seg : segs) seg.memsz = align_up(seg.memsz, s.page());
  if (segs.size() > kMaxSegments) return make_error(Errc::unsupported, "too many segments");
  return {};
}

}  // namespace

Result<Arm64Plan> plan_arm64_load(const Arm64LoadInput& in, const PurgatoryBuilder& purgatory) {
  std::vector<std::byte> unpacked;  // a zboot payload, decompressed
  KK_TRY_ASSIGN(arm64::Image img, arm64::load_kernel_image(in.kernel, unpacked));
  PlanState s{in, img, unpacked, Allocator(in.placement, in.page_size), {}, {}};
  s.edits.bootargs = in.cmdline;
  KK_TRY(place_kernel(s));
  KK_TRY(place_initrd(s));
  if (in.panic) KK_TRY(place_elfcorehdr(s));
  KK_TRY(place_dtb(s));
  KK_TRY(place_purgatory(s, purgatory));
  s.out.cmdline = in.cmdline;
  return std::move(s.out);
}

}  // namespace kk
