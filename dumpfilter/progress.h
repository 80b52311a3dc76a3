// progress.h: progress for people. On a terminal: one line redrawn with percent and rate; on a
// serial console (not a tty) a line every few seconds only when asked; otherwise silent.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>

#include "io/types.h"

namespace kk {

class Progress {
 public:
  enum class Mode { off, tty, lines };
  Progress(Mode mode, std::FILE* out) : mode_(mode), out_(out) {}
  static Mode pick(int message_level, int fd);

  void start(std::string phase, u64 total);
  void update(u64 done, u64 bytes);
  void finish();

 private:
  using Clock = std::chrono::steady_clock;
  void draw(bool final);

  Mode mode_;
  std::FILE* out_;
  std::string phase_;
  u64 total_ = 0, done_ = 0, bytes_ = 0;
  Clock::time_point t0_, last_;
};

}  // namespace kk
