#!/usr/bin/env bash
# Our dumps open in the real tools: for -d 0, 1, 31 with -c, -l, -z, crash runs sys/bt/log, drgn
# reads the UTS release and the crashed task, and makedumpfile accepts the dump as input and
# re-filters it.
source "$(dirname "$0")/lib.sh"
VMCORE=$(it_fixture small)
VMLINUX=$(it_vmlinux)
it_tmpdir
release=$("$DUMPFILTER" --dump-dmesg "$VMCORE" "$IT_TMP/log" && grep -m1 -o 'Linux version [^ ]*' "$IT_TMP/log" | cut -d' ' -f3)
[ -n "$release" ] || it_fail "cannot read the release from the kernel log"

for level in 0 1 31; do
  for codec in c l z; do
    dump="$IT_TMP/dump-$level-$codec"
    "$DUMPFILTER" -$codec -d $level "$VMCORE" "$dump" || it_fail "dumpfilter -$codec -d $level"
    [ "$(stat -c %a "$dump")" = 600 ] || it_fail "dump mode is $(stat -c %a "$dump"), not 600"

    it_crash_facts "$dump" "$VMLINUX" "-$codec -d $level" "$release" >/dev/null || exit 1
    got=$(it_drgn_facts "$dump" "$VMLINUX" "-$codec -d $level") || exit 1
    set -- $got
    [ "$1" = "$release" ] || it_fail "drgn release '$1' != '$release'"
    [ -n "${3:-}" ] || it_fail "drgn: no crashed task"
    [ "${4:-}" = sysrq ] || it_fail "drgn: sysrq_handle_crash is not on the crashed stack"

    # Debian's makedumpfile is built without zstd: it cannot read any -z dump, ours or its own.
    refilter="makedumpfile re-filter"
    if [ $codec = z ] && grep -q 'zstd[[:space:]]*disabled' <<<"$(makedumpfile -v 2>&1)"; then
      refilter="no makedumpfile re-filter (its build lacks zstd)"
    else
      makedumpfile -c -d 31 "$dump" "$IT_TMP/refiltered" >/dev/null 2>&1 ||
        it_fail "makedumpfile cannot re-filter our -$codec -d $level dump"
    fi
    rm -f "$IT_TMP/refiltered" "$dump"
    echo "ok: -$codec -d $level (crash, drgn: task $2 $3, $refilter)"
  done
done
