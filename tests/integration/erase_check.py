#!/usr/bin/python3
"""erase_check.py: what --config changed in a kdump-compressed dump, read with kdump_pages.py.

  erase_check.py eraseinfo DUMP          the eraseinfo text (offset_eraseinfo/size_eraseinfo)
  erase_check.py elf-eraseinfo CORE      the text of an ELF core's ERASEINFO note (padding dropped)
  erase_check.py diff A B                byte runs that differ in pages both keep, one line each:
                                         "PADDR LEN A-BYTES B-BYTES" (hex); then pages only in A or B
"""
import os
import struct
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


def elf_eraseinfo(path):
    with open(path, "rb") as f:
        eh = f.read(64)
        if eh[:4] != b"\x7fELF" or eh[4] != 2:
            raise SystemExit(f"{path}: not an ELF64 file")
        phoff, = struct.unpack_from("<Q", eh, 32)
        phnum, = struct.unpack_from("<H", eh, 56)
        if phnum == 0xffff:  # PN_XNUM: the count is in section header 0's sh_info
            shoff, = struct.unpack_from("<Q", eh, 40)
            f.seek(shoff + 44)
            phnum, = struct.unpack("<I", f.read(4))
        f.seek(phoff)
        for _ in range(phnum):
            p_type, _fl, off, _va, _pa, filesz, _msz, _al = struct.unpack("<IIQQQQQQ", f.read(56))
            if p_type != 4:  # PT_NOTE
                continue
            f.seek(off)
            notes, pos = f.read(filesz), 0
            while pos + 12 <= len(notes):
                namesz, descsz, _t = struct.unpack_from("<III", notes, pos)
                name = notes[pos + 12:pos + 12 + namesz].rstrip(b"\0")
                desc_at = pos + 12 + (namesz + 3) // 4 * 4
                if name == b"ERASEINFO":
                    return notes[desc_at:desc_at + descsz].rstrip(b"\0")
                pos = desc_at + (descsz + 3) // 4 * 4
            return b""
    return b""


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
    if len(sys.argv) == 3 and sys.argv[1] == "elf-eraseinfo":
        sys.stdout.write(elf_eraseinfo(sys.argv[2]).decode(errors="replace"))
        return 0
    if len(sys.argv) == 4 and sys.argv[1] == "diff":
        diff(sys.argv[2], sys.argv[3])
        return 0
    raise SystemExit(__doc__)


if __name__ == "__main__":
    sys.exit(main())
