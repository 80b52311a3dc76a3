#include "dumpfilter/page_pipeline.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>

#include "io/byte_cursor.h"

namespace kk {

namespace {

struct Slot {
  PageJob job;
  std::vector<std::byte> raw, packed;
  std::vector<PageResult> results;
  std::optional<Error> error;
  bool done = false;
};

class Pipeline {
 public:
  explicit Pipeline(const PipelineSettings& s) : s_(s), ps_(s.input->page_size()) {
    int n = std::max(1, s.threads);
    slots_.resize(static_cast<size_t>(2 * n + 1));
    for (int i = 0; i < n; ++i) workers_.emplace_back([this] { work(); });
  }
  ~Pipeline() {
    {
      std::lock_guard lk(mu_);
      stop_ = true;
    }
    cv_work_.notify_all();
    for (std::thread& t : workers_) t.join();
  }

  Result<void> run(const std::function<bool(PageJob&)>& next,
                   const std::function<Result<void>(std::span<const PageResult>)>& consume) {
    size_t head = 0, tail = 0;  // jobs handed out / consumed; slot = index % size
    bool more = true;
    for (;;) {
      while (more && head - tail < slots_.size()) {
        Slot& sl = slots_[head % slots_.size()];
        sl.job.runs.clear();
        sl.job.pages = 0;
        if (!next(sl.job)) {
          more = false;
          break;
        }
        {
          std::lock_guard lk(mu_);
          sl.done = false;
          sl.error.reset();
          queue_.push_back(&sl);
        }
        cv_work_.notify_one();
        ++head;
      }
      if (tail == head) return {};
      Slot& sl = slots_[tail % slots_.size()];
      {
        std::unique_lock lk(mu_);
        cv_done_.wait(lk, [&] { return sl.done; });
      }
      if (sl.error) return std::move(*sl.error);
      KK_TRY(consume(sl.results));
      ++tail;
    }
  }

 private:
  void work() {
    std::unique_ptr<Codec> codec;
    std::optional<Error> codec_error;
    if (s_.codec != CodecKind::none) {
      Result<std::unique_ptr<Codec>> c = make_codec(s_.codec);
      if (c) codec = std::move(*c);
      else codec_error = std::move(c).error();
    }
    for (;;) {
      Slot* sl;
      {
        std::unique_lock lk(mu_);
        cv_work_.wait(lk, [&] { return stop_ || !queue_.empty(); });
        if (stop_) return;
        sl = queue_.front();
        queue_.pop_front();
      }
      if (codec_error) sl->error = *codec_error;
      else process(*sl, codec.get());
      {
        std::lock_guard lk(mu_);
        sl->done = true;
      }
      cv_done_.notify_all();
    }
  }

  void process(Slot& sl, Codec* codec) {
    const u64 n = sl.job.pages;
    sl.raw.resize(n * ps_);
    size_t bound = codec ? codec->bound(ps_) : 0;
    sl.packed.resize(n * bound);
    sl.results.resize(n);
    u64 i = 0;
    for (const PfnRun& r : sl.job.runs) {
      u64 cnt = r.end - r.start;
      Result<void> rd = s_.input->read_pages(r.start, cnt, std::span(sl.raw).subspan(i * ps_, cnt * ps_));
      if (!rd) {
        sl.error = std::move(rd).error();
        return;
      }
      for (u64 k = 0; k < cnt; ++k) sl.results[i + k].pfn = r.start + k;
      i += cnt;
    }
    for (i = 0; i < n; ++i) {
      PageResult& pr = sl.results[i];
      std::span<std::byte> page = std::span(sl.raw).subspan(i * ps_, ps_);
      if (s_.edit) s_.edit(pr.pfn, page);
      pr.zero = page_is_zero(page);
      pr.flags = 0;
      pr.stored = page;
      if (pr.zero || !codec) continue;
      std::span<std::byte> out = std::span(sl.packed).subspan(i * bound, bound);
      Result<size_t> c = codec->compress(page, out);
      if (!c) {
        sl.error = std::move(c).error();
        return;
      }
      if (*c) {  // 0: not smaller than the page, keep it raw
        pr.stored = out.first(*c);
        pr.flags = s_.codec_flag;
      }
    }
  }

  const PipelineSettings& s_;
  u64 ps_;
  std::vector<Slot> slots_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_work_, cv_done_;
  std::deque<Slot*> queue_;
  bool stop_ = false;
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
  Pipeline p(s);
  return p.run(next, consume);
}

}  // namespace kk
