#!/usr/bin/env bash
# Our kexec on arm64, in qemu-system-aarch64 -M virt (TCG) with Debian's arm64 6.1 kernel;
# kexec and dumpfilter cross-built into build-arm64/ (scripts/test.sh runs scripts/cross-arm64.sh,
# which installs the cross packages, before meson; here only ninja brings the tree up to date):
#   - kexec -c -l + kexec -e: our arm64 purgatory checks the segments ("checks ok") and the
#     second kernel's /init sees exactly the command line we gave (device tree /chosen);
#   - kexec -c -l --test-spoil-digest + -e: the purgatory refuses the changed digest;
#   - kexec -s -l: Debian's arm64 kernel has no kexec_file_load, and kexec says so;
#   - kexec -c -p + sysrq-c: the capture kernel (linux,elfcorehdr in its device tree) runs our
#     dumpfilter on /proc/vmcore (dump, report, dmesg); drgn on this host opens the dump with the
#     arm64 debug vmlinux and reads the panicking task.
source "$(dirname "$0")/lib.sh"
command -v qemu-system-aarch64 >/dev/null || it_fail "qemu-system-aarch64 missing (scripts/setup.sh)"
it_tmpdir
[ -f "$SRCDIR/build-arm64/build.ninja" ] ||
  it_fail "no arm64 cross build tree build-arm64 (scripts/test.sh runs scripts/cross-arm64.sh)"
nice ninja -C "$SRCDIR/build-arm64" -j2 kexec/kexec dumpfilter/dumpfilter >"$IT_TMP/cross.log" 2>&1 ||
  { tail -20 "$IT_TMP/cross.log" >&2; it_fail "arm64 cross build (ninja -C build-arm64)"; }
A64_KEXEC=$SRCDIR/build-arm64/kexec/kexec
A64_DUMPFILTER=$SRCDIR/build-arm64/dumpfilter/dumpfilter
export KDUMPKIT_ARCH=arm64
boot() { "$SRCDIR/tests/qemu/kexec-boot.sh" --kexec "$A64_KEXEC" "$@" 2>"$IT_TMP/run.log" >/dev/null; }

out=$IT_TMP/reboot-c
boot --mode reboot --kexec-opt -c --timeout 500 --out "$out" ||
  { tail -30 "$IT_TMP/run.log" >&2; it_fail "arm64 kexec -c -l + -e did not boot the second kernel"; }
grep -q '^KK_CMDLINE console=ttyAMA0 panic=1 kk.stage=second$' "$out/console.log" || it_fail "second kernel's command line"
grep -q '^kdumpkit purgatory: checks ok' "$out/console.log" || it_fail "our arm64 purgatory did not say checks ok"
echo "ok: arm64 kexec -c -l + -e: load $(sed -n 's/^load=//p' "$out/timings") s," \
     "-e -> second /init $(sed -n 's/^exec=//p' "$out/timings") s"

# The refusal: a digest with one bit flipped; our purgatory must stop, nothing may boot.
out=$IT_TMP/reboot-spoil
boot --mode reboot --kexec-opt -c --spoil --timeout 300 --out "$out" ||
  { tail -30 "$IT_TMP/run.log" >&2; it_fail "arm64 kexec -c --test-spoil-digest + -e: the purgatory did not refuse"; }
grep -q '^kdumpkit purgatory: digest mismatch, not booting' "$out/console.log" || it_fail "no mismatch line (arm64)"
! grep -q 'KK_PHASE init_second' "$out/console.log" || it_fail "arm64: the second kernel ran despite the spoiled digest"
echo "ok: arm64 kexec -c --test-spoil-digest + -e: the purgatory refused"

out=$IT_TMP/reboot-s
if boot --mode reboot --kexec-opt -s --timeout 300 --out "$out"; then
  it_fail "kexec -s loaded on a kernel without kexec_file_load?"
fi
grep -q "kexec_file_load: Function not implemented (this kernel has no kexec_file_load (CONFIG_KEXEC_FILE); try -c)" \
  "$out/console.log" || { tail -5 "$out/console.log" >&2; it_fail "kexec -s: no clear message"; }
echo "ok: arm64 kexec -s: 'this kernel has no kexec_file_load (CONFIG_KEXEC_FILE); try -c'"

out=$IT_TMP/crash-c
boot --mode crash --kexec-opt -c --dumpfilter "$A64_DUMPFILTER" --mem 512M --crashkernel 192M \
    --timeout 900 --out "$out" ||
  { tail -30 "$IT_TMP/run.log" >&2; it_fail "arm64 kexec -c -p + sysrq-c: no dump from the capture kernel"; }
grep -q '^KK_DT_ELFCOREHDR ' "$out/console.log" || it_fail "capture kernel: no linux,elfcorehdr in /chosen"
VMLINUX=$(env -u KDUMPKIT_ARCH "$SRCDIR/tests/qemu/fixtures.sh" env 2>/dev/null | sed -n 's/^KK_VMLINUX_ARM64=//p')
[ -f "$VMLINUX" ] || it_fail "no arm64 debug vmlinux"
read -r release tid comm sysrq cpus < <(it_drgn_facts "$out/vmcore" "$VMLINUX" "arm64 capture")
[ "$sysrq" = sysrq ] || it_fail "drgn: crashed task $tid ($comm) did not run sysrq_handle_crash"
echo "ok: arm64 kexec -c -p: capture by our dumpfilter, panic -> capture /init" \
     "$(sed -n 's/^panic=//p' "$out/timings") s, dump $(sed -n 's/^dump=//p' "$out/timings") s;" \
     "drgn: $release, crashed task $tid ($comm)"
