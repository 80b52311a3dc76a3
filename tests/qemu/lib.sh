# shellcheck shell=bash
# lib.sh: shared helpers for the QEMU kdump tests. Source it; it defines kk_* functions and
# sets no shell options of its own, so it works under `set -euo pipefail`.
#
# Everything downloaded or generated goes to the cache, never into the git tree:
#   KDUMPKIT_CACHE   cache root (default: $HOME/.cache/kdumpkit)
#   KDUMPKIT_KVER    guest kernel, e.g. 6.1.0-57-amd64 (default: the release pinned in pins.sh for
#                    the guest architecture)
#   KDUMPKIT_ARCH    guest architecture: x86_64 (default) or arm64 (Debian's arm64 packages
#                    through multiarch, qemu-system-aarch64 -M virt; see kk_arch_setup)
#
# Functions:
#   kk_fetch_kernel                  download + unpack the Debian kernel and its debug vmlinux;
#                                    exports KK_KVER KK_KROOT KK_VMLINUZ KK_VMLINUX KK_MODROOT
#   kk_build_guest_tools             compile guest/memfill.c statically; exports KK_MEMFILL
#   kk_build_initramfs OUT INIT [ITEM...]  busybox + virtio modules + binaries, files, modules;
#                                    exports KK_LAST_INITRAMFS (its cached copy)
#   kk_build_pagecache_image         ext2 image of real files for the guest's page cache;
#                                    exports KK_PAGECACHE_IMG
#   kk_qemu_boot [options]           run qemu-system-x86_64 (-aarch64) under TCG, hard timeout
#   kk_log MSG / kk_die MSG          messages on stderr

KK_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$KK_LIB_DIR/pins.sh"
KK_CACHE=${KDUMPKIT_CACHE:-$HOME/.cache/kdumpkit}
KK_ARCH=${KDUMPKIT_ARCH:-x86_64}
# What differs by guest architecture, as data: Debian's name for it, its kernel packages,
# QEMU and its serial console, the cross tools for guest binaries, the guest's busybox.
case $KK_ARCH in
    x86_64)
        KK_DEB_ARCH=amd64 KK_IMG_PKG_SUFFIX='' KK_CONSOLE=ttyS0 KK_CC=gcc KK_STRIP=strip
        KK_BUSYBOX=/bin/busybox KK_RUN=() KK_ELF_MACHINE='Advanced Micro Devices X86-64'
        KK_QEMU=(qemu-system-x86_64 -machine pc,accel=tcg -cpu qemu64) ;;
    arm64)
        # The unsigned image: no EFI secure boot here, and it is the same Image.
        KK_DEB_ARCH=arm64 KK_IMG_PKG_SUFFIX=-unsigned KK_CONSOLE=ttyAMA0
        KK_CC=aarch64-linux-gnu-gcc KK_STRIP=aarch64-linux-gnu-strip
        KK_BUSYBOX=$KK_CACHE/arm64/tools/bin/busybox KK_RUN=(qemu-aarch64-static -L /)
        KK_ELF_MACHINE=AArch64
        KK_QEMU=(qemu-system-aarch64 -machine virt,accel=tcg -cpu max) ;;
    *) printf '[kk] error: KDUMPKIT_ARCH=%s: x86_64 or arm64\n' "$KK_ARCH" >&2; exit 1 ;;
esac

kk_log() { printf '[kk %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
kk_die() { printf '[kk] error: %s\n' "$*" >&2; exit 1; }

# kk_now: seconds since the epoch with millisecond resolution, for phase timings.
kk_now() { date +%s.%3N; }
# kk_elapsed START: seconds since START (from kk_now), one decimal.
kk_elapsed() { awk -v a="$1" -v b="$(kk_now)" 'BEGIN { printf "%.1f", b - a }'; }

# kk_deb_kver DEB: the kernel release a linux-image-KVER (or linux-binary-KVER, unstable's split
# image) .deb holds (from its Package field).
kk_deb_kver() {
    local pkg
    pkg=$(dpkg-deb -f "$1" Package 2>/dev/null) || kk_die "$1: not a Debian package"
    case $pkg in
        *-dbg) ;;
        linux-image-*) printf '%s\n' "${pkg#linux-image-}"; return ;;
        linux-binary-*) printf '%s\n' "${pkg#linux-binary-}"; return ;;
    esac
    kk_die "$1: package $pkg is not a linux-image or linux-binary"
}

# kk_pick_kver: the release pinned for the guest architecture in pins.sh (or $KDUMPKIT_KVER, or
# the release of $KDUMPKIT_KERNEL_DEB). Not "the newest apt knows": that floats when Debian
# publishes a new ABI, and the fixtures (and the tests reading them) would change under us.
kk_pick_kver() {
    if [[ -n ${KDUMPKIT_KERNEL_DEB:-} ]]; then
        kk_deb_kver "$KDUMPKIT_KERNEL_DEB"
        return
    fi
    if [[ -n ${KDUMPKIT_KVER:-} ]]; then
        printf '%s\n' "$KDUMPKIT_KVER"
        return
    fi
    case $KK_DEB_ARCH in
        amd64) printf '%s\n' "$KK_PIN_KVER_AMD64" ;;
        arm64) printf '%s\n' "$KK_PIN_KVER_ARM64" ;;
    esac
}

# kk_arch_setup: for an arm64 guest, dpkg knows the arm64 architecture (multiarch) so apt can
# download its packages, and the guest's busybox and Debian's arm64 kexec-tools and makedumpfile
# (the reference tools) are unpacked, not installed, under $KK_CACHE/arm64/tools, with the
# shared-library packages they need (kk_arm64_lib_closure; kk_shared_libs finds them there).
# The marker names the layout: a tools tree made by an older lib.sh (without the libraries) is
# made anew.
KK_ARM64_TOOLS_MARK=.done-v2-libs
kk_arch_setup() {
    [[ $KK_ARCH == arm64 ]] || return 0
    if ! dpkg --print-foreign-architectures | grep -qx arm64; then
        dpkg --add-architecture arm64 || kk_die "dpkg --add-architecture arm64 failed"
        apt-get update -qq >&2 || kk_die "apt-get update failed"
    fi
    local tools=$KK_CACHE/arm64/tools deb pkgs libs
    [[ -e $tools/$KK_ARM64_TOOLS_MARK ]] && return 0
    mkdir -p "$KK_CACHE/arm64"
    (
        flock 9
        [[ -e $tools/$KK_ARM64_TOOLS_MARK ]] && exit 0
        rm -rf "$tools" "$KK_CACHE/arm64/debs"
        pkgs=(busybox-static:arm64 kexec-tools:arm64 makedumpfile:arm64)
        libs=$(kk_arm64_lib_closure "${pkgs[@]}") || exit 1
        mapfile -t -O ${#pkgs[@]} pkgs <<<"$libs"
        kk_log "arm64 tools: downloading ${#pkgs[@]} packages"
        kk_apt_download "$KK_CACHE/arm64/debs" "${pkgs[@]}"
        for deb in "$KK_CACHE"/arm64/debs/*.deb; do dpkg -x "$deb" "$tools" || kk_die "dpkg -x $deb"; done
        rm -rf "$KK_CACHE/arm64/debs"
        : >"$tools/$KK_ARM64_TOOLS_MARK"
    ) 9>"$KK_CACHE/arm64/.lock" || exit 1
}

# kk_arm64_lib_closure PKG...: the shared-library packages (Debian names them lib*, and zlib1g)
# that PKG... depend on, directly or through each other, as NAME:arm64, one a line. Only library
# packages are followed: the tools' other dependencies (perl, debconf) are not needed to run them.
kk_arm64_lib_closure() {
    local -A seen=()
    local todo=("$@") next deps dep
    # One apt-cache call per level of the tree, not per package: each call loads apt's whole
    # package cache (seconds on a busy host).
    while ((${#todo[@]})); do
        deps=$(apt-cache depends --no-recommends --no-suggests --no-conflicts --no-breaks \
            --no-replaces --no-enhances "${todo[@]}" 2>/dev/null) ||
            kk_die "apt-cache does not know all of ${todo[*]} (needed for the arm64 tools)"
        next=()
        for dep in $(awk '$1 ~ /^[|]?(Pre)?Depends:$/ && $2 ~ /^(lib[^<>]*|zlib1g):arm64$/ { print $2 }' \
            <<<"$deps"); do
            [[ -n ${seen[$dep]:-} ]] && continue
            seen[$dep]=1
            printf '%s\n' "$dep"
            next+=("$dep")
        done
        todo=("${next[@]}")
    done
}

# kk_arm64_oracle: unstable's arm64 makedumpfile (the version pins.sh names for the oracle
# chroot), the reference for the arm64 kernel matrix: makedumpfile is built per architecture and
# the amd64 one in the oracle chroot reads only x86_64 dumps. Unpacked with its library closure
# (not installed) under $KK_CACHE/oracle/arm64-VERSION/root; run it as
#   qemu-aarch64-static -L "$KK_ARM64_ORACLE" "$KK_ARM64_ORACLE/usr/bin/makedumpfile" ...
# Exports KK_ARM64_ORACLE; offline (KK_OFFLINE=1) a missing one is an error naming scripts/test.sh.
kk_arm64_oracle() {
    local dir=$KK_CACHE/oracle/arm64-${KK_PIN_ORACLE_MAKEDUMPFILE#*:}
    export KK_ARM64_ORACLE=$dir/root
    [[ -e $dir/.done ]] && return 0
    [[ ${KK_OFFLINE:-0} != 1 ]] || kk_die "no arm64 makedumpfile in $dir (scripts/test.sh fetches it)"
    mkdir -p "$dir"
    (
        flock 9
        [[ -e $dir/.done ]] && exit 0
        KK_DEB_ARCH=arm64 kk_newer_apt
        local -A seen=()
        local todo=(makedumpfile) next dep pkgs=("makedumpfile=$KK_PIN_ORACLE_MAKEDUMPFILE")
        while ((${#todo[@]})); do  # the library packages only, as kk_arm64_lib_closure
            next=()
            for dep in $(apt-cache "${KK_APT_OPTS[@]}" depends --no-recommends --no-suggests \
                --no-conflicts --no-breaks --no-replaces --no-enhances "${todo[@]}" 2>/dev/null |
                awk '$1 ~ /^[|]?(Pre)?Depends:$/ && $2 ~ /^(lib[^<>:]*|zlib1g)$/ { print $2 }'); do
                [[ -n ${seen[$dep]:-} ]] && continue
                seen[$dep]=1 && next+=("$dep") && pkgs+=("$dep")
            done
            todo=("${next[@]}")
        done
        rm -rf "$dir/root" "$dir/debs"
        kk_apt_download "$dir/debs" "${pkgs[@]}"
        for deb in "$dir"/debs/*.deb; do dpkg -x "$deb" "$dir/root" || kk_die "dpkg -x $deb"; done
        # unstable is usr-merged: its loader and libc are under /usr/lib, found through /lib
        # (base-files makes the link on a real system).
        [[ -e $dir/root/lib ]] || ln -s usr/lib "$dir/root/lib"
        rm -rf "$dir/debs"
        : >"$dir/.done"
    ) 9>"$dir/.lock" || exit 1
}

# kk_newer_apt: KK_APT_OPTS for Debian 13 (trixie) and unstable (sid), through an apt state of
# their own under $KK_CACHE/apt-newer, so the host's apt stays Debian 12's. sid's Release file on
# the archive we reach is past its Valid-Until date: the check is off for that one source
# (check-valid-until=no), not for trixie and not for the host. Lists are updated once a day.
# One state per architecture (apt-newer for amd64, apt-newer-arm64): an update for one
# architecture drops the other's lists from a shared state.
KK_APT_OPTS=()
kk_newer_apt() {
    local a=$KK_CACHE/apt-newer key=/usr/share/keyrings/debian-archive-keyring.gpg
    [[ $KK_DEB_ARCH == amd64 ]] || a+=-$KK_DEB_ARCH
    mkdir -p "$a/lists/partial" "$a/cache/archives/partial"
    printf '%s\n' "deb [signed-by=$key] http://deb.debian.org/debian trixie main" \
        "deb [signed-by=$key check-valid-until=no] http://deb.debian.org/debian sid main" >"$a/sources.list"
    KK_APT_OPTS=(-o "Dir::Etc::sourcelist=$a/sources.list" -o Dir::Etc::sourceparts=-
        -o "Dir::State::Lists=$a/lists" -o "Dir::Cache=$a/cache" -o Dir::State::status=/dev/null
        -o "APT::Architecture=$KK_DEB_ARCH" -o "APT::Architectures::=$KK_DEB_ARCH")
    # Offline (meson's tests): no update; kk_apt_download then names what the cache lacks.
    if [[ ${KK_OFFLINE:-0} != 1 && -z $(find "$a/lists" -maxdepth 1 -name '*_Packages*' -mtime -1 2>/dev/null) ]]; then
        (flock 9; apt-get "${KK_APT_OPTS[@]}" update -qq >&2) 9>"$a/.lock" ||
            kk_die "apt-get update of trixie/sid (in $a) failed"
    fi
}

# kk_kver_is_newer KVER: true when KVER is not Debian 12's (served by trixie or sid): a pin of the
# matrix, or a release the host's apt does not know.
kk_kver_is_newer() {
    local k
    for k in "${KK_MATRIX_KVERS[@]}" "${KK_MATRIX_KVERS_ARM64[@]}"; do [[ $1 == "$k" ]] && return 0; done
    [[ $1 == *+deb1[3-9]-* ]] && return 0
    ! apt-cache show "linux-image-$1$KK_IMG_PKG_SUFFIX" >/dev/null 2>&1
}

# kk_apt_download DIR PKG...: apt-get download into DIR; one apt-get update and a retry if the
# first try fails (stale lists point at files the mirror no longer has). If it still fails, the
# error names the packages apt does not know (a pinned kernel Debian no longer serves: see
# pins.sh).
kk_apt_download() {
    local dir=$1 p missing=()
    shift
    # meson's integration tests run with KK_OFFLINE=1: what they need is fetched by scripts/test.sh.
    [[ ${KK_OFFLINE:-0} != 1 ]] ||
        kk_die "$* missing from the cache $KK_CACHE; KK_OFFLINE=1 (scripts/test.sh fetches it first)"
    mkdir -p "$dir"
    if ! (cd "$dir" && apt-get "${KK_APT_OPTS[@]}" download -q "$@" >&2); then
        kk_log "apt-get download failed; running apt-get update and retrying"
        apt-get "${KK_APT_OPTS[@]}" update -qq >&2 || kk_die "apt-get update failed"
        if ! (cd "$dir" && apt-get "${KK_APT_OPTS[@]}" download -q "$@" >&2); then
            for p in "$@"; do apt-cache "${KK_APT_OPTS[@]}" show "$p" >/dev/null 2>&1 || missing+=("$p"); done
            ((${#missing[@]})) || kk_die "apt-get download $* failed (the mirror? see above)"
            kk_die "cannot fetch ${missing[*]}: apt knows no such package (a kernel release" \
                "pinned in $KK_LIB_DIR/pins.sh that Debian no longer serves? pin a served one)"
        fi
    fi
}

# kk_kernel_companions DEB KVER: the packages a linux-image-KVER .deb depends on that hold the
# kernel itself (unstable splits it: linux-binary-KVER has vmlinuz, linux-modules-KVER the
# modules, linux-base-KVER System.map and config; Debian 12's and 13's image holds them all).
kk_kernel_companions() {
    dpkg-deb -f "$1" Depends | tr ',|' '\n\n' | awk -v k="$2" '{ sub(/^ +/, ""); sub(/ .*/, "") }
        $0 == "linux-binary-" k || $0 == "linux-modules-" k || $0 == "linux-base-" k { print }'
}

# kk_fetch_debs KDIR PKG...: each PKG's .deb in KDIR/debs (from beside $KDUMPKIT_KERNEL_DEB when
# there, else from apt). Downloads go to a scratch directory so a half-written .deb never looks
# complete.
kk_fetch_debs() {
    local kdir=$1 p deb need=()
    shift
    for p in "$@"; do
        compgen -G "$kdir/debs/${p}_*.deb" >/dev/null && continue
        if [[ -n ${KDUMPKIT_KERNEL_DEB:-} ]]; then
            for deb in "$(dirname "$KDUMPKIT_KERNEL_DEB")/${p}"_*.deb; do
                [[ -f $deb ]] && { cp "$deb" "$kdir/debs/" || kk_die "copying $deb failed"; }
            done
            compgen -G "$kdir/debs/${p}_*.deb" >/dev/null && continue
        fi
        need+=("$p:$KK_DEB_ARCH")
    done
    ((${#need[@]})) || return 0
    rm -rf "$kdir/debs.tmp"
    kk_apt_download "$kdir/debs.tmp" "${need[@]}"
    mv "$kdir"/debs.tmp/*.deb "$kdir/debs/" || kk_die "moving downloaded packages failed"
    rm -rf "$kdir/debs.tmp"
}

# kk_kernel_paths ROOT KVER: sets kk_vmlinuz, kk_vmlinux, kk_modroot for an unpacked kernel:
# vmlinuz in /boot (Debian 12, 13) or /usr/lib/modules/KVER (unstable); the debug vmlinux at
# /usr/lib/debug/lib/modules/KVER/vmlinux where unstable's -dbg has it (its /usr/lib/debug/boot
# name is a symlink to it), else at /usr/lib/debug/boot/vmlinux-KVER.
kk_kernel_paths() {
    local root=$1 kver=$2
    kk_vmlinuz=$root/boot/vmlinuz-$kver
    [[ -f $kk_vmlinuz ]] || kk_vmlinuz=$root/usr/lib/modules/$kver/vmlinuz
    kk_vmlinux=$root/usr/lib/debug/lib/modules/$kver/vmlinux
    [[ -f $kk_vmlinux && ! -L $kk_vmlinux ]] || kk_vmlinux=$root/usr/lib/debug/boot/vmlinux-$kver
    kk_modroot=$root/lib/modules/$kver
}

# kk_fetch_kernel_locked KVER KDIR: the work of kk_fetch_kernel, under its lock.
kk_fetch_kernel_locked() {
    local kver=$1 kdir=$2 root=$2/root stamp=$2/.done t0 deb
    t0=$(kk_now)
    kk_log "fetching kernel $kver into $kdir"
    rm -rf "$root"
    mkdir -p "$kdir/debs" "$root"
    local img=linux-image-$kver$KK_IMG_PKG_SUFFIX dbg=linux-image-$kver-dbg
    # arm64: the -unsigned image where Debian has one (6.1, 6.12); unstable's split kernels and
    # the -16k flavour have no signed twin, only linux-image-KVER.
    if [[ -n $KK_IMG_PKG_SUFFIX ]] && kk_kver_is_newer "$kver"; then
        kk_newer_apt
        apt-cache "${KK_APT_OPTS[@]}" show "$img" >/dev/null 2>&1 || img=linux-image-$kver
    fi
    # A kernel given as a .deb (--kernel PATH): that package; the others from beside it or apt.
    if [[ -n ${KDUMPKIT_KERNEL_DEB:-} ]]; then
        cp "$KDUMPKIT_KERNEL_DEB" "$kdir/debs/" || kk_die "copying $KDUMPKIT_KERNEL_DEB failed"
        [[ $(dpkg-deb -f "$KDUMPKIT_KERNEL_DEB" Package) == linux-binary-* ]] && img=linux-binary-$kver
    fi
    kk_kver_is_newer "$kver" && kk_newer_apt
    kk_fetch_debs "$kdir" "$img" "$dbg"
    local parts=("$img")
    if [[ $img == linux-image-* ]]; then
        mapfile -t -O 1 parts < <(kk_kernel_companions "$kdir/debs/${img}"_*.deb "$kver")
        kk_fetch_debs "$kdir" "${parts[@]:1}"
    fi
    kk_log "download done in $(kk_elapsed "$t0") s; unpacking ${parts[*]}"
    # (This runs where errexit is off, hence the explicit checks.)
    local p
    for p in "${parts[@]}"; do
        for deb in "$kdir"/debs/"${p}"_*.deb; do dpkg -x "$deb" "$root" || kk_die "dpkg -x $deb"; done
    done
    # Debian 13 and unstable ship the modules under /usr/lib/modules; depmod (kmod 30) and the
    # initramfs builder read ROOT/lib/modules.
    if [[ -d $root/usr/lib/modules/$kver && ! -e $root/lib/modules ]]; then
        mkdir -p "$root/lib" && ln -s ../usr/lib/modules "$root/lib/modules"
    fi
    # Only the debug vmlinux, under both of its names (unstable's /usr/lib/debug/boot one is a
    # symlink to the lib/modules one); tar reports the name a package lacks, checked below.
    for deb in "$kdir"/debs/"${dbg}"_*.deb; do
        dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$root" --wildcards \
            "./usr/lib/debug/boot/vmlinux-$kver" "./usr/lib/debug/lib/modules/$kver/vmlinux" 2>/dev/null
    done
    depmod -b "$root" "$kver" || kk_die "depmod failed"
    kk_kernel_paths "$root" "$kver"
    [[ -s $kk_vmlinuz ]] || kk_die "unpacked kernel $kver has no vmlinuz (${parts[*]})"
    [[ -f $kk_vmlinux && ! -L $kk_vmlinux ]] || kk_die "$dbg holds no vmlinux-$kver"
    : >"$stamp"
    # The packages are not needed any more (~1-2 GB); KDUMPKIT_KEEP_DEBS=1 keeps them.
    [[ ${KDUMPKIT_KEEP_DEBS:-0} == 1 ]] || rm -rf "$kdir/debs"
    kk_log "kernel $kver ready in $(kk_elapsed "$t0") s"
}

# kk_fetch_kernel: the guest kernel, unpacked (not installed) under $KK_CACHE/kernel/KVER/root.
# Only the debug vmlinux is taken out of the -dbg package (its debug modules are ~4 GB unpacked
# and no fixture needs them). A stamp written last makes an interrupted run start over.
kk_fetch_kernel() {
    local kver kdir root stamp kk_vmlinuz kk_vmlinux kk_modroot
    kk_arch_setup
    kver=$(kk_pick_kver) || exit 1
    kdir=$KK_CACHE/kernel/$kver
    # A given .deb gets its own cache entry, keyed by its contents (it may reuse Debian's name).
    if [[ -n ${KDUMPKIT_KERNEL_DEB:-} ]]; then
        kdir=$KK_CACHE/kernel/$kver-deb-$(sha256sum "$KDUMPKIT_KERNEL_DEB" | cut -c1-16)
    fi
    root=$kdir/root
    stamp=$kdir/.done
    if [[ ! -e $stamp ]]; then
        mkdir -p "$kdir"
        # One fetch at a time per kernel (parallel CI jobs share the cache); the loser of the
        # race finds the stamp once it gets the lock.
        (
            flock 9
            [[ -e $stamp ]] && exit 0
            kk_fetch_kernel_locked "$kver" "$kdir"
        ) 9>"$kdir/.lock" || exit 1
    fi
    kk_kernel_paths "$root" "$kver"
    export KK_KVER=$kver
    export KK_KROOT=$root
    export KK_VMLINUZ=$kk_vmlinuz
    export KK_VMLINUX=$kk_vmlinux
    export KK_MODROOT=$kk_modroot
}

# kk_build_guest_tools: static guest helpers, cached by source hash. Exports KK_MEMFILL.
kk_build_guest_tools() {
    local src=$KK_LIB_DIR/guest/memfill.c hash out
    hash=$(sha256sum "$src" | cut -c1-16)
    out=$KK_CACHE/bin/memfill-$hash
    [[ $KK_ARCH == x86_64 ]] || out+=-$KK_ARCH
    if [[ ! -x $out ]]; then
        mkdir -p "$KK_CACHE/bin"
        "$KK_CC" -static -O2 -Wall -Wextra -o "$out.tmp" "$src" || kk_die "building memfill failed"
        "$KK_STRIP" "$out.tmp"
        mv "$out.tmp" "$out"
    fi
    export KK_MEMFILL=$out
}

# kk_build_pagecache_image: an ext2 image holding the kernel's module tree (~400 MB of real
# ELF files), the guest's source of page cache: files read through a file system are clean,
# non-private page cache; the same disk read raw is block-device cache (the mount keeps it).
# Cached per kernel; exports KK_PAGECACHE_IMG.
kk_build_pagecache_image() {
    [[ -n ${KK_MODROOT:-} ]] || kk_fetch_kernel
    local img=$KK_CACHE/kernel/$KK_KVER/pagecache-v1.ext2 mib
    if [[ ! -s $img ]]; then
        mib=$(du -sm "$KK_MODROOT/kernel" | cut -f1)
        rm -f "$img.tmp"
        # ext2: the ext4 driver mounts it with only crc16/mbcache/jbd2 loaded, no journal.
        E2FSPROGS_FAKE_TIME=1700000000 mke2fs -q -F -t ext2 -b 4096 -m 0 -L kkpagecache \
            -E root_owner=0:0 -d "$KK_MODROOT/kernel" "$img.tmp" "$((mib + mib / 8 + 16))M" >&2 ||
            kk_die "mke2fs failed"
        mv "$img.tmp" "$img"
    fi
    export KK_PAGECACHE_IMG=$img
}

# Virtio modules in load order (each depends only on earlier ones), then the optional ones
# (qemu_fw_cfg: for QEMU's -device vmcoreinfo).
KK_GUEST_MODULES=(virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci
    virtio_blk)
KK_GUEST_MODULES_OPT=(qemu_fw_cfg)
# arm64 virt: the same disks over virtio-mmio or PCI; a module built in is simply not added.
if [[ $KK_ARCH == arm64 ]]; then
    KK_GUEST_MODULES=()
    KK_GUEST_MODULES_OPT=(virtio_ring virtio virtio_mmio virtio_pci_modern_dev
        virtio_pci_legacy_dev virtio_pci virtio_blk qemu_fw_cfg)
fi

# kk_module_path NAME: the modules.dep path of module NAME (dashes and underscores alike).
kk_module_path() {
    awk -F: -v n="${1//-/_}" '{ f = $1; sub(/.*\//, "", f); sub(/\.ko(\.[a-z]+)?$/, "", f);
        gsub(/-/, "_", f); if (f == n) { print $1; exit } }' "$KK_MODROOT/modules.dep"
}

# kk_module_builtin NAME: true if module NAME is built into the kernel (modules.builtin); Debian
# 13's and unstable's x86_64 kernels build virtio_pci in.
kk_module_builtin() {
    awk -v n="${1//-/_}" '{ f = $1; sub(/.*\//, "", f); sub(/\.ko$/, "", f); gsub(/-/, "_", f)
        if (f == n) { found = 1; exit } } END { exit !found }' "$KK_MODROOT/modules.builtin" 2>/dev/null
}

# kk_add_module STAGE NAME: copy module NAME, after the modules it depends on, decompressed to
# STAGE/lib/modules/NAME.ko, appending names to STAGE/lib/modules/load.order in load order.
# Returns 1 if the kernel has no such module.
kk_add_module() {
    local stage=$1 name=${2//-/_} rel path deps dep
    grep -qx "$name" "$stage/lib/modules/load.order" && return 0
    rel=$(kk_module_path "$name")
    [[ -n $rel ]] || return 1
    deps=$(awk -F': *' -v p="$rel" '$1 == p { print $2; exit }' "$KK_MODROOT/modules.dep")
    for dep in $deps; do
        dep=${dep##*/}
        kk_add_module "$stage" "${dep%%.ko*}" || kk_die "missing dependency $dep of $name"
    done
    path=$KK_MODROOT/$rel
    case $path in  # busybox insmod cannot read compressed modules: decompress here
        *.ko.xz) xz -dc "$path" >"$stage/lib/modules/$name.ko" ;;
        *.ko.zst) zstd -qdc "$path" >"$stage/lib/modules/$name.ko" ;;
        *.ko.gz) gzip -dc "$path" >"$stage/lib/modules/$name.ko" ;;
        *.ko) cp "$path" "$stage/lib/modules/$name.ko" ;;
        *) kk_die "unknown module file $path" ;;
    esac
    printf '%s\n' "$name" >>"$stage/lib/modules/load.order"
}

# kk_copy_binary STAGE BIN: BIN at the same path in STAGE, plus the shared libraries it needs.
kk_copy_binary() {
    local stage=$1 bin=$2 item lib
    mkdir -p "$stage$(dirname "$bin")"
    cp -L "$bin" "$stage$bin"
    while read -r item; do
        lib=${item#*=}
        [[ -e $stage$lib ]] && continue
        mkdir -p "$stage$(dirname "$lib")"
        cp -L "${item%%=*}" "$stage$lib"
    done < <(kk_shared_libs "$bin")
}

# kk_shared_libs BIN: the shared libraries BIN needs, one SRC=DEST a line (SRC on this host, DEST
# its path in the guest). x86_64: what ldd lists, at their own paths; arm64: DT_NEEDED resolved
# by hand (ldd cannot run a foreign binary), recursively, plus the dynamic loader: first in the
# library packages unpacked with the arm64 tools (kk_arch_setup), then in the host's multiarch
# directories.
kk_shared_libs() {
    if [[ $KK_ARCH == x86_64 ]]; then
        ldd "$1" 2>/dev/null | awk '/=> \// { print $3 "=" $3 } /^\t\// { print $1 "=" $1 }'
        return 0
    fi
    local -A seen=()
    local todo=("$1") f name dir src interp tools=$KK_CACHE/arm64/tools
    local dirs=(/lib/aarch64-linux-gnu /usr/lib/aarch64-linux-gnu /lib)
    # The loader at the path the binary names (PT_INTERP), not where DT_NEEDED would find it.
    interp=$(aarch64-linux-gnu-readelf -l "$1" 2>/dev/null |
        sed -n 's/.*Requesting program interpreter: \(.*\)\]/\1/p')
    if [[ -n $interp ]]; then
        src=$interp
        [[ -e $tools$interp ]] && src=$tools$interp
        [[ -e $src ]] || kk_die "$1 needs the loader $interp: install libc6:arm64"
        printf '%s=%s\n' "$src" "$interp"
        seen[${interp##*/}]=$interp
    fi
    while ((${#todo[@]})); do
        f=${todo[0]}
        todo=("${todo[@]:1}")
        for name in $(aarch64-linux-gnu-readelf -d "$f" 2>/dev/null |
            sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
            [[ -n ${seen[$name]:-} ]] && continue
            for dir in "${dirs[@]/#/$tools}" "${dirs[@]}"; do
                if [[ -e $dir/$name ]]; then
                    seen[$name]=$dir/$name
                    printf '%s=%s\n' "$dir/$name" "${dir#"$tools"}/$name"
                    todo+=("$dir/$name")
                    break
                fi
            done
            [[ -n ${seen[$name]:-} ]] ||
                kk_die "$1 needs $name, found neither under $tools nor on the host: install its :arm64 package"
        done
    done
}

# kk_build_initramfs OUT INIT [ITEM...]: a gzip'd newc cpio with busybox as /bin/*, INIT as
# /init, the virtio modules (decompressed; /init loads them in the order of
# /lib/modules/load.order), and each ITEM:
#   /path/to/bin   host binary at the same path, with the shared libraries ldd lists
#   SRC=DEST       file SRC copied to DEST (no library scan)
#   mod:NAME       kernel module NAME and the modules it depends on
#   mod?:NAME      the same, if the kernel has it as a module (absent or built in: skipped)
# Cached by a hash of the inputs: a second call with the same inputs only copies the cached
# image to OUT.
kk_build_initramfs() {
    local out=$1 init=$2
    shift 2
    [[ -n ${KK_MODROOT:-} ]] || kk_fetch_kernel
    local busybox=$KK_BUSYBOX
    [[ -x $busybox ]] || kk_die "$busybox missing (install busybox-static)"
    local key hash cached
    key=$({
        printf 'v1 %s\n' "$KK_KVER"
        sha256sum "$init" "$busybox" "${BASH_SOURCE[0]}" | cut -d' ' -f1
        local a
        for a in "$@"; do  # destination name and content, not the (maybe temporary) source
            case $a in
                mod:* | mod\?:*) printf '%s\n' "$a" ;;
                *) printf '%s %s\n' "${a#*=}" "$(sha256sum <"${a%%=*}" | cut -d' ' -f1)" ;;
            esac
        done
    } | sha256sum | cut -c1-16)
    cached=$KK_CACHE/initramfs/initramfs-$key.cpio.gz
    if [[ ! -s $cached ]]; then
        local stage
        mkdir -p "$KK_CACHE/initramfs"
        stage=$(mktemp -d "$KK_CACHE/initramfs/stage.XXXXXX")
        mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,mnt,lib/modules,etc}
        cp "$busybox" "$stage/bin/busybox"
        # Applet links: busybox --list names every applet it was built with.
        local applet
        for applet in $("${KK_RUN[@]}" "$busybox" --list); do
            [[ -e $stage/bin/$applet ]] || ln -s busybox "$stage/bin/$applet"
        done
        cp "$init" "$stage/init"
        chmod 755 "$stage/init"
        : >"$stage/lib/modules/load.order"
        local m
        for m in "${KK_GUEST_MODULES[@]}"; do
            kk_add_module "$stage" "$m" || kk_module_builtin "$m" ||
                kk_die "kernel $KK_KVER has no module $m (neither loadable nor built in)"
        done
        for m in "${KK_GUEST_MODULES_OPT[@]}"; do kk_add_module "$stage" "$m" || true; done
        local a
        for a in "$@"; do
            if [[ $a == mod\?:* ]]; then  # optional: absent or built in on some kernels
                kk_add_module "$stage" "${a#mod?:}" || true
            elif [[ $a == mod:* ]]; then
                kk_add_module "$stage" "${a#mod:}" || kk_die "kernel $KK_KVER has no module ${a#mod:}"
            elif [[ $a == *=* ]]; then
                mkdir -p "$stage$(dirname "${a#*=}")"
                cp -L "${a%%=*}" "$stage${a#*=}"
            else
                kk_copy_binary "$stage" "$a"
            fi
        done
        # Fixed mtimes, owners and file order make the archive depend only on its contents.
        find "$stage" -mindepth 1 -exec touch -h -d @0 {} +
        (cd "$stage" && find . -mindepth 1 -print0 | LC_ALL=C sort -z |
            cpio --null --create --format=newc --owner=0:0 --reproducible --quiet) |
            gzip -n -6 >"$cached.tmp"
        mv "$cached.tmp" "$cached"
        rm -rf "$stage"
    fi
    export KK_LAST_INITRAMFS=$cached
    if [[ $out != "$cached" ]]; then
        cp "$cached" "$out.tmp.$$"
        mv "$out.tmp.$$" "$out"
    fi
}

# kk_serial_logger LOG STAMPS [REGEX]: copy lines from stdin to LOG (without the serial console's
# trailing \r); lines containing "KK_" (or matching the bash regex REGEX, when given) also go to
# STAMPS prefixed with the host time, which is how phases inside the guest are timed on the
# host's clock.
kk_serial_logger() {
    local log=$1 stamps=$2 extra=${3:-KK_} line
    : >"$log"
    while IFS= read -r line || [[ -n $line ]]; do
        line=${line%$'\r'}
        printf '%s\n' "$line" >>"$log"
        if [[ -n $stamps && ($line == *KK_* || $line =~ $extra) ]]; then
            printf '%s %s\n' "$EPOCHREALTIME" "$line" >>"$stamps"
        fi
    done
}

# kk_qemu_boot -k KERNEL -l LOG [-i INITRD] [-a APPEND] [-m MEM] [-c CPUS] [-t TIMEOUT]
#              [-d RAWDISK]... [-r RODISK]... [-s STAMPS [-S REGEX]] [-- EXTRA QEMU ARGS]
# Boots qemu-system-x86_64 under TCG, serial console into LOG (see kk_serial_logger for
# STAMPS; -S: lines matching the bash regex REGEX are stamped too). -d disks are raw and
# writable, -r disks raw and read-only; virtio in that order
# (vda, vdb, ...). Returns QEMU's exit status, or 124 when the hard timeout (default 300 s)
# killed it.
kk_qemu_boot() {
    local kernel='' initrd='' append='' log='' stamps='' extra='' mem=512M cpus=1 timeout=300 opt
    local disks=()
    OPTIND=1
    while getopts 'k:i:a:l:m:c:t:d:r:s:S:' opt; do
        case $opt in
            k) kernel=$OPTARG ;;
            i) initrd=$OPTARG ;;
            a) append=$OPTARG ;;
            l) log=$OPTARG ;;
            s) stamps=$OPTARG ;;
            S) extra=$OPTARG ;;
            m) mem=$OPTARG ;;
            c) cpus=$OPTARG ;;
            t) timeout=$OPTARG ;;
            d) disks+=("file=$OPTARG,format=raw,if=virtio,cache=unsafe,discard=unmap,detect-zeroes=unmap") ;;
            r) disks+=("file=$OPTARG,format=raw,if=virtio,readonly=on") ;;
            *) kk_die "kk_qemu_boot: bad option" ;;
        esac
    done
    shift $((OPTIND - 1))
    [[ -n $kernel && -n $log ]] || kk_die "kk_qemu_boot needs -k KERNEL and -l LOG"
    # shellcheck disable=SC2054  # the commas belong to QEMU option values
    local args=("${KK_QEMU[@]:1}" -m "$mem" -smp "$cpus"
        -nographic -nodefaults -no-reboot -serial stdio -monitor none
        -kernel "$kernel" -append "$append")
    [[ -n $initrd ]] && args+=(-initrd "$initrd")
    local d
    for d in "${disks[@]}"; do args+=(-drive "$d"); done
    local rcs
    timeout --kill-after=10 "$timeout" "${KK_QEMU[0]}" "${args[@]}" "$@" </dev/null 2>&1 |
        kk_serial_logger "$log" "$stamps" "$extra"
    rcs=("${PIPESTATUS[@]}")
    return "${rcs[0]}"
}

# kk_binary_items BIN DEST: initramfs ITEMs (for kk_build_initramfs, one per line on stdout)
# that put a stripped copy of host binary BIN at DEST in the guest, plus the shared libraries it
# needs (kk_shared_libs). For big unstripped build outputs (our kexec, dumpfilter):
# debug info only costs initramfs unpacking time and crashkernel memory in the guest. The
# stripped copy is cached by the binary's hash.
kk_binary_items() {
    local bin=$1 dest=$2 hash out
    [[ -x $bin ]] || kk_die "kk_binary_items: $bin is not an executable"
    hash=$(sha256sum <"$bin" | cut -c1-16)
    out=$KK_CACHE/bin/$(basename "$bin")-stripped-$hash
    if [[ ! -x $out ]]; then
        mkdir -p "$KK_CACHE/bin"
        "$KK_STRIP" -o "$out.tmp.$$" "$bin" || kk_die "strip $bin failed"
        mv "$out.tmp.$$" "$out"
    fi
    printf '%s=%s\n' "$out" "$dest"
    kk_shared_libs "$bin"
}
