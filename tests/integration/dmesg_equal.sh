#!/usr/bin/env bash
# --dump-dmesg writes exactly what the makedumpfile release that supports the kernel writes:
#   dmesg_equal.sh          the 6.1 fixture against the host's makedumpfile 1.7.2 (no caller
#                           column);
#   dmesg_equal.sh trixie   Debian 13's 6.12, sid: unstable's 7.x (tests/qemu/pins.sh), their
#   dmesg_equal.sh sid      ours-c and ours-s fixtures against unstable's makedumpfile 1.7.8 in
#                           tests/qemu/oracle-chroot.sh (with the printk caller column).
# A missing fixture or oracle chroot fails: scripts/test.sh makes them before meson runs.
source "$(dirname "$0")/lib.sh"
it_tmpdir

# check LABEL VMCORE COLUMN REFERENCE...: ours and REFERENCE's --dump-dmesg byte-equal, the caller
# column present (COLUMN=yes) or absent (no) in both, the log 0600.
check() {
  local label=$1 vmcore=$2 column=$3 ours theirs
  shift 3
  ours=$IT_TMP/$label.ours theirs=$IT_TMP/$label.theirs
  [ -f "$vmcore" ] || it_fail "$label: no fixture $vmcore (scripts/test.sh makes it)"
  "$DUMPFILTER" --dump-dmesg "$vmcore" "$ours" || it_fail "$label: dumpfilter --dump-dmesg"
  "$@" --dump-dmesg "$vmcore" "$theirs" >"$IT_TMP/$label.err" 2>&1 ||
    { cat "$IT_TMP/$label.err" >&2; it_fail "$label: $* --dump-dmesg"; }
  cmp "$ours" "$theirs" || { diff "$ours" "$theirs" | head -20; it_fail "$label: logs differ"; }
  local has=no
  grep -Eq '^\[ *[0-9]+\.[0-9]{6}\] \[ *T0\] ' "$ours" && has=yes
  [ "$has" = "$column" ] || it_fail "$label: caller column present: $has, expected $column"
  [ "$(stat -c %a "$ours")" = 600 ] || it_fail "$label: log mode is not 600"
  echo "ok: $label: $(wc -l <"$ours") lines identical (caller column: $column)"
}

case ${1:-} in
  "") check "$(it_release)" "$(it_fixture small)" no makedumpfile ;;
  trixie | sid)
    source "$SRCDIR/tests/qemu/pins.sh"
    k=$KK_PIN_KVER_TRIXIE
    [ "$1" = sid ] && k=$KK_PIN_KVER_SID
    cache=${KDUMPKIT_CACHE:-$HOME/.cache/kdumpkit}
    for f in ours-c ours-s; do
      check "$k-$f" "$cache/vmcore-$k-512M-$f.elf" yes "$SRCDIR/tests/qemu/oracle-chroot.sh" run makedumpfile
    done ;;
  *) it_fail "usage: dmesg_equal.sh [trixie|sid]" ;;
esac
