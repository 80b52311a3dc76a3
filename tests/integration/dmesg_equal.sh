#!/usr/bin/env bash
# --dump-dmesg writes exactly what makedumpfile --dump-dmesg writes.
source "$(dirname "$0")/lib.sh"
VMCORE=$(it_fixture small)
it_tmpdir
"$DUMPFILTER" --dump-dmesg "$VMCORE" "$IT_TMP/ours" || it_fail "dumpfilter --dump-dmesg"
makedumpfile --dump-dmesg "$VMCORE" "$IT_TMP/theirs" >/dev/null 2>&1 || it_fail "makedumpfile --dump-dmesg"
cmp "$IT_TMP/ours" "$IT_TMP/theirs" || { diff "$IT_TMP/ours" "$IT_TMP/theirs" | head -20; it_fail "logs differ"; }
[ "$(stat -c %a "$IT_TMP/ours")" = 600 ] || it_fail "log mode is not 600"
echo "ok: $(wc -l < "$IT_TMP/ours") lines identical"
