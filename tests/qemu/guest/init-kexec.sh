#!/bin/sh
# /init of the kexec-boot.sh guests (busybox sh): proves kdumpkit's own kexec (and, for crash
# mode, its dumpfilter) in a real kernel. One script for every role, told apart by the kernel
# command line and /proc/vmcore:
#  - first kernel (kk.mode=reboot|crash):
#      reboot: kexec $OPT -l /boot/vmlinuz --initrd=/boot/second.img --append="... kk.stage=second"
#              then kexec -e;
#      crash:  kexec $OPT -p /boot/vmlinuz --initrd=/boot/capture.img --append="..." , check
#              /sys/kernel/kexec_crash_loaded, fill a little memory, sysrq-c;
#  - second kernel (kk.stage=second): print its command line, power off;
#  - capture kernel (/proc/vmcore exists): mount the ext4 disk /dev/vda on /mnt, run
#      dumpfilter -d LEVEL CODEC /proc/vmcore /mnt/vmcore and
#      dumpfilter --dump-dmesg /proc/vmcore /mnt/vmcore-dmesg.txt, sync, power off.
# Kernel parameters read here (first kernel; the capture kernel gets level/codec on its own
# command line from the first):
#   kk.mode=reboot|crash   what the first kernel does
#   kk.kexec=OPT           kexec option: -c (kexec_load + our purgatory), -s (kexec_file_load), -a
#   kk.level=N             dumpfilter -d N (default 31)
#   kk.codec=OPT           dumpfilter codec option -c|-l|-z|-p, or "none" (default -l)
#   kk.fill=MIB            MiB of memory the first kernel fills before the panic (default 16)
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
shell=0
stage=first
# shellcheck disable=SC2013  # words, not lines
for arg in $(cat /proc/cmdline); do
    case $arg in
        kk.mode=*) mode=${arg#kk.mode=} ;;
        kk.kexec=*) kexec_opt=${arg#kk.kexec=} ;;
        kk.level=*) level=${arg#kk.level=} ;;
        kk.codec=*) codec=${arg#kk.codec=} ;;
        kk.fill=*) fill=${arg#kk.fill=} ;;
        kk.shell=*) shell=${arg#kk.shell=} ;;
        kk.stage=*) stage=${arg#kk.stage=} ;;
    esac
done
[ "$codec" = none ] && codec=
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
    grep -E '^(MemTotal|MemFree):' /proc/meminfo | tr -s ' ' | tr '\n' ' ' | sed 's/^/KK_MEMINFO /; s/ kB/k/g'
    echo
    mark dump_start
    # shellcheck disable=SC2086  # codec is empty or one option
    busybox time -v dumpfilter --message-level 22 -d "$level" $codec /proc/vmcore /mnt/vmcore 2>/tmp/df.err >/tmp/df.out
    rc=$?
    cat /tmp/df.out /tmp/df.err
    [ $rc = 0 ] || fail "dumpfilter -d $level $codec exited with $rc"
    mark dump_done
    echo "KK_DUMP size=$(stat -c %s /mnt/vmcore) level=$level codec=${codec:-none}" \
        "maxrss_kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' /tmp/df.err)"
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
    append="console=ttyS0 panic=1 kk.stage=second"
    mark kexec_start
    # shellcheck disable=SC2086  # one option
    kexec $kexec_opt -d -l /boot/vmlinuz --initrd=/boot/second.img --append="$append" ||
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
    kexec $kexec_opt -l /boot/vmlinuz --initrd=/boot/second.img --append="$append" ||
        fail "kexec $kexec_opt -l failed after an unload"
    mark reloaded
    mark exec
    kexec -e
    fail "kexec -e returned $?"
fi

crash_append="console=ttyS0 irqpoll nr_cpus=1 reset_devices panic=1 kk.level=$level kk.codec=${codec:-none}"
echo "KK_CRASHKERNEL_SIZE $(kexec --print-ckr-size)"
mark kexec_start
# shellcheck disable=SC2086  # one option
kexec $kexec_opt -d -p /boot/vmlinuz --initrd=/boot/capture.img --append="$crash_append" ||
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
kexec $kexec_opt -p /boot/vmlinuz --initrd=/boot/capture.img --append="$crash_append" ||
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

echo 1 >/proc/sys/kernel/sysrq
mark panic
echo c >/proc/sysrq-trigger
fail "still alive after sysrq-c"
