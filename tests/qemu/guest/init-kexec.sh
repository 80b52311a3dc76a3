#!/bin/sh
# /init of the kexec-boot.sh guests (busybox sh): proves kdumpkit's own kexec (and, for crash
# mode, its dumpfilter) in a real kernel. One script for every role, told apart by the kernel
# command line and /proc/vmcore:
#  - first kernel (kk.mode=reboot|crash):
#      reboot: kexec $OPT -l /boot/vmlinuz --initrd=/boot/second.img --append="... kk.stage=second"
#              then kexec -e;
#      crash:  kexec $OPT -p /boot/vmlinuz --initrd=/boot/capture.img --append="..." , check
#              /sys/kernel/kexec_crash_loaded, fill a little memory, crash: sysrq-c, or with
#              kk.crash=KIND insmod /lib/kkcrash.ko action=KIND (tests/qemu/guest/kkcrash.c);
#  - second kernel (kk.stage=second): print its command line, power off;
#  - capture kernel (/proc/vmcore exists): mount the ext4 disk /dev/vda on /mnt, run
#      dumpfilter -d LEVEL CODEC --report /mnt/report.txt /proc/vmcore /mnt/vmcore (the triage
#      report: text in report.txt, JSON in report.json) and
#      dumpfilter --dump-dmesg /proc/vmcore /mnt/vmcore-dmesg.txt, sync, power off.
# With kk.spoil=1 the first kernel's loads add --test-spoil-digest (and -d, which prints the
# digest handed over and the real one): the purgatory must then refuse the kexec -e / the panic,
# and this /init never runs again (the host watches the console and stops QEMU).
# Kernel parameters read here (first kernel; the capture kernel gets level/codec on its own
# command line from the first):
#   kk.mode=reboot|crash   what the first kernel does
#   kk.kexec=OPT           kexec option: -c (kexec_load + our purgatory), -s (kexec_file_load), -a
#   kk.level=N             dumpfilter -d N (default 31)
#   kk.codec=OPT           dumpfilter codec option -c|-l|-z|-p, -E (ELF), or "none" (default -l)
#   kk.fill=MIB            MiB of memory the first kernel fills before the panic (default 16)
#   kk.spoil=1             load with kexec --test-spoil-digest (the purgatory must refuse)
#   kk.crash=KIND          sysrq (default), or null|bug|oops|panic|softlockup through kkcrash.ko
#   kk.ncpus=N             the capture kernel boots with nr_cpus=N (default 1)
#   kk.shell=1             drop to a shell instead of powering off on failure
# Lines for the host start with KK_ (KK_PHASE, KK_CMDLINE, KK_DUMP, KK_FAIL, KK_WARN).
export PATH=/bin:/sbin:/usr/bin:/usr/sbin

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null

mark() { echo "KK_PHASE $1 uptime=$(cut -d' ' -f1 /proc/uptime)"; }

mode=
kexec_opt=-c
level=31
codec=-l
fill=16
spoil=0
crash=sysrq
ncpus=1
shell=0
stage=first
console=ttyS0
# shellcheck disable=SC2013  # words, not lines
for arg in $(cat /proc/cmdline); do
    case $arg in
        kk.mode=*) mode=${arg#kk.mode=} ;;
        kk.kexec=*) kexec_opt=${arg#kk.kexec=} ;;
        kk.level=*) level=${arg#kk.level=} ;;
        kk.codec=*) codec=${arg#kk.codec=} ;;
        kk.fill=*) fill=${arg#kk.fill=} ;;
        kk.spoil=*) spoil=${arg#kk.spoil=} ;;
        kk.crash=*) crash=${arg#kk.crash=} ;;
        kk.ncpus=*) ncpus=${arg#kk.ncpus=} ;;
        kk.shell=*) shell=${arg#kk.shell=} ;;
        kk.stage=*) stage=${arg#kk.stage=} ;;
        console=*) console=${arg#console=} ;;  # the next kernel's console: ours
    esac
done
[ "$codec" = none ] && codec=
# Options of every load (-l / -p) of the first kernel. Spoiled loads also print (-d) the digest
# handed to the purgatory and the real one, which the host compares with the purgatory's lines.
load_opts=$kexec_opt
[ "$spoil" = 1 ] && load_opts="$kexec_opt -d --test-spoil-digest"
[ -e /proc/vmcore ] && stage=capture

fail() {
    echo "KK_FAIL $*"
    if [ "$shell" = 1 ]; then exec sh; fi
    sync
    poweroff -f
    exit 1  # poweroff did not work: init exits, the kernel panics, panic=1 + -no-reboot ends QEMU
}

mark "init_$stage"

# ---- second kernel of a kexec reboot: say who we are and stop ----
if [ "$stage" = second ]; then
    echo "KK_CMDLINE $(cat /proc/cmdline)"
    echo "KK_KERNEL $(uname -r)"
    # After an EFI boot the loader passes the runtime map on: the next kernel has EFI again.
    [ -d /sys/firmware/efi ] && echo "KK_EFI $(ls /sys/firmware/efi | tr '\n' ' ')"
    mark second_done
    poweroff -f
    exit 1
fi

load_modules() {
    while read -r mod; do
        insmod "/lib/modules/$mod.ko" || echo "KK_WARN insmod $mod failed"
    done </lib/modules/load.order
}

# ---- capture kernel: dump /proc/vmcore with our dumpfilter onto the ext4 disk ----
if [ "$stage" = capture ]; then
    echo "KK_CMDLINE $(cat /proc/cmdline)"
    [ -d /sys/firmware/efi ] && echo "KK_EFI $(ls /sys/firmware/efi | tr '\n' ' ')"
    # arm64: the ELF core header and the usable memory come in the device tree, not the cmdline.
    for prop in linux,elfcorehdr linux,usable-memory-range; do
        f=/proc/device-tree/chosen/$prop
        [ -e "$f" ] && echo "KK_DT_$(echo "${prop#linux,}" | tr 'a-z-' 'A-Z_') $(od -An -tx1 "$f" | tr -d ' \n')"
    done
    load_modules
    i=0
    while [ ! -b /dev/vda ]; do
        i=$((i + 1))
        [ $i -gt 100 ] && fail "no /dev/vda after 10 s"
        sleep 0.1
    done
    mount -t ext4 /dev/vda /mnt || fail "mount -t ext4 /dev/vda /mnt"
    size=$(stat -c %s /proc/vmcore)
    echo "KK_VMCORE_SIZE=$size"
    grep -E '^(MemTotal|MemFree|MemAvailable|Percpu):' /proc/meminfo | tr -s ' ' | tr '\n' ' ' | sed 's/^/KK_MEMINFO /; s/ kB/k/g'
    echo
    # The CPUs dumpfilter finds (its default --num-threads is one per online CPU).
    echo "KK_CPUS online=$(cat /sys/devices/system/cpu/online) count=$(grep -c '^processor' /proc/cpuinfo)"
    mark dump_start
    # rusage (guest/rusage.c) reports the real peak RSS; busybox time -v shows 4x ru_maxrss.
    # shellcheck disable=SC2086  # codec is empty or one option
    rusage dumpfilter --message-level 22 -d "$level" $codec --report /mnt/report.txt \
        /proc/vmcore /mnt/vmcore 2>/tmp/df.err >/tmp/df.out
    rc=$?
    cat /tmp/df.out /tmp/df.err
    [ $rc = 0 ] || fail "dumpfilter -d $level $codec --report exited with $rc"
    mark dump_done
    echo "KK_DUMP size=$(stat -c %s /mnt/vmcore) level=$level codec=${codec:-none}" \
        "maxrss_kb=$(sed -n 's/^KK_RUSAGE .*maxrss_kb=\([0-9]*\).*/\1/p' /tmp/df.err)"
    if [ ! -s /mnt/report.txt ] || [ ! -s /mnt/report.json ]; then
        fail "dumpfilter --report wrote no report.txt/report.json"
    fi
    echo "KK_REPORT txt=$(stat -c %s /mnt/report.txt) json=$(stat -c %s /mnt/report.json)"
    sed -n 's/^  kind  */KK_REPORT_KIND /p' /mnt/report.txt | head -n1
    dumpfilter --dump-dmesg /proc/vmcore /mnt/vmcore-dmesg.txt || fail "dumpfilter --dump-dmesg"
    echo "KK_DMESG size=$(stat -c %s /mnt/vmcore-dmesg.txt)"
    mark dmesg_done
    umount /mnt || fail "umount /mnt"
    sync
    mark capture_done
    poweroff -f
    exit 1
fi

# ---- first kernel ----
case $mode in
    reboot | crash) ;;
    *) fail "kk.mode must be reboot or crash, not '$mode'" ;;
esac
kexec --version >/dev/null 2>&1 || fail "our kexec does not run in the guest"

if [ "$mode" = reboot ]; then
    append="console=$console panic=1 kk.stage=second"
    mark kexec_start
    # shellcheck disable=SC2086  # one option
    kexec $load_opts -d -l /boot/vmlinuz --initrd=/boot/second.img --append="$append" ||
        fail "kexec $kexec_opt -l failed"
    mark kexec_loaded
    [ "$(cat /sys/kernel/kexec_loaded)" = 1 ] || fail "kexec_loaded is not 1 after kexec -l"
    kexec -S -l
    [ $? = 1 ] || fail "kexec -S -l does not say loaded"
    # Unload and load again: -u must really unload, and a second load must work.
    # shellcheck disable=SC2086  # one option
    kexec $kexec_opt -u || fail "kexec $kexec_opt -u failed"
    [ "$(cat /sys/kernel/kexec_loaded)" = 0 ] || fail "kexec_loaded is not 0 after kexec -u"
    # shellcheck disable=SC2086  # one option
    kexec $load_opts -l /boot/vmlinuz --initrd=/boot/second.img --append="$append" ||
        fail "kexec $kexec_opt -l failed after an unload"
    mark reloaded
    mark exec
    [ "$spoil" = 1 ] && echo "KK_SPOILED kexec -e: the purgatory must refuse"
    kexec -e
    fail "kexec -e returned $?"
fi

crash_append="console=$console irqpoll nr_cpus=$ncpus reset_devices panic=1 kk.level=$level kk.codec=${codec:-none}"
echo "KK_CRASHKERNEL_SIZE $(kexec --print-ckr-size)"
mark kexec_start
# shellcheck disable=SC2086  # one option
kexec $load_opts -d -p /boot/vmlinuz --initrd=/boot/capture.img --append="$crash_append" ||
    fail "kexec $kexec_opt -p failed"
mark kexec_loaded
[ "$(cat /sys/kernel/kexec_crash_loaded)" = 1 ] || fail "kexec_crash_loaded is not 1"
kexec -S -p
[ $? = 1 ] || fail "kexec -S -p does not say loaded"
# Unload and load again (-p -u: kdump-config's order; kexec-tools refuses -u -p): -p -u must
# really unload, and a second load must work.
# shellcheck disable=SC2086  # one option
kexec $kexec_opt -p -u || fail "kexec $kexec_opt -p -u failed"
[ "$(cat /sys/kernel/kexec_crash_loaded)" = 0 ] || fail "kexec_crash_loaded is not 0 after kexec -p -u"
# shellcheck disable=SC2086  # one option
kexec $load_opts -p /boot/vmlinuz --initrd=/boot/capture.img --append="$crash_append" ||
    fail "kexec $kexec_opt -p failed after an unload"
[ "$(cat /sys/kernel/kexec_crash_loaded)" = 1 ] || fail "kexec_crash_loaded is not 1 after reloading"
mark reloaded
rm -f /boot/vmlinuz /boot/capture.img  # give their memory back

# A little memory with recognisable contents, so the dump has user data to carry.
if [ "$fill" -gt 0 ] 2>/dev/null; then
    mkdir -p /mnt/tmpfs
    mount -t tmpfs -o size=50% tmpfs /mnt/tmpfs || fail "mount tmpfs"
    dd if=/dev/urandom of=/mnt/tmpfs/fill bs=1M count="$fill" 2>/dev/null || echo "KK_WARN fill failed"
    mark filled
fi

case $crash in
    sysrq) echo 1 >/proc/sys/kernel/sysrq ;;
    null | bug | oops | panic) echo 1 >/proc/sys/kernel/panic_on_oops ;;
    softlockup)
        # Soft lockup after 2 * watchdog_thresh seconds; set here, not on the command line, so
        # that a slow TCG boot cannot trip it early.
        echo 1 >/proc/sys/kernel/softlockup_panic
        echo 1 >/proc/sys/kernel/watchdog_thresh
        ;;
    *) fail "kk.crash must be sysrq, null, bug, oops, panic or softlockup, not '$crash'" ;;
esac
mark panic
echo "KK_CRASH $crash"
[ "$spoil" = 1 ] && echo "KK_SPOILED panic: the purgatory must refuse"
# Let the serial console drain first: with 2 vCPUs the panic can stop the UART before the lines
# above are out (the host times the panic by the kernel's own panic line anyway).
sleep 0.2
if [ "$crash" = sysrq ]; then
    echo c >/proc/sysrq-trigger
else
    insmod /lib/kkcrash.ko action="$crash"
fi
fail "still alive after crash=$crash"
