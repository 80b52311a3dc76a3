// purgatory_image.h: readies our purgatory for one load: copies the embedded blob, fills its
// parameter block (kernel entry, boot argument, regions to check) and the SHA-256 of those
// regions, computed here with OpenSSL over exactly the bytes the kernel will copy.
#pragma once

#include <array>
#include <span>

#include "kexec/segments.h"

namespace kk {

// A copy the purgatory makes after its checks pass, just before it jumps (kexec -p on x86_64:
// the low memory the capture kernel is about to reuse). len 0: none.
struct BackupCopy {
  u64 src = 0;
  u64 dst = 0;
  u64 len = 0;
};

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

}  // namespace kk
