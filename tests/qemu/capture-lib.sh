# shellcheck shell=bash
# capture-lib.sh: builds REAL capture initramfs images for the guest kernel with kdumpctl
# rebuild and our hooks (initramfs-hooks/), through initramfs-tools' mkinitramfs or dracut.
# Source after lib.sh (it needs kk_fetch_kernel and kk_binary_items). Nothing on the host is
# installed into: the guest kernel's module tree and /boot are bind-mounted over the host's
# in a private mount namespace for mkinitramfs (which only looks in /lib/modules/KVER and
# /boot/config-KVER); dracut is unpacked from Debian's packages into the cache (on Debian it
# conflicts with initramfs-tools) and pointed at the module tree with --kmoddir.
#
#   kk_capture_initramfs BUILDER CONF OUT   BUILDER: mkinitramfs | dracut; CONF: kdump.conf
#                                           exports KK_CAPTURE_SECONDS (build time)
#   kk_fetch_dracut                         exports KK_DRACUT_ROOT
# Needs KDUMPCTL and DUMPFILTER (build outputs); they go into the image stripped.
# With KK_OFFLINE=1 (meson's integration tests) nothing is downloaded and the host is not
# changed: a package missing from the cache, or a missing /usr/lib/modules mount point, is an
# error naming scripts/test.sh, which fetches and creates them before meson runs.

# kk_unpack_debs NAME PKG...: Debian packages downloaded and unpacked (not installed) into
# $KK_CACHE/NAME/root once, under a lock; prints nothing, dies on failure.
kk_unpack_debs() {
    local name=$1 dir=$KK_CACHE/$1
    shift
    [[ -e $dir/.done ]] && return 0
    [[ ${KK_OFFLINE:-0} != 1 ]] ||
        kk_die "$* not cached in $dir (scripts/test.sh fetches them before meson runs)"
    (
        flock 9
        [[ -e $dir/.done ]] && exit 0
        rm -rf "$dir/root" "$dir/debs"
        kk_apt_download "$dir/debs" "$@"
        mkdir -p "$dir/root"
        local deb
        for deb in "$dir"/debs/*.deb; do dpkg -x "$deb" "$dir/root" || kk_die "dpkg -x $deb"; done
        rm -rf "$dir/debs"
        : >"$dir/.done"
    ) 9>"$KK_CACHE/.$name.lock" || exit 1
}

kk_fetch_dracut() {
    kk_unpack_debs dracut dracut-core dracut
    export KK_DRACUT_ROOT=$KK_CACHE/dracut/root
}

kk_capture_initramfs() {
    local builder=$1 conf=$2 out=$3 work kdumpctl_s dumpfilter_s t0 rc=0
    [[ -n ${KK_MODROOT:-} ]] || kk_fetch_kernel
    local items
    mapfile -t items < <(kk_binary_items "$KDUMPCTL" /usr/sbin/kdumpctl)
    kdumpctl_s=${items[0]:?kk_binary_items $KDUMPCTL failed}
    mapfile -t items < <(kk_binary_items "$DUMPFILTER" /usr/sbin/dumpfilter)
    dumpfilter_s=${items[0]:?kk_binary_items $DUMPFILTER failed}
    work=$(mktemp -d "${TMPDIR:-/tmp}/kk-capture.XXXXXX")
    local env=(KDUMPKIT_DATADIR="$KK_LIB_DIR/../../initramfs-hooks" KDUMPKIT_KDUMPCTL="${kdumpctl_s%%=*}"
        KDUMPKIT_DUMPFILTER="${dumpfilter_s%%=*}" KDUMP_KERNELVER="$KK_KVER" KDUMPKIT_BUILDER="$builder")
    local ctl=("${kdumpctl_s%%=*}" --conf "$conf" --kernel "$KK_VMLINUZ" --initrd "$out" rebuild)
    t0=$(kk_now)
    if [[ $builder == mkinitramfs ]]; then
        command -v mkinitramfs >/dev/null || { rm -rf "$work"; kk_log "no mkinitramfs (initramfs-tools)"; return 2; }
        # Mount points for the bind mounts: an empty /usr/lib/modules is what any kernel
        # package creates; nothing is written into it here.
        if [[ ! -d /usr/lib/modules ]]; then
            [[ ${KK_OFFLINE:-0} != 1 ]] || kk_die "no /usr/lib/modules mount point (scripts/test.sh creates it)"
            mkdir -p /usr/lib/modules
        fi
        unshare -m bash -c 'mount --bind "$1" /usr/lib/modules && mount --bind "$2" /boot && shift 2 && exec "$@"' \
            _ "$KK_KROOT/lib/modules" "$KK_KROOT/boot" env "${env[@]}" "${ctl[@]}" >"$work/log" 2>&1 || rc=$?
    else
        kk_fetch_dracut
        # dracut with its base directory (modules.d plus our 99kdumpkit) and no host config;
        # -m: only base and kdumpkit (the default set would add every module dracut knows,
        # 39 MB and minutes here); dracut's own init, no systemd in the image.
        local base=$work/dracut
        cp -a "$KK_DRACUT_ROOT/usr/lib/dracut" "$base"
        ln -s "$KK_LIB_DIR/../../initramfs-hooks/dracut/99kdumpkit" "$base/modules.d/99kdumpkit"
        mkdir -p "$work/bin" "$work/conf.d"
        cat >"$work/bin/dracut" <<WRAP
#!/bin/sh
exec env dracutbasedir='$base' '$KK_DRACUT_ROOT/usr/bin/dracut' --conf /dev/null --confdir '$work/conf.d' \\
    --kmoddir '$KK_MODROOT' "\$@" --no-hostonly -m 'base kdumpkit' --no-early-microcode --compress gzip
WRAP
        chmod +x "$work/bin/dracut"
        env PATH="$work/bin:$PATH" "${env[@]}" "${ctl[@]}" >"$work/log" 2>&1 || rc=$?
    fi
    KK_CAPTURE_SECONDS=$(kk_elapsed "$t0")
    export KK_CAPTURE_SECONDS
    if ((rc != 0)); then
        sed 's/^/   | /' "$work/log" >&2
        rm -rf "$work"
        return 1
    fi
    rm -rf "$work"
}

# kk_fetch_sshd: Debian's sshd (openssh-server and libwrap0) unpacked into the cache, not
# installed (installing it would start a system sshd). Exports KK_SSHD_ROOT.
kk_fetch_sshd() {
    kk_unpack_debs sshd openssh-server libwrap0
    export KK_SSHD_ROOT=$KK_CACHE/sshd/root
}

# kk_start_sshd DIR PORT: an sshd for root on 127.0.0.1:PORT only, accepting only the key
# DIR/client (created here, with DIR/hostkey); logs to DIR/sshd.log, pid in DIR/sshd.pid.
# sshd insists on its privilege-separation user and /run/sshd: it runs in a private mount
# namespace where a copy of /etc/passwd with an sshd line and a fresh /run are mounted, so
# the host's files stay as they are.
kk_start_sshd() {
    local dir=$1 port=$2 i
    kk_fetch_sshd
    ssh-keygen -q -t ed25519 -N '' -f "$dir/hostkey" || return 1
    ssh-keygen -q -t ed25519 -N '' -C kdumpkit-test -f "$dir/client" || return 1
    cp "$dir/client.pub" "$dir/authorized_keys"
    { cat /etc/passwd; echo 'sshd:x:65534:65534:sshd privsep:/run/sshd:/usr/sbin/nologin'; } >"$dir/passwd"
    cat >"$dir/sshd_config" <<CONF
Port $port
ListenAddress 127.0.0.1
HostKey $dir/hostkey
AuthorizedKeysFile $dir/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
PidFile $dir/sshd.pid
CONF
    unshare -m --propagation private sh -c 'mount --bind "$1/passwd" /etc/passwd && mount -t tmpfs -o mode=755 tmpfs /run &&
        mkdir -m 755 /run/sshd && LD_LIBRARY_PATH="$2/usr/lib/x86_64-linux-gnu" exec "$2/usr/sbin/sshd" -D -e -f "$1/sshd_config"' \
        _ "$dir" "$KK_SSHD_ROOT" >"$dir/sshd.log" 2>&1 &
    for i in $(seq 50); do
        [[ -s $dir/sshd.pid ]] && return 0
        sleep 0.1
    done
    kk_log "sshd did not start: $(cat "$dir/sshd.log")"
    return 1
}
