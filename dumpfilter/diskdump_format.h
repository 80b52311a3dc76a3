// diskdump_format.h: the kdump-compressed ("diskdump") on-disk layout, version 6, as makedumpfile
// writes it and crash, libkdumpfile and drgn read it (makedumpfile's IMPLEMENTATION file and
// diskdump_mod.h describe it). The structs use the writing machine's C types (long, off_t,
// timeval): these are the LP64 little-endian layouts of x86_64 and arm64.
#pragma once

#include "lib/compress/codec.h"
#include "lib/io/types.h"

namespace kk::diskdump {

inline constexpr char kSignature[8] = {'K', 'D', 'U', 'M', 'P', ' ', ' ', ' '};
inline constexpr i32 kHeaderVersion = 6;
inline constexpr size_t kUtsLen = 65;

// page_desc.flags and disk_dump_header.status
// page_desc.flags and disk_dump_header.status; the codecs' bits come from lib/compress's table.
inline constexpr u32 kCompressedZlib = diskdump_codec_flag(CodecKind::zlib);
inline constexpr u32 kCompressedLzo = diskdump_codec_flag(CodecKind::lzo);
inline constexpr u32 kCompressedSnappy = diskdump_codec_flag(CodecKind::snappy);
inline constexpr u32 kIncomplete = 0x8;  // status only
inline constexpr u32 kCompressedZstd = diskdump_codec_flag(CodecKind::zstd);

struct NewUtsname {
  std::array<char, kUtsLen> sysname, nodename, release, version, machine, domainname;
};
static_assert(sizeof(NewUtsname) == 390);

struct DiskDumpHeader {
  std::array<char, 8> signature;
  il32 header_version;
  NewUtsname utsname;
  std::array<u8, 6> pad;  // struct timeval is 8-byte aligned in the C layout
  il64 tv_sec, tv_usec;
  ul32 status;
  il32 block_size;
  il32 sub_hdr_size;      // in blocks
  ul32 bitmap_blocks;     // both bitmaps together, in blocks
  ul32 max_mapnr;         // truncated to 32 bits: see KdumpSubHeader::max_mapnr_64
  ul32 total_ram_blocks, device_blocks, written_blocks, current_cpu;
  il32 nr_cpus;
};
static_assert(sizeof(DiskDumpHeader) == 464 && alignof(DiskDumpHeader) == 1);
static_assert(offsetof(DiskDumpHeader, tv_sec) == 408);
static_assert(offsetof(DiskDumpHeader, status) == 424);
static_assert(offsetof(DiskDumpHeader, nr_cpus) == 460);

struct KdumpSubHeader {
  ul64 phys_base;
  il32 dump_level;
  il32 split;
  ul64 start_pfn, end_pfn;                // 32-bit era, kept for old readers
  il64 offset_vmcoreinfo;
  ul64 size_vmcoreinfo;
  il64 offset_note;
  ul64 size_note;
  il64 offset_eraseinfo;
  ul64 size_eraseinfo;
  ul64 start_pfn_64, end_pfn_64, max_mapnr_64;
};
static_assert(sizeof(KdumpSubHeader) == 104 && alignof(KdumpSubHeader) == 1);
static_assert(offsetof(KdumpSubHeader, offset_eraseinfo) == 64);

struct PageDesc {
  il64 offset;     // of the page data in the file
  ul32 size;       // stored bytes
  ul32 flags;      // codec, or 0 for raw
  ul64 page_flags; // unused by readers; 0
};
static_assert(sizeof(PageDesc) == 24 && alignof(PageDesc) == 1);

}  // namespace kk::diskdump
