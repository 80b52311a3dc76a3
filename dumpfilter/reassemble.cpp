// reassemble.cpp: --reassemble. See reassemble.h for the layout of the result.
#include "dumpfilter/reassemble.h"

#include <algorithm>
#include <cstring>
#include <numeric>

#include "dumpfilter/dump_input.h"
#include "dumpfilter/input_flattened.h"
#include "lib/io/hex.h"

namespace kk {

namespace {

using diskdump::KdumpSubHeader;
using diskdump::PageDesc;

constexpr size_t kCopyBuffer = 1 << 20;
constexpr u64 kDescBatch = 4096;  // descriptors read and rewritten at a time (96 KiB)

std::string range_of(const KdumpLayout& l) { return "pfns " + hex(l.start_pfn) + "-" + hex(l.end_pfn); }

// The header fields that must agree across a set; "" when they do.
std::string header_difference(const KdumpInput& a, const KdumpInput& b) {
  const KdumpLayout &x = a.layout(), &y = b.layout();
  if (x.version != y.version) return "header version";
  if (x.block_size != y.block_size) return "block size";
  if (x.max_mapnr != y.max_mapnr) return "max_mapnr";
  if (x.sub_hdr_blocks != y.sub_hdr_blocks || x.bitmap_blocks != y.bitmap_blocks) return "header layout";
  if (std::memcmp(&x.utsname, &y.utsname, sizeof x.utsname) != 0) return "kernel (utsname)";
  if (x.phys_base != y.phys_base) return "phys_base";
  if (x.dump_level != y.dump_level) return "dump level";
  if (x.vmcoreinfo_offset != y.vmcoreinfo_offset || x.note_offset != y.note_offset ||
      a.note_bytes().size() != b.note_bytes().size() ||
      !std::equal(a.note_bytes().begin(), a.note_bytes().end(), b.note_bytes().begin()))
    return "notes and vmcoreinfo";
  return "";
}

// Both bitmaps must be the same in every piece: each describes the whole machine.
Result<void> check_same_bitmaps(const KdumpInput& a, const KdumpInput& b) {
  const KdumpLayout& l = a.layout();
  std::vector<std::byte> x(kCopyBuffer / 2), y(kCopyBuffer / 2);
  for (u64 pos = 0; pos < 2 * l.bitmap_bytes; pos += x.size()) {
    size_t n = static_cast<size_t>(std::min<u64>(x.size(), 2 * l.bitmap_bytes - pos));
    KK_TRY(a.source().read_at(l.bitmap1_offset + pos, std::span(x).first(n)));
    KK_TRY(b.source().read_at(l.bitmap1_offset + pos, std::span(y).first(n)));
    if (std::memcmp(x.data(), y.data(), n) != 0)
      return make_error(Errc::corrupt, b.path() + ": its page bitmaps differ from " + a.path() +
                                           "'s: not pieces of the same dump");
  }
  return {};
}

Result<std::unique_ptr<KdumpInput>> open_piece(const std::string& path) {
  Result<std::unique_ptr<ByteSource>> src = open_dump_source(path);  // plain or flattened
  if (!src) return std::move(src).error();
  Result<std::unique_ptr<KdumpInput>> in = KdumpInput::open(std::move(*src));
  if (!in) return std::move(in).error();
  if ((*in)->incomplete())
    return make_error(Errc::corrupt, path + ": is an incomplete dump; a split set can only be "
                                            "reassembled from complete pieces");
  return in;
}

// Where a piece's page data lies: the smallest block holding every descriptor's data.
struct DataBlock {
  u64 begin = ~0ull, end = 0;
};

Result<DataBlock> data_block(const KdumpInput& in) {
  DataBlock b;
  const KdumpLayout& l = in.layout();
  u64 descs_end = l.desc_offset + in.dumped_pages() * sizeof(PageDesc);
  if (descs_end > in.source().size())
    return make_error(Errc::truncated, in.path() + ": page descriptors end at " + hex(descs_end) +
                                           ", past end of file (size " + hex(in.source().size()) + ")");
  std::vector<PageDesc> descs(kDescBatch);
  for (u64 i = 0; i < in.dumped_pages(); i += kDescBatch) {
    u64 n = std::min(kDescBatch, in.dumped_pages() - i);
    KK_TRY(in.source().read_at(l.desc_offset + i * sizeof(PageDesc),
                               std::span(reinterpret_cast<std::byte*>(descs.data()), n * sizeof(PageDesc))));
    for (u64 k = 0; k < n; ++k) {
      i64 off = descs[k].offset;
      u32 size = descs[k].size;
      if (off < 0 || u64(off) < descs_end || size == 0 || size > l.block_size ||
          u64(off) + size > in.source().size())
        return make_error(Errc::corrupt, in.path() + ": page descriptor " + std::to_string(i + k) +
                                             " (offset " + hex(u64(off)) + ", size " + std::to_string(size) +
                                             ") points outside the page data");
      b.begin = std::min(b.begin, u64(off));
      b.end = std::max(b.end, u64(off) + size);
    }
  }
  if (b.begin > b.end) b.begin = b.end = descs_end;  // a piece with no pages
  return b;
}

Result<void> copy_bytes(const ByteSource& src, u64 from, u64 size, OutputFile& out, u64 to,
                        std::vector<std::byte>& buf) {
  while (size > 0) {
    std::span<std::byte> chunk = std::span(buf).first(std::min<u64>(size, buf.size()));
    KK_TRY(src.read_at(from, chunk));
    KK_TRY(out.write_at(to, chunk));
    from += chunk.size();
    to += chunk.size();
    size -= chunk.size();
  }
  return {};
}

// The single dump's sub-header: no split, no range (as makedumpfile writes an unsplit dump).
Result<void> patch_sub_header(const KdumpLayout& l, OutputFile& out, u64 eraseinfo_offset) {
  KdumpSubHeader sub;
  std::span<std::byte> raw(reinterpret_cast<std::byte*>(&sub), sizeof sub);
  u64 n = std::min<u64>(sizeof sub, l.sub_hdr_blocks * l.block_size);
  KK_TRY(out.read_back(l.block_size, raw.first(n)));
  if (l.version >= 2) {
    sub.split = 0;
    sub.start_pfn = 0;
    sub.end_pfn = 0;
  }
  if (l.version >= 5 && l.eraseinfo_size) sub.offset_eraseinfo = static_cast<i64>(eraseinfo_offset);
  if (l.version >= 6) {
    sub.start_pfn_64 = 0;
    sub.end_pfn_64 = 0;
  }
  return out.write_at(l.block_size, raw.first(n));
}

}  // namespace

Result<std::vector<size_t>> order_split_set(const std::vector<const KdumpInput*>& pieces) {
  if (pieces.size() < 2) return make_error(Errc::usage, "--reassemble needs at least two split files");
  for (const KdumpInput* p : pieces)
    if (!p->layout().split)
      return make_error(Errc::corrupt, p->path() + ": not a piece of a --split set (its header has no split range)");
  for (size_t i = 1; i < pieces.size(); ++i) {
    std::string diff = header_difference(*pieces[0], *pieces[i]);
    if (!diff.empty())
      return make_error(Errc::corrupt, pieces[i]->path() + ": " + diff + " differs from " + pieces[0]->path() +
                                           "'s: not pieces of the same dump");
  }
  std::vector<size_t> order(pieces.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return pieces[a]->layout().start_pfn < pieces[b]->layout().start_pfn;
  });
  u64 expect = 0;
  const KdumpInput* prev = nullptr;
  for (size_t i : order) {
    const KdumpLayout& l = pieces[i]->layout();
    if (l.start_pfn != expect) {
      std::string what = l.start_pfn > expect ? " leave a gap after " : " overlap ";
      return make_error(Errc::corrupt,
                        pieces[i]->path() + ": " + range_of(l) + what +
                            (prev ? prev->path() + "'s " + range_of(prev->layout()) : std::string("pfn 0")));
    }
    expect = l.end_pfn;
    prev = pieces[i];
  }
  if (expect != pieces[0]->layout().max_mapnr)
    return make_error(Errc::corrupt, prev->path() + ": the set ends at pfn " + hex(expect) + ", not at max_mapnr " +
                                         hex(pieces[0]->layout().max_mapnr) + ": a piece is missing");
  return order;
}

Result<ReassembleStats> run_reassemble(const std::vector<std::string>& paths, const std::string& output,
                                       bool force) {
  std::vector<std::unique_ptr<KdumpInput>> owned;
  std::vector<const KdumpInput*> pieces;
  for (const std::string& p : paths) {
    KK_TRY_ASSIGN(std::unique_ptr<KdumpInput> in, open_piece(p));
    pieces.push_back(in.get());
    owned.push_back(std::move(in));
  }
  KK_TRY_ASSIGN(std::vector<size_t> order, order_split_set(pieces));
  for (size_t i = 1; i < pieces.size(); ++i) KK_TRY(check_same_bitmaps(*pieces[0], *pieces[i]));
  const KdumpInput& first = *pieces[order[0]];
  const KdumpLayout& l = first.layout();
  if (std::max(l.vmcoreinfo_offset + l.vmcoreinfo_size, l.note_offset + l.note_size) > l.bitmap1_offset)
    return make_error(Errc::unsupported, first.path() + ": notes lie outside the header blocks");

  KK_TRY_ASSIGN(OutputFile out, OutputFile::create(output, force));
  std::vector<std::byte> buf(kCopyBuffer);
  // Headers, vmcoreinfo, notes and both bitmaps: the first piece's, verbatim.
  KK_TRY(copy_bytes(first.source(), 0, l.desc_offset, out, 0, buf));
  ReassembleStats st;
  for (const KdumpInput* p : pieces) st.pages += p->dumped_pages();
  u64 desc_out = l.desc_offset;
  u64 data_out = l.desc_offset + st.pages * sizeof(PageDesc);
  std::vector<PageDesc> descs(kDescBatch);
  for (size_t i : order) {
    const KdumpInput& p = *pieces[i];
    KK_TRY_ASSIGN(DataBlock block, data_block(p));
    KK_TRY(copy_bytes(p.source(), block.begin, block.end - block.begin, out, data_out, buf));
    i64 delta = static_cast<i64>(data_out) - static_cast<i64>(block.begin);
    for (u64 k = 0; k < p.dumped_pages(); k += kDescBatch) {
      u64 n = std::min(kDescBatch, p.dumped_pages() - k);
      std::span<std::byte> raw(reinterpret_cast<std::byte*>(descs.data()), n * sizeof(PageDesc));
      KK_TRY(p.source().read_at(p.layout().desc_offset + k * sizeof(PageDesc), raw));
      for (u64 j = 0; j < n; ++j) descs[j].offset = i64(descs[j].offset) + delta;
      KK_TRY(out.write_at(desc_out, raw));
      desc_out += raw.size();
    }
    data_out += block.end - block.begin;
  }
  u64 eraseinfo_at = data_out;
  if (l.eraseinfo_size) {
    KK_TRY(copy_bytes(first.source(), l.eraseinfo_offset, l.eraseinfo_size, out, data_out, buf));
    data_out += l.eraseinfo_size;
  }
  KK_TRY(patch_sub_header(l, out, eraseinfo_at));
  KK_TRY(out.publish());
  st.file_size = data_out;
  return st;
}

}  // namespace kk
