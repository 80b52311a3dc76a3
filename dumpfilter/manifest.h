// manifest.h: the SHA-256 manifest beside each dump, "<dump>.sha256", in sha256sum's format
// ("<64 hex digits>  <name>\n", the name as the dump's base name) so `sha256sum -c` run in the
// dump's directory checks it too. The digest is taken by re-reading the finished file once, from
// the descriptor we wrote it through: the writers rewrite the header at the end and put page
// descriptors before data, so the bytes are not final in write order.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "io/file.h"
#include "io/result.h"

namespace kk {

// Incremental SHA-256 (the purgatory's own code, sha256_host.cpp); hex() gives the 64 lower-case
// digits, once.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(std::span<const std::byte> data);
  std::string hex();

 private:
  void* ctx_;  // kk_sha256_ctx, kept out of this header
};

std::string manifest_path(const std::string& dump_path);
// Pure: one line of the manifest.
std::string format_manifest(std::string_view hex_digest, std::string_view name);
// Pure: the digest the manifest gives for `name` (sha256sum's "  " or " *" separator).
Result<std::string> parse_manifest(std::string_view text, std::string_view name,
                                   const std::string& manifest_name);

// Digest of the finished (not yet published) output, then its manifest published beside it.
Result<std::string> digest_output(const OutputFile& out);
Result<void> write_manifest(const std::string& dump_path, const std::string& hex_digest);

// --verify: re-reads DUMPFILE and compares with DUMPFILE.sha256; a mismatch is an error naming
// the file.
Result<void> verify_manifest(const std::string& dump_path);

}  // namespace kk
