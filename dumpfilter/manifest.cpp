#include "dumpfilter/manifest.h"

#include <vector>

#include "lib/io/file.h"
#include "lib/io/number.h"
#include "lib/io/text_file.h"

namespace kk {

namespace {

constexpr std::string_view kHeading =
    "# dumpfilter manifest: digests of byte ranges of the dump; check: dumpfilter --verify DUMP\n";
constexpr std::string_view kExpected = "expected 'size BYTES' then 'xxh3-128 OFFSET LENGTH DIGEST' lines";

bool is_hex_digest(std::string_view s, DigestAlgo a) {
  if (s.size() != digest_hex_size(a)) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

std::vector<std::string_view> words(std::string_view line) {
  std::vector<std::string_view> w;
  while (!line.empty()) {
    size_t b = line.find_first_not_of(' ');
    if (b == std::string_view::npos) break;
    line.remove_prefix(b);
    size_t e = line.find(' ');
    w.push_back(line.substr(0, e));
    line = e == std::string_view::npos ? std::string_view{} : line.substr(e);
  }
  return w;
}

}  // namespace

std::string manifest_path(const std::string& dump_path) { return dump_path + ".sha256"; }

Result<std::string> digest_of_range(const ReadAt& read, DigestAlgo algo, u64 offset, u64 length) {
  std::vector<std::byte> buf(static_cast<size_t>(std::min<u64>(kDigestChunk, length)));
  RangeDigester h(algo);
  for (u64 done = 0; done < length;) {
    auto chunk = std::span(buf).first(static_cast<size_t>(std::min<u64>(buf.size(), length - done)));
    KK_TRY(read(offset + done, chunk));
    h.update(chunk);
    done += chunk.size();
  }
  return h.hex();
}

std::string format_manifest(const Manifest& m) {
  std::string s(kHeading);
  s += "size " + std::to_string(m.size) + "\n";
  for (const RangeDigest& r : m.ranges)
    s += std::string(digest_keyword(r.algo)) + " " + std::to_string(r.offset) + " " + std::to_string(r.length) + " " + r.hex + "\n";
  return s;
}

Result<Manifest> parse_manifest(std::string_view text, const std::string& manifest_name) {
  Manifest m;
  bool have_size = false;
  u64 covered = 0;
  size_t lineno = 0;
  auto bad = [&](const std::string& what) {
    return make_error(Errc::corrupt, manifest_name + ": line " + std::to_string(lineno) + ": " + what);
  };
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++lineno;
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string_view> w = words(line);
    if (w.empty()) return bad(std::string(kExpected));
    std::optional<DigestAlgo> algo = digest_from_keyword(w[0]);
    if (w[0] == "size" && w.size() == 2 && !have_size) {
      std::optional<u64> v = parse_unsigned(w[1], 10);
      if (!v) return bad("size is not a number");
      m.size = *v;
      have_size = true;
    } else if (algo && w.size() == 4 && have_size) {
      std::optional<u64> off = parse_unsigned(w[1], 10), len = parse_unsigned(w[2], 10);
      if (!off || !len || !is_hex_digest(w[3], *algo))
        return bad("is not '" + std::string(w[0]) + " OFFSET LENGTH DIGEST'");
      // The ranges must tile the file: a manifest that leaves bytes unchecked checks nothing.
      if (*off != covered || *len > m.size - covered)
        return bad("range " + std::to_string(*off) + "+" + std::to_string(*len) +
                   " does not follow the previous one inside the file's size");
      covered += *len;
      m.ranges.push_back({*off, *len, std::string(w[3]), *algo});
    } else {
      return bad(std::string(kExpected));
    }
  }
  if (!have_size) return make_error(Errc::corrupt, manifest_name + ": no 'size' line");
  if (covered != m.size)
    return make_error(Errc::corrupt, manifest_name + ": its ranges cover " + std::to_string(covered) +
                                         " of " + std::to_string(m.size) + " bytes");
  return m;
}

Result<void> write_manifest(const std::string& dump_path, const Manifest& m) {
  // Always replaced: an old manifest beside a new dump (the dump was removed, the manifest not)
  // describes nothing. A symbolic link there is still refused.
  KK_TRY_ASSIGN(OutputFile f, OutputFile::create(manifest_path(dump_path), true));
  KK_TRY(f.write_at(0, as_bytes_of(format_manifest(m))));
  return f.publish();
}

Result<void> verify_manifest(const std::string& dump_path) {
  std::string mpath = manifest_path(dump_path);
  KK_TRY_ASSIGN(std::string text, read_text_file(mpath));
  KK_TRY_ASSIGN(Manifest m, parse_manifest(text, mpath));
  KK_TRY_ASSIGN(InputFile in, InputFile::open(dump_path));
  if (in.size() != m.size)
    return make_error(Errc::corrupt, dump_path + ": is " + std::to_string(in.size()) + " bytes, " +
                                         mpath + " says " + std::to_string(m.size) +
                                         ": the dump was cut short or has grown");
  auto read = [&](u64 off, std::span<std::byte> out) { return in.read_at(off, out); };
  for (const RangeDigest& r : m.ranges) {
    KK_TRY_ASSIGN(std::string got, digest_of_range(read, r.algo, r.offset, r.length));
    if (got != r.hex)
      return make_error(Errc::corrupt,
                        dump_path + ": bytes " + std::to_string(r.offset) + "-" +
                            std::to_string(r.offset + r.length - 1) + " have " +
                            std::string(digest_title(r.algo)) + " " + got + ", " +
                            mpath + " says " + r.hex + ": the dump has changed or is damaged");
  }
  return {};
}

}  // namespace kk
