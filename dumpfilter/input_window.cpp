#include "dumpfilter/input_window.h"

#include <sys/mman.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>

namespace kk {

// 16 MiB, measured in the capture kernel (bench/README.md "/proc/vmcore mapped"): faster than 4 MiB
// (makedumpfile's) and 1 MiB in every paired round. On /proc/vmcore a window costs page-table
// setup and teardown only (16 MiB: 32 KiB of page tables), no page cache and no RSS.
const u64 kDefaultWindowBytes = u64{16} << 20;

namespace {

u64 system_page_size() {
  static const u64 ps = static_cast<u64>(::sysconf(_SC_PAGESIZE));
  return ps;
}

bool holds(const WindowSpan& w, u64 offset, u64 len) {
  return offset >= w.start && offset - w.start <= w.size && len <= w.size - (offset - w.start);
}

}  // namespace

bool should_map(MapRequest r, std::optional<i64> fs_type) {
  switch (r) {
    case MapRequest::never: return false;
    case MapRequest::any_file: return true;
    case MapRequest::procfs: return fs_type == kProcSuperMagic;
  }
  return false;
}

MapRequest map_request(bool non_mmap) { return non_mmap ? MapRequest::never : MapRequest::procfs; }

std::optional<i64> fs_type_of(int fd) {
  struct statfs fs;
  if (::fstatfs(fd, &fs) != 0) return std::nullopt;
  return static_cast<i64>(fs.f_type);
}

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

void* map_read_only(u64 len, int fd, u64 offset) {
  // /proc/vmcore remaps old memory at mmap time (no faults later); no MAP_POPULATE needed.
  return ::mmap(nullptr, len, PROT_READ, MAP_SHARED, fd, static_cast<off_t>(offset));
}

InputWindow::~InputWindow() { unmap(); }

void InputWindow::unmap() {
  if (base_) ::munmap(base_, span_.size);
  base_ = nullptr;
  span_ = {};
}

const std::byte* InputWindow::view(const MapSetup& m, u64 file_size, u64 offset, u64 len) {
  if (m.fd < 0) return nullptr;
  if (base_ && m.fd == fd_ && holds(span_, offset, len)) return base_ + (offset - span_.start);
  std::optional<WindowSpan> w = plan_window(offset, len, file_size, system_page_size(), m.window);
  if (!w) return nullptr;
  if (failed_ && m.fd == fd_ && failed_->start == w->start && failed_->size == w->size) return nullptr;
  unmap();
  fd_ = m.fd;
  void* p = m.map(w->size, m.fd, w->start);
  if (p == MAP_FAILED) {
    failed_ = *w;  // this range is read instead; the next window is tried again
    return nullptr;
  }
  failed_.reset();
  base_ = static_cast<std::byte*>(p);
  span_ = *w;
  return base_ + (offset - span_.start);
}

}  // namespace kk
