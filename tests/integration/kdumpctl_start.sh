#!/usr/bin/env bash
# kdumpctl's decisions on a fixture root (--root: /proc, /sys, /etc, /var under a temporary
# directory), with stand-ins only for the two programs it drives: a kexec that records its
# arguments and flips kexec_crash_loaded, and an mkinitramfs that counts builds (the real
# builds are capture_initramfs.sh's, the real load kdumpctl_capture.sh's). Checked: start
# builds once and loads with the capture command line (no crashkernel=, with irqpoll
# nr_cpus=1 reset_devices, kdumpkit.host=), a second start is a no-op, restart rebuilds only
# when kdump.conf changed, -s under lockdown and under secure boot, ip=dhcp and the recorded
# host key for an ssh target, force_no_rebuild without an image, status/stop exit codes, test's confirmation,
# non-root refusal, and save's failure path (kdump_pre, kdump_post 1, failure_action then
# final_action, said on stdout).
source "$(dirname "$0")/lib.sh"
: "${KDUMPCTL:?meson sets KDUMPCTL}"
it_tmpdir
fx=$IT_TMP/root
bin=$IT_TMP/bin
mkdir -p "$fx"/{etc,proc/sys/kernel,sys/kernel/security,boot,var/lib} "$bin"
echo 'BOOT_IMAGE=/boot/vmlinuz root=/dev/vda1 ro quiet crashkernel=256M nr_cpus=4' >"$fx/proc/cmdline"
echo 268435456 >"$fx/sys/kernel/kexec_crash_size"
echo 0 >"$fx/sys/kernel/kexec_crash_loaded"
echo 'kernel image' >"$fx/boot/vmlinuz-test"
printf 'path /var/crash\next4 LABEL=crash\n' >"$fx/etc/kdump.conf"
cat >"$bin/kexec" <<EOF2
#!/bin/sh
echo "\$*" >>"$IT_TMP/kexec.log"
case " \$* " in
  *" -u "*) echo 0 >"$fx/sys/kernel/kexec_crash_loaded" ;;
  *) echo 1 >"$fx/sys/kernel/kexec_crash_loaded" ;;
esac
EOF2
cat >"$bin/mkinitramfs" <<EOF2
#!/bin/sh
# mkinitramfs -d DIR -o OUT KVER
[ -f "\$2/initramfs.conf" ] || { echo "no initramfs.conf in \$2" >&2; exit 1; }
[ -f "\$KDUMPKIT_CONF" ] || { echo "no KDUMPKIT_CONF" >&2; exit 1; }
echo "\$5" >>"$IT_TMP/builds.log"
echo image >"\$4"
EOF2
chmod +x "$bin/kexec" "$bin/mkinitramfs"
ctl() { env PATH="$bin:$PATH" KDUMPKIT_KEXEC="$bin/kexec" KDUMPKIT_BUILDER=mkinitramfs KDUMP_KERNELVER=test \
        KDUMPKIT_DATADIR="$SRCDIR/initramfs-hooks" "$KDUMPCTL" --root "$fx" "$@"; }
builds() { wc -l <"$IT_TMP/builds.log" 2>/dev/null || echo 0; }
last_load() { grep -v ' -u' "$IT_TMP/kexec.log" | tail -n1; }

out=$(ctl start) || it_fail "start failed: $out"
[ "$(builds)" = 1 ] || it_fail "start did not build the capture initramfs once ($(builds))"
[ "$(stat -c %a "$fx/var/lib/kdumpkit/initrd-test.img")" = 600 ] || it_fail "initramfs not 0600"
load=$(last_load)
case $load in
  "-p --initrd=$fx/var/lib/kdumpkit/initrd-test.img --command-line=root=/dev/vda1 ro quiet irqpoll nr_cpus=1 reset_devices "*" kdumpkit.host="*" $fx/boot/vmlinuz-test") ;;
  *) it_fail "kexec arguments: $load" ;;
esac
case $load in *crashkernel=* | *BOOT_IMAGE* | *nr_cpus=4* | *" -s "* | *ip=dhcp*) it_fail "kexec arguments: $load" ;; esac
ctl status >/dev/null || it_fail "status after start is not 0"
out=$(ctl start) || it_fail "second start failed"
grep -q 'already loaded' <<<"$out" || it_fail "second start: $out"
[ "$(grep -c . "$IT_TMP/kexec.log")" = 1 ] || it_fail "second start called kexec"
echo "ok: start: one build, kexec -p with the capture command line; second start does nothing"

ctl restart >/dev/null || it_fail "restart failed"
grep -q -- '^-p -u$' "$IT_TMP/kexec.log" || it_fail "restart did not unload: $(cat "$IT_TMP/kexec.log")"
[ "$(builds)" = 1 ] || it_fail "restart rebuilt although nothing changed"
sleep 0.01
echo '# changed' >>"$fx/etc/kdump.conf"
ctl restart >/dev/null || it_fail "restart after a kdump.conf change failed"
[ "$(builds)" = 2 ] || it_fail "a kdump.conf change did not rebuild"
ctl stop >/dev/null || it_fail "stop failed"
rc=0; ctl status >/dev/null || rc=$?
[ $rc = 3 ] || it_fail "status after stop: $rc, not 3"
echo "ok: restart rebuilds only after kdump.conf changed; stop; status 3"

echo 'none [integrity] confidentiality' >"$fx/sys/kernel/security/lockdown"
ctl start >/dev/null || it_fail "start under lockdown failed"
case " $(last_load) " in *" -s "*) ;; *) it_fail "no -s under lockdown: $(last_load)" ;; esac
ctl stop >/dev/null
grep -q -- '^-p -u -s$' "$IT_TMP/kexec.log" || it_fail "stop under lockdown without -s"
echo '[none] integrity confidentiality' >"$fx/sys/kernel/security/lockdown"
mkdir -p "$fx/sys/firmware/efi/efivars"
printf '\x06\x00\x00\x00\x01' >"$fx/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c"
ctl start >/dev/null || it_fail "start under secure boot failed"
case " $(last_load) " in *" -s "*) ;; *) it_fail "no -s under secure boot: $(last_load)" ;; esac
ctl stop >/dev/null
printf '\x06\x00\x00\x00\x00' >"$fx/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c"
ctl start >/dev/null && ctl stop >/dev/null || it_fail "start/stop without secure boot failed"
case " $(last_load) " in *" -s "*) it_fail "-s without secure boot or lockdown" ;; esac
echo "ok: -s under lockdown and secure boot, not otherwise"

printf 'ssh kdump@dumphost\ncore_collector makedumpfile -F -l -d 31\n' >"$fx/etc/kdump.conf"
# The ssh target's host key is recorded at start (ssh-keyscan stand-in), once, and goes into
# the image: without it start refuses (the capture kernel would send nothing).
printf '#!/bin/sh\nexit 1\n' >"$bin/ssh-keyscan"; chmod +x "$bin/ssh-keyscan"
rc=0; out=$(ctl start 2>&1) || rc=$?
[ $rc = 1 ] && grep -q 'recording the host key of dumphost' <<<"$out" || it_fail "start without the target's host key: $rc $out"
printf '#!/bin/sh\necho "$*" >>"%s/keyscan.log"\necho "dumphost ssh-ed25519 AAAAkey"\n' "$IT_TMP" >"$bin/ssh-keyscan"
before=$(builds)
ctl start >/dev/null || it_fail "start with an ssh target failed"
case " $(last_load) " in *" ip=dhcp "*) ;; *) it_fail "no ip=dhcp for an ssh target: $(last_load)" ;; esac
[ "$(cat "$fx/root/.ssh/kdump_id_rsa.known_hosts")" = "dumphost ssh-ed25519 AAAAkey" ] || it_fail "host key not recorded"
[ "$(cat "$IT_TMP/keyscan.log")" = "-T 10 -- dumphost" ] || it_fail "ssh-keyscan: $(cat "$IT_TMP/keyscan.log")"
grep -q "known_hosts" "$fx/var/lib/kdumpkit/initrd-test.img.inputs" || it_fail "known_hosts is not an input of the image"
ctl stop >/dev/null
ctl start >/dev/null && ctl stop >/dev/null || it_fail "second start with an ssh target failed"
[ "$(wc -l <"$IT_TMP/keyscan.log")" = 1 ] || it_fail "a recorded host key was scanned again"
[ "$(builds)" = $((before + 1)) ] || it_fail "rebuilt without a change ($before -> $(builds))"
echo "ok: the ssh target's host key recorded at start, once, an input of the image"
printf 'ext4 LABEL=crash\nforce_no_rebuild 1\n' >"$fx/etc/kdump.conf"
rm -f "$fx"/var/lib/kdumpkit/initrd-test.img
rc=0; out=$(ctl start 2>&1) || rc=$?
[ $rc = 1 ] && grep -q 'force_no_rebuild' <<<"$out" || it_fail "force_no_rebuild without an image: $rc $out"
echo "ok: ip=dhcp for ssh targets; force_no_rebuild without an image is refused"

printf 'ext4 LABEL=crash\n' >"$fx/etc/kdump.conf"
ctl start >/dev/null || it_fail "start failed"
rc=0; out=$(echo no | ctl test 2>&1) || rc=$?
[ $rc = 6 ] || it_fail "test not confirmed: exit $rc: $out"
[ ! -e "$fx/proc/sysrq-trigger" ] || it_fail "test wrote sysrq-trigger without confirmation"
ctl test --force >/dev/null || it_fail "test --force failed"
[ "$(cat "$fx/proc/sysrq-trigger")" = c ] || it_fail "test --force did not write c to sysrq-trigger"
command -v setpriv >/dev/null || it_fail "no setpriv (scripts/setup.sh installs util-linux)"
rc=0; out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$KDUMPCTL" start 2>&1) || rc=$?
[ $rc = 5 ] && grep -q 'must be run as root' <<<"$out" || it_fail "non-root start: exit $rc: $out"
echo "ok: test asks (6 when declined), --force triggers sysrq-c; non-root start refused (5)"

# KDUMP_INITRD in a directory that exists (/tmp): its mode is left alone; through a link: refused.
mkdir -p "$fx/tmp" "$fx/victim" && chmod 1777 "$fx/tmp" && chmod 755 "$fx/victim"
KDUMP_INITRD=/tmp/x.img ctl rebuild >/dev/null || it_fail "rebuild into /tmp failed"
[ "$(stat -c %a "$fx/tmp")" = 1777 ] || it_fail "rebuild changed /tmp to $(stat -c %a "$fx/tmp")"
# Planted where anyone may write (/tmp); a root-owned link in a root-only directory is the admin's
# and is followed (tests/unit/test_kdumpctl_dirs.cpp).
ln -s "$fx/victim" "$fx/tmp/planted"
rc=0; out=$(KDUMP_INITRD=/tmp/planted/x.img ctl rebuild 2>&1) || rc=$?
[ $rc = 1 ] && grep -q 'symbolic link' <<<"$out" || it_fail "rebuild through a planted link: $rc $out"
[ "$(stat -c %a "$fx/victim")" = 755 ] && [ ! -e "$fx/victim/x.img.new" ] || it_fail "rebuild wrote through the link"
echo "ok: the initramfs directory: an existing one keeps its mode, a planted link is refused"

# save's failure path: the target device never appears (10 s), kdump_pre and kdump_post run.
printf '#!/bin/sh\necho pre >"%s/pre.ran"\n' "$IT_TMP" >"$IT_TMP/pre.sh"
printf '#!/bin/sh\necho "$1" >"%s/post.ran"\n' "$IT_TMP" >"$IT_TMP/post.sh"
chmod +x "$IT_TMP/pre.sh" "$IT_TMP/post.sh"
printf 'ext4 /dev/kk-no-such-disk\nkdump_pre %s\nkdump_post %s\nfailure_action shell\nfinal_action halt\n' \
    "$IT_TMP/pre.sh" "$IT_TMP/post.sh" >"$fx/etc/kdump.conf"
echo 'ELF' >"$fx/proc/vmcore"
rc=0; out=$(ctl save 2>&1) || rc=$?
[ $rc = 1 ] || it_fail "save to a missing disk: exit $rc: $out"
grep -q '^kdumpctl: saving the dump failed: /dev/kk-no-such-disk: no such block device' <<<"$out" || it_fail "save: $out"
grep -q '^kdumpctl: failure_action shell$' <<<"$out" && grep -q '^kdumpctl: final_action halt$' <<<"$out" ||
  it_fail "save did not run failure_action then final_action: $out"
[ "$(cat "$IT_TMP/pre.ran" 2>/dev/null)" = pre ] || it_fail "kdump_pre did not run"
[ "$(cat "$IT_TMP/post.ran" 2>/dev/null)" = 1 ] || it_fail "kdump_post did not get 1 after the failure"
echo "ok: save: missing device -> kdump_pre, kdump_post 1, failure_action shell, final_action halt"
