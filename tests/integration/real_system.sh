#!/usr/bin/env bash
# real_system (issue 17): kdumpkit on a whole installed Debian 12, as a user runs it. Our .deb
# installed with apt into an overlay of the cached base image (tests/qemu/real-system.sh; made
# with the .deb and the -dbg vmlinux by scripts/test.sh before meson runs: no network here), one
# boot, one crash, one reboot under QEMU TCG; then every fact the issue names is checked.
# Each failed check fails the test. Takes ~9 min on a quiet 2-core machine.
#   real_system.sh [bookworm|trixie]
# trixie (real_system_trixie): Debian 13, root on LVM with xfs, the capture image built by dracut
# (tests/qemu/real-trixie.sh); its 6.12 dump is read by unstable's crash and drgn (the oracle
# chroot, tests/qemu/oracle-chroot.sh), Debian 12's predate 6.12.
source "$(dirname "$0")/lib.sh"
image=${1:-bookworm}
name=real_system${1:+_$1}
RS=$SRCDIR/tests/qemu/real-system.sh
export KDUMPKIT_REAL_IMAGE=$image
eval "$("$RS" env)"
[ -f "$RS_BASE_DIR/base.qcow2" ] ||
  it_fail "$name: no cached base image $RS_BASE_DIR (scripts/test.sh runs tests/qemu/real-system.sh prepare)"
[ -n "$RS_DEB" ] && [ -f "$RS_DEB" ] ||
  it_fail "$name: no cached .deb (scripts/test.sh runs tests/qemu/real-system.sh prepare)"
[ -n "${RS_VMLINUX:-}" ] && [ -f "$RS_VMLINUX" ] ||
  it_fail "$name: no -dbg vmlinux of $RS_KVER (tests/qemu/real-system.sh prepare)"
[ "$(dpkg-deb -f "$RS_DEB" Version)" ] || it_fail "$name: $RS_DEB is not a package"

work=$(mktemp -d /tmp/kdumpkit-real.XXXXXX)
# Kept for a look when the test fails (a 1 GB overlay at most); removed when it passes.
trap 'echo "$name: records in $work" >&2' EXIT
fails=0
check() {  # check DESCRIPTION COMMAND...: one line ok/FAIL; a failure fails the test at the end
  local what=$1
  shift
  if "$@" >/dev/null 2>&1; then echo "ok: $what"; else echo "FAIL: $what"; fails=$((fails + 1)); fi
}
has() { grep -Eq -- "$2" "$1"; }
is() { [ "$(cat "$1" 2>/dev/null)" = "$2" ]; }

"$RS" run "$work" || { tail -n 40 "$work/console.log" >&2; it_fail "$name: the run did not complete"; }
cat "$work/timings"
echo "console: $work/console.log"
grep -a 'kdumpctl: ' "$work/console.log" || true
mkdir "$work/out"
tar -xf "$work/out.tar" -C "$work/out" || it_fail "$name: no records on the second disk"
b1=$work/out/real-system/boot1 b2=$work/out/real-system/boot2
[ -d "$b1" ] && [ -d "$b2" ] || it_fail "$name: the records of both boots are not there"
# What kdumpkit recommends there (the smallest crashkernel= that captures: tests/qemu/README.md).
sed 's/^/estimate: /' "$b1/estimate" 2>/dev/null || true

# First boot: kdump.service loaded the capture kernel, whose image mkinitramfs built at boot
# through our hook (real-system.sh checked that no image existed before the first boot).
check "kdump.service is active after boot" is "$b1/is-active" active
check "kdumpctl status says loaded (exit 0)" has "$b1/status" 'operational \(capture kernel loaded\)'
check "kdumpctl status exit status 0" is "$b1/status.rc" 0
check "/sys/kernel/kexec_crash_loaded is 1" is "$b1/crash_loaded" 1
check "kdumpctl estimate recommends a crashkernel= (exit 0)" \
  eval 'is "$b1/estimate.rc" 0 && has "$b1/estimate" "^recommended +crashkernel=[0-9]+[MG]\$"'
img=/var/lib/kdumpkit/initrd-$RS_KVER.img
img_re=$(sed 's/[].+*?^$()[{}|\\]/\\&/g' <<<"$img")  # 6.12.117+deb13: a + in the path
check "kdump.service built the capture image at boot ($img)" has "$b1/kdump-journal" "rebuilt $img_re\$"
check "the capture image is 0600" has "$b1/image-stat" "^$img_re 600 "
if [ "$image" = bookworm ]; then
  hook=scripts/init-premount/kdumpkit
else  # dracut's hook directory moved from /lib to /var/lib (either is the module's hook)
  hook='(usr/lib|lib|var/lib)/dracut/hooks/pre-mount/01-kdumpkit-capture\.sh'
fi
for f in usr/sbin/kdumpctl usr/sbin/dumpfilter etc/kdump.conf "$hook"; do
  check "the capture image holds $f (our hook)" has "$b1/lsinitramfs" "^$f\$"
done
if [ "$image" = trixie ]; then
  # Root on LVM with xfs; the capture image (dracut, host-only) activates the LV and has xfs.
  check "the root is xfs on the LV vg0/root ($(cat "$b1/root-where"))" has "$b1/root-where" '^/dev/mapper/vg0-root +xfs$'
  check "/var/crash is on that LV" has "$b2/crash-where" '^/dev/mapper/vg0-root +xfs$'
  check "dracut built the capture image with our module and lvm" \
    eval 'has "$b1/initrd-modules" "^kdumpkit\$" && has "$b1/initrd-modules" "^lvm\$"'
  check "the capture image holds lvm and the xfs module" \
    eval 'has "$b1/lsinitramfs" "^(usr/)?s?bin/lvm\$" && has "$b1/lsinitramfs" "/xfs\.ko(\.[gx]z|\.zst)?\$"'
fi
check "echo c > /proc/sysrq-trigger crashed it" has "$work/console.log" 'sysrq: Trigger a crash'
check "the console shows kdumpctl saving the dump (its line, not only dumpfilter's)" \
  has "$work/console.log" 'kdumpctl: saved the dump to '
check "the capture unmounted the root file system cleanly" eval '! grep -aq "kdumpctl: umount" "$work/console.log"'

# The dump: /var/crash/<host>-<date>/, vmcore-dmesg.txt first, then vmcore (+ manifest), then
# the reports; 0600 files in a 0700 directory.
host=$(cat "$b1/hostname" 2>/dev/null) || true
mapfile -t dirs < <(cd "$work/out/var/crash" && ls -d */ 2>/dev/null | tr -d /)
check "one dump directory in /var/crash (${dirs[*]:-none})" test ${#dirs[@]} = 1
dir=${dirs[0]:-none}
check "its name is <host>-<date> ($dir)" eval '[[ $dir =~ ^$host-[0-9]{4}-[0-9]{2}-[0-9]{2}-[0-9:]+$ ]]'
st=$b2/crash-stat
field() { awk -v n="$1" -v f="$2" '$1 == n { print $f }' "$st"; }
check "the dump directory is 0700" test "$(field "$dir/" 2)" = 700
for f in vmcore-dmesg.txt vmcore vmcore.sha256 report.txt report.json; do
  check "$f is there, 0600" test "$(field "$dir/$f" 2)" = 600
done
# Times in ns: the log was complete (its mtime) before the dump file was created (its birth
# time, where the file system records it; else before its last write), the reports after.
before() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "" && b != "" && a + 0 <= b + 0) }'; }
vb=$(field "$dir/vmcore" 5 2>/dev/null) || true
[[ $vb =~ ^[1-9] ]] || vb=$(field "$dir/vmcore" 4 2>/dev/null) || true
check "vmcore-dmesg.txt written before vmcore" before "$(field "$dir/vmcore-dmesg.txt" 4)" "$vb"
for f in report.txt report.json; do
  check "vmcore written before $f" before "$(field "$dir/vmcore" 4)" "$(field "$dir/$f" 4)"
done
dump=$work/out/var/crash/$dir/vmcore
check "the manifest verifies (dumpfilter --verify)" "$DUMPFILTER" --verify "$dump"

# Back to systemd: the second boot ran its unit, loaded the capture kernel again and says what
# happened to the last one (the line formats are in kdumpctl(8)).
check "final_action reboot: the second boot reached a login prompt" \
  awk '/reboot: Restarting system/ { r = 1 } r && /login:/ { f = 1 } END { exit !f }' "$work/console.log"
check "kdump.service is active at the second boot" is "$b2/is-active" active
saved_line="last crash: saved /var/crash/$dir \(panic: .*sysrq triggered crash"
check "the journal has one line naming the dump and its panic" \
  test "$(grep -Ec -- "$saved_line" "$b2/journal")" = 1
check "kdumpctl status shows the last crash" has "$b2/status" "$saved_line"
grep -E 'last crash' "$b2/journal" "$b2/status" || true

# crash and drgn open the saved dump with the image kernel's -dbg vmlinux: the host's for
# Debian 12, unstable's (the oracle chroot: crash 9.0.2, drgn 0.3) for Debian 13's 6.12, through
# a crash on PATH and a python that run there (the chroot sees /tmp and the cache).
if [ "$image" = trixie ]; then
  oracle=$SRCDIR/tests/qemu/oracle-chroot.sh
  "$oracle" path >/dev/null || it_fail "$name: no oracle chroot (tests/qemu/oracle-chroot.sh make)"
  mkdir -p "$work/bin"
  printf '#!/bin/sh\nexec "%s" run /usr/bin/crash "$@"\n' "$oracle" >"$work/bin/crash"
  chmod +x "$work/bin/crash"
  PATH=$work/bin:$PATH
  IT_CRASH_TIMEOUT=600  # crash 9 reads 6.12's debuginfo slowly on a loaded machine (>300 s)
  cp "$SRCDIR/tests/integration/drgn_facts.py" "$work/"
  drgn_facts() { timeout 300 "$oracle" run env -u MALLOC_PERTURB_ python3 "$work/drgn_facts.py" "$@"; }
else
  drgn_facts() { it_drgn_facts "$@" real-system; }
fi
crash_ok() { (it_crash_facts "$dump" "$RS_VMLINUX" "$name" "$RS_KVER" >/dev/null); }
check "crash opens the dump (sys: release, panic; bt; log: sysrq)" crash_ok
facts=$( (drgn_facts "$dump" "$RS_VMLINUX") 2>&1) || true
echo "drgn: $facts"
read -r d_release _ d_comm d_sysrq _ <<<"$facts" || true
check "drgn opens the dump (release $RS_KVER, crashed task in sysrq)" \
  eval '[ "$d_release" = "$RS_KVER" ] && [ -n "$d_comm" ] && [ "$d_sysrq" = sysrq ]'

[ $fails = 0 ] || it_fail "$name: $fails check(s) failed"
trap - EXIT
rm -rf "$work"
echo "$name: every check holds"
