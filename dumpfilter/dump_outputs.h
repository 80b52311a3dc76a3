// dump_outputs.h: where a dump goes and how it ends. open_outputs() makes the sinks (one file,
// the flattened stream, the --split files, or none for --dry-run); make_writer() the writer for
// the output format, over sinks that notice a failed write; keep_partial_dump() and
// publish_dump() are the two ways a dump ends, and neither deletes what was written.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "dumpfilter/dump_writer.h"
#include "dumpfilter/dumper.h"
#include "dumpfilter/erase_plan.h"
#include "dumpfilter/page_selector.h"
#include "lib/io/sink.h"

namespace kk {

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
  bool to_output = true;  // false for --dry-run and --mem-usage
  bool nothing_written() const { return split.empty() && !to_output; }
};

Result<Outputs> open_outputs(const DumpOptions& opt);

// The writer for the output format, writing through sinks that notice a failed write.
struct Writing {
  std::unique_ptr<DumpWriter> writer;
  std::vector<std::unique_ptr<WatchedSink>> watched;
  bool output_failed() const {
    return std::any_of(watched.begin(), watched.end(), [](const auto& w) { return w->failed(); });
  }
};

Writing make_writer(const DumpOptions& opt, const DumpInput& input, const Analysis& a,
                    const std::optional<ErasePlan>& erase, Outputs& outs);

// The output failed or a signal stopped the dump: what was written stays, flagged incomplete,
// never at the final name, and the error says how much.
Error keep_partial_dump(Error e, DumpWriter& writer, const Outputs& outs);

// Every page is written: the data goes to the disk first, then the format's complete mark, then
// the names (and manifests). A dump is taken once: whatever fails here (fdatasync, fsync, the
// mark, the manifest's read-back, link or rename), the whole dump stays under its "-incomplete"
// name with the incomplete mark put back, and the one-line error says where.
Result<void> publish_dump(DumpWriter& writer, const Outputs& outs);

}  // namespace kk
