// dmesg_command.cpp: --dump-dmesg, the crashed kernel's log into a file.
#include "dumpfilter/dmesg.h"
#include "dumpfilter/dumper.h"
#include "dumpfilter/kernel_memory.h"
#include "lib/io/file.h"

namespace kk {

Result<u64> run_dump_dmesg(const std::string& input, const std::string& output, bool force) {
  KK_TRY_ASSIGN(std::unique_ptr<DumpInput> in, open_dump_input(input));
  Result<KernelMemory> km = open_kernel_memory(*in);
  if (!km) return std::move(km).error().context(input);
  const Vmcoreinfo& vi = in->vmcoreinfo();
  Result<std::string> log = extract_dmesg(vi, *km->reader, makedumpfile_caller_column(vi));
  if (!log) return std::move(log).error().context(input);
  KK_TRY_ASSIGN(OutputFile out, OutputFile::create(output, force));
  KK_TRY(out.write_at(0, as_bytes_of(*log)));
  KK_TRY(out.publish());
  return static_cast<u64>(log->size());
}

}  // namespace kk
