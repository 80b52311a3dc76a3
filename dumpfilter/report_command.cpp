#include "dumpfilter/report_command.h"

#include <sys/stat.h>

#include "dumpfilter/dmesg.h"
#include "dumpfilter/dumper.h"
#include "dumpfilter/kernel_memory.h"
#include "dumpfilter/page_selector.h"

namespace kk {

Result<ReportFiles> create_report_files(const std::string& file, bool force) {
  auto [text_path, json_path] = report_paths(file);
  std::optional<OutputFile> text;
  if (!text_path.empty()) {
    KK_TRY_ASSIGN(OutputFile t, OutputFile::create(text_path, force));
    text = std::move(t);
  }
  KK_TRY_ASSIGN(OutputFile j, OutputFile::create(json_path, force));
  return ReportFiles{std::move(text), std::move(j)};
}

namespace {

VmcoreSummary summarize(const DumpInput& in) {
  VmcoreSummary v;
  v.path = in.path();
  struct stat sb;
  if (::stat(in.path().c_str(), &sb) == 0 && S_ISREG(sb.st_mode)) v.file_size = static_cast<u64>(sb.st_size);
  v.arch = in.arch() == Arch::x86_64 ? "x86_64" : "arm64";
  v.page_size = in.page_size();
  v.max_pfn = in.max_pfn();
  for (u64 w0 = 0; w0 < v.max_pfn; w0 += kWindowPfns)  // a window at a time: bounded run lists
    for (const PfnRun& r : in.present_runs(w0, std::min(w0 + kWindowPfns, v.max_pfn)))
      v.present_pages += r.end - r.start;
  v.nr_cpus = in.nr_cpus();
  return v;
}

// The crashed kernel's log; a log we cannot read is a gap in the report, not a failure. Its size
// is bounded by extract_dmesg()'s checks on the ring; the report analyses only its last
// kReportLogBytes (report.h).
std::string read_log(const DumpInput& in, std::string* why) {
  Result<KernelMemory> km = open_kernel_memory(in);
  if (!km) {
    *why = km.error().msg;
    return {};
  }
  Result<std::string> log = extract_dmesg(in.vmcoreinfo(), *km->reader);
  if (!log) {
    *why = log.error().msg;
    return {};
  }
  return std::move(*log);
}

}  // namespace

Result<void> write_report(const DumpInput& in, std::optional<DumpSummary> dump, ReportFiles& files) {
  ReportInputs ri;
  std::string log = read_log(in, &ri.log_error);
  ri.log = log;
  ri.vmcoreinfo = &in.vmcoreinfo();
  ri.notes = in.note_bytes();
  ri.vmcore = summarize(in);
  ri.dump = std::move(dump);
  Report r = build_report(ri);
  if (files.text) KK_TRY(files.text->write_at(0, as_bytes_of(format_report_text(r))));
  KK_TRY(files.json.write_at(0, as_bytes_of(format_report_json(r))));
  if (files.text) KK_TRY(files.text->publish());
  return files.json.publish();
}

Result<void> run_report(const DumpOptions& opt) {
  KK_TRY_ASSIGN(std::unique_ptr<DumpInput> in, open_dump_input(opt.input));
  KK_TRY_ASSIGN(ReportFiles files, create_report_files(opt.report, opt.force));
  return write_report(*in, std::nullopt, files);
}

}  // namespace kk
