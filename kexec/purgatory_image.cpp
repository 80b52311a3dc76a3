#include "kexec/purgatory_image.h"

#include <cstdio>
#include <cstring>

#include "lib/hash/sha256.h"
#include "purgatory/include/purgatory_abi.h"

namespace kk {

Result<std::array<std::byte, 32>> segments_digest(const std::vector<Segment>& checked) {
  Sha256 h;  // SHA-NI where the CPU has it: OpenSSL's speed without libcrypto's memory
  for (const Segment& s : checked) h.update(s.data);
  return h.digest();
}

Result<Segment> make_purgatory_segment(std::span<const unsigned char> blob, const PurgatoryRequest& req,
                                       const std::vector<Segment>& checked, Allocator& alloc) {
  if (blob.size() < KK_PURGATORY_PARAMS_OFFSET + sizeof(kk_purgatory_params))
    return make_error(Errc::corrupt, "purgatory: embedded blob is too small");
  kk_purgatory_params p;
  std::memcpy(&p, blob.data() + KK_PURGATORY_PARAMS_OFFSET, sizeof p);
  if (p.magic != KK_PURGATORY_MAGIC || p.abi_version != KK_PURGATORY_ABI_VERSION)
    return make_error(Errc::corrupt, "purgatory: embedded blob has the wrong magic or ABI version");
  if (p.image_mem_size < blob.size() || p.image_mem_size > (1u << 20))
    return make_error(Errc::corrupt, "purgatory: implausible image size " + std::to_string(p.image_mem_size));
  if (checked.size() > KK_PURGATORY_MAX_REGIONS)
    return make_error(Errc::unsupported, "purgatory: more than " +
                                             std::to_string(KK_PURGATORY_MAX_REGIONS) + " segments to check");
  p.entry = req.entry;
  p.arg = req.arg;
  p.console_port = req.console_port;
  p.skip_checks = req.skip_checks ? 1 : 0;
  p.backup_src = req.backup.src;
  p.backup_dst = req.backup.dst;
  p.backup_len = req.backup.len;
  p.nr_regions = 0;
  for (const Segment& s : checked) {
    if (s.data.empty()) continue;
    p.regions[p.nr_regions].start = s.mem;
    p.regions[p.nr_regions].len = s.data.size();
    ++p.nr_regions;
  }
  Result<std::array<std::byte, 32>> digest = segments_digest(checked);
  if (!digest) return std::move(digest).error();
  std::memcpy(p.digest, digest->data(), sizeof p.digest);
  if (req.spoil_digest) p.digest[0] ^= 0x01;  // --test-spoil-digest: one bit, after hashing

  const u64 size = align_up(p.image_mem_size, kPageSize);
  Result<u64> at = alloc.take("purgatory", size, {.hi = k4G, .top_down = true});
  // The x86_64 purgatory is position-independent and runs in the kexec identity map with a
  // 64-bit GDT base, so it may sit above 4 GiB: needed when the crash reservation is entirely
  // there (crashkernel=X,high; kexec_load wants every segment inside crashk_res).
  if (!at && req.allow_above_4g)
    at = alloc.take("purgatory", size, {.top_down = true});
  if (!at) return std::move(at).error();
  Segment seg;
  seg.what = "purgatory";
  std::vector<std::byte> bytes(blob.size());
  std::memcpy(bytes.data(), blob.data(), blob.size());
  std::memcpy(bytes.data() + KK_PURGATORY_PARAMS_OFFSET, &p, sizeof p);
  seg.data = std::move(bytes);
  seg.mem = *at;
  seg.memsz = size;
  return seg;
}

namespace {
std::string hex_bytes(std::span<const u8> bytes) {
  std::string out;
  for (u8 b : bytes) {
    char two[3];
    std::snprintf(two, sizeof two, "%02x", b);
    out += two;
  }
  return out;
}
}  // namespace

void print_purgatory_digest(const Segment& seg, const std::vector<Segment>& checked, bool spoiled) {
  kk_purgatory_params p;
  if (seg.data.size() < KK_PURGATORY_PARAMS_OFFSET + sizeof p) return;
  std::memcpy(&p, seg.data.data() + KK_PURGATORY_PARAMS_OFFSET, sizeof p);
  std::fprintf(stderr, "kexec: purgatory digest %s over %u regions\n", hex_bytes(p.digest).c_str(), p.nr_regions);
  if (!spoiled) return;
  Result<std::array<std::byte, 32>> real = segments_digest(checked);
  if (real)
    std::fprintf(stderr, "kexec: --test-spoil-digest: one bit flipped; the segments' digest is %s\n",
                 hex_bytes({reinterpret_cast<const u8*>(real->data()), real->size()}).c_str());
}

}  // namespace kk
