// test_kexec_bzimage.cpp: the x86 boot protocol as the loader reads and writes it: a bzImage's
// setup header (parse_bzimage) and the 4 KiB zero page built from it (build_boot_params), with
// the e820 map. The fixture is a bzImage built in memory field by field at the literal offsets
// of Documentation/arch/x86/boot.rst, so a wrong offset in bzimage.h shows up here.
#include <catch2/catch.hpp>
#include <cstring>
#include <vector>

#include "arch/x86_64/boot_params.h"
#include "arch/x86_64/bzimage.h"

using namespace kk;
using namespace kk::x86_64;

namespace {

template <class T>
void put(std::vector<std::byte>& b, size_t off, T v) {
  std::memcpy(b.data() + off, &v, sizeof v);  // the test host is little-endian, as x86 is
}

template <class T>
T get(const std::vector<std::byte>& b, size_t off) {
  return load_le<T>(b.data() + off);
}

// A bzImage with 4 setup sectors (+ the boot sector: 2560 bytes), protocol 2.15, relocatable,
// 64-bit entry, loadable above 4 GiB, and a kernel part of patterned bytes. The setup sectors
// are filled with a pattern first so copying the wrong span of the header is visible.
struct FakeBzImage {
  u8 setup_sects = 4;
  u16 version = 0x020f;
  u8 jump_disp = 0x6a;  // header ends at 0x202 + 0x6a = 0x26c (kernel_info_offset's end, 2.15)
  u8 loadflags = kLoadedHigh;
  u32 kernel_alignment = 0x200000;
  u8 relocatable = 1;
  u16 xloadflags = kXlfKernel64 | kXlfCanBeLoadedAbove4G;
  u32 cmdline_size = 2047;
  u64 pref_address = 0x1000000;
  u32 init_size = 0x800000;
  u32 initrd_addr_max = 0x7fffffff;
  size_t kernel_bytes = 0x10000;

  size_t setup_size() const { return (size_t(setup_sects ? setup_sects : 4) + 1) * 512; }

  std::vector<std::byte> build() const {
    std::vector<std::byte> b(setup_size() + kernel_bytes);
    for (size_t i = 0; i < b.size(); ++i) b[i] = std::byte(u8(i * 7 + 3));
    // Literal offsets, not hdr::: the fixture must not share a mistake with the code under test.
    b[0x1f1] = std::byte(setup_sects);
    put<u16>(b, 0x1fe, 0xaa55);               // boot_flag
    b[0x200] = std::byte(0xeb);               // jump: jmp short
    b[0x201] = std::byte(jump_disp);
    std::memcpy(b.data() + 0x202, "HdrS", 4);  // header
    put<u16>(b, 0x206, version);
    b[0x210] = std::byte(0);                  // type_of_loader
    b[0x211] = std::byte(loadflags);
    put<u32>(b, 0x22c, initrd_addr_max);
    put<u32>(b, 0x230, kernel_alignment);
    b[0x234] = std::byte(relocatable);        // relocatable_kernel
    put<u16>(b, 0x236, xloadflags);
    put<u32>(b, 0x238, cmdline_size);
    put<u64>(b, 0x258, pref_address);
    put<u32>(b, 0x260, init_size);
    return b;
  }
};

BzImage parse_ok(const std::vector<std::byte>& image) {
  Result<BzImage> r = parse_bzimage(image);
  if (!r) FAIL("parse_bzimage: " << r.error().msg);
  return *r;
}

Error parse_err(const std::vector<std::byte>& image) {
  Result<BzImage> r = parse_bzimage(image);
  if (r) FAIL("parse_bzimage accepted a bad image");
  return std::move(r).error();
}

std::vector<std::byte> boot_params_ok(const BzImage& img, const BootParamsInput& in) {
  Result<std::vector<std::byte>> r = build_boot_params(img, in);
  if (!r) FAIL("build_boot_params: " << r.error().msg);
  return *std::move(r);
}

// boot_params offsets outside the setup header (arch/x86/include/uapi/asm/bootparam.h).
constexpr size_t kAcpiRsdpAddr = 0x070;
constexpr size_t kExtRamdiskImage = 0x0c0;
constexpr size_t kExtRamdiskSize = 0x0c4;
constexpr size_t kExtCmdLinePtr = 0x0c8;
constexpr size_t kE820Entries = 0x1e8;
constexpr size_t kE820Table = 0x2d0;

std::vector<E820Entry> read_e820(const std::vector<std::byte>& bp) {
  std::vector<E820Entry> out;
  size_t n = std::to_integer<size_t>(bp[kE820Entries]);
  for (size_t i = 0; i < n; ++i) {
    size_t off = kE820Table + i * 20;
    out.push_back({get<u64>(bp, off), get<u64>(bp, off + 8), get<u32>(bp, off + 16)});
  }
  return out;
}

}  // namespace

TEST_CASE("bzimage: header offsets are boot.rst's", "[bzimage]") {
  REQUIRE(hdr::kSetupSects == 0x1f1);
  REQUIRE(hdr::kBootFlag == 0x1fe);
  REQUIRE(hdr::kJump == 0x200);
  REQUIRE(hdr::kHeader == 0x202);
  REQUIRE(hdr::kVersion == 0x206);
  REQUIRE(hdr::kTypeOfLoader == 0x210);
  REQUIRE(hdr::kLoadflags == 0x211);
  REQUIRE(hdr::kRamdiskImage == 0x218);
  REQUIRE(hdr::kRamdiskSize == 0x21c);
  REQUIRE(hdr::kCmdLinePtr == 0x228);
  REQUIRE(hdr::kInitrdAddrMax == 0x22c);
  REQUIRE(hdr::kKernelAlignment == 0x230);
  REQUIRE(hdr::kRelocatable == 0x234);
  REQUIRE(hdr::kXloadflags == 0x236);
  REQUIRE(hdr::kCmdlineSize == 0x238);
  REQUIRE(hdr::kSetupData == 0x250);
  REQUIRE(hdr::kPrefAddress == 0x258);
  REQUIRE(hdr::kInitSize == 0x260);
  REQUIRE(kXlfKernel64 == 1);
  REQUIRE(kXlfCanBeLoadedAbove4G == 2);
  REQUIRE(kLoadedHigh == 1);
  REQUIRE(kLoaderTypeKexec == 0x0d);
  REQUIRE(kE820Max == 128);
}

TEST_CASE("bzimage: parses the setup header fields", "[bzimage]") {
  FakeBzImage f;
  std::vector<std::byte> image = f.build();
  BzImage b = parse_ok(image);
  REQUIRE(b.version == 0x020f);
  REQUIRE(b.setup_size == 2560);
  REQUIRE(b.setup.data() == image.data());
  REQUIRE(b.setup.size() == 2560);
  REQUIRE(b.kernel.data() == image.data() + 2560);
  REQUIRE(b.kernel.size() == 0x10000);
  REQUIRE(b.kernel_alignment == 0x200000);
  REQUIRE(b.relocatable);
  REQUIRE(b.xloadflags == (kXlfKernel64 | kXlfCanBeLoadedAbove4G));
  REQUIRE(b.cmdline_size == 2047);
  REQUIRE(b.pref_address == 0x1000000);
  REQUIRE(b.init_size == 0x800000);
  REQUIRE(b.initrd_addr_max == 0x7fffffff);
}

TEST_CASE("bzimage: setup_sects 0 means 4; init_size never below the kernel's size", "[bzimage]") {
  FakeBzImage f;
  f.setup_sects = 0;
  f.init_size = 0x1000;  // smaller than the 64 KiB kernel part
  BzImage b = parse_ok(f.build());
  REQUIRE(b.setup_size == 2560);
  REQUIRE(b.init_size == 0x10000);

  f.setup_sects = 30;
  BzImage c = parse_ok(f.build());
  REQUIRE(c.setup_size == 31 * 512);
  REQUIRE(c.kernel.size() == 0x10000);
}

TEST_CASE("bzimage: refuses what it cannot load, saying why", "[bzimage]") {
  FakeBzImage f;
  SECTION("too small") {
    std::vector<std::byte> image = f.build();
    image.resize(0x267);
    Error e = parse_err(image);
    REQUIRE(e.code == Errc::corrupt);
    REQUIRE_THAT(e.msg, Catch::Contains("too small") && Catch::Contains("615 bytes"));
  }
  SECTION("no boot flag") {
    std::vector<std::byte> image = f.build();
    put<u16>(image, hdr::kBootFlag, 0x55aa);
    Error e = parse_err(image);
    REQUIRE(e.code == Errc::corrupt);
    REQUIRE_THAT(e.msg, Catch::Contains("not a bzImage"));
  }
  SECTION("no HdrS signature") {
    std::vector<std::byte> image = f.build();
    std::memcpy(image.data() + hdr::kHeader, "HdrZ", 4);
    Error e = parse_err(image);
    REQUIRE(e.code == Errc::corrupt);
    REQUIRE_THAT(e.msg, Catch::Contains("HdrS"));
  }
  SECTION("protocol 2.05 is too old") {
    f.version = 0x0205;
    Error e = parse_err(f.build());
    REQUIRE(e.code == Errc::unsupported);
    REQUIRE_THAT(e.msg, Catch::Contains("boot protocol 2.05 is too old") && Catch::Contains("2.06"));
  }
  SECTION("no 64-bit entry") {
    f.xloadflags = kXlfCanBeLoadedAbove4G;
    Error e = parse_err(f.build());
    REQUIRE(e.code == Errc::unsupported);
    REQUIRE_THAT(e.msg, Catch::Contains("64-bit entry"));
  }
  SECTION("not relocatable") {
    f.relocatable = 0;
    Error e = parse_err(f.build());
    REQUIRE(e.code == Errc::unsupported);
    REQUIRE_THAT(e.msg, Catch::Contains("not relocatable"));
  }
  SECTION("zImage (not loaded high)") {
    f.loadflags = 0;
    Error e = parse_err(f.build());
    REQUIRE(e.code == Errc::unsupported);
    REQUIRE_THAT(e.msg, Catch::Contains("zImage"));
  }
  SECTION("kernel_alignment not a power of two") {
    f.kernel_alignment = 0x300000;
    Error e = parse_err(f.build());
    REQUIRE(e.code == Errc::corrupt);
    REQUIRE_THAT(e.msg, Catch::Contains("kernel_alignment"));
  }
  SECTION("setup sectors past the end") {
    f.setup_sects = 200;  // 201 * 512 bytes of setup in a 4 KiB file
    f.kernel_bytes = 0;
    std::vector<std::byte> image = f.build();
    image.resize(4096);
    Error e = parse_err(image);
    REQUIRE(e.code == Errc::corrupt);
    REQUIRE_THAT(e.msg, Catch::Contains("run past the end"));
  }
  SECTION("protocol 2.12 is accepted") {
    f.version = 0x020c;
    REQUIRE(parse_ok(f.build()).version == 0x020c);
  }
}

TEST_CASE("boot_params: copies exactly the setup header, then the loader's fields", "[bzimage]") {
  FakeBzImage f;
  std::vector<std::byte> image = f.build();
  BzImage img = parse_ok(image);
  BootParamsInput in;
  in.cmdline_addr = 0x7ffdf000;
  in.initrd_addr = 0x7e000000;
  in.initrd_size = 0x123456;
  in.setup_data = 0x12340000;
  std::vector<std::byte> bp = boot_params_ok(img, in);
  REQUIRE(bp.size() == kBootParamsSize);

  // Every field the loader sets, byte ranges [off, off + len).
  struct Field { size_t off, len; };
  const Field loader_fields[] = {{hdr::kTypeOfLoader, 1}, {hdr::kRamdiskImage, 4}, {hdr::kRamdiskSize, 4},
                                 {hdr::kCmdLinePtr, 4},   {hdr::kSetupData, 8}};
  auto is_loader_field = [&](size_t i) {
    for (const Field& fl : loader_fields)
      if (i >= fl.off && i < fl.off + fl.len) return true;
    return false;
  };
  const size_t hdr_end = 0x202 + 0x6a;
  for (size_t i = hdr::kSetupSects; i < hdr_end; ++i) {
    if (is_loader_field(i)) continue;
    INFO("offset " << i);
    REQUIRE(bp[i] == image[i]);
  }
  // Nothing past the header's end is copied (the pattern there would show).
  for (size_t i = hdr_end; i < kE820Table; ++i) {
    INFO("offset " << i);
    REQUIRE(bp[i] == std::byte{0});
  }
  REQUIRE(get<u16>(bp, hdr::kBootFlag) == 0xaa55);
  REQUIRE(std::memcmp(bp.data() + hdr::kHeader, "HdrS", 4) == 0);
  REQUIRE(get<u16>(bp, hdr::kVersion) == 0x020f);
  REQUIRE(get<u32>(bp, hdr::kInitSize) == 0x800000);

  REQUIRE(std::to_integer<u8>(bp[hdr::kTypeOfLoader]) == 0x0d);
  REQUIRE(get<u32>(bp, hdr::kCmdLinePtr) == 0x7ffdf000);
  REQUIRE(get<u32>(bp, kExtCmdLinePtr) == 0);
  REQUIRE(get<u32>(bp, hdr::kRamdiskImage) == 0x7e000000);
  REQUIRE(get<u32>(bp, kExtRamdiskImage) == 0);
  REQUIRE(get<u32>(bp, hdr::kRamdiskSize) == 0x123456);
  REQUIRE(get<u32>(bp, kExtRamdiskSize) == 0);
  REQUIRE(get<u64>(bp, hdr::kSetupData) == 0x12340000);
  REQUIRE(std::to_integer<u8>(bp[kE820Entries]) == 0);
  // Below the header only what the loader sets: here nothing (no RSDP, all addresses < 4 GiB).
  for (size_t i = 0; i < hdr::kSetupSects; ++i) {
    INFO("offset " << i);
    REQUIRE(bp[i] == std::byte{0});
  }
}

TEST_CASE("boot_params: addresses above 4 GiB split into the ext_ fields", "[bzimage]") {
  std::vector<std::byte> image = FakeBzImage{}.build();  // BzImage points into it
  BzImage img = parse_ok(image);
  BootParamsInput in;
  in.cmdline_addr = 0x123456000;
  in.initrd_addr = 0x2'0000'1000;
  in.initrd_size = 0x1'0000'0200;
  std::vector<std::byte> bp = boot_params_ok(img, in);
  REQUIRE(get<u32>(bp, hdr::kCmdLinePtr) == 0x23456000);
  REQUIRE(get<u32>(bp, kExtCmdLinePtr) == 0x1);
  REQUIRE(get<u32>(bp, hdr::kRamdiskImage) == 0x1000);
  REQUIRE(get<u32>(bp, kExtRamdiskImage) == 0x2);
  REQUIRE(get<u32>(bp, hdr::kRamdiskSize) == 0x200);
  REQUIRE(get<u32>(bp, kExtRamdiskSize) == 0x1);
}

TEST_CASE("boot_params: acpi_rsdp_addr only for protocol 2.14 and later", "[bzimage]") {
  BootParamsInput in;
  in.acpi_rsdp = 0x7fb7e014;
  FakeBzImage f;
  SECTION("2.15 gets it") {
    REQUIRE(get<u64>(boot_params_ok(parse_ok(f.build()), in), kAcpiRsdpAddr) == 0x7fb7e014);
  }
  SECTION("2.14 gets it") {
    f.version = 0x020e;
    REQUIRE(get<u64>(boot_params_ok(parse_ok(f.build()), in), kAcpiRsdpAddr) == 0x7fb7e014);
  }
  SECTION("2.13 does not (the field is not there for it)") {
    f.version = 0x020d;
    REQUIRE(get<u64>(boot_params_ok(parse_ok(f.build()), in), kAcpiRsdpAddr) == 0);
  }
}

TEST_CASE("boot_params: the e820 table at 0x2d0, 20 bytes an entry, count at 0x1e8", "[bzimage]") {
  std::vector<std::byte> image = FakeBzImage{}.build();  // BzImage points into it
  BzImage img = parse_ok(image);
  BootParamsInput in;
  in.e820 = {
      {0x100000000, 0x80000000, kE820Ram},
      {0x0, 0x9fc00, kE820Ram},
      {0x9fc00, 0x400, kE820Reserved},
      {0x100000, 0x7fee0000, kE820Ram},
      {0x7ffe0000, 0x20000, kE820Reserved},
      {0xfeffc000, 0x4000, kE820Reserved},
  };
  std::vector<std::byte> bp = boot_params_ok(img, in);
  REQUIRE(std::to_integer<u8>(bp[kE820Entries]) == 6);
  // Entry 1 raw, to pin the packed layout: addr u64, size u64, type u32.
  REQUIRE(get<u64>(bp, 0x2d0 + 20) == 0x9fc00);
  REQUIRE(get<u64>(bp, 0x2d0 + 28) == 0x400);
  REQUIRE(get<u32>(bp, 0x2d0 + 36) == 2);
  REQUIRE(read_e820(bp) == std::vector<E820Entry>{
                               {0x0, 0x9fc00, kE820Ram},
                               {0x9fc00, 0x400, kE820Reserved},
                               {0x100000, 0x7fee0000, kE820Ram},
                               {0x7ffe0000, 0x20000, kE820Reserved},
                               {0xfeffc000, 0x4000, kE820Reserved},
                               {0x100000000, 0x80000000, kE820Ram},
                           });
  // Nothing after the sixth entry.
  for (size_t i = 0x2d0 + 6 * 20; i < kBootParamsSize; ++i) REQUIRE(bp[i] == std::byte{0});
}

TEST_CASE("boot_params: a setup header longer than its room is refused", "[bzimage]") {
  FakeBzImage f;
  f.jump_disp = 0xff;  // 0x202 + 0xff runs into the e820 table at 0x2d0
  Result<std::vector<std::byte>> r = build_boot_params(parse_ok(f.build()), BootParamsInput{});
  REQUIRE_FALSE(r);
  REQUIRE(r.error().code == Errc::corrupt);
  REQUIRE_THAT(r.error().msg, Catch::Contains("setup header"));
}

TEST_CASE("e820: normalize_e820 sorts and merges touching entries of one type", "[bzimage]") {
  Result<std::vector<E820Entry>> r = normalize_e820({
      {0x200000, 0x100000, kE820Ram},      // touches the next RAM entry: merged
      {0x100000, 0x100000, kE820Ram},
      {0x300000, 0x100000, kE820Reserved}, // touches, other type: kept apart
      {0x500000, 0x100000, kE820Reserved}, // a gap before it: kept apart
      {0x600000, 0, kE820Ram},             // empty: dropped
      {0x400000, 0x100000, kE820Reserved}, // bridges the two reserved entries
      {0x0, 0x9fc00, kE820Ram},            // gap to 0x100000: kept apart
  });
  REQUIRE(r);
  REQUIRE(*r == std::vector<E820Entry>{
                    {0x0, 0x9fc00, kE820Ram},
                    {0x100000, 0x200000, kE820Ram},
                    {0x300000, 0x300000, kE820Reserved},
                });
}

TEST_CASE("e820: more than 128 entries: 128 in boot_params, the rest in SETUP_E820_EXT", "[bzimage]") {
  std::vector<E820Entry> many;
  for (u64 i = 0; i < 131; ++i)  // a gap after each, alternating types: nothing merges
    many.push_back({i * 0x2000, 0x1000, i % 2 ? kE820Reserved : kE820Ram});
  Result<std::vector<E820Entry>> norm = normalize_e820(many);
  REQUIRE(norm);
  REQUIRE(norm->size() == 131);
  REQUIRE_FALSE(e820_ext(std::vector<E820Entry>(norm->begin(), norm->begin() + 128)));

  std::optional<SetupData> ext = e820_ext(*norm);
  REQUIRE(ext);
  REQUIRE(ext->type == 1);  // SETUP_E820_EXT
  REQUIRE(ext->payload.size() == 3 * 20);
  for (u64 i = 0; i < 3; ++i) {  // entries 128, 129, 130, packed as in the zero page
    INFO("extended entry " << i);
    REQUIRE(get<u64>(ext->payload, i * 20) == (128 + i) * 0x2000);
    REQUIRE(get<u64>(ext->payload, i * 20 + 8) == 0x1000);
    REQUIRE(get<u32>(ext->payload, i * 20 + 16) == ((128 + i) % 2 ? 2u : 1u));
  }

  // build_boot_params writes the first 128; the count byte says 128.
  BootParamsInput in;
  in.e820 = many;
  std::vector<std::byte> image = FakeBzImage{}.build();
  std::vector<std::byte> bp = boot_params_ok(parse_ok(image), in);
  REQUIRE(std::to_integer<u8>(bp[kE820Entries]) == 128);
  std::vector<E820Entry> first = read_e820(bp);
  REQUIRE(first == std::vector<E820Entry>(norm->begin(), norm->begin() + 128));

  // 129 entries that merge down to one need no extension.
  std::vector<E820Entry> touching;
  for (u64 i = 0; i < 129; ++i) touching.push_back({i * 0x1000, 0x1000, kE820Ram});
  Result<std::vector<E820Entry>> merged = normalize_e820(touching);
  REQUIRE(merged);
  REQUIRE(*merged == std::vector<E820Entry>{{0, 129 * 0x1000, kE820Ram}});
  REQUIRE_FALSE(e820_ext(*merged));

  // More than a kernel keeps at all is an error, not a silent cut.
  std::vector<E820Entry> too_many;
  for (u64 i = 0; i <= kE820MaxTotal; ++i) too_many.push_back({i * 0x2000, 0x1000, kE820Ram});
  Result<std::vector<E820Entry>> bad = normalize_e820(too_many);
  REQUIRE_FALSE(bad);
  REQUIRE(bad.error().code == Errc::unsupported);
  REQUIRE_THAT(bad.error().msg, Catch::Contains(std::to_string(kE820MaxTotal + 1) + " entries"));
}

TEST_CASE("setup_data: items linked back to back, 8-byte aligned, next = physical address", "[bzimage]") {
  std::vector<SetupData> items{{1, std::vector<std::byte>(20, std::byte{0xaa})},
                               {4, std::vector<std::byte>(96, std::byte{0xbb})},
                               {9, std::vector<std::byte>(3, std::byte{0xcc})}};
  const u64 at = 0x7ffe3010;
  std::vector<std::byte> b = link_setup_data(items, at);
  // 16 + 20 = 36 -> next at 40; 40 + 16 + 96 = 152; 152 + 16 + 3 = 171.
  REQUIRE(b.size() == 171);
  REQUIRE(setup_data_size(items) == 171);
  REQUIRE(get<u64>(b, 0) == at + 40);
  REQUIRE(get<u32>(b, 8) == 1);
  REQUIRE(get<u32>(b, 12) == 20);
  REQUIRE(b[16] == std::byte{0xaa});
  REQUIRE(b[35] == std::byte{0xaa});
  REQUIRE(b[36] == std::byte{0});  // padding
  REQUIRE(get<u64>(b, 40) == at + 152);
  REQUIRE(get<u32>(b, 48) == 4);
  REQUIRE(get<u32>(b, 52) == 96);
  REQUIRE(get<u64>(b, 152) == 0);  // the last one ends the list
  REQUIRE(get<u32>(b, 160) == 9);
  REQUIRE(get<u32>(b, 164) == 3);
  REQUIRE(b[170] == std::byte{0xcc});
  REQUIRE(link_setup_data({}, at).empty());
}

TEST_CASE("bzimage: protocols 2.06 to 2.11 load with what they lack handled", "[bzimage]") {
  FakeBzImage f;
  f.xloadflags = 0;  // not there before 2.12: whatever the bytes say is not read
  SECTION("2.11: no xloadflags: 64-bit entry assumed, not above 4 GiB; init_size read") {
    f.version = 0x020b;
    BzImage b = parse_ok(f.build());
    REQUIRE(b.xloadflags == kXlfKernel64);
    REQUIRE(b.init_size == 0x800000);
    REQUIRE_FALSE(b.init_size_estimated);
    REQUIRE(b.pref_address == 0x1000000);
    REQUIRE(b.has_setup_data());
  }
  SECTION("2.12 still reads xloadflags and refuses a kernel without a 64-bit entry") {
    f.version = 0x020c;
    REQUIRE(parse_err(f.build()).code == Errc::unsupported);
  }
  SECTION("2.09: no init_size or pref_address yet: estimated, at least 16 MiB") {
    f.version = 0x0209;
    f.kernel_bytes = 5u << 20;
    BzImage b = parse_ok(f.build());
    REQUIRE(b.init_size_estimated);
    REQUIRE(b.init_size == 20u << 20);  // 4 x the 5 MiB protected-mode part
    REQUIRE(b.pref_address == 0);
    REQUIRE(b.has_setup_data());
    f.kernel_bytes = 0x10000;
    REQUIRE(parse_ok(f.build()).init_size == 16u << 20);
  }
  SECTION("2.06: no setup_data") {
    f.version = 0x0206;
    BzImage b = parse_ok(f.build());
    REQUIRE_FALSE(b.has_setup_data());
    REQUIRE(b.cmdline_size == 2047);
  }
}

TEST_CASE("boot_params: what an older protocol cannot take is refused", "[bzimage]") {
  FakeBzImage f;
  f.version = 0x0208;
  std::vector<std::byte> image = f.build();
  BzImage img = parse_ok(image);
  BootParamsInput in;
  in.cmdline_addr = 0x7ffe4000;
  SECTION("below 4 GiB, no setup_data: fine, and 0x250 stays untouched") {
    std::vector<std::byte> bp = boot_params_ok(img, in);
    REQUIRE(get<u32>(bp, hdr::kCmdLinePtr) == 0x7ffe4000);
    REQUIRE(get<u64>(bp, 0x250) == get<u64>(image, 0x250));  // setup header bytes as the image has them
  }
  SECTION("setup_data before 2.09") {
    in.setup_data = 0x7ffe5000;
    Result<std::vector<std::byte>> r = build_boot_params(img, in);
    REQUIRE_FALSE(r);
    REQUIRE_THAT(r.error().msg, Catch::Contains("2.09"));
  }
  SECTION("an initrd above 4 GiB before 2.12") {
    in.initrd_addr = 0x100000000;
    in.initrd_size = 0x1000;
    Result<std::vector<std::byte>> r = build_boot_params(img, in);
    REQUIRE_FALSE(r);
    REQUIRE_THAT(r.error().msg, Catch::Contains("4 GiB"));
  }
}

TEST_CASE("boot_params: efi_info at 0x1c0", "[bzimage]") {
  std::vector<std::byte> image = FakeBzImage{}.build();
  BootParamsInput in;
  EfiInfo e;
  e.loader_signature = kEfiLoaderSignature64;
  e.systab = 0x1'7fbee018;
  e.memdesc_size = 40;
  e.memdesc_version = 1;
  e.memmap = 0x2'0000'3000;
  e.memmap_size = 5 * 40;
  in.efi_info = e;
  std::vector<std::byte> bp = boot_params_ok(parse_ok(image), in);
  REQUIRE(std::memcmp(bp.data() + 0x1c0, "EL64", 4) == 0);
  REQUIRE(get<u32>(bp, 0x1c4) == 0x7fbee018);  // efi_systab
  REQUIRE(get<u32>(bp, 0x1c8) == 40);          // efi_memdesc_size
  REQUIRE(get<u32>(bp, 0x1cc) == 1);           // efi_memdesc_version
  REQUIRE(get<u32>(bp, 0x1d0) == 0x3000);      // efi_memmap
  REQUIRE(get<u32>(bp, 0x1d4) == 200);         // efi_memmap_size
  REQUIRE(get<u32>(bp, 0x1d8) == 1);           // efi_systab_hi
  REQUIRE(get<u32>(bp, 0x1dc) == 2);           // efi_memmap_hi
  REQUIRE(parse_efi_info(std::span<const std::byte, 32>(bp.data() + 0x1c0, 32)) == e);
  // Without EFI the field stays zero.
  std::vector<std::byte> plain = boot_params_ok(parse_ok(image), BootParamsInput{});
  for (size_t i = 0x1c0; i < 0x1e0; ++i) REQUIRE(plain[i] == std::byte{0});
}

TEST_CASE("e820: type names from /sys/firmware/memmap", "[bzimage]") {
  // The strings are e820_type_to_string()'s in arch/x86/kernel/e820.c.
  REQUIRE(e820_type_from_name("System RAM") == std::optional<u32>(1));
  REQUIRE(e820_type_from_name("Reserved") == std::optional<u32>(2));
  REQUIRE(e820_type_from_name("reserved") == std::optional<u32>(2));
  REQUIRE(e820_type_from_name("ACPI Tables") == std::optional<u32>(3));
  REQUIRE(e820_type_from_name("ACPI Non-volatile Storage") == std::optional<u32>(4));
  REQUIRE(e820_type_from_name("Unusable memory") == std::optional<u32>(5));
  REQUIRE(e820_type_from_name("Persistent Memory") == std::optional<u32>(7));
  REQUIRE(e820_type_from_name("Persistent Memory (legacy)") == std::optional<u32>(12));
  REQUIRE(e820_type_from_name("Soft Reserved") == std::optional<u32>(0xefffffff));
  REQUIRE(e820_type_from_name("PCI Bus 0000:00") == std::nullopt);
  REQUIRE(e820_type_from_name("System RAM ") == std::nullopt);
  REQUIRE(e820_type_from_name("") == std::nullopt);
}
