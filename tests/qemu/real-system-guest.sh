#!/bin/bash
# real-system-guest.sh: the guest's side of tests/qemu/real-system.sh.
#   real-system-guest.sh install ROOT   (host) copies itself into ROOT with two one-shot units
#   real-system-guest.sh boot1          (guest, once) records what the first boot shows once
#                                       kdump.service has run, then crashes the machine
#   real-system-guest.sh boot2          (guest, at the boot after the crash) records what that
#                                       boot shows, writes a tar of the records and /var/crash to
#                                       the second disk (/dev/vdb) and powers off
# It records facts (command output and exit status, file modes and times); the test judges
# them on the host (tests/integration/real_system.sh). Records: /var/lib/real-system/boot{1,2}.
set -u
rec=/var/lib/real-system

install_units() {
    local root=$1
    install -D -m 0755 "$0" "$root/usr/local/sbin/real-system-guest"
    mkdir -p "$root$rec"
    unit boot1 "ConditionPathExists=!$rec/boot1.done" >"$root/etc/systemd/system/real-system-boot1.service"
    unit boot2 "ConditionPathExists=$rec/boot1.done
ConditionPathExists=!$rec/boot2.done" >"$root/etc/systemd/system/real-system-boot2.service"
    local n
    for n in boot1 boot2; do
        ln -sf "/etc/systemd/system/real-system-$n.service" \
            "$root/etc/systemd/system/multi-user.target.wants/real-system-$n.service"
    done
}

unit() {
    cat <<EOF
[Unit]
Description=real-system test: $1
After=kdump.service
$2

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/real-system-guest $1
StandardOutput=journal+console

[Install]
WantedBy=multi-user.target
EOF
}

# run NAME CMD...: CMD's output in NAME, its exit status in NAME.rc.
run() {
    local name=$1
    shift
    "$@" >"$name" 2>&1
    echo $? >"$name.rc"
}

# The units run after kdump.service has finished: a capture kernel not loaded within a minute
# more is not coming (the records then say what went wrong, and the test fails quickly).
wait_loaded() {
    local i
    for i in $(seq 60); do
        [ "$(cat /sys/kernel/kexec_crash_loaded)" = 1 ] && return
        sleep 1
    done
}

# The names in a capture image, one a line, whichever tool built it: lsinitramfs
# (initramfs-tools) or lsinitrd (dracut; its `ls -l` lines end with the name, or "name -> target").
initrd_files() {
    if command -v lsinitramfs >/dev/null; then
        lsinitramfs "$1"
    else
        lsinitrd "$1" | awk 'length($1) == 10 && $1 ~ /^[-dlcbps][-rwxsStT]+$/ { print ($(NF - 1) == "->") ? $(NF - 2) : $NF }'
    fi
}

boot1() {
    local d=$rec/boot1 img
    mkdir -p "$d"
    wait_loaded
    cut -d' ' -f1 /proc/uptime >"$d/uptime"
    run "$d/is-active" systemctl is-active kdump.service
    run "$d/status" kdumpctl status
    cat /sys/kernel/kexec_crash_loaded >"$d/crash_loaded"
    run "$d/kdump-journal" journalctl -b -o cat -u kdump.service
    uname -r >"$d/release"
    hostname >"$d/hostname"
    img=/var/lib/kdumpkit/initrd-$(uname -r).img
    run "$d/image-stat" stat -c '%n %a %s %Y' "$img"
    run "$d/lsinitramfs" initrd_files "$img"
    command -v lsinitrd >/dev/null && run "$d/initrd-modules" lsinitrd -m "$img"
    # Where the root is: device and file system type (LVM and xfs on Debian 13).
    run "$d/root-where" findmnt -no SOURCE,FSTYPE /
    cat /proc/cmdline >"$d/cmdline"
    # What kdumpkit recommends on this machine, to hold against the smallest crashkernel= that
    # captures (measured by hand with KDUMPKIT_CRASHKERNEL; tests/qemu/README.md); on the console
    # too, so that a run whose capture failed still shows it.
    run "$d/estimate" kdumpctl estimate
    run "$d/showmem" kdumpctl showmem
    sed 's/^/real-system: estimate: /' "$d/estimate" >/dev/console
    touch "$rec/boot1.done"
    sync
    echo "real-system: boot1 recorded at $(cat "$d/uptime") s of uptime" \
        "(kexec_crash_loaded $(cat "$d/crash_loaded")); crashing now" >/dev/console
    echo 1 >/proc/sys/kernel/sysrq
    echo c >/proc/sysrq-trigger
}

boot2() {
    local d=$rec/boot2
    mkdir -p "$d"
    wait_loaded
    run "$d/is-active" systemctl is-active kdump.service
    run "$d/status" kdumpctl status
    run "$d/journal" journalctl -b -o cat
    run "$d/crash-ls" ls -la /var/crash
    run "$d/crash-where" findmnt -no SOURCE,FSTYPE -T /var/crash  # made by the capture
    # Name, octal mode, size, mtime and birth time (ns) of each dump directory and its files.
    (cd /var/crash && for f in */ */*; do stat -c '%n %a %s %.9Y %.9W' "$f"; done) >"$d/crash-stat" 2>&1
    touch "$rec/boot2.done"
    sync
    tar -cf /dev/vdb -C /var/lib real-system -C / var/crash
    sync
    echo "real-system: records written; powering off" >/dev/console
    systemctl --no-block poweroff
}

case ${1:-} in
    install) install_units "$2" ;;
    boot1) boot1 ;;
    boot2) boot2 ;;
    *) echo "usage: $0 install ROOT | boot1 | boot2" >&2; exit 2 ;;
esac
