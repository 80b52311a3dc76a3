// dumper.cpp: the dump command. Memory is bounded by the window (kWindowPfns struct pages, two
// bitmap chunks, one read batch), never by the crashed machine's size: both bitmaps go to the
// output file in pass 1 and the 2nd is read back from there in pass 2.
#include "dumpfilter/dumper.h"

#include <sys/stat.h>
#include <sys/time.h>

#include <cstring>
#include <memory>
#include <vector>

#include "dumpfilter/dmesg.h"
#include "dumpfilter/dump_input.h"
#include "dumpfilter/erase_plan.h"
#include "dumpfilter/kernel_memory.h"
#include "dumpfilter/mem_map.h"
#include "dumpfilter/report.h"
#include "dumpfilter/writer_diskdump.h"
#include "io/byte_cursor.h"

namespace kk {

namespace {

// 32768 pfns: one 128 MiB x86_64 section, 2 MiB of struct pages, 4 KiB of each bitmap.
constexpr u64 kWindowPfns = 32768;
// Pages read and compressed per batch in pass 2 (1 MiB with 4 KiB pages).
constexpr u64 kBatchPages = 256;
// On an unreadable stretch of mem_map, retry in pieces this big so one bad page costs little.
constexpr u64 kRetryPfns = 64;

struct Analysis {
  std::unique_ptr<KernelReader> kmem;
  std::unique_ptr<MemMap> mem_map;
  std::unique_ptr<PageClassifier> classifier;
  u64 phys_base = 0;
};

// Sets up translation and the classifier. At -d 0/1 a kernel we cannot analyse is still dumped
// whole; any higher level needs the analysis and its errors are fatal.
Result<Analysis> analyse(const DumpInput& in, const DumpOptions& opt, std::string* note) {
  Analysis a;
  const Vmcoreinfo& vi = in.vmcoreinfo();
  auto attempt = [&]() -> Result<void> {
    Result<KernelMemory> km = open_kernel_memory(in);
    if (!km) return std::move(km).error();
    a.phys_base = km->phys_base;
    a.kmem = std::move(km->reader);
    Result<SparseLayout> sl = sparse_layout_from(vi, in.page_size());
    if (!sl) return std::move(sl).error();
    Result<PageLayout> pl = page_layout_from(vi);
    if (!pl) return std::move(pl).error();
    a.mem_map = std::make_unique<MemMap>(*sl, *a.kmem);
    a.classifier = std::make_unique<PageClassifier>(*pl, opt.dump_level);
    return {};
  };
  Result<void> r = attempt();
  if (!r) {
    if (opt.dump_level & ~kDlZero) return std::move(r).error().context(in.path());
    *note = r.error().msg;
    a.mem_map.reset();
    a.classifier.reset();
  }
  return a;
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
  copy_uts_field(u.machine, "x86_64");
  return u;
}

void set_bit(std::vector<std::byte>& bm, u64 i) { bm[i / 8] |= std::byte(1u << (i % 8)); }
bool test_bit(std::span<const std::byte> bm, u64 i) {
  return (std::to_integer<unsigned>(bm[i / 8]) >> (i % 8)) & 1;
}

bool all_zero(std::span<const std::byte> page) {
  const std::byte* p = page.data();
  for (size_t i = 0; i < page.size(); i += 8)
    if (load_le<u64>(p + i) != 0) return false;
  return true;
}

class Dumper {
 public:
  Dumper(const DumpInput& in, const DumpOptions& opt, Analysis& a, DiskdumpWriter& w, Progress& p,
         DumpStats& st, const ErasePlan* erase)
      : in_(in), opt_(opt), a_(a), w_(w), progress_(p), st_(st), ps_(in.page_size()), erase_(erase) {}

  // Pass 1: for each window, mark present pfns (1st bitmap) and kept ones (2nd bitmap).
  Result<void> classify_all() {
    std::vector<PageClass> verdict(kWindowPfns);
    std::vector<std::byte> bm1(kWindowPfns / 8), bm2(kWindowPfns / 8);
    u64 struct_size = a_.mem_map ? a_.mem_map->layout().struct_page_size : 0;
    std::vector<std::byte> pages(struct_size * (kWindowPfns + 1));
    progress_.start("Excluding pages", st_.max_pfn);
    for (u64 w0 = 0; w0 < st_.max_pfn; w0 += kWindowPfns) {
      u64 w1 = std::min(w0 + kWindowPfns, st_.max_pfn);
      std::fill(bm1.begin(), bm1.end(), std::byte{0});
      std::fill(bm2.begin(), bm2.end(), std::byte{0});
      for (const PfnRun& run : in_.present_runs(w0, w1)) {
        std::span<PageClass> v(verdict.data() + (run.start - w0), run.end - run.start);
        std::fill(v.begin(), v.end(), PageClass::kept);
        if (a_.classifier) KK_TRY(classify_run(run, v, pages));
        for (u64 pfn = run.start; pfn < run.end; ++pfn) {
          PageClass c = verdict[pfn - w0];
          set_bit(bm1, pfn - w0);
          ++st_.present_pages;
          if (c == PageClass::kept || c == PageClass::unclassified) {
            set_bit(bm2, pfn - w0);
            ++st_.dumped_pages;
            if (c == PageClass::unclassified) ++st_.unclassified;
          } else {
            ++st_.excluded[c];
          }
        }
      }
      size_t nbytes = div_round_up(w1 - w0, 8);
      KK_TRY(w_.write_bitmaps(w0, std::span(bm1).first(nbytes), std::span(bm2).first(nbytes)));
      progress_.update(w1, 0);
    }
    progress_.finish();
    return {};
  }

  // Pass 2: copy every page the 2nd bitmap keeps, in pfn order.
  // codec == nullptr: pages are stored raw (no -c/-l/-z/-p).
  Result<void> copy_all(Codec* codec) {
    std::vector<std::byte> bm2(kWindowPfns / 8);
    std::vector<std::byte> batch(kBatchPages * ps_);
    std::vector<std::byte> packed(codec ? codec->bound(ps_) : 0);
    u32 flag = codec ? diskdump_codec_flag(codec->kind()) : 0;
    u64 done = 0;
    progress_.start("Copying data", st_.dumped_pages);
    for (u64 w0 = 0; w0 < st_.max_pfn; w0 += kWindowPfns) {
      u64 w1 = std::min(w0 + kWindowPfns, st_.max_pfn);
      size_t nbytes = div_round_up(w1 - w0, 8);
      KK_TRY(w_.read_bitmap2(w0, std::span(bm2).first(nbytes)));
      u64 pfn = w0;
      while (pfn < w1) {
        if (!test_bit(bm2, pfn - w0)) {
          ++pfn;
          continue;
        }
        u64 n = 1;
        while (pfn + n < w1 && n < kBatchPages && test_bit(bm2, pfn + n - w0)) ++n;
        Result<void> r = in_.read_pages(pfn, n, std::span(batch).first(n * ps_));
        if (!r) return std::move(r).error();
        for (u64 i = 0; i < n; ++i) {
          std::span<std::byte> page = std::span(batch).subspan(i * ps_, ps_);
          if (erase_) erase_->apply(pfn + i, page);  // --config: before the zero check, as makedumpfile
          if (all_zero(page)) {
            ++st_.zero_pages;
            KK_TRY(w_.add_zero_page());
            continue;
          }
          Result<size_t> c = codec ? codec->compress(page, packed) : Result<size_t>(size_t{0});
          if (!c) return std::move(c).error();
          if (*c) KK_TRY(w_.add_page(std::span(packed).first(*c), flag));
          else KK_TRY(w_.add_page(page, 0));
        }
        pfn += n;
        done += n;
        progress_.update(done, done * ps_);
      }
    }
    progress_.finish();
    return {};
  }

 private:
  // Classifies one present run, section by section (mem_map is contiguous only inside one).
  Result<void> classify_run(const PfnRun& run, std::span<PageClass> v, std::vector<std::byte>& pages) {
    const SparseLayout& sl = a_.mem_map->layout();
    u64 pfn = run.start;
    while (pfn < run.end) {
      u64 sec_end = (pfn / sl.pfns_per_section() + 1) * sl.pfns_per_section();
      u64 end = std::min(run.end, sec_end);
      std::span<PageClass> part = v.subspan(pfn - run.start, end - pfn);
      // One struct page more than needed, when it exists, to read a compound head's order.
      u64 extra = end < sec_end ? 1 : 0;
      Result<bool> got = a_.mem_map->read_struct_pages(
          pfn, end - pfn + extra, std::span(pages).first((end - pfn + extra) * sl.struct_page_size));
      if (got && *got) {
        a_.classifier->classify(pfn, std::span(pages).first((end - pfn + extra) * sl.struct_page_size),
                                part);
      } else if (got) {
        a_.classifier->skip_unreadable(pfn, part);  // section without mem_map
      } else {
        classify_piecewise(pfn, end, part, pages);  // damaged mem_map: keep what we cannot read
      }
      pfn = end;
    }
    return {};
  }

  void classify_piecewise(u64 pfn, u64 end, std::span<PageClass> part, std::vector<std::byte>& pages) {
    const u64 sz = a_.mem_map->layout().struct_page_size;
    for (u64 p = pfn; p < end; p += kRetryPfns) {
      u64 n = std::min(kRetryPfns, end - p);
      std::span<PageClass> piece = part.subspan(p - pfn, n);
      Result<bool> got = a_.mem_map->read_struct_pages(p, n, std::span(pages).first(n * sz));
      if (got && *got) a_.classifier->classify(p, std::span(pages).first(n * sz), piece);
      else a_.classifier->skip_unreadable(p, piece);
    }
  }

  const DumpInput& in_;
  const DumpOptions& opt_;
  Analysis& a_;
  DiskdumpWriter& w_;
  Progress& progress_;
  DumpStats& st_;
  u64 ps_;
  const ErasePlan* erase_;
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

}  // namespace

Result<DumpStats> run_dump(const DumpOptions& opt, Progress& progress) {
  DumpStats st;
  std::unique_ptr<Codec> codec;
  if (opt.codec != CodecKind::none) {
    Result<std::unique_ptr<Codec>> c = make_codec(opt.codec);
    if (!c) return std::move(c).error();
    codec = std::move(*c);
  }
  Result<std::unique_ptr<DumpInput>> in = open_dump_input(opt.input);
  if (!in) return std::move(in).error();
  const DumpInput& input = **in;
  st.release = input.vmcoreinfo().osrelease();
  st.page_size = input.page_size();
  st.max_pfn = input.max_pfn();

  Result<Analysis> a = analyse(input, opt, &st.note);
  if (!a) return std::move(a).error();
  st.classified = a->classifier != nullptr;
  // --config: every erase rule resolved before any file is created (erase_plan.h).
  std::optional<ErasePlan> erase;
  if (!opt.filter_config.empty()) {
    if (!a->kmem) return make_error(Errc::unsupported, opt.input + ": --config: " + st.note);
    Result<ErasePlan> plan = plan_erase_for_dump(opt.filter_config, opt.vmlinux, input, *a->kmem);
    if (!plan) return std::move(plan).error();
    erase = std::move(*plan);
    st.erase_pieces = erase->pieces().size();
  }

  std::optional<ReportFiles> report;
  if (!opt.report.empty()) {
    Result<ReportFiles> rf = create_report_files(opt.report, opt.force);
    if (!rf) return std::move(rf).error();
    report = std::move(*rf);
  }
  Result<OutputFile> out = OutputFile::create(opt.output, opt.force);
  if (!out) return std::move(out).error();

  DiskdumpMeta meta;
  meta.utsname = read_utsname(input, a->kmem.get());
  struct timeval tv;
  ::gettimeofday(&tv, nullptr);
  meta.tv_sec = tv.tv_sec;
  meta.tv_usec = tv.tv_usec;
  meta.nr_cpus = std::max(1, input.nr_cpus());
  meta.block_size = input.page_size();
  meta.max_pfn = input.max_pfn();
  meta.phys_base = a->phys_base;
  meta.dump_level = opt.dump_level;
  meta.codec = opt.codec;
  meta.notes = input.note_bytes();
  meta.vmcoreinfo_pos = input.vmcoreinfo_offset_in_notes();
  meta.vmcoreinfo_size = input.vmcoreinfo_size();
  DiskdumpWriter writer(*out, meta);

  Dumper d(input, opt, *a, writer, progress, st, erase ? &*erase : nullptr);
  KK_TRY(writer.write_headers());
  KK_TRY(d.classify_all());
  KK_TRY(writer.start_data(st.dumped_pages));
  KK_TRY(d.copy_all(codec.get()));
  if (erase) KK_TRY(writer.write_eraseinfo(erase->eraseinfo()));
  KK_TRY(writer.finish());
  if (opt.dump_level & kDlZero) st.excluded[PageClass::zero] = st.zero_pages;
  st.file_size = writer.bytes_end();
  KK_TRY(out->publish());
  if (report) KK_TRY(write_report(input, DumpSummary{st, opt.output, opt.codec, opt.dump_level}, *report));
  return st;
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

}  // namespace kk
