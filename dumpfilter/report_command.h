// report_command.h: the triage report (report.h) of a dump's input, gathered through DumpInput
// and KernelReader only: --report FILE VMCORE alone (run_report, dumper.h), or beside a dump.
#pragma once

#include <optional>
#include <string>

#include "dumpfilter/dump_input.h"
#include "dumpfilter/report.h"
#include "lib/io/file.h"

namespace kk {

// Both files are created (0600, temporary names) before any work, so an existing report without
// -f fails at once rather than after a long dump; they get their final names only when written.
struct ReportFiles {
  std::optional<OutputFile> text;
  OutputFile json;
};

Result<ReportFiles> create_report_files(const std::string& file, bool force);

// The report of `in`, with the dump's statistics when there was a dump.
Result<void> write_report(const DumpInput& in, std::optional<DumpSummary> dump, ReportFiles& files);

}  // namespace kk
