// Only main prints (issue 21): what the x86_64 and arm64 loaders had to leave out or assume
// comes back as values, which the load frame prints with the planner's own warnings; the
// readers themselves write nothing to stderr.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>

#include "kexec/load_x86_64.h"
#include "tests/unit/fake_root.h"

using namespace kk;
using kk::test::FakeRoot;

namespace {

// Everything written to stderr while `f` runs.
template <class F>
std::string stderr_of(F&& f) {
  std::fflush(stderr);
  FILE* tmp = std::tmpfile();
  REQUIRE(tmp);
  int saved = ::dup(STDERR_FILENO);
  ::dup2(::fileno(tmp), STDERR_FILENO);
  f();
  std::fflush(stderr);
  ::dup2(saved, STDERR_FILENO);
  ::close(saved);
  std::string out;
  std::rewind(tmp);
  for (int c; (c = std::fgetc(tmp)) != EOF;) out += static_cast<char>(c);
  std::fclose(tmp);
  return out;
}

// A root with crash_notes for one CPU and VMCOREINFO, but no /proc/kcore.
void crash_facts_without_kcore(const FakeRoot& r) {
  r.write("/sys/devices/system/cpu/possible", "0\n");
  r.write("/sys/devices/system/cpu/cpu0/crash_notes", "17fc1e000\n");
  r.write("/sys/devices/system/cpu/cpu0/crash_notes_size", "424\n");
  r.write("/sys/kernel/vmcoreinfo", "17f6e4000 1024\n");
}

}  // namespace

TEST_CASE("load warnings: no /proc/kcore is a warning in the crash facts, not a print", "[load_warnings]") {
  FakeRoot r;
  crash_facts_without_kcore(r);
  std::optional<Result<CrashMemory>> m;
  std::string printed = stderr_of([&] {
    m = read_crash_memory(r.paths, kEmX86_64, {{0x100000, 0x1000000}}, KcoreLayout::x86_64,
                          0xffff888000000000ull);
  });
  REQUIRE((m && *m));
  const CrashMemory& mem = **m;
  CHECK(printed.empty());
  REQUIRE(mem.warnings.size() == 1);
  CHECK(mem.warnings[0].starts_with("no direct-map base from /proc/kcore ("));
  CHECK(mem.warnings[0].ends_with("); the ELF core header assumes 0xffff888000000000"));
  CHECK(mem.page_offset == 0xffff888000000000ull);
}

TEST_CASE("load warnings: unreadable EFI facts are a warning, the load goes on without them", "[load_warnings]") {
  FakeRoot r;
  r.write("/sys/firmware/efi/systab", "ACPI20=0x7fb7e014\n");  // EFI boot, but no boot_params
  X86LoadInput in;
  std::optional<std::string> w;
  std::string printed = stderr_of([&] { w = add_efi_facts(in, r.paths); });
  CHECK(printed.empty());
  REQUIRE(w);
  CHECK(w->starts_with("EFI: "));
  CHECK(w->find("/sys/kernel/boot_params/data") != std::string::npos);
  CHECK(w->ends_with("; the kernel boots without EFI runtime services"));
  CHECK(!in.efi);
}

TEST_CASE("load warnings: no EFI boot is no warning", "[load_warnings]") {
  FakeRoot r;
  X86LoadInput in;
  CHECK(!add_efi_facts(in, r.paths));
  CHECK(!in.efi);
}
