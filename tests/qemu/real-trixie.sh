#!/bin/bash
# real-trixie.sh: the second real-system image of issue 17: Debian 13 (trixie), systemd, Debian
# 13's linux-image-amd64, root on LVM with xfs (the layout of RHEL-like systems), and dracut
# (Debian's dracut package) instead of initramfs-tools, so that kdumpctl builds the capture
# image with dracut through our module (initramfs-hooks/dracut/99kdumpkit).
#
# Sourced by real-system.sh when KDUMPKIT_REAL_IMAGE=trixie: it replaces the Debian 12 recipe
# (suite, packages, kernel, base image, .deb) and keeps real-system.sh's flow (overlay, apt
# install, one boot, one crash, one reboot). Run directly, it is that: the same commands as
# real-system.sh (prepare, base, deb, env, run WORKDIR), plus
#   tests/qemu/real-trixie.sh buildroot   # Debian 13 chroot with debian/control's
#       Build-Depends and lintian (mmdebstrap), cached under $KDUMPKIT_CACHE/real-system/trixie-build-KEY
#   tests/qemu/real-trixie.sh lint DIR     # that lintian on DIR's .changes (tests/integration/deb_lintian.sh)
# The .deb is built by dpkg-buildpackage in that chroot (library package names differ from
# Debian 12's: libssl3t64, libdw1t64), cached by the tree's contents under deb-trixie/KEY.
#
# This host has no device-mapper, so the volume group is written without activating it: the
# image's own lvm2 (run in the image tree) makes vg0/root on a loop device with --activate n,
# and its first (only) segment is a plain byte range of the disk (pe_start on); mkfs.xfs (the
# image's xfsprogs) and the host's loop mount use that range as the file system. The guest
# activates the volume group at boot like any LVM system (dracut's lvm module, rd.lvm.lv=).
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    KDUMPKIT_REAL_IMAGE=trixie exec "$(dirname "$0")/real-system.sh" "$@"
fi

suite=trixie
# The image kernel: Debian 13's linux-image-amd64 must give the matrix's trixie pin (its -dbg
# vmlinux is cached with the fixture kernels).
kver=$KK_PIN_KVER_TRIXIE
# Runtime libraries of the package (Debian 13 names) are in the base, so that
# `apt install ./x.deb` needs no network.
packages=systemd-sysv,udev,linux-image-amd64,dracut,lvm2,xfsprogs,kmod,procps,zstd,
packages+=libzstd1,liblzo2-2,zlib1g,libdw1t64,libfdt1,libsnappy1v5,libstdc++6,libdeflate0,
packages+=libxxhash0,libssl3t64
hooks=('echo kdumpkit-trixie >"$1/etc/hostname"'
       'chroot "$1" passwd -d root'
       'printf "/dev/mapper/vg0-root / xfs defaults 0 0\n" >"$1/etc/fstab"')
base_key=$(printf '%s\n' "$suite" "$packages" "${hooks[@]}" "$kver" lvm-xfs-4G-v1 | sha256sum | cut -c1-16)
base_dir=$cache/$suite-$base_key
deb_dir=$cache/deb-$suite
rs_host=kdumpkit-trixie
rs_root_args="root=/dev/mapper/vg0-root rd.lvm.lv=vg0/root"
rs_sources=("deb $mirror $suite main")

lvm_conf='devices { obtain_device_list_from_udev = 0 } activation { udev_sync = 0 udev_rules = 0 }'

# The base: the tree's generic (not host-only) dracut initrd, then the tree on xfs on vg0/root.
image_from_tree() {
    local tree=$1 out=$2 got loop='' rc=0
    got=$(cd "$tree/boot" && ls vmlinuz-* | sed 's/^vmlinuz-//')
    [ "$got" = "$kver" ] || die "the image has kernel(s) '$got', not $kver (pinned as" \
        "KK_PIN_KVER_TRIXIE in tests/qemu/pins.sh): move the pin to the release Debian serves"
    truncate -s 4G "$out/disk.raw"
    mount_tree_api "$tree"
    log "the generic initrd (dracut --no-hostonly) and vg0/root (metadata only)"
    chroot "$tree" dracut --force --no-hostonly --kver "$kver" "/boot/initrd.img-$kver" >&2 || rc=$?
    [ $rc = 0 ] && { loop=$(losetup -f --show "$out/disk.raw") || rc=1; }
    [ $rc = 0 ] && { make_lv "$tree" "$loop" "$out" || rc=1; }
    [ -n "$loop" ] && losetup -d "$loop"
    umount_tree_api "$tree"
    [ $rc = 0 ] || die "the initrd or vg0/root in $out/disk.raw failed"
    cp "$tree/boot/vmlinuz-$kver" "$tree/boot/initrd.img-$kver" "$out/"
    log "xfs on vg0/root ($(cat "$out/root.range")), the tree copied in"
    xfs_from_tree "$tree" "$out" || die "the xfs root in vg0/root failed"
    qemu-img convert -O qcow2 "$out/disk.raw" "$out/base.qcow2" || die "qemu-img convert failed"
    rm -f "$out/disk.raw"
}

mount_tree_api() {
    mount -t proc proc "$1/proc" && mount --bind /dev "$1/dev" && mount -t sysfs sysfs "$1/sys"
}

umount_tree_api() { umount "$1/sys" "$1/dev" "$1/proc" 2>/dev/null || true; }

# lvm of the image tree, metadata only (--driverloaded n: no device-mapper here).
tree_lvm() {
    local tree=$1
    shift
    LVM_SUPPRESS_FD_WARNINGS=1 chroot "$tree" lvm "$@" --driverloaded n --config "$lvm_conf"
}

# vg0/root on the loop device, not activated; its one segment's byte range to OUT/root.range.
make_lv() {
    local tree=$1 dev=$2 out=$3 pe_start s n c
    tree_lvm "$tree" pvcreate -q "$dev" >&2 && tree_lvm "$tree" vgcreate -q vg0 "$dev" >&2 &&
        tree_lvm "$tree" lvcreate -q --activate n --zero n -l 100%FREE -n root vg0 >&2 || return 1
    pe_start=$(tree_lvm "$tree" pvs --noheadings --nosuffix --units b -o pe_start "$dev" 2>/dev/null | tr -d ' ')
    read -r s n c < <(tree_lvm "$tree" lvs --noheadings --nosuffix --units b -o seg_start,seg_size,seg_count \
        vg0/root 2>/dev/null)
    [ "${c:-}" = 1 ] && [ -n "$pe_start" ] && [ -n "$n" ] || return 1
    echo "$((pe_start + s)) $n" >"$out/root.range"
}

xfs_from_tree() {
    local tree=$1 out=$2 off size loop mnt=$2/mnt rc=0
    read -r off size <"$out/root.range"
    loop=$(losetup -f --show -o "$off" --sizelimit "$size" "$out/disk.raw") || return 1
    # -f: the range is fresh (mkfs.xfs takes the loop device for a mounted one otherwise).
    mount_tree_api "$tree"
    chroot "$tree" mkfs.xfs -f -q -L root "$loop" >&2 || rc=1
    umount_tree_api "$tree"
    mkdir -p "$mnt"
    [ $rc = 0 ] && mount "$loop" "$mnt" && {
        tar -C "$tree" --one-file-system -cf - . | tar -C "$mnt" -xpf - || rc=1
        umount "$mnt" || rc=1
    }
    losetup -d "$loop"
    rmdir "$mnt"
    return $rc
}

# The overlay's root file system: the LV's byte range on the exported disk.
rs_mount_root() {
    local off size
    read -r off size <"$base_dir/root.range"
    mount -o loop,offset="$off",sizelimit="$size" "$1" "$2"
}

# Debian 13 build chroot: debian/control's Build-Depends, first alternatives, no versions, no
# nocheck-only packages, arch qualifiers dropped (amd64).
build_deps() {
    sed -n '/^Build-Depends:/,/^[A-Z][-A-Za-z]*:/p' "$RS_SRC/debian/control" |
        sed '1s/^Build-Depends://; /^[A-Z][-A-Za-z]*:/d' | tr ',' '\n' | grep -v '<!nocheck>' |
        sed 's/|.*//; s/([^)]*)//g; s/\[[^]]*\]//g; s/<[^>]*>//g; s/[[:space:]]//g' | grep -v '^$' |
        sed 's/^debhelper-compat$/debhelper/' | sort -u
}

# The chroot also has Debian 13's lintian, which checks the package there (lint below).
buildroot_pkgs() { (build_deps; echo build-essential; echo lintian) | sort -u; }

buildroot_dir() {
    local key
    key=$( (buildroot_pkgs; echo "$suite v2") | sha256sum | cut -c1-16)
    echo "$cache/$suite-build-$key"
}

make_buildroot() {
    local dir pkgs
    dir=$(buildroot_dir)
    [ -d "$dir/usr" ] && return
    pkgs=$(buildroot_pkgs | paste -sd, -)
    log "Debian 13 build chroot (mmdebstrap $suite: $pkgs)"
    rm -rf "$dir.new"
    mmdebstrap --variant=apt --include="$pkgs" "$suite" "$dir.new" "deb $mirror $suite main" >&2 ||
        die "mmdebstrap $suite failed"
    rm -rf "$dir" && mv "$dir.new" "$dir"
    # Chroots of earlier package lists: no longer used.
    ls -d "$cache/$suite-build"-???????????????? | { grep -vx "$dir" || true; } | xargs -r rm -rf
}

# The tree's .deb built in the chroot (-Pnocheck: catch2 is a nocheck build dependency).
make_deb() {
    local root key stage=/build/src/kdumpkit out rc=0
    make_buildroot
    root=$(buildroot_dir)
    rm -rf "$root/build" && mkdir -p "$root$stage"
    copy_tree "$root$stage"
    key=$(cd "$root$stage" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
    out=$deb_dir/$key
    if [ -f "$out/kdumpkit.deb" ]; then rm -rf "$root/build"; return; fi
    log "building the .deb in the Debian 13 chroot (nocheck)"
    mount -t proc proc "$root/proc"
    chroot "$root" sh -c "cd $stage && DEB_BUILD_OPTIONS='nocheck parallel=2' dpkg-buildpackage -us -uc -b -Pnocheck" \
        >"$root/build/build.log" 2>&1 || rc=$?
    umount "$root/proc"
    [ $rc = 0 ] || { tail -n 30 "$root/build/build.log" >&2; die "dpkg-buildpackage in $suite failed"; }
    mkdir -p "$out.new/dist"
    cp "$root"/build/src/kdumpkit_*.deb "$out.new/kdumpkit.deb"
    # What dpkg-buildpackage wrote (.deb, -dbgsym, .changes, .buildinfo), for lint.
    cp "$root"/build/src/kdumpkit*_* "$out.new/dist/"
    rm -rf "$out" && mv "$out.new" "$out"
    rm -rf "$root/build"
    ls -t -d "$deb_dir"/*/ | tail -n +4 | xargs -r rm -rf
}

# lint DIR: Debian 13's lintian (in the build chroot) on DIR's .changes (and what it lists):
# its output, and its exit status as the script's (0 clean, 1 errors, 2 lintian failed).
lint_in_chroot() {
    local dir=${1:?lint DIR} root tmp rc=0
    root=$(buildroot_dir)
    [ -x "$root/usr/bin/lintian" ] || die "no Debian 13 build chroot with lintian ($root): $0 buildroot"
    ls "$dir"/*.changes >/dev/null 2>&1 || die "no .changes in $dir"
    tmp=$(mktemp -d "$root/tmp/kdumpkit-lint.XXXXXX")
    cp "$dir"/* "$tmp/"
    mount -t proc proc "$root/proc"
    chroot "$root" sh -c "cd /tmp/${tmp##*/} && lintian --fail-on error *.changes" || rc=$?
    umount "$root/proc"
    rm -rf "$tmp"
    exit $rc
}

rs_extra_command() {
    case $1 in
        buildroot) make_buildroot ;;
        deps) build_deps ;;
        lint) lint_in_chroot "${2:-}" ;;
        *) return 1 ;;
    esac
}
