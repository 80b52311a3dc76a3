// fuzz_report.cpp: the triage report from a damaged log and damaged notes. Input: a vmcoreinfo
// text, a NUL, the kernel log, a NUL, the PT_NOTE bytes; the report is built and formatted as text
// and JSON.
#include "dumpfilter/report.h"
#include "tests/fuzz/fuzz_util.h"

using namespace kk;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::TextAndBlob a = fuzz::split_at_nul(data, size);
  fuzz::TextAndBlob b = fuzz::split_at_nul(reinterpret_cast<const uint8_t*>(a.blob.data()), a.blob.size());
  Result<Vmcoreinfo> vi = Vmcoreinfo::parse(a.text);
  ReportInputs in;
  in.log = b.text;
  in.vmcoreinfo = vi ? &*vi : nullptr;
  in.notes = b.blob;
  in.vmcore.path = "fuzz.vmcore";
  in.vmcore.arch = "x86_64";
  in.vmcore.page_size = 4096;
  Report r = build_report(in);
  (void)format_report_text(r);
  (void)format_report_json(r);
  (void)json_quote(b.text);
  return 0;
}
