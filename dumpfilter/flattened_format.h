// flattened_format.h: makedumpfile's flattened stream, used where the random-access formats cannot
// be written (standard output, ssh, raw devices). A 4096-byte header block, then records: a
// 16-byte big-endian (offset, size) header followed by `size` bytes that belong at `offset` of the
// rebuilt file. Records may come in any order and may overwrite earlier ones; a record with
// offset == kEndOffset ends the stream. Layout from makedumpfile's IMPLEMENTATION file.
#pragma once

#include "lib/io/types.h"

namespace kk::flattened {

inline constexpr char kSignature[16] = {'m', 'a', 'k', 'e', 'd', 'u', 'm', 'p',
                                        'f', 'i', 'l', 'e', 0, 0, 0, 0};
inline constexpr i64 kType = 1;
inline constexpr i64 kVersion = 1;
inline constexpr u64 kHeaderBlock = 4096;  // the header is padded with zeros to this size
inline constexpr i64 kEndOffset = -1;      // END_FLAG_FLAT_HEADER: offset and size both -1

struct Header {
  std::array<char, 16> signature;
  ib64 type;
  ib64 version;
};
static_assert(sizeof(Header) == 32 && alignof(Header) == 1);

struct RecordHeader {
  ib64 offset;
  ib64 size;
};
static_assert(sizeof(RecordHeader) == 16 && alignof(RecordHeader) == 1);

}  // namespace kk::flattened
