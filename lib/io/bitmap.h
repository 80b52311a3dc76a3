// bitmap.h: bit i of a byte array is bit i % 8 of byte i / 8 (the kdump bitmaps' order).
#pragma once

#include <bit>
#include <cstddef>
#include <cstring>
#include <span>

#include "lib/io/types.h"

namespace kk {

inline void set_bit(std::span<std::byte> bm, u64 i) { bm[i / 8] |= std::byte(1u << (i % 8)); }
inline void clear_bit(std::span<std::byte> bm, u64 i) { bm[i / 8] &= ~std::byte(1u << (i % 8)); }
inline bool test_bit(std::span<const std::byte> bm, u64 i) {
  return (std::to_integer<unsigned>(bm[i / 8]) >> (i % 8)) & 1;
}

// Set bits in all of b; eight bytes at a time where it can.
inline u64 popcount_bytes(std::span<const std::byte> b) {
  u64 n = 0;
  size_t i = 0;
  for (; i + 8 <= b.size(); i += 8) {
    u64 w;
    std::memcpy(&w, b.data() + i, sizeof w);
    n += static_cast<u64>(std::popcount(w));
  }
  for (; i < b.size(); ++i) n += static_cast<u64>(std::popcount(std::to_integer<unsigned>(b[i])));
  return n;
}

// Set bits [from, to) of bm.
inline u64 count_bits(std::span<const std::byte> bm, u64 from, u64 to) {
  u64 n = 0;
  while (from < to && from % 8) n += test_bit(bm, from++);
  u64 whole_end = to / 8 * 8;
  if (from < whole_end) {
    n += popcount_bytes(bm.subspan(from / 8, (whole_end - from) / 8));
    from = whole_end;
  }
  while (from < to) n += test_bit(bm, from++);
  return n;
}

}  // namespace kk
