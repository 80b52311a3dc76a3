# matrix_lib.sh: what kernel_matrix.sh (x86_64) and kernel_matrix_arm64.sh share (sourced after
# lib.sh). The caller sets oracle (tests/qemu/oracle-chroot.sh), kver, VMCORE (the full
# /proc/vmcore copy) and KK_VMLINUX, and has copied drgn_facts.py and compound_tails.py to IT_TMP.

# Runs a command in unstable's chroot (makedumpfile 1.7.8, drgn, crash): LIMIT CMD...
in_oracle() { timeout "$1" "$oracle" run env -u MALLOC_PERTURB_ "${@:2}"; }

# 1 where the kernel is 7.1 or newer: page.compound_head became compound_info there ("mm: rename
# page->compound_head to compound_info", v7.1), which makedumpfile 1.7.8 does not know.
matrix_renamed() {
  local major=${1%%.*} minor=${1#*.}
  minor=${minor%%.*}
  { [ "$major" -gt 7 ] || { [ "$major" -eq 7 ] && [ "$minor" -ge 1 ]; }; } && echo 1 || echo 0
}

# matrix_page_set D MAKEDUMPFILE...: our -d D dump against makedumpfile's (the command that runs
# it, given its arguments), kept pfns exactly and 2,000 sampled pages byte-equal. Before 7.1 they
# must agree; from 7.1 only pages we keep may differ, and each must be a compound tail whose head
# makedumpfile keeps (drgn on the full vmcore): we follow the kernel.
matrix_page_set() {
  local d=$1 t0=$SECONDS t1 rc=0 res tails
  shift
  timeout 120 "$DUMPFILTER" -c -d "$d" "$VMCORE" "$IT_TMP/ours.$d" >/dev/null 2>"$IT_TMP/err" ||
    { cat "$IT_TMP/err" >&2; it_fail "dumpfilter -d $d"; }
  t1=$SECONDS
  "$@" -c -d "$d" "$VMCORE" "$IT_TMP/theirs.$d" >"$IT_TMP/mdf.$d" 2>&1 ||
    { tail -5 "$IT_TMP/mdf.$d" >&2; it_fail "makedumpfile -d $d"; }
  res=$($PY "$SRCDIR/tests/integration/kdump_pages.py" exact "$IT_TMP/ours.$d" "$IT_TMP/theirs.$d" \
    --only-ours "$IT_TMP/only.$d") || rc=$?
  echo "-d $d: $res (ours $((t1 - t0)) s, makedumpfile $((SECONDS - t1)) s)"
  [ "$rc" = 0 ] && return 0
  [ "$(matrix_renamed "$kver")" = 1 ] && grep -q 'only makedumpfile 0;' <<<"$res" &&
    grep -q 'byte-different 0$' <<<"$res" || it_fail "-d $d: the kept pages differ from makedumpfile's"
  tails=$(in_oracle 180 python3 "$IT_TMP/compound_tails.py" "$VMCORE" "$KK_VMLINUX" "$IT_TMP/only.$d" \
    "$IT_TMP/theirs.$d") ||
    { echo "$tails" >&2; it_fail "-d $d: pages only we keep that are not tails makedumpfile 1.7.8 misreads"; }
  echo "   $tails"
}

# matrix_drgn_equal LIMIT: drgn reads our -d 31 dump ($IT_TMP/ours.31) as it reads the full
# vmcore: crashed thread and stack, tasks, every slab cache, modules, mounts, log; no fault.
matrix_drgn_equal() {
  echo "== $kver: drgn, full vmcore vs our -d 31 dump"
  in_oracle "$1" python3 "$IT_TMP/drgn_facts.py" --all "$VMCORE" "$KK_VMLINUX" >"$IT_TMP/full.facts" 2>&1 ||
    { tail "$IT_TMP/full.facts" >&2; it_fail "drgn on the full vmcore"; }
  in_oracle "$1" python3 "$IT_TMP/drgn_facts.py" --all "$IT_TMP/ours.31" "$KK_VMLINUX" >"$IT_TMP/ours.facts" 2>&1 ||
    { tail "$IT_TMP/ours.facts" >&2; it_fail "drgn on our -d 31 dump"; }
  grep -E '^(release|crashed|stack|tasks|slab_caches|modules|mounts|dmesg)' "$IT_TMP/ours.facts" | cut -c1-200
  grep -q "^release $kver\$" "$IT_TMP/ours.facts" || it_fail "drgn: release is not $kver"
  grep -q '^stack .*sysrq_handle_crash' "$IT_TMP/ours.facts" || it_fail "drgn: no sysrq_handle_crash on the crashed stack"
  ! grep -q '^FAULT' "$IT_TMP/full.facts" "$IT_TMP/ours.facts" ||
    { grep '^FAULT' "$IT_TMP"/*.facts >&2; it_fail "drgn faulted"; }
  diff "$IT_TMP/full.facts" "$IT_TMP/ours.facts" >&2 ||
    it_fail "drgn reads our -d 31 dump differently from the full vmcore"
}
