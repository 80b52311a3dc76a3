// erase_plan.h: --config's erase rules turned into physical byte ranges, and the edits applied to
// the pages being dumped. Planning resolves each `symbol.member` through the vmlinux's types
// (TypeSource) and follows pointers and lists in the dump's own memory (KernelReader); the result
// is a sorted list of pieces, each inside one page, so the dump pass edits a page given its pfn
// without looking anything up. The eraseinfo text recorded in the dump says what was erased, in
// makedumpfile's form ("erase EXPR size N\n" / "erase EXPR nullify\n"), which crash shows.
#pragma once

#include <atomic>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "lib/debuginfo/type_source.h"
#include "dumpfilter/filter_config.h"
#include "dumpfilter/kernel_reader.h"

namespace kk {

class DumpInput;

inline constexpr std::byte kEraseFill{'X'};  // makedumpfile's poison byte (0x58)

// Bounds, whatever the config and the dump say: at most this many pieces (16 MiB of plan), loop
// iterations per loop, and bytes of a char* string (makedumpfile's limit).
inline constexpr size_t kMaxErasePieces = 1u << 20;
inline constexpr u64 kMaxLoopIterations = 1u << 20;
inline constexpr u64 kMaxEraseString = 1024;

struct ErasePiece {
  u64 paddr = 0;
  u32 size = 0;
  bool nullify = false;  // zeros instead of 'X'
  u32 entry = 0;         // index of the erase command instance it belongs to
};

// One erase command, once per loop iteration: a line of the eraseinfo when any of its bytes are in
// a dumped page.
struct EraseEntry {
  std::string expr;
  bool nullify = false;
  u32 command = 0;  // erase commands numbered in file order
  u64 iteration = 0;
};

class ErasePlan {
 public:
  ErasePlan() = default;
  ErasePlan(std::vector<ErasePiece> pieces, std::vector<EraseEntry> entries, u64 page_size);
  ErasePlan(ErasePlan&&) = default;
  ErasePlan& operator=(ErasePlan&&) = default;

  const std::vector<ErasePiece>& pieces() const { return pieces_; }
  const std::vector<EraseEntry>& entries() const { return entries_; }
  bool empty() const { return pieces_.empty(); }

  // Overwrites the planned bytes inside page `pfn` (page.size() == page size). Safe to call from
  // several threads at once, each on its own page.
  void apply(u64 pfn, std::span<std::byte> page) const;
  // After the dump: the eraseinfo of every entry some applied piece belongs to, sizes summed over
  // the pieces applied ("" when nothing was erased).
  std::string eraseinfo() const;
  // The longest eraseinfo() can be (every piece applied): what ELF output reserves before the pages.
  u64 eraseinfo_bound() const;

 private:
  std::vector<ErasePiece> pieces_;  // sorted by paddr, none crossing a page boundary
  std::vector<EraseEntry> entries_;
  u64 page_size_ = 4096;
  std::unique_ptr<std::atomic<bool>[]> applied_;  // per piece
  std::string format(bool all) const;
};

struct EraseTarget {
  const debuginfo::TypeSource& types;
  const KernelReader& memory;  // reads and virt_to_phys in the crashed kernel
  u64 kernel_offset = 0;       // KASLR: added to the vmlinux's kernel-image addresses
  u64 page_size = 4096;
};

// Pure over its two interfaces: resolves every command; errors name the line.
Result<ErasePlan> plan_erase(const FilterConfig& cfg, const EraseTarget& target);

// --config FILE -x VMLINUX on a dump: reads both, checks that the vmlinux is the dump's kernel
// (init_uts_ns at the address vmcoreinfo gives), and plans.
Result<ErasePlan> plan_erase_for_dump(const std::string& config_path, const std::string& vmlinux_path,
                                      const DumpInput& in, const KernelReader& memory);

}  // namespace kk
