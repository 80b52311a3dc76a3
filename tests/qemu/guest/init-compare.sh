#!/bin/sh
# /init of the kexec-compare.sh guests (busybox sh): one first kernel that can load a capture
# kernel with either loader, ours (/usr/sbin/kexec) or Debian's kexec-tools
# (/usr/sbin/kexec-tools), so the two can be compared in exactly the same machine:
#  - first kernel: print the machine facts a loader reads (KK_FACT blocks: /proc/iomem,
#    /sys/firmware/memmap, crash_notes, vmcoreinfo, /proc/kcore's headers, EFI tables), time
#    kexec -p loads (each loader, kk.time=N rounds, load then unload), load with kk.loader, crash
#    with sysrq-c;
#  - capture kernel (/proc/vmcore exists): print the start of /proc/vmcore (ELF header and
#    program headers) in hex as KK_VMCORE_HEAD, power off.
# Kernel parameters read here:
#   kk.loader=ours|debian|kernel  who makes the final load (ours: -c, our purgatory; debian:
#                          kexec-tools -c, its purgatory; kernel: kexec-tools -s, so the
#                          running kernel's kexec_file_load builds the header and memory map)
#   kk.time=N              timing rounds per loader and option (default 0: none)
#   kk.facts=1             print the KK_FACT blocks
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

loader=ours
rounds=0
facts=0
# shellcheck disable=SC2013  # words, not lines
for arg in $(cat /proc/cmdline); do
    case $arg in
        kk.loader=*) loader=${arg#kk.loader=} ;;
        kk.time=*) rounds=${arg#kk.time=} ;;
        kk.facts=*) facts=${arg#kk.facts=} ;;
    esac
done

# hexdump FILE BYTES: the first BYTES of FILE as one line of hex.
hexdump_line() { od -An -v -tx1 -N "$2" "$1" | tr -d ' \n'; echo; }

if [ -e /proc/vmcore ]; then
    mark init_capture
    echo "KK_VMCORE_SIZE=$(stat -c %s /proc/vmcore)"
    echo "KK_VMCORE_HEAD $(hexdump_line /proc/vmcore 4096)"
    # The word the first kernel left at physical 0x80000, as /proc/vmcore has it: that memory
    # is the capture kernel's now, so only the loader's backup copy can still hold it.
    phnum=$(od -An -tu2 -j 56 -N 2 /proc/vmcore | tr -d ' ')
    i=0
    while [ "$i" -lt "${phnum:-0}" ]; do
        at=$((64 + 56 * i))
        type=$(od -An -tu4 -j "$at" -N 4 /proc/vmcore | tr -d ' ')
        off=$(od -An -tu8 -j $((at + 8)) -N 8 /proc/vmcore | tr -d ' ')
        paddr=$(od -An -tu8 -j $((at + 24)) -N 8 /proc/vmcore | tr -d ' ')
        size=$(od -An -tu8 -j $((at + 32)) -N 8 /proc/vmcore | tr -d ' ')
        if [ "$type" = 1 ] && [ "$paddr" -le $((0x80000)) ] && [ $((paddr + size)) -gt $((0x80000)) ]; then
            echo "KK_LOWMARK_VMCORE $(od -An -tx4 -j $((off + 0x80000 - paddr)) -N 4 /proc/vmcore | tr -d ' ')"
        fi
        i=$((i + 1))
    done
    grep -i efi /proc/iomem | sed 's/^/KK_CAPTURE_IOMEM /'
    ls /sys/firmware/efi 2>/dev/null | tr '\n' ' ' | sed 's/^/KK_CAPTURE_EFI /'; echo
    if [ -d /sys/firmware/efi/efivars ]; then
        # efivarfs is a module in Debian's kernels; listing it calls GetNextVariableName, an
        # EFI runtime service, for every variable.
        [ -e /lib/modules/efivarfs.ko ] && insmod /lib/modules/efivarfs.ko
        mount -t efivarfs efivarfs /sys/firmware/efi/efivars || echo "KK_WARN mount efivarfs failed"
        echo "KK_CAPTURE_EFIVARS $(ls /sys/firmware/efi/efivars | wc -l)"
    fi
    mark capture_done
    poweroff -f
    exit 1
fi
mark init_first

# fact NAME: the lines of stdin as a block the host cuts out into a file NAME.
fact() {
    echo "KK_FACT_BEGIN $1"
    sed 's/^/KK_FACT| /'
    echo "KK_FACT_END $1"
}
if [ "$facts" = 1 ]; then
    fact cmdline </proc/cmdline
    fact iomem </proc/iomem
    for d in /sys/firmware/memmap/*; do
        [ -d "$d" ] && echo "${d##*/} $(cat "$d/start") $(cat "$d/end") $(cat "$d/type")"
    done | sort -n | fact memmap
    { echo "possible $(cat /sys/devices/system/cpu/possible)"
      for d in /sys/devices/system/cpu/cpu[0-9]*; do
          [ -r "$d/crash_notes" ] && echo "${d##*/} $(cat "$d/crash_notes") $(cat "$d/crash_notes_size")"
      done; } | fact crash_notes
    fact vmcoreinfo </sys/kernel/vmcoreinfo
    hexdump_line /proc/kcore 2048 | fact kcore_head.hex
    hexdump_line /sys/kernel/boot_params/data 4096 | fact boot_params.hex
    if [ -d /sys/firmware/efi ]; then
        fact efi_systab </sys/firmware/efi/systab
        for f in fw_vendor runtime config_table; do echo "$f $(cat /sys/firmware/efi/$f)"; done | fact efi_tables
        for d in /sys/firmware/efi/runtime-map/*; do
            echo "${d##*/} $(cat "$d/type") $(cat "$d/phys_addr") $(cat "$d/virt_addr") $(cat "$d/num_pages") $(cat "$d/attribute")"
        done | sort -n | fact efi_runtime_map
    fi
fi

# no_timer_check: under TCG on a busy host the IO-APIC timer check can time out and panic the
# capture kernel ("IO-APIC + timer doesn't work!"), whichever loader loaded it.
# A random word at physical 0x80000 (low memory, reserved by the first kernel: /dev/mem may
# write it) for the capture to find in /proc/vmcore.
mark=$(head -c 4 /dev/urandom | od -An -tx4 | tr -d ' ')
if devmem 0x80000 32 "0x$mark" && [ "$(devmem 0x80000 32)" = "0x$(echo "$mark" | tr a-f A-F)" ]; then
    echo "KK_LOWMARK $mark"
else
    echo "KK_WARN could not write the low-memory mark with devmem"
fi

crash_append="console=ttyS0 irqpoll nr_cpus=1 reset_devices panic=1 no_timer_check"
# load_with WHO OPT: one kexec -p of the capture kernel.
load_with() {
    if [ "$1" = ours ]; then bin=/usr/sbin/kexec; else bin=/usr/sbin/kexec-tools; fi
    "$bin" "$2" -p /boot/vmlinuz --initrd=/boot/capture.img --append="$crash_append"
}
uptime_cs() { tr -d . </proc/uptime | cut -d' ' -f1; }  # centiseconds since boot
i=0
while [ "$i" -lt "$rounds" ]; do
    i=$((i + 1))
    for who_opt in ours:-c ours:-s debian:-c debian:-s; do
        who=${who_opt%%:*} opt=${who_opt#*:}
        t0=$(uptime_cs)
        load_with "$who" "$opt" >/dev/null 2>&1 || fail "$who kexec $opt -p failed (timing round $i)"
        t1=$(uptime_cs)
        echo "KK_LOADTIME $who $opt $((t1 - t0))0"  # milliseconds
        /usr/sbin/kexec "$opt" -p -u || fail "kexec $opt -p -u failed"
    done
done

mark kexec_start
case $loader in
    kernel) load_with debian -s || fail "kexec-tools -s -p (kexec_file_load) failed" ;;
    *) load_with "$loader" -c || fail "$loader kexec -c -p failed" ;;
esac
mark kexec_loaded
[ "$(cat /sys/kernel/kexec_crash_loaded)" = 1 ] || fail "kexec_crash_loaded is not 1"
echo 1 >/proc/sys/kernel/sysrq
mark panic
sleep 0.2
echo c >/proc/sysrq-trigger
fail "still alive after sysrq-c"
