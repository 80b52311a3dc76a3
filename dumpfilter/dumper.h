// dumper.h: the dump command as a list of passes: open the input, work out the memory model,
// classify every pfn from mem_map (writing both bitmaps), copy the kept pages, publish the file.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <vector>

#include "lib/compress/codec.h"
#include "dumpfilter/dump_input.h"
#include "dumpfilter/page_classifier.h"
#include "dumpfilter/progress.h"

namespace kk {

enum class OutputFormat { kdump, elf };

struct DumpOptions {
  std::string input;
  std::string output;
  CodecKind codec = CodecKind::zlib;
  int dump_level = 0;
  bool force = false;
  OutputFormat format = OutputFormat::kdump;  // -E: elf
  bool flatten = false;                       // -F: the flattened stream on standard output
  bool dry_run = false;                       // --dry-run: everything but the output
  std::vector<std::string> split_outputs;     // --split: one file per part (output unused)
  int threads = 1;                            // page pipeline workers (--num-threads)
  bool non_mmap = false;                      // --non-mmap: pread /proc/vmcore, never map it
  // Bytes pass 1 may keep between the passes (--cyclic-buffer); above it pass 2 classifies again.
  u64 memory_budget = 64ull << 20;
  // --config erase rules: edits a kept page before it is checked and compressed.
  std::function<void(u64 pfn, std::span<std::byte> page)> edit;
  std::string report;  // --report FILE: the triage report (report.h) too; "" for none
  std::string vmlinux;        // -x VMLINUX: debug symbols, for --config
  std::string filter_config;  // --config FILE: erase rules (filter_config.h); needs -x
  // A warning for people, said when it is known (main prints it; the library prints nothing).
  std::function<void(const std::string&)> warn;
};

struct DumpStats {
  std::string release;
  u64 page_size = 0;
  u64 max_pfn = 0;
  u64 present_pages = 0;
  ClassCounts excluded;   // per class; zero counted only when -d has bit 1
  u64 zero_pages = 0;     // all-zero kept pages stored as the shared block
  u64 dumped_pages = 0;   // page_desc entries
  u64 unclassified = 0;   // kept because their struct page was unreadable
  u64 file_size = 0;
  u64 erase_pieces = 0;   // --config: planned page pieces to overwrite
  bool classified = false;
  bool input_incomplete = false;  // the input stopped early; the output says so too
  // Kept pages the input could not read (EIO): marked lost in the dump, which stays flagged
  // incomplete. Their pfn ranges, merged, the first kMaxLostRanges of them.
  u64 lost_pages = 0;
  std::vector<PfnRun> lost_ranges;
  static constexpr size_t kMaxLostRanges = 64;
  void add_lost(u64 pfn);
  std::string note;       // why classification was skipped, when it was
};

// A dump with pages the input could not read is written whole (they are marked lost) and then
// returned as an error (Errc::io) saying how many and where the dump is.
Result<DumpStats> run_dump(const DumpOptions& opt, Progress& progress);
// The one line for such a dump: "<input>: N pages could not be read (pfns a-b, ...); ...".
std::string lost_pages_message(const DumpStats& s, const std::string& input, const std::string& output);

// --dump-dmesg: the kernel log of the vmcore into `output` (0600, temporary name, then renamed).
Result<u64> run_dump_dmesg(const std::string& input, const std::string& output, bool force);

std::string format_report(const DumpStats& s, const DumpOptions& opt);
// --mem-usage: pages per class, as a table like makedumpfile's.
std::string format_mem_usage(const DumpStats& s);

// --report FILE VMCORE: only the triage report of opt.input, at opt.report (see report_paths()).
// run_dump() writes it too when opt.report is set, after the dump, with the dump's statistics.
Result<void> run_report(const DumpOptions& opt);

}  // namespace kk
