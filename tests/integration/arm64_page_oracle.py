#!/usr/bin/python3
"""arm64_page_oracle.py VMCORE VMLINUX DIR: our kdump files DIR/ours.D (D = 1 2 4 8 16) against
the kernel's own data, read by drgn from the full VMCORE. For Debian's arm64 6.12 and 7.x, where
no makedumpfile reads the kernel: 1.7.8 refuses CONFIG_ARM64_VA_BITS=52 with 4K or 16K pages
("PAGE SIZE ... and VA Bits 52 not supported"; Debian's 6.12 and 7.2 arm64 configs set
CONFIG_ARM64_VA_BITS_52, its 6.1 had 48).
  -d 1:  we drop no page, and the pages stored once and shared (one page descriptor for many
         pfns, as makedumpfile writes them) are exactly the all-zero pages of the vmcore;
  -d 16: exactly the pages on the buddy allocator's free lists;
  -d 2, 4, 8: every page we drop is of the class, its folio's head deciding (page cache
         without private data / page cache / anonymous, swap cache included). One way only: the
         class's pages we keep are not checked here (drgn on our -d 31 dump checks we lose none
         of what the analysis reads).
Prints one line per level; exit 1 on any disagreement, naming a few pfns."""
import sys

import drgn
from drgn.helpers.linux.list import list_for_each_entry
from drgn.helpers.linux.mm import PagePrivate, PageTail, compound_head, page_to_pfn, pfn_to_page

from kdump_pages import DESC, Dump


def ram_and_kept(dump_path):
    d = Dump(dump_path)
    ram = {i * 8 + b for i, byte in enumerate(d.bitmap1) if byte for b in range(8) if byte >> b & 1}
    return d.block_size, {p for p in ram if p < d.max_mapnr}, set(d.dumped_pfns())


def shared_pfns(dump_path):
    """The pfns whose page descriptor is shared with another pfn (the one stored zero page)."""
    d = Dump(dump_path)
    pfns = list(d.dumped_pfns())
    d.f.seek(d.desc_off)
    offs = [DESC.unpack(d.f.read(DESC.size))[0] for _ in pfns]
    count = {}
    for o in offs:
        count[o] = count.get(o, 0) + 1
    return {p for p, o in zip(pfns, offs) if count[o] > 1}


def zero_pages(prog, pfns, page):
    zero = bytes(page)
    return {p for p in pfns if prog.read(p * page, page, True) == zero}


def pgdats(prog):
    try:
        return [prog["contig_page_data"]]
    except KeyError:
        nodes = prog["node_data"]
        return [nodes[i][0] for i in range(len(nodes)) if nodes[i].value_()]


def buddy_free(prog):
    free = set()
    member = "buddy_list" if prog.type("struct page").has_member("buddy_list") else "lru"
    for pgdat in pgdats(prog):
        for zone in pgdat.node_zones[:pgdat.nr_zones.value_()]:
            for order, area in enumerate(zone.free_area):
                for fl in area.free_list:
                    for pg in list_for_each_entry("struct page", fl.address_of_(), member):
                        start = page_to_pfn(pg).value_()
                        free.update(range(start, start + (1 << order)))
    return free


def head_class(prog, pfn):
    page = pfn_to_page(prog, pfn)
    head = compound_head(page) if PageTail(page) else page
    mapping = head.mapping.value_()
    if mapping & 1:
        return "anon"
    if mapping:
        return "cache-private" if PagePrivate(head) else "cache"
    return "other"


ALLOWED = {2: {"cache"}, 4: {"cache", "cache-private"}, 8: {"anon"}}


def main(argv):
    vmcore, vmlinux, odir = argv[1:4]
    prog = drgn.Program()
    prog.set_core_dump(vmcore)
    prog.load_debug_info([vmlinux])
    bad = False
    page, ram, kept = ram_and_kept(f"{odir}/ours.1")
    dropped = ram - kept
    zeros = zero_pages(prog, ram, page)
    shared = shared_pfns(f"{odir}/ours.1")
    ok = not dropped and shared == zeros
    bad |= not ok
    print(f"-d 1: ram {len(ram)} pages of {page} B; we drop {len(dropped)}; stored shared "
          f"{len(shared)}, all-zero {len(zeros)}: {'equal' if ok else 'DIFFER ' + str(sorted(shared ^ zeros)[:5])}")
    _, ram, kept = ram_and_kept(f"{odir}/ours.16")
    dropped = ram - kept
    free = buddy_free(prog) & ram
    ok = dropped == free
    bad |= not ok
    print(f"-d 16: we drop {len(dropped)}, buddy free lists {len(free)}: "
          f"{'equal' if ok else 'DIFFER ' + str(sorted(dropped ^ free)[:5])}")
    classes = {}
    for d in (2, 4, 8):
        _, ram, kept = ram_and_kept(f"{odir}/ours.{d}")
        dropped = ram - kept
        wrong = []
        for pfn in dropped:
            c = classes.setdefault(pfn, head_class(prog, pfn))
            if c not in ALLOWED[d]:
                wrong.append((pfn, c))
        bad |= bool(wrong)
        print(f"-d {d}: we drop {len(dropped)}, each of class {'/'.join(sorted(ALLOWED[d]))}: "
              f"{'yes' if not wrong else 'NO ' + str([(hex(p), c) for p, c in wrong[:5]])}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
