// test_arm64_dtb.cpp: /chosen edits for kexec'd arm64 kernels, on device trees written in code
// with libfdt's sequential-write API (root cells 2/2 as QEMU virt has them, and 1/1).
extern "C" {
#include <libfdt.h>
}

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "arch/arm64/dtb.h"

using namespace kk;
using namespace kk::arm64;

namespace {

std::vector<std::byte> make_dtb(u32 address_cells, u32 size_cells, bool with_chosen) {
  std::vector<std::byte> b(4096);
  void* f = b.data();
  REQUIRE(fdt_create(f, static_cast<int>(b.size())) == 0);
  REQUIRE(fdt_finish_reservemap(f) == 0);
  REQUIRE(fdt_begin_node(f, "") == 0);
  REQUIRE(fdt_property_u32(f, "#address-cells", address_cells) == 0);
  REQUIRE(fdt_property_u32(f, "#size-cells", size_cells) == 0);
  REQUIRE(fdt_property_string(f, "compatible", "linux,dummy-virt") == 0);
  if (with_chosen) {
    REQUIRE(fdt_begin_node(f, "chosen") == 0);
    REQUIRE(fdt_property_string(f, "bootargs", "console=ttyAMA0 crashkernel=256M") == 0);
    REQUIRE(fdt_property_u64(f, "linux,initrd-start", 0x48000000) == 0);
    REQUIRE(fdt_property_u64(f, "linux,initrd-end", 0x48100000) == 0);
    REQUIRE(fdt_end_node(f) == 0);
  }
  REQUIRE(fdt_begin_node(f, "memory@40000000") == 0);
  REQUIRE(fdt_property_string(f, "device_type", "memory") == 0);
  REQUIRE(fdt_end_node(f) == 0);
  REQUIRE(fdt_end_node(f) == 0);
  REQUIRE(fdt_finish(f) == 0);
  b.resize(fdt_totalsize(f));
  return b;
}

}  // namespace

TEST_CASE("dtb: crash-kernel /chosen, 2/2 cells", "[arm64][dtb]") {
  std::vector<std::byte> in = make_dtb(2, 2, true);
  ChosenEdits e;
  e.bootargs = "console=ttyAMA0 irqpoll nr_cpus=1 reset_devices";
  e.initrd = Range{0x6b000000, 0x123000};
  e.elfcorehdr = Range{0x7ab00000, 0x10000};
  e.usable_memory = Range{0x6ac00000, 0x10000000};
  Result<std::vector<std::byte>> out = edit_chosen(in, e);
  REQUIRE(out);
  Result<ChosenView> v = read_chosen(*out);
  REQUIRE(v);
  CHECK(v->bootargs == e.bootargs);
  CHECK(v->initrd_start == 0x6b000000u);
  CHECK(v->initrd_end == 0x6b123000u);
  REQUIRE(v->elfcorehdr);
  CHECK(v->elfcorehdr->start == 0x7ab00000u);
  CHECK(v->elfcorehdr->size == 0x10000u);
  REQUIRE(v->usable_memory);
  CHECK(v->usable_memory->start == 0x6ac00000u);
  CHECK(v->usable_memory->size == 0x10000000u);
  // The rest of the tree is untouched.
  CHECK(fdt_path_offset(out->data(), "/memory@40000000") >= 0);
}

TEST_CASE("dtb: no /chosen yet, 1/1 cells; no initrd removes the old one", "[arm64][dtb]") {
  std::vector<std::byte> in = make_dtb(1, 1, false);
  ChosenEdits e;
  e.bootargs = "console=ttyAMA0";
  e.elfcorehdr = Range{0x7ab00000, 0x1000};
  Result<std::vector<std::byte>> out = edit_chosen(in, e);
  REQUIRE(out);
  int len = 0;
  const void* p = fdt_getprop(out->data(), fdt_path_offset(out->data(), "/chosen"),
                              "linux,elfcorehdr", &len);
  REQUIRE(p);
  CHECK(len == 8);  // one address cell, one size cell
  Result<ChosenView> v = read_chosen(*out);
  REQUIRE(v);
  CHECK(v->elfcorehdr->start == 0x7ab00000u);
  CHECK_FALSE(v->initrd_start);

  // A -l load without --initrd: the running kernel's initrd properties must go.
  Result<std::vector<std::byte>> out2 = edit_chosen(make_dtb(2, 2, true), ChosenEdits{});
  REQUIRE(out2);
  v = read_chosen(*out2);
  REQUIRE(v);
  CHECK_FALSE(v->initrd_start);
  CHECK_FALSE(v->initrd_end);
  CHECK(v->bootargs == std::string("console=ttyAMA0 crashkernel=256M"));  // left alone
}

TEST_CASE("dtb: damaged blobs are errors with a reason", "[arm64][dtb]") {
  std::vector<std::byte> in = make_dtb(2, 2, true);
  std::vector<std::byte> bad = in;
  bad[0] = std::byte{0};
  Result<std::vector<std::byte>> r = edit_chosen(bad, ChosenEdits{});
  REQUIRE_FALSE(r);
  CHECK(r.error().msg.find("device tree") != std::string::npos);
  CHECK(edit_chosen(std::span(in).first(in.size() / 2), ChosenEdits{}).error().code ==
        Errc::truncated);
  CHECK(edit_chosen(std::span(in).first(10), ChosenEdits{}).error().code == Errc::truncated);
}

// Found by fuzz_dtb (corpus/dtb/regress-rsvmap-unterminated): a memory reservation map with no
// zero-sized entry before the end of the blob passed fdt_check_header, and fdt_open_into copied
// it with a negative size (fdt_num_mem_rsv's error taken as a count).
TEST_CASE("dtb: an unterminated memory reservation map is refused", "[arm64][dtb]") {
  std::vector<std::byte> in = make_dtb(2, 2, true);
  size_t rsv = fdt_off_mem_rsvmap(in.data());
  for (size_t i = rsv; i < in.size(); ++i) in[i] = std::byte{0x11};
  Result<std::vector<std::byte>> r = edit_chosen(in, ChosenEdits{});
  REQUIRE_FALSE(r);
  CHECK(r.error().msg.find("reservation map") != std::string::npos);
  CHECK_FALSE(read_chosen(in));
  CHECK_FALSE(stdout_pl011(in));
}

// Found by fuzz_dtb (corpus/dtb/regress-huge-address-cells): a root #address-cells of 0x26000004
// overflowed 4 * (address cells + size cells) in stdout_pl011 and read_chosen (signed int).
TEST_CASE("dtb: root cell counts other than 1 or 2 are not used", "[arm64][dtb]") {
  for (u32 ac : {0u, 3u, 0x26000004u, 0xffffffffu}) {
    INFO(ac);
    std::vector<std::byte> b(4096);
    void* f = b.data();
    REQUIRE(fdt_create(f, static_cast<int>(b.size())) == 0);
    REQUIRE(fdt_finish_reservemap(f) == 0);
    REQUIRE(fdt_begin_node(f, "") == 0);
    REQUIRE(fdt_property_u32(f, "#address-cells", ac) == 0);
    REQUIRE(fdt_property_u32(f, "#size-cells", 2) == 0);
    REQUIRE(fdt_begin_node(f, "chosen") == 0);
    REQUIRE(fdt_property_string(f, "stdout-path", "/pl011@9000000") == 0);
    REQUIRE(fdt_property_u64(f, "linux,elfcorehdr", 0x7ab00000) == 0);
    REQUIRE(fdt_end_node(f) == 0);
    REQUIRE(fdt_begin_node(f, "pl011@9000000") == 0);
    REQUIRE(fdt_property_string(f, "compatible", "arm,pl011") == 0);
    REQUIRE(fdt_property_u64(f, "reg", 0x9000000) == 0);
    REQUIRE(fdt_end_node(f) == 0);
    REQUIRE(fdt_end_node(f) == 0);
    REQUIRE(fdt_finish(f) == 0);
    b.resize(fdt_totalsize(f));
    CHECK_FALSE(stdout_pl011(b));
    Result<ChosenView> v = read_chosen(b);
    REQUIRE(v);
    CHECK_FALSE(v->elfcorehdr);
    Result<std::vector<std::byte>> r = edit_chosen(b, ChosenEdits{});
    REQUIRE_FALSE(r);
    CHECK(r.error().msg.find("#address-cells") != std::string::npos);
  }
}
