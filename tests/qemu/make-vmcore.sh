#!/bin/bash
# make-vmcore.sh: produce a real x86_64 (KDUMPKIT_ARCH=arm64: arm64) kdump capture (an ELF /proc/vmcore copy) from a Debian
# kernel (6.1, or any release pins.sh names) panicking in QEMU (TCG), with memory filled by guest/memfill.c.
#
# usage: make-vmcore.sh [--mem 512M|4G] [--cpus N] [--crashkernel SIZE] [--out PATH]
#                       [--fill A,T,C,F] [--kexec-opt -s|-c] [--kexec PATH] [--timeout SECONDS]
#                       [--force]
#   --mem          guest RAM (default 512M)
#   --cpus         guest vCPUs (default 1; TCG runs them on one host thread each)
#   --crashkernel  crashkernel= reservation (default 128M)
#   --out          output path (default $KDUMPKIT_CACHE/vmcore-<KVER>-<MEM>.elf)
#   --fill         memfill percentages of MemTotal: anon kept, tmpfs, page cache, freed
#   --kexec-opt    extra option for the kexec in the guest (default: none, i.e. -a)
#   --kexec PATH   load the capture kernel with this kexec (ours: build/kexec/kexec), not Debian's
#   --force        regenerate even if the output exists
# Writes OUT (sparse ELF core) and OUT's name with .log instead of .elf (the guest's serial
# console). Prints the output path on stdout, phase timings on stderr.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

mem=512M cpus=1 crashkernel=128M out='' force=0 fill=25,15,10,25 kexec_opt='' timeout='' kexec_bin=''
while (($#)); do
    case $1 in
        --mem) mem=$2; shift 2 ;;
        --cpus) cpus=$2; shift 2 ;;
        --crashkernel) crashkernel=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --fill) fill=$2; shift 2 ;;
        --kexec-opt) kexec_opt=$2; shift 2 ;;
        --kexec) kexec_bin=$2; shift 2 ;;
        --timeout) timeout=$2; shift 2 ;;
        --force) force=1; shift ;;
        -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) kk_die "unknown argument $1 (see --help)" ;;
    esac
done

# size_mib 4G -> 4096 (QEMU -m style: M or G suffix, bare number is MiB).
size_mib() {
    case $1 in
        *G|*g) echo $((${1%?} * 1024)) ;;
        *M|*m) echo "${1%?}" ;;
        *[0-9]) echo "$1" ;;
        *) kk_die "bad size $1" ;;
    esac
}
mem_mib=$(size_mib "$mem")
ck_mib=$(size_mib "$crashkernel")
# Measured: 96M is the least that captures (80M: the capture kernel runs out of memory).
((ck_mib >= 96)) || kk_log "warning: crashkernel=$crashkernel is below 96M, the measured minimum"
((ck_mib * 2 < mem_mib)) || kk_die "crashkernel=$crashkernel leaves too little of $mem"

t_start=$(kk_now)
kk_fetch_kernel
t_fetch=$(kk_elapsed "$t_start")
out=${out:-$KK_CACHE/vmcore-$KK_KVER-$mem.elf}
log_out=${out%.elf}.log
if [[ -s $out && $force = 0 ]]; then
    kk_log "exists: $out (use --force to regenerate)"
    printf '%s\n' "$out"
    exit 0
fi
# One generator per output at a time (parallel CI jobs share the cache): wait, then re-check.
mkdir -p "$KK_CACHE/work"
exec 8>"$KK_CACHE/work/$(printf '%s' "$out" | sha256sum | cut -c1-16).lock"
flock 8
if [[ -s $out && $force = 0 ]]; then
    kk_log "made by another run meanwhile: $out"
    printf '%s\n' "$out"
    exit 0
fi

# Two initramfs images from one /init: a small one for the capture kernel (busybox + virtio),
# and the first kernel's, which also carries kexec, memfill, the kernel and the small image.
t0=$(kk_now)
kk_build_guest_tools
init=$KK_LIB_DIR/guest/init.sh
kk_build_initramfs "$KK_CACHE/initramfs/capture.cpio.gz" "$init"
capture_img=$KK_LAST_INITRAMFS
main_img=$KK_CACHE/initramfs/first.cpio.gz
kk_build_pagecache_image
# The reference kexec: Debian's, of the guest's architecture (arm64: unpacked by kk_arch_setup).
kexec_items=(/usr/sbin/kexec)
[[ $KK_ARCH == arm64 ]] && mapfile -t kexec_items < <(kk_binary_items "$KK_CACHE/arm64/tools/sbin/kexec" /usr/sbin/kexec)
# --kexec: ours (stripped, at Debian's path, so init.sh runs it the same way).
[[ -n $kexec_bin ]] && mapfile -t kexec_items < <(kk_binary_items "$kexec_bin" /usr/sbin/kexec)
# crc32c_generic: a module up to 6.x; unstable's 7.x has crc32c in its library, built in.
kk_build_initramfs "$main_img" "$init" "${kexec_items[@]}" "$KK_MEMFILL=/usr/bin/memfill" mod:ext4 'mod?:crc32c_generic' \
    "$KK_VMLINUZ=/boot/vmlinuz" "$capture_img=/boot/capture.img"
main_img=$KK_LAST_INITRAMFS
t_build=$(kk_elapsed "$t0")
kk_log "initramfs: capture $(stat -c %s "$capture_img") B, first $(stat -c %s "$main_img") B"

mkdir -p "$(dirname "$out")" "$KK_CACHE/work"
work=$(mktemp -d "$KK_CACHE/work/vmcore.XXXXXX")
trap 'rm -rf "$work"' EXIT
disk=$work/vmcore.raw
# The vmcore is RAM minus the crashkernel range plus a few pages of headers; 64 MiB spare.
truncate -s $(((mem_mib + 64) * 1024 * 1024)) "$disk"
log=$work/console.log
stamps=$work/stamps
: >"$stamps"
# no_timer_check: under a loaded host TCG's timer can miss the kernel's IO-APIC check, which
# then panics at boot ("IO-APIC + timer doesn't work!", seen with 7.2 at a load of 23).
append="console=$KK_CONSOLE crashkernel=$crashkernel panic=1 no_timer_check kk.fill=$fill kk.console=$KK_CONSOLE"
[[ -n $kexec_opt ]] && append+=" kk.kexec=$kexec_opt"
if [[ $KK_ARCH == arm64 ]]; then  # see init.sh: kk.stext_off
    syms=$(aarch64-linux-gnu-nm "$KK_VMLINUX" | awk '$3 == "_text" || $3 == "_stext" { print $3, $1 }')
    s_text=$(awk '$1 == "_text" { print $2 }' <<<"$syms") s_stext=$(awk '$1 == "_stext" { print $2 }' <<<"$syms")
    [[ -n $s_text && -n $s_stext ]] || kk_die "no _text/_stext in $KK_VMLINUX"
    append+=" kk.stext_off=$(printf '0x%x' $((0x$s_stext - 0x$s_text)))"
fi
# Hard limit: TCG fills and copies at very roughly 100 MB/s; be generous.
timeout=${timeout:-$((120 + mem_mib / 20))}
[[ $KK_ARCH == arm64 ]] && timeout=$((timeout * 2))  # aarch64 TCG runs about half as fast

kk_log "booting: ${mem} RAM, $cpus vCPU, crashkernel=$crashkernel, timeout ${timeout}s"
t_qemu=$EPOCHREALTIME
rc=0
kk_qemu_boot -k "$KK_VMLINUZ" -i "$main_img" -a "$append" -m "$mem" -c "$cpus" \
    -t "$timeout" -l "$log" -s "$stamps" -d "$disk" -r "$KK_PAGECACHE_IMG" || rc=$?
t_qemu_end=$EPOCHREALTIME
cp "$log" "$log_out"
grep -h 'KK_FAIL\|KK_WARN' "$log" >&2 || true
((rc == 0)) || kk_die "QEMU exited with status $rc (124: timeout); console log: $log_out"

size=$(sed -n 's/^.*KK_VMCORE_SIZE=\([0-9][0-9]*\).*$/\1/p' "$log" | tail -n1)
[[ -n $size ]] || kk_die "capture did not finish (no KK_VMCORE_SIZE); console log: $log_out"

t0=$(kk_now)
truncate -s "$size" "$disk"
fallocate --dig-holes "$disk"
hdr=$(readelf -h "$disk")
grep -q 'Type:[[:space:]]*CORE' <<<"$hdr" || kk_die "not an ELF core: $disk"
grep -q "Machine:[[:space:]]*$KK_ELF_MACHINE" <<<"$hdr" || kk_die "not $KK_ARCH"
notes=$(readelf -n "$disk")
grep -q VMCOREINFO <<<"$notes" || kk_die "no VMCOREINFO note in $disk"
grep -q "OSRELEASE=${KK_KVER}" <<<"$(strings -n 8 "$disk" | grep -m1 '^OSRELEASE=' || true)" ||
    kk_log "warning: VMCOREINFO OSRELEASE does not name $KK_KVER"
mv "$disk" "$out"
t_post=$(kk_elapsed "$t0")

# Phase timings on the host clock, from the stamped KK_PHASE lines.
stamp() { awk -v k="KK_PHASE $1" 'index($0, k) { print $1; exit }' "$stamps"; }
since() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "") print "?"; else printf "%.1f", b - a }'; }
s_init=$(stamp init_first) s_loaded=$(stamp kexec_loaded) s_filled=$(stamp filled)
s_panic=$(stamp panic) s_cinit=$(stamp init_capture) s_cstart=$(stamp capture_start)
s_cdone=$(stamp capture_done)
memfill_line=$(grep -m1 -o 'KK_MEMFILL.*' "$log" || true)
disk_kib=$(du -k "$out" | cut -f1)
{
    echo "== vmcore $out"
    echo "   size $size B apparent, $((disk_kib / 1024)) MiB on disk; kernel $KK_KVER"
    echo "   ${memfill_line#KK_}"
    printf '   %-34s %s s\n' \
        "kernel fetch (cached if ~0)" "$t_fetch" \
        "initramfs build" "$t_build" \
        "boot: QEMU start -> /init" "$(since "$t_qemu" "$s_init")" \
        "kexec -p load" "$(since "$s_init" "$s_loaded")" \
        "memory fill" "$(since "$s_loaded" "$s_filled")" \
        "panic -> capture /init" "$(since "$s_panic" "$s_cinit")" \
        "capture: dd /proc/vmcore" "$(since "$s_cstart" "$s_cdone")" \
        "capture done -> QEMU exit" "$(since "$s_cdone" "$t_qemu_end")" \
        "QEMU total" "$(since "$t_qemu" "$t_qemu_end")" \
        "host: truncate, dig holes, check" "$t_post" \
        "total" "$(kk_elapsed "$t_start")"
} >&2
printf '%s\n' "$out"
