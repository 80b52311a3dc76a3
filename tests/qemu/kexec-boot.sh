#!/bin/bash
# kexec-boot.sh: prove kdumpkit's own kexec (and dumpfilter) in a real kernel: Debian's 6.1
# kernel boots in QEMU (TCG) with an initramfs carrying OUR kexec, and
#   --mode reboot: kexec -l + kexec -e into a second kernel, whose /init reports its command line;
#   --mode crash:  kexec -p a capture kernel, sysrq-c, and the capture kernel runs OUR dumpfilter
#                  on /proc/vmcore onto an ext4 virtio disk; the host takes the files off the disk
#                  image with debugfs (no mount).
#
# usage: kexec-boot.sh --mode reboot|crash [--kexec-opt -c|-s|-a] [--mem 1G] [--cpus 1]
#                      [--crashkernel 128M] [--level 31] [--codec -l|-c|-z|-p|none]
#                      [--fill MIB] [--out DIR] [--kexec PATH] [--dumpfilter PATH]
#                      [--timeout S] [--efi]
#   --mode         reboot or crash (required)
#   --kexec-opt    our kexec's syscall option in the guest: -c kexec_load + kdumpkit purgatory
#                  (default), -s kexec_file_load, -a file then classic
#   --mem          guest RAM (default 1G)
#   --cpus         guest vCPUs (default 1)
#   --crashkernel  crashkernel= of the first kernel (crash mode; default 128M; 96M is marginal
#                  with this ~4.5 MB capture image: one of two -s runs ran out of memory unpacking
#                  it; SIZE,high works)
#   --level        dumpfilter -d LEVEL in the capture kernel (default 31)
#   --codec        dumpfilter codec option (default -l; "none" for uncompressed)
#   --fill         MiB of random data the first kernel puts in tmpfs before the panic (default 16)
#   --out          output directory (default: a new directory under $KDUMPKIT_CACHE/kexec-boot)
#   --kexec        our kexec binary (default: $KEXEC or BUILD/kexec/kexec)
#   --dumpfilter   our dumpfilter binary (default: $DUMPFILTER or BUILD/dumpfilter/dumpfilter)
#   --timeout      hard limit for the QEMU run in seconds (default 180 reboot, 240 + mem/20 crash)
#   --efi          boot the first kernel through UEFI firmware (OVMF, package ovmf: $KK_OVMF or
#                  /usr/share/ovmf/OVMF.fd) instead of SeaBIOS
# BUILD is $KDUMPKIT_BUILD or the repository's build/.
#
# Writes into OUT: console.log (serial console of every kernel), stamps (host-clock times of
# the KK_ lines), timings (key=seconds lines), and in crash mode vmcore (our dumpfilter's
# kdump-compressed dump) and vmcore-dmesg.txt. Prints OUT on stdout, phase timings on stderr.
# Exit status 0 only when the flow reached its end and every check passed:
#   both:   kexec -S says loaded, kexec -u (-p -u) unloads and a second load works;
#   reboot: the second kernel ran /init with exactly the command line given to kexec -l;
#   crash:  kexec_crash_loaded was 1, the capture kernel ran /init with elfcorehdr= on its
#           command line, dumpfilter succeeded, both files came off the disk at the sizes the
#           guest reported, and the dump starts with the KDUMP signature;
#   -c in both modes: the console shows "kdumpkit purgatory: checks ok" (our purgatory ran).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

repo=$(cd "$KK_LIB_DIR/../.." && pwd)
build=${KDUMPKIT_BUILD:-$repo/build}
mode='' kexec_opt=-c mem=1G cpus=1 crashkernel=128M level=31 codec=-l fill=16 out='' timeout=''
kexec_bin=${KEXEC:-$build/kexec/kexec}
dumpfilter_bin=${DUMPFILTER:-$build/dumpfilter/dumpfilter}
efi=0
while (($#)); do
    case $1 in
        --mode) mode=$2; shift 2 ;;
        --kexec-opt) kexec_opt=$2; shift 2 ;;
        --mem) mem=$2; shift 2 ;;
        --cpus) cpus=$2; shift 2 ;;
        --crashkernel) crashkernel=$2; shift 2 ;;
        --level) level=$2; shift 2 ;;
        --codec) codec=$2; shift 2 ;;
        --fill) fill=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --kexec) kexec_bin=$2; shift 2 ;;
        --dumpfilter) dumpfilter_bin=$2; shift 2 ;;
        --timeout) timeout=$2; shift 2 ;;
        --efi) efi=1; shift ;;
        -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) kk_die "unknown argument $1 (see --help)" ;;
    esac
done
case $mode in reboot | crash) ;; *) kk_die "--mode reboot|crash is required" ;; esac
case $kexec_opt in -c | -s | -a) ;; *) kk_die "--kexec-opt must be -c, -s or -a" ;; esac
case $codec in -c | -l | -z | -p | none) ;; *) kk_die "--codec must be -c, -l, -z, -p or none" ;; esac
[[ $level =~ ^[0-9]+$ ]] && ((level <= 31)) || kk_die "--level must be 0..31"
[[ $fill =~ ^[0-9]+$ ]] || kk_die "--fill takes MiB"
[[ -x $kexec_bin ]] || kk_die "no kexec binary at $kexec_bin (ninja -C build, or --kexec)"
if [[ $mode == crash ]]; then
    [[ -x $dumpfilter_bin ]] || kk_die "no dumpfilter binary at $dumpfilter_bin (--dumpfilter)"
fi

# size_mib 1G -> 1024 (QEMU -m style: M or G suffix, bare number is MiB).
size_mib() {
    case $1 in
        *G|*g) echo $((${1%?} * 1024)) ;;
        *M|*m) echo "${1%?}" ;;
        *[0-9]) echo "$1" ;;
        *) kk_die "bad size $1" ;;
    esac
}
mem_mib=$(size_mib "$mem")
ck_mib=$(size_mib "${crashkernel%%[,@]*}")  # 256M,high / 128M@16M: the size part
if [[ $mode == crash ]]; then
    ((ck_mib >= 96)) || kk_log "warning: crashkernel=$crashkernel is below 96M, the measured minimum"
    ((ck_mib * 2 < mem_mib)) || kk_die "crashkernel=$crashkernel leaves too little of $mem"
fi
timeout=${timeout:-$([[ $mode == reboot ]] && echo 180 || echo $((240 + mem_mib / 20)))}

t_start=$(kk_now)
kk_fetch_kernel
if [[ -z $out ]]; then
    mkdir -p "$KK_CACHE/kexec-boot"
    out=$(mktemp -d "$KK_CACHE/kexec-boot/$mode${kexec_opt}.XXXXXX")
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -f "$out"/{console.log,stamps,timings,vmcore,vmcore-dmesg.txt}

# Images: the inner one (second kernel's or capture kernel's /init, plus dumpfilter and the
# ext4 module chain for crash mode), and the first kernel's, which carries our kexec, the
# bzImage and the inner image. Binaries go in stripped (kk_binary_items).
t0=$(kk_now)
init=$KK_LIB_DIR/guest/init-kexec.sh
mkdir -p "$KK_CACHE/initramfs"
if [[ $mode == reboot ]]; then
    inner_name=second.img
    kk_build_initramfs "$KK_CACHE/initramfs/kexec-second.cpio.gz" "$init"
else
    inner_name=capture.img
    mapfile -t df_items < <(kk_binary_items "$dumpfilter_bin" /usr/sbin/dumpfilter)
    ((${#df_items[@]})) || kk_die "kk_binary_items $dumpfilter_bin failed"
    kk_build_initramfs "$KK_CACHE/initramfs/kexec-capture.cpio.gz" "$init" "${df_items[@]}" \
        mod:ext4 mod:crc32c_generic
fi
inner_img=$KK_LAST_INITRAMFS
mapfile -t kx_items < <(kk_binary_items "$kexec_bin" /usr/sbin/kexec)
((${#kx_items[@]})) || kk_die "kk_binary_items $kexec_bin failed"
kk_build_initramfs "$KK_CACHE/initramfs/kexec-first.cpio.gz" "$init" "${kx_items[@]}" \
    "$KK_VMLINUZ=/boot/vmlinuz" "$inner_img=/boot/$inner_name"
first_img=$KK_LAST_INITRAMFS
t_build=$(kk_elapsed "$t0")
kk_log "initramfs: $inner_name $(stat -c %s "$inner_img") B, first $(stat -c %s "$first_img") B"

work=$(mktemp -d "$KK_CACHE/work/kexec-boot.XXXXXX" 2>/dev/null ||
    { mkdir -p "$KK_CACHE/work" && mktemp -d "$KK_CACHE/work/kexec-boot.XXXXXX"; })
trap 'rm -rf "$work"' EXIT
disk_args=()
qemu_extra=()
if [[ $efi == 1 ]]; then
    ovmf=${KK_OVMF:-/usr/share/ovmf/OVMF.fd}
    [[ -r $ovmf ]] || kk_die "--efi needs UEFI firmware at $ovmf (apt-get install ovmf, or KK_OVMF=)"
    # The firmware image is writable flash (its variable store): give QEMU a scratch copy.
    cp "$ovmf" "$work/OVMF.fd"
    qemu_extra=(-- -drive "if=pflash,format=raw,file=$work/OVMF.fd")
fi
append="console=ttyS0 panic=1 kk.mode=$mode kk.kexec=$kexec_opt"
if [[ $mode == crash ]]; then
    append+=" crashkernel=$crashkernel kk.level=$level kk.codec=$codec kk.fill=$fill"
    # ext4 for the capture kernel: room for an unfiltered dump of all RAM plus headers. Sparse;
    # the inode tables and journal are written here, so the guest has no lazy init to do.
    disk=$work/dump.ext4
    rm -f "$disk"
    truncate -s $(((mem_mib + 128) * 1024 * 1024)) "$disk"
    mke2fs -q -F -t ext4 -L kkdump -m 0 -E lazy_itable_init=0,lazy_journal_init=0 "$disk" ||
        kk_die "mke2fs failed"
    disk_args=(-d "$disk")
fi

log=$out/console.log
stamps=$out/stamps
# Kernel and purgatory lines stamped on the host clock too (how the purgatory is timed).
stamp_re='kexec_core: Starting new kernel|Kernel panic - not syncing|kdumpkit purgatory: (checks|entering)'

: >"$stamps"
kk_log "booting ($mode, kexec $kexec_opt): $mem RAM, $cpus vCPU$([[ $mode == crash ]] &&
    echo ", crashkernel=$crashkernel, dumpfilter -d $level $codec"), timeout ${timeout}s"
t_qemu=$EPOCHREALTIME
rc=0
kk_qemu_boot -k "$KK_VMLINUZ" -i "$first_img" -a "$append" -m "$mem" -c "$cpus" \
    -t "$timeout" -l "$log" -s "$stamps" -S "$stamp_re" "${disk_args[@]}" "${qemu_extra[@]}" || rc=$?
t_qemu_end=$EPOCHREALTIME

errors=()
grep -h 'KK_FAIL\|KK_WARN' "$log" >&2 || true
((rc == 0)) || errors+=("QEMU exited with status $rc (124: timeout)")
[[ $kexec_opt == -c ]] && ! grep -q 'kdumpkit purgatory: checks ok' "$log" &&
    errors+=("no 'kdumpkit purgatory: checks ok' on the console (our purgatory did not run)")
grep -q 'kdumpkit purgatory:.*\(mismatch\|not booting\)' "$log" &&
    errors+=("the purgatory refused to boot: $(grep -m1 'kdumpkit purgatory' "$log")")

stamp() { awk -v k="KK_PHASE $1" 'index($0, k) { print $1; exit }' "$stamps"; }
# stamp_of TEXT [N]: time of the Nth (default first) stamped line containing TEXT.
stamp_of() { awk -v k="$1" -v n="${2:-1}" 'index($0, k) && ++i == n { print $1; exit }' "$stamps"; }
s_purg=$(stamp_of 'kdumpkit purgatory: checks')
since() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "") print "?"; else printf "%.2f", b - a }'; }
s_init=$(stamp init_first) s_kstart=$(stamp kexec_start) s_loaded=$(stamp kexec_loaded)
timings=(
    "boot" "QEMU start -> first /init" "$(since "$t_qemu" "$s_init")"
    "load" "kexec $kexec_opt $([[ $mode == reboot ]] && echo -l || echo -p) load" "$(since "$s_kstart" "$s_loaded")"
)

if [[ $mode == reboot ]]; then
    expect="console=ttyS0 panic=1 kk.stage=second"
    s_exec=$(stamp exec) s_second=$(stamp init_second)
    [[ -n $s_second ]] || errors+=("the second kernel never ran /init (no KK_PHASE init_second)")
    got=$(sed -n 's/^KK_CMDLINE //p' "$log" | head -n1 | sed 's/[[:space:]]*$//')
    [[ $got == "$expect" ]] || errors+=("second kernel's /proc/cmdline is '$got', expected '$expect'")
    timings+=("exec" "kexec -e -> second /init" "$(since "$s_exec" "$s_second")")
    [[ $kexec_opt == -c ]] && timings+=(
        "exec_purgatory" "  kexec -e -> purgatory checked" "$(since "$s_exec" "$s_purg")"
        "purgatory_init" "  purgatory -> second /init" "$(since "$s_purg" "$s_second")")
else
    s_panic=$(stamp panic) s_cinit=$(stamp init_capture) s_dstart=$(stamp dump_start)
    s_ddone=$(stamp dump_done) s_mdone=$(stamp dmesg_done) s_cdone=$(stamp capture_done)
    [[ -n $s_loaded ]] || errors+=("kexec -p did not load (no KK_PHASE kexec_loaded)")
    [[ -n $s_cinit ]] || errors+=("the capture kernel never ran /init (no KK_PHASE init_capture)")
    ccmd=$(sed -n 's/^KK_CMDLINE //p' "$log" | head -n1)
    [[ -z $s_cinit || $ccmd == *elfcorehdr=* ]] ||
        errors+=("the capture kernel's command line has no elfcorehdr=: '$ccmd'")
    [[ -n $s_cdone ]] || errors+=("the capture did not finish (no KK_PHASE capture_done)")
    timings+=("panic" "panic (sysrq-c) -> capture /init" "$(since "$s_panic" "$s_cinit")")
    [[ $kexec_opt == -c ]] && timings+=(
        "panic_purgatory" "  sysrq-c -> purgatory checked" "$(since "$s_panic" "$s_purg")"
        "purgatory_init" "  purgatory -> capture /init" "$(since "$s_purg" "$s_cinit")")
    timings+=(
        "dump" "dumpfilter -d $level $codec" "$(since "$s_dstart" "$s_ddone")"
        "dmesg" "dumpfilter --dump-dmesg" "$(since "$s_ddone" "$s_mdone")")
    if [[ -n $s_cdone ]]; then
        dsize=$(sed -n 's/^KK_DUMP size=\([0-9]*\).*/\1/p' "$log" | head -n1)
        msize=$(sed -n 's/^KK_DMESG size=\([0-9]*\).*/\1/p' "$log" | head -n1)
        debugfs -R "dump /vmcore $out/vmcore" "$disk" 2>"$work/debugfs.err" ||
            errors+=("debugfs dump /vmcore failed: $(cat "$work/debugfs.err")")
        debugfs -R "dump /vmcore-dmesg.txt $out/vmcore-dmesg.txt" "$disk" 2>"$work/debugfs.err" ||
            errors+=("debugfs dump /vmcore-dmesg.txt failed: $(cat "$work/debugfs.err")")
        [[ -s $out/vmcore && $(stat -c %s "$out/vmcore") == "$dsize" ]] ||
            errors+=("vmcore off the disk is $(stat -c %s "$out/vmcore" 2>/dev/null || echo missing) B, the guest said $dsize")
        [[ -s $out/vmcore-dmesg.txt && $(stat -c %s "$out/vmcore-dmesg.txt") == "$msize" ]] ||
            errors+=("vmcore-dmesg.txt off the disk is not the $msize B the guest wrote")
        [[ $(head -c 8 "$out/vmcore" 2>/dev/null | tr -d '\0') == KDUMP* ]] ||
            errors+=("the dump does not start with the KDUMP signature")
    fi
fi
timings+=("total_qemu" "QEMU total" "$(since "$t_qemu" "$t_qemu_end")"
    "total" "total (incl. image build $t_build s)" "$(since "$t_start" "$(kk_now)")")

{
    echo "== kexec-boot $mode, kexec $kexec_opt, $mem$([[ $efi == 1 ]] && echo ", UEFI"), kernel $KK_KVER -> $out"
    grep -h '^KK_\(VMCORE_SIZE\|DUMP\|DMESG\|MEMINFO\|CRASHKERNEL\)' "$log" | sed 's/^/   /' || true
    for ((i = 0; i < ${#timings[@]}; i += 3)); do
        printf '   %-36s %s s\n' "${timings[i + 1]}" "${timings[i + 2]}"
    done
} >&2
: >"$out/timings"
for ((i = 0; i < ${#timings[@]}; i += 3)); do
    printf '%s=%s\n' "${timings[i]}" "${timings[i + 2]}" >>"$out/timings"
done

if ((${#errors[@]})); then
    for e in "${errors[@]}"; do printf '[kk] FAIL: %s\n' "$e" >&2; done
    kk_log "console log: $log"
    tail -n 25 "$log" | sed 's/^/   | /' >&2
    exit 1
fi
printf '%s\n' "$out"
