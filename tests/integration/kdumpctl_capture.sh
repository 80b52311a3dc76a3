#!/usr/bin/env bash
# The capture environment in QEMU (tests/qemu/kdumpctl-boot.sh): `kdumpctl start` in the guest
# loads the capture initramfs our initramfs-tools hook built (real mkinitramfs), sysrq-c, and
# the capture kernel's `kdumpctl save`:
#   ext4:    writes <path>/<host>-<date>/ (0700) with vmcore, vmcore-dmesg.txt, report.txt and
#            report.json (0600), no vmcore-incomplete left; crash opens the vmcore; the log
#            and the report name the sysrq crash;
#   missing: the target disk is absent: failure_action poweroff runs, and is seen;
#   fallback: absent too, with failure_action dump_to_rootfs: the dump lands on root= instead;
#   raw:     the flattened stream (kdump.conf's default core_collector, our dumpfilter with -F)
#            on the raw disk, rebuilt with `dumpfilter -R` and opened by crash;
#   ssh:     streamed through ssh to an sshd this test starts on the host's loopback (reached
#            from the guest through QEMU user networking): <path>/<host>-<date>/vmcore.flat
#            with the log and report (0700/0600), rebuilt with -R and opened by crash.
source "$(dirname "$0")/lib.sh"
: "${KDUMPCTL:?meson sets KDUMPCTL}" "${KEXEC:?meson sets KEXEC}"
command -v qemu-system-x86_64 >/dev/null || it_skip "qemu-system-x86_64 is not installed"
command -v mkinitramfs >/dev/null || it_fail "no mkinitramfs (scripts/setup.sh installs initramfs-tools)"
VMLINUX=$(it_vmlinux)
it_tmpdir
boot() {
  "$SRCDIR/tests/qemu/kdumpctl-boot.sh" --target "$1" --out "$IT_TMP/$1" 2>"$IT_TMP/$1.log" >/dev/null ||
    { cat "$IT_TMP/$1.log" >&2; it_fail "kdumpctl-boot.sh --target $1 failed"; }
}
t() { sed -n "s/^$2=//p" "$IT_TMP/$1/timings"; }

# ext4: the whole flow, the files, their modes, and crash on the vmcore.
boot ext4
out=$IT_TMP/ext4
release=$(sed -n 's/^.*Linux version \([^ ]*\) .*$/\1/p' "$out/console.log" | head -n1)
grep -qx 'dir 0700' "$out/modes" || it_fail "dump directory mode: $(cat "$out/modes")"
for f in vmcore vmcore-dmesg.txt report.txt report.json; do
  grep -qx "$f 0600" "$out/modes" || it_fail "$f mode: $(cat "$out/modes")"
done
[[ $(cat "$out/dirname") =~ ^kkguest-[0-9]{4}-[0-9]{2}-[0-9]{2}-[0-9]{2}:[0-9]{2}:[0-9]{2}$ ]] ||
  it_fail "dump directory is not <host>-<date>: $(cat "$out/dirname")"
[[ $(head -c 8 "$out/vmcore" | tr -d '\0') == KDUMP* ]] || it_fail "vmcore is not kdump-compressed"
grep -q 'Kernel panic - not syncing: sysrq triggered crash' "$out/vmcore-dmesg.txt" || it_fail "vmcore-dmesg.txt has no panic line"
grep -Eq '^  kind +sysrq triggered crash$' "$out/report.txt" || it_fail "report.txt does not name the sysrq crash"
/usr/bin/python3 -m json.tool "$out/report.json" >/dev/null || it_fail "report.json does not parse"
cout=$(it_crash_facts "$out/vmcore" "$VMLINUX" "the kdumpctl save dump" "$release") || exit 1
grep -q 'PANIC: "Kernel panic - not syncing: sysrq triggered crash"' <<<"$cout" || it_fail "crash: no sysrq PANIC"
grep -q 'irqpoll nr_cpus=1 reset_devices' "$out/console.log" || it_fail "capture command line lacks the additions"
# The capture kernel's command line (it starts with elfcorehdr=): present first, then without
# crashkernel=, so that a missing line cannot pass.
capline=$(grep -m1 'Command line: elfcorehdr' "$out/console.log") || it_fail "no capture kernel command line in the console log"
[[ $capline != *crashkernel=* ]] || it_fail "capture command line kept crashkernel=: $capline"
echo "ok: ext4: $(cat "$out/dirname") with vmcore $(stat -c %s "$out/vmcore") B, log, report (0700/0600); crash opens it;" \
     "panic -> collector $(t ext4 panic_to_collector) s, collector $(t ext4 collector_to_saved) s, QEMU $(t ext4 qemu) s"

# missing: no disk at all.
boot missing
echo "ok: missing target: failure_action poweroff ran $(t missing panic_to_action) s after the panic; QEMU $(t missing qemu) s"

# fallback: failure_action dump_to_rootfs saves to the root file system (root=LABEL=kkroot).
boot fallback
out=$IT_TMP/fallback
grep -qx 'vmcore 0600' "$out/modes" && grep -qx 'dir 0700' "$out/modes" || it_fail "dump_to_rootfs modes: $(cat "$out/modes")"
it_crash_facts "$out/vmcore" "$VMLINUX" "the dump_to_rootfs dump" "$release" >/dev/null || exit 1
echo "ok: missing target + failure_action dump_to_rootfs: $(cat "$out/dirname") on the root disk, crash opens it; QEMU $(t fallback qemu) s"

# raw: the flattened stream on the raw disk.
boot raw
out=$IT_TMP/raw
"$DUMPFILTER" -R "$out/vmcore" <"$out/raw.img" 2>"$IT_TMP/R.err" ||
  it_fail "dumpfilter -R on the raw disk failed: $(cat "$IT_TMP/R.err")"
it_crash_facts "$out/vmcore" "$VMLINUX" "the raw target dump" "$release" >/dev/null || exit 1
echo "ok: raw: flattened stream on /dev/vda rebuilt with dumpfilter -R ($(stat -c %s "$out/vmcore") B), crash opens it; QEMU $(t raw qemu) s"

# ssh: the same stream over ssh, plus the log and the report.
boot ssh
out=$IT_TMP/ssh
grep -qx 'dir 700' "$out/modes" || it_fail "ssh dump directory mode: $(cat "$out/modes")"
for f in vmcore.flat vmcore-dmesg.txt report.txt report.json; do
  grep -qx "$f 600" "$out/modes" || it_fail "ssh $f mode: $(cat "$out/modes")"
done
grep -q 'Kernel panic - not syncing: sysrq triggered crash' "$out/vmcore-dmesg.txt" || it_fail "ssh: vmcore-dmesg.txt has no panic line"
grep -Eq '^  kind +sysrq triggered crash$' "$out/report.txt" || it_fail "ssh: report.txt does not name the sysrq crash"
"$DUMPFILTER" -R "$out/vmcore" <"$out/vmcore.flat" || it_fail "dumpfilter -R on vmcore.flat failed"
it_crash_facts "$out/vmcore" "$VMLINUX" "the ssh target dump" "$release" >/dev/null || exit 1
echo "ok: ssh: $(cat "$out/dirname")/vmcore.flat ($(stat -c %s "$out/vmcore.flat") B) with log and report over ssh," \
     "rebuilt with dumpfilter -R, crash opens it; collector $(t ssh collector_to_saved) s, QEMU $(t ssh qemu) s"
