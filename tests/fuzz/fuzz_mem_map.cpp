// fuzz_mem_map.cpp: the SPARSEMEM walk (mem_section roots, sections, struct page arrays), the page
// classifier over the struct pages found, and the x86_64 page-table walk, all in a damaged kernel
// memory. Input: a vmcoreinfo text, a NUL, 16 bytes choosing the first pfn and a virtual address,
// then the memory (every address >= 1 MiB reads it, modulo its size; page tables included).
#include "dumpfilter/kernel_memory.h"
#include "dumpfilter/mem_map.h"
#include "dumpfilter/page_classifier.h"
#include "tests/fuzz/fuzz_util.h"

using namespace kk;

namespace {
constexpr u64 kPages = 512;  // struct pages classified per input
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::TextAndBlob in = fuzz::split_at_nul(data, size);
  Result<Vmcoreinfo> vi = Vmcoreinfo::parse(in.text);
  if (!vi) return 0;
  fuzz::Taker t(in.blob);
  u64 first_pfn = t.take<u64>() & ((u64{1} << 40) - 1);
  u64 vaddr = t.take<u64>();
  std::span<const std::byte> memory = t.rest();

  // Page tables: the root and every table below it come from the memory.
  fuzz::ModuloPhys phys(memory, 1u << 20);
  if (Result<X86Paging> pg = x86_paging_from(*vi)) {
    X86KernelMemory km(phys, *pg);
    std::byte b[64];
    (void)km.read_virt(vaddr, b);
    (void)km.translate(vaddr ^ 0xffff800000000000ull);
  }

  fuzz::ModuloKernel kmem(memory, 0xffff800000000000ull);
  Result<SparseLayout> sl = sparse_layout_from(*vi, 4096);
  Result<PageLayout> pl = page_layout_from(*vi);
  if (!sl || !pl || sl->struct_page_size == 0 || sl->struct_page_size > 4096) return 0;
  MemMap mm(*sl, kmem);
  (void)mm.struct_page_addr(first_pfn);
  std::vector<std::byte> pages(kPages * sl->struct_page_size);
  Result<bool> got = mm.read_struct_pages(first_pfn, kPages, pages);
  PageClassifier c(*pl, kDlMax);
  std::vector<PageClass> verdict(kPages);
  if (got && *got) c.classify(first_pfn, pages, verdict);
  else c.skip_unreadable(first_pfn, verdict);
  // Garbage struct pages classified directly too, whether or not the walk found any.
  std::vector<std::byte> raw(kPages * pl->struct_size);
  if (!memory.empty())
    for (size_t i = 0; i < raw.size(); ++i) raw[i] = memory[i % memory.size()];
  c.restart();
  c.classify(first_pfn, raw, verdict);
  return 0;
}
