#!/usr/bin/python3
"""damaged_inputs.py: dumpfilter on 200 damaged inputs, generated with a fixed seed from the small
vmcore (ELF) and a kdump-compressed dump of it: truncations at random offsets, and bit flips in the
headers, the notes, the vmcoreinfo text and (kdump) the bitmaps and page descriptors. Each run must
end in one of two ways, within 60 s and without a signal:
  - a non-zero exit with exactly one line on stderr, and no file at the dump's name; or
  - exit 0 with a dump that our reader and kdump_pages.py open, whose every page is the damaged
    input's page at the same pfn (pagecmp subset): never a "complete" dump of other content.
The inputs are damaged in place on one working copy of each base and restored after each run, so
the 456 MB vmcore is copied once. Usage: damaged_inputs.py DUMPFILTER PAGECMP VMCORE WORKDIR
"""
import os
import random
import struct
import subprocess
import sys

DUMPFILTER, PAGECMP, VMCORE, WORK = sys.argv[1:5]
HERE = os.path.dirname(os.path.abspath(__file__))
KDUMP_PAGES = os.path.join(HERE, "kdump_pages.py")
TIMEOUT = 60
failures = []
counts = {"error": 0, "dump": 0}


def regions_elf(path):
    """name -> (start, end) of the parts worth damaging in an ELF vmcore."""
    with open(path, "rb") as f:
        ehdr = f.read(64)
        phoff, = struct.unpack_from("<Q", ehdr, 32)
        phnum, = struct.unpack_from("<H", ehdr, 56)
        f.seek(phoff)
        ph = [struct.unpack("<IIQQQQQQ", f.read(56)) for _ in range(phnum)]
        note = next((p[2], p[2] + p[5]) for p in ph if p[0] == 4)
        f.seek(note[0])
        nb = f.read(note[1] - note[0])
    vi = nb.find(b"OSRELEASE=")
    vi_end = nb.find(b"\0", vi)
    return {"header": (0, phoff + 56 * phnum), "notes": note,
            "vmcoreinfo": (note[0] + vi, note[0] + vi_end)}


def regions_kdump(path):
    with open(path, "rb") as f:
        hdr = f.read(464)
        bs, sub_blocks, bm_blocks = struct.unpack_from("<iiI", hdr, 8 + 4 + 390 + 6 + 16 + 4)
        f.seek(bs)
        sub = struct.unpack("<QiiQQqQqQqQQQQ", f.read(104))
    vi_off, vi_size, note_off, note_size = sub[5], sub[6], sub[7], sub[8]
    bm = (1 + sub_blocks) * bs
    return {"header": (0, bs + 104), "notes": (note_off, note_off + note_size),
            "vmcoreinfo": (vi_off, vi_off + vi_size),
            "bitmaps": (bm, bm + bm_blocks * bs), "descs": (bm + bm_blocks * bs, bm + bm_blocks * bs + 4096)}


def run_case(label, damaged, outdir):
    out = os.path.join(outdir, "dump")
    n0 = len(failures)
    try:
        p = subprocess.run([DUMPFILTER, "-l", "-d", "31", damaged, out], stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        failures.append(f"{label}: still running after {TIMEOUT} s")
        print(f"FAIL: {failures[-1]}", flush=True)
        for name in os.listdir(outdir):
            os.unlink(os.path.join(outdir, name))
        return
    err = p.stderr.decode(errors="replace")
    left = sorted(os.listdir(outdir))
    if p.returncode < 0 or p.returncode >= 128:
        failures.append(f"{label}: killed by signal (rc {p.returncode}): {err.strip()[-300:]}")
    elif p.returncode != 0:
        counts["error"] += 1
        # Lines end at '\n' only: a damaged key quoted in the message may hold any other byte
        # (str.splitlines would also split at \x1c-\x1e, \x85, ...).
        lines = err.rstrip("\n").split("\n")
        if len(lines) != 1:
            failures.append(f"{label}: error is {len(lines)} lines: {err.strip()[:500]}")
        if left:
            failures.append(f"{label}: failed run left {left}")
    else:
        counts["dump"] += 1
        if left != ["dump", "dump.sha256"]:
            failures.append(f"{label}: exit 0 but the output folder holds {left}")
        v = subprocess.run([DUMPFILTER, "--verify", out], capture_output=True)
        if v.returncode != 0:
            failures.append(f"{label}: the dump does not match its manifest: {v.stderr.decode()[-300:]}")
        s = subprocess.run([sys.executable, KDUMP_PAGES, "summary", out], capture_output=True)
        if s.returncode != 0:
            failures.append(f"{label}: kdump_pages.py refuses the dump: {s.stderr.decode()[-300:]}")
        c = subprocess.run([PAGECMP, "subset", out, damaged], capture_output=True, timeout=600)
        if c.returncode != 0:
            failures.append(f"{label}: dump pages are not the input's: {c.stdout.decode().strip()}"
                            f" {c.stderr.decode().strip()[-300:]}")
    for name in left:
        os.unlink(os.path.join(outdir, name))
    print(f"{label}: {'exit 0, dump checked' if p.returncode == 0 else err.strip()[:200]}",
          flush=True)
    for f in failures[n0:]:
        print(f"FAIL: {f}", flush=True)


def flip_cases(rng, regions, plan):
    """(label, offset, bit) for plan = {region: count}."""
    out = []
    for name, n in plan.items():
        a, b = regions[name]
        for _ in range(n):
            off = rng.randrange(a, max(a + 1, b))
            out.append((name, off, rng.randrange(8)))
    return out


def run_base(kind, base, regions, flips, truncs, outdir, rng):
    work = os.path.join(WORK, "damaged." + kind)
    subprocess.run(["cp", "--sparse=always", base, work], check=True)
    size = os.path.getsize(work)
    with open(work, "r+b") as f:
        for name, off, bit in flips:
            f.seek(off)
            old = f.read(1)
            f.seek(off)
            f.write(bytes([old[0] ^ (1 << bit)]))
            f.flush()
            run_case(f"{kind} {name} flip at {off:#x} bit {bit}", work, outdir)
            f.seek(off)
            f.write(old)
            f.flush()
    # Truncations last, longest first: each only shortens the copy further.
    cuts = sorted((rng.randrange(1, size) for _ in range(truncs)), reverse=True)
    for cut in cuts:
        os.truncate(work, cut)
        run_case(f"{kind} truncated at {cut:#x} of {size:#x}", work, outdir)
    os.unlink(work)


def main():
    rng = random.Random(20261123)
    outdir = os.path.join(WORK, "out")
    os.makedirs(outdir, exist_ok=True)
    # The kdump-compressed base: the vmcore at -d 31, zlib.
    kdump = os.path.join(WORK, "base.kdump")
    subprocess.run([DUMPFILTER, "-c", "-d", "31", VMCORE, kdump], check=True)
    elf_plan = {"header": 35, "notes": 25, "vmcoreinfo": 25}
    kdump_plan = {"header": 30, "notes": 10, "vmcoreinfo": 20, "bitmaps": 10, "descs": 15}
    run_base("elf", VMCORE, regions_elf(VMCORE), flip_cases(rng, regions_elf(VMCORE), elf_plan), 15,
             outdir, rng)
    run_base("kdump", kdump, regions_kdump(kdump), flip_cases(rng, regions_kdump(kdump), kdump_plan),
             15, outdir, rng)
    print(f"damaged inputs: {counts['error']} one-line errors, {counts['dump']} valid dumps, "
          f"{len(failures)} failures")
    if sum(elf_plan.values()) + sum(kdump_plan.values()) + 30 != 200:
        print("FAIL: the plan is not 200 inputs")
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
