#!/usr/bin/python3
"""erase_check.py: what --config changed in a kdump-compressed dump, read with kdump_pages.py.

  erase_check.py eraseinfo DUMP          the eraseinfo text (offset_eraseinfo/size_eraseinfo)
  erase_check.py diff A B                byte runs that differ in pages both keep, one line each:
                                         "PADDR LEN A-BYTES B-BYTES" (hex); then pages only in A or B
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kdump_pages import SUB, Dump  # noqa: E402


def eraseinfo(path):
    d = Dump(path)
    d.f.seek(d.block_size)
    fields = SUB.unpack(d.f.read(SUB.size))
    off, size = fields[9], fields[10]
    if not off or not size:
        return b""
    d.f.seek(off)
    return d.f.read(size)


def runs(a, b):
    """(start, end) of the stretches where a and b differ."""
    i, n = 0, len(a)
    while i < n:
        if a[i] == b[i]:
            i += 1
            continue
        j = i
        while j < n and a[j] != b[j]:
            j += 1
        yield i, j
        i = j


def diff(path_a, path_b):
    a, b = Dump(path_a), Dump(path_b)
    pa, pb = dict(a.pages()), dict(b.pages())
    for pfn in sorted(pa.keys() & pb.keys()):
        x, y = pa[pfn], pb[pfn]
        if x == y:
            continue
        for s, e in runs(x, y):
            print(f"{pfn * a.block_size + s:x} {e - s} {x[s:e].hex()} {y[s:e].hex()}")
    only_a, only_b = pa.keys() - pb.keys(), pb.keys() - pa.keys()
    print(f"pages only in A: {len(only_a)}, only in B: {len(only_b)}")


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "eraseinfo":
        sys.stdout.write(eraseinfo(sys.argv[2]).decode(errors="replace"))
        return 0
    if len(sys.argv) == 4 and sys.argv[1] == "diff":
        diff(sys.argv[2], sys.argv[3])
        return 0
    raise SystemExit(__doc__)


if __name__ == "__main__":
    sys.exit(main())
