#include "dumpfilter/page_pipeline.h"

#include <condition_variable>
#include <cerrno>
#include <cstring>
#include <exception>
#include <new>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "lib/io/hex.h"

namespace kk {

namespace {

// A buffer that is not zeroed when made: only the bytes written count in RSS.
struct Scratch {
  std::unique_ptr<std::byte[]> p;
  size_t cap = 0;
  std::byte* get(size_t n) {
    if (cap < n) {
      p = std::make_unique_for_overwrite<std::byte[]>(n);
      cap = n;
    }
    return p.get();
  }
};

// One thread's own state: its codec, its page buffer, its window on the input.
struct Worker {
  std::unique_ptr<Codec> codec;
  Scratch raw;         // with a codec, pages read (not mapped) land here; only what is stored goes to the slot
  InputWindow window;  // where the input maps its pages (/proc/vmcore)
};

struct Slot {
  PageJob job;
  Scratch out;  // the job's stored pages back to back: compressed, or raw without a codec
  std::vector<PageResult> results;
  std::optional<Error> error;
  bool done = false;
  size_t need = 0;     // the most bytes the job's stored pages can take
  bool asked = false;  // out_space was asked for the job's room when it was processed
};

// No dedicated writer: every thread takes a job, processes it, and, when the job at the head of
// the output order is done and nobody is writing, writes it and every done job after it. With
// N threads on N cores no core waits for a writer thread that the scheduler has not run yet, and
// one thread means no threads at all.
class Pipeline {
 public:
  Pipeline(const PipelineSettings& s, const std::function<bool(PageJob&)>& next,
           const std::function<Result<void>(std::span<const PageResult>)>& consume)
      : s_(s), ps_(s.input->page_size()), next_(next), consume_(consume) {
    slots_.resize(pipeline_slots(s.threads));
  }

  Result<void> run() {
    std::vector<std::thread> helpers;
    for (int i = 1; i < s_.threads; ++i) helpers.emplace_back([this] { guarded_loop(); });
    guarded_loop();
    for (std::thread& t : helpers) t.join();
    // Out of memory on any thread comes back as the exception, on the caller's thread: the
    // dumper keeps what was written, as for a failed output.
    if (oom_) std::rethrow_exception(oom_);
    if (error_) return std::move(*error_);
    return {};
  }

 private:
  Slot& slot(u64 job) { return slots_[job % slots_.size()]; }

  // An exception leaving a thread would end the process (std::terminate) and lose the partial
  // dump: out of memory stops every thread like an error, and run() rethrows it once all joined.
  void guarded_loop() {
    try {
      loop();
    } catch (const std::bad_alloc&) {
      std::lock_guard g(mu_);  // loop()'s lock, if it held it, was released by the unwinding
      if (!oom_) oom_ = std::current_exception();
      if (!error_) error_ = Error{Errc::io, ENOMEM, "out of memory"};
      cv_.notify_all();
    }
  }

  void loop() {
    Worker w;
    std::optional<Error> codec_error;
    if (s_.codec != CodecKind::none) {
      Result<std::unique_ptr<Codec>> c = make_codec(s_.codec);
      if (c) w.codec = std::move(*c);
      else codec_error = std::move(c).error();
    }
    std::unique_lock lk(mu_);
    if (codec_error && !error_) error_ = std::move(codec_error);
    while (!error_) {
      if (!writing_ && written_ < handed_ && slot(written_).done) {
        write_done(lk);
        continue;
      }
      if (more_ && handed_ - written_ < slots_.size()) {
        Slot& sl = slot(handed_);
        sl.job.runs.clear();
        sl.job.pages = 0;
        sl.error.reset();
        sl.done = false;
        more_ = next_(sl.job);  // under the lock: the job source is not shared-safe
        if (!more_) continue;
        ++handed_;
        lk.unlock();
        process(sl, w);
        lk.lock();
        sl.done = true;
        if (!writing_ && slot(written_).done) continue;  // ours or another's: write it ourselves
        cv_.notify_all();
        continue;
      }
      if (!more_ && written_ == handed_) break;
      cv_.wait(lk);
    }
    cv_.notify_all();
  }

  // Writes the done jobs at the head of the order; the lock is dropped while consume() runs.
  void write_done(std::unique_lock<std::mutex>& lk) {
    writing_ = true;
    while (!error_ && written_ < handed_ && slot(written_).done) {
      Slot& sl = slot(written_);
      lk.unlock();
      Result<void> r = sl.error ? Result<void>(std::move(*sl.error)) : consume_slot(sl);
      lk.lock();
      if (!r && !error_) error_ = std::move(r).error();
      sl.done = false;
      ++written_;
      cv_.notify_all();  // a slot is free
    }
    writing_ = false;
  }

  // A job stored in a slot asks the writer for the same room as one stored in place would have,
  // so the writer flushes at the same pages and the output (a flattened stream's records too) is
  // the same bytes at every thread count. Asked once: not again for a job that was.
  Result<void> consume_slot(Slot& sl) {
    if (!sl.asked && s_.out_space) KK_TRY(s_.out_space(sl.need));
    return consume_(sl.results);
  }

  // A run's read failed: one bad page must not cost the run (nor the dump), so each page is read
  // alone and those that fail are marked lost. False when the error is not a read error (or a
  // page fails with another one): then the dump stops, as before.
  bool read_one_by_one(const PfnRun& r, std::span<PageResult> out, std::byte* buf, const Error& e) {
    if (e.code != Errc::io) return false;
    for (u64 k = 0; k < out.size(); ++k) {
      Result<void> one = s_.input->read_pages(r.start + k, 1, std::span(buf + k * ps_, ps_));
      if (one) continue;
      if (one.error().code != Errc::io) return false;
      out[k].lost = true;
    }
    return true;
  }

  // Where the pages of run r (pages [i, i + count) of the job) are: in the input's mapping
  // (input_window.h: no copy), valid only until the window's next use, so each run is compressed
  // before the next is located; or read into buf. Pages are edited (--config) as they are read;
  // an edit needs a copy, so no mapping then, nor without a codec (the raw page is what is
  // stored, read straight into the job's slot). nullptr when the job failed (sl.error set).
  const std::byte* locate_run(Slot& sl, Worker& w, const PfnRun& r, u64 i, std::byte* buf) {
    u64 cnt = r.end - r.start;
    for (u64 k = 0; k < cnt; ++k) {
      sl.results[i + k] = PageResult{};
      sl.results[i + k].pfn = r.start + k;
    }
    if (w.codec && !s_.edit)
      if (const std::byte* at = s_.input->view_pages(r.start, cnt, w.window)) return at;
    std::span<std::byte> dst(buf + i * ps_, cnt * ps_);
    Result<void> rd = s_.input->read_pages(r.start, cnt, dst);
    if (!rd && !read_one_by_one(r, std::span(sl.results).subspan(i, cnt), dst.data(), rd.error())) {
      sl.error = std::move(rd).error();
      return nullptr;
    }
    for (u64 k = 0; s_.edit && k < cnt; ++k)
      if (!sl.results[i + k].lost) s_.edit(r.start + k, dst.subspan(k * ps_, ps_));
    return dst.data();
  }

  void process(Slot& sl, Worker& w) {
    const u64 n = sl.job.pages;
    Codec* codec = w.codec.get();
    size_t bound = codec ? codec->bound(ps_) : ps_;
    size_t need = job_room(n, ps_, bound);
    std::byte* out = nullptr;
    sl.need = need;
    sl.asked = false;
    // One thread: the job is consumed before the next is processed, so its pages can be stored
    // where the writer will write them from.
    if (s_.threads <= 1 && s_.out_space) {
      sl.asked = true;
      Result<std::span<std::byte>> lent = s_.out_space(need);
      if (!lent) {
        sl.error = std::move(lent).error();
        return;
      }
      out = lent->data();  // nullptr when the writer lends none: the slot
    }
    if (!out) out = sl.out.get(need);
    std::byte* buf = codec ? w.raw.get(n * ps_) : out;
    sl.results.resize(n);
    size_t at = 0;  // bytes of `out` used
    u64 i = 0;
    for (const PfnRun& r : sl.job.runs) {
      const std::byte* src = locate_run(sl, w, r, i, buf);
      if (!src) return;
      for (u64 k = 0; k < r.end - r.start; ++k, ++i)
        if (!store_page(sl, sl.results[i], std::span(src + k * ps_, ps_), codec, out, at, bound)) return;
    }
  }

  // Checks one page for zeros and compresses it to out + at; false when compressing failed.
  bool store_page(Slot& sl, PageResult& pr, std::span<const std::byte> page, Codec* codec, std::byte* out,
                  size_t& at, size_t bound) {
    if (pr.lost) return true;
    pr.zero = page_is_zero(page);
    if (pr.zero) return true;
    if (!codec) {
      pr.stored = page;
      return true;
    }
    Result<size_t> c = codec->compress(page, std::span(out + at, bound));
    if (!c) {
      sl.error = std::move(c).error();
      return false;
    }
    if (*c && *c < ps_) {
      pr.flags = s_.codec_flag;
    } else {  // 0: not smaller than the page, stored raw
      std::memcpy(out + at, page.data(), ps_);
      *c = ps_;
    }
    pr.stored = std::span<const std::byte>(out + at, *c);
    at += *c;
    return true;
  }

  const PipelineSettings& s_;
  u64 ps_;
  const std::function<bool(PageJob&)>& next_;
  const std::function<Result<void>(std::span<const PageResult>)>& consume_;
  std::vector<Slot> slots_;
  std::mutex mu_;
  std::condition_variable cv_;
  u64 handed_ = 0, written_ = 0;  // jobs taken from next_ / given to consume_, in order
  bool more_ = true;              // next_ has not said it is out of jobs
  bool writing_ = false;          // a thread is in write_done()
  std::optional<Error> error_;    // the first one stops every thread
  std::exception_ptr oom_;        // a std::bad_alloc from any thread, rethrown by run()
};

}  // namespace

bool page_is_zero(std::span<const std::byte> page) {
  // Word-wide: OR eight words at a time and test once, which the compiler vectorises.
  const std::byte* p = page.data();
  size_t n = page.size() / 8;
  u64 acc = 0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    u64 a = 0;
    for (size_t k = 0; k < 8; ++k) a |= load_le<u64>(p + (i + k) * 8);
    if (a) return false;
  }
  for (; i < n; ++i) acc |= load_le<u64>(p + i * 8);
  return acc == 0;
}

Result<void> run_page_pipeline(const PipelineSettings& s, const std::function<bool(PageJob&)>& next,
                               const std::function<Result<void>(std::span<const PageResult>)>& consume) {
  Pipeline p(s, next, consume);
  return p.run();
}

}  // namespace kk
