#include "dumpfilter/dump_outputs.h"

#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "dumpfilter/digest_sink.h"
#include "dumpfilter/flattened_sink.h"
#include "dumpfilter/writer_diskdump.h"
#include "dumpfilter/writer_elf.h"
#include "dumpfilter/writer_split.h"

namespace kk {

namespace {

void copy_uts_field(std::array<char, diskdump::kUtsLen>& dst, std::string_view s) {
  std::memset(dst.data(), 0, dst.size());
  std::memcpy(dst.data(), s.data(), std::min(s.size(), dst.size() - 1));
}

// The header's utsname, from init_uts_ns in the dump; the release from vmcoreinfo otherwise.
diskdump::NewUtsname read_utsname(const DumpInput& in, const KernelReader* kmem) {
  diskdump::NewUtsname u{};
  const Vmcoreinfo& vi = in.vmcoreinfo();
  std::optional<u64> sym = vi.symbol("init_uts_ns");
  std::optional<u64> off = vi.offset("uts_namespace.name");
  if (kmem && sym && off) {
    std::byte raw[sizeof u];
    if (kmem->read_virt(*sym + *off, raw)) {
      std::memcpy(&u, raw, sizeof u);
      for (auto* f : {&u.sysname, &u.nodename, &u.release, &u.version, &u.machine, &u.domainname})
        f->back() = '\0';
      return u;
    }
  }
  copy_uts_field(u.sysname, "Linux");
  copy_uts_field(u.release, vi.osrelease());
  copy_uts_field(u.machine, in.arch() == Arch::arm64 ? "aarch64" : "x86_64");
  return u;
}

// Discards everything: --dry-run and --mem-usage run the whole dump without an output.
class NullSink final : public ByteSink {
 public:
  Result<void> write_at(u64, std::span<const std::byte>) override { return {}; }
  Result<void> finish() override { return {}; }
  Result<std::string> keep_partial() override { return name_; }
  const std::string& name() const override { return name_; }

 private:
  std::string name_ = "(no output)";
};

Result<OutputFile> create_dump_file(const std::string& path, bool force) {
  KK_TRY(make_private_dirs(dir_of(path)));
  return OutputFile::create(path, force, OutputFile::Naming::incomplete_suffix);
}

}  // namespace

Result<Outputs> open_outputs(const DumpOptions& opt) {
  Outputs o;
  for (const std::string& path : opt.split_outputs) {
    KK_TRY_ASSIGN(OutputFile out, create_dump_file(path, opt.force));
    o.split.push_back(std::make_unique<DigestedFileSink>(std::move(out)));
  }
  if (!o.split.empty() || opt.dry_run) {
    o.sink = std::make_unique<NullSink>();
    o.to_output = !opt.dry_run;
  } else if (opt.flatten) {
    if (::isatty(STDOUT_FILENO))
      return make_error(Errc::usage, "-F writes a binary stream to standard output: redirect it");
    o.sink = std::make_unique<FlattenedSink>(STDOUT_FILENO, "standard output");
  } else {
    KK_TRY_ASSIGN(OutputFile out, create_dump_file(opt.output, opt.force));
    o.sink = std::make_unique<DigestedFileSink>(std::move(out));
  }
  return o;
}

Writing make_writer(const DumpOptions& opt, const DumpInput& input, const Analysis& a,
                    const std::optional<ErasePlan>& erase, Outputs& outs) {
  Writing w;
  auto watch = [&](ByteSink& s) -> ByteSink& {
    return *w.watched.emplace_back(std::make_unique<WatchedSink>(s));
  };
  if (opt.format == OutputFormat::elf) {
    ElfMeta em;
    em.machine = input.arch() == Arch::x86_64 ? kEmX86_64 : kEmAarch64;
    em.page_size = input.page_size();
    em.notes = input.note_bytes();
    em.segments = input.load_segments();
    em.exclude_zero = (opt.dump_level & kDlZero) != 0;
    em.input_incomplete = input.incomplete();
    em.eraseinfo_reserve = erase ? erase->eraseinfo_bound() : 0;
    w.writer = std::make_unique<ElfWriter>(watch(*outs.sink), std::move(em));
    return w;
  }
  DiskdumpMeta meta;
  meta.utsname = read_utsname(input, a.kmem.get());
  struct timeval tv;
  ::gettimeofday(&tv, nullptr);
  meta.tv_sec = tv.tv_sec;
  meta.tv_usec = tv.tv_usec;
  meta.nr_cpus = std::max(1, input.nr_cpus());
  meta.block_size = input.page_size();
  meta.max_pfn = input.max_pfn();
  meta.phys_base = a.phys_base;
  meta.dump_level = opt.dump_level;
  meta.codec = opt.codec;
  meta.notes = input.note_bytes();
  meta.vmcoreinfo_pos = input.vmcoreinfo_offset_in_notes();
  meta.vmcoreinfo_size = input.vmcoreinfo_size();
  meta.input_incomplete = input.incomplete();
  if (outs.split.empty()) {
    w.writer = std::make_unique<DiskdumpWriter>(watch(*outs.sink), meta);
  } else {
    std::vector<ByteSink*> sinks;
    for (auto& s : outs.split) sinks.push_back(&watch(*s));
    w.writer = std::make_unique<SplitWriter>(std::move(sinks), meta);
  }
  return w;
}

Error keep_partial_dump(Error e, DumpWriter& writer, const Outputs& outs) {
  DumpWriter::Saved saved = writer.stop_early();
  std::string where;
  for (ByteSink* s : outs.real()) {
    Result<std::string> k = s->keep_partial();
    where += (where.empty() ? "" : ", ") + (k ? *k : s->name() + " (lost: " + k.error().msg + ")");
  }
  e.msg += "; saved " + std::to_string(saved.pages) + " of " + std::to_string(saved.planned) +
           " pages in " + where + " (marked incomplete)";
  return e;
}

Result<void> publish_dump(DumpWriter& writer, const Outputs& outs) {
  auto keep = [&](Result<void> r) { return keep_partial_dump(std::move(r).error(), writer, outs); };
  for (ByteSink* s : outs.real())
    if (Result<void> r = s->sync(); !r) return keep(std::move(r));
  if (Result<void> r = writer.mark_complete(); !r) return keep(std::move(r));
  for (ByteSink* s : outs.real()) {
    Result<void> r = s->publish();
    if (!r && !s->published()) return keep(std::move(r));
    if (!r) return r;  // only the manifest failed: the dump is complete, at its name
  }
  return {};
}

}  // namespace kk
