#!/bin/sh
# /init of the memory-compare.sh guests (busybox sh): our tools and the reference ones side by
# side in one machine, each measured by guest/rusage.c (getrusage of the child: the real peak RSS
# in KiB; busybox's `time -v` prints 4x).
#  - first kernel: kk.rounds=N rounds of `kexec -c -p` loads of the same kernel, each with the
#    capture image and with a big initrd (/boot/big.img, a Debian initrd), by ours
#    (/usr/sbin/kexec), the build before the fix (/usr/sbin/kexec-before, when carried) and
#    Debian's kexec-tools (/usr/sbin/kexec-tools), unloading after each; KK_KEXEC_RSS lines. Then
#    our kexec -c -p loads the capture kernel for real and sysrq-c crashes the machine.
#  - capture kernel: N rounds of dumpfilter -l -d 31, dumpfilter --non-mmap -l -d 31 (pread, not
#    mapped: tool=dumpfilter-nonmmap), each other build carried as /usr/sbin/dumpfilter-NAME, and
#    makedumpfile -l -d 31 on /proc/vmcore to the ext4 disk /dev/vda (each dump removed after it
#    is measured; kk.level and kk.codec=l|c change -d 31 and -l); KK_DUMP_RSS lines. Round 1's
#    mapped and --non-mmap dumps are compared first (KK_DUMP_CMP: how many bytes differ, and the
#    last offset that does).
#    The first kernel's kexec rounds: kk.kexec_rounds (default kk.rounds).
#    kk.smaps=1: then one more run of dumpfilter and of makedumpfile each, /proc/PID/smaps sampled
#    as it runs; at the sample with the most Rss, the Rss of each mapping (KK_SMAPS lines: what
#    the peak is made of, file pages mapped and memory allocated apart).
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
kexec_rounds=
level=31
codec=l
# shellcheck disable=SC2013  # words, not lines
for arg in $(cat /proc/cmdline); do
    case $arg in
        kk.rounds=*) rounds=${arg#kk.rounds=} ;;
        kk.kexec_rounds=*) kexec_rounds=${arg#kk.kexec_rounds=} ;;
        kk.level=*) level=${arg#kk.level=} ;;
        kk.codec=*) codec=${arg#kk.codec=} ;;
        kk.smaps=*) smaps=${arg#kk.smaps=} ;;
    esac
done
# field NAME FILE: the value of NAME=... on FILE's KK_RUSAGE line.
field() { sed -n "s/^KK_RUSAGE .*$1=\([0-9.]*\).*/\1/p" "$2"; }
kexec_rounds=${kexec_rounds:-$rounds}
# run_dump TOOL: one measured dump to /mnt/TOOL.dump; KK_DUMP_RSS line.
run_dump() {
    case $1 in
        dumpfilter-nonmmap) set -- "$1" dumpfilter --non-mmap ;;
        *) set -- "$1" "$1" ;;
    esac
    t=$1
    shift
    rusage "$@" "-$codec" -d "$level" /proc/vmcore "/mnt/$t.dump" >/tmp/out 2>/tmp/err
    rc=$?
    [ $rc = 0 ] || { cat /tmp/out /tmp/err; fail "$t -$codec -d $level exited with $rc"; }
    echo "KK_DUMP_RSS tool=$t round=$i maxrss_kb=$(field maxrss_kb /tmp/err)" \
        "wall=$(field wall /tmp/err) utime=$(field utime /tmp/err) stime=$(field stime /tmp/err)" \
        "size=$(stat -c %s "/mnt/$t.dump")"
}

# peak_smaps TOOL: one dump by TOOL with its smaps sampled; KK_SMAPS lines of the fullest sample,
# Rss summed per mapped file (anonymous mappings as [anon], [heap], [stack]).
peak_smaps() {
    "$1" "-$codec" -d "$level" /proc/vmcore "/mnt/smaps.dump" >/dev/null 2>&1 &
    pid=$!
    best=0
    while cat "/proc/$pid/smaps" >/tmp/sm 2>/dev/null && [ -s /tmp/sm ]; do
        tot=$(awk '/^Rss:/ { s += $2 } END { print s + 0 }' /tmp/sm)
        [ "$tot" -gt "$best" ] && { best=$tot; cp /tmp/sm /tmp/sm.best; }
    done
    wait $pid
    awk -v t="$1" -v total="$best" '
        /^[0-9a-f]+-[0-9a-f]+ / { n = (NF >= 6) ? $6 : "[anon]"; sub(".*/", "", n); perm = $2 }
        /^Rss:/ { rss[n " " perm] += $2 }
        END { print "KK_SMAPS tool=" t " name=total rss_kb=" total
              for (k in rss) if (rss[k]) { split(k, a, " "); print "KK_SMAPS tool=" t " name=" a[1] " perm=" a[2] " rss_kb=" rss[k] } }' /tmp/sm.best
    rm -f /mnt/smaps.dump /tmp/sm /tmp/sm.best
}

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
    others=
    for b in /usr/sbin/dumpfilter-*; do
        [ -x "$b" ] && others="$others ${b#/usr/sbin/}"
    done
    i=0
    while [ "$i" -lt "$rounds" ]; do
        i=$((i + 1))
        for tool in dumpfilter dumpfilter-nonmmap $others makedumpfile; do
            run_dump "$tool"
            if [ "$i" = 1 ] && [ "$tool" = dumpfilter-nonmmap ]; then
                # mapped against read: the same dump, apart from the header's timestamp
                cmp -l /mnt/dumpfilter.dump /mnt/dumpfilter-nonmmap.dump >/tmp/cmp 2>&1
                echo "KK_DUMP_CMP mapped/non-mmap rc=$? differing_bytes=$(wc -l </tmp/cmp)" \
                    "last_offset=$(awk 'END { print $1 }' /tmp/cmp)"
                rm -f /mnt/dumpfilter.dump
            fi
            [ "$tool" = dumpfilter ] && [ "$i" = 1 ] && continue  # kept for the comparison
            rm -f "/mnt/$tool.dump"
        done
    done
    # The mapped path in use: how many /proc/vmcore windows dumpfilter's maps show at most while
    # it runs (0 would mean every window fell back to pread).
    dumpfilter "-$codec" -d "$level" /proc/vmcore /mnt/maps.dump >/dev/null 2>&1 &
    pid=$!
    most=0 j=0
    while [ $j -lt 300 ] && [ -e "/proc/$pid/maps" ]; do
        n=$(grep -c /proc/vmcore "/proc/$pid/maps" 2>/dev/null)
        [ "${n:-0}" -gt "$most" ] && most=$n
        j=$((j + 1))
        sleep 0.05
    done
    wait $pid
    echo "KK_DUMP_CMP mapped windows seen in /proc/PID/maps: $most"
    rm -f /mnt/maps.dump
    if [ "${smaps:-0}" = 1 ]; then
        peak_smaps dumpfilter
        peak_smaps makedumpfile
    fi
    umount /mnt
    mark capture_done
    poweroff -f
    exit 1
fi
mark init_first

crash_append="console=ttyS0 irqpoll nr_cpus=1 reset_devices panic=1 no_timer_check kk.rounds=$rounds kk.level=$level kk.codec=$codec kk.smaps=${smaps:-0}"
loaders="ours:/usr/sbin/kexec debian:/usr/sbin/kexec-tools"
[ -x /usr/sbin/kexec-before ] && loaders="$loaders before:/usr/sbin/kexec-before"
i=0
while [ "$i" -lt "$kexec_rounds" ]; do
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
