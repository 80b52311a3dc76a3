#!/bin/bash
# real-system.sh: kdumpkit on a whole installed Debian 12 (issue 17), the way a user runs it:
# systemd as init, Debian's kernel and initramfs-tools, our .deb installed with apt,
# kdump.service loading the capture kernel at boot (its image built by mkinitramfs through
# our hook), a crash, the dump saved to /var/crash on the root file system, and the reboot.
#
#   tests/qemu/real-system.sh prepare      # what the test needs, made and cached (network):
#       the base image, the .deb of this tree, the image kernel's -dbg vmlinux (scripts/test.sh)
#   tests/qemu/real-system.sh env          # RS_BASE_DIR= RS_DEB= RS_VMLINUX= RS_KVER=, where
#       those are (they may not exist yet)
#   tests/qemu/real-system.sh run WORKDIR  # one boot, one crash, one reboot (no network)
#
# The base (mmdebstrap, ~15 min; 1 GB) is a qcow2 image cached under
# $KDUMPKIT_CACHE/real-system/bookworm-KEY, KEY a hash of the recipe below (suite, packages,
# hooks, kernel release): change the recipe and a new base is made. The .deb changes with
# every commit: `prepare` builds it with dpkg-buildpackage from a copy of the working tree
# (cached by a hash of the tree's files), and `run` installs it with apt into a copy-on-write
# overlay of the base (qcow2 backing file), never into the base.
#
# `run` boots the overlay under QEMU (TCG), direct kernel boot with the image's own kernel and
# initrd and crashkernel=256M. Units from real-system-guest.sh record what the first boot
# shows once the capture kernel is loaded and crash it; the capture kernel saves and reboots;
# the second boot records what it shows, writes a tar of the records and /var/crash to a
# second disk (WORKDIR/out.tar) and powers off. WORKDIR then holds console.log, out.tar and
# timings (boot to loaded, panic to saved, saved to login). tests/integration/real_system.sh
# judges them. Needs root (loop mount of the overlay through qemu-storage-daemon's FUSE export).
# KDUMPKIT_REAL_IMAGE=trixie: the second image (Debian 13, root on LVM with xfs, dracut), whose
# recipe is tests/qemu/real-trixie.sh; KDUMPKIT_CRASHKERNEL: another crashkernel= (by hand).
set -euo pipefail
RS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RS_SRC=$(cd "$RS_DIR/../.." && pwd)
. "$RS_DIR/pins.sh"

cache=${KDUMPKIT_CACHE:-$HOME/.cache/kdumpkit}/real-system
mirror=${KDUMPKIT_MIRROR:-http://deb.debian.org/debian}
# The image kernel: Debian 12's linux-image-amd64 must give this release (the -dbg pin).
kver=${KK_PIN_REAL_SYSTEM_DBG#linux-image-}
kver=${kver%-dbg}
# The recipe of the base. Runtime libraries of the package are in it, so that
# `apt install ./x.deb` needs no network.
suite=bookworm
packages=systemd-sysv,udev,linux-image-amd64,initramfs-tools,kmod,e2fsprogs,busybox,cpio,zstd,
packages+=libzstd1,liblzo2-2,zlib1g,libdw1,libfdt1,libsnappy1v5,libstdc++6,procps
hooks=('echo kdumpkit-real >"$1/etc/hostname"'
       'chroot "$1" passwd -d root'
       'printf "/dev/vda / ext4 rw,errors=remount-ro 0 1\n" >"$1/etc/fstab"')
base_key=$(printf '%s\n' "$suite" "$packages" "${hooks[@]}" "$kver" ext4-4G-v1 | sha256sum | cut -c1-16)
base_dir=$cache/$suite-$base_key
deb_dir=$cache/deb
rs_host=kdumpkit-real
rs_root_args="root=/dev/vda"
rs_sources=("deb $mirror $suite main" "deb http://deb.debian.org/debian-security $suite-security main")

die() { echo "real-system: $*" >&2; exit 1; }
log() { printf 'real-system %(%H:%M:%S)T: %s\n' -1 "$*" >&2; }

# The base image: mmdebstrap's tree as an ext4 file system in base.qcow2, and the image's
# kernel and initrd beside it for direct kernel boot.
make_base() {
    [ -f "$base_dir/base.qcow2" ] && return
    command -v mmdebstrap >/dev/null || die "mmdebstrap is not installed (apt-get install mmdebstrap)"
    mkdir -p "$cache"
    local new=$base_dir.new tree=$base_dir.new/tree h args=()
    # A complete tree of an earlier try is kept (the image step failed): only that step again.
    if [ ! -f "$new/tree.done" ]; then
        rm -rf "$new"
        mkdir -p "$new"
        for h in "${hooks[@]}"; do args+=(--customize-hook="$h"); done
        # The apt lists stay, so that apt can install a local .deb later without fetching them.
        log "building the base image (mmdebstrap $suite, ~15 min)"
        mmdebstrap --variant=minbase --format=directory --include="$packages" --skip=cleanup/apt/lists \
            "${args[@]}" "$suite" "$tree" "${rs_sources[@]}" >&2 ||
            die "mmdebstrap failed"
        : >"$new/tree.done"
    fi
    rm -f "$new"/*.raw "$new"/*.qcow2
    image_from_tree "$tree" "$new"
    rm -rf "$tree" "$new/tree.done"
    rm -rf "$base_dir"
    mv "$new" "$base_dir"
    # Older bases go; grep finds none on a first build, which must not end the script (pipefail).
    ls -t -d "$cache/$suite"-???????????????? 2>/dev/null | { grep -v -e "$base_dir" -e '\.new$' || true; } |
        xargs -r rm -rf
}

image_from_tree() {
    local tree=$1 out=$2 got
    got=$(cd "$tree/boot" && ls vmlinuz-* | sed 's/^vmlinuz-//')
    [ "$got" = "$kver" ] || die "the image has kernel(s) '$got', not $kver (pinned as" \
        "KK_PIN_REAL_SYSTEM_DBG in tests/qemu/pins.sh): move the pin to the release Debian serves"
    cp "$tree/boot/vmlinuz-$kver" "$tree/boot/initrd.img-$kver" "$out/"
    truncate -s 4G "$out/disk.raw"
    mkfs.ext4 -q -F -L root -d "$tree" "$out/disk.raw" || die "mkfs.ext4 -d failed"
    qemu-img convert -O qcow2 "$out/disk.raw" "$out/base.qcow2" || die "qemu-img convert failed"
    rm -f "$out/disk.raw"
}

# The overlay's root file system (the Debian 12 disk is one ext4 file system).
rs_mount_root() { mount -o loop "$1" "$2"; }

# copy_tree DIR: this working tree (tracked and untracked files git does not ignore) into DIR,
# or the commit KDUMPKIT_REAL_TREE names (by hand).
copy_tree() {
    if [ -n "${KDUMPKIT_REAL_TREE:-}" ]; then
        git -C "$RS_SRC" archive "$KDUMPKIT_REAL_TREE" | tar -x -C "$1" ||
            die "git archive $KDUMPKIT_REAL_TREE failed"
    else
        (cd "$RS_SRC" && git ls-files -co --exclude-standard -z |
            xargs -0 cp -a --parents -t "$1" 2>/dev/null) || true
    fi
    [ -f "$1/debian/rules" ] || die "copying the tree for the package failed"
}

# The .deb of this working tree (tracked and untracked files git does not ignore), built by
# dpkg-buildpackage from a copy (the tree stays clean); cached by a hash of those files.
make_deb() {
    local stage key
    stage=$(mktemp -d /tmp/kdumpkit-deb.XXXXXX)
    mkdir "$stage/kdumpkit"
    copy_tree "$stage/kdumpkit"
    key=$(cd "$stage/kdumpkit" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
    if [ -f "$deb_dir/$key/kdumpkit.deb" ]; then rm -rf "$stage"; return; fi
    log "building the .deb (dpkg-buildpackage -us -uc -b, nocheck: the unit tests run in the suite)"
    (cd "$stage/kdumpkit" && DEB_BUILD_OPTIONS="nocheck parallel=2" dpkg-buildpackage -us -uc -b) \
        >"$stage/build.log" 2>&1 ||
        { tail -n 30 "$stage/build.log" >&2; rm -rf "$stage"; die "dpkg-buildpackage failed"; }
    mkdir -p "$deb_dir/$key.new/deps" "$deb_dir/$key.new/dist"
    cp "$stage"/kdumpkit_*.deb "$deb_dir/$key.new/kdumpkit.deb"
    # What dpkg-buildpackage wrote (.deb, -dbgsym, .changes, .buildinfo): lintian's input
    # (tests/integration/deb_lintian.sh).
    cp "$stage"/kdumpkit*_* "$deb_dir/$key.new/dist/"
    fetch_deps "$deb_dir/$key.new"
    rm -rf "$deb_dir/$key" && mv "$deb_dir/$key.new" "$deb_dir/$key"
    rm -rf "$stage"
    # Keep the newest three.
    ls -t -d "$deb_dir"/*/ | tail -n +4 | xargs -r rm -rf
}

# The library packages the .deb depends on (first alternatives), downloaded beside it: the
# test installs those the base lacks from there, without network (a new library dependency
# then needs no new base image).
fetch_deps() {
    local dir=$1 pkgs
    pkgs=$(dpkg-deb -f "$dir/kdumpkit.deb" Depends | tr ',' '\n' | sed 's/|.*//; s/(.*//; s/ //g' |
        grep -E '^(lib|zlib)' || true)
    [ -n "$pkgs" ] || return 0
    # shellcheck disable=SC2086  # one word per package
    (cd "$dir/deps" && apt-get download -q $pkgs >&2) || die "apt-get download $pkgs failed"
}

newest_deb() { ls -t "$deb_dir"/*/kdumpkit.deb 2>/dev/null | head -1; }

# The -dbg vmlinux of the image kernel, cached with the fixture kernels (tests/qemu/lib.sh).
vmlinux_env() {
    KDUMPKIT_KVER=$kver "$RS_DIR/fixtures.sh" env 2>/dev/null | sed -n 's/^KK_VMLINUX=/RS_VMLINUX=/p'
}

print_env() {
    echo "RS_IMAGE=$suite"
    echo "RS_BASE_DIR=$base_dir"
    echo "RS_DEB=$(newest_deb)"
    echo "RS_KVER=$kver"
    vmlinux_env
}

# The overlay of the base with our .deb installed by apt, and the guest's test units.
make_overlay() {
    local work=$1 deb=$2 view=$1/disk.view mnt=$1/mnt rc=0
    qemu-img create -q -f qcow2 -b "$base_dir/base.qcow2" -F qcow2 "$work/disk.qcow2" ||
        die "qemu-img create (overlay) failed"
    : >"$view"
    mkdir -p "$mnt"
    qemu-storage-daemon --blockdev driver=file,node-name=f,filename="$work/disk.qcow2" \
        --blockdev driver=qcow2,node-name=q,file=f \
        --export type=fuse,id=e,node-name=q,mountpoint="$view",writable=on \
        --pidfile "$work/qsd.pid" --daemonize || die "qemu-storage-daemon (FUSE export) failed"
    rs_mount_root "$view" "$mnt" || { stop_qsd "$work"; die "mounting the overlay failed"; }
    install_into "$mnt" "$deb" || rc=$?
    umount "$mnt" || rc=1
    stop_qsd "$work"
    [ $rc = 0 ] || die "installing into the overlay failed"
}

stop_qsd() {
    local pid
    pid=$(cat "$1/qsd.pid" 2>/dev/null) || return 0
    kill "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
}

install_into() {
    local root=$1 deb=$2 rc=0
    local d p debs=(/tmp/kdumpkit.deb)
    cp "$deb" "$root/tmp/kdumpkit.deb"
    mkdir -p "$root/tmp/deps"
    for d in "$(dirname "$deb")"/deps/*.deb; do
        [ -f "$d" ] || continue
        p=$(dpkg-deb -f "$d" Package)
        chroot "$root" dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'ok installed' && continue
        cp "$d" "$root/tmp/deps/" && debs+=("/tmp/deps/$(basename "$d")")
    done
    mount -t proc proc "$root/proc"
    log "apt install ${debs[*]} in the overlay"
    chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${debs[@]}" \
        >"$work_log" 2>&1 || rc=$?
    umount "$root/proc"
    rm -rf "$root/tmp/kdumpkit.deb" "$root/tmp/deps"
    [ $rc = 0 ] || { tail -n 20 "$work_log" >&2; echo "real-system: apt install failed" >&2; return 1; }
    [ -L "$root/etc/systemd/system/multi-user.target.wants/kdump.service" ] ||
        { echo "real-system: the package did not enable kdump.service" >&2; return 1; }
    # The capture image must come from kdump.service at boot, not from this script.
    if ls "$root"/var/lib/kdumpkit/initrd-* >/dev/null 2>&1; then
        echo "real-system: a capture image exists before the first boot" >&2; return 1
    fi
    "$RS_DIR/real-system-guest.sh" install "$root"
}

# wait_for LOG PATTERN N LIMIT PID: until the console has PATTERN (ERE) N times; prints the time.
wait_for() {
    local log=$1 pattern=$2 n=$3 limit=$4 pid=$5 t0
    t0=$(date +%s)
    while [ "$(grep -Eac "$pattern" "$log" || true)" -lt "$n" ]; do
        kill -0 "$pid" 2>/dev/null || die "QEMU exited while waiting for '$pattern' (see $log)"
        [ $(( $(date +%s) - t0 )) -lt "$limit" ] || die "no '$pattern' after $limit s (see $log)"
        sleep 1
    done
    date +%s
}

# The inner limits (seconds); the meson timeout of real_system is at least their sum.
LIMIT_LOADED=2400 LIMIT_PANIC=120 LIMIT_SAVED=600 LIMIT_LOGIN=600 LIMIT_OFF=300

run_system() {
    local work=$1 deb
    [ "$(id -u)" = 0 ] || die "needs root (chroot, loop mount)"
    [ -f "$base_dir/base.qcow2" ] || die "no base image $base_dir (tests/qemu/real-system.sh prepare)"
    deb=${KDUMPKIT_REAL_DEB:-$(newest_deb)}  # KDUMPKIT_REAL_DEB: another package, by hand
    [ -n "$deb" ] || die "no .deb in $deb_dir (tests/qemu/real-system.sh prepare)"
    mkdir -p "$work"
    work_log=$work/apt.log
    make_overlay "$work" "$deb"
    rm -f "$work/out.tar"
    truncate -s 1G "$work/out.tar"
    local log=$work/console.log qemu t0 t_loaded t_crash t_saved t_login
    : >"$log"
    local crashkernel=${KDUMPKIT_CRASHKERNEL:-256M}  # another size, by hand (the smallest that captures)
    log "booting $suite (TCG, crashkernel=$crashkernel): first boot, crash, capture, second boot"
    t0=$(date +%s)
    qemu-system-x86_64 -machine pc,accel=tcg -cpu qemu64 -m 1536 -smp 1 -nographic -no-user-config \
        -kernel "$base_dir/vmlinuz-$kver" -initrd "$base_dir/initrd.img-$kver" \
        -append "$rs_root_args rw console=ttyS0 crashkernel=$crashkernel panic=10" \
        -drive file="$work/disk.qcow2",if=virtio,format=qcow2 \
        -drive file="$work/out.tar",if=virtio,format=raw \
        -nic none -serial file:"$log" -monitor none -display none </dev/null >/dev/null 2>&1 &
    qemu=$!
    trap 'kill '$qemu' 2>/dev/null || true' EXIT
    # systemd prints no status on a console that has a getty: the guest's units say when.
    t_loaded=$(wait_for "$log" 'real-system: boot1 recorded' 1 $LIMIT_LOADED $qemu)
    t_crash=$(wait_for "$log" 'sysrq: Trigger a crash' 1 $LIMIT_PANIC $qemu)
    local n_login
    n_login=$(grep -ac 'login:' "$log" || true)
    # The capture's end: kdumpctl's line, or the capture kernel's reboot (the test then checks
    # that the console had kdumpctl's line).
    t_saved=$(wait_for "$log" 'kdumpctl: (saved the dump to|saving the dump failed)|reboot: Restarting system' \
        1 $LIMIT_SAVED $qemu)
    # The first boot may crash before its getty prompts: one login prompt more than at the crash.
    t_login=$(wait_for "$log" 'login:' $((n_login + 1)) $LIMIT_LOGIN $qemu)
    local t=0
    while kill -0 $qemu 2>/dev/null; do
        [ $t -lt $LIMIT_OFF ] || die "the second boot did not power off after $LIMIT_OFF s (see $log)"
        sleep 1; t=$((t + 1))
    done
    wait $qemu 2>/dev/null || true
    trap - EXIT
    printf 'boot_to_loaded=%s\npanic_to_saved=%s\nsaved_to_login=%s\ntotal=%s\n' \
        $((t_loaded - t0)) $((t_saved - t_crash)) $((t_login - t_saved)) $(($(date +%s) - t0)) \
        >"$work/timings"
    log "boot to loaded $((t_loaded - t0)) s, panic to saved $((t_saved - t_crash)) s," \
        "saved to back at login $((t_login - t_saved)) s"
}

# Debian 13, root on LVM with xfs, dracut: the same flow with that image's recipe.
rs_extra_command() { return 1; }
[ "${KDUMPKIT_REAL_IMAGE:-bookworm}" = bookworm ] || {
    [ "$KDUMPKIT_REAL_IMAGE" = trixie ] || die "KDUMPKIT_REAL_IMAGE must be bookworm or trixie"
    . "$RS_DIR/real-trixie.sh"
}

case ${1:-} in
    prepare) make_base; make_deb; KDUMPKIT_KVER=$kver "$RS_DIR/fixtures.sh" env >/dev/null ||
        die "cannot fetch the -dbg vmlinux of $kver" ;;
    base) make_base ;;
    deb) make_deb ;;
    env) print_env ;;
    run) [ $# -ge 2 ] || die "usage: $0 run WORKDIR"; run_system "$2" ;;
    *) rs_extra_command "$@" || die "usage: $0 prepare | base | deb | env | run WORKDIR" ;;
esac
