// kexec_purgatory_fixtures.h: for the tests that make purgatory segments: the parameter block
// read back from a segment, and OpenSSL's SHA-256 to check ours against.
#pragma once

#include <openssl/evp.h>

#include <array>
#include <catch2/catch.hpp>
#include <cstring>
#include <vector>

#include "kexec/segments.h"
#include "purgatory/include/purgatory_abi.h"

namespace kk::test {

inline std::array<std::byte, 32> openssl_sha256(const std::vector<std::byte>& data) {
  std::array<std::byte, 32> out{};
  unsigned n = 0;
  REQUIRE(EVP_Digest(data.data(), data.size(), reinterpret_cast<unsigned char*>(out.data()), &n,
                     EVP_sha256(), nullptr) == 1);
  REQUIRE(n == 32);
  return out;
}

inline kk_purgatory_params read_params(const Segment& s) {
  kk_purgatory_params p;
  REQUIRE(s.data.size() >= KK_PURGATORY_PARAMS_OFFSET + sizeof p);
  std::memcpy(&p, s.data.data() + KK_PURGATORY_PARAMS_OFFSET, sizeof p);
  return p;
}

}  // namespace kk::test
