#!/usr/bin/python3
"""kdump_pages.py: an independent reader of kdump-compressed dumps (and ELF cores) for the tests.

Written from the format description (makedumpfile's IMPLEMENTATION), not from our C++ code, so it
checks our writer rather than agreeing with it. Reads raw and zlib pages (use -c for comparisons).

  kdump_pages.py summary DUMP            header fields as JSON
  kdump_pages.py exact OURS THEIRS [--only-ours FILE] [--sample N]
                                         the kept pfn sets (bitmap 2) equal, exactly, and N (2,000)
                                         sampled kept pages byte-equal; a kept zero page counts
                                         whether stored once and shared or written out. Prints
                                         the counts; --only-ours writes those pfns, one a line
  kdump_pages.py compare OURS THEIRS     compares kept non-zero pages; exit 1 beyond 0.5 %
  kdump_pages.py same A B                the same non-zero pages with the same bytes, exactly
Either file may be an ELF core (-E output, a vmcore): its PT_LOAD file bytes are its pages; or a
--split set written FILE1,FILE2,...
"""
import hashlib
import json
import struct
import sys
import zlib

HDR = struct.Struct("<8si390s6xqqIiiIIIIIIi")
SUB = struct.Struct("<QiiQQqQqQqQQQQ")
DESC = struct.Struct("<qIIQ")
ZLIB, LZO, SNAPPY, INCOMPLETE, ZSTD = 0x1, 0x2, 0x4, 0x8, 0x20


class Dump:
    def __init__(self, path):
        self.f = open(path, "rb")
        raw = self.f.read(HDR.size)
        (sig, self.version, uts, self.tv_sec, self.tv_usec, self.status, self.block_size,
         self.sub_hdr_size, self.bitmap_blocks, max_mapnr, _ram, _dev, _written, _cpu,
         self.nr_cpus) = HDR.unpack(raw)
        if sig not in (b"KDUMP   ", b"DISKDUMP"):
            raise SystemExit(f"{path}: not a kdump-compressed file")
        self.release = uts[65 * 2:65 * 3].split(b"\0")[0].decode()
        self.f.seek(self.block_size)
        sub = SUB.unpack(self.f.read(SUB.size))
        (self.phys_base, self.dump_level, self.split, _s, _e, self.off_vmcoreinfo, self.size_vmcoreinfo,
         self.off_note, self.size_note, _oe, _se, s64, e64, self.max_mapnr) = sub
        if self.version < 6:
            self.max_mapnr = max_mapnr
        # A --split file holds the pages of [start, end) only; its bitmaps are whole.
        self.start, self.end = (s64, e64) if self.split else (0, self.max_mapnr)
        half = self.bitmap_blocks * self.block_size // 2
        bm_off = (1 + self.sub_hdr_size) * self.block_size
        self.f.seek(bm_off)
        self.bitmap1 = self.f.read(half)
        self.bitmap2 = self.f.read(half)
        self.desc_off = bm_off + 2 * half

    def vmcoreinfo(self):
        self.f.seek(self.off_vmcoreinfo)
        return self.f.read(self.size_vmcoreinfo).decode(errors="replace")

    def dumped_pfns(self):
        bm = self.bitmap2
        for byte_i, b in enumerate(bm):
            if not b:
                continue
            for bit in range(8):
                if b >> bit & 1:
                    pfn = byte_i * 8 + bit
                    if self.start <= pfn < min(self.end, self.max_mapnr):
                        yield pfn

    def page_at(self, index, pfn):
        """The bytes of the index-th dumped page (pfn is for messages)."""
        self.f.seek(self.desc_off + index * DESC.size)
        off, size, flags, _pf = DESC.unpack(self.f.read(DESC.size))
        return self._read_page(pfn, off, size, flags)

    def _read_page(self, pfn, off, size, flags):
        """One page's bytes from its descriptor, decompressed."""
        self.f.seek(off)
        data = self.f.read(size)
        if flags & ZLIB:
            data = zlib.decompress(data)
        elif flags & (LZO | SNAPPY | ZSTD):
            raise SystemExit(f"pfn {pfn:#x}: codec {flags:#x} not readable here (use -c)")
        if len(data) != self.block_size:
            raise SystemExit(f"pfn {pfn:#x}: page is {len(data)} bytes")
        return data

    def pages(self):
        """Yields (pfn, page bytes) for every dumped page, in pfn order."""
        self.f.seek(self.desc_off)
        pfns = list(self.dumped_pfns())
        descs = [DESC.unpack(self.f.read(DESC.size)) for _ in pfns]
        for pfn, (off, size, flags, _pf) in zip(pfns, descs):
            yield pfn, self._read_page(pfn, off, size, flags)


class ElfDump:
    """PT_LOAD file bytes by physical page; p_memsz beyond p_filesz reads as zeros (skipped)."""
    EHDR = struct.Struct("<16sHHIQQQIHHHHHH")
    PHDR = struct.Struct("<IIQQQQQQ")

    def __init__(self, path):
        self.f = open(path, "rb")
        e = self.EHDR.unpack(self.f.read(self.EHDR.size))
        phoff, shoff, phnum = e[5], e[6], e[10]
        if phnum == 0xFFFF:  # PN_XNUM: the count is sh_info of section header 0
            self.f.seek(shoff + 44)
            phnum = struct.unpack("<I", self.f.read(4))[0]
        self.f.seek(phoff)
        self.loads = []
        for _ in range(phnum):
            typ, _fl, off, _va, pa, filesz, _memsz, _al = self.PHDR.unpack(self.f.read(self.PHDR.size))
            if typ == 1 and filesz:
                self.loads.append((pa, off, filesz))
        self.block_size = 4096

    def pages(self):
        ps = self.block_size
        partial = {}
        seen = set()
        for pa, off, size in sorted(self.loads):
            pos = pa
            while pos < pa + size:
                pfn = pos // ps
                n = min(pa + size, (pfn + 1) * ps) - pos
                self.f.seek(off + pos - pa)
                data = self.f.read(n)
                if n == ps:
                    if pfn not in seen:
                        seen.add(pfn)
                        yield pfn, data
                else:
                    buf = partial.setdefault(pfn, bytearray(ps))
                    buf[pos % ps:pos % ps + n] = data
                pos += n
        for pfn, buf in sorted(partial.items()):
            if pfn not in seen:
                yield pfn, bytes(buf)


class DumpSet:
    """A --split set given as FILE1,FILE2,...: the union of the files' pages."""
    def __init__(self, paths):
        self.parts = [Dump(p) for p in paths]
        self.block_size = self.parts[0].block_size

    def pages(self):
        for d in self.parts:
            yield from d.pages()


def open_dump(path):
    if "," in path:
        return DumpSet(path.split(","))
    with open(path, "rb") as f:
        magic = f.read(4)
    return ElfDump(path) if magic == b"\x7fELF" else Dump(path)


def nonzero_digests(dump):
    zero = bytes(dump.block_size)
    return {pfn: hashlib.sha1(d).digest() for pfn, d in dump.pages() if d != zero}


def exact(argv):
    """The kept pfn sets of two kdump files equal, and sampled kept pages byte-equal."""
    import argparse
    import random
    ap = argparse.ArgumentParser(prog="kdump_pages.py exact")
    ap.add_argument("ours")
    ap.add_argument("theirs")
    ap.add_argument("--only-ours")
    ap.add_argument("--sample", type=int, default=2000)
    a = ap.parse_args(argv)
    ours, theirs = Dump(a.ours), Dump(a.theirs)
    if ours.block_size != theirs.block_size:
        print(f"page sizes differ: {ours.block_size} and {theirs.block_size}")
        return 1
    po, pt = list(ours.dumped_pfns()), list(theirs.dumped_pfns())
    so, st = set(po), set(pt)
    only_o, only_t = sorted(so - st), sorted(st - so)
    both = sorted(so & st)
    io, it = {p: i for i, p in enumerate(po)}, {p: i for i, p in enumerate(pt)}
    sample = random.Random(0x6b6b).sample(both, min(a.sample, len(both)))
    differ = [p for p in sample if ours.page_at(io[p], p) != theirs.page_at(it[p], p)]
    print(f"kept pages: ours {len(so)}, makedumpfile {len(st)}, only ours {len(only_o)}, "
          f"only makedumpfile {len(only_t)}; sampled {len(sample)}, byte-different {len(differ)}")
    for name, pfns in (("only ours", only_o), ("only makedumpfile", only_t), ("differ", sorted(differ))):
        if pfns:
            print(f"first {name}:", " ".join(hex(p) for p in pfns[:10]))
    if a.only_ours:
        with open(a.only_ours, "w") as f:
            f.writelines(f"{p}\n" for p in only_o)
    if not both and (so or st):
        return 1
    return 0 if not only_o and not only_t and not differ else 1


def main():
    if sys.argv[1] == "exact":
        return exact(sys.argv[2:])
    if sys.argv[1] == "summary":
        d = Dump(sys.argv[2])
        print(json.dumps({"version": d.version, "release": d.release, "block_size": d.block_size,
                          "status": d.status, "dump_level": d.dump_level, "max_mapnr": d.max_mapnr,
                          "nr_cpus": d.nr_cpus, "dumped": sum(1 for _ in d.dumped_pfns())}))
        return 0
    if sys.argv[1] == "compare":
        ours, theirs = nonzero_digests(open_dump(sys.argv[2])), nonzero_digests(open_dump(sys.argv[3]))
        only_ours = ours.keys() - theirs.keys()
        only_theirs = theirs.keys() - ours.keys()
        both = ours.keys() & theirs.keys()
        differ = [p for p in both if ours[p] != theirs[p]]
        diff = len(only_ours) + len(only_theirs)
        pct = 100.0 * diff / max(1, len(theirs))
        print(f"non-zero kept pages: ours {len(ours)}, makedumpfile {len(theirs)}, "
              f"only ours {len(only_ours)}, only makedumpfile {len(only_theirs)} ({pct:.3f} %), "
              f"same pfn different bytes {len(differ)}")
        if differ:
            print("first differing pfns:", " ".join(hex(p) for p in sorted(differ)[:10]))
        return 0 if pct <= 0.5 and not differ else 1
    if sys.argv[1] == "same":
        a, b = nonzero_digests(open_dump(sys.argv[2])), nonzero_digests(open_dump(sys.argv[3]))
        differ = [p for p in a.keys() & b.keys() if a[p] != b[p]]
        print(f"non-zero pages: {len(a)} and {len(b)}, only first {len(a.keys() - b.keys())}, "
              f"only second {len(b.keys() - a.keys())}, same pfn different bytes {len(differ)}")
        return 0 if a == b else 1
    raise SystemExit(__doc__)


if __name__ == "__main__":
    sys.exit(main())
