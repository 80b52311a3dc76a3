#include "dumpfilter/progress.h"

#include <linux/serial.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <array>

namespace kk {

Progress::Mode Progress::pick(int message_level, int fd) {
  if (!(message_level & 1)) return Mode::off;
  if (!::isatty(fd)) return Mode::lines;
  char name[256];
  if (::ttyname_r(fd, name, sizeof name) == 0 && serial_name(name)) return Mode::lines;
  struct serial_struct ss;
  if (::ioctl(fd, TIOCGSERIAL, &ss) == 0) return Mode::lines;  // a UART under another name
  return Mode::tty;
}

bool Progress::serial_name(std::string_view n) {
  static constexpr std::array<std::string_view, 7> prefixes = {
      "/dev/console", "/dev/ttyS", "/dev/ttyAMA", "/dev/hvc", "/dev/ttyUSB", "/dev/ttyACM", "/dev/ttysclp"};
  for (std::string_view p : prefixes)
    if (n.substr(0, p.size()) == p) return true;
  return false;
}

void Progress::start(std::string phase, u64 total) {
  phase_ = std::move(phase);
  total_ = total;
  done_ = bytes_ = 0;
  t0_ = last_ = Clock::now();
}

void Progress::update(u64 done, u64 bytes) {
  done_ = done;
  bytes_ = bytes;
  if (mode_ == Mode::off) return;
  auto now = Clock::now();
  auto gap = mode_ == Mode::tty ? std::chrono::milliseconds(200) : std::chrono::milliseconds(5000);
  if (now - last_ < gap) return;
  last_ = now;
  draw(false);
}

void Progress::finish() {
  if (mode_ == Mode::off) return;
  done_ = total_;
  draw(true);
}

void Progress::draw(bool final) {
  double secs = std::chrono::duration<double>(Clock::now() - t0_).count();
  double pct = total_ ? 100.0 * static_cast<double>(done_) / static_cast<double>(total_) : 100.0;
  double mbs = secs > 0 ? static_cast<double>(bytes_) / 1e6 / secs : 0;
  double eta = (pct > 0 && pct < 100) ? secs * (100 - pct) / pct : 0;
  const char* lead = mode_ == Mode::tty ? "\r" : "";
  std::fprintf(out_, "%s%s: %5.1f%% %8.1f MB/s  ETA %4.0fs  ", lead, phase_.c_str(), pct, mbs, eta);
  if (mode_ == Mode::lines || final) std::fprintf(out_, "\n");
  std::fflush(out_);
}

}  // namespace kk
