#include "dumpfilter/vmcore_input.h"

#include <algorithm>
#include <cstring>

#include "dumpfilter/input_flattened.h"
#include "dumpfilter/input_kdump.h"
#include "lib/io/hex.h"

namespace kk {

namespace {

// Removes overlaps: /proc/vmcore and kexec's elfcorehdr describe the kernel text twice (its own
// PT_LOAD and inside a System RAM one). Both hold the same bytes; keep the first cover of each byte.
std::vector<LoadSegment> without_overlaps(std::vector<LoadSegment> loads) {
  std::sort(loads.begin(), loads.end(), [](const LoadSegment& a, const LoadSegment& b) {
    return a.paddr != b.paddr ? a.paddr < b.paddr : a.memsz > b.memsz;
  });
  std::vector<LoadSegment> out;
  for (LoadSegment s : loads) {
    if (s.memsz == 0) continue;
    if (!out.empty()) {
      u64 prev_end = out.back().paddr + out.back().memsz;
      if (s.paddr + s.memsz <= prev_end) continue;
      if (s.paddr < prev_end) {
        u64 cut = prev_end - s.paddr;
        s.paddr += cut;
        s.vaddr += cut;
        s.offset += cut;
        s.filesz = s.filesz > cut ? s.filesz - cut : 0;
        s.memsz -= cut;
      }
    }
    out.push_back(s);
  }
  return out;
}

std::vector<PfnRun> runs_of(const std::vector<LoadSegment>& segs, u64 page_size) {
  std::vector<PfnRun> runs;
  for (const LoadSegment& s : segs) {
    // Rounded down at both ends, as makedumpfile's 1st bitmap does: a page that only starts
    // inside the segment (RAM ending at 0x9fc00) is a hole; one that ends inside it is present.
    // Only what the file holds is present: p_memsz beyond p_filesz is memory a dumper left out
    // (ELF output keeps excluded and zero pages there), and a damaged p_memsz must not turn
    // into terabytes of zero pages to copy. Reads there still give zeros (read_phys).
    u64 first = s.paddr / page_size;
    u64 end = std::min(div_round_up(s.paddr + s.filesz, page_size), (s.paddr + s.memsz) / page_size);
    if (first >= end) continue;
    if (!runs.empty() && runs.back().end >= first)
      runs.back().end = std::max(runs.back().end, end);
    else
      runs.push_back({first, end});
  }
  return runs;
}


// The ELF header, and the program header count from section header 0 where e_phnum overflowed.
Result<ElfCoreHead> read_core_head(const ByteSource& f) {
  std::byte ehdr_bytes[sizeof(Elf64Ehdr)];
  size_t got = static_cast<size_t>(std::min<u64>(f.size(), sizeof ehdr_bytes));
  KK_TRY(f.read_at(0, std::span(ehdr_bytes, got)));
  Result<ElfCoreHead> head = parse_elf_core_head(std::span(ehdr_bytes, got));
  if (!head) return std::move(head).error().context(f.path());
  if (head->need_shdr0) {
    std::byte sh[sizeof(Elf64Shdr)];
    KK_TRY(f.read_at(head->ehdr.shoff, sh));
    Result<u32> n = phnum_from_shdr0(sh);
    if (!n) return std::move(n).error().context(f.path());
    head->phnum = *n;
  }
  return head;
}

// Either architecture on any host: the dump is data, read in its own (little-endian) order.
Result<Arch> arch_of(const ByteSource& f, u16 machine) {
  if (machine == kEmX86_64) return Arch::x86_64;
  if (machine == kEmAarch64) return Arch::arm64;
  return make_error(Errc::unsupported,
                    f.path() + ": vmcore of another architecture (e_machine " + std::to_string(machine) +
                        "); this dumpfilter reads x86_64 and arm64 vmcores");
}

Result<ElfCoreLayout> read_core_layout(const ByteSource& f, const ElfCoreHead& head) {
  if (head.phnum == 0 || head.phnum > kMaxProgramHeaders)
    return make_error(Errc::corrupt, f.path() + ": implausible program header count " +
                                         std::to_string(head.phnum));
  u64 ph_bytes = u64(head.phnum) * sizeof(Elf64Phdr);
  // Against the bytes held too: a flattened stream's size is free to inflate.
  if (head.phoff > f.size() || ph_bytes > f.size() - head.phoff || ph_bytes > f.stored_size())
    return make_error(Errc::truncated, f.path() + ": program headers at " + hex(head.phoff) +
                                           " run past end of file (size " + hex(f.size()) + ")");
  std::vector<std::byte> ph(ph_bytes);
  KK_TRY(f.read_at(head.phoff, ph));
  Result<ElfCoreLayout> layout = parse_program_headers(head, ph, f.size());
  if (!layout) return std::move(layout).error().context(f.path());
  if (layout->loads.empty())
    return make_error(Errc::corrupt, f.path() + ": no PT_LOAD segments (no memory in the dump)");
  return layout;
}

// The PT_NOTE segments concatenated, so the output can carry them verbatim.
Result<std::vector<std::byte>> read_note_bytes(const ByteSource& f, const ElfCoreLayout& layout) {
  u64 total = 0;
  for (const NoteSegment& n : layout.notes) total += n.size;
  if (total > kMaxNoteBytes || total > f.stored_size())
    return make_error(Errc::corrupt, f.path() + ": PT_NOTE segments total " + std::to_string(total) +
                                         " bytes, more than any kernel writes");
  std::vector<std::byte> out;
  for (const NoteSegment& n : layout.notes) {
    std::vector<std::byte> buf(n.size);
    KK_TRY(f.read_at(n.offset, buf));
    // kexec pads each per-CPU note to a fixed size; only the used prefix is meaningful.
    u64 used = used_note_bytes(buf);
    out.insert(out.end(), buf.begin(), buf.begin() + static_cast<long>(used));
  }
  return out;
}

struct NoteFacts {
  int nr_cpus = 0;  // NT_PRSTATUS notes
  u64 vmcoreinfo_pos = 0, vmcoreinfo_size = 0;
  Vmcoreinfo vmcoreinfo;
};

// The CPUs and VMCOREINFO (the first such note) in the concatenated notes.
Result<NoteFacts> note_facts(const ByteSource& f, std::span<const std::byte> note_bytes) {
  Result<std::vector<Note>> notes = parse_notes(note_bytes, 0);
  if (!notes) return std::move(notes).error().context(f.path());
  NoteFacts r;
  bool found = false;
  for (const Note& n : *notes) {
    if (n.type == kNtPrstatus && n.name == "CORE") ++r.nr_cpus;
    if (n.name == "VMCOREINFO" && !found) {
      found = true;
      r.vmcoreinfo_pos = n.desc_pos;
      r.vmcoreinfo_size = n.desc.size();
      std::string_view text(reinterpret_cast<const char*>(n.desc.data()), n.desc.size());
      Result<Vmcoreinfo> vi = Vmcoreinfo::parse(text);
      if (!vi) return std::move(vi).error().context(f.path());
      r.vmcoreinfo = std::move(*vi);
    }
  }
  if (!found)
    return make_error(Errc::missing, f.path() + ": no VMCOREINFO note (not a kdump vmcore, or "
                                                "QEMU dump taken without -device vmcoreinfo)");
  return r;
}

// The highest pfn + 1 of the segments. A PT_LOAD past the physical address space is a damaged
// header (a flipped high bit of p_paddr or p_memsz); taken at face value it makes max_pfn, and so
// the dump's bitmaps and the walk over them, astronomically large. The bound is the kernel's own
// MAX_PHYSMEM_BITS (52 if absent).
Result<u64> checked_max_pfn(const ByteSource& f, const std::vector<LoadSegment>& segs, const Vmcoreinfo& vi,
                            u64 page_size) {
  u64 phys_bits = static_cast<u64>(std::clamp<i64>(vi.number("MAX_PHYSMEM_BITS").value_or(52), 32, 52));
  u64 max_pfn = 0;
  for (const LoadSegment& s : segs) {
    if ((s.paddr >> phys_bits) || (s.memsz >> phys_bits) || ((s.paddr + s.memsz) >> phys_bits))
      return make_error(Errc::corrupt, f.path() + ": PT_LOAD at paddr " + hex(s.paddr) + " size " +
                                           hex(s.memsz) + " ends past the 2^" + std::to_string(phys_bits) +
                                           "-byte physical address space (MAX_PHYSMEM_BITS)");
    max_pfn = std::max(max_pfn, div_round_up(s.paddr + s.memsz, page_size));
  }
  return max_pfn;
}

}  // namespace

Result<std::unique_ptr<ElfVmcore>> ElfVmcore::open(InputFile file) {
  return open(std::make_unique<FileSource>(std::move(file)));
}

Result<std::unique_ptr<ElfVmcore>> ElfVmcore::open(std::unique_ptr<ByteSource> src, MapRequest map,
                                                   MapSetup setup) {
  KK_TRY_ASSIGN(std::unique_ptr<ElfVmcore> v, open(std::move(src)));
  int fd = v->file_->map_fd();
  setup.fd = fd >= 0 && should_map(map, fs_type_of(fd)) ? fd : -1;
  v->map_ = setup;
  return v;
}

Result<std::unique_ptr<ElfVmcore>> ElfVmcore::open(std::unique_ptr<ByteSource> src) {
  std::unique_ptr<ElfVmcore> v(new ElfVmcore(std::move(src)));
  const ByteSource& f = *v->file_;
  KK_TRY_ASSIGN(ElfCoreHead head, read_core_head(f));
  KK_TRY_ASSIGN(v->arch_, arch_of(f, head.ehdr.machine));
  KK_TRY_ASSIGN(ElfCoreLayout layout, read_core_layout(f, head));
  KK_TRY_ASSIGN(v->notes_, read_note_bytes(f, layout));
  KK_TRY_ASSIGN(NoteFacts facts, note_facts(f, v->notes_));
  v->nr_cpus_ = facts.nr_cpus;
  v->vmcoreinfo_pos_ = facts.vmcoreinfo_pos;
  v->vmcoreinfo_size_ = facts.vmcoreinfo_size;
  v->vmcoreinfo_ = std::move(facts.vmcoreinfo);
  if (v->vmcoreinfo_.page_size() != 0) v->page_size_ = v->vmcoreinfo_.page_size();

  v->all_loads_ = layout.loads;
  v->by_paddr_ = without_overlaps(std::move(layout.loads));
  v->runs_ = runs_of(v->by_paddr_, v->page_size_);
  KK_TRY_ASSIGN(v->max_pfn_, checked_max_pfn(f, v->by_paddr_, v->vmcoreinfo_, v->page_size_));
  return v;
}

std::vector<PfnRun> ElfVmcore::present_runs(u64 lo, u64 hi) const {
  std::vector<PfnRun> out;
  auto it = std::upper_bound(runs_.begin(), runs_.end(), lo,
                             [](u64 v, const PfnRun& r) { return v < r.end; });
  for (; it != runs_.end() && it->start < hi; ++it)
    out.push_back({std::max(it->start, lo), std::min(it->end, hi)});
  return out;
}

const LoadSegment* ElfVmcore::find(u64 paddr) const {
  auto it = std::upper_bound(by_paddr_.begin(), by_paddr_.end(), paddr,
                             [](u64 v, const LoadSegment& s) { return v < s.paddr; });
  if (it == by_paddr_.begin()) return nullptr;
  --it;
  return paddr < it->paddr + it->memsz ? &*it : nullptr;
}

Result<void> ElfVmcore::read_phys(u64 paddr, std::span<std::byte> out) const {
  while (!out.empty()) {
    const LoadSegment* s = find(paddr);
    if (!s)
      return make_error(Errc::missing, file_->path() + ": physical address " + hex(paddr) +
                                           " is not in the dump");
    u64 in_seg = paddr - s->paddr;
    u64 n = std::min<u64>(out.size(), s->memsz - in_seg);
    u64 from_file = in_seg < s->filesz ? std::min(n, s->filesz - in_seg) : 0;
    if (from_file) KK_TRY(file_->read_at(s->offset + in_seg, out.first(from_file)));
    if (from_file < n) std::memset(out.data() + from_file, 0, n - from_file);
    out = out.subspan(n);
    paddr += n;
  }
  return {};
}

Result<void> ElfVmcore::read_pages(u64 pfn, u64 count, std::span<std::byte> out) const {
  // Present pages may end in a hole mid-page (e.g. RAM ending at 0x9fc00): that tail reads as 0.
  u64 paddr = pfn * page_size_;
  u64 end = paddr + count * page_size_;
  std::byte* dst = out.data();
  while (paddr < end) {
    const LoadSegment* s = find(paddr);
    u64 n;
    if (!s) {
      auto next = std::upper_bound(by_paddr_.begin(), by_paddr_.end(), paddr,
                                   [](u64 v, const LoadSegment& seg) { return v < seg.paddr; });
      n = std::min(end, next == by_paddr_.end() ? end : next->paddr) - paddr;
      std::memset(dst, 0, n);
    } else {
      u64 in_seg = paddr - s->paddr;
      n = std::min(end - paddr, s->memsz - in_seg);
      u64 from_file = in_seg < s->filesz ? std::min(n, s->filesz - in_seg) : 0;
      if (from_file) KK_TRY(file_->read_at(s->offset + in_seg, std::span(dst, from_file)));
      if (from_file < n) std::memset(dst + from_file, 0, n - from_file);
    }
    dst += n;
    paddr += n;
  }
  return {};
}

const std::byte* ElfVmcore::view_pages(u64 pfn, u64 count, InputWindow& w) const {
  if (map_.fd < 0) return nullptr;
  u64 paddr = pfn * page_size_, len = count * page_size_;
  const LoadSegment* s = find(paddr);
  // Only pages wholly inside one segment's file bytes: holes and p_memsz tails read as zeros
  // through read_pages().
  if (!s || paddr - s->paddr > s->filesz || len > s->filesz - (paddr - s->paddr)) return nullptr;
  return w.view(map_, file_->size(), s->offset + (paddr - s->paddr), len);
}

// Here, not with the flattened reader: every dump is opened through it (capture_path.ld).
Result<std::unique_ptr<ByteSource>> open_dump_source(const std::string& path) {
  KK_TRY_ASSIGN(InputFile f, InputFile::open(path));
  if (f.size() == 0) return make_error(Errc::truncated, path + ": empty file");
  std::byte magic[16] = {};
  KK_TRY_ASSIGN(size_t got, f.read_some_at(0, magic));
  if (!is_flattened_signature(std::span(magic, got))) return std::unique_ptr<ByteSource>(new FileSource(std::move(f)));
  KK_TRY_ASSIGN(std::unique_ptr<FlattenedSource> fs, FlattenedSource::open(std::move(f)));
  return std::unique_ptr<ByteSource>(std::move(fs));
}

// Picks the reader by magic: kdump-compressed, else ELF; a flattened file holds either.
Result<std::unique_ptr<DumpInput>> open_dump_input(const std::string& path, MapRequest map) {
  KK_TRY_ASSIGN(std::unique_ptr<ByteSource> src, open_dump_source(path));
  std::byte magic[8] = {};
  KK_TRY(src->read_at(0, std::span(magic, std::min<u64>(src->size(), sizeof magic))));
  if (is_kdump_signature(magic)) {
    KK_TRY_ASSIGN(std::unique_ptr<KdumpInput> k, KdumpInput::open(std::move(src)));
    return std::unique_ptr<DumpInput>(std::move(k));
  }
  KK_TRY_ASSIGN(std::unique_ptr<ElfVmcore> v, ElfVmcore::open(std::move(src), map));
  return std::unique_ptr<DumpInput>(std::move(v));
}

}  // namespace kk
