// dtb.h: the device-tree edits a kexec'd arm64 kernel needs (Documentation/devicetree/bindings/
// chosen.txt and arm64 booting.rst): /chosen bootargs, linux,initrd-start/-end, and for a crash
// kernel linux,elfcorehdr (where the ELF core header is) and linux,usable-memory-range (the only
// RAM it may use). Done with libfdt on a copy of the running kernel's /sys/firmware/fdt (or a
// --dtb file). Pure: bytes in, bytes out.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "lib/io/result.h"
#include "lib/io/types.h"

namespace kk::arm64 {

struct Range {
  u64 start = 0;
  u64 size = 0;
};

struct ChosenEdits {
  std::optional<std::string> bootargs;  // replaces bootargs; nullopt leaves it as it is
  std::optional<Range> initrd;          // set, or removed when nullopt (a stale one would lie)
  std::optional<Range> elfcorehdr;      // crash kernel only
  std::optional<Range> usable_memory;   // crash kernel only
};

// Returns the edited blob, packed. Ranges in linux,elfcorehdr and linux,usable-memory-range are
// written with the root node's #address-cells / #size-cells, as the kernel reads them.
Result<std::vector<std::byte>> edit_chosen(std::span<const std::byte> dtb, const ChosenEdits& e);

// What a blob says in /chosen (for tests and -d): absent properties are nullopt.
struct ChosenView {
  std::optional<std::string> bootargs;
  std::optional<u64> initrd_start, initrd_end;
  std::optional<Range> elfcorehdr, usable_memory;
};
Result<ChosenView> read_chosen(std::span<const std::byte> dtb);

// The PL011 UART /chosen/stdout-path names (its MMIO base), for the purgatory's messages;
// nullopt when the console is something else or not named.
std::optional<u64> stdout_pl011(std::span<const std::byte> dtb);

}  // namespace kk::arm64
