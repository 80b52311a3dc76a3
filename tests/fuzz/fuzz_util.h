// fuzz_util.h: what the harnesses share. A fuzz input is cut into parts at a separator so one
// input can carry a vmcoreinfo text and a memory image; the fake memories map every address onto
// the input's bytes, so any pointer the code under test follows leads into data the fuzzer chose.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lib/io/hex.h"
#include "lib/io/result.h"
#include "lib/kernel/phys_reader.h"
#include "dumpfilter/kernel_reader.h"

namespace kk::fuzz {

inline std::span<const std::byte> bytes_of(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const std::byte*>(data), size};
}

// The text before the first NUL, and the bytes after it (empty when there is no NUL).
struct TextAndBlob {
  std::string_view text;
  std::span<const std::byte> blob;
};
inline TextAndBlob split_at_nul(const uint8_t* data, size_t size) {
  if (size == 0) return {};
  const uint8_t* nul = static_cast<const uint8_t*>(std::memchr(data, 0, size));
  if (!nul) return {{reinterpret_cast<const char*>(data), size}, {}};
  size_t n = static_cast<size_t>(nul - data);
  return {{reinterpret_cast<const char*>(data), n}, bytes_of(nul + 1, size - n - 1)};
}

// Little-endian numbers taken from the front of a span; zero once it is used up.
class Taker {
 public:
  explicit Taker(std::span<const std::byte> b) : b_(b) {}
  template <class T>
  T take() {
    T v{};
    size_t n = std::min(sizeof v, b_.size());
    if (n) std::memcpy(&v, b_.data(), n);
    b_ = b_.subspan(n);
    return v;
  }
  std::span<const std::byte> rest() const { return b_; }

 private:
  std::span<const std::byte> b_;
};

// Memory where address A holds blob[(A - base) % blob.size()] for A >= base, and nothing below
// base (reads there fail, so "not mapped" paths are fuzzed too). An empty blob maps nothing.
class ModuloMemory {
 public:
  ModuloMemory(std::span<const std::byte> blob, u64 base) : blob_(blob), base_(base) {}
  Result<void> read(u64 addr, std::span<std::byte> out) const {
    if (blob_.empty() || addr < base_ || out.size() > (64u << 20))
      return make_error(Errc::missing, "address " + hex(addr) + " is not mapped");
    u64 off = (addr - base_) % blob_.size();
    for (size_t done = 0; done < out.size();) {
      size_t n = std::min<u64>(out.size() - done, blob_.size() - off);
      std::memcpy(out.data() + done, blob_.data() + off, n);
      done += n;
      off = 0;
    }
    return {};
  }

 private:
  std::span<const std::byte> blob_;
  u64 base_;
};

class ModuloKernel final : public KernelReader {
 public:
  ModuloKernel(std::span<const std::byte> blob, u64 base) : m_(blob, base) {}
  Result<void> read_virt(u64 vaddr, std::span<std::byte> out) const override {
    return m_.read(vaddr, out);
  }

 private:
  ModuloMemory m_;
};

class ModuloPhys final : public PhysReader {
 public:
  ModuloPhys(std::span<const std::byte> blob, u64 base) : m_(blob, base) {}
  Result<void> read_phys(u64 paddr, std::span<std::byte> out) const override {
    return m_.read(paddr, out);
  }

 private:
  ModuloMemory m_;
};

}  // namespace kk::fuzz
