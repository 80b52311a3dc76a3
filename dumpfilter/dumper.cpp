// dumper.cpp: the dump command. Pass 1 classifies a window of pfns at a time and hands the
// bitmaps to the writer; pass 2 streams the kept pages through the page pipeline (threads read
// and compress) to the writer in pfn order. Memory is bounded by the window, the pipeline's job
// slots and the --cyclic-buffer budget, never by the crashed machine's size.
#include "dumpfilter/dumper.h"

#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <csignal>
#include <cstring>
#include <memory>
#include <new>
#include <vector>

#include "dumpfilter/dmesg.h"
#include "dumpfilter/dump_input.h"
#include "dumpfilter/erase_plan.h"
#include "dumpfilter/kernel_memory.h"
#include "dumpfilter/digest_sink.h"
#include "dumpfilter/manifest.h"
#include "dumpfilter/report.h"
#include "dumpfilter/flattened_sink.h"
#include "dumpfilter/page_pipeline.h"
#include "dumpfilter/page_selector.h"
#include "dumpfilter/stop_signal.h"
#include "dumpfilter/writer_diskdump.h"
#include "dumpfilter/writer_elf.h"
#include "dumpfilter/writer_split.h"
#include "io/byte_cursor.h"

namespace kk {

namespace {

// Pass 1 keeps the 2nd bitmap in memory when it fits this share of the budget; otherwise pass 2
// classifies each window again (same input, same verdicts) instead of holding max_pfn bits.
constexpr u64 kBitmapShare = 2;  // half the budget
// Pages checked per read in pass 1's zero scan (ELF output with -d bit 1).
constexpr u64 kScanPages = 256;
// --split cuts at multiples of this many pfns (a window holds a whole number of them).
constexpr u64 kSplitBlock = 512;
static_assert(kWindowPfns % kSplitBlock == 0);

const char* signal_name(int sig) {
  switch (sig) {
    case SIGTERM: return "SIGTERM";
    case SIGINT: return "SIGINT";
    case SIGHUP: return "SIGHUP";
  }
  return "a signal";
}

// A stop asked for by SIGTERM/SIGINT/SIGHUP (stop_signal.h) becomes an error, checked between
// windows in pass 1 and between batches of pages in pass 2.
Result<void> check_stop() {
  if (int sig = stop_signal()) return make_error(Errc::io, std::string("stopped by ") + signal_name(sig));
  return {};
}

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

class Dumper {
 public:
  Dumper(const DumpInput& in, const DumpOptions& opt, const Analysis& a, DumpWriter& w, Progress& p,
         DumpStats& st)
      : in_(in), opt_(opt), w_(w), progress_(p), st_(st), ps_(in.page_size()),
        selector_(in, a) {}

  // Pass 1: for each window, mark present pfns (1st bitmap) and kept ones (2nd bitmap).
  Result<void> select_all() {
    std::vector<std::byte> bm1(kWindowPfns / 8), bm2(kWindowPfns / 8), zero(kWindowPfns / 8);
    u64 bitmap_bytes = div_round_up(st_.max_pfn, 8);
    if (bitmap_bytes <= opt_.memory_budget / kBitmapShare) kept_.assign(bitmap_bytes, std::byte{0});
    zero_in_pass1_ = w_.needs_zero_pages_in_pass1();
    std::vector<std::byte> scan(zero_in_pass1_ ? kScanPages * ps_ : 0);
    progress_.start("Excluding pages", st_.max_pfn);
    for (u64 w0 = 0; w0 < st_.max_pfn; w0 += kWindowPfns) {
      KK_TRY(check_stop());
      u64 w1 = std::min(w0 + kWindowPfns, st_.max_pfn);
      size_t nbytes = div_round_up(w1 - w0, 8);
      SelectionCounts c;
      KK_TRY(selector_.select(w0, w1, std::span(bm1).first(nbytes), std::span(bm2).first(nbytes), c));
      st_.present_pages += c.present;
      st_.dumped_pages += c.kept;
      st_.unclassified += c.unclassified;
      st_.excluded.add(c.excluded);
      std::span<std::byte> z;
      if (zero_in_pass1_) {
        z = std::span(zero).first(nbytes);
        KK_TRY(find_zero_pages(w0, w1, std::span(bm2).first(nbytes), z, scan));
      }
      KK_TRY(w_.add_bitmaps(w0, std::span(bm1).first(nbytes), std::span(bm2).first(nbytes), z));
      if (!kept_.empty()) std::copy_n(bm2.begin(), nbytes, kept_.begin() + static_cast<long>(w0 / 8));
      if (!opt_.split_outputs.empty()) count_blocks(std::span(bm2).first(nbytes));
      progress_.update(w1, 0);
    }
    progress_.finish();
    return {};
  }

  // --split: pfn boundaries with about equal kept pages between them (at kSplitBlock granularity),
  // and the kept count of each range.
  std::pair<std::vector<u64>, std::vector<u64>> split_ranges(size_t parts) const {
    std::vector<u64> prefix(block_kept_.size() + 1, 0);
    for (size_t i = 0; i < block_kept_.size(); ++i) prefix[i + 1] = prefix[i] + block_kept_[i];
    u64 nblocks = block_kept_.size();
    std::vector<u64> blocks = split_boundaries(nblocks, prefix.back(), parts,
                                               [&](u64 b) { return prefix[b]; });
    std::vector<u64> bounds, kept;
    for (u64 b : blocks) bounds.push_back(std::min(b * kSplitBlock, st_.max_pfn));
    for (size_t i = 0; i + 1 < blocks.size(); ++i) kept.push_back(prefix[blocks[i + 1]] - prefix[blocks[i]]);
    return {bounds, kept};
  }

  // Pass 2: every kept page, in pfn order, through the pipeline to the writer.
  Result<void> copy_all() {
    PipelineSettings ps;
    ps.input = &in_;
    ps.codec = w_.stores_compressed() ? opt_.codec : CodecKind::none;
    ps.codec_flag = diskdump_codec_flag(ps.codec);
    ps.threads = opt_.threads;
    ps.edit = opt_.edit;
    u64 done = 0, bytes = 0;
    progress_.start("Copying data", st_.dumped_pages);
    auto consume = [&](std::span<const PageResult> pages) -> Result<void> {
      KK_TRY(check_stop());
      for (const PageResult& r : pages) {
        if (r.lost) {
          st_.add_lost(r.pfn);
          KK_TRY(w_.add_lost_page(r.pfn));
        } else if (r.zero) {
          if (!zero_in_pass1_) ++st_.zero_pages;
          KK_TRY(w_.add_zero_page(r.pfn));
        } else {
          KK_TRY(w_.add_page(r.pfn, r.stored, r.flags));
        }
      }
      done += pages.size();
      bytes += pages.size() * ps_;
      progress_.update(done, bytes);
      return {};
    };
    KK_TRY(run_page_pipeline(ps, [this](PageJob& j) { return next_job(j); }, consume));
    if (gen_error_) return std::move(*gen_error_);
    progress_.finish();
    return {};
  }

 private:
  // Marks the window's all-zero kept pages (formats whose layout depends on them).
  Result<void> find_zero_pages(u64 w0, u64 w1, std::span<const std::byte> bm2, std::span<std::byte> zero,
                               std::vector<std::byte>& scan) {
    std::fill(zero.begin(), zero.end(), std::byte{0});
    for (u64 pfn = w0; pfn < w1;) {
      if (!test_bit(bm2, pfn - w0)) {
        ++pfn;
        continue;
      }
      u64 n = 1;
      while (pfn + n < w1 && n < kScanPages && test_bit(bm2, pfn + n - w0)) ++n;
      Result<void> rd = in_.read_pages(pfn, n, std::span(scan).first(n * ps_));
      if (!rd && rd.error().code != Errc::io) return std::move(rd).error();
      for (u64 i = 0; i < n; ++i) {
        std::span<std::byte> page = std::span(scan).subspan(i * ps_, ps_);
        // A page that cannot be read counts as data here; pass 2 finds it lost.
        if (!rd && !in_.read_pages(pfn + i, 1, page)) continue;
        if (opt_.edit) opt_.edit(pfn + i, page);
        if (!page_is_zero(page)) continue;
        set_bit(zero, pfn + i - w0);
        ++st_.zero_pages;
      }
      pfn += n;
    }
    return {};
  }

  void count_blocks(std::span<const std::byte> bm2) {
    for (size_t i = 0; i < bm2.size(); i += kSplitBlock / 8) {
      u32 n = 0;
      for (size_t k = i; k < std::min(bm2.size(), i + kSplitBlock / 8); ++k)
        n += static_cast<u32>(std::popcount(std::to_integer<unsigned>(bm2[k])));
      block_kept_.push_back(n);
    }
  }

  // The window's kept bits: from pass 1's copy, or classified again.
  Result<void> load_window(u64 w0, u64 w1) {
    size_t nbytes = div_round_up(w1 - w0, 8);
    win_.resize(nbytes);
    if (!kept_.empty()) {
      std::copy_n(kept_.begin() + static_cast<long>(w0 / 8), nbytes, win_.begin());
      return {};
    }
    bm1_scratch_.resize(nbytes);
    SelectionCounts ignored;
    return selector_.select(w0, w1, bm1_scratch_, win_, ignored);
  }

  bool next_job(PageJob& job) {
    while (job.pages < kJobPages) {
      if (pos_ >= win1_) {
        if (next_w0_ >= st_.max_pfn) break;
        win0_ = next_w0_;
        win1_ = std::min(win0_ + kWindowPfns, st_.max_pfn);
        next_w0_ = win1_;
        pos_ = win0_;
        Result<void> r = load_window(win0_, win1_);
        if (!r) {
          gen_error_ = std::move(r).error();
          return false;
        }
        continue;
      }
      // Skip clear bits a byte at a time where we can.
      u64 i = pos_ - win0_;
      if (i % 8 == 0 && win_[i / 8] == std::byte{0}) {
        pos_ += 8;
        continue;
      }
      if (!test_bit(win_, i)) {
        ++pos_;
        continue;
      }
      u64 start = pos_;
      while (pos_ < win1_ && job.pages < kJobPages && test_bit(win_, pos_ - win0_)) {
        ++pos_;
        ++job.pages;
      }
      if (!job.runs.empty() && job.runs.back().end == start) job.runs.back().end = pos_;
      else job.runs.push_back({start, pos_});
    }
    return job.pages > 0;
  }

  const DumpInput& in_;
  const DumpOptions& opt_;
  DumpWriter& w_;
  Progress& progress_;
  DumpStats& st_;
  u64 ps_;
  PageSelector selector_;
  bool zero_in_pass1_ = false;
  std::vector<std::byte> kept_;  // the whole 2nd bitmap, when it fits the budget
  std::vector<u32> block_kept_;   // --split: kept pages per kSplitBlock pfns (4 bytes per 2 MiB)
  // Pass 2's job generator.
  std::vector<std::byte> win_, bm1_scratch_;
  u64 win0_ = 0, win1_ = 0, next_w0_ = 0, pos_ = 0;
  std::optional<Error> gen_error_;
};

// --- the triage report (report.h): gathered through DumpInput and KernelReader only ----------

// Both files are created (0600, temporary names) before any work, so an existing report without
// -f fails at once rather than after a long dump; they get their final names only when written.
struct ReportFiles {
  std::optional<OutputFile> text;
  OutputFile json;
};

Result<ReportFiles> create_report_files(const std::string& file, bool force) {
  auto [text_path, json_path] = report_paths(file);
  std::optional<OutputFile> text;
  if (!text_path.empty()) {
    Result<OutputFile> t = OutputFile::create(text_path, force);
    if (!t) return std::move(t).error();
    text = std::move(*t);
  }
  Result<OutputFile> j = OutputFile::create(json_path, force);
  if (!j) return std::move(j).error();
  return ReportFiles{std::move(text), std::move(*j)};
}

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

// Passes writes through and remembers whether the output failed one: a dump stopped by its
// output (full disk, I/O error) or by a signal keeps its partial file; one stopped by bad input
// leaves nothing, as before any byte was written.
class WatchedSink final : public ByteSink {
 public:
  explicit WatchedSink(ByteSink& inner) : inner_(inner) {}
  Result<void> write_at(u64 offset, std::span<const std::byte> data) override {
    Result<void> r = inner_.write_at(offset, data);
    if (!r) failed_ = true;
    return r;
  }
  Result<void> zero_range(u64 offset, u64 length) override {
    Result<void> r = inner_.zero_range(offset, length);
    if (!r) failed_ = true;
    return r;
  }
  Result<void> finish() override { return inner_.finish(); }
  Result<std::string> keep_partial() override { return inner_.keep_partial(); }
  const std::string& name() const override { return inner_.name(); }
  bool failed() const { return failed_; }

 private:
  ByteSink& inner_;
  bool failed_ = false;
};

// Where a dump goes: one file or stream, or the --split files (then `sink` is a NullSink, as it
// is for --dry-run).
struct Outputs {
  std::unique_ptr<ByteSink> sink;
  std::vector<std::unique_ptr<ByteSink>> split;
  // The sinks that are real outputs.
  std::vector<ByteSink*> real() const {
    if (split.empty()) return {sink.get()};
    std::vector<ByteSink*> v;
    for (const auto& s : split) v.push_back(s.get());
    return v;
  }
  bool nothing_written() const { return split.empty() && dynamic_cast<NullSink*>(sink.get()); }
};

Result<OutputFile> create_dump_file(const std::string& path, bool force) {
  KK_TRY(make_private_dirs(dir_of(path)));
  return OutputFile::create(path, force, OutputFile::Naming::incomplete_suffix);
}

Result<Outputs> open_outputs(const DumpOptions& opt) {
  Outputs o;
  for (const std::string& path : opt.split_outputs) {
    Result<OutputFile> out = create_dump_file(path, opt.force);
    if (!out) return std::move(out).error();
    o.split.push_back(std::make_unique<DigestedFileSink>(std::move(*out)));
  }
  if (!o.split.empty() || opt.dry_run) {
    o.sink = std::make_unique<NullSink>();
  } else if (opt.flatten) {
    if (::isatty(STDOUT_FILENO))
      return make_error(Errc::usage, "-F writes a binary stream to standard output: redirect it");
    o.sink = std::make_unique<FlattenedSink>(STDOUT_FILENO, "standard output");
  } else {
    Result<OutputFile> out = create_dump_file(opt.output, opt.force);
    if (!out) return std::move(out).error();
    o.sink = std::make_unique<DigestedFileSink>(std::move(*out));
  }
  return o;
}

// The writer for the output format, writing through sinks that notice a failed write.
struct Writing {
  std::unique_ptr<DumpWriter> writer;
  DiskdumpWriter* kdump = nullptr;  // the eraseinfo goes after the pages
  ElfWriter* elf = nullptr;         // ... or into a note reserved before them
  std::vector<std::unique_ptr<WatchedSink>> watched;
  bool output_failed() const {
    return std::any_of(watched.begin(), watched.end(), [](const auto& w) { return w->failed(); });
  }
};

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
    auto e = std::make_unique<ElfWriter>(watch(*outs.sink), std::move(em));
    w.elf = e.get();
    w.writer = std::move(e);
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
    auto k = std::make_unique<DiskdumpWriter>(watch(*outs.sink), meta);
    w.kdump = k.get();
    w.writer = std::move(k);
  } else {
    std::vector<ByteSink*> sinks;
    for (auto& s : outs.split) sinks.push_back(&watch(*s));
    w.writer = std::make_unique<SplitWriter>(std::move(sinks), meta);
  }
  return w;
}

// The output failed or a signal stopped the dump: what was written stays, flagged incomplete,
// never at the final name, and the error says how much.
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

// Every page is written: the data goes to the disk first, then the format's complete mark, then
// the names (and manifests). A dump is taken once: whatever fails here (fsync, the mark, the
// manifest's read-back, link or rename), the whole dump stays under its "-incomplete" name with
// the incomplete mark put back, and the one-line error says where.
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

}  // namespace

Result<DumpStats> run_dump(const DumpOptions& opt, Progress& progress) {
  DumpStats st;
  if (opt.codec != CodecKind::none) {
    Result<std::unique_ptr<Codec>> c = make_codec(opt.codec);  // unavailable codec: fail first
    if (!c) return std::move(c).error();
  }
  Result<std::unique_ptr<DumpInput>> in = open_dump_input(opt.input);
  if (!in) return std::move(in).error();
  const DumpInput& input = **in;
  st.release = input.vmcoreinfo().osrelease();
  st.page_size = input.page_size();
  st.max_pfn = input.max_pfn();
  st.input_incomplete = input.incomplete();

  Result<Analysis> a = analyse(input, opt.dump_level, &st.note);
  if (!a) return std::move(a).error();
  // A kernel newer than the page rules were checked on: said once, before any page is chosen.
  if (!a->warning.empty()) std::fprintf(stderr, "dumpfilter: warning: %s\n", a->warning.c_str());
  st.classified = a->classifier != nullptr;
  // --config: every erase rule resolved before any file is created (erase_plan.h); the plan
  // edits each kept page in pass 1's zero scan and in the pipeline.
  std::optional<ErasePlan> erase;
  DumpOptions run_opt = opt;
  if (!opt.filter_config.empty()) {
    if (!a->kmem) return make_error(Errc::unsupported, opt.input + ": --config: " + st.note);
    Result<ErasePlan> plan = plan_erase_for_dump(opt.filter_config, opt.vmlinux, input, *a->kmem);
    if (!plan) return std::move(plan).error();
    erase = std::move(*plan);
    st.erase_pieces = erase->pieces().size();
    run_opt.edit = [&erase](u64 pfn, std::span<std::byte> page) { erase->apply(pfn, page); };
  }

  std::optional<ReportFiles> report;
  if (!opt.report.empty()) {
    KK_TRY(make_private_dirs(dir_of(opt.report)));
    Result<ReportFiles> rf = create_report_files(opt.report, opt.force);
    if (!rf) return std::move(rf).error();
    report = std::move(*rf);
  }
  Result<Outputs> outs = open_outputs(opt);
  if (!outs) return std::move(outs).error();
  Writing w = make_writer(opt, input, *a, erase, *outs);

  Dumper d(input, run_opt, *a, *w.writer, progress, st);
  auto write_dump = [&]() -> Result<void> {
    KK_TRY(w.writer->write_headers());
    KK_TRY(d.select_all());
    if (auto* sw = dynamic_cast<SplitWriter*>(w.writer.get())) {
      auto [bounds, kept] = d.split_ranges(outs->split.size());
      sw->set_ranges(bounds, kept);
    }
    KK_TRY(w.writer->start_data(st.dumped_pages));
    KK_TRY(d.copy_all());
    if (erase && w.kdump) KK_TRY(w.kdump->write_eraseinfo(erase->eraseinfo()));
    if (erase && w.elf) KK_TRY(w.elf->write_eraseinfo(erase->eraseinfo()));
    return w.writer->finish_data();
  };
  // An allocation that fails mid-dump ends it like a failed output: what was written is kept.
  bool out_of_memory = false;
  auto guarded = [&]() -> Result<void> {
    try {
      return write_dump();
    } catch (const std::bad_alloc&) {
      out_of_memory = true;
      return make_error(Errc::io, opt.input + ": out of memory while dumping");
    }
  };
  if (Result<void> r = guarded(); !r) {
    // Bad input: the error alone; the partial file is removed with its OutputFile.
    if (outs->nothing_written() || (!w.output_failed() && !stop_signal() && !out_of_memory))
      return std::move(r).error();
    return keep_partial_dump(std::move(r).error(), *w.writer, *outs);
  }
  if (opt.dump_level & kDlZero) st.excluded[PageClass::zero] = st.zero_pages;
  st.file_size = w.writer->bytes_end();
  KK_TRY(publish_dump(*w.writer, *outs));
  if (report) {
    std::string format = opt.format == OutputFormat::elf ? "ELF" : "kdump-compressed";
    if (opt.flatten) format = "flattened " + format;
    if (!outs->split.empty()) format += ", split in " + std::to_string(outs->split.size()) + " files";
    KK_TRY(write_report(input, DumpSummary{st, opt.flatten ? std::string("-") : opt.output, opt.codec,
                                           opt.dump_level, format},
                        *report));
  }
  if (st.lost_pages) return make_error(Errc::io, lost_pages_message(st, opt.input, opt.output));
  return st;
}

void DumpStats::add_lost(u64 pfn) {
  ++lost_pages;
  if (!lost_ranges.empty() && lost_ranges.back().end == pfn) ++lost_ranges.back().end;
  else if (lost_ranges.size() < kMaxLostRanges) lost_ranges.push_back({pfn, pfn + 1});
}

std::string lost_pages_message(const DumpStats& s, const std::string& input, const std::string& output) {
  std::string ranges;
  for (const PfnRun& r : s.lost_ranges) {
    char b[48];
    if (r.end - r.start == 1) std::snprintf(b, sizeof b, "%#llx", static_cast<unsigned long long>(r.start));
    else std::snprintf(b, sizeof b, "%#llx-%#llx", static_cast<unsigned long long>(r.start),
                       static_cast<unsigned long long>(r.end - 1));
    ranges += (ranges.empty() ? "" : ", ") + std::string(b);
  }
  u64 listed = 0;
  for (const PfnRun& r : s.lost_ranges) listed += r.end - r.start;
  if (listed < s.lost_pages) ranges += ", ...";
  std::string where = output.empty() ? "the output" : output;
  return input + ": " + std::to_string(s.lost_pages) + " page" + (s.lost_pages == 1 ? "" : "s") +
         " could not be read (pfn " + ranges + "); " + where +
         " holds everything else, those pages marked lost and the dump marked incomplete";
}

Result<void> run_report(const DumpOptions& opt) {
  Result<std::unique_ptr<DumpInput>> in = open_dump_input(opt.input);
  if (!in) return std::move(in).error();
  Result<ReportFiles> files = create_report_files(opt.report, opt.force);
  if (!files) return std::move(files).error();
  return write_report(**in, std::nullopt, *files);
}

Result<u64> run_dump_dmesg(const std::string& input, const std::string& output, bool force) {
  Result<std::unique_ptr<DumpInput>> in = open_dump_input(input);
  if (!in) return std::move(in).error();
  Result<KernelMemory> km = open_kernel_memory(**in);
  if (!km) return std::move(km).error().context(input);
  Result<std::string> log = extract_dmesg((*in)->vmcoreinfo(), *km->reader);
  if (!log) return std::move(log).error().context(input);
  Result<OutputFile> out = OutputFile::create(output, force);
  if (!out) return std::move(out).error();
  KK_TRY(out->write_at(0, as_bytes_of(*log)));
  KK_TRY(out->publish());
  return static_cast<u64>(log->size());
}

std::string format_report(const DumpStats& s, const DumpOptions& opt) {
  auto line = [](const char* label, u64 v) {
    char b[96];
    std::snprintf(b, sizeof b, "  %-26s %12llu\n", label, static_cast<unsigned long long>(v));
    return std::string(b);
  };
  u64 excluded = 0;
  for (u64 n : s.excluded.n) excluded += n;
  std::string r = "dumpfilter: " + opt.input + " -> " + opt.output + " (kernel " + s.release +
                  ", -d " + std::to_string(opt.dump_level) + ", " +
                  std::string(codec_name(opt.codec)) + ")\n";
  r += line("pages in memory map", s.max_pfn);
  r += line("pages present", s.present_pages);
  r += line("excluded: zero", s.excluded[PageClass::zero]);
  r += line("excluded: cache", s.excluded[PageClass::cache]);
  r += line("excluded: cache private", s.excluded[PageClass::cache_private]);
  r += line("excluded: user data", s.excluded[PageClass::user]);
  r += line("excluded: free", s.excluded[PageClass::free]);
  r += line("excluded: hwpoison", s.excluded[PageClass::hwpoison]);
  r += line("excluded: offline", s.excluded[PageClass::offline]);
  r += line("pages kept", s.present_pages - excluded);
  if (s.unclassified) r += line("kept, struct page unreadable", s.unclassified);
  if (s.erase_pieces) r += line("erase pieces (--config)", s.erase_pieces);
  r += line("dump file bytes", s.file_size);
  if (!s.classified) r += "  note: pages not classified (" + s.note + ")\n";
  return r;
}

std::string format_mem_usage(const DumpStats& s) {
  struct Row {
    const char* type;
    u64 pages;
    const char* excludable;
    const char* what;
  };
  u64 excluded = 0;
  for (u64 n : s.excluded.n) excluded += n;
  const Row rows[] = {
      {"ZERO", s.excluded[PageClass::zero], "yes", "Pages filled with zero"},
      {"NON_PRI_CACHE", s.excluded[PageClass::cache], "yes", "Cache pages without private flag"},
      {"PRI_CACHE", s.excluded[PageClass::cache_private], "yes", "Cache pages with private flag"},
      {"USER", s.excluded[PageClass::user], "yes", "User process pages"},
      {"FREE", s.excluded[PageClass::free], "yes", "Free pages"},
      {"KERN_DATA", s.present_pages - excluded, "no", "Dumpable kernel data"},
  };
  std::string r = "TYPE            PAGES                   EXCLUDABLE      DESCRIPTION\n";
  r += std::string(70, '-') + "\n";
  char b[160];
  for (const Row& row : rows) {
    std::snprintf(b, sizeof b, "%-16s%-24llu%-16s%s\n", row.type,
                  static_cast<unsigned long long>(row.pages), row.excludable, row.what);
    r += b;
  }
  std::snprintf(b, sizeof b, "\npage size:              %llu\nTotal pages on system:  %llu\n"
                "Total size on system:   %llu Byte\n",
                static_cast<unsigned long long>(s.page_size),
                static_cast<unsigned long long>(s.present_pages),
                static_cast<unsigned long long>(s.present_pages * s.page_size));
  r += b;
  if (s.excluded[PageClass::hwpoison] || s.excluded[PageClass::offline])
    r += "(also left out always: " + std::to_string(s.excluded[PageClass::hwpoison]) +
         " hwpoison, " + std::to_string(s.excluded[PageClass::offline]) + " offline pages)\n";
  return r;
}

}  // namespace kk
