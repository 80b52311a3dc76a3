// test_purgatory.cpp: the x86_64 purgatory blob as the loader will see it (entry jmp, parameter
// block, sizes, no relocations), and the purgatory's own SHA-256 object (the sha256.o linked into
// the blob, linked here too) against OpenSSL, which the loader uses to compute the digest.
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "purgatory/include/purgatory_abi.h"
#include "purgatory/include/purgatory_blob.h"
#include "purgatory/sha256.h"

namespace {

using Digest = std::array<std::uint8_t, KK_SHA256_DIGEST_SIZE>;

// A region as the loader sees it: bytes in its buffer, later at some physical address.
struct Part {
  const std::uint8_t* data;
  std::size_t len;
};

Digest openssl_sha256(const std::vector<Part>& parts) {
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  REQUIRE(ctx != nullptr);
  REQUIRE(EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) == 1);
  for (const Part& p : parts) REQUIRE(EVP_DigestUpdate(ctx.get(), p.data, p.len) == 1);
  Digest out{};
  unsigned int n = 0;
  REQUIRE(EVP_DigestFinal_ex(ctx.get(), out.data(), &n) == 1);
  REQUIRE(n == out.size());
  return out;
}

Digest purgatory_sha256(const std::vector<Part>& parts) {
  kk_sha256_ctx ctx;
  kk_sha256_init(&ctx);
  for (const Part& p : parts) kk_sha256_update(&ctx, p.data, p.len);
  Digest out{};
  kk_sha256_final(&ctx, out.data());
  return out;
}

std::string hex(const Digest& d) {
  static const char digits[] = "0123456789abcdef";
  std::string s;
  for (std::uint8_t b : d) {
    s += digits[b >> 4];
    s += digits[b & 15];
  }
  return s;
}

// Deterministic, non-repeating bytes (a small LCG), so a block-ordering bug cannot hide.
std::vector<std::uint8_t> pattern(std::size_t n, std::uint32_t seed) {
  std::vector<std::uint8_t> v(n);
  for (std::size_t i = 0; i < n; i++) {
    seed = seed * 1664525u + 1013904223u;
    v[i] = static_cast<std::uint8_t>(seed >> 24);
  }
  return v;
}

std::uint64_t get64(const unsigned char* p) {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

std::uint32_t get32(const unsigned char* p) {
  std::uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

}  // namespace

TEST_CASE("x86_64 purgatory blob: entry jmp over the parameter block", "[purgatory]") {
  std::span<const unsigned char> blob = kk::purgatory_x86_64();
  REQUIRE(blob.size() >= KK_PURGATORY_PARAMS_OFFSET + sizeof(kk_purgatory_params));
  // e9 rel32: jmp to just past the parameter block, still inside the blob.
  REQUIRE(blob[0] == 0xe9);
  std::int32_t rel = static_cast<std::int32_t>(get32(blob.data() + 1));
  std::int64_t target = 5 + static_cast<std::int64_t>(rel);
  CHECK(target >= static_cast<std::int64_t>(KK_PURGATORY_PARAMS_OFFSET + KK_PP_SIZE));
  CHECK(target < static_cast<std::int64_t>(blob.size()));
}

TEST_CASE("x86_64 purgatory blob: parameter block as built", "[purgatory]") {
  std::span<const unsigned char> blob = kk::purgatory_x86_64();
  REQUIRE(blob.size() >= KK_PURGATORY_PARAMS_OFFSET + sizeof(kk_purgatory_params));
  kk_purgatory_params pp;
  std::memcpy(&pp, blob.data() + KK_PURGATORY_PARAMS_OFFSET, sizeof pp);
  CHECK(pp.magic == KK_PURGATORY_MAGIC);
  CHECK(std::memcmp(blob.data() + KK_PURGATORY_PARAMS_OFFSET, "KKPURG01", 8) == 0);
  CHECK(pp.abi_version == KK_PURGATORY_ABI_VERSION);
  // The loader's fields are zero until it patches them.
  CHECK(pp.nr_regions == 0);
  CHECK(pp.entry == 0);
  CHECK(pp.arg == 0);
  CHECK(pp.console_port == 0);
  CHECK(pp.skip_checks == 0);
  CHECK(pp.flags == 0);
  CHECK(pp.backup_len == 0);
  for (const kk_purgatory_region& r : pp.regions) CHECK((r.start == 0 && r.len == 0));
  for (std::uint8_t b : pp.digest) CHECK(b == 0);

  // image_mem_size covers the file bytes plus .bss, which holds the 16 KiB stack; it is the
  // link's kk_image_end (check_relocs.py read it from the ELF), so the PC-relative difference in
  // entry.S resolved to the right number.
  CHECK(pp.image_mem_size == kk_purgatory_x86_64_image_mem_size);
  CHECK(pp.image_mem_size >= blob.size() + 16 * 1024);
  CHECK(pp.image_mem_size % 16 == 0);
  CHECK(pp.image_mem_size < 64 * 1024);  // a purgatory has no business being bigger
  CHECK(reinterpret_cast<std::uintptr_t>(blob.data()) % 16 == 0);
}

TEST_CASE("x86_64 purgatory blob: no relocations survived the link", "[purgatory]") {
  // check_relocs.py fails the build on any relocation in the static-PIE link and writes this
  // number only when it passed; embed.py refuses a stamp with a nonzero count. Seeing 0 here
  // proves the check ran on the link this blob came from.
  CHECK(kk_purgatory_x86_64_relocations == 0);
  // And a cheap look for the one absolute address the code needs (the GDT base): entry.S
  // computes it at run time, so the blob must not carry the GDT's link address as a u64.
  std::span<const unsigned char> blob = kk::purgatory_x86_64();
  static const unsigned char gdt_code[8] = {0xff, 0xff, 0x00, 0x00, 0x00, 0x9b, 0xaf, 0x00};
  std::size_t gdt_at = blob.size();
  for (std::size_t i = 0; i + 8 <= blob.size(); i += 8) {
    if (std::memcmp(blob.data() + i, gdt_code, 8) == 0) gdt_at = i - 16;  // entry 2 of the GDT
  }
  REQUIRE(gdt_at < blob.size());
  for (std::size_t i = 0; i + 8 <= blob.size(); i += 8) CHECK(get64(blob.data() + i) != gdt_at);
}

TEST_CASE("purgatory sha256: known answers (FIPS 180-4 examples)", "[purgatory]") {
  const std::string abc = "abc";
  const std::string two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  CHECK(hex(purgatory_sha256({{reinterpret_cast<const std::uint8_t*>(abc.data()), abc.size()}})) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(hex(purgatory_sha256({{reinterpret_cast<const std::uint8_t*>(two_blocks.data()),
                               two_blocks.size()}})) ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(hex(purgatory_sha256({})) ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("purgatory sha256 matches OpenSSL at every padding boundary", "[purgatory]") {
  // 55: the length still fits the final block; 56..63: padding spills into a second block;
  // 64: one full block then a padding-only block.
  for (std::size_t n : {0, 1, 3, 31, 32, 54, 55, 56, 57, 63, 64, 65, 111, 119, 120, 127, 128,
                        129, 1000, 4096, 65537}) {
    std::vector<std::uint8_t> buf = pattern(n, static_cast<std::uint32_t>(n) + 7);
    std::vector<Part> one{{buf.data(), buf.size()}};
    INFO("length " << n);
    CHECK(hex(purgatory_sha256(one)) == hex(openssl_sha256(one)));
  }
}

TEST_CASE("purgatory sha256 matches OpenSSL fed in pieces", "[purgatory]") {
  std::vector<std::uint8_t> buf = pattern(10000, 42);
  const Digest whole = openssl_sha256({{buf.data(), buf.size()}});
  for (std::size_t piece : {1, 7, 55, 56, 63, 64, 65, 100, 4096}) {
    std::vector<Part> parts;
    for (std::size_t off = 0; off < buf.size(); off += piece)
      parts.push_back({buf.data() + off, std::min(piece, buf.size() - off)});
    INFO("piece " << piece);
    CHECK(hex(purgatory_sha256(parts)) == hex(whole));
  }
}

TEST_CASE("purgatory sha256: one digest over up to 16 regions in order", "[purgatory]") {
  // What the loader computes (OpenSSL over each segment in turn) and what the purgatory checks
  // (its regions[] in the same order): both are the SHA-256 of the concatenation.
  std::vector<std::vector<std::uint8_t>> segs;
  std::size_t sizes[KK_PURGATORY_MAX_REGIONS] = {4096, 0, 1, 55, 56, 64, 12345, 3, 8192, 63, 65,
                                                 1, 0, 777, 2048, 100000};
  for (std::size_t i = 0; i < KK_PURGATORY_MAX_REGIONS; i++)
    segs.push_back(pattern(sizes[i], static_cast<std::uint32_t>(i)));
  std::vector<Part> regions;
  std::vector<std::uint8_t> concat;
  for (const std::vector<std::uint8_t>& s : segs) {
    regions.push_back({s.data(), s.size()});
    concat.insert(concat.end(), s.begin(), s.end());
  }
  const Digest d = purgatory_sha256(regions);
  CHECK(hex(d) == hex(openssl_sha256(regions)));
  CHECK(hex(d) == hex(openssl_sha256({{concat.data(), concat.size()}})));

  // Order matters: swapping two regions must change the digest (a misordered table is caught).
  std::swap(regions[0], regions[15]);
  CHECK(hex(purgatory_sha256(regions)) != hex(d));
}
