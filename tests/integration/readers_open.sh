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

    out=$(printf 'sys\nbt\nlog\nquit\n' | timeout 300 env -u MALLOC_PERTURB_ crash -s "$VMLINUX" "$dump" 2>&1) ||
      { echo "$out" | tail -20; it_fail "crash failed on -$codec -d $level"; }
    grep -q "RELEASE: $release" <<<"$out" || { echo "$out" | head -30; it_fail "crash sys: no RELEASE $release (-$codec -d $level)"; }
    grep -q "PANIC:" <<<"$out" || it_fail "crash sys: no PANIC line (-$codec -d $level)"
    grep -Eq '^ ?#0 ' <<<"$out" || { echo "$out" | head -40; it_fail "crash bt: no frame #0 (-$codec -d $level)"; }
    grep -q "sysrq" <<<"$out" || it_fail "crash log: no sysrq line (-$codec -d $level)"

    got=$(timeout 300 "${DRGN_PY[@]}" - "$dump" "$VMLINUX" <<'PYEOF'
import sys, drgn
prog = drgn.Program()
prog.set_core_dump(sys.argv[1])
prog.load_debug_info([sys.argv[2]])
release = prog["init_uts_ns"].name.release.string_().decode()
thread = prog.crashed_thread()
comm = thread.object.comm.string_().decode()
print(release, thread.tid, comm)
PYEOF
    ) || it_fail "drgn failed on -$codec -d $level"
    set -- $got
    [ "$1" = "$release" ] || it_fail "drgn release '$1' != '$release'"
    [ -n "${3:-}" ] || it_fail "drgn: no crashed task"

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
