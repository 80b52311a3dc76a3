#!/usr/bin/env bash
# Issue 18, points 2 and 3. (2) Whatever fails after the last page was written (fdatasync before
# the complete mark, fsync after it, link, rename with -f, the manifest's read-back of the head),
# the whole dump stays as DUMPFILE-incomplete, flagged incomplete, every page in it, and the one
# line of error says where. (3) A page of the input that cannot be read (EIO on its pread) is
# marked lost and the rest is dumped: the dump is published flagged incomplete, the page's
# descriptor says lost (crash: "page incomplete"), --report lists its pfn, exit status non-zero
# with one line saying how many. Faults come from tests/tools/write_fault_shim.cpp.
source "$(dirname "$0")/lib.sh"
: "${KK_FAULT_SHIM:?meson sets KK_FAULT_SHIM}"
it_tmpdir
VMCORE=$(it_fixture small)
VMLINUX=$(it_vmlinux)
RELEASE=$(it_release)
T=$IT_TMP

# status_pages DUMP: "<incomplete flag 0/1> <dumped pages> <lost descriptors> <lost pfns, comma separated>"
status_pages() {
  $PY - "$1" <<'PY'
import os, sys
sys.path.insert(0, os.environ["SRCDIR"] + "/tests/integration")
from kdump_pages import Dump, DESC, INCOMPLETE
d = Dump(sys.argv[1])
pfns = list(d.dumped_pfns())
d.f.seek(d.desc_off)
raw = d.f.read(len(pfns) * DESC.size)
lost = [p for i, p in enumerate(pfns) if DESC.unpack_from(raw, i * DESC.size)[:3] == (0, 0, 0)]
print(1 if d.status & INCOMPLETE else 0, len(pfns), len(lost), ",".join(f"{p:#x}" for p in lost) or "-")
PY
}

"$DUMPFILTER" -c -d 31 "$VMCORE" "$T/whole" || it_fail "dumpfilter -c -d 31"
read -r FLAG PAGES LOST _ <<<"$(status_pages "$T/whole")"
[ "$FLAG" = 0 ] && [ "$LOST" = 0 ] || it_fail "the whole dump: flag $FLAG, $LOST lost"

# --- 2: publishing fails: the complete dump is kept as -incomplete -----------------------------
for op in fdatasync fsync link rename read; do
  mkdir -p "$T/$op"
  force=
  [ $op = rename ] && force=-f  # -f publishes with rename(), without it link()
  rc=0
  LD_PRELOAD=$KK_FAULT_SHIM KK_FAULT=eio KK_FAULT_OP=$op KK_FAULT_AFTER=0 KK_FAULT_PATH="$T/$op/" \
    "$DUMPFILTER" $force -c -d 31 "$VMCORE" "$T/$op/vmcore" 2>"$T/$op.err" || rc=$?
  [ $rc -ne 0 ] || it_fail "$op: EIO at publishing, exit status 0"
  [ "$(wc -l <"$T/$op.err")" = 1 ] || { cat "$T/$op.err" >&2; it_fail "$op: not one line of error"; }
  grep -q "Input/output error; saved $PAGES of $PAGES pages in $T/$op/vmcore-incomplete (marked incomplete)" "$T/$op.err" ||
    { cat "$T/$op.err" >&2; it_fail "$op: the message does not say where the dump is"; }
  [ ! -e "$T/$op/vmcore" ] || it_fail "$op: a file at the final name"
  [ ! -e "$T/$op/vmcore.sha256" ] || it_fail "$op: a manifest for a dump that was not published"
  [ -f "$T/$op/vmcore-incomplete" ] || it_fail "$op: the complete dump was deleted"
  read -r flag pages lost _ <<<"$(status_pages "$T/$op/vmcore-incomplete")"
  [ "$flag" = 1 ] || it_fail "$op: the kept dump is not flagged incomplete"
  [ "$pages" = "$PAGES" ] && [ "$lost" = 0 ] || it_fail "$op: $pages pages, $lost lost (want $PAGES, 0)"
  "$PAGECMP" same "$T/$op/vmcore-incomplete" "$T/whole" >/dev/null || it_fail "$op: pages differ from the whole dump"
  echo "ok: $op fails at publishing: all $PAGES pages kept in vmcore-incomplete, flagged ($(cat "$T/$op.err"))"
done
# The kept dump is a whole dump: crash's full session reads it (its incomplete warning aside).
out=$(it_crash_facts "$T/fsync/vmcore-incomplete" "$VMLINUX" "fsync-kept" "$RELEASE")
echo "ok: crash reads the dump kept after a failed fsync"

# --- 3: an unreadable page of the input --------------------------------------------------------
# A kept page near the middle of the whole dump, and where the vmcore holds it.
read -r PFN OFF <<<"$($PY - "$T/whole" "$VMCORE" <<'PY'
import os, struct, sys
sys.path.insert(0, os.environ["SRCDIR"] + "/tests/integration")
from kdump_pages import Dump
d = Dump(sys.argv[1])
pfns = list(d.dumped_pfns())
with open(sys.argv[2], "rb") as f:
    eh = f.read(64)
    phoff, = struct.unpack_from("<Q", eh, 32)
    phentsize, phnum = struct.unpack_from("<HH", eh, 54)
    f.seek(phoff)
    segs = [struct.unpack_from("<IIQQQQQQ", f.read(phentsize)) for _ in range(phnum)]
for pfn in pfns[len(pfns) // 2:]:
    pa = pfn * d.block_size
    # One segment only: kernel text is in two (its own and System RAM's), read from either.
    hits = [off + pa - paddr for typ, _fl, off, _va, paddr, filesz, _mem, _al in segs
            if typ == 1 and paddr <= pa and pa + d.block_size <= paddr + filesz]
    if len(hits) == 1:
        print(pfn, hits[0] + 100)
        sys.exit(0)
sys.exit("no kept page in a PT_LOAD")
PY
)"
[ -n "$OFF" ] || it_fail "no page to make unreadable"
HEXPFN=$(printf '%#x' "$PFN")
mkdir -p "$T/lost"
rc=0
LD_PRELOAD=$KK_FAULT_SHIM KK_FAULT=eio KK_FAULT_OP=read KK_FAULT_AFTER=$OFF KK_FAULT_PATH="$VMCORE" \
  "$DUMPFILTER" -c -d 31 --report "$T/lost/report" "$VMCORE" "$T/lost/vmcore" 2>"$T/lost.err" || rc=$?
[ $rc -ne 0 ] || it_fail "lost page: exit status 0"
[ "$(wc -l <"$T/lost.err")" = 1 ] || { cat "$T/lost.err" >&2; it_fail "lost page: not one line of error"; }
grep -q "$VMCORE: 1 page could not be read (pfn $HEXPFN); $T/lost/vmcore holds everything else" "$T/lost.err" ||
  { cat "$T/lost.err" >&2; it_fail "lost page: message"; }
[ -f "$T/lost/vmcore" ] || it_fail "lost page: the rest of the dump was not published"
read -r flag pages lost lostpfns <<<"$(status_pages "$T/lost/vmcore")"
[ "$flag" = 1 ] || it_fail "lost page: the dump is not flagged incomplete"
[ "$pages" = "$PAGES" ] && [ "$lost" = 1 ] && [ "$lostpfns" = "$HEXPFN" ] ||
  it_fail "lost page: $pages pages, lost $lostpfns (want $PAGES, $HEXPFN)"
# Every other page holds what the whole dump holds (read with the independent reader: our own
# kdump reader takes lost descriptors only as the tail of a dump that stopped early).
$PY - "$T/lost/vmcore" "$T/whole" "$PFN" <<'PY' || it_fail "lost page: the other pages differ from the whole dump"
import os, sys
sys.path.insert(0, os.environ["SRCDIR"] + "/tests/integration")
from kdump_pages import Dump, DESC
a, b, lost = Dump(sys.argv[1]), Dump(sys.argv[2]), int(sys.argv[3])
pfns = list(a.dumped_pfns())
assert pfns == list(b.dumped_pfns())
def descs(d):
    d.f.seek(d.desc_off)
    raw = d.f.read(len(pfns) * DESC.size)
    return [DESC.unpack_from(raw, i * DESC.size) for i in range(len(pfns))]
def data(d, desc):
    d.f.seek(desc[0])
    return d.f.read(desc[1]), desc[2]
for pfn, da, db in zip(pfns, descs(a), descs(b)):
    if pfn == lost:
        assert da[:3] == (0, 0, 0), da
    elif data(a, da) != data(b, db):
        sys.exit(f"pfn {pfn:#x} differs")
PY
"$DUMPFILTER" --verify "$T/lost/vmcore" || it_fail "lost page: --verify"
$PY -c 'import json, sys; d = json.load(open(sys.argv[1]))["dump"]
sys.exit(d["lost_pages"] != 1 or d["lost_pfn_ranges"] != [{"first": int(sys.argv[2]), "last": int(sys.argv[2])}])' \
  "$T/lost/report.json" "$PFN" || { grep -A8 lost_pages "$T/lost/report.json" >&2; it_fail "lost page: not in report.json"; }
grep -q "1 pages unreadable in the input, marked lost in the dump (pfn $HEXPFN)" "$T/lost/report" ||
  it_fail "lost page: not in the text report"
LOSTADDR=$(printf '%x' $((PFN * 4096)))
out=$(printf 'rd -p %s 2\nquit\n' "$LOSTADDR" | timeout 300 env -u MALLOC_PERTURB_ crash -s --minimal "$VMLINUX" "$T/lost/vmcore" 2>&1) ||
  { echo "$out" | tail -20 >&2; it_fail "crash does not open the dump with a lost page"; }
grep -q "page incomplete: physical address: $LOSTADDR" <<<"$out" || { echo "$out" >&2; it_fail "crash: the lost page is not lost"; }
out=$(it_crash_facts "$T/lost/vmcore" "$VMLINUX" "lost-page" "$RELEASE")
echo "ok: an unreadable input page: pfn $HEXPFN lost, $((PAGES - 1)) others dumped, in the report, crash reads it ($(cat "$T/lost.err"))"

# -E: the page is stored as zeros and e_flags says incomplete.
rc=0
LD_PRELOAD=$KK_FAULT_SHIM KK_FAULT=eio KK_FAULT_OP=read KK_FAULT_AFTER=$OFF KK_FAULT_PATH="$VMCORE" \
  "$DUMPFILTER" -E -d 31 "$VMCORE" "$T/lost/core" 2>"$T/lost-elf.err" || rc=$?
[ $rc -ne 0 ] || it_fail "lost page -E: exit status 0"
grep -q "1 page could not be read (pfn $HEXPFN)" "$T/lost-elf.err" || { cat "$T/lost-elf.err" >&2; it_fail "lost page -E: message"; }
readelf -h "$T/lost/core" | grep -q 'Flags: *0x1$' || it_fail "lost page -E: e_flags not incomplete"
echo "ok: an unreadable input page with -E: core published, e_flags incomplete"
