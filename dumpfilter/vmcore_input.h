// vmcore_input.h: ELF64 vmcores. PT_LOADs map physical memory to file offsets; pages between
// p_filesz and p_memsz read as zeros, as the ELF core format says.
#pragma once

#include "dumpfilter/dump_input.h"
#include "dumpfilter/input_source.h"
#include "lib/elf/elf_core.h"
#include "lib/io/file.h"

namespace kk {

// Caps that keep the parse bounded whatever the header claims.
// A capture kernel has about 96 MiB in all: kexec describes a few thousand memory ranges at
// most, and 8192 CPUs' notes take about 3 MiB.
inline constexpr u32 kMaxProgramHeaders = 1u << 16;     // 3.5 MiB of headers at most
inline constexpr u64 kMaxNoteBytes = 16ull << 20;       // all notes together

class ElfVmcore final : public DumpInput {
 public:
  static Result<std::unique_ptr<ElfVmcore>> open(InputFile file);
  // Any byte source: a plain file, or a flattened stream through its index (-E -F output).
  static Result<std::unique_ptr<ElfVmcore>> open(std::unique_ptr<ByteSource> src);
  // The same, reading its pages through windows where `map` allows (should_map() of the source's
  // file; tests: any_file, and `setup`'s window size and mapper, e.g. one that fails).
  static Result<std::unique_ptr<ElfVmcore>> open(std::unique_ptr<ByteSource> src, MapRequest map,
                                                 MapSetup setup = {});

  const std::string& path() const override { return file_->path(); }
  Arch arch() const override { return arch_; }
  u64 page_size() const override { return page_size_; }
  u64 max_pfn() const override { return max_pfn_; }
  std::vector<PfnRun> present_runs(u64 lo, u64 hi) const override;
  Result<void> read_pages(u64 pfn, u64 count, std::span<std::byte> out) const override;
  const std::byte* view_pages(u64 pfn, u64 count, InputWindow& w) const override;
  Result<void> read_phys(u64 paddr, std::span<std::byte> out) const override;
  std::span<const std::byte> note_bytes() const override { return notes_; }
  u64 vmcoreinfo_offset_in_notes() const override { return vmcoreinfo_pos_; }
  u64 vmcoreinfo_size() const override { return vmcoreinfo_size_; }
  const Vmcoreinfo& vmcoreinfo() const override { return vmcoreinfo_; }
  int nr_cpus() const override { return nr_cpus_; }

  const std::vector<LoadSegment>& loads() const { return by_paddr_; }
  std::vector<LoadSegment> load_segments() const override { return all_loads_; }

 private:
  explicit ElfVmcore(std::unique_ptr<ByteSource> f) : file_(std::move(f)) {}
  const LoadSegment* find(u64 paddr) const;

  std::unique_ptr<ByteSource> file_;
  MapSetup map_;  // map_.fd >= 0: pages are viewed through windows (input_window.h)
  Arch arch_ = Arch::x86_64;
  u64 page_size_ = 4096;
  u64 max_pfn_ = 0;
  std::vector<LoadSegment> by_paddr_;  // sorted by paddr, overlaps (kernel text) removed
  std::vector<LoadSegment> all_loads_;  // as the file has them
  std::vector<PfnRun> runs_;
  std::vector<std::byte> notes_;
  u64 vmcoreinfo_pos_ = 0;
  u64 vmcoreinfo_size_ = 0;
  Vmcoreinfo vmcoreinfo_;
  int nr_cpus_ = 0;
};

}  // namespace kk
