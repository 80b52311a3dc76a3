// keep_dumps.h: keep_dumps N (kdump.conf) / KDUMP_NUM_DUMPS (kdump-tools): after a dump is
// saved, the oldest dumps of this host in the same directory are deleted until N are left
// (issue 17). Only what is surely a kdumpkit dump is deleted: a directory named
// <host>-<YYYY-MM-DD-HH:MM:SS>[-k] holding nothing but regular files a capture writes; the
// dump just written never; symbolic links are never followed (nothing is opened through one).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/io/result.h"

namespace kk {

struct DumpDirName {
  std::string host;  // safe_host_name() form
  std::string date;  // YYYY-MM-DD-HH:MM:SS (UTC)
  unsigned k = 0;    // the -k of a second dump in the same second
};

// nullopt unless name is <host>-<date> or <host>-<date>-<k> as dump_dir_name() and
// make_unique_dir() make them.
std::optional<DumpDirName> parse_dump_dir_name(std::string_view name);

// Of `names` (dump directories of one host, the new one among them), those to delete so that
// `keep` are left, oldest first (by date, then k); never `just_written`. keep 0: none.
std::vector<std::string> dumps_to_delete(const std::vector<std::string>& names, unsigned keep,
                                         const std::string& just_written);

// True when every entry is a regular file a capture writes and one of them is a dump or its log.
bool looks_like_dump(const std::vector<std::pair<std::string, bool>>& entries_regular);

// In `parent` (a real path, links resolved), deletes the oldest dumps of just_written's host
// beyond `keep`; returns the names deleted.
Result<std::vector<std::string>> prune_dumps(const std::string& parent, const std::string& just_written, unsigned keep);

}  // namespace kk
