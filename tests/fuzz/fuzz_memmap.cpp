// fuzz_memmap.cpp: /sys/firmware/memmap entries (start, end, type files), three NUL-separated
// texts an entry, turned into e820 entries and normalized as kexec does for boot_params.
#include "arch/x86_64/boot_params.h"
#include "tests/fuzz/fuzz_util.h"
#include "kexec/system_info.h"

using namespace kk;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> parts;
  while (parts.size() < 3 * 256) {
    size_t nul = in.find('\0');
    parts.push_back(in.substr(0, nul));
    if (nul == std::string_view::npos) break;
    in.remove_prefix(nul + 1);
  }
  std::vector<x86_64::E820Entry> entries;
  for (size_t i = 0; i + 2 < parts.size(); i += 3)
    if (std::optional<x86_64::E820Entry> e = parse_memmap_entry(parts[i], parts[i + 1], parts[i + 2]))
      entries.push_back(*e);
  (void)x86_64::normalize_e820(std::move(entries));
  return 0;
}
