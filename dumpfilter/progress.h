// progress.h: progress for people. On a terminal: one line redrawn with percent, rate and ETA.
// On a serial console (the capture kernel's console is usually one, and its log is kept line by
// line) and off a terminal when asked: a line every few seconds; otherwise silent.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>

#include "lib/io/types.h"

namespace kk {

class Progress {
 public:
  enum class Mode { off, tty, lines };
  Progress(Mode mode, std::FILE* out) : mode_(mode), out_(out) {}
  static Mode pick(int message_level, int fd);
  // Pure: whether a terminal with this name is a serial line or the kernel console
  // (/dev/ttyS0, /dev/ttyAMA0, /dev/hvc0, /dev/console ...), not a screen.
  static bool serial_name(std::string_view tty_name);

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
