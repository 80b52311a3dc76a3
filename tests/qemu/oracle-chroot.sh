#!/bin/bash
# oracle-chroot.sh: Debian unstable's makedumpfile, crash and drgn, the reference tools of the
# right age for the newer kernels of the matrix (Debian 12's predate 6.12 and 7.x), in a chroot
# made by mmdebstrap and cached under $KK_CACHE/oracle/sid (pinned in pins.sh: KK_PIN_ORACLE_*).
#
#   tests/qemu/oracle-chroot.sh make       # make it if missing (~5 min, needs root + network)
#   tests/qemu/oracle-chroot.sh path       # print the chroot's root (fails if not made)
#   tests/qemu/oracle-chroot.sh run CMD... # run CMD inside it; the cache root and /tmp are
#                                          # bind-mounted at the same paths, so file arguments
#                                          # under them work unchanged
# sid's Release file on the archive we reach is past its Valid-Until date: the check is turned
# off for that one source (check-valid-until=no), inside the chroot only; the host's apt is not
# touched. A stamp written last makes an interrupted make start over.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

root=$KK_CACHE/oracle/sid/root
stamp=$KK_CACHE/oracle/sid/.done-$KK_PIN_ORACLE_KEY

make_chroot() {
    [[ -e $stamp ]] && return 0
    command -v mmdebstrap >/dev/null || kk_die "mmdebstrap missing (apt-get install mmdebstrap)"
    mkdir -p "$KK_CACHE/oracle/sid"
    (
        flock 9
        [[ -e $stamp ]] && exit 0
        local t0 pkgs=()
        t0=$(kk_now)
        rm -rf "$root" "$KK_CACHE"/oracle/sid/.done-*
        # Pinned versions: a newer unstable changes the oracle only when pins.sh says so.
        pkgs=("makedumpfile=$KK_PIN_ORACLE_MAKEDUMPFILE" "crash=$KK_PIN_ORACLE_CRASH"
            "python3-drgn=$KK_PIN_ORACLE_DRGN")
        kk_log "oracle chroot: mmdebstrap sid ${pkgs[*]} into $root"
        mmdebstrap --variant=apt --include="$(IFS=,; echo "${pkgs[*]}")" sid "$root" \
            'deb [check-valid-until=no] http://deb.debian.org/debian sid main' >&2 ||
            kk_die "mmdebstrap failed (pinned oracle versions in pins.sh no longer served?)"
        for t in makedumpfile crash; do
            [[ -x $root/usr/bin/$t || -x $root/usr/sbin/$t ]] || kk_die "oracle chroot lacks $t"
        done
        : >"$stamp"
        kk_log "oracle chroot ready in $(kk_elapsed "$t0") s"
    ) 9>"$KK_CACHE/oracle/sid/.lock" || exit 1
}

# run_in CMD...: CMD in the chroot with /proc, /dev, /tmp and the cache bound at their paths.
# A private mount namespace: the binds vanish with the command, whatever happens.
run_in() {
    [[ -e $stamp ]] || kk_die "the oracle chroot is missing: run $0 make (scripts/test.sh does)"
    unshare -m --propagation private bash -c '
        r=$1; c=$2; shift 2
        mount -t proc proc "$r/proc" && mount --rbind /dev "$r/dev" && mount --bind /tmp "$r/tmp" || exit 125
        mkdir -p "$r$c" && mount --bind "$c" "$r$c" || exit 125
        exec chroot "$r" "$@"' run_in "$root" "$KK_CACHE" "$@"
}

case ${1:-} in
    make) make_chroot; printf '%s\n' "$root" ;;
    path) [[ -e $stamp ]] || kk_die "the oracle chroot is missing: run $0 make"; printf '%s\n' "$root" ;;
    run) shift; run_in "$@" ;;
    *) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
esac
