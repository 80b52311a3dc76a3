#include "dumpfilter/input_window.h"

#include <sys/mman.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace kk {

namespace {

constexpr long kProcSuperMagic = 0x9fa0;  // statfs f_type of /proc (linux/magic.h)

u64 system_page_size() {
  static const u64 ps = static_cast<u64>(::sysconf(_SC_PAGESIZE));
  return ps;
}

}  // namespace

std::optional<WindowSpan> plan_window(u64 offset, u64 len, u64 file_size, u64 page_size, u64 window) {
  if (len == 0 || offset >= file_size || len > file_size - offset) return std::nullopt;
  u64 end = offset + len;
  u64 file_end = align_up(file_size, page_size);
  WindowSpan w;
  w.start = offset / window * window;
  if (end > w.start + window) w.start = offset / page_size * page_size;  // crosses: start here
  w.size = std::min(std::max(window, align_up(end, page_size) - w.start), file_end - w.start);
  return w;
}

MapCheck map_check_for(int fd) {
  struct statfs fs;
  if (::fstatfs(fd, &fs) == 0 && fs.f_type == kProcSuperMagic) return MapCheck::none;
  return MapCheck::resident;
}

InputWindow::~InputWindow() { unmap(); }

void InputWindow::unmap() {
  if (base_) ::munmap(base_, span_.size);
  base_ = nullptr;
  span_ = {};
}

bool InputWindow::all_resident() {
  u64 pages = span_.size / system_page_size();
  resident_.resize(pages);
  if (::mincore(base_, span_.size, resident_.data()) != 0) return false;
  return std::all_of(resident_.begin(), resident_.end(), [](unsigned char c) { return c & 1; });
}

const std::byte* InputWindow::view(int fd, u64 file_size, u64 offset, u64 len, MapCheck check) {
  if (disabled_ || fd < 0) return nullptr;
  if (base_ && fd == fd_ && offset >= span_.start && offset + len <= span_.start + span_.size)
    return base_ + (offset - span_.start);
  std::optional<WindowSpan> w = plan_window(offset, len, file_size, system_page_size(), kWindowBytes);
  if (!w) return nullptr;
  unmap();
  // MAP_POPULATE: the page tables filled in one call (for a file on a disk, its pages read in if
  // they were not cached), not a fault per 16 pages.
  void* p = ::mmap(nullptr, w->size, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, static_cast<off_t>(w->start));
  if (p == MAP_FAILED) {
    disabled_ = errno != ENOMEM;  // not mappable at all (a pipe, a filesystem without mmap)
    return nullptr;
  }
  base_ = static_cast<std::byte*>(p);
  span_ = *w;
  fd_ = fd;
  if (check == MapCheck::resident && !all_resident()) {
    unmap();  // pread reads it, and reports the error a mapping would turn into SIGBUS
    return nullptr;
  }
  return base_ + (offset - span_.start);
}

}  // namespace kk
