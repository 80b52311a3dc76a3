// manifest.h: the manifest beside each dump, "<dump>.sha256" (the name older tools and kdumpctl
// know; each line names its digest). It gives the file's size and a digest of each of
// consecutive byte ranges that tile it:
//
//   # dumpfilter manifest: digests of byte ranges of the dump; check: dumpfilter --verify DUMP
//   size 1440492372
//   xxh3-128 0 16035840 <32 hex digits>
//   xxh3-128 16035840 1424456532 <32 hex digits>
//
// The digest is XXH3-128 (range_digest.h: it guards against accidental damage, at a few percent
// of SHA-256's cost); manifests written before with "sha256 OFFSET LENGTH <64 hex digits>" lines
// still verify. Ranges rather than one digest of the whole file because a whole-file digest can
// only be taken after the dump is finished (the writers put page descriptors before the data and
// rewrite the header last), by reading it all back: on a -l -d 1 dump that cost more than the
// dump itself. The data region is written in order, so it is hashed as it streams out
// (digest_sink.h); only the small head is read back. Any one range can be checked by hand
// (xxhsum from Debian's xxhash package; sha256sum for old lines):
//   tail -c +$((OFFSET + 1)) DUMP | head -c LENGTH | xxh128sum
#pragma once

#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dumpfilter/range_digest.h"
#include "lib/io/result.h"
#include "lib/io/types.h"

namespace kk {

struct RangeDigest {
  u64 offset = 0;
  u64 length = 0;
  std::string hex;  // lower-case digits, digest_hex_size(algo) of them
  DigestAlgo algo = DigestAlgo::xxh3_128;
  bool operator==(const RangeDigest&) const = default;
};

struct Manifest {
  u64 size = 0;
  std::vector<RangeDigest> ranges;  // in order, tiling [0, size)
  bool operator==(const Manifest&) const = default;
};

std::string manifest_path(const std::string& dump_path);

// The digest of bytes [offset, offset + length) of a file, read through `read` kDigestChunk bytes
// at a time (the bound on memory whatever the dump's size).
inline constexpr size_t kDigestChunk = 64u << 10;  // 64 KiB: a capture kernel's RSS (issue 20)
using ReadAt = std::function<Result<void>(u64 offset, std::span<std::byte> out)>;
Result<std::string> digest_of_range(const ReadAt& read, DigestAlgo algo, u64 offset, u64 length);
// Pure: the manifest's text, and back. parse_manifest checks that the ranges tile [0, size).
std::string format_manifest(const Manifest& m);
Result<Manifest> parse_manifest(std::string_view text, const std::string& manifest_name);

// Written beside the dump (0600, never through a symbolic link, replacing an old one).
Result<void> write_manifest(const std::string& dump_path, const Manifest& m);

// --verify: re-reads DUMPFILE and checks it against DUMPFILE.sha256; a mismatch is one error
// naming the file and the byte range that differs.
Result<void> verify_manifest(const std::string& dump_path);

}  // namespace kk
