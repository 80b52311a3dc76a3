// dmesg.h: the crashed kernel's log, read out of its memory and printed exactly as
// makedumpfile 1.7.2 --dump-dmesg prints it, so scripts that diff or grep vmcore-dmesg.txt keep
// working when dumpfilter replaces makedumpfile in the capture initramfs.
#pragma once

#include <string>

#include "dumpfilter/kernel_reader.h"
#include "kernel/vmcoreinfo.h"

namespace kk {

// Returns the whole log as makedumpfile --dump-dmesg writes it. Three layouts, chosen by what
// vmcoreinfo exports, in makedumpfile's order:
//   SYMBOL(prb)                       lockless printk ringbuffer (Linux 5.10+)
//   SYMBOL(log_buf), no log_end       structured records, log_first_idx..log_next_idx (3.5..5.9)
//   SYMBOL(log_buf) and log_end       plain text ring, copied as is (before 3.5)
// Errors name the missing vmcoreinfo key or the unreadable address. Memory is bounded by the
// kernel's own ring sizes, which are checked against sanity limits first; corrupt rings end in
// an Errc::corrupt error, never a hang.
Result<std::string> extract_dmesg(const Vmcoreinfo& vi, const KernelReader& mem);

}  // namespace kk
