#!/usr/bin/env bash
# Faults while writing a dump (issue 10): a full filesystem (ENOSPC, a small tmpfs), a failing
# disk (EIO) and SIGTERM / SIGKILL mid-dump (both injected by tests/tools/write_fault_shim.cpp).
# Each time: nothing at the final name, the partial file is DUMPFILE-incomplete with the header's
# incomplete flag, the descriptors of pages never written read as lost (all zero), the pages it
# does hold are the vmcore's, and crash opens it. Then the XXH3-128 manifest (a flipped byte is
# found by --verify and by checking its ranges with xxh128sum), and outputs never written through a symbolic link.
source "$(dirname "$0")/lib.sh"
: "${KK_FAULT_SHIM:?meson sets KK_FAULT_SHIM}"
it_tmpdir
VMCORE=$(it_fixture small)
VMLINUX=$(it_vmlinux)
RELEASE=$(it_release)
T=$IT_TMP

# partial_ok FILE LABEL: flagged, lost pages read as lost, kept pages right, crash opens it.
# crash's full session needs the kernel's page tables and data, which on this vmcore lie near the
# top of memory (pfn order puts them last): a partial dump opens in crash's --minimal mode, where
# a saved page reads back and a lost one is "page incomplete" (not zeros), as in makedumpfile's.
partial_ok() {
  local f=$1 label=$2 counts out
  counts=$($PY - "$f" <<'PY'
import os, sys
sys.path.insert(0, os.environ["SRCDIR"] + "/tests/integration")
from kdump_pages import Dump, DESC
d = Dump(sys.argv[1])
if not d.status & 0x8:
    sys.exit(f"status {d.status:#x} has no incomplete flag")
pfns = list(d.dumped_pfns())
d.f.seek(d.desc_off)
raw = d.f.read(len(pfns) * DESC.size)
raw += bytes(len(pfns) * DESC.size - len(raw))
written, lost = [], []
for i, pfn in enumerate(pfns):
    off, size, flags, _pf = DESC.unpack_from(raw, i * DESC.size)
    if off == 0 and size == 0 and flags == 0:
        lost.append(pfn)
    elif lost:
        sys.exit(f"descriptor {i} written after a lost one")
    else:
        written.append(pfn)
if not written or not lost:
    sys.exit(f"{len(written)} pages written, {len(lost)} lost: not a partial dump")
print(len(written), len(lost), f"{written[len(written) // 2] * d.block_size:x}",
      f"{lost[len(lost) // 2] * d.block_size:x}")
PY
) || it_fail "$label: $counts"
  read -r W L SAVED LOST <<<"$counts"
  "$PAGECMP" subset "$f" "$VMCORE" >/dev/null || it_fail "$label: kept pages differ from the vmcore"
  out=$(printf 'rd -p %s 2\nrd -p %s 2\nsym jiffies\nquit\n' "$SAVED" "$LOST" |
        timeout 300 env -u MALLOC_PERTURB_ crash -s --minimal "$VMLINUX" "$f" 2>&1) ||
    { echo "$out" | tail -20 >&2; it_fail "crash does not open the partial dump ($label)"; }
  grep -q "This dumpfile is incomplete" <<<"$out" || { echo "$out" >&2; it_fail "crash: no incomplete warning ($label)"; }
  grep -Eq "^ *$SAVED: +[0-9a-f]{16} " <<<"$out" || { echo "$out" >&2; it_fail "crash: saved page $SAVED unreadable ($label)"; }
  grep -q "page incomplete: physical address: $LOST" <<<"$out" ||
    { echo "$out" >&2; it_fail "crash: lost page $LOST not reported lost ($label)"; }
  grep -q "(D) jiffies" <<<"$out" || { echo "$out" >&2; it_fail "crash sym ($label)"; }
  echo "ok: $label: $W pages written, $L lost (crash: page incomplete), flagged incomplete, crash --minimal opens it"
}

# one_line_saved MSGFILE LABEL: exactly one line, saying how much was saved.
one_line_saved() {
  [ "$(wc -l <"$1")" = 1 ] || { cat "$1" >&2; it_fail "$2: not one line of error"; }
  grep -Eq 'saved [0-9]+ of [0-9]+ pages in .*-incomplete \(marked incomplete\)' "$1" ||
    { cat "$1" >&2; it_fail "$2: message does not say what was saved"; }
}

"$DUMPFILTER" -c -d 31 "$VMCORE" "$T/whole" || it_fail "dumpfilter -c -d 31"
SIZE=$(stat -c %s "$T/whole")
[ ! -e "$T/whole-incomplete" ] || it_fail "a complete dump left its -incomplete name behind"

# ENOSPC: a tmpfs with room for 75% of the dump (crash, even --minimal, needs the kernel image
# pages, at about 60% of this dump in pfn order).
if [ "$(id -u)" -eq 0 ] && mkdir -p "$T/small" &&
   mount -t tmpfs -o size=$((SIZE * 3 / 4 / 4096 * 4096)) kdumpkit-enospc "$T/small" 2>/dev/null; then
  "$DUMPFILTER" -c -d 31 "$VMCORE" "$T/small/vmcore" 2>"$T/enospc.err" && it_fail "ENOSPC: dump succeeded"
  grep -q "No space left on device" "$T/enospc.err" || { cat "$T/enospc.err" >&2; it_fail "ENOSPC: no ENOSPC"; }
  one_line_saved "$T/enospc.err" ENOSPC
  [ ! -e "$T/small/vmcore" ] || it_fail "ENOSPC: a file at the final name"
  [ ! -e "$T/small/vmcore.sha256" ] || it_fail "ENOSPC: a manifest for an incomplete dump"
  [ "$(stat -c %a "$T/small/vmcore-incomplete")" = 600 ] || it_fail "ENOSPC: partial dump not 0600"
  cp "$T/small/vmcore-incomplete" "$T/enospc-incomplete"
  umount "$T/small"
  partial_ok "$T/enospc-incomplete" ENOSPC
else
  it_fail "ENOSPC case needs root and a tmpfs mount"
fi

# fault KIND: the dump of the vmcore into $T/KIND/vmcore with the fault at 75% of the file.
fault() {
  mkdir -p "$T/$1"
  LD_PRELOAD=$KK_FAULT_SHIM KK_FAULT=$1 KK_FAULT_AFTER=$((SIZE * 3 / 4)) KK_FAULT_PATH="$T/$1/" \
    "$DUMPFILTER" -c -d 31 "$VMCORE" "$T/$1/vmcore" 2>"$T/$1.err"
}
for kind in eio sigterm sigkill; do
  rc=0
  fault $kind || rc=$?
  [ $rc -ne 0 ] || it_fail "$kind: dump succeeded"
  [ ! -e "$T/$kind/vmcore" ] || it_fail "$kind: a file at the final name"
  [ -f "$T/$kind/vmcore-incomplete" ] || it_fail "$kind: no vmcore-incomplete"
  case $kind in
    eio) grep -q "Input/output error" "$T/eio.err" || it_fail "eio: no EIO in the message"
         one_line_saved "$T/eio.err" EIO ;;
    sigterm) grep -q "stopped by SIGTERM" "$T/sigterm.err" || it_fail "sigterm: message"
             one_line_saved "$T/sigterm.err" SIGTERM ;;
    sigkill) [ $rc -eq 137 ] || it_fail "sigkill: exit status $rc, not 137" ;;
  esac
  partial_ok "$T/$kind/vmcore-incomplete" "$kind"
done
# A second run over a dump that stopped early needs -f, and then replaces it.
"$DUMPFILTER" -c -d 31 "$VMCORE" "$T/sigkill/vmcore" 2>/dev/null && it_fail "-incomplete replaced without -f"
"$DUMPFILTER" -f -c -d 31 "$VMCORE" "$T/sigkill/vmcore" || it_fail "-f over a -incomplete"
[ ! -e "$T/sigkill/vmcore-incomplete" ] || it_fail "-f left the old -incomplete"
"$DUMPFILTER" --verify "$T/sigkill/vmcore" || it_fail "--verify on the redone dump"

# -F stopped by SIGTERM: the stream has no end record, and -R refuses it.
rc=0
LD_PRELOAD=$KK_FAULT_SHIM KK_FAULT=sigterm KK_FAULT_AFTER=$((SIZE * 3 / 4)) KK_FAULT_PATH="$T/stream.flat" \
  "$DUMPFILTER" -F -c -d 31 "$VMCORE" >"$T/stream.flat" 2>"$T/flat.err" || rc=$?
[ $rc -ne 0 ] || it_fail "-F: SIGTERM did not fail the dump"
grep -q "without its end record" "$T/flat.err" || { cat "$T/flat.err" >&2; it_fail "-F: message"; }
"$DUMPFILTER" -R "$T/flat-rebuilt" <"$T/stream.flat" 2>/dev/null && it_fail "-R took a stream without its end"
[ ! -e "$T/flat-rebuilt" ] || it_fail "-R left a file at the final name"
echo "ok: -F stopped by SIGTERM: no end record, -R refuses it"

# -E (ELF) stopped by EIO: e_flags says incomplete.
mkdir -p "$T/elf"
LD_PRELOAD=$KK_FAULT_SHIM KK_FAULT=eio KK_FAULT_AFTER=$((SIZE * 3 / 4)) KK_FAULT_PATH="$T/elf/" \
  "$DUMPFILTER" -E -d 31 "$VMCORE" "$T/elf/core" 2>"$T/elf.err" && it_fail "-E: EIO dump succeeded"
one_line_saved "$T/elf.err" "-E EIO"
[ ! -e "$T/elf/core" ] || it_fail "-E: a file at the final name"
readelf -h "$T/elf/core-incomplete" | grep -q 'Flags: *0x1$' || it_fail "-E partial dump not flagged"
echo "ok: -E stopped by EIO: core-incomplete flagged (e_flags 0x1)"

# The manifest: its ranges check with coreutils alone and with --verify; a flipped byte is found,
# in one line naming the range.
[ "$(stat -c %a "$T/whole.sha256")" = 600 ] || it_fail "manifest not 0600"
check_by_hand() {  # the manifest's documented by-hand check: each range through xxh128sum
  local f=$1 size off len want got
  size=$(sed -n 's/^size //p' "$f.sha256")
  [ "$size" = "$(stat -c %s "$f")" ] || return 1
  while read -r _ off len want; do
    got=$(tail -c +$((off + 1)) "$f" | head -c "$len" | xxh128sum | cut -d' ' -f1)
    [ "$got" = "$want" ] || return 1
  done < <(grep '^xxh3-128 ' "$f.sha256")
}
check_by_hand "$T/whole" || it_fail "the manifest's ranges do not check with xxh128sum"
"$DUMPFILTER" --verify "$T/whole" || it_fail "--verify on an intact dump"
cp "$T/whole" "$T/flipped"
cp "$T/whole.sha256" "$T/flipped.sha256"
"$DUMPFILTER" --verify "$T/flipped" || it_fail "--verify on an intact copy"
$PY - "$T/flipped" $((SIZE / 2)) <<'PY'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(int(sys.argv[2])); b = f.read(1); f.seek(int(sys.argv[2])); f.write(bytes([b[0] ^ 0x10]))
PY
out=$("$DUMPFILTER" --verify "$T/flipped" 2>&1) && it_fail "--verify missed a flipped byte"
[ "$(wc -l <<<"$out")" = 1 ] && grep -q "$T/flipped: bytes [0-9]*-[0-9]* have XXH3-128" <<<"$out" || { echo "$out" >&2; it_fail "--verify message"; }
check_by_hand "$T/flipped" && it_fail "the by-hand check missed the flipped byte"
echo "ok: manifest: by-hand ranges and --verify pass, a flipped byte is found ($out)"

# A dump removed without its manifest: the next dump of that name replaces the stale manifest.
rm -f "$T/flipped"
"$DUMPFILTER" -c -d 31 "$VMCORE" "$T/flipped" || it_fail "dump beside a stale manifest"
"$DUMPFILTER" --verify "$T/flipped" || it_fail "--verify after the manifest was replaced"

# Symbolic links: refused at the final name and at the -incomplete name, with and without -f.
echo keep >"$T/target"
ln -s "$T/target" "$T/link"
for f in "" -f; do
  out=$("$DUMPFILTER" $f -c -d 31 "$VMCORE" "$T/link" 2>&1) && it_fail "wrote through a symlink ($f)"
  grep -q "symbolic link" <<<"$out" || { echo "$out" >&2; it_fail "symlink: message ($f)"; }
done
ln -s "$T/target" "$T/other-incomplete"
out=$("$DUMPFILTER" -f -c -d 31 "$VMCORE" "$T/other" 2>&1) && it_fail "wrote through a -incomplete symlink"
grep -q "symbolic link" <<<"$out" || { echo "$out" >&2; it_fail "-incomplete symlink: message"; }
[ "$(cat "$T/target")" = keep ] || it_fail "the symlink's target changed"
echo "ok: symbolic links refused ($out)"

# A directory dumpfilter creates is 0700; the dump in it 0600.
"$DUMPFILTER" -c -d 31 "$VMCORE" "$T/new/sub/vmcore" || it_fail "dump into a new directory"
[ "$(stat -c %a "$T/new")" = 700 ] && [ "$(stat -c %a "$T/new/sub")" = 700 ] || it_fail "new directory not 0700"
[ "$(stat -c %a "$T/new/sub/vmcore")" = 600 ] || it_fail "dump not 0600"
echo "ok: new directories 0700, dump 0600"
