// host.h: the thin layer between kdumpctl's logic and the machine. Every file kdumpctl reads
// or writes under /proc, /sys, /etc, /boot and /var goes through Host::path(), so the tests
// run the real commands on a fixture tree (--root DIR); every program it starts goes through
// run(), which takes an argument vector (never a shell string).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "lib/io/result.h"

namespace kk {

struct RunIo {
  int in_fd = -1;   // -1: inherit
  int out_fd = -1;  // -1: inherit
};

class Host {
 public:
  explicit Host(std::string root) : root_(std::move(root)) {}
  // The path as seen on this machine: root prefix + an absolute path.
  std::string path(std::string_view abs) const { return root_ + std::string(abs); }
  bool prefixed() const { return !root_.empty(); }

  bool exists(std::string_view abs) const;
  Result<std::string> read(std::string_view abs, size_t max = 1u << 20) const;
  // The first line of a small /proc or /sys file, blanks trimmed.
  Result<std::string> read_value(std::string_view abs) const;

 private:
  std::string root_;
};

// Runs argv[0] (looked up in PATH) and waits; returns its exit status (128+N for signal N).
// Failing to start it is an error naming the program.
Result<int> run(const std::vector<std::string>& argv, RunIo io = {});
// Like run(), but a non-zero status is an error: "PROGRAM exited with status N".
Result<void> run_ok(const std::vector<std::string>& argv, RunIo io = {});
// producer | consumer: both run at once, the producer's stdout into the consumer's stdin; an
// error names the one that failed (both are waited for).
Result<void> run_pipe(const std::vector<std::string>& producer, const std::vector<std::string>& consumer);
// run_ok(), returning what the program wrote on stdout (at most `max` bytes).
Result<std::string> run_output(const std::vector<std::string>& argv, size_t max = 64 << 10);
// The full path of a program in PATH, or "" when there is none.
std::string find_program(std::string_view name);
// Whether makedumpfile is installed here (a peer's kdump.conf may name it as the collector).
inline bool has_makedumpfile() { return !find_program("makedumpfile").empty(); }
// Writes data to path through a 0600 temporary beside it, fsync'ed and renamed.
Result<void> write_file_atomic(const std::string& path, std::string_view data);
// rename(from, to) that never replaces an existing `to` (RENAME_NOREPLACE, or link and unlink
// where the file system lacks it, as NFS does).
Result<void> rename_noreplace(const std::string& from, const std::string& to);
// fsync a file or directory by path.
Result<void> fsync_path(const std::string& path);

}  // namespace kk
