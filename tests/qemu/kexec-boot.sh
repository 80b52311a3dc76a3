#!/bin/bash
# kexec-boot.sh: prove kdumpkit's own kexec (and dumpfilter) in a real kernel: Debian's 6.1
# kernel boots in QEMU (TCG) with an initramfs carrying OUR kexec, and
#   --mode reboot: kexec -l + kexec -e into a second kernel, whose /init reports its command line;
#   --mode crash:  kexec -p a capture kernel, sysrq-c (or --crash-kind), and the capture kernel
#                  runs OUR dumpfilter (dump + --report) on /proc/vmcore onto an ext4 virtio disk;
#                  the host takes the files off the disk image with debugfs (no mount).
#
# usage: kexec-boot.sh --mode reboot|crash [--kexec-opt -c|-s|-a] [--mem 1G] [--cpus 1]
#                      [--crashkernel 128M] [--level 31] [--codec -l|-c|-z|-p|-E|none]
#                      [--fill MIB] [--out DIR] [--kexec PATH] [--dumpfilter PATH]
#                      [--timeout S] [--efi] [--spoil [--spoil-wait S]]
#                      [--crash-kind sysrq|null|bug|oops|panic|softlockup] [--capture-cpus N]
#   --mode         reboot or crash (required)
#   --kexec-opt    our kexec's syscall option in the guest: -c kexec_load + kdumpkit purgatory
#                  (default), -s kexec_file_load, -a file then classic
#   --mem          guest RAM (default 1G)
#   --cpus         guest vCPUs (default 1)
#   --capture-cpus the capture kernel boots with nr_cpus=N (default 1); the run fails unless it
#                  then has N CPUs (KK_CPUS line) and dumpfilter, at its default --num-threads
#                  (one per online CPU), ran N threads (KK_RUSAGE max_threads, guest/rusage.c)
#   --crashkernel  crashkernel= of the first kernel (crash mode; default 128M; 96M is the
#                  smallest that captures with this 3.9 MB (9.8 MB unpacked: busybox, ext4
#                  chain, libc, dumpfilter) capture image, 1G and 4G guests, -c and -s; 88M
#                  runs out of memory; SIZE,high works)
#   --level        dumpfilter -d LEVEL in the capture kernel (default 31)
#   --codec        dumpfilter codec option (default -l; "none" for uncompressed, -E for ELF)
#   --fill         MiB of random data the first kernel puts in tmpfs before the panic (default 16)
#   --out          output directory (default: a new directory under $KDUMPKIT_CACHE/kexec-boot)
#   --kexec        our kexec binary (default: $KEXEC or BUILD/kexec/kexec)
#   --dumpfilter   our dumpfilter binary (default: $DUMPFILTER or BUILD/dumpfilter/dumpfilter)
#   --timeout      hard limit for the QEMU run in seconds (default 180 reboot, 240 + mem/20 crash)
#   --efi          boot the first kernel through UEFI firmware (OVMF, package ovmf: $KK_OVMF or
#                  /usr/share/ovmf/OVMF.fd) instead of SeaBIOS
#   --crash-kind   how the first kernel crashes in crash mode (default sysrq: sysrq-c). The others
#                  insmod our test module guest/kkcrash.c (Debian ships no lkdtm), built here
#                  against Debian's linux-headers-KVER (apt-get download + dpkg -x into the
#                  cache, ~14 MB download, 83 MB unpacked, once; needs gcc and make): null (NULL
#                  write), bug (BUG()), oops (write to a non-canonical address: general
#                  protection fault), each with kernel.panic_on_oops=1; panic (panic());
#                  softlockup (spins with preemption off; kernel.softlockup_panic=1,
#                  watchdog_thresh=1). The report's kind must match (see report_kind below).
#   --spoil        the refusal test (-c only): the first kernel loads with kexec
#                  --test-spoil-digest, so the digest our purgatory gets has one bit flipped; then
#                  kexec -e (reboot) or sysrq-c (crash) as usual, and the purgatory must refuse.
#                  The host stops QEMU --spoil-wait seconds after the mismatch line (default 6;
#                  a normal -c run gets from the purgatory to the next kernel's first console
#                  line in well under a second and to its /init in ~4.5 s)
# BUILD is $KDUMPKIT_BUILD or the repository's build/.
#
# Writes into OUT: console.log (serial console of every kernel), stamps (host-clock times of
# the KK_ lines), timings (key=seconds lines), and in crash mode vmcore (our dumpfilter's
# kdump-compressed dump), vmcore-dmesg.txt, and report.txt + report.json (the triage report). Prints OUT on stdout, phase timings on stderr.
# Exit status 0 only when the flow reached its end and every check passed:
#   both:   kexec -S says loaded, kexec -u (-p -u) unloads and a second load works;
#   reboot: the second kernel ran /init with exactly the command line given to kexec -l;
#   crash:  kexec_crash_loaded was 1, the capture kernel ran /init with elfcorehdr= on its
#           command line (arm64: linux,elfcorehdr in its device tree's /chosen), dumpfilter
#           succeeded, both files came off the disk at the sizes the
#           guest reported, and the dump starts with the KDUMP signature (ELF magic with -E);
#   -c in both modes: the console shows "kdumpkit purgatory: checks ok" (our purgatory ran);
#   crash:  also report.txt and report.json (dumpfilter --report) came off the disk, sizes as the
#           guest reported, and report.txt's kind is the one --crash-kind makes;
#   --spoil (instead of all the above but the load): the purgatory printed "digest mismatch, not
#           booting", its "expected" digest is the one kexec -d says it handed over and its
#           "computed" one the segments' real digest (one bit apart), QEMU was stopped by us
#           after --spoil-wait seconds with no sign of a next kernel (no "checks ok", no
#           "entering kernel", no second "Linux version" line, no second /init).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

repo=$(cd "$KK_LIB_DIR/../.." && pwd)
build=${KDUMPKIT_BUILD:-$repo/build}
mode='' kexec_opt=-c mem=1G cpus=1 crashkernel=128M level=31 codec=-l fill=16 out='' timeout=''
kexec_bin=${KEXEC:-$build/kexec/kexec}
dumpfilter_bin=${DUMPFILTER:-$build/dumpfilter/dumpfilter}
efi=0 spoil=0 spoil_wait=6 crash_kind=sysrq capture_cpus=1
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
        --spoil) spoil=1; shift ;;
        --spoil-wait) spoil_wait=$2; shift 2 ;;
        --crash-kind) crash_kind=$2; shift 2 ;;
        --capture-cpus) capture_cpus=$2; shift 2 ;;
        -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) kk_die "unknown argument $1 (see --help)" ;;
    esac
done
case $mode in reboot | crash) ;; *) kk_die "--mode reboot|crash is required" ;; esac
case $kexec_opt in -c | -s | -a) ;; *) kk_die "--kexec-opt must be -c, -s or -a" ;; esac
case $codec in -c | -l | -z | -p | -E | none) ;; *) kk_die "--codec must be -c, -l, -z, -p, -E (ELF) or none" ;; esac
[[ $level =~ ^[0-9]+$ ]] && ((level <= 31)) || kk_die "--level must be 0..31"
[[ $fill =~ ^[0-9]+$ ]] || kk_die "--fill takes MiB"
[[ $spoil == 0 || $kexec_opt == -c ]] || kk_die "--spoil needs --kexec-opt -c (our purgatory)"
[[ $spoil_wait =~ ^[0-9]+$ ]] || kk_die "--spoil-wait takes seconds"
[[ $capture_cpus =~ ^[1-9][0-9]*$ ]] || kk_die "--capture-cpus takes a CPU count (1 or more)"
# What the triage report's "kind" line must say for each --crash-kind (dumpfilter/report.h).
declare -A report_kind=([sysrq]='sysrq triggered crash' [null]='NULL pointer dereference'
    [bug]='BUG' [oops]='oops' [panic]='panic' [softlockup]='soft lockup')
[[ -n ${report_kind[$crash_kind]:-} ]] || kk_die "--crash-kind must be one of: ${!report_kind[*]}"
[[ $crash_kind == sysrq || $mode == crash ]] || kk_die "--crash-kind goes with --mode crash"
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

# kk_build_crash_module: guest/kkcrash.c built for $KK_KVER; exports KK_CRASH_MODULE. Debian's
# headers packages are unpacked (not installed) under $KK_CACHE/kernel/KVER/headers, the way
# lib.sh's kk_fetch_kernel unpacks the kernel; their Makefile includes the -common tree by its
# absolute /usr/src path, which is pointed at the unpacked copy. The module is cached by the
# hash of its source.
kk_build_crash_module() {
    local src=$KK_LIB_DIR/guest/kkcrash.c kdir=$KK_CACHE/kernel/$KK_KVER hroot hash out
    hroot=$kdir/headers
    hash=$(sha256sum "$src" | cut -c1-16)
    out=$KK_CACHE/bin/kkcrash-$KK_KVER-$hash.ko
    if [[ ! -s $out ]]; then
        (
            flock 9
            [[ -s $out ]] && exit 0
            local ver build deb
            if [[ ! -e $hroot/.done ]]; then
                kk_log "fetching linux-headers-$KK_KVER for the crash module"
                rm -rf "$hroot" "$kdir/headers-debs"
                kk_apt_download "$kdir/headers-debs" "linux-headers-$KK_KVER" \
                    "linux-headers-${KK_KVER%-*}-common"
                # linux-kbuild-6.1 (scripts/, tools/) of exactly the headers' version.
                ver=$(dpkg-deb -f "$kdir"/headers-debs/linux-headers-"$KK_KVER"_*.deb Version)
                kk_apt_download "$kdir/headers-debs" "linux-kbuild-${KK_KVER%%.0-*}=$ver"
                mkdir -p "$hroot"
                for deb in "$kdir"/headers-debs/*.deb; do dpkg -x "$deb" "$hroot" || kk_die "dpkg -x $deb"; done
                sed -i "s|^include /usr/src/|include $hroot/usr/src/|" \
                    "$hroot/usr/src/linux-headers-$KK_KVER/Makefile"
                rm -rf "$kdir/headers-debs"
                : >"$hroot/.done"
            fi
            # A fixed build directory: BUG() messages carry the source path.
            build=$KK_CACHE/work/kkcrash-$hash
            rm -rf "$build"
            mkdir -p "$build" "$KK_CACHE/bin"
            cp "$src" "$build/kkcrash.c"
            echo 'obj-m := kkcrash.o' >"$build/Kbuild"
            make -s -C "$hroot/usr/src/linux-headers-$KK_KVER" M="$build" modules >"$build/make.log" 2>&1 ||
                { cat "$build/make.log" >&2; kk_die "building kkcrash.ko failed"; }
            mv "$build/kkcrash.ko" "$out.tmp"
            mv "$out.tmp" "$out"
            rm -rf "$build"
        ) 9>"$kdir/.kkcrash.lock" || exit 1
    fi
    export KK_CRASH_MODULE=$out
}

# kk_build_rusage: guest/rusage.c (peak RSS and times of the capture kernel's dumpfilter),
# dynamically linked against the libc the capture image carries for dumpfilter anyway; cached
# by the hash of its source. Exports KK_RUSAGE.
kk_build_rusage() {
    local src=$KK_LIB_DIR/guest/rusage.c hash out
    hash=$(sha256sum "$src" | cut -c1-16)
    out=$KK_CACHE/bin/rusage-$hash
    [[ $KK_ARCH == x86_64 ]] || out+=-$KK_ARCH
    if [[ ! -x $out ]]; then
        mkdir -p "$KK_CACHE/bin"
        "$KK_CC" -O2 -Wall -Wextra -o "$out.tmp.$$" "$src" || kk_die "building rusage failed"
        mv "$out.tmp.$$" "$out"
    fi
    export KK_RUSAGE=$out
}

t_start=$(kk_now)
kk_fetch_kernel
if [[ -z $out ]]; then
    mkdir -p "$KK_CACHE/kexec-boot"
    out=$(mktemp -d "$KK_CACHE/kexec-boot/$mode${kexec_opt}$([[ $spoil == 1 ]] && echo -spoil).XXXXXX")
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -f "$out"/{console.log,stamps,timings,vmcore,vmcore-dmesg.txt,report.txt,report.json}

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
    kk_build_rusage
    mapfile -t ru_items < <(kk_binary_items "$KK_RUSAGE" /usr/bin/rusage)
    kk_build_initramfs "$KK_CACHE/initramfs/kexec-capture.cpio.gz" "$init" "${df_items[@]}" "${ru_items[@]}" \
        mod:ext4 'mod?:crc32c_generic'  # 7.x: crc32c is built in
fi
inner_img=$KK_LAST_INITRAMFS
mapfile -t kx_items < <(kk_binary_items "$kexec_bin" /usr/sbin/kexec)
((${#kx_items[@]})) || kk_die "kk_binary_items $kexec_bin failed"
crash_items=()
if [[ $crash_kind != sysrq ]]; then
    kk_build_crash_module
    crash_items=("$KK_CRASH_MODULE=/lib/kkcrash.ko")
fi
kk_build_initramfs "$KK_CACHE/initramfs/kexec-first.cpio.gz" "$init" "${kx_items[@]}" "${crash_items[@]}" \
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
    qemu_extra+=(-drive "if=pflash,format=raw,file=$work/OVMF.fd")
fi
append="console=$KK_CONSOLE panic=1 kk.mode=$mode kk.kexec=$kexec_opt"
[[ $spoil == 1 ]] && append+=" kk.spoil=1"
if [[ $mode == crash && $spoil == 0 ]]; then
    append+=" crashkernel=$crashkernel kk.level=$level kk.codec=$codec kk.fill=$fill kk.ncpus=$capture_cpus"
    # ext4 for the capture kernel: room for an unfiltered dump of all RAM plus headers. Sparse;
    # the inode tables and journal are written here, so the guest has no lazy init to do.
    disk=$work/dump.ext4
    rm -f "$disk"
    truncate -s $(((mem_mib + 128) * 1024 * 1024)) "$disk"
    mke2fs -q -F -t ext4 -L kkdump -m 0 -E lazy_itable_init=0,lazy_journal_init=0 "$disk" ||
        kk_die "mke2fs failed"
    disk_args=(-d "$disk")
elif [[ $mode == crash ]]; then
    append+=" crashkernel=$crashkernel kk.level=$level kk.codec=$codec kk.fill=$fill"
fi
[[ $crash_kind != sysrq ]] && append+=" kk.crash=$crash_kind"

log=$out/console.log
stamps=$out/stamps
# Kernel and purgatory lines stamped on the host clock too (how the purgatory is timed).
stamp_re='kexec_core: Starting new kernel|Kernel panic - not syncing|kdumpkit purgatory: (checks|entering|digest)'

: >"$stamps"
kk_log "booting ($mode$([[ $spoil == 1 ]] && echo ", spoiled digest"), kexec $kexec_opt): $mem RAM, $cpus vCPU$(
    [[ $mode == crash ]] && echo ", crashkernel=$crashkernel, crash $crash_kind, dumpfilter -d $level $codec"), timeout ${timeout}s"
t_qemu=$EPOCHREALTIME
rc=0
qemu_args=(-k "$KK_VMLINUZ" -i "$first_img" -a "$append" -m "$mem" -c "$cpus"
    -t "$timeout" -l "$log" -s "$stamps" -S "$stamp_re" "${disk_args[@]}")
mismatch_re='kdumpkit purgatory: digest mismatch, not booting'
stopped=0
if [[ $spoil == 0 ]]; then
    kk_qemu_boot "${qemu_args[@]}" -- "${qemu_extra[@]}" || rc=$?
else
    # The purgatory halts for good after a mismatch, so QEMU would run into its hard timeout:
    # watch the console instead, and once the mismatch line is there give a next kernel
    # --spoil-wait seconds to show up (it must not), then stop QEMU by its -pidfile.
    kk_qemu_boot "${qemu_args[@]}" -- -pidfile "$work/qemu.pid" "${qemu_extra[@]}" &
    qemu_job=$!
    seen=''
    while kill -0 "$qemu_job" 2>/dev/null; do
        if [[ -z $seen ]] && grep -q "$mismatch_re" "$log" 2>/dev/null; then seen=$EPOCHREALTIME; fi
        if [[ -n $seen ]] && awk -v a="$seen" -v b="$EPOCHREALTIME" -v w="$spoil_wait" 'BEGIN { exit !(b - a >= w) }'; then
            qpid=$(cat "$work/qemu.pid" 2>/dev/null || true)
            if [[ $qpid =~ ^[0-9]+$ ]] && kill -TERM "$qpid" 2>/dev/null; then stopped=1; fi
            break
        fi
        sleep 0.25
    done
    wait "$qemu_job" || rc=$?
fi
t_qemu_end=$EPOCHREALTIME

errors=()
grep -h 'KK_FAIL\|KK_WARN' "$log" >&2 || true
if [[ $spoil == 0 ]]; then
    ((rc == 0)) || errors+=("QEMU exited with status $rc (124: timeout)")
    [[ $kexec_opt == -c ]] && ! grep -q 'kdumpkit purgatory: checks ok' "$log" &&
        errors+=("no 'kdumpkit purgatory: checks ok' on the console (our purgatory did not run)")
    grep -q 'kdumpkit purgatory:.*\(mismatch\|not booting\)' "$log" &&
        errors+=("the purgatory refused to boot: $(grep -m1 'kdumpkit purgatory' "$log")")
fi

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

if [[ $spoil == 1 ]]; then
    # last_hex PATTERN: the 64 hex digits after PATTERN on the last console line that has them.
    last_hex() { sed -n "s/.*$1\([0-9a-f]\{64\}\).*/\1/p" "$log" | tail -n1; }
    # bits_apart A B: how many bits two equally long hex strings differ in (-1: not comparable).
    bits_apart() {
        local a=$1 b=$2 i n=0 x
        [[ ${#a} == "${#b}" && -n $a ]] || { echo -1; return; }
        for ((i = 0; i < ${#a}; i++)); do
            x=$((16#${a:i:1} ^ 16#${b:i:1}))
            while ((x)); do n=$((n + (x & 1))); x=$((x >> 1)); done
        done
        echo "$n"
    }
    mline=$(grep -n "$mismatch_re" "$log" | head -n1 | cut -d: -f1 || true)
    handed=$(last_hex 'kexec: purgatory digest ') real=$(last_hex 'the segments. digest is ')
    expected=$(last_hex 'kdumpkit purgatory: expected ') computed=$(last_hex 'kdumpkit purgatory: computed ')
    trigger=$([[ $mode == reboot ]] && echo exec || echo panic)
    [[ -n $(stamp kexec_loaded) && -n $(stamp "$trigger") ]] ||
        errors+=("the first kernel did not get to load and $trigger (no KK_PHASE kexec_loaded / $trigger)")
    if [[ -z $mline ]]; then
        errors+=("no '$mismatch_re' on the console (QEMU status $rc, 124: timeout)")
    else
        ((stopped == 1)) ||
            errors+=("QEMU ended by itself (status $rc) instead of staying halted until we stopped it")
        [[ -n $expected && -n $computed ]] || errors+=("the purgatory did not print both digests")
        [[ -n $handed && -n $real ]] || errors+=("kexec -d did not print the digest handed over and the real one")
        [[ $expected == "$handed" ]] ||
            errors+=("the purgatory expected $expected, kexec handed it ${handed:-nothing}")
        [[ $computed == "$real" ]] ||
            errors+=("the purgatory computed $computed, the segments' digest is ${real:-unknown}")
        [[ $(bits_apart "$expected" "$computed") == 1 ]] ||
            errors+=("expected and computed digests are not one bit apart")
        # Nothing after the refusal may look like a next kernel.
        after=$(tail -n +"$mline" "$log")
        grep -q 'Linux version\|KK_PHASE init_\|kdumpkit purgatory: \(checks ok\|entering\)' <<<"$after" &&
            errors+=("a kernel ran after the purgatory refused: $(grep -m1 'Linux version\|KK_PHASE init_\|entering' <<<"$after")")
    fi
    grep -q 'kdumpkit purgatory: \(checks ok\|entering\)' "$log" &&
        errors+=("the purgatory entered a kernel despite the spoiled digest")
    grep -q 'KK_PHASE init_\(second\|capture\)' "$log" && errors+=("a second kernel's /init ran")
    s_refused=$(stamp_of 'kdumpkit purgatory: digest mismatch')
    s_trig=$(stamp "$trigger")
    if [[ $mode == crash ]]; then  # as below: the kernel's panic line when it made it out
        s_trig=$(stamp_of 'Kernel panic - not syncing')
        s_trig=${s_trig:-$(stamp panic)}
    fi
    timings+=("refused" "$([[ $mode == reboot ]] && echo 'kexec -e' || echo "panic ($crash_kind)") -> purgatory refused" "$(since "$s_trig" "$s_refused")"
        "refused_wait" "  refused -> QEMU stopped by us" "$(since "$s_refused" "$t_qemu_end")")
elif [[ $mode == reboot ]]; then
    expect="console=$KK_CONSOLE panic=1 kk.stage=second"
    s_exec=$(stamp exec) s_second=$(stamp init_second)
    [[ -n $s_second ]] || errors+=("the second kernel never ran /init (no KK_PHASE init_second)")
    got=$(sed -n 's/^KK_CMDLINE //p' "$log" | head -n1 | sed 's/[[:space:]]*$//')
    [[ $got == "$expect" ]] || errors+=("second kernel's /proc/cmdline is '$got', expected '$expect'")
    timings+=("exec" "kexec -e -> second /init" "$(since "$s_exec" "$s_second")")
    [[ $kexec_opt == -c ]] && timings+=(
        "exec_purgatory" "  kexec -e -> purgatory checked" "$(since "$s_exec" "$s_purg")"
        "purgatory_init" "  purgatory -> second /init" "$(since "$s_purg" "$s_second")")
else
    # The kernel's own panic line (stamped on the host clock) when it made it out, else the
    # guest's mark just before sysrq-c.
    s_panic=$(stamp_of 'Kernel panic - not syncing')
    s_panic=${s_panic:-$(stamp panic)}
    s_cinit=$(stamp init_capture) s_dstart=$(stamp dump_start)
    s_ddone=$(stamp dump_done) s_mdone=$(stamp dmesg_done) s_cdone=$(stamp capture_done)
    [[ -n $s_loaded ]] || errors+=("kexec -p did not load (no KK_PHASE kexec_loaded)")
    [[ -n $s_cinit ]] || errors+=("the capture kernel never ran /init (no KK_PHASE init_capture)")
    ccmd=$(sed -n 's/^KK_CMDLINE //p' "$log" | head -n1)
    # x86_64 names the ELF core header on the command line, arm64 in the device tree.
    [[ -z $s_cinit || $ccmd == *elfcorehdr=* ]] || grep -q '^KK_DT_ELFCOREHDR ' "$log" ||
        errors+=("the capture kernel has no elfcorehdr= (command line: '$ccmd') nor linux,elfcorehdr")
    [[ -n $s_cdone ]] || errors+=("the capture did not finish (no KK_PHASE capture_done)")
    got_cpus=$(sed -n 's/^KK_CPUS .*count=\([0-9]*\).*/\1/p' "$log" | head -n1)
    [[ -z $s_cinit || $got_cpus == "$capture_cpus" ]] ||
        errors+=("the capture kernel has ${got_cpus:-?} CPUs, --capture-cpus asked for $capture_cpus")
    # dumpfilter's default --num-threads is one per online CPU: it must have run that many threads.
    got_threads=$(sed -n 's/^KK_RUSAGE .*max_threads=\([0-9]*\).*/\1/p' "$log" | head -n1)
    [[ -z $s_ddone || $got_threads == "$capture_cpus" ]] ||
        errors+=("dumpfilter ran ${got_threads:-?} threads at most, not the capture kernel's $capture_cpus CPUs")
    timings+=("panic" "panic ($crash_kind) -> capture /init" "$(since "$s_panic" "$s_cinit")")
    [[ $kexec_opt == -c ]] && timings+=(
        "panic_purgatory" "  panic -> purgatory checked" "$(since "$s_panic" "$s_purg")"
        "purgatory_init" "  purgatory -> capture /init" "$(since "$s_purg" "$s_cinit")")
    timings+=(
        "dump" "dumpfilter -d $level $codec" "$(since "$s_dstart" "$s_ddone")"
        "dmesg" "dumpfilter --dump-dmesg" "$(since "$s_ddone" "$s_mdone")"
        "saved" "panic -> dump saved (capture_done)" "$(since "$s_panic" "$s_cdone")")
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
        if [[ $codec == -E ]]; then
            [[ $(head -c 4 "$out/vmcore" 2>/dev/null | tail -c 3) == ELF ]] ||
                errors+=("the -E dump does not start with the ELF magic")
        else
            [[ $(head -c 8 "$out/vmcore" 2>/dev/null | tr -d '\0') == KDUMP* ]] ||
                errors+=("the dump does not start with the KDUMP signature")
        fi
        # The triage report (dumpfilter --report), text and JSON, next to the dump.
        rtxt=$(sed -n 's/^KK_REPORT txt=\([0-9]*\) .*/\1/p' "$log" | head -n1)
        rjson=$(sed -n 's/^KK_REPORT .*json=\([0-9]*\).*/\1/p' "$log" | head -n1)
        for f in report.txt report.json; do
            debugfs -R "dump /$f $out/$f" "$disk" 2>"$work/debugfs.err" ||
                errors+=("debugfs dump /$f failed: $(cat "$work/debugfs.err")")
        done
        [[ -s $out/report.txt && $(stat -c %s "$out/report.txt") == "$rtxt" ]] ||
            errors+=("report.txt off the disk is not the ${rtxt:-?} B the guest wrote")
        [[ -s $out/report.json && $(stat -c %s "$out/report.json") == "$rjson" ]] ||
            errors+=("report.json off the disk is not the ${rjson:-?} B the guest wrote")
        got_kind=$(sed -n 's/^  kind  *//p' "$out/report.txt" 2>/dev/null | head -n1)
        [[ $got_kind == "${report_kind[$crash_kind]}" ]] ||
            errors+=("report.txt says kind '$got_kind', expected '${report_kind[$crash_kind]}' (--crash-kind $crash_kind)")
    fi
fi
timings+=("total_qemu" "QEMU total" "$(since "$t_qemu" "$t_qemu_end")"
    "total" "total (incl. image build $t_build s)" "$(since "$t_start" "$(kk_now)")")

{
    echo "== kexec-boot $mode$([[ $spoil == 1 ]] && echo " --spoil"), kexec $kexec_opt, $mem$([[ $efi == 1 ]] && echo ", UEFI"), kernel $KK_KVER -> $out"
    grep -h '^KK_\(VMCORE_SIZE\|DUMP\|DMESG\|MEMINFO\|CRASHKERNEL\|REPORT\|CPUS\|RUSAGE\)' "$log" | sed 's/^/   /' || true
    if [[ $spoil == 1 ]]; then grep -h '^kdumpkit purgatory: ' "$log" | sed 's/^/   /' || true; fi
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
