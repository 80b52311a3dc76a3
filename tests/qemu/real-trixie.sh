#!/bin/bash
# real-trixie.sh: the second real-system image of issue 17 (Debian 13, root on LVM with xfs, the
# capture image built by dracut), its cached parts. Work in progress: the build chroot and the
# package built in it are done; the LVM+xfs image is not yet (see the end of this file).
#
#   tests/qemu/real-trixie.sh buildroot   # Debian 13 chroot with debian/control's
#       Build-Depends (mmdebstrap), cached under $KDUMPKIT_CACHE/real-system/trixie-build-KEY
#   tests/qemu/real-trixie.sh deb         # this working tree's .deb built in that chroot
#       (library package names differ from Debian 12's), cached by the tree's contents under
#       $KDUMPKIT_CACHE/real-system/deb-trixie/KEY/kdumpkit.deb
set -euo pipefail
RS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RS_SRC=$(cd "$RS_DIR/../.." && pwd)
cache=${KDUMPKIT_CACHE:-$HOME/.cache/kdumpkit}/real-system
mirror=${KDUMPKIT_MIRROR:-http://deb.debian.org/debian}
suite=trixie

die() { echo "real-trixie: $*" >&2; exit 1; }
log() { printf 'real-trixie %(%H:%M:%S)T: %s\n' -1 "$*" >&2; }

# Build-Depends of debian/control, one package a line: first alternatives, no versions, no
# nocheck-only packages (the package is built with nocheck), arch qualifiers dropped (amd64).
build_deps() {
    sed -n '/^Build-Depends:/,/^[A-Z][-A-Za-z]*:/p' "$RS_SRC/debian/control" |
        sed '1s/^Build-Depends://; /^[A-Z][-A-Za-z]*:/d' | tr ',' '\n' | grep -v '<!nocheck>' |
        sed 's/|.*//; s/([^)]*)//g; s/\[[^]]*\]//g; s/<[^>]*>//g; s/[[:space:]]//g' | grep -v '^$' |
        sed 's/^debhelper-compat$/debhelper/' | sort -u
}

buildroot_dir() {
    local key
    key=$( (build_deps; echo "$suite build-essential v1") | sha256sum | cut -c1-16)
    echo "$cache/$suite-build-$key"
}

make_buildroot() {
    local dir pkgs
    dir=$(buildroot_dir)
    [ -d "$dir/usr" ] && return
    pkgs=$( (build_deps; echo build-essential) | paste -sd, -)
    log "Debian 13 build chroot (mmdebstrap $suite: $pkgs)"
    rm -rf "$dir.new"
    mmdebstrap --variant=apt --include="$pkgs" "$suite" "$dir.new" "deb $mirror $suite main" >&2 ||
        die "mmdebstrap $suite failed"
    rm -rf "$dir" && mv "$dir.new" "$dir"
}

make_deb() {
    local root key stage=/build/src/kdumpkit out rc=0
    root=$(buildroot_dir)
    [ -d "$root/usr" ] || die "no build chroot $root (run: $0 buildroot)"
    rm -rf "$root/build" && mkdir -p "$root$stage"
    (cd "$RS_SRC" && git ls-files -co --exclude-standard -z |
        xargs -0 cp -a --parents -t "$root$stage" 2>/dev/null) || true
    [ -f "$root$stage/debian/rules" ] || die "copying the tree into the chroot failed"
    key=$(cd "$root$stage" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
    out=$cache/deb-$suite/$key
    if [ -f "$out/kdumpkit.deb" ]; then rm -rf "$root/build"; return; fi
    log "building the .deb in the Debian 13 chroot (nocheck)"
    mount -t proc proc "$root/proc"
    chroot "$root" sh -c "cd $stage && DEB_BUILD_OPTIONS='nocheck parallel=2' dpkg-buildpackage -us -uc -b" \
        >"$root/build/build.log" 2>&1 || rc=$?
    umount "$root/proc"
    [ $rc = 0 ] || { tail -n 30 "$root/build/build.log" >&2; die "dpkg-buildpackage in $suite failed"; }
    mkdir -p "$out.new"
    cp "$root"/build/src/kdumpkit_*.deb "$out.new/kdumpkit.deb"
    rm -rf "$out" && mv "$out.new" "$out"
    rm -rf "$root/build"
    dpkg-deb -f "$out/kdumpkit.deb" Depends >&2
}

case ${1:-} in
    buildroot) make_buildroot ;;
    deb) make_deb ;;
    deps) build_deps ;;
    *) die "usage: $0 buildroot | deb | deps" ;;
esac

# Not done yet (the rest of the second image):
# - base: mmdebstrap $suite with systemd-sysv, udev, linux-image-amd64, dracut, lvm2, xfsprogs;
#   this host has no device-mapper (/dev/mapper), so the LVM volume group and the xfs root are
#   made inside a guest: boot the image's kernel with a small initramfs that runs pvcreate,
#   vgcreate, lvcreate, mkfs.xfs on a virtio disk and unpacks the tree into it; cache the disk
#   as qcow2 like real-system.sh's base.
# - run: real-system.sh's flow with root=/dev/mapper/<vg>-root and the dracut-built capture image.
