// input_window.h: an input file's pages seen through a mapping instead of copied out by pread.
// On one CPU the kernel's read copy was a quarter of `-l -d 1`'s CPU time; through a mapping the
// codec reads the page cache (in a capture kernel, /proc/vmcore's old memory) in place. Each
// pipeline thread keeps one window of kWindowBytes mapped, so the mapped memory is bounded
// whatever the size of the dump. Where a window cannot be mapped the caller reads as before.
#pragma once

#include <optional>
#include <vector>

#include "lib/io/types.h"

namespace kk {

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

// How far a window can be trusted: a file on a disk can lose a page from the page cache and then
// fail to read it back (an I/O error, the file cut short meanwhile), which through a mapping is
// SIGBUS, not EIO; such windows are used only when every page is resident. /proc/vmcore maps old
// memory directly (remap_pfn_range at mmap time): nothing to check, and mincore() cannot see it.
enum class MapCheck { resident, none };

class InputWindow {
 public:
  static constexpr u64 kWindowBytes = 1u << 20;  // 256 pages: 4 jobs of kJobPages

  InputWindow() = default;
  InputWindow(const InputWindow&) = delete;
  InputWindow& operator=(const InputWindow&) = delete;
  ~InputWindow();

  // Bytes [offset, offset + len) of fd (file_size bytes long) in memory, or nullptr where they
  // cannot be mapped (the caller then reads them). Valid until the next call or destruction.
  const std::byte* view(int fd, u64 file_size, u64 offset, u64 len, MapCheck check);

 private:
  void unmap();
  bool all_resident();

  std::byte* base_ = nullptr;
  WindowSpan span_;
  int fd_ = -1;
  bool disabled_ = false;  // mmap refused this file once: it will again
  std::vector<unsigned char> resident_;  // mincore()'s answer, one byte per page
};

// Whether fd's file needs MapCheck::resident (anything not on procfs).
MapCheck map_check_for(int fd);

}  // namespace kk
