// sha256.h: incremental SHA-256 for dumpfilter's manifests and kexec's segment digests. Blocks go
// through the CPU's SHA extensions where it has them (x86-64 SHA-NI: about ten times the portable
// code), else through the purgatory's own portable code (purgatory/sha256.c). Not OpenSSL: linking
// libcrypto costs dumpfilter about 1.2 MB of resident memory and kexec 1.5-3.5 MB of its peak, and
// a capture kernel has little.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace kk {

class Sha256 {
 public:
  enum class Engine { best, portable };
  explicit Sha256(Engine e = Engine::best);
  void update(std::span<const std::byte> data);
  // The 32 digest bytes; once (the state is spent).
  std::array<std::byte, 32> digest();
  // The 64 lower-case hex digits; once (the state is spent).
  std::string hex();
  // Which engine `best` picks on this CPU ("sha-ni" or "portable").
  static const char* best_engine();

 private:
  using BlockFn = void (*)(uint32_t h[8], const unsigned char* blocks, size_t count);
  BlockFn blocks_;
  uint32_t h_[8];
  uint64_t total_ = 0;
  unsigned char buf_[64];
  size_t fill_ = 0;
};

}  // namespace kk
