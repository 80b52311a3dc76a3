#!/usr/bin/env bash
# Debian 12's 6.1 fixtures against the makedumpfile of their age (the host's 1.7.2), exactly: for
# each -d bit alone (1 2 4 8 16) and 31 on the small vmcore, and 31 on the large one, the kept pfns
# are equal (a kept zero page counts whether stored once and shared or written out) and 2,000
# sampled kept pages byte-equal (kdump_pages.py exact). Both written with zlib so one reader reads
# both. The newer kernels: kernel_matrix.sh. Inner limits: 6 x (60 + 60) on the small vmcore,
# 150 + 150 on the large one = 1020 s (meson: 1200).
source "$(dirname "$0")/lib.sh"
it_tmpdir
check() {  # check VMCORE LEVEL LABEL LIMIT
  timeout "$4" "$DUMPFILTER" -c -d "$2" "$1" "$IT_TMP/ours" >/dev/null 2>"$IT_TMP/err" ||
    { cat "$IT_TMP/err" >&2; it_fail "dumpfilter -d $2 ($3)"; }
  timeout "$4" makedumpfile -c -d "$2" "$1" "$IT_TMP/theirs" >/dev/null 2>&1 || it_fail "makedumpfile -d $2 ($3)"
  local res rc=0
  res=$($PY "$SRCDIR/tests/integration/kdump_pages.py" exact "$IT_TMP/ours" "$IT_TMP/theirs") || rc=$?
  echo "$3 -d $2: $res"
  [ "$rc" = 0 ] || it_fail "-d $2 ($3): the kept pages differ from makedumpfile's"
  rm -f "$IT_TMP/ours" "$IT_TMP/theirs"
}
small=$(it_fixture small)
for d in 1 2 4 8 16 31; do check "$small" "$d" small 60; done
check "$(it_fixture large)" 31 large 150
