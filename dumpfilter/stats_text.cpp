// stats_text.cpp: the dump's page statistics (DumpStats) and their text: the summary after a
// dump, --mem-usage's table, and the line for pages the input could not read.
#include <cstdio>

#include "dumpfilter/dumper.h"

namespace kk {

void DumpStats::add_lost(u64 pfn) {
  ++lost_pages;
  if (!lost_ranges.empty() && lost_ranges.back().end == pfn) ++lost_ranges.back().end;
  else if (lost_ranges.size() < kMaxLostRanges) lost_ranges.push_back({pfn, pfn + 1});
}

std::string lost_pages_message(const DumpStats& s, const std::string& input, const std::string& output) {
  std::string ranges;
  for (const PfnRun& r : s.lost_ranges) {
    char b[48];
    if (r.end - r.start == 1) std::snprintf(b, sizeof b, "%#llx", static_cast<unsigned long long>(r.start));
    else std::snprintf(b, sizeof b, "%#llx-%#llx", static_cast<unsigned long long>(r.start),
                       static_cast<unsigned long long>(r.end - 1));
    ranges += (ranges.empty() ? "" : ", ") + std::string(b);
  }
  u64 listed = 0;
  for (const PfnRun& r : s.lost_ranges) listed += r.end - r.start;
  if (listed < s.lost_pages) ranges += ", ...";
  std::string where = output.empty() ? "the output" : output;
  return input + ": " + std::to_string(s.lost_pages) + " page" + (s.lost_pages == 1 ? "" : "s") +
         " could not be read (pfn " + ranges + "); " + where +
         " holds everything else, those pages marked lost and the dump marked incomplete";
}

std::string format_report(const DumpStats& s, const DumpOptions& opt) {
  auto line = [](const char* label, u64 v) {
    char b[96];
    std::snprintf(b, sizeof b, "  %-26s %12llu\n", label, static_cast<unsigned long long>(v));
    return std::string(b);
  };
  u64 excluded = 0;
  for (u64 n : s.excluded.n) excluded += n;
  std::string r = "dumpfilter: " + opt.input + " -> " + opt.output + " (kernel " + s.release +
                  ", -d " + std::to_string(opt.dump_level) + ", " +
                  std::string(codec_name(opt.codec)) + ")\n";
  r += line("pages in memory map", s.max_pfn);
  r += line("pages present", s.present_pages);
  r += line("excluded: zero", s.excluded[PageClass::zero]);
  r += line("excluded: cache", s.excluded[PageClass::cache]);
  r += line("excluded: cache private", s.excluded[PageClass::cache_private]);
  r += line("excluded: user data", s.excluded[PageClass::user]);
  r += line("excluded: free", s.excluded[PageClass::free]);
  r += line("excluded: hwpoison", s.excluded[PageClass::hwpoison]);
  r += line("excluded: offline", s.excluded[PageClass::offline]);
  r += line("pages kept", s.present_pages - excluded);
  if (s.unclassified) r += line("kept, struct page unreadable", s.unclassified);
  if (s.erase_pieces) r += line("erase pieces (--config)", s.erase_pieces);
  r += line("dump file bytes", s.file_size);
  if (!s.classified) r += "  note: pages not classified (" + s.note + ")\n";
  return r;
}

std::string format_mem_usage(const DumpStats& s) {
  struct Row {
    const char* type;
    u64 pages;
    const char* excludable;
    const char* what;
  };
  u64 excluded = 0;
  for (u64 n : s.excluded.n) excluded += n;
  const Row rows[] = {
      {"ZERO", s.excluded[PageClass::zero], "yes", "Pages filled with zero"},
      {"NON_PRI_CACHE", s.excluded[PageClass::cache], "yes", "Cache pages without private flag"},
      {"PRI_CACHE", s.excluded[PageClass::cache_private], "yes", "Cache pages with private flag"},
      {"USER", s.excluded[PageClass::user], "yes", "User process pages"},
      {"FREE", s.excluded[PageClass::free], "yes", "Free pages"},
      {"KERN_DATA", s.present_pages - excluded, "no", "Dumpable kernel data"},
  };
  std::string r = "TYPE            PAGES                   EXCLUDABLE      DESCRIPTION\n";
  r += std::string(70, '-') + "\n";
  char b[160];
  for (const Row& row : rows) {
    std::snprintf(b, sizeof b, "%-16s%-24llu%-16s%s\n", row.type,
                  static_cast<unsigned long long>(row.pages), row.excludable, row.what);
    r += b;
  }
  std::snprintf(b, sizeof b, "\npage size:              %llu\nTotal pages on system:  %llu\n"
                "Total size on system:   %llu Byte\n",
                static_cast<unsigned long long>(s.page_size),
                static_cast<unsigned long long>(s.present_pages),
                static_cast<unsigned long long>(s.present_pages * s.page_size));
  r += b;
  if (s.excluded[PageClass::hwpoison] || s.excluded[PageClass::offline])
    r += "(also left out always: " + std::to_string(s.excluded[PageClass::hwpoison]) +
         " hwpoison, " + std::to_string(s.excluded[PageClass::offline]) + " offline pages)\n";
  return r;
}

}  // namespace kk
