#!/bin/bash
# real-system.sh: kdumpkit on a whole installed Debian 12 (issue 17), the way a user runs it:
# systemd as init, Debian's kernel and initramfs-tools, our .deb installed with apt,
# kdump.service loading the capture kernel at boot (its image built by mkinitramfs through
# our hook), a crash, the dump saved to /var/crash on the root file system, and the reboot.
#
#   tests/qemu/real-system.sh base            # the cached Debian 12 tree (mmdebstrap, ~5 min)
#   tests/qemu/real-system.sh run KDUMPKIT.deb [WORKDIR]
#   tests/qemu/real-system.sh run-bins BINDIR [WORKDIR]   # no package: kexec, dumpfilter and
#       kdumpctl from BINDIR (any build), the rest from this tree, laid out as
#       `meson install --prefix=/usr` does (a quicker loop while changing the hooks)
#
# `run` installs the package into a copy of the base, makes an ext4 disk of it, boots it under
# QEMU (TCG) with crashkernel=, lets a one-shot unit crash it once the capture
# kernel is loaded, waits for the machine to come back to a login prompt, then reads
# /var/crash from the disk image with debugfs. It prints the time of each phase and exits
# non-zero when a check fails. Not registered in meson: it takes many minutes under TCG.
set -euo pipefail

cache=${KDUMPKIT_CACHE:-$HOME/.cache/kdumpkit}/real-system
base=$cache/bookworm-base    # a directory: mmdebstrap's tree, copied for each run
mirror=${KDUMPKIT_MIRROR:-http://deb.debian.org/debian}
# Runtime libraries of the package are in the base, so `apt install ./x.deb` needs no network.
packages=systemd-sysv,udev,linux-image-amd64,initramfs-tools,kmod,e2fsprogs,busybox,cpio,zstd,
packages+=libzstd1,liblzo2-2,zlib1g,libdw1,libfdt1,libsnappy1v5,libstdc++6,procps

die() { echo "real-system: $*" >&2; exit 1; }
now() { date +%s; }

make_base() {
    [ -d "$base" ] && { echo "real-system: $base exists"; return; }
    command -v mmdebstrap >/dev/null || die "mmdebstrap is not installed (apt-get install mmdebstrap)"
    mkdir -p "$cache"
    # The apt lists stay, so that apt can install a local .deb later without fetching them.
    rm -rf "$base.new"
    mmdebstrap --variant=minbase --format=directory --include="$packages" --skip=cleanup/apt/lists \
        --customize-hook='echo kdumpkit-real >"$1/etc/hostname"' \
        --customize-hook='chroot "$1" passwd -d root' \
        --customize-hook='printf "/dev/vda / ext4 rw,errors=remount-ro 0 1\n" >"$1/etc/fstab"' \
        bookworm "$base.new" "deb $mirror bookworm main" \
        "deb http://deb.debian.org/debian-security bookworm-security main"
    mv "$base.new" "$base"
}

# The unit that crashes the machine once, as soon as the capture kernel is loaded.
install_crasher() {
    local root=$1
    cat >"$root/etc/systemd/system/crash-once.service" <<'EOF'
[Unit]
Description=real-system test: crash once the capture kernel is loaded
After=kdump.service
ConditionPathExists=!/var/lib/crash-once

[Service]
Type=oneshot
ExecStart=/bin/sh -c 'for i in $(seq 600); do [ "$(cat /sys/kernel/kexec_crash_loaded)" = 1 ] && break; sleep 1; done; touch /var/lib/crash-once; sync; echo "crash-once: capture kernel loaded at $(cut -d. -f1 /proc/uptime) s of uptime; crashing now" >/dev/console; echo 1 >/proc/sys/kernel/sysrq; echo c >/proc/sysrq-trigger'

[Install]
WantedBy=multi-user.target
EOF
    ln -sf /etc/systemd/system/crash-once.service "$root/etc/systemd/system/multi-user.target.wants/crash-once.service"
}

install_deb() {
    local root=$1 deb=$2
    cp "$deb" "$root/tmp/"
    mount -t proc proc "$root/proc"
    local rc=0
    chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get install -y \
        "/tmp/$(basename "$deb")" || rc=$?
    umount "$root/proc"
    rm -f "$root/tmp/$(basename "$deb")"
    [ $rc = 0 ] || die "apt install of $deb failed"
    [ -L "$root/etc/systemd/system/multi-user.target.wants/kdump.service" ] ||
        die "the package did not enable kdump.service"
}

# The layout of `meson install --prefix=/usr`, with the binaries of another build (whose
# compiled-in data directory /etc/default/kdumpkit points back to /usr/share/kdumpkit).
install_bins() {
    local root=$1 bins=$2 src share f
    src=$(cd "$(dirname "$0")/../.." && pwd)/initramfs-hooks
    share=$root/usr/share/kdumpkit/initramfs-tools
    for f in kexec dumpfilter kdumpctl; do
        [ -x "$bins/$f" ] || die "no $bins/$f"
        strip -o "$root/usr/sbin/$f" "$bins/$f"
    done
    install -d "$share/hooks" "$share/scripts/init-premount" "$root/usr/lib/dracut/modules.d/99kdumpkit"
    install -m 0644 "$src/initramfs-tools/initramfs.conf" "$src/initramfs-tools/modules" "$share/"
    install -m 0755 "$src/initramfs-tools/hooks/kdumpkit" "$share/hooks/"
    install -m 0755 "$src/initramfs-tools/scripts/init-premount/kdumpkit" "$share/scripts/init-premount/"
    install -m 0755 "$src"/dracut/99kdumpkit/*.sh "$root/usr/lib/dracut/modules.d/99kdumpkit/"
    install -m 0644 "$src/kdump.conf" "$root/etc/kdump.conf"
    sed 's|@SBINDIR@|/usr/sbin|' "$src/kdump.service.in" >"$root/lib/systemd/system/kdump.service"
    ln -sf /lib/systemd/system/kdump.service "$root/etc/systemd/system/multi-user.target.wants/kdump.service"
    echo 'KDUMPKIT_DATADIR=/usr/share/kdumpkit' >"$root/etc/default/kdumpkit"
    mount -t proc proc "$root/proc"
    local rc=0
    chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get install -y libssl3 || rc=$?
    umount "$root/proc"
    [ $rc = 0 ] || die "apt-get install libssl3 failed"
}

# Waits until the console log has PATTERN (extended regex) at least N times; prints the time.
wait_for() {
    local log=$1 pattern=$2 n=$3 limit=$4 pid=$5 t0
    t0=$(now)
    while [ "$(grep -Ec "$pattern" "$log" || true)" -lt "$n" ]; do
        kill -0 "$pid" 2>/dev/null || die "QEMU exited while waiting for '$pattern' (see $log)"
        [ $(( $(now) - t0 )) -lt "$limit" ] || die "no '$pattern' after $limit s (see $log)"
        sleep 1
    done
    now
}

run_system() {
    local how=$1 what=$2 work=${3:-$(mktemp -d /tmp/real-system.XXXXXX)}
    [ -d "$base" ] || die "no $base: run '$0 base' first"
    [ -e "$what" ] || die "no $what"
    local root=$work/root disk=$work/disk.raw log=$work/console.log
    mkdir -p "$root"
    cp -a "$base/." "$root/"
    if [ "$how" = deb ]; then install_deb "$root" "$what"; else install_bins "$root" "$what"; fi
    install_crasher "$root"
    local kernel initrd
    kernel=$(ls "$root"/boot/vmlinuz-* | head -1)
    initrd=$(ls "$root"/boot/initrd.img-* | head -1)
    cp "$kernel" "$initrd" "$work/"
    rm -f "$disk"
    truncate -s 4G "$disk"
    mkfs.ext4 -q -F -d "$root" "$disk"
    # TCG, as the rest of the suite (KVM is not usable on every test machine).
    local accel=${KDUMPKIT_ACCEL:-tcg}
    : >"$log"
    local t0 t_loaded t_crash t_saved t_login
    t0=$(now)
    qemu-system-x86_64 -machine pc,accel=$accel -cpu qemu64 -m 1536 -smp 1 -nographic -no-user-config \
        -kernel "$work/$(basename "$kernel")" -initrd "$work/$(basename "$initrd")" \
        -append "root=/dev/vda rw console=ttyS0 crashkernel=256M panic=10" \
        -drive file="$disk",if=virtio,format=raw -nic none -serial file:"$log" -monitor none \
        -display none </dev/null >/dev/null 2>&1 &
    local qemu=$!
    trap 'kill $qemu 2>/dev/null || true' EXIT
    # systemd prints no status on a console that has a getty: crash-once says when it loaded.
    t_loaded=$(wait_for "$log" 'crash-once: capture kernel loaded' 1 1800 $qemu)
    t_crash=$(wait_for "$log" 'sysrq: Trigger a crash' 1 600 $qemu)
    t_saved=$(wait_for "$log" 'kdumpctl: (saved the dump to|saving the dump failed)' 1 900 $qemu)
    t_login=$(wait_for "$log" 'login:' 2 900 $qemu)
    kill $qemu; wait $qemu 2>/dev/null || true
    trap - EXIT
    echo "real-system: boot to loaded $((t_loaded - t0)) s, panic to saved $((t_saved - t_crash)) s," \
         "saved to back at login $((t_login - t_saved)) s (console: $log)"
    grep -E 'kdumpctl: ' "$log" || true
    grep -q 'kdumpctl: saved the dump to' "$log" || die "the capture kernel saved nothing"
    check_dump "$disk"
}

# The dump on the disk image: one directory under /var/crash with vmcore and the logs.
check_dump() {
    local disk=$1 listing dir
    listing=$(debugfs -R 'ls -l /var/crash' "$disk" 2>/dev/null)
    echo "$listing"
    dir=$(echo "$listing" | awk '$NF ~ /^kdumpkit-real-/ { print $NF }' | head -1)
    [ -n "$dir" ] || die "no dump directory in /var/crash"
    listing=$(debugfs -R "ls -l /var/crash/$dir" "$disk" 2>/dev/null)
    echo "$listing"
    local f
    for f in vmcore vmcore-dmesg.txt report.txt report.json; do
        echo "$listing" | awk -v f=$f '$NF == f' | grep -q . || die "/var/crash/$dir has no $f"
    done
    echo "real-system: dump saved in /var/crash/$dir"
}

case ${1:-} in
    base) make_base ;;
    run) shift; [ $# -ge 1 ] || die "usage: $0 run KDUMPKIT.deb [WORKDIR]"; run_system deb "$@" ;;
    run-bins) shift; [ $# -ge 1 ] || die "usage: $0 run-bins BINDIR [WORKDIR]"; run_system bins "$@" ;;
    *) die "usage: $0 base | run KDUMPKIT.deb [WORKDIR] | run-bins BINDIR [WORKDIR]" ;;
esac
