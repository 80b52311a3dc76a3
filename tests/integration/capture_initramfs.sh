#!/usr/bin/env bash
# The capture initramfs hooks build real images: `kdumpctl rebuild` runs initramfs-tools'
# mkinitramfs (with our hook and boot script) and dracut (with our 99kdumpkit module) for
# Debian's 6.1 guest kernel, and each image must hold kdumpctl, dumpfilter, /etc/kdump.conf,
# the target's modules (ext4 and the virtio block chain from extra_modules) and the capture
# entry point; and, for a collector with -x/--config, those two files and libdw (which
# dumpfilter opens with dlopen, so no ldd sees it). Also: kdump.service passes `systemd-analyze verify`, and kdumpctl's commands
# answer on a fixture root (status, showmem, estimate on the image just built, start without
# a reservation, reset-crashkernel on /etc/default/grub).
source "$(dirname "$0")/lib.sh"
: "${KDUMPCTL:?meson sets KDUMPCTL}"
source "$SRCDIR/tests/qemu/lib.sh"
source "$SRCDIR/tests/qemu/capture-lib.sh"
it_tmpdir
kk_fetch_kernel 2>/dev/null

conf=$IT_TMP/kdump.conf
echo 'fake debug vmlinux' >"$IT_TMP/vmlinux-dbg"
echo 'fake erase config' >"$IT_TMP/erase.conf"
printf '%s\n' 'path /var/crash' 'ext4 LABEL=kkdump' 'extra_modules virtio_blk virtio_pci' \
    "core_collector dumpfilter -l -d 31 -x $IT_TMP/vmlinux-dbg --config=$IT_TMP/erase.conf" \
    'failure_action poweroff' 'final_action poweroff' >"$conf"

# mkinitramfs: the image must list our files and force-load the target's modules.
if command -v mkinitramfs >/dev/null; then
  img=$IT_TMP/initrd-itools.img
  kk_capture_initramfs mkinitramfs "$conf" "$img" || it_fail "kdumpctl rebuild with mkinitramfs failed"
  list=$(lsinitramfs "$img")
  for f in usr/sbin/kdumpctl usr/sbin/dumpfilter etc/kdump.conf scripts/init-premount/kdumpkit \
           kernel/fs/ext4/ext4.ko kernel/drivers/block/virtio_blk.ko kernel/drivers/virtio/virtio_pci.ko \
           libdw.so.1 libelf.so.1 "${IT_TMP#/}/vmlinux-dbg" "${IT_TMP#/}/erase.conf"; do
    grep -q "$f" <<<"$list" || it_fail "mkinitramfs image has no $f"
  done
  [ "$(stat -c %a "$img")" = 600 ] || it_fail "capture initramfs is not 0600"
  echo "ok: mkinitramfs capture image $(stat -c %s "$img") B in $KK_CAPTURE_SECONDS s, with kdumpctl, dumpfilter, ext4, virtio_blk, libdw, -x/--config files"
  # estimate measures that image.
  mkdir -p "$IT_TMP/fx/etc" "$IT_TMP/fx/sys/kernel" "$IT_TMP/fx/proc"
  cp "$conf" "$IT_TMP/fx/etc/kdump.conf"
  echo 134217728 >"$IT_TMP/fx/sys/kernel/kexec_crash_size"
  est=$("$KDUMPCTL" --root "$IT_TMP/fx" --kernel "$KK_VMLINUZ" --initrd "$img" estimate) || it_fail "estimate failed: $est"
  grep -q '^recommended       crashkernel=[0-9]*M$' <<<"$est" || it_fail "estimate gave no recommendation: $est"
  grep -q '^unpacked  *[1-9][0-9]* MiB$' <<<"$est" || it_fail "estimate did not measure the unpacked image: $est"
  echo "ok: estimate: $(grep -E 'unpacked|recommended' <<<"$est" | tr -s ' ' | tr '\n' ';')"
else
  echo "note: no mkinitramfs (initramfs-tools); scripts/setup.sh installs it"
  exit 1
fi

# dracut (unpacked from Debian's packages into the cache).
img=$IT_TMP/initrd-dracut.img
kk_capture_initramfs dracut "$conf" "$img" || it_fail "kdumpctl rebuild with dracut failed"
list=$("$KK_DRACUT_ROOT/usr/bin/lsinitrd" "$img" 2>/dev/null) || true
[ -n "$list" ] || list=$(zcat "$img" | cpio -t 2>/dev/null)
for f in usr/sbin/kdumpctl usr/sbin/dumpfilter etc/kdump.conf hooks/pre-mount/01-kdumpkit-capture.sh \
         kernel/fs/ext4/ext4.ko kernel/drivers/block/virtio_blk.ko etc/cmdline.d/50kdumpkit.conf \
         libdw.so.1 libelf.so.1 "${IT_TMP#/}/vmlinux-dbg" "${IT_TMP#/}/erase.conf"; do
  grep -q "$f" <<<"$list" || it_fail "dracut image has no $f"
done
echo "ok: dracut capture image $(stat -c %s "$img") B in $KK_CAPTURE_SECONDS s, with kdumpctl, dumpfilter, ext4, virtio_blk, libdw, -x/--config files"

# kdump.service: systemd-analyze verify, with ExecStart pointing at the built kdumpctl.
command -v systemd-analyze >/dev/null || it_fail "no systemd-analyze (scripts/setup.sh installs systemd)"
{
  sed "s|@SBINDIR@/kdumpctl|$KDUMPCTL|" "$SRCDIR/initramfs-hooks/kdump.service.in" >"$IT_TMP/kdump.service"
  out=$(cd "$IT_TMP" && SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --man=no ./kdump.service 2>&1) ||
    it_fail "systemd-analyze verify kdump.service: $out"
  # It exits 0 even on a key it ignores ("Failed to parse service type, ignoring"): silence is the pass.
  [ -z "$out" ] || it_fail "systemd-analyze verify kdump.service said: $out"
  echo "ok: systemd-analyze verify kdump.service: clean"
}

# kdumpctl on a fixture root: no reservation, status, reset-crashkernel.
fx=$IT_TMP/fx
echo 0 >"$fx/sys/kernel/kexec_crash_loaded"
echo 'BOOT_IMAGE=/vmlinuz root=/dev/vda ro quiet' >"$fx/proc/cmdline"
echo 0 >"$fx/sys/kernel/kexec_crash_size"
rc=0; out=$("$KDUMPCTL" --root "$fx" --kernel "$KK_VMLINUZ" start 2>&1) || rc=$?
[ $rc = 4 ] || it_fail "start without a reservation: exit $rc, not 4: $out"
grep -q 'no memory reserved' <<<"$out" || it_fail "start without a reservation: $out"
rc=0; "$KDUMPCTL" --root "$fx" status >/dev/null 2>&1 || rc=$?
[ $rc = 3 ] || it_fail "status when not loaded: exit $rc, not 3"
echo 1 >"$fx/sys/kernel/kexec_crash_loaded"
"$KDUMPCTL" --root "$fx" status >/dev/null || it_fail "status when loaded is not 0"
mkdir -p "$fx/etc/default"
printf 'GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX="quiet"\n' >"$fx/etc/default/grub"
"$KDUMPCTL" --root "$fx" reset-crashkernel >/dev/null || it_fail "reset-crashkernel failed"
grep -qx 'GRUB_CMDLINE_LINUX="quiet crashkernel=1G-4G:192M,4G-64G:256M,64G-:512M"' "$fx/etc/default/grub" ||
  it_fail "reset-crashkernel wrote: $(cat "$fx/etc/default/grub")"
echo 'x crashkernel=1G-4G:192M,4G-:256M' >"$fx/proc/cmdline"
echo 201326592 >"$fx/sys/kernel/kexec_crash_size"
out=$("$KDUMPCTL" --root "$fx" showmem) || it_fail "showmem failed: $out"
grep -q 'reserved 192 MiB' <<<"$out" || it_fail "showmem: $out"
printf 'path /var/crash\nfrobnicate 1\n' >"$fx/etc/kdump.conf"
rc=0; out=$("$KDUMPCTL" --root "$fx" status 2>&1) || rc=$?
[ $rc = 1 ] && grep -q "kdump.conf: line 2: unknown directive 'frobnicate'" <<<"$out" ||
  it_fail "a bad kdump.conf line must stop kdumpctl with its line number: $rc $out"
echo "ok: kdumpctl start (no reservation: 4), status (3/0), reset-crashkernel, showmem, bad kdump.conf line"
