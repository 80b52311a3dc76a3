// purgatory_image.h: readies our purgatory for one load: copies the embedded blob, fills its
// parameter block (kernel entry, boot argument, regions to check) and the SHA-256 of those
// regions, computed here over exactly the bytes the kernel will copy (dumpfilter/sha256.h:
// SHA-NI or the purgatory's own code; not OpenSSL, whose library costs kexec 1.5-3.5 MB of RSS).
#pragma once

#include <array>
#include <span>

#include "kexec/segments.h"

namespace kk {

struct PurgatoryRequest {
  u64 entry = 0;         // kernel entry (x86_64: startup_64)
  u64 arg = 0;           // x86_64: boot_params (%rsi)
  u64 console_port = 0;  // UART for its messages; 0: silent
  bool skip_checks = false;
  // Placement: below 4 GiB, or (true) below 4 GiB when it fits and else anywhere in the
  // allocator's ranges. x86_64 sets it: a crashkernel=X,high reservation has no room below.
  bool allow_above_4g = false;
  // Testing aid (kexec --test-spoil-digest): after the digest is computed, flip its lowest bit
  // (bit 0 of byte 0) in the parameter block, so the purgatory's own SHA-256 cannot match and it
  // must refuse to enter the kernel. Regions and everything else stay as they would be.
  bool spoil_digest = false;
  BackupCopy backup{};
};

// One SHA-256 over every segment's data in order. Only the data: the kernel zero-fills the rest
// of memsz, and the purgatory hashes exactly [mem, mem + data.size()) of each.
Result<std::array<std::byte, 32>> segments_digest(const std::vector<Segment>& checked);

// Builds the purgatory segment from `blob` (checked: magic, ABI version, size), placed by `alloc`
// below 4 GiB (see PurgatoryRequest::allow_above_4g).
Result<Segment> make_purgatory_segment(std::span<const unsigned char> blob, const PurgatoryRequest& req,
                                       const std::vector<Segment>& checked, Allocator& alloc);

// -d: the digest the purgatory will check, as it prints it on a mismatch ("expected ..."), so a
// console log can be compared with the load. With --test-spoil-digest also the segments' real
// digest (what the purgatory will compute: "computed ...").
void print_purgatory_digest(const Segment& seg, const std::vector<Segment>& checked, bool spoiled);

}  // namespace kk
