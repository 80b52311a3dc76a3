#!/usr/bin/env python3
"""run.py: boot the real x86_64 purgatory blob in QEMU and watch it verify, refuse and jump.

No kexec involved: harness.S plays the old kernel (long mode, identity map, foreign GDT, junk
registers) and, for the synthetic cases, the new one (it checks the boot-protocol state it is
entered with). This script lays out one multiboot image, everything at fixed addresses:

  0x100000  harness (multiboot header, code, page tables)
  0x110000  the purgatory blob, parameter block patched here (then its .bss and stack)
  0x120000  region A (40000 pseudo-random bytes)       | linux case: boot_params, command line
  0x140000  region B (1000 bytes)                      |
  0x1000000                                            | linux case: the bzImage's 64-bit kernel

Cases, each one QEMU boot (TCG; under a second, halted cases are watched 1.5 s more):
  ok        digest of A+B -> "checks ok", kernel entered with the right state (exit 33)
  mismatch  B changed after hashing -> "digest mismatch, not booting" with both digests, and the
            machine stays halted: no "kernel entered" in the 1.5 s we keep watching
  skip      skip_checks=1 with the changed B -> "checks skipped", kernel entered
  control   a wrong params.arg -> the fake kernel reports bad %rsi (exit 35): its checks are live
  moved     the ok case with the blob at 0x163000 instead: the same bytes run anywhere
  badblock  nr_regions=17 -> "bad parameter block", halted
  linux     only with --bzimage (or $KK_VMLINUZ): a real kernel, hashed and entered through the
            64-bit boot protocol with a minimal boot_params, boots to its "no root fs" panic

Usage: run.py --harness harness.bin --blob purgatory-x86_64.bin --abi purgatory_abi.h
              [--qemu qemu-system-x86_64] [--bzimage vmlinuz] [--workdir DIR]
Exit status 0 when every case behaves; the serial log of a failing case is printed. With
--workdir the images (*.img) and serial logs (*.serial) are kept there.
"""
import argparse
import hashlib
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time

HARNESS_ADDR = 0x100000
PURGATORY_ADDR = 0x110000
REGION_A = (0x120000, 40000)
REGION_B = (0x140000, 1000)
COM1 = 0x3F8
MOVED_PURGATORY_ADDR = 0x163000
# linux case
BOOT_PARAMS_ADDR = 0x120000
CMDLINE_ADDR = 0x121000
KERNEL_ADDR = 0x1000000  # 16 MiB: the usual pref_address, 2 MiB aligned
LINUX_MEM_MIB = 256
CMDLINE = b"console=ttyS0,115200 earlyprintk=serial,ttyS0,115200 panic=-1 nokaslr\0"


def read_abi(path):
    """The KK_* numbers from purgatory_abi.h, so offsets live in one place."""
    abi = {}
    with open(path) as f:
        for m in re.finditer(r"^#define (KK_\w+) (0x[0-9a-fA-F]+|\d+)(ULL)?\b", f.read(), re.M):
            abi[m.group(1)] = int(m.group(2), 0)
    return abi


class Image:
    """The multiboot file: physical memory from HARNESS_ADDR up to `end`, as QEMU loads it."""

    def __init__(self, harness, blob, abi, end, purgatory_addr=PURGATORY_ADDR):
        """`end`: first address past the image; a moved purgatory (purgatory_addr) must lie
        in a hole of the layout, which is the caller's business."""
        self.abi = abi
        (mem_size,) = struct.unpack_from(
            "<Q", blob, abi["KK_PURGATORY_PARAMS_OFFSET"] + abi["KK_PP_IMAGE_MEM_SIZE"])
        self.data = bytearray(max(end, purgatory_addr + mem_size) - HARNESS_ADDR)
        if len(harness) > PURGATORY_ADDR - HARNESS_ADDR:
            raise SystemExit(f"harness is {len(harness)} bytes and would overlap the purgatory")
        if PURGATORY_ADDR + mem_size > REGION_A[0]:
            raise SystemExit(f"purgatory image_mem_size {mem_size:#x} overlaps region A")
        self.data[0:len(harness)] = harness
        (self.fake_kernel, self.expected_rsi, purg) = struct.unpack_from("<QQQ", harness, 0x20)
        if purg != PURGATORY_ADDR:
            raise SystemExit(f"harness puts the purgatory at {purg:#x}, "
                             f"run.py at {PURGATORY_ADDR:#x}")
        struct.pack_into("<Q", self.data, 0x30, purgatory_addr)  # harness's purgatory_slot
        self.params = purgatory_addr - HARNESS_ADDR + abi["KK_PURGATORY_PARAMS_OFFSET"]
        self.put(purgatory_addr, blob)
        magic, version = struct.unpack_from("<QI", self.data, self.params)
        if magic != abi["KK_PURGATORY_MAGIC"] or version != abi["KK_PURGATORY_ABI_VERSION"]:
            raise SystemExit("blob: bad magic or ABI version")

    def put(self, addr, b):
        off = addr - HARNESS_ADDR
        self.data[off:off + len(b)] = b

    def get(self, addr, n):
        off = addr - HARNESS_ADDR
        return bytes(self.data[off:off + n])

    def field(self, name, fmt, value):
        struct.pack_into(fmt, self.data, self.params + self.abi[name], value)

    def patch(self, regions, digest, entry, arg, nr_regions=None):
        """What the loader does: fill the parameter block."""
        self.field("KK_PP_ENTRY", "<Q", entry)
        self.field("KK_PP_ARG", "<Q", arg)
        self.field("KK_PP_CONSOLE_PORT", "<Q", COM1)
        self.field("KK_PP_NR_REGIONS", "<I", len(regions) if nr_regions is None else nr_regions)
        for i, (start, length) in enumerate(regions):
            struct.pack_into("<QQ", self.data, self.params + self.abi["KK_PP_REGIONS"] + 16 * i,
                             start, length)
        off = self.params + self.abi["KK_PP_DIGEST"]
        self.data[off:off + 32] = digest

    def digest(self, regions):
        h = hashlib.sha256()
        for start, length in regions:
            h.update(self.get(start, length))
        return h.digest()


def synthetic_image(harness, blob, abi, purgatory_addr=PURGATORY_ADDR):
    img = Image(harness, blob, abi, REGION_B[0] + REGION_B[1], purgatory_addr)
    rng = random.Random(1)
    img.put(REGION_A[0], bytes(rng.randrange(256) for _ in range(REGION_A[1])))
    img.put(REGION_B[0], bytes(rng.randrange(256) for _ in range(REGION_B[1])))
    return img


def linux_image(harness, blob, abi, bzimage):
    """A minimal 64-bit boot protocol load (Documentation/arch/x86/boot.rst): the protected-mode
    kernel at KERNEL_ADDR, a zeroed boot_params with the setup header copied in, an e820 map
    and a command line. Returns (image, regions, entry)."""
    k = open(bzimage, "rb").read()
    if k[0x202:0x206] != b"HdrS" or struct.unpack_from("<H", k, 0x206)[0] < 0x020C:
        raise SystemExit(f"{bzimage}: not a bzImage with boot protocol >= 2.12")
    if not struct.unpack_from("<H", k, 0x236)[0] & 1:
        raise SystemExit(f"{bzimage}: no 64-bit entry (XLF_KERNEL_64)")
    setup_sects = k[0x1F1] or 4
    kernel = k[(setup_sects + 1) * 512:]
    (init_size,) = struct.unpack_from("<I", k, 0x260)
    img = Image(harness, blob, abi, KERNEL_ADDR + len(kernel))
    img.put(KERNEL_ADDR, kernel)

    bp = bytearray(4096)
    hdr_end = 0x202 + k[0x201]
    bp[0x1F1:hdr_end] = k[0x1F1:hdr_end]
    bp[0x210] = 0xFF                                    # type_of_loader: undefined
    struct.pack_into("<I", bp, 0x228, CMDLINE_ADDR)     # cmd_line_ptr
    e820 = [(0, 0x9FC00, 1), (0x9FC00, 0x400, 2), (0xF0000, 0x10000, 2),
            (0x100000, (LINUX_MEM_MIB - 2) * 2**20 - 0x100000, 1)]
    if KERNEL_ADDR + init_size > e820[-1][0] + e820[-1][1]:
        raise SystemExit(f"{bzimage}: init_size {init_size:#x} does not fit the guest")
    bp[0x1E8] = len(e820)                               # e820_entries
    for i, (addr, size, kind) in enumerate(e820):
        struct.pack_into("<QQI", bp, 0x2D0 + 20 * i, addr, size, kind)
    img.put(BOOT_PARAMS_ADDR, bytes(bp))
    img.put(CMDLINE_ADDR, CMDLINE)
    regions = [(KERNEL_ADDR, len(kernel)), (BOOT_PARAMS_ADDR, 4096), (CMDLINE_ADDR, len(CMDLINE))]
    return img, regions, KERNEL_ADDR + 0x200            # startup_64


def boot(qemu, image, workdir, name, wait_for, settle=1.5, timeout=60, mem_mib=64):
    """Boots image; returns (exit status, or None if QEMU was still running when stopped; serial
    text). Stops QEMU once `wait_for` shows up in the serial log and `settle` more seconds pass;
    with wait_for None, waits for QEMU to exit (the fake kernel ends it) or for the timeout."""
    img = os.path.join(workdir, name + ".img")
    log = os.path.join(workdir, name + ".serial")
    with open(img, "wb") as f:
        f.write(image.data)
    if os.path.exists(log):
        os.unlink(log)
    cmd = [qemu, "-machine", "pc", "-accel", "tcg", "-m", str(mem_mib), "-display", "none",
           "-monitor", "none", "-serial", "file:" + log, "-no-reboot",
           "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-kernel", img]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout
    seen_at = None
    rc = None
    while time.monotonic() < deadline:
        rc = proc.poll()
        if rc is not None:
            break
        text = open(log, errors="replace").read() if os.path.exists(log) else ""
        if seen_at is None and wait_for is not None and wait_for in text:
            seen_at = time.monotonic()
        if seen_at is not None and time.monotonic() - seen_at >= settle:
            break
        time.sleep(0.05)
    if rc is None:
        proc.kill()
    out = proc.communicate()[0].decode(errors="replace")
    text = open(log, errors="replace").read() if os.path.exists(log) else ""
    if out.strip():
        text += "\n[qemu] " + out
    return rc, text.replace("\r", "")


def run_cases(args, harness, blob, abi, workdir):
    """Returns the list of failures, each 'case: serial log'."""
    problems = []

    def report(name, rc, ok, text):
        print(f"{name}: {'still halted' if rc is None else f'exit {rc}'}: "
              f"{'ok' if ok else 'FAILED'}")
        if not ok:
            problems.append(f"{name}:\n{text}")

    regions = [REGION_A, REGION_B]

    # ok: the loader's digest matches memory.
    img = synthetic_image(harness, blob, abi)
    good = img.digest(regions)
    img.patch(regions, good, img.fake_kernel, img.expected_rsi)
    rc, text = boot(args.qemu, img, workdir, "ok", None)
    report("ok", rc, rc == 33 and "kdumpkit purgatory: checks ok" in text and
           f"entering kernel at 0x{img.fake_kernel:016x}" in text and
           "kernel entered, boot protocol state ok" in text, text)

    # mismatch: one byte of region B changes after the loader hashed it.
    off = REGION_B[0] + 500
    img.put(off, bytes([img.get(off, 1)[0] ^ 0x01]))
    bad = img.digest(regions)
    rc, text = boot(args.qemu, img, workdir, "mismatch", "kdumpkit purgatory: computed ")
    report("mismatch", rc, rc is None and
           "kdumpkit purgatory: digest mismatch, not booting" in text and
           f"kdumpkit purgatory: expected {good.hex()}" in text and
           f"kdumpkit purgatory: computed {bad.hex()}" in text and
           "kernel entered" not in text, text)

    # skip: --no-checks boots even the changed image.
    img.field("KK_PP_SKIP_CHECKS", "<I", 1)
    rc, text = boot(args.qemu, img, workdir, "skip", None)
    report("skip", rc, rc == 33 and "kdumpkit purgatory: checks skipped" in text and
           "kernel entered, boot protocol state ok" in text, text)

    # control: the fake kernel's checks are live (a wrong %rsi must be reported, exit 35).
    img = synthetic_image(harness, blob, abi)
    img.patch(regions, good, img.fake_kernel, img.expected_rsi ^ 1)
    rc, text = boot(args.qemu, img, workdir, "control", None)
    report("control", rc, rc == 35 and "kernel entered, bad state 0x20" in text, text)

    # moved: the same bytes run at another address (here an odd page past region B), which is
    # what "position independent" has to mean for a loader that applies no relocations.
    img = synthetic_image(harness, blob, abi, purgatory_addr=MOVED_PURGATORY_ADDR)
    img.patch(regions, good, img.fake_kernel, img.expected_rsi)
    rc, text = boot(args.qemu, img, workdir, "moved", None)
    report("moved", rc, rc == 33 and "kdumpkit purgatory: checks ok" in text and
           "kernel entered, boot protocol state ok" in text, text)

    # badblock: a parameter block the purgatory cannot trust is refused, not guessed at.
    img = synthetic_image(harness, blob, abi)
    img.patch(regions, good, img.fake_kernel, img.expected_rsi,
              nr_regions=abi["KK_PURGATORY_MAX_REGIONS"] + 1)
    rc, text = boot(args.qemu, img, workdir, "badblock", "not booting")
    report("badblock", rc, rc is None and
           "bad parameter block (nr_regions), not booting" in text and
           "kernel entered" not in text, text)

    # linux: a real kernel through the purgatory; it panics (no root fs) and panic=-1 resets,
    # which -no-reboot turns into QEMU's exit.
    if args.bzimage:
        img, lregions, entry = linux_image(harness, blob, abi, args.bzimage)
        img.patch(lregions, img.digest(lregions), entry, BOOT_PARAMS_ADDR)
        rc, text = boot(args.qemu, img, workdir, "linux", "Unable to mount root fs", settle=0,
                        timeout=240, mem_mib=LINUX_MEM_MIB)
        report("linux", rc, "kdumpkit purgatory: checks ok" in text and
               "Linux version" in text and "Unable to mount root fs" in text, text)
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--qemu", default="qemu-system-x86_64")
    ap.add_argument("--harness", required=True, help="harness.bin (flat, loads at 0x100000)")
    ap.add_argument("--blob", required=True, help="purgatory-x86_64.bin")
    ap.add_argument("--abi", required=True, help="purgatory_abi.h")
    ap.add_argument("--bzimage", default=os.environ.get("KK_VMLINUZ"),
                    help="a real x86_64 bzImage for the linux case (default: $KK_VMLINUZ)")
    ap.add_argument("--workdir", help="keep images and serial logs here")
    args = ap.parse_args()

    abi = read_abi(args.abi)
    harness = open(args.harness, "rb").read()
    blob = open(args.blob, "rb").read()
    workdir = args.workdir or tempfile.mkdtemp(prefix="kk-purgatory-smoke.")
    os.makedirs(workdir, exist_ok=True)
    try:
        problems = run_cases(args, harness, blob, abi, workdir)
    finally:
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    for p in problems:
        print(f"FAILED {p}", file=sys.stderr)
    summary = "all cases ok" if not problems else f"{len(problems)} failed"
    print(f"purgatory QEMU smoke: {summary}")
    if problems:
        return 1
    if not args.bzimage:
        # A counted skip (meson: 77), not a pass: the real-kernel case did not run.
        print("SKIP: the linux case needs --bzimage or $KK_VMLINUZ (scripts/test.sh exports it)")
        return 77
    return 0


if __name__ == "__main__":
    sys.exit(main())
