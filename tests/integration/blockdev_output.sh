#!/usr/bin/env bash
# Issue 18, point 1: a DUMPFILE that is a block device is written in place (as makedumpfile
# does), never replaced by a file or unlinked: kdump-compressed (-l -d 31, the issue's command)
# and ELF (-E) into a loop device, read back by crash; the device node stays a block device; no
# manifest is written beside it (that would be in /dev); without -f an existing device is refused;
# a dump that does not fit stops with the device flagged incomplete and never-written page
# descriptors read as lost although the device held old bytes; -F to a character device still
# streams, and a character device as DUMPFILE is refused rather than replaced.
source "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || it_fail "needs root (losetup)"
command -v losetup >/dev/null || it_fail "needs losetup"
it_tmpdir
VMCORE=$(it_fixture small)
VMLINUX=$(it_vmlinux)
RELEASE=$(it_release)
T=$IT_TMP
LOOPS=()
cleanup() {
  local l
  for l in "${LOOPS[@]}"; do losetup -d "$l" 2>/dev/null || true; done
  rm -rf "$IT_TMP"
}
trap cleanup EXIT

# attach SIZE_MIB NAME: prints a new loop device (the caller adds it to LOOPS) over a sparse file
# holding old bytes (0x5a in the first MiB and at every MiB, stale data to be read back wrongly).
attach() {
  truncate -s "$(($1 << 20))" "$T/$2.img"
  $PY -c 'import sys
with open(sys.argv[1], "r+b") as f:
    f.write(b"\x5a" * (1 << 20))
    for m in range(1, int(sys.argv[2])): f.seek(m << 20); f.write(b"\x5a" * 65536)' "$T/$2.img" "$1"
  losetup -f --show "$T/$2.img" || it_fail "losetup"
}
is_block() { [ -b "$1" ] && [ ! -L "$1" ]; }

"$DUMPFILTER" -l -d 31 "$VMCORE" "$T/file.lzo" || it_fail "dumpfilter -l -d 31 to a file"
SIZE=$(stat -c %s "$T/file.lzo")

# The issue's command, into a device twice the dump's size.
DEV=$(attach $((SIZE * 2 / 1048576 + 2)) big)
LOOPS+=("$DEV")
"$DUMPFILTER" -l -d 31 "$VMCORE" "$DEV" 2>"$T/noforce.err" && it_fail "an existing device written without -f"
grep -q "$DEV: already exists (use -f to overwrite)" "$T/noforce.err" || { cat "$T/noforce.err" >&2; it_fail "no -f: message"; }
"$DUMPFILTER" -l -d 31 -f "$VMCORE" "$DEV" || it_fail "dumpfilter -l -d 31 -f into $DEV"
is_block "$DEV" || it_fail "$DEV is no longer a block device"
touch -d '-1 second' "$T/before"  # (the files it may not leave would be newer)
"$DUMPFILTER" -l -d 31 -f "$VMCORE" "$DEV" || it_fail "dumpfilter -l -d 31 -f into $DEV, again"
beside=$(find "$(dirname "$DEV")" -maxdepth 1 -name "$(basename "$DEV")?*" -newer "$T/before")
[ -z "$beside" ] || it_fail "files beside $DEV: $beside"
# The device holds the same bytes as the file dump, up to the header's time stamp.
cmp -n "$((SIZE - 4096))" -i 4096 "$DEV" "$T/file.lzo" >/dev/null || it_fail "device and file dumps differ after the header"
$PY - "$DEV" <<'PY' || it_fail "the dump on the device is flagged incomplete"
import os, sys
sys.path.insert(0, os.environ["SRCDIR"] + "/tests/integration")
from kdump_pages import Dump, INCOMPLETE
sys.exit(1 if Dump(sys.argv[1]).status & INCOMPLETE else 0)
PY
out=$(it_crash_facts "$DEV" "$VMLINUX" "kdump-compressed on $DEV" "$RELEASE")
echo "ok: -l -d 31 -f into $DEV: written in place, the node kept, crash reads it"

# ELF (uncompressed: a device the vmcore's size, sparse) in place too, crash reads it.
EDEV=$(attach $(($(stat -c %s "$VMCORE") / 1048576 + 16)) elf)
LOOPS+=("$EDEV")
"$DUMPFILTER" -E -d 31 -f "$VMCORE" "$EDEV" || it_fail "dumpfilter -E into $EDEV"
is_block "$EDEV" || it_fail "$EDEV replaced (ELF)"
head -c 64 "$EDEV" >"$T/ehdr"  # readelf reads regular files only
readelf -h "$T/ehdr" 2>/dev/null | grep -q 'Flags: *0x0$' || it_fail "ELF on $EDEV: e_flags not 0"
out=$(it_crash_facts "$EDEV" "$VMLINUX" "ELF on $EDEV" "$RELEASE")
echo "ok: -E -d 31 -f into $EDEV: written in place, crash reads it"

# A device too small: the dump stops with ENOSPC, flagged incomplete, the pages not written read
# as lost (zero descriptors, not the device's old 0x5a bytes), and the node is still there.
SMALL=$(attach $((SIZE * 3 / 4 / 1048576)) small)
LOOPS+=("$SMALL")
rc=0
"$DUMPFILTER" -l -d 31 -f "$VMCORE" "$SMALL" 2>"$T/small.err" || rc=$?
[ $rc -ne 0 ] || it_fail "a dump larger than the device succeeded"
is_block "$SMALL" || it_fail "$SMALL replaced after ENOSPC"
grep -Eq "No space left on device; saved [0-9]+ of [0-9]+ pages in $SMALL \(marked incomplete\)" "$T/small.err" ||
  { cat "$T/small.err" >&2; it_fail "small device: message"; }
$PY - "$SMALL" <<'PY' || it_fail "small device: not a readable partial dump"
import os, sys
sys.path.insert(0, os.environ["SRCDIR"] + "/tests/integration")
from kdump_pages import Dump, DESC, INCOMPLETE
d = Dump(sys.argv[1])
assert d.status & INCOMPLETE, "no incomplete flag"
pfns = list(d.dumped_pfns())
d.f.seek(d.desc_off)
raw = d.f.read(len(pfns) * DESC.size)
descs = [DESC.unpack_from(raw, i * DESC.size) for i in range(len(pfns))]
written = [x for x in descs if x[0] > 0]
lost = [x for x in descs if x[:3] == (0, 0, 0)]
assert written and lost and len(written) + len(lost) == len(descs), \
    f"{len(written)} written, {len(lost)} lost of {len(descs)}: stale descriptors"
PY
echo "ok: a device too small: ENOSPC, flagged incomplete, unwritten descriptors lost ($(cat "$T/small.err"))"

# -F to a character device keeps working; a character device as DUMPFILE is not replaced.
"$DUMPFILTER" -F -l -d 31 "$VMCORE" >/dev/null || it_fail "-F to /dev/null"
mknod "$T/null" c 1 3
"$DUMPFILTER" -f -l -d 31 "$VMCORE" "$T/null" 2>"$T/chr.err" && it_fail "a character device as DUMPFILE accepted"
grep -q "is not a regular file or a block device" "$T/chr.err" || { cat "$T/chr.err" >&2; it_fail "character device: message"; }
[ -c "$T/null" ] && [ ! -e "$T/null-incomplete" ] || it_fail "the character device was replaced"
echo "ok: -F to /dev/null streams; a character device as DUMPFILE is refused and kept"
