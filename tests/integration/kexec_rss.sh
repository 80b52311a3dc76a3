#!/usr/bin/env bash
# kexec's memory (issue 20): a kexec -c load of the fixture kernel (Debian 6.1's bzImage) with a
# 24 MiB initrd peaks at no more than the two files plus 4 MiB (one copy of each: the segments
# point into the files' buffers, the files are read into buffers of their size), and no higher
# than Debian's kexec-tools on the same files when it is installed. Safe on any host: the loads
# run under tests/tools/noload_rss.cpp, whose seccomp filter fails kexec_load, kexec_file_load and
# reboot with EPERM (every segment is built before the call, so the peak is already reached).
# Where the kernel has no kexec (no /sys/kernel/kexec_loaded, which our kexec checks first), a
# private mount namespace puts a tmpfs with that file over /sys/kernel.
source "$(dirname "$0")/lib.sh"
: "${KEXEC:?meson sets KEXEC}"
: "${NOLOAD_RSS:?meson sets NOLOAD_RSS}"
kernel=$("$SRCDIR/tests/qemu/fixtures.sh" env 2>/dev/null | sed -n 's/^KK_VMLINUZ=//p' | tr -d "'\"") || true
[ -f "${kernel:-}" ] || it_fail "no fixture bzImage (tests/qemu/fixtures.sh env: KK_VMLINUZ)"
[ "$(id -u)" = 0 ] || it_skip "needs root (a mount namespace for /sys/kernel, CAP_SYS_BOOT for kexec's check)"
it_tmpdir
# kexec does not look inside an initrd: random bytes weigh what a real one does.
head -c $((24 << 20)) /dev/urandom >"$IT_TMP/initrd"
files_kb=$(( ($(stat -c %s "$kernel") + $(stat -c %s "$IT_TMP/initrd")) / 1024 ))

# peak_kb KEXEC_COMMAND...: the max RSS (KiB) of one load of $kernel + the initrd. Without
# MALLOC_PERTURB_ (meson sets it): it writes every allocated byte, which no user's kexec does.
peak_kb() {
  local sys_kernel='' out
  [ -e /sys/kernel/kexec_loaded ] ||
    sys_kernel='mount -t tmpfs kk-sys-kernel /sys/kernel && echo 0 >/sys/kernel/kexec_loaded && echo 0 >/sys/kernel/kexec_crash_loaded && '
  out=$(env -u MALLOC_PERTURB_ unshare -m sh -c "${sys_kernel}exec \"\$@\"" sh "$NOLOAD_RSS" "$@" \
    -l "$kernel" --initrd="$IT_TMP/initrd" --append="console=ttyS0" 2>&1) ||
    { echo "$out" >&2; it_fail "noload_rss $1 could not run"; }
  grep -q 'KK_NOLOAD .*rc=[1-9]' <<<"$out" || { echo "$out" >&2; it_fail "$1 did not stop at the refused kexec_load"; }
  sed -n 's/^KK_NOLOAD maxrss_kb=\([0-9]*\).*/\1/p' <<<"$out"
}

ours=$(peak_kb "$KEXEC" -c)
limit=$((files_kb + 4096))
echo "kexec -c -l, kernel + initrd ${files_kb} KiB: ours ${ours} KiB (limit ${limit})"
[ "$ours" -le "$limit" ] || it_fail "our kexec peaked at ${ours} KiB, more than the files (${files_kb} KiB) + 4 MiB: a second copy?"
if [ -x /usr/sbin/kexec ] && /usr/sbin/kexec --version 2>/dev/null | grep -q kexec-tools; then
  theirs=$(peak_kb /usr/sbin/kexec)
  echo "Debian's kexec-tools -l on the same files: ${theirs} KiB"
  [ "$ours" -le "$theirs" ] || it_fail "our kexec peaked at ${ours} KiB, kexec-tools at ${theirs} KiB"
else
  echo "no Debian kexec-tools at /usr/sbin/kexec: compared with the limit only"
fi
