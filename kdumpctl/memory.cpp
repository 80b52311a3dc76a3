// memory.cpp: showmem (what is reserved, and what crashkernel= asks for on this machine) and
// estimate (what the capture kernel needs, from the kernel image and capture initramfs
// themselves).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "arch/x86_64/bzimage.h"
#include "lib/io/number.h"
#include "lib/io/text_file.h"
#include "lib/kernel/cpu_list.h"
#include "lib/kernel/crashkernel.h"
#include "lib/kernel/iomem.h"
#include "kdumpctl/capture_cpus.h"
#include "kdumpctl/kdumpctl.h"
#include "lib/kernel/cmdline.h"

namespace kk {

namespace {

constexpr u64 MiB = u64{1} << 20;

// RAM as the kernel sizes crashkernel= ranges by: System RAM in /proc/iomem (which includes
// the reservation), else MemTotal.
u64 system_ram(const Host& h) {
  Result<std::string> iomem = h.read("/proc/iomem");
  if (iomem) {
    Result<std::vector<IomemRange>> r = parse_iomem(*iomem);
    u64 sum = 0;
    if (r)
      for (const IomemRange& x : iomem_system_ram(*r)) sum += x.end > x.start ? x.size() : 0;
    if (sum) return sum;
  }
  Result<std::string> mi = h.read("/proc/meminfo");
  if (!mi) return 0;
  size_t p = mi->find("MemTotal:");
  if (p == std::string::npos) return 0;
  return std::strtoull(mi->c_str() + p + 9, nullptr, 10) * 1024;
}

// Size of the newc cpio archive at the front of data (an early microcode archive), 0 if the
// data does not start with one.
size_t cpio_prefix(const std::string& data) {
  size_t off = 0;
  while (data.compare(off, 6, "070701") == 0 || data.compare(off, 6, "070702") == 0) {
    if (off + 110 > data.size()) return 0;
    std::optional<u64> fsize = parse_unsigned(std::string_view(data).substr(off + 54, 8), 16);
    std::optional<u64> nsize = parse_unsigned(std::string_view(data).substr(off + 94, 8), 16);
    if (!fsize || !nsize) return 0;
    bool trailer = data.compare(off + 110, 10, "TRAILER!!!") == 0;
    off = (off + 110 + *nsize + 3) & ~size_t{3};
    off = (off + *fsize + 3) & ~size_t{3};
    if (trailer) {
      while (off < data.size() && data[off] == '\0') ++off;
      return off;
    }
  }
  return off;
}

// Unpacked size of an initramfs: an optional uncompressed cpio prefix, then one compressed
// archive, decompressed by the tool its magic names into an unlinked temporary file.
Result<u64> unpacked_size(const std::string& path) {
  KK_TRY_ASSIGN(std::string data, read_text_file(path, 1u << 30));
  size_t pre = cpio_prefix(data);
  if (pre == data.size()) return u64{pre};
  std::string_view rest = std::string_view(data).substr(pre);
  const char* tool = rest.starts_with("\x1f\x8b") ? "gzip"
                     : rest.starts_with("\x28\xb5\x2f\xfd") ? "zstd"
                     : rest.starts_with("\xfd" "7zXZ") ? "xz"
                     : rest.starts_with("\x02\x21\x4c\x18") ? "lz4"
                     : rest.starts_with("BZh") ? "bzip2" : nullptr;
  if (!tool) return make_error(Errc::unsupported, path + ": unknown initramfs compression");
  int in = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return sys_error("open " + path);
  lseek(in, static_cast<off_t>(pre), SEEK_SET);
  int out = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (out < 0) {
    close(in);
    return sys_error("O_TMPFILE in /tmp");
  }
  Result<void> r = run_ok({tool, "-dc"}, RunIo{in, out});
  struct stat st {};
  fstat(out, &st);
  close(in);
  close(out);
  if (!r) return std::move(r).error().context(path);
  return u64(pre) + u64(st.st_size);
}

}  // namespace

Result<CaptureNeed> capture_need(const std::string& kernel, const std::string& initrd) {
  CaptureNeed n;
  // The kernel: init_size is what it needs from its load address to run (bzImage header).
  KK_TRY_ASSIGN(std::vector<std::byte> image, read_binary_file(kernel, 256u << 20));
  Result<x86_64::BzImage> bz = x86_64::parse_bzimage(image);
  if (!bz) return std::move(bz).error().context(kernel);
  n.init_size = bz->init_size;
  // The initramfs: its compressed copy and the unpacked tmpfs are both resident at the peak.
  struct stat st {};
  if (stat(initrd.c_str(), &st) != 0) return sys_error(initrd + " (run kdumpctl rebuild first)");
  n.initrd = u64(st.st_size);
  Result<u64> unpacked = unpacked_size(initrd);
  if (!unpacked) return std::move(unpacked).error();
  n.unpacked = *unpacked;
  // Runtime with one CPU: dumpfilter's working set is bounded whatever the RAM (under 8 MiB at
  // one thread, tests/integration/rss_large.sh); 32 MiB covers it and the tools beside it, and
  // 32 MiB more the capture kernel's own slab, page tables and per-CPU data (the 96M minimum
  // measured with a 3 MB initramfs in shared notes leaves that much after the kernel and
  // initramfs). Each further CPU: kCaptureCpuCost (kernel/cmdline.h).
  n.runtime = 64 * MiB;
  n.total = n.init_size + n.initrd + n.unpacked + n.runtime;
  n.total += n.total / 64;  // struct page for the reservation itself: 64 bytes per 4 KiB page
  return n;
}

unsigned count_cpu_list(std::string_view list) {
  constexpr size_t kMaxCpus = 1u << 16;  // no kernel's NR_CPUS is larger
  Result<std::vector<int>> cpus = parse_cpu_list(list);
  return cpus && cpus->size() <= kMaxCpus ? unsigned(cpus->size()) : 0;
}

CaptureCpus capture_cpus(const Ctl& c) {
  CaptureCpus r;
  if (Result<std::string> on = c.host.read_value("/sys/devices/system/cpu/online")) r.online = count_cpu_list(*on);
  if (Result<std::string> size = c.host.read_value("/sys/kernel/kexec_crash_size"))
    r.reserved = parse_unsigned(*size, 10).value_or(0);
  Result<CaptureNeed> need = capture_need(c.kernel, c.initrd);
  if (need) r.n = pick_capture_cpus(r.online, r.reserved, need->total);
  return r;
}

Result<Outcome> cmd_showmem(Ctl& c) {
  KK_TRY_ASSIGN(std::string size, c.host.read_value("/sys/kernel/kexec_crash_size"));
  std::optional<u64> bytes = parse_unsigned(size, 10);
  if (!bytes) return make_error(Errc::corrupt, c.host.path("/sys/kernel/kexec_crash_size") + ": not a number");
  std::string msg = "kdump: reserved " + std::to_string(*bytes / MiB) + " MiB for the crash kernel";
  Result<std::string> cmdline = c.host.read_value("/proc/cmdline");
  if (cmdline) {
    u64 ram = system_ram(c.host);
    for (const std::string& v : find_crashkernel_values(*cmdline)) {
      Result<Crashkernel> ck = parse_crashkernel(v);
      msg += "\nkdump: crashkernel=" + v;
      if (!ck) msg += ": " + ck.error().msg;
      else msg += " asks for " + std::to_string(crashkernel_size(*ck, ram) / MiB) + " MiB with " +
                  std::to_string(ram / MiB) + " MiB of RAM";
    }
  }
  if (*bytes) {
    CaptureCpus cpus = capture_cpus(c);
    msg += "\nkdump: the capture kernel boots with nr_cpus=" + std::to_string(cpus.n) + " (" +
           (cpus.online ? std::to_string(cpus.online) : std::string("?")) + " CPUs online)";
  }
  return Outcome{*bytes ? kExitOk : kExitNoReservation, msg};
}

namespace {

u64 round_up_16m(u64 bytes) { return (bytes + 16 * MiB - 1) / (16 * MiB) * (16 * MiB); }

// estimate's lines for more CPUs: the crashkernel= each count needs, up to what the host has.
std::string cpu_lines(const CaptureNeed& need, const CaptureCpus& cpus) {
  std::string msg;
  unsigned most = std::min(std::max(1u, cpus.online), kMaxCaptureCpus);
  for (unsigned k = 2; k <= most; ++k)
    msg += "\nwith nr_cpus=" + std::to_string(k) + "    crashkernel=" +
           format_memsize(round_up_16m(capture_cpus_need(need.total, k)));
  return msg;
}

}  // namespace

Result<Outcome> cmd_estimate(Ctl& c) {
  KK_TRY_ASSIGN(CaptureNeed need, capture_need(c.kernel, c.initrd));
  u64 rounded = round_up_16m(need.total);
  CaptureCpus cpus = capture_cpus(c);
  std::string msg = "kernel init_size  " + std::to_string(need.init_size / MiB) + " MiB\n" +
                    "initramfs         " + std::to_string(need.initrd / MiB) + " MiB (" + c.initrd + ")\n" +
                    "unpacked          " + std::to_string(need.unpacked / MiB) + " MiB\n" +
                    "runtime           " + std::to_string(need.runtime / MiB) + " MiB (one CPU; " +
                    std::to_string(kCaptureCpuCost / MiB) + " MiB per further CPU)\n" +
                    "recommended       crashkernel=" + format_memsize(rounded) +
                    cpu_lines(need, cpus);
  Result<std::string> size = c.host.read_value("/sys/kernel/kexec_crash_size");
  std::optional<u64> have = size ? parse_unsigned(*size, 10) : std::nullopt;
  if (have)
    msg += "\nreserved now      " + std::to_string(*have / MiB) + " MiB" + (*have < rounded ? " (too little)" : "") +
           ": the capture kernel boots with nr_cpus=" + std::to_string(cpus.n);
  return Outcome{kExitOk, msg};
}

}  // namespace kk
