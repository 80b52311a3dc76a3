// fuzz_dtb.cpp: a device-tree blob through the calls kexec makes on /sys/firmware/fdt (or --dtb):
// stdout_pl011 for the purgatory's console, edit_chosen as a normal load and as a panic load
// would, then read_chosen on each result as the tests and -d do.
#include "arch/arm64/dtb.h"
#include "tests/fuzz/fuzz_util.h"

using namespace kk;
using namespace kk::arm64;

namespace {

void edit_and_read(std::span<const std::byte> dtb, const ChosenEdits& e) {
  Result<std::vector<std::byte>> out = edit_chosen(dtb, e);
  if (!out) return;
  // What we wrote must read back: an edited blob the next kernel cannot parse is a bug here.
  Result<ChosenView> v = read_chosen(*out);
  if (!v || v->bootargs != e.bootargs) __builtin_trap();
  (void)stdout_pl011(*out);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const std::byte> dtb = fuzz::bytes_of(data, size);
  (void)stdout_pl011(dtb);
  (void)read_chosen(dtb);

  ChosenEdits normal;  // kexec -l with --initrd
  normal.bootargs = "console=ttyAMA0 root=/dev/vda1";
  normal.initrd = Range{0x48000000, 0x123000};
  edit_and_read(dtb, normal);

  ChosenEdits panic;  // kexec -p: no initrd (a stale one is removed), the crash kernel's ranges
  panic.bootargs = "console=ttyAMA0 irqpoll nr_cpus=1 reset_devices";
  panic.elfcorehdr = Range{0x7ab00000, 0x10000};
  panic.usable_memory = Range{0x70000000, 0x10000000};
  edit_and_read(dtb, panic);
  return 0;
}
