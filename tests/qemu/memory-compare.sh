#!/bin/bash
# memory-compare.sh: peak RSS of our tools against the reference ones in the same QEMU guest and
# kernel (issue 20, "memory where it is scarce"), measured in the guest by guest/rusage.c
# (getrusage: KiB, the real figure; busybox `time -v` shows 4x):
#   first kernel:   kexec -c -p of the guest's own bzImage with the capture image and with a big
#                   initrd (Debian 12's real initrd for the kernel when cached, else 30 MiB of
#                   random bytes): ours, Debian's kexec-tools, and --before BIN (an older build
#                   of ours) when given;
#   capture kernel: dumpfilter CODEC -d LEVEL against Debian's makedumpfile CODEC -d LEVEL on
#                   /proc/vmcore, written to an ext4 disk; also dumpfilter --non-mmap (pread,
#                   not mapped; its dump compared with the mapped one: KK_DUMP_CMP) and each
#                   --dumpfilter-also NAME=BIN (another build, e.g. the one before a change).
# One guest, Debian's 6.1 kernel under TCG (guest/init-memory.sh does the work).
#
# usage: memory-compare.sh [--mem 2G] [--crashkernel 128M] [--rounds 2] [--level 31] [--codec -l|-c]
#                          [--big-initrd FILE] [--before KEXEC] [--out DIR] [--timeout S]
#                          [--kexec-rounds N (default: --rounds)] [--dumpfilter-also NAME=BIN]...
#                          [--smaps]
# --smaps: one more dump by dumpfilter and by makedumpfile with /proc/PID/smaps sampled; the
# table then ends with the Rss of each mapping at each one's peak (OUT/smaps).
# BUILD is $KDUMPKIT_BUILD or build/ (kexec/kexec, dumpfilter/dumpfilter; or $KEXEC, $DUMPFILTER).
# Writes OUT/console.log and OUT/table (one line per measurement: what, who, round, KiB, s);
# prints the table. Exit status 0 when both kernels did all their rounds.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

repo=$(cd "$KK_LIB_DIR/../.." && pwd)
build=${KDUMPKIT_BUILD:-$repo/build}
kexec_bin=${KEXEC:-$build/kexec/kexec}
dumpfilter_bin=${DUMPFILTER:-$build/dumpfilter/dumpfilter}
mem=2G crashkernel=128M rounds=2 level=31 codec=-l big='' before='' out='' timeout='' kexec_rounds='' smaps=0
also=()
while (($#)); do
    case $1 in
        --mem) mem=$2; shift 2 ;;
        --crashkernel) crashkernel=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        --level) level=$2; shift 2 ;;
        --codec) codec=$2; shift 2 ;;
        --big-initrd) big=$2; shift 2 ;;
        --before) before=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --timeout) timeout=$2; shift 2 ;;
        --kexec-rounds) kexec_rounds=$2; shift 2 ;;
        --dumpfilter-also) also+=("$2"); shift 2 ;;
        --smaps) smaps=1; shift ;;
        -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) kk_die "unknown argument $1 (see --help)" ;;
    esac
done
[[ $rounds =~ ^[1-9][0-9]*$ ]] || kk_die "--rounds takes a number"
[[ $codec == -l || $codec == -c ]] || kk_die "--codec takes -l or -c (what Debian's makedumpfile has)"
kexec_rounds=${kexec_rounds:-$rounds}
[[ $kexec_rounds =~ ^[0-9]+$ ]] || kk_die "--kexec-rounds takes a number"
[[ -x $kexec_bin && -x $dumpfilter_bin ]] || kk_die "no kexec/dumpfilter at $kexec_bin, $dumpfilter_bin"
[[ -x /usr/sbin/kexec && -x /usr/bin/makedumpfile ]] ||
    kk_die "Debian's kexec-tools and makedumpfile must be installed (/usr/sbin/kexec, /usr/bin/makedumpfile)"
[[ -z $before || -x $before ]] || kk_die "--before $before is not an executable"
case $mem in *G) mem_mib=$((${mem%G} * 1024)) ;; *M) mem_mib=${mem%M} ;; *) mem_mib=$mem ;; esac
timeout=${timeout:-$((400 + rounds * (120 + mem_mib / 20)))}

kk_fetch_kernel
out=${out:-$(mkdir -p "$KK_CACHE/memory-compare" && mktemp -d "$KK_CACHE/memory-compare/run.XXXXXX")}
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mkdir -p "$KK_CACHE/work" && mktemp -d "$KK_CACHE/work/memory-compare.XXXXXX")
trap 'rm -rf "$work"' EXIT

# guest/rusage.c, dynamically linked against the libc both images carry anyway.
rusage=$KK_CACHE/bin/rusage-$(sha256sum "$KK_LIB_DIR/guest/rusage.c" | cut -c1-16)
if [[ ! -x $rusage ]]; then
    mkdir -p "$KK_CACHE/bin"
    "$KK_CC" -O2 -Wall -Wextra -o "$rusage.tmp.$$" "$KK_LIB_DIR/guest/rusage.c" || kk_die "building rusage failed"
    mv "$rusage.tmp.$$" "$rusage"
fi
if [[ -z $big ]]; then
    big=$KK_CACHE/real-system/bookworm-base/boot/initrd.img-$KK_KVER
    if [[ ! -f $big ]]; then
        big=$work/big.img
        head -c $((30 << 20)) /dev/urandom >"$big"  # kexec does not look inside an initrd
    fi
fi

init=$KK_LIB_DIR/guest/init-memory.sh
mkdir -p "$KK_CACHE/initramfs"
items() { kk_binary_items "$1" "$2" || kk_die "kk_binary_items $1"; }
mapfile -t cap_items < <(items "$dumpfilter_bin" /usr/sbin/dumpfilter; items /usr/bin/makedumpfile /usr/sbin/makedumpfile
    items "$rusage" /usr/bin/rusage
    for a in ${also[@]+"${also[@]}"}; do
        [[ $a =~ ^[a-z0-9]+=. && -x ${a#*=} ]] || kk_die "--dumpfilter-also $a: NAME=BIN, BIN executable"
        items "${a#*=}" "/usr/sbin/dumpfilter-${a%%=*}"
    done)
kk_build_initramfs "$KK_CACHE/initramfs/memory-capture.cpio.gz" "$init" "${cap_items[@]}" \
    mod:ext4 'mod?:crc32c_generic'
capture_img=$KK_LAST_INITRAMFS
mapfile -t first_items < <(items "$kexec_bin" /usr/sbin/kexec; items /usr/sbin/kexec /usr/sbin/kexec-tools
    items "$rusage" /usr/bin/rusage; [[ -z $before ]] || items "$before" /usr/sbin/kexec-before)
kk_build_initramfs "$KK_CACHE/initramfs/memory-first.cpio.gz" "$init" "${first_items[@]}" \
    "$KK_VMLINUZ=/boot/vmlinuz" "$capture_img=/boot/capture.img" "$big=/boot/big.img"
first_img=$KK_LAST_INITRAMFS

disk=$work/dump.ext4
truncate -s $(((mem_mib + 128) * 1024 * 1024)) "$disk"
mke2fs -q -F -t ext4 -m 0 -E lazy_itable_init=0,lazy_journal_init=0 "$disk" || kk_die "mke2fs failed"
log=$out/console.log
kk_log "booting: $mem RAM, crashkernel=$crashkernel, $rounds rounds, $codec -d $level, timeout ${timeout}s"
rc=0
kk_qemu_boot -k "$KK_VMLINUZ" -i "$first_img" -m "$mem" -c 1 -t "$timeout" -l "$log" -d "$disk" \
    -a "console=ttyS0 crashkernel=$crashkernel panic=1 kk.rounds=$rounds kk.kexec_rounds=$kexec_rounds kk.level=$level kk.codec=${codec#-} kk.smaps=$smaps" || rc=$?
grep -h 'KK_FAIL\|KK_WARN' "$log" >&2 || true

{
    printf '%-24s %-12s %5s %10s %7s\n' what who round maxrss_kb wall_s
    sed -n 's/^KK_KEXEC_RSS who=\([^ ]*\) initrd=\([^ ]*\) round=\([0-9]*\) maxrss_kb=\([0-9]*\) wall=\([0-9.]*\).*/kexec -c -p \2 \1 \3 \4 \5/p' "$log" |
        awk '{ printf "%-24s %-12s %5s %10s %7s\n", $1 " " $2 " " $3 " " $4, $5, $6, $7, $8 }'
    sed -n 's/^KK_DUMP_RSS tool=\([^ ]*\) round=\([0-9]*\) maxrss_kb=\([0-9]*\) wall=\([0-9.]*\).*/\1 \2 \3 \4/p' "$log" |
        awk -v l="$level" -v c="$codec" '{ printf "%-24s %-12s %5s %10s %7s\n", c " -d " l " capture", $1, $2, $3, $4 }'
} >"$out/table"
grep -h '^KK_FILES\|^KK_MEMINFO\|^KK_DUMP_CMP' "$log" | sed 's/^/# /' >>"$out/table" || true
if ((smaps)); then
    sed -n 's/^KK_SMAPS tool=\([^ ]*\) name=\([^ ]*\) \(perm=\([^ ]*\) \)\{0,1\}rss_kb=\([0-9]*\).*/\1 \2 \4 \5/p' "$log" |
        awk 'NF == 3 { $4 = $3; $3 = "-" } { printf "smaps at peak %-12s %-28s %-5s %7s KiB\n", $1, $2, $3, $4 }' | sort -k4,4 -k7,7nr >"$out/smaps"
    cat "$out/smaps" >>"$out/table"
fi
cat "$out/table"
((rc == 0)) || kk_die "QEMU exited with status $rc (124: timeout); console: $log"
grep -q '^KK_PHASE capture_done' "$log" || kk_die "the capture kernel did not finish; console: $log"
printf '%s\n' "$out"
