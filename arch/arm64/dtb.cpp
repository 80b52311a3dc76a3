#include "arch/arm64/dtb.h"

extern "C" {
#include <libfdt.h>
}

#include <cstring>

#include "lib/io/hex.h"

namespace kk::arm64 {

namespace {

Error fdt_error(const std::string& what, int err) {
  return make_error(Errc::corrupt, "device tree: " + what + ": " + fdt_strerror(err));
}

// #address-cells / #size-cells of the root node; the defaults (2, 1) per the DT spec. nullopt
// unless both are 1 or 2: 64-bit addresses need no more, and a blob's larger counts would
// overflow the byte counts computed from them.
std::optional<std::pair<int, int>> root_cells(const void* fdt) {
  u32 ac = 2, sc = 1;
  int len = 0;
  if (const auto* p = static_cast<const fdt32_t*>(fdt_getprop(fdt, 0, "#address-cells", &len));
      p && len == 4)
    ac = fdt32_to_cpu(*p);
  if (const auto* p = static_cast<const fdt32_t*>(fdt_getprop(fdt, 0, "#size-cells", &len));
      p && len == 4)
    sc = fdt32_to_cpu(*p);
  if (ac < 1 || ac > 2 || sc < 1 || sc > 2) return std::nullopt;
  return std::pair{static_cast<int>(ac), static_cast<int>(sc)};
}

// A (start, size) pair as big-endian cells.
std::vector<std::byte> encode_range(const Range& r, int ac, int sc) {
  std::vector<std::byte> out;
  auto put = [&](u64 v, int cells) {
    for (int i = cells - 1; i >= 0; --i) {
      u32 c = static_cast<u32>(v >> (32 * i));
      for (int b = 3; b >= 0; --b) out.push_back(std::byte((c >> (8 * b)) & 0xff));
    }
  };
  put(r.start, ac);
  put(r.size, sc);
  return out;
}

u64 decode_cells(const std::byte* p, int cells) {
  u64 v = 0;
  for (int i = 0; i < cells * 4; ++i) v = (v << 8) | std::to_integer<u64>(p[i]);
  return v;
}

Result<void> set_or_delete(void* fdt, int node, const char* name,
                           const std::optional<std::vector<std::byte>>& value) {
  int err = value ? fdt_setprop(fdt, node, name, value->data(), static_cast<int>(value->size()))
                  : fdt_delprop(fdt, node, name);
  if (err == -FDT_ERR_NOTFOUND && !value) return {};
  if (err) return fdt_error(std::string("setting /chosen/") + name, err);
  return {};
}

std::vector<std::byte> be64(u64 v) {
  std::vector<std::byte> out(8);
  for (int i = 0; i < 8; ++i) out[size_t(i)] = std::byte((v >> (56 - 8 * i)) & 0xff);
  return out;
}

Result<void> check_blob(std::span<const std::byte> dtb) {
  if (dtb.size() < sizeof(fdt_header))
    return make_error(Errc::truncated, "device tree: " + std::to_string(dtb.size()) + " bytes");
  int err = fdt_check_header(dtb.data());
  if (err) return fdt_error("bad header", err);
  if (fdt_totalsize(dtb.data()) > dtb.size())
    return make_error(Errc::truncated, "device tree: totalsize " + hex(fdt_totalsize(dtb.data())) +
                                           " is more than the " + hex(dtb.size()) + " bytes given");
  // fdt_check_header trusts the blocks' contents. fdt_open_into sizes its copy of the memory
  // reservation map from fdt_num_mem_rsv without checking it for an error (a map with no
  // terminating entry gives a negative size to memmove), and the tag walkers assume a sane
  // structure block: check both whole before any libfdt call reads them.
  if (int n = fdt_num_mem_rsv(dtb.data()); n < 0) return fdt_error("memory reservation map", n);
  err = fdt_check_full(dtb.data(), fdt_totalsize(dtb.data()));
  if (err) return fdt_error("structure", err);
  return {};
}

}  // namespace

Result<std::vector<std::byte>> edit_chosen(std::span<const std::byte> dtb, const ChosenEdits& e) {
  KK_TRY(check_blob(dtb));
  // Room for the new properties: the command line plus a few hundred bytes of cells and names.
  size_t room = fdt_totalsize(dtb.data()) + (e.bootargs ? e.bootargs->size() : 0) + 1024;
  std::vector<std::byte> out(room);
  int err = fdt_open_into(dtb.data(), out.data(), static_cast<int>(out.size()));
  if (err) return fdt_error("opening", err);
  void* fdt = out.data();
  int chosen = fdt_path_offset(fdt, "/chosen");
  if (chosen == -FDT_ERR_NOTFOUND) chosen = fdt_add_subnode(fdt, 0, "chosen");
  if (chosen < 0) return fdt_error("/chosen", chosen);

  const std::optional<std::pair<int, int>> cells = root_cells(fdt);
  if (!cells)
    return make_error(Errc::corrupt, "device tree: root #address-cells / #size-cells are not 1 or 2");
  auto [ac, sc] = *cells;
  if (e.bootargs) {
    err = fdt_setprop_string(fdt, chosen, "bootargs", e.bootargs->c_str());
    if (err) return fdt_error("setting /chosen/bootargs", err);
  }
  // The kernel reads linux,initrd-* as one or two cells; kexec loaders write 64-bit values.
  std::optional<std::vector<std::byte>> is, ie, ech, umr;
  if (e.initrd) {
    is = be64(e.initrd->start);
    ie = be64(e.initrd->start + e.initrd->size);
  }
  if (e.elfcorehdr) ech = encode_range(*e.elfcorehdr, ac, sc);
  if (e.usable_memory) umr = encode_range(*e.usable_memory, ac, sc);
  KK_TRY(set_or_delete(fdt, chosen, "linux,initrd-start", is));
  KK_TRY(set_or_delete(fdt, chosen, "linux,initrd-end", ie));
  KK_TRY(set_or_delete(fdt, chosen, "linux,elfcorehdr", ech));
  KK_TRY(set_or_delete(fdt, chosen, "linux,usable-memory-range", umr));
  err = fdt_pack(fdt);
  if (err) return fdt_error("packing", err);
  out.resize(fdt_totalsize(fdt));
  return out;
}

Result<ChosenView> read_chosen(std::span<const std::byte> dtb) {
  KK_TRY(check_blob(dtb));
  const void* fdt = dtb.data();
  ChosenView v;
  int chosen = fdt_path_offset(fdt, "/chosen");
  if (chosen == -FDT_ERR_NOTFOUND) return v;
  if (chosen < 0) return fdt_error("/chosen", chosen);
  // Plain variables, not a structured binding: the lambdas below capture them (clang 14 cannot
  // capture structured bindings).
  const std::optional<std::pair<int, int>> cells = root_cells(fdt);
  const int ac = cells ? cells->first : 0, sc = cells ? cells->second : 0;  // 0: no ranges read
  int len = 0;
  if (const char* s = static_cast<const char*>(fdt_getprop(fdt, chosen, "bootargs", &len)); s && len > 0)
    v.bootargs = std::string(s, strnlen(s, static_cast<size_t>(len)));
  auto number = [&](const char* name) -> std::optional<u64> {
    const auto* p = static_cast<const std::byte*>(fdt_getprop(fdt, chosen, name, &len));
    if (!p || (len != 4 && len != 8)) return std::nullopt;
    return decode_cells(p, len / 4);
  };
  v.initrd_start = number("linux,initrd-start");
  v.initrd_end = number("linux,initrd-end");
  auto range = [&](const char* name) -> std::optional<Range> {
    const auto* p = static_cast<const std::byte*>(fdt_getprop(fdt, chosen, name, &len));
    if (!cells || !p || len != 4 * (ac + sc)) return std::nullopt;
    return Range{decode_cells(p, ac), decode_cells(p + 4 * ac, sc)};
  };
  v.elfcorehdr = range("linux,elfcorehdr");
  v.usable_memory = range("linux,usable-memory-range");
  return v;
}

std::optional<u64> stdout_pl011(std::span<const std::byte> dtb) {
  if (!check_blob(dtb)) return std::nullopt;
  const void* fdt = dtb.data();
  int chosen = fdt_path_offset(fdt, "/chosen");
  int len = 0;
  const char* path = chosen < 0 ? nullptr
                                : static_cast<const char*>(fdt_getprop(fdt, chosen, "stdout-path", &len));
  if (!path || len <= 0) return std::nullopt;
  std::string p(path, strnlen(path, static_cast<size_t>(len)));
  p = p.substr(0, p.find(':'));  // "serial0:115200n8": options after the colon
  int node = fdt_path_offset(fdt, p.c_str());
  if (node < 0 || fdt_node_check_compatible(fdt, node, "arm,pl011") != 0) return std::nullopt;
  const std::optional<std::pair<int, int>> cells = root_cells(fdt);
  if (!cells) return std::nullopt;
  auto [ac, sc] = *cells;
  const auto* reg = static_cast<const std::byte*>(fdt_getprop(fdt, node, "reg", &len));
  if (!reg || len < 4 * (ac + sc)) return std::nullopt;
  return decode_cells(reg, ac);
}

}  // namespace kk::arm64
