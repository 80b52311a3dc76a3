#!/bin/bash
# kdumpctl-boot.sh: the capture environment end to end in QEMU (TCG). The host builds the
# capture initramfs with `kdumpctl rebuild` and our initramfs-tools hook (real mkinitramfs,
# tests/qemu/capture-lib.sh) from a kdump.conf for --target; Debian's 6.1 kernel boots a
# busybox first kernel (guest/init-kdumpctl.sh) that runs `kdumpctl start` (our kexec -p
# loads that image), checks `kdumpctl status`, and crashes with `kdumpctl test --force`. The
# capture kernel runs initramfs-tools' init and our boot script, which runs `kdumpctl save`.
#
# usage: kdumpctl-boot.sh --target ext4|missing|fallback|raw|ssh --out DIR [--mem 1G] [--crashkernel 192M]
#                         [--timeout S]
#   ext4     kdump.conf "ext4 LABEL=kkdump", path /var/crash: the dump lands on an ext4 virtio
#            disk; the host takes <path>/<dir>/{vmcore,vmcore-dmesg.txt,report.txt,report.json}
#            off it with debugfs and records their modes
#   missing  the same kdump.conf, but no disk: kdumpctl save must give up on the device and
#            run failure_action (poweroff), then the host sees it on the console
#   fallback the target disk is missing too, but failure_action is dump_to_rootfs: the only
#            disk is the "root file system" (ext4, LABEL=kkroot, root=LABEL=kkroot on the
#            first kernel's command line, which kdumpctl passes on), and the dump must land
#            there under path
#   raw      "raw /dev/vda" with the default core_collector (our dumpfilter, -F added; or
#            RAW_COLLECTOR); the host keeps the raw disk as raw.img
#   ssh      "ssh root@10.0.2.100": an sshd of the test on the host's 127.0.0.1 (a random port;
#            capture-lib.sh kk_start_sshd), reached from the guest through QEMU user networking
#            (guestfwd: 10.0.2.100:22 -> busybox nc -> 127.0.0.1:PORT); same flattened
#            collector; the host keeps <dir>/{vmcore.flat,vmcore-dmesg.txt,report.txt,...}
# Needs KDUMPCTL, KEXEC, DUMPFILTER (build outputs; meson sets them). Writes console.log,
# stamps, kdump.conf and the files above into OUT. Exit 0 when the flow reached its end.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$KK_LIB_DIR/capture-lib.sh"

target='' out='' mem=1G crashkernel=192M timeout=''
while (($#)); do
    case $1 in
        --target) target=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --mem) mem=$2; shift 2 ;;
        --crashkernel) crashkernel=$2; shift 2 ;;
        --timeout) timeout=$2; shift 2 ;;
        -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) kk_die "unknown argument $1 (see --help)" ;;
    esac
done
case $target in ext4 | missing | fallback | raw | ssh) ;; *) kk_die "--target ext4|missing|fallback|raw|ssh is required" ;; esac
[[ -n $out ]] || kk_die "--out DIR is required"
: "${KDUMPCTL:?} ${KEXEC:?} ${DUMPFILTER:?}"
timeout=${timeout:-420}
# The flattened-stream collector for the raw and ssh targets: kdump.conf's default (our
# dumpfilter, -F added) unless RAW_COLLECTOR names another.
collector_line=()
[[ -n ${RAW_COLLECTOR:-} ]] && collector_line=("core_collector $RAW_COLLECTOR")

kk_fetch_kernel
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -f "$out"/{console.log,stamps,vmcore,vmcore-dmesg.txt,report.txt,report.json,raw.img,modes}
work=$(mktemp -d "${TMPDIR:-/tmp}/kk-kdumpctl-boot.XXXXXX")
trap 'rm -rf "$work"' EXIT

conf=$out/kdump.conf
case $target in
    ext4 | missing)
        printf '%s\n' '# kdumpctl-boot.sh' 'path /var/crash' 'ext4 LABEL=kkdump' \
            'extra_modules virtio_blk virtio_pci' 'failure_action poweroff' 'final_action poweroff' \
            'force_no_rebuild 1' >"$conf" ;;
    fallback)
        printf '%s\n' '# kdumpctl-boot.sh' 'path /var/crash' 'ext4 LABEL=kkdump' \
            'extra_modules virtio_blk virtio_pci' 'failure_action dump_to_rootfs' 'final_action poweroff' \
            'force_no_rebuild 1' >"$conf" ;;
    raw)
        printf '%s\n' '# kdumpctl-boot.sh' 'raw /dev/vda' "${collector_line[@]}" \
            'extra_modules virtio_blk virtio_pci' 'failure_action poweroff' 'final_action poweroff' \
            'force_no_rebuild 1' >"$conf" ;;
    ssh)
        sshdir=$work/sshd
        mkdir -p "$sshdir" "$work/remote"
        port=$((20000 + RANDOM % 20000))
        kk_start_sshd "$sshdir" "$port" || kk_die "could not start sshd"
        # The host key as kdumpctl propagate would have recorded it: the capture kernel checks it.
        printf '10.0.2.100 %s\n' "$(cut -d' ' -f1,2 "$sshdir/hostkey.pub")" >"$sshdir/client.known_hosts"
        trap 'kill "$(cat "$sshdir/sshd.pid" 2>/dev/null)" 2>/dev/null; rm -rf "$work"' EXIT
        printf '%s\n' '# kdumpctl-boot.sh' "path $work/remote/crash" 'ssh root@10.0.2.100' "sshkey $sshdir/client" \
            "${collector_line[@]}" 'extra_modules virtio_net virtio_pci' 'failure_action poweroff' \
            'final_action poweroff' 'force_no_rebuild 1' >"$conf" ;;
esac

t0=$(kk_now)
capture=$work/initrd-capture.img
kk_capture_initramfs mkinitramfs "$conf" "$capture" || kk_die "kdumpctl rebuild (mkinitramfs) failed"
kk_log "capture initramfs (mkinitramfs + our hook): $(stat -c %s "$capture") B in $KK_CAPTURE_SECONDS s"
mapfile -t kx < <(kk_binary_items "$KEXEC" /usr/sbin/kexec)
mapfile -t kc < <(kk_binary_items "$KDUMPCTL" /usr/sbin/kdumpctl)
# kdumpctl start checks that the ssh target's host key is recorded (it is: no ssh-keyscan).
first_extra=()
[[ $target == ssh ]] && first_extra=("$sshdir/client.known_hosts=$sshdir/client.known_hosts")
kk_build_initramfs "$work/first.cpio.gz" "$KK_LIB_DIR/guest/init-kdumpctl.sh" "${kx[@]}" "${kc[@]}" \
    "$KK_VMLINUZ=/boot/vmlinuz-$KK_KVER" "$capture=/var/lib/kdumpkit/initrd-$KK_KVER.img" "$conf=/etc/kdump.conf" \
    "${first_extra[@]}"
first=$KK_LAST_INITRAMFS
t_build=$(kk_elapsed "$t0")

disk_args=()
disk=$work/disk.img
case $target in
    ext4)
        truncate -s 1200M "$disk"
        mke2fs -q -F -t ext4 -L kkdump -m 0 -E lazy_itable_init=0,lazy_journal_init=0 "$disk" || kk_die "mke2fs failed"
        disk_args=(-d "$disk") ;;
    fallback)
        truncate -s 1200M "$disk"
        mke2fs -q -F -t ext4 -L kkroot -m 0 -E lazy_itable_init=0,lazy_journal_init=0 "$disk" || kk_die "mke2fs failed"
        disk_args=(-d "$disk") ;;
    raw)
        truncate -s 1200M "$disk"
        disk_args=(-d "$disk") ;;
    missing) ;;
esac
qemu_net=()
[[ $target == ssh ]] && qemu_net=(-netdev "user,id=n0,restrict=on,guestfwd=tcp:10.0.2.100:22-cmd:busybox nc 127.0.0.1 $port"
    -device virtio-net-pci,netdev=n0)

append="console=ttyS0 panic=1 crashkernel=$crashkernel"
[[ $target == fallback ]] && append+=" root=LABEL=kkroot"
kk_log "booting: $mem RAM, crashkernel=$crashkernel, target $target, timeout ${timeout}s"
t_qemu=$(kk_now)
rc=0
kk_qemu_boot -k "$KK_VMLINUZ" -i "$first" -a "$append" -m "$mem" -t "$timeout" -l "$out/console.log" \
    -s "$out/stamps" -S 'kdumpctl: |Kernel panic - not syncing' "${disk_args[@]}" -- "${qemu_net[@]}" || rc=$?
t_qemu=$(kk_elapsed "$t_qemu")
log=$out/console.log
errors=()
((rc == 0)) || errors+=("QEMU exited with status $rc (124: timeout)")
grep -h 'KK_FAIL' "$log" >&2 && errors+=("the first kernel failed: $(grep -m1 KK_FAIL "$log")")
grep -q 'KK_PHASE kexec_loaded' "$log" || errors+=("kdumpctl start did not load the capture kernel")
grep -q 'kdumpctl: running ' "$log" || [[ $target == missing ]] ||
    errors+=("the capture kernel never ran kdumpctl save's collector")

case $target in
    ext4 | fallback)
        if [[ $target == fallback ]]; then
            grep -q 'kdumpctl: saving the dump failed: LABEL=kkdump: no such block device' "$log" ||
                errors+=("kdumpctl save did not report the missing device")
            grep -q '^kdumpctl: failure_action dump_to_rootfs' "$log" || errors+=("failure_action dump_to_rootfs did not run")
            grep -q '^kdumpctl: saved the dump to /kdumproot/var/crash/kkguest-.* (dump_to_rootfs)' "$log" ||
                errors+=("dump_to_rootfs did not save the dump")
        else
            grep -q '^kdumpctl: saved the dump to /kdumproot/var/crash/kkguest-' "$log" ||
                errors+=("kdumpctl save did not report the dump saved")
        fi
        dir=$(debugfs -R 'ls -p /var/crash' "$disk" 2>/dev/null | awk -F/ '$6 ~ /^kkguest-/ { print $6; exit }')
        if [[ -z $dir ]]; then
            errors+=("no /var/crash/kkguest-* directory on the disk")
        else
            echo "$dir" >"$out/dirname"
            debugfs -R "stat /var/crash/$dir" "$disk" 2>/dev/null | sed -n 's/.*Mode: *\([0-7]*\).*/dir \1/p' >"$out/modes"
            for f in vmcore vmcore-dmesg.txt report.txt report.json; do
                debugfs -R "dump /var/crash/$dir/$f $out/$f" "$disk" 2>/dev/null
                [[ -s $out/$f ]] || errors+=("no $f in /var/crash/$dir")
                debugfs -R "stat /var/crash/$dir/$f" "$disk" 2>/dev/null | sed -n "s/.*Mode: *\([0-7]*\).*/$f \1/p" >>"$out/modes"
            done
            debugfs -R "ls /var/crash/$dir" "$disk" 2>/dev/null | grep -q vmcore-incomplete &&
                errors+=("vmcore-incomplete left beside vmcore")
        fi ;;
    missing)
        grep -q 'kdumpctl: saving the dump failed: LABEL=kkdump: no such block device' "$log" ||
            errors+=("kdumpctl save did not report the missing device")
        grep -q '^kdumpctl: failure_action poweroff' "$log" || errors+=("failure_action poweroff did not run")
        grep -q '^kdumpctl: final_action' "$log" && errors+=("final_action ran after a powering-off failure_action") ;;
    raw)
        grep -q '^kdumpctl: saved the dump to /dev/vda' "$log" || errors+=("kdumpctl save did not report the raw dump")
        mv "$disk" "$out/raw.img" ;;
    ssh)
        grep -q 'kdumpctl: saved the dump to root@10.0.2.100:' "$log" || errors+=("kdumpctl save did not report the ssh dump")
        dir=$(cd "$work/remote/crash" 2>/dev/null && ls -d kkguest-* 2>/dev/null | head -n1)
        if [[ -z $dir ]]; then
            errors+=("no kkguest-* directory arrived over ssh")
        else
            echo "$dir" >"$out/dirname"
            echo "dir $(stat -c %a "$work/remote/crash/$dir")" >"$out/modes"
            for f in vmcore.flat vmcore-dmesg.txt report.txt report.json; do
                if [[ -s $work/remote/crash/$dir/$f ]]; then
                    cp "$work/remote/crash/$dir/$f" "$out/$f"
                    echo "$f $(stat -c %a "$work/remote/crash/$dir/$f")" >>"$out/modes"
                else
                    errors+=("no $f arrived over ssh")
                fi
            done
        fi
        grep -q 'Accepted publickey for root' "$sshdir/sshd.log" || errors+=("sshd saw no login") ;;
esac
grep -q "^kdumpctl: final_action poweroff" "$log" || [[ $target == missing ]] || errors+=("final_action poweroff did not run")

stamp_of() { awk -v k="$1" 'index($0, k) { print $1; exit }' "$out/stamps"; }
s_panic=$(stamp_of 'Kernel panic - not syncing') s_run=$(stamp_of 'kdumpctl: running') s_saved=$(stamp_of 'kdumpctl: saved')
s_end=$(stamp_of 'kdumpctl: final_action')
[[ $target == missing || $target == fallback ]] && s_end=$(stamp_of 'kdumpctl: failure_action')
since() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "") print "?"; else printf "%.1f", b - a }'; }
{
    echo "build=$t_build"
    echo "qemu=$t_qemu"
    echo "panic_to_collector=$(since "$s_panic" "$s_run")"
    echo "collector_to_saved=$(since "$s_run" "$s_saved")"
    echo "panic_to_action=$(since "$s_panic" "$s_end")"
    echo "capture_img=$(stat -c %s "$capture")"
} >"$out/timings"
if ((${#errors[@]})); then
    for e in "${errors[@]}"; do printf '[kk] FAIL: %s\n' "$e" >&2; done
    tail -n 40 "$log" | sed 's/^/   | /' >&2
    exit 1
fi
printf '%s\n' "$out"
