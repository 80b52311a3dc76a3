#!/usr/bin/python3
"""make_seeds.py: writes the seed corpora (corpus/NAME/seed-*) from real files: the small cached
vmcore, its console log, the cached kernels' bzImage and arm64 Image, kdump.conf files, QEMU virt
device trees. Run once by hand when a parser's input
changes shape; the seeds are kept small and committed. kdump and flattened seeds are made by
dumpfilter (a gcc build, $DUMPFILTER) from the small ELF seed.
Usage: tests/fuzz/make_seeds.py [CACHE]"""
import glob
import gzip
import os
import struct
import subprocess
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
cache = sys.argv[1] if len(sys.argv) > 1 else os.environ.get(
    "KDUMPKIT_CACHE", os.path.expanduser("~/.cache/kdumpkit"))


def fixture_env():
    """tests/qemu/fixtures.sh env as a dict (KK_KVER, KK_VMCORE_SMALL, ...): the kernel release
    the fixtures use is pinned in tests/qemu/pins.sh, never named here."""
    env = dict(os.environ, KDUMPKIT_CACHE=cache)
    out = subprocess.run([os.path.join(here, "..", "qemu", "fixtures.sh"), "env"], env=env,
                         check=True, stdout=subprocess.PIPE, text=True).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


vmcore = fixture_env()["KK_VMCORE_SMALL"]


def put(name, seed, data):
    d = os.path.join(here, "corpus", name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + seed), "wb") as f:
        f.write(data)


def notes_of(data):
    """(name, type, desc) of each note in a PT_NOTE's bytes."""
    out, pos = [], 0
    while pos + 12 <= len(data):
        namesz, descsz, typ = struct.unpack_from("<III", data, pos)
        if namesz == 0 and descsz == 0:
            break
        name = data[pos + 12:pos + 12 + namesz]
        dpos = pos + 12 + ((namesz + 3) & ~3)
        out.append((name, typ, data[dpos:dpos + descsz]))
        pos = dpos + ((descsz + 3) & ~3)
    return out


def note_bytes(name, typ, desc):
    b = struct.pack("<III", len(name), len(desc), typ) + name
    b += b"\0" * (-len(b) % 4) + desc
    return b + b"\0" * (-len(b) % 4)


with open(vmcore, "rb") as f:
    ehdr = f.read(64)
    phoff, = struct.unpack_from("<Q", ehdr, 32)
    phnum, = struct.unpack_from("<H", ehdr, 56)
    f.seek(phoff)
    phdrs = [struct.unpack("<IIQQQQQQ", f.read(56)) for _ in range(phnum)]
    notes = b""
    loads = []
    for typ, flags, off, va, pa, filesz, memsz, align in phdrs:
        if typ == 4:
            f.seek(off)
            notes += f.read(filesz)
        elif typ == 1:
            loads.append((off, va, pa, filesz))
    # Two pages of real memory: the first page of the first RAM PT_LOAD with data, and one of the
    # kernel text's PT_LOAD (vaddr in the kernel map).
    pages = []
    for off, va, pa, filesz in loads[:2]:
        f.seek(off)
        pages.append((va, pa, f.read(4096)))

parsed = [n for n in notes_of(notes)]
vmcoreinfo = next(d for n, t, d in parsed if n.rstrip(b"\0") == b"VMCOREINFO")
vi_text = vmcoreinfo.rstrip(b"\0")
prstatus = [note_bytes(n, t, d) for n, t, d in parsed if t == 1][:2]
clean_notes = b"".join(prstatus) + note_bytes(b"VMCOREINFO\0", 0, vmcoreinfo)

# A small ELF vmcore: one PT_NOTE (two CPUs' NT_PRSTATUS and VMCOREINFO), two one-page PT_LOADs.
nph = 1 + len(pages)
data_off = 64 + 56 * nph
notes_off = data_off
load_off = (notes_off + len(clean_notes) + 4095) & ~4095
e = bytearray(ehdr)
struct.pack_into("<Q", e, 32, 64)
struct.pack_into("<H", e, 56, nph)
struct.pack_into("<QH", e, 40, 0, 64)  # e_shoff 0
struct.pack_into("<HHH", e, 58, 64, 0, 0)
ph = struct.pack("<IIQQQQQQ", 4, 0, notes_off, 0, 0, len(clean_notes), len(clean_notes), 0)
for i, (va, pa, _) in enumerate(pages):
    ph += struct.pack("<IIQQQQQQ", 1, 7, load_off + 4096 * i, va, pa, 4096, 4096, 0)
elf = bytes(e) + ph + clean_notes
elf += b"\0" * (load_off - len(elf)) + b"".join(p for _, _, p in pages)
put("elf_vmcore", "small-6.1", elf)
put("vmcoreinfo", "6.1-amd64", vi_text)

# Kernel memory fuzzers: the real vmcoreinfo and real memory bytes.
memory = pages[1][2] + pages[0][2]
put("dmesg", "6.1-amd64", vi_text + b"\0" + memory)
put("mem_map", "6.1-amd64", vi_text + b"\0" + struct.pack("<QQ", 0x1000, 0xffffffff81000000) + memory)
log_path = vmcore[:-len(".elf")] + ".log"
log = open(log_path, "rb").read()[-12000:] if os.path.exists(log_path) else b""
log = log.replace(b"\0", b" ")
put("report", "6.1-amd64", vi_text + b"\0" + log + b"\0" + b"".join(prstatus))

# The bzImage: its setup part and the start of the kernel (the parser only needs the header).
for vmlinuz in sorted(glob.glob(os.path.join(cache, "kernel/*/root/boot/vmlinuz-*")))[:1]:
    put("bzimage", os.path.basename(vmlinuz), open(vmlinuz, "rb").read(24576))

put("iomem", "qemu-x86_64", b"""00000000-00000fff : Reserved
00001000-0009fbff : System RAM
0009fc00-0009ffff : Reserved
000a0000-000bffff : PCI Bus 0000:00
000f0000-000fffff : Reserved
  000f0000-000fffff : System ROM
00100000-7ffdffff : System RAM
  01000000-01e00e87 : Kernel code
  01e00e88-0226be7f : Kernel rodata
  6b000000-72ffffff : Crash kernel
7ffe0000-7fffffff : Reserved
80000000-afffffff : PCI Bus 0000:00
  fd000000-fdffffff : 0000:00:02.0
    fd000000-fdffffff : bochs-drm
fee00000-fee00fff : Local APIC
100000000-17fffffff : System RAM
180000000-1bfffffff : System RAM (kmem)
""")
put("memmap", "qemu-x86_64", b"\0".join([
    b"0x0\n", b"0x9fbff\n", b"System RAM\n",
    b"0x9fc00\n", b"0x9ffff\n", b"Reserved\n",
    b"0x100000\n", b"0x7ffdffff\n", b"System RAM\n",
    b"0x7ffe0000\n", b"0x7fffffff\n", b"Reserved\n",
    b"0xfeffc000\n", b"0xfeffffff\n", b"ACPI Tables\n",
    b"0x100000000\n", b"0x17fffffff\n", b"System RAM\n"]))

# kdump-compressed (zlib, zstd) and flattened dumps of the small ELF, by dumpfilter itself.
dumpfilter = os.environ.get("DUMPFILTER")
if dumpfilter:
    with tempfile.TemporaryDirectory() as t:
        src = os.path.join(t, "small.elf")
        open(src, "wb").write(elf)
        for opt in ("-c", "-z", "-l"):
            out = os.path.join(t, "d" + opt)
            subprocess.run([dumpfilter, opt, "-d", "0", src, out], check=True)
            put("kdump", "small-6.1" + opt, open(out, "rb").read())
        flat = subprocess.run([dumpfilter, "-F", "-c", "-d", "0", src], check=True,
                              stdout=subprocess.PIPE).stdout
        put("flattened", "small-6.1-c", flat)

# A manifest as the dumper writes it (corpus/manifest/regress-spaces-line: the line of spaces
# --verify once crashed on).
digest = "0123456789abcdef" * 4
put("manifest", "sample", ("# dumpfilter manifest: SHA-256 of byte ranges of the dump; check: "
                           "dumpfilter --verify DUMP\nsize 1440492372\nsha256 0 16035840 " + "a" * 64 +
                           "\nsha256 16035840 1424456532 " + digest + "\n").encode())

# kdump.conf: the sample the package installs, and one file per kind of dump target with every
# directive set (the fuzzer starts from valid files of each shape).
sample = open(os.path.join(here, "../../initramfs-hooks/kdump.conf"), "rb").read()
put("kdump_conf", "sample", sample)
put("kdump_conf", "ssh", b"""ssh kdump@10.0.2.2
sshkey /root/.ssh/kdump_id_rsa
path /var/crash
core_collector dumpfilter -l --message-level 7 -d 31 -F
failure_action dump_to_rootfs
final_action poweroff
""")
put("kdump_conf", "fs", b"""xfs UUID=0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6
path /crash
core_collector makedumpfile -z -d 17
kdump_pre /usr/local/sbin/before-dump\t# comment after a value
kdump_post /usr/local/sbin/after-dump
extra_modules virtio_blk nvme
extra_bins /usr/bin/lsblk /usr/sbin/blkid
extra_bins /bin/true\r
failure_action shell
force_rebuild 1
""")
put("kdump_conf", "raw-nfs", b"raw /dev/vdc\nforce_no_rebuild 1\nfinal_action halt\n")

# arm64: the cached Debian kernel's Image (a plain Image, not zboot): its first 4 KiB (header and
# PE/COFF stub headers), and EFI zboot files wrapping its first 128 KiB (the first 64 KiB are a
# repeated pattern; real code follows), gzip'd and zstd'd (under 64 KiB each), laid out as the
# kernel's zboot header is ("MZ", "zimg", payload offset and size, codec name at 24).
for image in sorted(glob.glob(os.path.join(cache, "kernel/*arm64/root/boot/vmlinuz-*")))[:1]:
    head = open(image, "rb").read(131072)
    put("arm64_image", "image-head", head[:4096])
    payloads = [("gzip", gzip.compress(head, 9, mtime=0))]
    try:
        payloads.append(("zstd", subprocess.run(["zstd", "-19", "-c"], input=head, check=True,
                                                stdout=subprocess.PIPE).stdout))
    except OSError:
        pass
    for codec, payload in payloads:
        hdr = bytearray(512)
        hdr[0:2] = b"MZ"
        hdr[4:8] = b"zimg"
        struct.pack_into("<II", hdr, 8, len(hdr), len(payload))
        hdr[24:24 + len(codec)] = codec.encode()
        put("arm64_image", "zboot-" + codec, bytes(hdr) + payload)


def packed_dtb(path):
    """A QEMU dtb without its free space: totalsize cut to the end of the strings block."""
    b = bytearray(open(path, "rb").read())
    off_strings, = struct.unpack_from(">I", b, 12)
    size_strings, = struct.unpack_from(">I", b, 32)
    end = off_strings + size_strings
    struct.pack_into(">I", b, 4, end)
    return bytes(b[:end])


# The device trees QEMU's virt machine hands its guest: bare, and with the /chosen a booted kernel
# gets (bootargs, initrd range) on a GICv3 machine with 2 CPUs.
qemu = "qemu-system-aarch64"
with tempfile.TemporaryDirectory() as t:
    initrd = os.path.join(t, "initrd")
    open(initrd, "wb").write(b"\0" * 4096)
    images = sorted(glob.glob(os.path.join(cache, "kernel/*arm64/root/boot/vmlinuz-*")))[:1]
    runs = [("virt", "virt", [])]
    if images:
        runs.append(("virt-gicv3-chosen", "virt,gic-version=3",
                     ["-smp", "2", "-m", "1G", "-kernel", images[0], "-initrd", initrd,
                      "-append", "console=ttyAMA0 crashkernel=192M"]))
    for seed, machine, extra in runs:
        out = os.path.join(t, seed + ".dtb")
        try:
            subprocess.run([qemu, "-M", machine + ",dumpdtb=" + out, "-cpu", "max", "-nographic"]
                           + extra, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except (OSError, subprocess.CalledProcessError):
            continue
        put("dtb", "qemu-" + seed, packed_dtb(out))
