// test_kexec_plan_arm64.cpp: the pure half of kexec -l / -p on arm64: the segment plan
// (plan_arm64.h) with the real embedded arm64 purgatory blob. Fixtures: an Image built field by
// field, a device tree written with libfdt, and QEMU virt's layout (RAM 0x40000000-0x5fffffff,
// crashkernel=192M at 0x4f600000, PL011 at 0x9000000).
extern "C" {
#include <libfdt.h>
}

#include <catch2/catch.hpp>
#include <cstring>
#include <string>
#include <vector>

#include "arch/arm64/dtb.h"
#include "arch/arm64/image.h"
#include "lib/io/hex.h"
#include "kexec/plan_arm64.h"
#include "kexec/purgatory_image.h"
#include "purgatory/include/purgatory_abi.h"
#include "purgatory/include/purgatory_blob.h"

using namespace kk;

namespace {

constexpr u64 kMiB = 1ull << 20;
constexpr PhysRange kRam{0x40000000, 0x60000000};
constexpr PhysRange kCrash{0x4f600000, 0x5b600000};

// 1 MiB patterned Image: text_offset 0, image_size 3 MiB (BSS beyond the file), 4K, anywhere.
std::vector<std::byte> fake_image() {
  std::vector<std::byte> b(kMiB);
  for (size_t i = 0; i < b.size(); ++i) b[i] = std::byte(u8(i * 31 + 7));
  auto put64 = [&](size_t off, u64 v) { std::memcpy(b.data() + off, &v, 8); };
  put64(8, 0);
  put64(16, 3 * kMiB);
  put64(24, 0xa);
  u32 magic = arm64::kImageMagic;
  std::memcpy(b.data() + 56, &magic, 4);
  return b;
}

std::vector<std::byte> fake_dtb() {
  std::vector<std::byte> b(4096);
  void* f = b.data();
  REQUIRE(fdt_create(f, static_cast<int>(b.size())) == 0);
  REQUIRE(fdt_finish_reservemap(f) == 0);
  REQUIRE(fdt_begin_node(f, "") == 0);
  REQUIRE(fdt_property_u32(f, "#address-cells", 2) == 0);
  REQUIRE(fdt_property_u32(f, "#size-cells", 2) == 0);
  REQUIRE(fdt_begin_node(f, "pl011@9000000") == 0);
  REQUIRE(fdt_property_string(f, "compatible", "arm,pl011") == 0);
  const fdt64_t reg[2] = {cpu_to_fdt64(0x9000000), cpu_to_fdt64(0x1000)};
  REQUIRE(fdt_property(f, "reg", reg, sizeof reg) == 0);
  REQUIRE(fdt_end_node(f) == 0);
  REQUIRE(fdt_begin_node(f, "chosen") == 0);
  REQUIRE(fdt_property_string(f, "stdout-path", "/pl011@9000000") == 0);
  REQUIRE(fdt_property_string(f, "bootargs", "console=ttyAMA0 crashkernel=192M") == 0);
  REQUIRE(fdt_end_node(f) == 0);
  REQUIRE(fdt_end_node(f) == 0);
  REQUIRE(fdt_finish(f) == 0);
  b.resize(fdt_totalsize(f));
  return b;
}

PurgatoryBuilder builder(u64 console) {
  return [console](u64 entry, u64 arg, const BackupCopy&, const std::vector<Segment>& checked, Allocator& alloc) {
    PurgatoryRequest req{entry, arg, console, false, true};
    return make_purgatory_segment(purgatory_arm64(), req, checked, alloc);
  };
}

kk_purgatory_params params_of(const Segment& s) {
  kk_purgatory_params p;
  REQUIRE(s.data.size() >= KK_PURGATORY_PARAMS_OFFSET + sizeof p);
  std::memcpy(&p, s.data.data() + KK_PURGATORY_PARAMS_OFFSET, sizeof p);
  return p;
}

bool inside(const Segment& s, PhysRange r) { return s.mem >= r.start && s.mem + s.memsz <= r.end; }

}  // namespace

TEST_CASE("arm64 plan -l: kernel at 2 MiB + text_offset, dtb names the initrd", "[kexec][arm64]") {
  std::vector<std::byte> image = fake_image(), dtb = fake_dtb(), initrd(300000, std::byte{0x5a});
  Arm64LoadInput in;
  in.kernel = image;
  in.initrd = initrd;
  in.dtb = dtb;
  in.cmdline = "console=ttyAMA0 kk.role=second";
  in.placement = {kRam};
  u64 console = arm64::stdout_pl011(dtb).value_or(0);
  CHECK(console == 0x9000000u);
  Result<Arm64Plan> plan = plan_arm64_load(in, builder(console));
  REQUIRE(plan);
  const std::vector<Segment>& segs = plan->plan.segments;
  REQUIRE(segs.size() == 4);  // kernel, initrd, device tree, purgatory
  CHECK(segs[0].what == "kernel");
  CHECK(plan->kernel_addr % (2 * kMiB) == 0);
  CHECK(segs[0].mem == plan->kernel_addr);
  CHECK(segs[0].memsz == 3 * kMiB);  // image_size, BSS included
  // Views of the files' bytes, not copies: a load holds kernel and initrd once (issue 20).
  CHECK(segs[0].data.data() == image.data());
  CHECK(segs[1].data.data() == initrd.data());
  CHECK(segs[1].data == initrd);
  for (const Segment& s : segs) CHECK(inside(s, kRam));
  for (size_t i = 0; i < segs.size(); ++i)
    for (size_t j = i + 1; j < segs.size(); ++j)
      CHECK((segs[i].mem + segs[i].memsz <= segs[j].mem || segs[j].mem + segs[j].memsz <= segs[i].mem));

  Result<arm64::ChosenView> v = arm64::read_chosen(segs[2].data);
  REQUIRE(v);
  CHECK(v->bootargs == in.cmdline);
  CHECK(v->initrd_start == plan->initrd_addr);
  CHECK(v->initrd_end == plan->initrd_addr + initrd.size());
  CHECK_FALSE(v->elfcorehdr);
  CHECK(segs[2].mem == plan->dtb_addr);

  // The purgatory enters the Image with x0 = the device tree, and checks the other segments.
  kk_purgatory_params p = params_of(segs[3]);
  CHECK(plan->plan.entry == segs[3].mem);
  CHECK(p.entry == plan->kernel_addr);
  CHECK(p.arg == plan->dtb_addr);
  CHECK(p.console_port == 0x9000000u);
  REQUIRE(p.nr_regions == 3);
  for (u32 i = 0; i < 3; ++i) {
    CHECK(p.regions[i].start == segs[i].mem);
    CHECK(p.regions[i].len == segs[i].data.size());
  }
  Result<std::array<std::byte, 32>> d = segments_digest({segs.begin(), segs.begin() + 3});
  REQUIRE(d);
  CHECK(std::memcmp(d->data(), p.digest, 32) == 0);
}

TEST_CASE("arm64 plan -p: everything inside the crash range, elfcorehdr and usable memory named",
          "[kexec][arm64]") {
  std::vector<std::byte> image = fake_image(), dtb = fake_dtb(), initrd(200000, std::byte{1});
  Arm64LoadInput in;
  in.kernel = image;
  in.initrd = initrd;
  in.dtb = dtb;
  in.cmdline = "console=ttyAMA0 irqpoll nr_cpus=1 reset_devices";
  in.panic = true;
  in.placement = {kCrash};
  in.usable_memory = kCrash;
  in.elfcorehdr.assign(5000, std::byte{0xee});
  Result<Arm64Plan> plan = plan_arm64_load(in, builder(0));
  REQUIRE(plan);
  const std::vector<Segment>& segs = plan->plan.segments;
  REQUIRE(segs.size() == 5);  // kernel, initrd, elfcorehdr, device tree, purgatory
  for (const Segment& s : segs) CHECK(inside(s, kCrash));
  CHECK(plan->kernel_addr == 0x4f600000u);  // lowest 2 MiB boundary of the range
  Result<arm64::ChosenView> v = arm64::read_chosen(segs[3].data);
  REQUIRE(v);
  REQUIRE(v->elfcorehdr);
  CHECK(v->elfcorehdr->start == plan->elfcorehdr_addr);
  CHECK(v->elfcorehdr->size == 8192u);
  REQUIRE(v->usable_memory);
  CHECK(v->usable_memory->start == kCrash.start);
  CHECK(v->usable_memory->size == kCrash.size());
  CHECK(params_of(segs[4]).nr_regions == 4);

  // Refusals name what is missing or does not fit.
  Arm64LoadInput no_hdr = in;
  no_hdr.elfcorehdr.clear();
  CHECK(plan_arm64_load(no_hdr, builder(0)).error().msg.find("ELF core header") != std::string::npos);
  Arm64LoadInput tiny = in;
  tiny.placement = {{0x4f600000, 0x4f800000}};  // 2 MiB: the 3 MiB kernel cannot fit
  Result<Arm64Plan> r = plan_arm64_load(tiny, builder(0));
  REQUIRE_FALSE(r);
  CHECK(r.error().msg.find("kernel") != std::string::npos);
}

// A 16K-page kernel (Debian's -arm64-16k) loads only segments whose start and end are on its
// pages: kexec_load's segment check refuses others (EADDRNOTAVAIL). The purgatory, the ELF core
// header and the device tree are each smaller than a page, so each needs a whole one.
TEST_CASE("arm64 plan -p under a 16K-page kernel: every segment on whole 16 KiB pages", "[kexec][arm64]") {
  for (u64 page : {u64{16384}, u64{65536}}) {
    std::vector<std::byte> image = fake_image(), dtb = fake_dtb(), initrd(200000, std::byte{1});
    Arm64LoadInput in;
    in.kernel = image;
    in.initrd = initrd;
    in.dtb = dtb;
    in.cmdline = "console=ttyAMA0 nr_cpus=1";
    in.panic = true;
    in.page_size = page;
    in.placement = {kCrash};
    in.usable_memory = kCrash;
    in.elfcorehdr.assign(5000, std::byte{0xee});
    Result<Arm64Plan> plan = plan_arm64_load(in, builder(0));
    REQUIRE(plan);
    const std::vector<Segment>& segs = plan->plan.segments;
    REQUIRE(segs.size() == 5);
    for (const Segment& s : segs) {
      INFO(s.what << " at " << hex(s.mem) << ", " << s.memsz << " bytes, page " << page);
      CHECK(s.mem % page == 0);
      CHECK(s.memsz % page == 0);
      CHECK(s.memsz >= s.data.size());
      CHECK(inside(s, kCrash));
    }
    for (size_t i = 0; i < segs.size(); ++i)
      for (size_t j = i + 1; j < segs.size(); ++j)
        CHECK((segs[i].mem + segs[i].memsz <= segs[j].mem || segs[j].mem + segs[j].memsz <= segs[i].mem));
    Result<arm64::ChosenView> v = arm64::read_chosen(segs[3].data);
    REQUIRE(v);
    REQUIRE(v->elfcorehdr);
    CHECK(v->elfcorehdr->size % page == 0);
  }
}
