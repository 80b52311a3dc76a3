#!/usr/bin/env python3
"""check_relocs.py: prove at build time that a linked purgatory runs at any address unchanged.

The purgatory is linked as a static PIE from address 0. In a PIE link, ld turns every absolute
reference it can keep into a dynamic relocation in .rela.dyn (R_X86_64_RELATIVE, ...) and refuses
outright the ones it cannot (R_X86_64_32 and friends). Our loader copies the flat image and applies
no relocations, so a single surviving entry would be a pointer left pointing near address 0. This
script fails the build unless:

  - no relocation section (SHT_RELA, SHT_REL, SHT_RELR) has a single entry;
  - the entry point is address 0 and the image sections (.text, .rodata, .data, .bss) start at 0
    in that order, with .bss last, so `objcopy -O binary -j .text -j .rodata -j .data` gives the
    whole file image and kk_image_end covers .bss;
  - every other allocated section is PIE bookkeeping that lies past kk_image_end (never loaded).

On success it writes a small JSON stamp (relocations, file_size, image_mem_size) that embed.py
reads, so the embedded blob can only come from a checked link. The ELF is parsed here directly
(little-endian ELF64) rather than by scraping readelf's text.
"""
import argparse
import json
import os
import struct
import sys

SHT_SYMTAB, SHT_RELA, SHT_NOBITS, SHT_REL, SHT_RELR = 2, 4, 8, 9, 19
SHF_ALLOC = 0x2
IMAGE_PROGBITS = [".text", ".rodata", ".data"]
IMAGE_SECTIONS = IMAGE_PROGBITS + [".bss"]
OUTSIDE_OK = {".dynamic", ".dynsym", ".dynstr", ".hash", ".gnu.hash", ".rela.dyn", ".relr.dyn"}
MACHINES = {62: "x86_64", 183: "aarch64"}


class Section:
    def __init__(self, name, sh_type, flags, addr, offset, size, link, entsize):
        self.name, self.type, self.flags = name, sh_type, flags
        self.addr, self.offset, self.size = addr, offset, size
        self.link, self.entsize = link, entsize


def read_sections(data):
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise ValueError("not a little-endian ELF64 file")
    (e_machine,) = struct.unpack_from("<H", data, 18)
    (e_entry,) = struct.unpack_from("<Q", data, 24)
    (e_shoff,) = struct.unpack_from("<Q", data, 40)
    e_shentsize, e_shnum, e_shstrndx = struct.unpack_from("<HHH", data, 58)
    raw = []
    for i in range(e_shnum):
        raw.append(struct.unpack_from("<IIQQQQIIQQ", data, e_shoff + i * e_shentsize))
    strtab_off = raw[e_shstrndx][4]

    def name_at(off):
        end = data.index(b"\0", strtab_off + off)
        return data[strtab_off + off:end].decode()

    sections = [Section(name_at(r[0]), r[1], r[2], r[3], r[4], r[5], r[6], r[9]) for r in raw]
    return e_machine, e_entry, sections


def find_symbol(data, sections, wanted):
    for sec in sections:
        if sec.type != SHT_SYMTAB:
            continue
        strtab = sections[sec.link]
        for off in range(sec.offset, sec.offset + sec.size, sec.entsize):
            st_name, _, _, _, st_value, _ = struct.unpack_from("<IBBHQQ", data, off)
            end = data.index(b"\0", strtab.offset + st_name)
            if data[strtab.offset + st_name:end].decode() == wanted:
                return st_value
    return None


def check(path):
    """Returns (facts, problems)."""
    with open(path, "rb") as f:
        data = f.read()
    machine, entry, sections = read_sections(data)
    problems = []
    if machine not in MACHINES:
        problems.append(f"unexpected e_machine {machine}")
    if entry != 0:
        problems.append(f"entry point is {entry:#x}, not 0: the blob's byte 0 must be its entry")

    relocations = 0
    for sec in sections:
        if sec.type in (SHT_RELA, SHT_REL, SHT_RELR) and sec.size:
            count = sec.size // sec.entsize if sec.entsize else sec.size
            relocations += count
            problems.append(f"{sec.name}: {count} relocation(s); every reference must be "
                            f"PC-relative (see `readelf -r {path}`)")

    image_end = find_symbol(data, sections, "kk_image_end")
    if image_end is None:
        problems.append("no kk_image_end symbol (linker script)")
        image_end = 0
    by_name = {s.name: s for s in sections}
    present = [n for n in IMAGE_SECTIONS if n in by_name]
    if not present or by_name[present[0]].addr != 0:
        problems.append("the image does not start with .text at address 0")
    last_end = 0
    for name in present:
        sec = by_name[name]
        if sec.addr < last_end:
            problems.append(f"{name} at {sec.addr:#x} overlaps or precedes the previous section")
        last_end = sec.addr + sec.size
        if name != ".bss" and sec.type == SHT_NOBITS and sec.size:
            problems.append(f"{name} is NOBITS: objcopy would not carry its bytes")
    if last_end > image_end:
        problems.append(f"image sections end at {last_end:#x}, past kk_image_end {image_end:#x}")
    file_size = max((by_name[n].addr + by_name[n].size for n in IMAGE_PROGBITS if n in by_name),
                    default=0)
    for sec in sections:
        if not sec.flags & SHF_ALLOC or sec.name in IMAGE_SECTIONS or not sec.size:
            continue
        if sec.name not in OUTSIDE_OK:
            problems.append(f"unexpected allocated section {sec.name}: objcopy would drop it "
                            f"(add it to purgatory.lds)")
        elif sec.addr < image_end:
            problems.append(f"{sec.name} lies inside the image at {sec.addr:#x}")

    facts = {"machine": MACHINES.get(machine, str(machine)), "relocations": relocations,
             "file_size": file_size, "image_mem_size": image_end}
    return facts, problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("elf", help="the linked purgatory (static PIE)")
    ap.add_argument("stamp", help="JSON facts written on success")
    args = ap.parse_args()
    if os.path.exists(args.stamp):  # a failed check must not leave an old stamp to embed
        os.unlink(args.stamp)
    try:
        facts, problems = check(args.elf)
    except (OSError, ValueError, IndexError, struct.error) as e:
        print(f"check_relocs: {args.elf}: {e}", file=sys.stderr)
        return 1
    if problems:
        for p in problems:
            print(f"check_relocs: {args.elf}: {p}", file=sys.stderr)
        return 1
    with open(args.stamp, "w") as f:
        json.dump(facts, f, indent=1, sort_keys=True)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
