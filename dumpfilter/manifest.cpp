#include "dumpfilter/manifest.h"

#include <vector>

#include "io/text_file.h"
#include "purgatory/sha256.h"

namespace kk {

Sha256::Sha256() : ctx_(new kk_sha256_ctx) { kk_sha256_init(static_cast<kk_sha256_ctx*>(ctx_)); }

Sha256::~Sha256() { delete static_cast<kk_sha256_ctx*>(ctx_); }

void Sha256::update(std::span<const std::byte> data) {
  kk_sha256_update(static_cast<kk_sha256_ctx*>(ctx_), data.data(), data.size());
}

std::string Sha256::hex() {
  uint8_t md[KK_SHA256_DIGEST_SIZE];
  kk_sha256_final(static_cast<kk_sha256_ctx*>(ctx_), md);
  static constexpr char digits[] = "0123456789abcdef";
  std::string s;
  for (uint8_t b : md) {
    s += digits[b >> 4];
    s += digits[b & 15];
  }
  return s;
}

std::string manifest_path(const std::string& dump_path) { return dump_path + ".sha256"; }

std::string format_manifest(std::string_view hex_digest, std::string_view name) {
  return std::string(hex_digest) + "  " + std::string(name) + "\n";
}

static bool is_hex_digest(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
  return true;
}

Result<std::string> parse_manifest(std::string_view text, std::string_view name,
                                   const std::string& manifest_name) {
  size_t lineno = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++lineno;
    if (line.empty()) continue;
    if (line.size() < 67 || !is_hex_digest(line.substr(0, 64)) || line[64] != ' ' ||
        (line[65] != ' ' && line[65] != '*'))
      return make_error(Errc::corrupt, manifest_name + ": line " + std::to_string(lineno) +
                                           " is not '<sha256>  <name>'");
    if (line.substr(66) != name) continue;
    std::string d(line.substr(0, 64));
    for (char& c : d)
      if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    return d;
  }
  return make_error(Errc::missing, manifest_name + ": has no line for " + std::string(name));
}

Result<std::string> digest_output(const OutputFile& out) {
  Sha256 h;
  KK_TRY(out.read_all([&](std::span<const std::byte> b) { h.update(b); }));
  return h.hex();
}

Result<void> write_manifest(const std::string& dump_path, const std::string& hex_digest) {
  // Always replaced: an old manifest beside a new dump (the dump was removed, the manifest not)
  // describes nothing. A symbolic link there is still refused.
  Result<OutputFile> m = OutputFile::create(manifest_path(dump_path), true);
  if (!m) return std::move(m).error();
  KK_TRY(m->write_at(0, as_bytes_of(format_manifest(hex_digest, base_of(dump_path)))));
  return m->publish();
}

Result<void> verify_manifest(const std::string& dump_path) {
  std::string mpath = manifest_path(dump_path);
  Result<std::string> text = read_text_file(mpath);
  if (!text) return std::move(text).error();
  Result<std::string> want = parse_manifest(*text, base_of(dump_path), mpath);
  if (!want) return std::move(want).error();
  Result<InputFile> in = InputFile::open(dump_path);
  if (!in) return std::move(in).error();
  Sha256 h;
  std::vector<std::byte> buf(256u << 10);  // bound: 256 KiB at a time
  for (u64 off = 0; off < in->size();) {
    Result<size_t> n = in->read_some_at(off, buf);
    if (!n) return std::move(n).error();
    if (*n == 0) break;
    h.update(std::span(buf).first(*n));
    off += *n;
  }
  std::string got = h.hex();
  if (got != *want)
    return make_error(Errc::corrupt, dump_path + ": SHA-256 " + got + " does not match " + mpath +
                                         " (" + *want + "): the dump has changed or is damaged");
  return {};
}

}  // namespace kk
