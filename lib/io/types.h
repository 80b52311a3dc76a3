// types.h: fixed-width names and endian-typed fields for on-disk layouts. Fields are byte arrays so
// a layout struct has alignment 1 and can be read from any offset (STYLE.md 4).
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace kk {

using u8 = std::uint8_t;
using u16 = std::uint16_t;
using u32 = std::uint32_t;
using u64 = std::uint64_t;
using i32 = std::int32_t;
using i64 = std::int64_t;

// g++ 12 has no std::byteswap.
inline u16 bswap(u16 v) { return __builtin_bswap16(v); }
inline u32 bswap(u32 v) { return __builtin_bswap32(v); }
inline u64 bswap(u64 v) { return __builtin_bswap64(v); }
inline i32 bswap(i32 v) { return static_cast<i32>(__builtin_bswap32(static_cast<u32>(v))); }
inline i64 bswap(i64 v) { return static_cast<i64>(__builtin_bswap64(static_cast<u64>(v))); }

template <class T, std::endian E>
struct Int {
  std::array<std::byte, sizeof(T)> raw{};

  Int() = default;
  Int(T v) { *this = v; }  // NOLINT: implicit on purpose, fields read like integers
  operator T() const {     // NOLINT
    T v;
    std::memcpy(&v, raw.data(), sizeof v);
    if constexpr (sizeof(T) > 1 && E != std::endian::native) v = bswap(v);
    return v;
  }
  Int& operator=(T v) {
    if constexpr (sizeof(T) > 1 && E != std::endian::native) v = bswap(v);
    std::memcpy(raw.data(), &v, sizeof v);
    return *this;
  }
};

using ul16 = Int<u16, std::endian::little>;
using ul32 = Int<u32, std::endian::little>;
using ul64 = Int<u64, std::endian::little>;
using il32 = Int<i32, std::endian::little>;
using il64 = Int<i64, std::endian::little>;
using ub64 = Int<u64, std::endian::big>;
using ib64 = Int<i64, std::endian::big>;

static_assert(sizeof(ul64) == 8 && alignof(ul64) == 1);

// Load a little-endian integer from raw bytes at any address.
template <class T>
inline T load_le(const std::byte* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  if constexpr (sizeof(T) > 1 && std::endian::native != std::endian::little) v = bswap(v);
  return v;
}

inline u64 align_up(u64 v, u64 a) { return (v + a - 1) / a * a; }
inline u64 div_round_up(u64 v, u64 d) { return (v + d - 1) / d; }

}  // namespace kk
