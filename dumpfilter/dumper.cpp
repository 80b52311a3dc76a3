// dumper.cpp: the dump command. Pass 1 classifies a window of pfns at a time and hands the
// bitmaps to the writer; pass 2 streams the kept pages through the page pipeline (threads read
// and compress) to the writer in pfn order. Memory is bounded by the window, the pipeline's job
// slots and the --cyclic-buffer budget, never by the crashed machine's size. Where the dump goes
// and how it ends: dump_outputs.h; the report beside it: report_command.h; statistics' text:
// stats_text.cpp.
#include "dumpfilter/dumper.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <algorithm>
#include <bit>
#include <csignal>
#include <cstring>
#include <memory>
#include <new>
#include <vector>

#include "dumpfilter/dump_input.h"
#include "dumpfilter/dump_outputs.h"
#include "dumpfilter/erase_plan.h"
#include "dumpfilter/page_pipeline.h"
#include "dumpfilter/page_selector.h"
#include "dumpfilter/report_command.h"
#include "dumpfilter/stop_signal.h"
#include "dumpfilter/writer_diskdump.h"
#include "dumpfilter/writer_split.h"
#include "lib/io/hex.h"

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
  if (int sig = stop_signal()) return make_error(Errc::stopped, std::string("stopped by ") + signal_name(sig));
  return {};
}

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
    ps.out_space = [this](size_t n) { return w_.page_space(n); };
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
    for (size_t i = 0; i < bm2.size(); i += kSplitBlock / 8)
      block_kept_.push_back(static_cast<u32>(popcount_bytes(bm2.subspan(i, std::min<size_t>(kSplitBlock / 8, bm2.size() - i)))));
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
    while (job.pages < job_pages_) {
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
      while (pos_ < win1_ && job.pages < job_pages_ && test_bit(win_, pos_ - win0_)) {
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
  u64 job_pages_ = job_pages(ps_);  // 64 KiB of pages (page_pipeline.h)
  PageSelector selector_;
  bool zero_in_pass1_ = false;
  std::vector<std::byte> kept_;  // the whole 2nd bitmap, when it fits the budget
  std::vector<u32> block_kept_;   // --split: kept pages per kSplitBlock pfns (4 bytes per 2 MiB)
  // Pass 2's job generator.
  std::vector<std::byte> win_, bm1_scratch_;
  u64 win0_ = 0, win1_ = 0, next_w0_ = 0, pos_ = 0;
  std::optional<Error> gen_error_;
};

// --report: what was dumped, in which form, written after the dump is published.
Result<void> write_dump_report(const DumpOptions& opt, const DumpInput& input, const DumpStats& st,
                               size_t split_files, ReportFiles& report) {
  std::string format = opt.format == OutputFormat::elf ? "ELF" : "kdump-compressed";
  if (opt.flatten) format = "flattened " + format;
  if (split_files) format += ", split in " + std::to_string(split_files) + " files";
  return write_report(input, DumpSummary{st, opt.flatten ? std::string("-") : opt.output, opt.codec,
                                         opt.dump_level, format},
                      report);
}

}  // namespace

Result<DumpStats> run_dump(const DumpOptions& opt, Progress& progress) {
  DumpStats st;
  if (opt.codec != CodecKind::none) {
    Result<std::unique_ptr<Codec>> c = make_codec(opt.codec);  // unavailable codec: fail first
    if (!c) return std::move(c).error();
  }
  KK_TRY_ASSIGN(std::unique_ptr<DumpInput> in, open_dump_input(opt.input, map_request(opt.non_mmap)));
  const DumpInput& input = *in;
  st.release = input.vmcoreinfo().osrelease();
  st.page_size = input.page_size();
  st.max_pfn = input.max_pfn();
  st.input_incomplete = input.incomplete();

  KK_TRY_ASSIGN(Analysis a, analyse(input, opt.dump_level, &st.note));
  // A kernel newer than the page rules were checked on: said once, before any page is chosen.
  if (!a.warning.empty() && opt.warn) opt.warn(a.warning);
  st.classified = a.classifier != nullptr;
  // --config: every erase rule resolved before any file is created (erase_plan.h); the plan
  // edits each kept page in pass 1's zero scan and in the pipeline.
  std::optional<ErasePlan> erase;
  DumpOptions run_opt = opt;
  if (!opt.filter_config.empty()) {
    if (!a.kmem) return make_error(Errc::unsupported, opt.input + ": --config: " + st.note);
    KK_TRY_ASSIGN(ErasePlan plan, plan_erase_for_dump(opt.filter_config, opt.vmlinux, input, *a.kmem));
    erase = std::move(plan);
    st.erase_pieces = erase->pieces().size();
    run_opt.edit = [&erase](u64 pfn, std::span<std::byte> page) { erase->apply(pfn, page); };
  }

  std::optional<ReportFiles> report;
  if (!opt.report.empty()) {
    KK_TRY(make_private_dirs(dir_of(opt.report)));
    KK_TRY_ASSIGN(ReportFiles rf, create_report_files(opt.report, opt.force));
    report = std::move(rf);
  }
  KK_TRY_ASSIGN(Outputs outs, open_outputs(opt));
  Writing w = make_writer(opt, input, a, erase, outs);

  Dumper d(input, run_opt, a, *w.writer, progress, st);
  auto write_dump = [&]() -> Result<void> {
    KK_TRY(w.writer->write_headers());
    KK_TRY(d.select_all());
#ifdef __GLIBC__
    // Pass 1's buffers are gone, but the heap pages they touched stay resident and pass 2's
    // buffers come from fresh mappings: give them back, or both passes' peaks add up (~64 KiB of
    // a capture kernel's memory).
    malloc_trim(0);
#endif
    if (size_t n = w.writer->parts(); n > 1) {
      auto [bounds, kept] = d.split_ranges(n);
      w.writer->set_ranges(bounds, kept);
    }
    KK_TRY(w.writer->start_data(st.dumped_pages));
    KK_TRY(d.copy_all());
    if (erase) KK_TRY(w.writer->write_eraseinfo(erase->eraseinfo()));
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
    if (outs.nothing_written() || (!w.output_failed() && !stop_signal() && !out_of_memory))
      return std::move(r).error();
    return keep_partial_dump(std::move(r).error(), *w.writer, outs);
  }
  if (opt.dump_level & kDlZero) st.excluded[PageClass::zero] = st.zero_pages;
  st.file_size = w.writer->bytes_end();
  KK_TRY(publish_dump(*w.writer, outs));
  if (report) KK_TRY(write_dump_report(opt, input, st, outs.split.size(), *report));
  if (st.lost_pages) return make_error(Errc::io, lost_pages_message(st, opt.input, opt.output));
  return st;
}

}  // namespace kk
