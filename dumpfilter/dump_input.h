// dump_input.h: the one reader interface for every dump input. The dumper sees physical memory in
// pfns, the notes (copied verbatim into the output) and vmcoreinfo, whatever file holds them.
// ELF vmcores (/proc/vmcore, kexec captures, QEMU dump-guest-memory), kdump-compressed dumps
// (input_kdump.h), either of them in a flattened file (input_flattened.h).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "dumpfilter/input_window.h"
#include "lib/elf/elf_core.h"
#include "lib/kernel/phys_reader.h"
#include "lib/kernel/vmcoreinfo.h"

namespace kk {

enum class Arch { x86_64, arm64 };

struct PfnRun {
  u64 start;  // first pfn
  u64 end;    // one past the last
};

class DumpInput : public PhysReader {
 public:
  virtual const std::string& path() const = 0;
  virtual Arch arch() const = 0;
  virtual u64 page_size() const = 0;
  // One past the highest pfn the dump describes (its max_mapnr).
  virtual u64 max_pfn() const = 0;
  // Sorted, non-overlapping runs of pfns backed by memory (the 1st bitmap), clipped to [lo, hi).
  virtual std::vector<PfnRun> present_runs(u64 lo, u64 hi) const = 0;
  // Reads whole pages [pfn, pfn + count): out.size() == count * page_size. Every pfn must be present.
  virtual Result<void> read_pages(u64 pfn, u64 count, std::span<std::byte> out) const = 0;
  // The same pages in place, without a copy, where the input maps them (/proc/vmcore through the
  // calling thread's window, input_window.h): valid until the window's next use. nullptr: not
  // mapped (any other input, holes, p_memsz tails, a failed mmap): read_pages() them.
  virtual const std::byte* view_pages(u64 /*pfn*/, u64 /*count*/, InputWindow& /*w*/) const {
    return nullptr;
  }
  // The raw note bytes (all PT_NOTE contents, in order) and where VMCOREINFO's text is in them.
  virtual std::span<const std::byte> note_bytes() const = 0;
  virtual u64 vmcoreinfo_offset_in_notes() const = 0;
  virtual u64 vmcoreinfo_size() const = 0;
  virtual const Vmcoreinfo& vmcoreinfo() const = 0;
  virtual int nr_cpus() const = 0;  // NT_PRSTATUS notes
  // The input's memory map with virtual addresses (ELF PT_LOADs, kernel text included), which
  // ELF output carries over; inputs without one (kdump-compressed) give one identity segment.
  virtual std::vector<LoadSegment> load_segments() const {
    LoadSegment all;
    all.memsz = all.filesz = max_pfn() * page_size();
    return {all};
  }
  // The input says it stopped early (a kdump-compressed dump cut by a full disk): pages it could
  // not hold are absent, so an output made from it should say so too.
  virtual bool incomplete() const { return false; }
};

// Opens any supported input; errors name the file ("vmcore.elf: not an ELF file (bad magic)").
// map: whether an ELF vmcore's pages may be mapped (should_map(), input_window.h); the dumper
// passes map_request(--non-mmap), the other commands read.
Result<std::unique_ptr<DumpInput>> open_dump_input(const std::string& path, MapRequest map = MapRequest::never);

}  // namespace kk
