#!/bin/sh
# /init of the memory-compare.sh guests (busybox sh): our tools and the reference ones side by
# side in one machine, each measured by guest/rusage.c (getrusage of the child: the real peak RSS
# in KiB; busybox's `time -v` prints 4x).
#  - first kernel: kk.rounds=N rounds of `kexec -c -p` loads of the same kernel, each with the
#    capture image and with a big initrd (/boot/big.img, a Debian initrd), by ours
#    (/usr/sbin/kexec), the build before the fix (/usr/sbin/kexec-before, when carried) and
#    Debian's kexec-tools (/usr/sbin/kexec-tools), unloading after each; KK_KEXEC_RSS lines. Then
#    our kexec -c -p loads the capture kernel for real and sysrq-c crashes the machine.
#  - capture kernel: N rounds of dumpfilter -l -d 31 and makedumpfile -l -d 31 on /proc/vmcore to
#    the ext4 disk /dev/vda (each dump removed after it is measured); KK_DUMP_RSS lines.
# Lines for the host start with KK_.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null

mark() { echo "KK_PHASE $1 uptime=$(cut -d' ' -f1 /proc/uptime)"; }
fail() {
    echo "KK_FAIL $*"
    sync
    poweroff -f
    exit 1
}
rounds=1
level=31
# shellcheck disable=SC2013  # words, not lines
for arg in $(cat /proc/cmdline); do
    case $arg in
        kk.rounds=*) rounds=${arg#kk.rounds=} ;;
        kk.level=*) level=${arg#kk.level=} ;;
    esac
done
# field NAME FILE: the value of NAME=... on FILE's KK_RUSAGE line.
field() { sed -n "s/^KK_RUSAGE .*$1=\([0-9.]*\).*/\1/p" "$2"; }

if [ -e /proc/vmcore ]; then
    mark init_capture
    while read -r mod; do
        insmod "/lib/modules/$mod.ko" || echo "KK_WARN insmod $mod failed"
    done </lib/modules/load.order
    i=0
    while [ ! -b /dev/vda ]; do
        i=$((i + 1))
        [ $i -gt 100 ] && fail "no /dev/vda after 10 s"
        sleep 0.1
    done
    mount -t ext4 /dev/vda /mnt || fail "mount -t ext4 /dev/vda /mnt"
    grep -E '^(MemTotal|MemAvailable):' /proc/meminfo | tr -s ' ' | tr '\n' ' ' | sed 's/^/KK_MEMINFO /; s/ kB/k/g'
    echo
    i=0
    while [ "$i" -lt "$rounds" ]; do
        i=$((i + 1))
        for tool in dumpfilter makedumpfile; do
            rusage "$tool" -l -d "$level" /proc/vmcore "/mnt/$tool.dump" >/tmp/out 2>/tmp/err
            rc=$?
            [ $rc = 0 ] || { cat /tmp/out /tmp/err; fail "$tool -l -d $level exited with $rc"; }
            echo "KK_DUMP_RSS tool=$tool round=$i maxrss_kb=$(field maxrss_kb /tmp/err)" \
                "wall=$(field wall /tmp/err) size=$(stat -c %s "/mnt/$tool.dump")"
            rm -f "/mnt/$tool.dump"
        done
    done
    umount /mnt
    mark capture_done
    poweroff -f
    exit 1
fi
mark init_first

crash_append="console=ttyS0 irqpoll nr_cpus=1 reset_devices panic=1 no_timer_check kk.rounds=$rounds kk.level=$level"
loaders="ours:/usr/sbin/kexec debian:/usr/sbin/kexec-tools"
[ -x /usr/sbin/kexec-before ] && loaders="$loaders before:/usr/sbin/kexec-before"
i=0
while [ "$i" -lt "$rounds" ]; do
    i=$((i + 1))
    for initrd in /boot/capture.img /boot/big.img; do
        [ -e "$initrd" ] || continue
        for who_bin in $loaders; do
            who=${who_bin%%:*} bin=${who_bin#*:}
            rusage "$bin" -c -p /boot/vmlinuz --initrd="$initrd" --append="$crash_append" >/tmp/out 2>/tmp/err ||
                { cat /tmp/out /tmp/err; fail "$who kexec -c -p --initrd=$initrd failed"; }
            echo "KK_KEXEC_RSS who=$who initrd=${initrd#/boot/} round=$i maxrss_kb=$(field maxrss_kb /tmp/err)" \
                "wall=$(field wall /tmp/err)"
            /usr/sbin/kexec -c -p -u || fail "kexec -c -p -u failed"
        done
    done
done
echo "KK_FILES vmlinuz=$(stat -c %s /boot/vmlinuz) capture.img=$(stat -c %s /boot/capture.img)" \
    "big.img=$(stat -c %s /boot/big.img 2>/dev/null || echo 0)"
rm -f /boot/big.img

mark kexec_start
/usr/sbin/kexec -c -p /boot/vmlinuz --initrd=/boot/capture.img --append="$crash_append" ||
    fail "kexec -c -p failed"
mark kexec_loaded
[ "$(cat /sys/kernel/kexec_crash_loaded)" = 1 ] || fail "kexec_crash_loaded is not 1"
rm -f /boot/vmlinuz /boot/capture.img
mkdir -p /mnt/tmpfs
mount -t tmpfs -o size=50% tmpfs /mnt/tmpfs || fail "mount tmpfs"
dd if=/dev/urandom of=/mnt/tmpfs/fill bs=1M count=16 2>/dev/null || echo "KK_WARN fill failed"
echo 1 >/proc/sys/kernel/sysrq
mark panic
sleep 0.2
echo c >/proc/sysrq-trigger
fail "still alive after sysrq-c"
