// input_window.h: /proc/vmcore's pages seen through a mapping instead of copied out by pread.
// In a capture kernel every pread of /proc/vmcore copies old memory a page at a time through the
// kernel (60-75 % of a dump's time was system time); mmap of /proc/vmcore is a PFN map of old
// memory, set up at mmap time: no page cache, no copy, nothing counted in RSS. A regular file is
// never mapped (its page-cache pages would count in RSS, and an I/O error through a mapping is
// SIGBUS, not a lost page): it keeps pread. Each pipeline thread keeps one window mapped, so the
// mapped range is bounded whatever the size of the dump. Where a window cannot be mapped the
// caller reads with pread, as before.
#pragma once

#include <optional>

#include "lib/io/types.h"

namespace kk {

inline constexpr i64 kProcSuperMagic = 0x9fa0;  // statfs f_type of /proc (linux/magic.h)

// What the command line asks: procfs (the default: map where the input is /proc/vmcore-like),
// never (--non-mmap: pread throughout), any_file (tests only: a regular file mapped too, so the
// mapped path runs on fixtures).
enum class MapRequest { never, procfs, any_file };

// Pure: whether an input whose fstatfs() f_type is fs_type (nullopt: fstatfs failed) is read
// through windows. Decided by what the file is, not by its name.
bool should_map(MapRequest r, std::optional<i64> fs_type);
MapRequest map_request(bool non_mmap);

// fstatfs(fd)'s f_type, nullopt on failure.
std::optional<i64> fs_type_of(int fd);

// The file range a window maps: [start, start + size), page-aligned start.
struct WindowSpan {
  u64 start = 0;
  u64 size = 0;
};

// Pure: the window that holds [offset, offset + len) of a file of file_size bytes, mapped in
// page_size units: aligned to `window` so that the next requests fall in it too, longer where the
// range crosses a window boundary, cut at the file's last page. nullopt: the range is empty or
// reaches past the end of the file (the reader reports that).
std::optional<WindowSpan> plan_window(u64 offset, u64 len, u64 file_size, u64 page_size, u64 window);

// How a window is mapped: read-only, shared. MAP_FAILED (errno set) on failure. A seam: tests put
// in one that fails.
using MapFn = void* (*)(u64 len, int fd, u64 offset);
void* map_read_only(u64 len, int fd, u64 offset);

// The window each thread maps, chosen by measurement in the capture kernel (input_window.cpp).
extern const u64 kDefaultWindowBytes;

// How an input maps its pages: the descriptor (-1: not at all), the window size, the mapper.
struct MapSetup {
  int fd = -1;
  u64 window = kDefaultWindowBytes;
  MapFn map = map_read_only;
};

class InputWindow {
 public:
  InputWindow() = default;
  InputWindow(const InputWindow&) = delete;
  InputWindow& operator=(const InputWindow&) = delete;
  ~InputWindow();

  // Bytes [offset, offset + len) of m.fd (file_size bytes long) in memory, or nullptr where they
  // cannot be mapped (the caller then reads them: an old kernel without mmap on /proc/vmcore, an
  // unaligned range, EINVAL/ENOMEM). Valid until the next call or destruction.
  const std::byte* view(const MapSetup& m, u64 file_size, u64 offset, u64 len);

 private:
  void unmap();

  std::byte* base_ = nullptr;
  WindowSpan span_;
  int fd_ = -1;
  std::optional<WindowSpan> failed_;  // the last window mmap refused: read, not retried, until we move on
};

}  // namespace kk
