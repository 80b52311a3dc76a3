#!/usr/bin/python3
"""compound_tails.py VMCORE VMLINUX PFNFILE THEIRS: every pfn of PFNFILE (one a line: the pages
only we keep) is, by drgn on the full VMCORE, a tail page of a compound page whose head page
THEIRS (makedumpfile's kdump file, same level) keeps: makedumpfile keeps the folio's head and drops
its tail, which no level asks for. Prints a one-line summary of the heads' kinds (slab, page
cache, anonymous, other); exit 1 (naming the first few) otherwise.

Why: Linux 7.1 renamed page.compound_head to compound_info (and its vmcoreinfo line); a dumper
that does not know it cannot tell tail pages: makedumpfile 1.7.8 reads each tail's own words,
which look anonymous, and excludes it as a user page (-d 8), kernel data included. The pages only
we keep must be exactly those."""
import collections
import sys

import drgn
from drgn.helpers.linux.mm import PageSlab, PageTail, compound_head, page_to_pfn, pfn_to_page

from kdump_pages import Dump


def kind(prog, pfn, theirs):
    page = pfn_to_page(prog, pfn)
    if not PageTail(page):
        return None, "not a tail page"
    head = compound_head(page)
    head_pfn = page_to_pfn(head).value_()
    if head_pfn not in theirs:
        return None, f"its head {head_pfn:#x} is excluded by makedumpfile too"
    if PageSlab(head):
        return "slab", None
    mapping = head.mapping.value_()
    if mapping & 1:  # PAGE_MAPPING_ANON
        return "anonymous", None
    return ("page cache" if mapping else "other kernel"), None


def main(argv):
    prog = drgn.Program()
    prog.set_core_dump(argv[1])
    prog.load_debug_info([argv[2]])
    with open(argv[3]) as f:
        pfns = [int(x) for x in f if x.strip()]
    theirs = set(Dump(argv[4]).dumped_pfns())
    kinds, bad = collections.Counter(), []
    for pfn in pfns:
        k, why = kind(prog, pfn, theirs)
        if k:
            kinds[k] += 1
        else:
            bad.append(f"{pfn:#x}: {why}")
    if bad or not pfns:
        print(f"{len(bad)} of {len(pfns)} pfns only we keep are not tails of heads makedumpfile keeps:",
              "; ".join(bad[:5]))
        return 1
    print(f"{len(pfns)} pages only we keep, all compound tails whose head makedumpfile keeps; heads:",
          ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
