// space_check.h: will the dump fit? `kdumpctl start` warns (it does not refuse: the estimate
// is an upper bound, and old dumps may be deleted first) when the target has less free space
// than a -d 31 dump of this machine can take (issue 17).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "lib/io/result.h"
#include "lib/io/types.h"
#include "lib/kdump/kdump_conf.h"
#include "kdumpctl/host.h"

namespace kk {

// The most a -d 31 dump of this machine takes now, from /proc/meminfo: the pages -d 31 keeps
// (neither free, nor page cache other than shmem, nor user memory), uncompressed, plus its two
// bitmaps and headers. -d 31 is page-class filtering, so the page counts bound it well; the
// compression usually makes the file 2-5 times smaller.
Result<u64> d31_dump_bytes(std::string_view meminfo);

// Free bytes where the dump will go, as this kernel sees it: the file system holding path
// (rootfs), the mounted fs target's file system, or the raw device's size; nullopt for ssh and
// nfs targets, and an fs target not mounted here.
std::optional<u64> target_free_bytes(const Host& h, const KdumpConf& conf);

// "... has N MiB free, a -d 31 dump of this machine can take up to M MiB" when free < need.
std::optional<std::string> space_warning(u64 need, u64 free, const std::string& where);

// The warning for this machine and target, if any (nothing when either side is unknown).
std::optional<std::string> start_space_warning(const Host& h, const KdumpConf& conf);

}  // namespace kk
