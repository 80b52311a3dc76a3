#!/bin/sh
# /init of the vmcore-fixture guest (busybox sh). One script for both kernels:
#  - first kernel: load the capture kernel (kexec -p), fill memory (memfill), panic (sysrq-c);
#  - capture kernel (/proc/vmcore exists): copy /proc/vmcore to the raw disk /dev/vda, print
#    its size, power off.
# Disks: vda = output (raw, written only by the capture kernel), vdb = optional read-only
# source of page-cache data (an ext2 image of real files).
# Kernel parameters read here:
#   kk.fill=ANON,TMPFS,CACHE,FREED   memfill percentages of MemTotal (default 25,15,10,25)
#   kk.kexec=OPT                     extra kexec option, e.g. -s or -c (default: kexec's own)
#   kk.shell=1                       drop to a shell instead of powering off on failure
#   kk.console=TTY                   the capture kernel's console (default ttyS0; arm64 ttyAMA0)
#   kk.stext_off=HEX                 _stext - _text of this kernel (from its vmlinux): see below
# Lines for the host start with KK_ (KK_PHASE, KK_MEMFILL, KK_VMCORE_SIZE, KK_FAIL).
export PATH=/bin:/sbin:/usr/bin:/usr/sbin

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null

mark() { echo "KK_PHASE $1 uptime=$(cut -d' ' -f1 /proc/uptime)"; }

fill=25,15,10,25
console=ttyS0
stext_off=
kexec_opt=
shell=0
# shellcheck disable=SC2013  # words, not lines
for arg in $(cat /proc/cmdline); do
    case $arg in
        kk.fill=*) fill=${arg#kk.fill=} ;;
        kk.kexec=*) kexec_opt=${arg#kk.kexec=} ;;
        kk.shell=*) shell=${arg#kk.shell=} ;;
        kk.console=*) console=${arg#kk.console=} ;;
        kk.stext_off=*) stext_off=${arg#kk.stext_off=} ;;
    esac
done

fail() {
    echo "KK_FAIL $*"
    if [ "$shell" = 1 ]; then exec sh; fi
    sync
    poweroff -f
    exit 1  # poweroff did not work: init exits, the kernel panics, panic=1 + -no-reboot ends QEMU
}

role=first
[ -e /proc/vmcore ] && role=capture
mark "init_$role"

while read -r mod; do
    insmod "/lib/modules/$mod.ko" || echo "KK_WARN insmod $mod failed"
done </lib/modules/load.order

i=0
while [ ! -b /dev/vda ]; do
    i=$((i + 1))
    [ $i -gt 100 ] && fail "no /dev/vda after 10 s"
    sleep 0.1
done

if [ $role = capture ]; then
    size=$(stat -c %s /proc/vmcore)
    mark "capture_start size=$size"
    dd if=/proc/vmcore of=/dev/vda bs=1M conv=fsync 2>/tmp/dd.log || {
        cat /tmp/dd.log
        fail "dd /proc/vmcore failed"
    }
    sync
    echo "KK_VMCORE_SIZE=$size"
    mark capture_done
    poweroff -f
    exit 1
fi

# First kernel: the capture kernel and its initrd were packed into this initramfs.
crash_append="console=$console irqpoll nr_cpus=1 reset_devices panic=1"
# shellcheck disable=SC2086  # empty or one option
# Debian's arm64 6.1 kallsyms has _stext but no _text, and Debian's kexec-tools 2.0.25 needs
# _text for the kernel-image PT_LOAD: without it that header is garbage and reading /proc/vmcore
# faults. Give kexec-tools the symbol it looks for (a copy of kallsyms over the real one).
if [ -n "$stext_off" ] && ! grep -q ' _text$' /proc/kallsyms; then
    stext=$(awk '$3 == "_stext" { print $1; exit }' /proc/kallsyms)
    { printf '%016x T _text\n' $((0x$stext - stext_off)); cat /proc/kallsyms; } >/tmp/kallsyms
    mount --bind /tmp/kallsyms /proc/kallsyms || fail "cannot bind-mount kallsyms"
fi
kexec $kexec_opt -p /boot/vmlinuz --initrd=/boot/capture.img --append="$crash_append" ||
    fail "kexec -p failed"
[ "$(cat /sys/kernel/kexec_crash_loaded)" = 1 ] || fail "kexec_crash_loaded is not 1"
rm -f /boot/vmlinuz /boot/capture.img /usr/sbin/kexec  # give their memory back
mark kexec_loaded

mkdir -p /mnt/tmpfs
mount -t tmpfs -o size=90% tmpfs /mnt/tmpfs || fail "mount tmpfs"
# Page cache: files on vdb (ext2 holding real data) are clean non-private cache; the same disk
# read raw is block-device cache (pages with buffer heads).
read_arg=
if [ -b /dev/vdb ]; then
    mkdir -p /mnt/ro
    if mount -t ext2 -o ro /dev/vdb /mnt/ro; then
        read_arg="--read /mnt/ro --read /dev/vdb"
    else
        echo "KK_WARN cannot mount /dev/vdb; reading it raw only"
        read_arg="--read /dev/vdb"
    fi
fi
IFS=, read -r p_anon p_tmpfs p_cache p_freed <<EOF
$fill
EOF
# shellcheck disable=SC2086  # read_arg is a list of options
memfill --keep --anon "$p_anon" --tmpfs "$p_tmpfs" --cache "$p_cache" --freed "$p_freed" \
    --tmpfs-dir /mnt/tmpfs $read_arg || fail "memfill failed"
grep -E '^(MemTotal|MemFree|MemAvailable|Buffers|Cached|Shmem|AnonPages|AnonHugePages):' /proc/meminfo |
    tr -s ' ' | tr '\n' ' ' | sed 's/^/KK_MEMINFO /; s/ kB/k/g'
echo
mark filled

echo 1 >/proc/sys/kernel/sysrq
mark panic
echo c >/proc/sysrq-trigger
fail "still alive after sysrq-c"
