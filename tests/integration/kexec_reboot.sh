#!/usr/bin/env bash
# Our kexec reboots a real kernel: Debian's 6.1 kernel in QEMU (TCG) loads itself with
# `kexec -l` (-c: kexec_load with kdumpkit's purgatory; -s: kexec_file_load) and `kexec -e`
# enters it; the second kernel's /init must see exactly the command line we gave. With -c the
# console must show our purgatory's "checks ok" (tests/qemu/kexec-boot.sh checks all of this).
# With UEFI firmware installed (package ovmf), -c also runs with the first kernel booted by UEFI,
# and the second kernel must have EFI too (our load passes the runtime map on).
# Then -c:spoil: `kexec -c -l --test-spoil-digest` + `kexec -e`, and the purgatory must refuse:
# its mismatch line with both digests, and no second kernel within --spoil-wait seconds.
source "$(dirname "$0")/lib.sh"
: "${KEXEC:?meson sets KEXEC}"
command -v qemu-system-x86_64 >/dev/null || it_skip "qemu-system-x86_64 is not installed"
it_tmpdir
variants=(-c -s)
[ -r "${KK_OVMF:-/usr/share/ovmf/OVMF.fd}" ] || it_fail "no OVMF for the UEFI run (scripts/setup.sh installs ovmf; or KK_OVMF=)"
variants+=(-c:efi)
for variant in "${variants[@]}"; do
  opt=${variant%%:*} extra=()
  [ "$variant" = -c:efi ] && extra=(--efi)
  out="$IT_TMP/reboot$variant"
  "$SRCDIR/tests/qemu/kexec-boot.sh" --mode reboot --kexec-opt "$opt" "${extra[@]}" --kexec "$KEXEC" \
      --out "$out" 2>"$IT_TMP/run.log" >/dev/null ||
    { cat "$IT_TMP/run.log" >&2; it_fail "kexec $variant -l + kexec -e did not boot the second kernel"; }
  grep -q '^KK_CMDLINE console=ttyS0 panic=1 kk.stage=second$' "$out/console.log" ||
    it_fail "second kernel's command line (kexec $variant)"
  # After a UEFI boot our load passes the EFI runtime map on (SETUP_EFI): the second kernel has
  # EFI, runtime map included.
  if [ "$variant" = -c:efi ]; then
    grep -q '^KK_EFI .*runtime-map' "$out/console.log" ||
      it_fail "the second kernel has no /sys/firmware/efi/runtime-map after a UEFI boot (kexec $variant)"
  fi
  echo "ok: kexec $variant -l + -e: load $(sed -n 's/^load=//p' "$out/timings") s," \
       "-e -> second /init $(sed -n 's/^exec=//p' "$out/timings") s," \
       "QEMU $(sed -n 's/^total_qemu=//p' "$out/timings") s"
done

# The refusal (kexec-boot.sh --spoil checks the digests and that nothing booted; see there).
out="$IT_TMP/reboot-c:spoil"
"$SRCDIR/tests/qemu/kexec-boot.sh" --mode reboot --kexec-opt -c --spoil --kexec "$KEXEC" \
    --out "$out" 2>"$IT_TMP/run.log" >/dev/null ||
  { cat "$IT_TMP/run.log" >&2; it_fail "kexec -c -l --test-spoil-digest + -e: the purgatory did not refuse as it must"; }
grep -q '^kdumpkit purgatory: digest mismatch, not booting$' "$out/console.log" || it_fail "no mismatch line (-c:spoil)"
! grep -q 'KK_PHASE init_second' "$out/console.log" || it_fail "the second kernel ran despite the spoiled digest"
echo "ok: kexec -c -l --test-spoil-digest + -e: the purgatory refused" \
     "$(sed -n 's/^refused=//p' "$out/timings") s after -e, no second kernel in" \
     "$(sed -n 's/^refused_wait=//p' "$out/timings") s; QEMU $(sed -n 's/^total_qemu=//p' "$out/timings") s"
