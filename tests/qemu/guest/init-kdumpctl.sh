#!/bin/sh
# /init of the kdumpctl-boot.sh first kernel (busybox sh): the service's job, as kdump.service
# would do it at boot: `kdumpctl start` loads the capture kernel (our kexec -p, the capture
# initramfs our initramfs-tools hook built, /etc/kdump.conf from the host), `kdumpctl status`
# must say loaded, then sysrq-c. The capture side is not this script: it is the capture
# initramfs' own init (initramfs-tools) running `kdumpctl save`.
# Lines for the host start with KK_.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /tmp /var/crash
mark() { echo "KK_PHASE $1 uptime=$(cut -d' ' -f1 /proc/uptime)"; }
fail() {
    echo "KK_FAIL $*"
    poweroff -f
    exit 1
}
mark init_first
hostname kkguest
# The capture kernel's console and a quick end on failure; the rest of its command line is
# kdumpctl's (first kernel's minus crashkernel= etc., plus irqpoll nr_cpus=1 reset_devices ...).
export KDUMP_COMMANDLINE_APPEND="panic=1"
export KDUMP_COMMANDLINE_REMOVE="kk.stage"
mark kexec_start
kdumpctl start || fail "kdumpctl start exited with $?"
mark kexec_loaded
kdumpctl status || fail "kdumpctl status exited with $? after start"
[ "$(cat /sys/kernel/kexec_crash_loaded)" = 1 ] || fail "kexec_crash_loaded is not 1"
kdumpctl showmem
rm -f /boot/vmlinuz-* /var/lib/kdumpkit/*.img  # give their memory back
echo 1 >/proc/sys/kernel/sysrq
mark panic
sleep 0.2
kdumpctl test --force
fail "still alive after kdumpctl test --force"
