#!/usr/bin/env bash
# Dump files as input. Our reader (pagecmp, through open_dump_input) reads makedumpfile's -c, -l,
# -d 0 and -d 31 dumps, its flattened -F stream, and our own dumps, with the ELF vmcore's page
# bytes; re-filtering makedumpfile's -d 0 dump (plain and flattened) to -d 31 keeps the pages that
# filtering the vmcore directly keeps, and crash opens the result; --dump-dmesg and --report work
# on kdump-compressed and flattened inputs.
source "$(dirname "$0")/lib.sh"
: "${PAGECMP:?meson sets PAGECMP}"
it_tmpdir
T=$IT_TMP
trap 'umount "$T/full" 2>/dev/null || true; rm -rf "$IT_TMP"' EXIT
VMCORE=$(it_fixture small)

# Two readers. pagecmp reads through our open_dump_input: used below, on purpose, where our
# READER is what is tested (makedumpfile's dumps read back). Our WRITER's output is judged by
# libkdumpfile (the reader drgn uses) through kdumpfile_pagecmp.py, so that a writer and a
# reader sharing one mistake cannot pass together.
cmp_pages() {  # cmp_pages same|subset A B LABEL
  local out
  out=$("$PAGECMP" "$1" "$2" "$3") || { echo "$out" >&2; it_fail "pagecmp $1: $4"; }
  echo "ok: $4: $out"
}
oracle_pages() {  # oracle_pages same|subset A B LABEL
  local out
  out=$("$PY" "$SRCDIR/tests/tools/kdumpfile_pagecmp.py" "$1" "$2" "$3" 2>&1) ||
    { echo "$out" >&2; it_fail "libkdumpfile page comparison ($1): $4"; }
  echo "ok: $4: $out"
}

# makedumpfile's dumps, each codec it has and both levels, against the vmcore.
makedumpfile -c -d 31 "$VMCORE" "$T/m-c31" >/dev/null 2>&1 || it_fail "makedumpfile -c -d 31"
makedumpfile -l -d 31 "$VMCORE" "$T/m-l31" >/dev/null 2>&1 || it_fail "makedumpfile -l -d 31"
makedumpfile -d 0 "$VMCORE" "$T/m-0" >/dev/null 2>&1 || it_fail "makedumpfile -d 0"
makedumpfile -F -c -d 0 "$VMCORE" > "$T/m-F0" 2>/dev/null || it_fail "makedumpfile -F -c -d 0"
cmp_pages subset "$T/m-c31" "$VMCORE" "makedumpfile -c -d 31"
cmp_pages subset "$T/m-l31" "$VMCORE" "makedumpfile -l -d 31"
cmp_pages same "$T/m-c31" "$T/m-l31" "makedumpfile -c and -l keep the same pages"
cmp_pages same "$T/m-0" "$VMCORE" "makedumpfile -d 0 (raw)"
cmp_pages same "$T/m-F0" "$VMCORE" "makedumpfile -F -c -d 0 (flattened)"

# Our own dumps, with the codecs makedumpfile (Debian's build) cannot write.
"$DUMPFILTER" -z -d 31 "$VMCORE" "$T/o-z31" || it_fail "dumpfilter -z -d 31"
oracle_pages subset "$T/o-z31" "$VMCORE" "dumpfilter -z -d 31"
"$DUMPFILTER" -p -d 1 "$VMCORE" "$T/o-p1" || it_fail "dumpfilter -p -d 1 (snappy: setup.sh installs libsnappy-dev)"
oracle_pages subset "$T/o-p1" "$VMCORE" "dumpfilter -p -d 1"
rm -f "$T/o-p1"

# Re-filtering: -d 0 (plain and flattened) to -d 31 keeps what -d 31 on the vmcore keeps.
"$DUMPFILTER" -c -d 31 "$VMCORE" "$T/direct31" || it_fail "dumpfilter -d 31 on the vmcore"
"$DUMPFILTER" -c -d 31 "$T/m-0" "$T/refilt31" || it_fail "dumpfilter -d 31 on makedumpfile's -d 0 dump"
"$DUMPFILTER" -l -d 31 "$T/m-F0" "$T/refiltF31" || it_fail "dumpfilter -d 31 on makedumpfile's -F -d 0 stream"
oracle_pages same "$T/refilt31" "$T/direct31" "re-filtered -d 0 -> -d 31"
oracle_pages same "$T/refiltF31" "$T/direct31" "re-filtered flattened -d 0 -> -d 31"
oracle_pages subset "$T/refilt31" "$VMCORE" "re-filtered dump against the vmcore"
[ "$(stat -c %a "$T/refilt31")" = 600 ] || it_fail "re-filtered dump mode is not 600"
VMLINUX=$(it_vmlinux)
RELEASE=$("$PY" "$SRCDIR/tests/integration/kdump_pages.py" summary "$T/m-c31" | sed 's/.*"release": "\([^"]*\)".*/\1/')
it_crash_facts "$T/refilt31" "$VMLINUX" "re-filtered dump" "$RELEASE" >/dev/null
echo "ok: crash opens the re-filtered dump"
rm -f "$T/m-0" "$T/refiltF31" "$T/o-z31"

# --dump-dmesg and --report on kdump-compressed and flattened inputs.
makedumpfile --dump-dmesg "$VMCORE" "$T/log-ref" >/dev/null 2>&1 || it_fail "makedumpfile --dump-dmesg"
for input in m-c31 m-F0; do
  "$DUMPFILTER" --dump-dmesg "$T/$input" "$T/log-$input" || it_fail "--dump-dmesg on $input"
  cmp -s "$T/log-ref" "$T/log-$input" || it_fail "--dump-dmesg on $input differs from makedumpfile's"
  "$DUMPFILTER" --report "$T/rep-$input.txt" "$T/$input" || it_fail "--report on $input"
  grep -q '^  kind           sysrq triggered crash$' "$T/rep-$input.txt" || it_fail "report on $input: kind"
  grep -q '^  task           PID 1 (init)$' "$T/rep-$input.txt" || it_fail "report on $input: task"
  grep -q '^  sysrq_handle_crash+0x' "$T/rep-$input.txt" || it_fail "report on $input: call trace"
  $PY -m json.tool "$T/rep-$input.json" >/dev/null || it_fail "report JSON on $input"
  echo "ok: --dump-dmesg and --report on $input"
done
rm -f "$T/m-F0"
# A flattened ELF stream (makedumpfile -E -F) is read through the same index.
makedumpfile -E -F -d 31 "$VMCORE" > "$T/m-EF31" 2>/dev/null || it_fail "makedumpfile -E -F"
"$DUMPFILTER" --dump-dmesg "$T/m-EF31" "$T/log-EF31" || it_fail "--dump-dmesg on a flattened ELF stream"
cmp -s "$T/log-ref" "$T/log-EF31" || it_fail "--dump-dmesg on a flattened ELF stream differs"
echo "ok: --dump-dmesg on makedumpfile -E -F"
rm -f "$T/m-EF31"

# An incomplete dump (makedumpfile stopped by a full disk, status flag set): the pages it holds
# read back as the vmcore's, the rest are absent.
if [ "$(id -u)" -eq 0 ] && mkdir -p "$T/full" && mount -t tmpfs -o size=8M kdumpkit-inc "$T/full" 2>/dev/null; then
  # It must stop on the full disk: a dump that fits would test nothing.
  ! makedumpfile -c -d 31 "$VMCORE" "$T/full/inc" >/dev/null 2>&1 || it_fail "makedumpfile's dump fit in 8 MiB"
  cp "$T/full/inc" "$T/inc" && umount "$T/full"
  [ "$($PY "$SRCDIR/tests/integration/kdump_pages.py" summary "$T/inc" | sed 's/.*"status": \([0-9]*\).*/\1/')" = 9 ] ||
    it_fail "makedumpfile's cut dump is not flagged incomplete"
  cmp_pages subset "$T/inc" "$VMCORE" "incomplete makedumpfile dump"
  rm -f "$T/inc"
else
  it_fail "the incomplete-dump case needs root and a tmpfs mount"
fi

# The large vmcore: makedumpfile -l -d 31 read back, and the re-filter from -d 1.
LARGE=$(it_fixture large)
makedumpfile -l -d 31 "$LARGE" "$T/L-l31" >/dev/null 2>&1 || it_fail "makedumpfile -l -d 31 (large)"
cmp_pages subset "$T/L-l31" "$LARGE" "makedumpfile -l -d 31 (large)"
makedumpfile -l -d 1 "$LARGE" "$T/L-l1" >/dev/null 2>&1 || it_fail "makedumpfile -l -d 1 (large)"
/usr/bin/time -f %M -o "$T/rss" "$DUMPFILTER" -l -d 31 "$T/L-l1" "$T/L-refilt31" ||
  it_fail "dumpfilter -d 31 on -d 1 (large)"
# Bounded memory: windows of the bitmap and of descriptors, whatever the dump's size.
[ "$(tail -n 1 "$T/rss")" -lt 32768 ] || it_fail "re-filtering the large dump took $(tail -n 1 "$T/rss") KiB"
echo "ok: re-filtering the large dump: maxrss $(tail -n 1 "$T/rss") KiB"
"$DUMPFILTER" -l -d 31 "$LARGE" "$T/L-direct31" || it_fail "dumpfilter -d 31 (large)"
oracle_pages same "$T/L-refilt31" "$T/L-direct31" "re-filtered -d 1 -> -d 31 (large)"
