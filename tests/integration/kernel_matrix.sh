#!/usr/bin/env bash
# kernel_matrix.sh trixie|sid|KVER: one newer kernel of the matrix (tests/qemu/pins.sh: Debian 13's 6.12,
# unstable's 7.x) on its cached fixture, a /proc/vmcore copy captured after OUR kexec -c -p
# (tests/qemu/fixtures.sh ours-c; ours-s is checked to be a readable capture too):
#  (a) for each -d bit alone (1 2 4 8 16) and 31, the kept pfns equal, exactly, those of
#      unstable's makedumpfile (tests/qemu/oracle-chroot.sh), and 2,000 sampled kept pages
#      byte-equal (kdump_pages.py exact). One disagreement is expected: makedumpfile 1.7.8 does
#      not know Linux 7.1's compound_head -> compound_info rename ("mm: rename
#      page->compound_head to compound_info", v7.1): it reads each tail page's own words, which
#      look anonymous, and excludes the tails of slab, page-cache and other kernel folios as user
#      pages (-d 8, so also 31) while it keeps their heads. There every pfn only we keep must be,
#      by drgn on the full vmcore, a tail page whose head makedumpfile keeps (compound_tails.py),
#      and makedumpfile may keep nothing we drop: we follow the kernel.
#  (b) drgn (unstable's) on the full vmcore and on our -d 31 dump: the same crashed thread and
#      stack, tasks, slab caches (every slab read whole), modules, mounts and kernel log, and no
#      fault (drgn_facts.py --all).
#  (c) crash (unstable's 9.0.2) on our -d 31 dump for 6.x: release, panic line, crashed task.
#      crash 9.0.2 cannot open 7.2 dumps ("invalid structure member offset:
#      module_num_gpl_syms"): for 7.x drgn is the reader, (b) and the release below.
# The fixtures and the oracle chroot are made by scripts/test.sh before meson; a missing one
# fails here. Inner limits (each ~10x what it takes, seconds): 6 levels x (dumpfilter 120 +
# makedumpfile 120 + compound tails 180) + drgn 2 x 240 + the -s capture 120 + 120 + crash 600
# (it loads the -dbg vmlinux: 2 min on a busy host) + 2 version lookups x 30 = 3900; meson's
# timeout is 4200.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/matrix_lib.sh"
. "$SRCDIR/tests/qemu/pins.sh"
case ${1:?usage: kernel_matrix.sh trixie|sid|KVER} in
  trixie) kver=$KK_PIN_KVER_TRIXIE ;;
  sid) kver=$KK_PIN_KVER_SID ;;
  *) kver=$1 ;;
esac
it_tmpdir
oracle=$SRCDIR/tests/qemu/oracle-chroot.sh
"$oracle" path >/dev/null || it_fail "no oracle chroot (tests/qemu/oracle-chroot.sh make)"
env_out=$(KDUMPKIT_KVER=$kver "$SRCDIR/tests/qemu/fixtures.sh" env) || it_fail "no kernel $kver in the cache"
eval "$env_out"
for f in "$KK_VMCORE_OURS_C" "$KK_VMCORE_OURS_S" "$KK_VMLINUX"; do
  [ -f "$f" ] || it_fail "missing $f (tests/qemu/fixtures.sh matrix, run by scripts/test.sh)"
done
VMCORE=$KK_VMCORE_OURS_C
# The oracle runs in the chroot: its inputs and outputs under /tmp or the cache (bound there).
cp "$SRCDIR/tests/integration/drgn_facts.py" "$SRCDIR/tests/integration/compound_tails.py" \
  "$SRCDIR/tests/integration/kdump_pages.py" "$IT_TMP/"
major=${kver%%.*}

echo "== $kver: page sets, ours vs makedumpfile $(in_oracle 30 makedumpfile -v 2>&1 | head -1)"
for d in 1 2 4 8 16 31; do
  matrix_page_set "$d" in_oracle 120 makedumpfile
done

matrix_drgn_equal 240

echo "== $kver: the -s capture"
timeout 120 "$DUMPFILTER" -c -d 31 "$KK_VMCORE_OURS_S" "$IT_TMP/s.31" >/dev/null 2>"$IT_TMP/err" ||
  { cat "$IT_TMP/err" >&2; it_fail "dumpfilter on the kexec -s capture"; }
facts=$(in_oracle 120 python3 "$IT_TMP/drgn_facts.py" "$IT_TMP/s.31" "$KK_VMLINUX") || it_fail "drgn on the -s capture"
echo "drgn: $facts"
read -r rel _tid _comm sysrq _cpus <<<"$facts"
[ "$rel" = "$kver" ] && [ "$sysrq" = sysrq ] || it_fail "the -s capture: drgn read '$facts'"

if [ "$major" -lt 7 ]; then
  echo "== $kver: crash $(in_oracle 30 crash --version | sed -n 's/^crash \([0-9.]*\).*/\1/p' | head -1) on our -d 31 dump"
  out=$(printf 'sys\nbt\nquit\n' | in_oracle 600 crash -s "$KK_VMLINUX" "$IT_TMP/ours.31" 2>&1) ||
    { echo "$out" | tail -20 >&2; it_fail "crash failed"; }
  grep -E 'RELEASE|PANIC|COMMAND|^PID' <<<"$out"
  grep -q "RELEASE: $kver" <<<"$out" || it_fail "crash sys: no RELEASE $kver"
  grep -q 'PANIC: .*sysrq' <<<"$out" || it_fail "crash sys: no sysrq PANIC line"
  grep -Eq '^ ?#[0-9]+ .*sysrq_handle_crash' <<<"$out" || it_fail "crash bt: no sysrq_handle_crash frame"
else
  echo "== $kver: crash 9.0.2 cannot open 7.x dumps (module_num_gpl_syms); drgn above is the reader"
fi
