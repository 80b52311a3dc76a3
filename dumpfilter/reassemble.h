// reassemble.h: --reassemble, one kdump-compressed dump from the pieces of a --split set. Each
// piece holds the full headers and bitmaps and the pages of one pfn range; the output takes the
// headers of the first, the page descriptors of all in pfn order, and each piece's page data
// copied as one block (descriptor offsets moved by where the block lands). Streaming: memory is a
// 1 MiB copy buffer and one window of descriptors, whatever the dump's size.
#pragma once

#include <string>
#include <vector>

#include "dumpfilter/input_kdump.h"

namespace kk {

// Puts the pieces in pfn order and checks they form one set: same kernel and headers, ranges that
// tile [0, max_mapnr) with no gap or overlap. Returns the order (indexes into `pieces`).
Result<std::vector<size_t>> order_split_set(const std::vector<const KdumpInput*>& pieces);

struct ReassembleStats {
  u64 pages = 0;
  u64 file_size = 0;
};

Result<ReassembleStats> run_reassemble(const std::vector<std::string>& pieces, const std::string& output,
                                       bool force);

}  // namespace kk
