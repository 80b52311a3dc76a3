// fuzz_vmcoreinfo.cpp: VMCOREINFO text as the crashed kernel wrote it, parsed, then turned into
// every layout dumpfilter derives from it (SPARSEMEM, struct page, x86_64 paging).
#include "dumpfilter/kernel_memory.h"
#include "dumpfilter/mem_map.h"
#include "dumpfilter/page_classifier.h"
#include "tests/fuzz/fuzz_util.h"
#include "lib/kernel/vmcoreinfo.h"

using namespace kk;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  Result<Vmcoreinfo> vi = Vmcoreinfo::parse(text);
  if (!vi) return 0;
  (void)vi->osrelease();
  (void)vi->kernel_offset();
  (void)vi->crash_time();
  (void)vi->need_symbol("mem_section");
  (void)vi->need_offset("page.flags");
  (void)vi->need_number("PG_lru");
  (void)vi->need_length("mem_section");
  (void)vi->need_size("page");
  for (u64 ps : {u64{4096}, vi->page_size()}) (void)sparse_layout_from(*vi, ps);
  (void)page_layout_from(*vi);
  (void)x86_paging_from(*vi);
  return 0;
}
