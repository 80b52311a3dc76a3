// dmesg.h: the crashed kernel's log, read out of its memory and printed exactly as
// makedumpfile 1.7.2 --dump-dmesg prints it, so scripts that diff or grep vmcore-dmesg.txt keep
// working when dumpfilter replaces makedumpfile in the capture initramfs.
#pragma once

#include <string>

#include "dumpfilter/kernel_reader.h"
#include "lib/kernel/vmcoreinfo.h"

namespace kk {

// The printk caller column ("[      T1] ", "[      C0] ") after the timestamp. makedumpfile prints
// it from 1.7.5 on (its commit 48bb1e0), whenever vmcoreinfo has OFFSET(printk_info.caller_id)
// (every kernel since 5.10) or OFFSET(printk_log.caller_id); 1.7.2 to 1.7.4 never print it.
enum class CallerColumn { omit, print };

// The column as the makedumpfile release that supports this kernel prints it: omitted for Linux
// up to 6.6 (makedumpfile 1.7.4, the last release without the column, supports up to 6.6; Debian
// 12 pairs 6.1 with 1.7.2), printed for newer kernels, which only 1.7.5 and later support
// (Debian 13: 6.12 with 1.7.6; unstable: 7.x with 1.7.8), and for a release we cannot read.
// Omitted where vmcoreinfo has no caller_id offset, as every makedumpfile does.
CallerColumn makedumpfile_caller_column(const Vmcoreinfo& vi);

// Returns the whole log as makedumpfile --dump-dmesg writes it, with or without the caller
// column (the default omits it, as the report's log parser expects). Three layouts, chosen by
// what vmcoreinfo exports, in makedumpfile's order:
//   SYMBOL(prb)                       lockless printk ringbuffer (Linux 5.10+)
//   SYMBOL(log_buf), no log_end       structured records, log_first_idx..log_next_idx (3.5..5.9)
//   SYMBOL(log_buf) and log_end       plain text ring, copied as is (before 3.5)
// Errors name the missing vmcoreinfo key or the unreadable address. Memory is bounded by the
// kernel's own ring sizes, which are checked against sanity limits first; corrupt rings end in
// an Errc::corrupt error, never a hang.
Result<std::string> extract_dmesg(const Vmcoreinfo& vi, const KernelReader& mem,
                                  CallerColumn caller = CallerColumn::omit);

}  // namespace kk
