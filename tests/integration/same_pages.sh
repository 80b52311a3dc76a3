#!/usr/bin/env bash
# -d 31: the non-zero pages we keep equal makedumpfile 1.7.2's on the same vmcore within 0.5 %,
# and every page both keep has the same bytes. Both written with zlib so one reader reads both.
source "$(dirname "$0")/lib.sh"
it_tmpdir
for size in small large; do
  VMCORE=$(it_fixture $size)
  "$DUMPFILTER" -c -d 31 "$VMCORE" "$IT_TMP/ours" || it_fail "dumpfilter"
  makedumpfile -c -d 31 "$VMCORE" "$IT_TMP/theirs" >/dev/null 2>&1 || it_fail "makedumpfile"
  $PY "$SRCDIR/tests/integration/kdump_pages.py" compare "$IT_TMP/ours" "$IT_TMP/theirs" ||
    it_fail "page sets differ ($size)"
  rm -f "$IT_TMP/ours" "$IT_TMP/theirs"
done
