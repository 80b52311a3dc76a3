#!/usr/bin/python3
"""kdumpfile_pagecmp.py: pagecmp (tests/tools/pagecmp.cpp) with a reader that is not ours.

Both dumps are read by libkdumpfile (Debian's libkdumpfile10, the library drgn reads dumps
through), over ctypes: our dumps are judged by a reader we did not write, where pagecmp would
judge our writer with our own reader.

  kdumpfile_pagecmp.py same A B     A and B hold the same pfns with the same bytes
  kdumpfile_pagecmp.py subset A B   every page of A is in B with the same bytes

A page is present when libkdumpfile reads it (a zero page stored once and shared counts); its
"no data" answer means absent, any other error stops the run. Prints pagecmp's line of counts;
exit 0 when the relation holds, 1 when it does not, 2 on errors.
"""
import ctypes
import os
import sys

KDUMP_OK, KDUMP_ERR_NODATA = 0, 3
KDUMP_MACHPHYSADDR = 1  # physical addresses as the dump stores them, no translation set up
KDUMP_NUMBER, KDUMP_STRING, KDUMP_BITMAP = 2, 4, 5


class _Value(ctypes.Union):
    _fields_ = [("number", ctypes.c_uint64), ("string", ctypes.c_char_p), ("ptr", ctypes.c_void_p)]


class _Attr(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("val", _Value)]


def _lib():
    lib = ctypes.CDLL("libkdumpfile.so.10")
    lib.kdump_new.restype = ctypes.c_void_p
    lib.kdump_get_err.restype = ctypes.c_char_p
    lib.kdump_get_err.argtypes = [ctypes.c_void_p]
    lib.kdump_open_fdset.argtypes = [ctypes.c_void_p, ctypes.c_uint, ctypes.POINTER(ctypes.c_int)]
    lib.kdump_get_typed_attr.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(_Attr)]
    lib.kdump_read.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint64, ctypes.c_void_p,
                               ctypes.POINTER(ctypes.c_size_t)]
    lib.kdump_bmp_find_set.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_uint64)]
    lib.kdump_bmp_find_clear.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_uint64)]
    return lib


class Dump:
    def __init__(self, lib, path):
        self.lib, self.path = lib, path
        self.ctx = lib.kdump_new()
        self.fd = os.open(path, os.O_RDONLY)
        fds = (ctypes.c_int * 1)(self.fd)
        if lib.kdump_open_fdset(self.ctx, 1, fds) != KDUMP_OK:
            raise RuntimeError(f"{path}: libkdumpfile: {self.err()}")
        self.page_size = self.attr(b"arch.page_size", KDUMP_NUMBER).number
        self.max_pfn = self.attr(b"max_pfn", KDUMP_NUMBER).number
        self.format = self.attr(b"file.format", KDUMP_STRING).string.decode()
        self.buf = ctypes.create_string_buffer(self.page_size)

    def err(self):
        e = self.lib.kdump_get_err(self.ctx)
        return e.decode() if e else "unknown error"

    def attr(self, key, kind):
        a = _Attr()
        a.type = kind
        if self.lib.kdump_get_typed_attr(self.ctx, key, ctypes.byref(a)) != KDUMP_OK:
            raise RuntimeError(f"{self.path}: libkdumpfile: {key.decode()}: {self.err()}")
        return a.val

    def read(self, pfn):
        """The page's bytes, or None when the dump does not hold it."""
        n = ctypes.c_size_t(self.page_size)
        st = self.lib.kdump_read(self.ctx, KDUMP_MACHPHYSADDR, pfn * self.page_size, self.buf, ctypes.byref(n))
        if st == KDUMP_ERR_NODATA:
            return None
        if st != KDUMP_OK or n.value != self.page_size:
            raise RuntimeError(f"{self.path}: libkdumpfile: pfn {pfn:#x}: {self.err()}")
        return self.buf.raw

    def candidates(self):
        """Pfns that may be present: the page bitmap's set runs for kdump-compressed files (read
        anyway, so a bitmap that lies is caught), every pfn for the others."""
        if self.format != "diskdump":
            return range(self.max_pfn)
        bmp = self.attr(b"file.pagemap", KDUMP_BITMAP).ptr
        out, idx = [], ctypes.c_uint64(0)
        while idx.value < self.max_pfn and self.lib.kdump_bmp_find_set(bmp, ctypes.byref(idx)) == KDUMP_OK:
            start = idx.value
            if start >= self.max_pfn:
                break
            end = idx.value if self.lib.kdump_bmp_find_clear(bmp, ctypes.byref(idx)) == KDUMP_OK else self.max_pfn
            end = min(max(end, start + 1), self.max_pfn)
            out.append(range(start, end))
            idx.value = end
        return [pfn for r in out for pfn in r]


def compare(a, b, same):
    """Counts as pagecmp prints them; B's own pages are counted only for "same" (b None else)."""
    c = dict(a=0, b=None, both=0, only_a=0, only_b=0, differ=0)
    first, in_a = None, set()
    for pfn in a.candidates():
        x = a.read(pfn)
        if x is None:
            continue
        in_a.add(pfn)
        c["a"] += 1
        y = b.read(pfn)
        if y is None:
            c["only_a"] += 1
        else:
            c["both"] += 1
            c["differ"] += x != y
        if (y is None or x != y) and first is None:
            first = pfn
    if same:
        for pfn in b.candidates():
            if pfn not in in_a and b.read(pfn) is not None:
                c["only_b"] += 1
                first = pfn if first is None else min(first, pfn)
        c["b"] = c["both"] + c["only_b"]
    return c, first


def main(argv):
    if len(argv) != 4 or argv[1] not in ("same", "subset"):
        print("usage: kdumpfile_pagecmp.py same|subset A B", file=sys.stderr)
        return 2
    try:
        lib = _lib()
        a, b = Dump(lib, argv[2]), Dump(lib, argv[3])
        if a.page_size != b.page_size:
            raise RuntimeError("page sizes differ")
        c, first = compare(a, b, argv[1] == "same")
    except (OSError, RuntimeError) as e:
        print(f"kdumpfile_pagecmp: {e}", file=sys.stderr)
        return 2
    same = argv[1] == "same"
    ok = c["differ"] == 0 and c["only_a"] == 0 and (not same or c["only_b"] == 0) and c["both"] > 0
    bad = "" if ok else f" (first at pfn {first:#x})"
    b_pages = "-" if c["b"] is None else c["b"]
    print(f"kdumpfile_pagecmp {argv[1]}: A {c['a']} pages, B {b_pages}, compared {c['both']}, "
          f"only A {c['only_a']}, only B {c['only_b']}, differ {c['differ']}{bad}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
