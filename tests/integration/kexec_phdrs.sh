#!/usr/bin/env bash
# Our kexec -c -p and Debian's kexec-tools (kexec_load, its own purgatory) in the same guest
# (tests/qemu/kexec-compare.sh: Debian's 6.1 kernel, 512 MiB, 1 vCPU, crashkernel=128M, nokaslr
# so that two boots lay memory out alike): the capture kernel's /proc/vmcore must have the same
# program headers after either load: type, p_paddr, p_vaddr, sizes, flags (offsets are the
# capture kernel's own). That includes the PT_LOAD of the low 640 KiB, which both loaders back
# up into the reservation before the capture kernel reuses that memory: a random word the first
# kernel wrote at 0x80000 must be in /proc/vmcore after either load.
# With UEFI firmware installed (package ovmf) the same again with the first kernel booted by
# UEFI, where our capture kernel must also have EFI runtime services (we pass the runtime map
# and SETUP_EFI): /sys/firmware/efi/runtime-map and systab there, and efivarfs lists the
# firmware's variables (each one a GetNextVariableName runtime call).
source "$(dirname "$0")/lib.sh"
: "${KEXEC:?meson sets KEXEC}"
command -v qemu-system-x86_64 >/dev/null || it_skip "qemu-system-x86_64 is not installed"
[ -x /usr/sbin/kexec ] || it_skip "Debian's kexec-tools is not installed"
it_tmpdir
variants=(bios)
[ -r "${KK_OVMF:-/usr/share/ovmf/OVMF.fd}" ] || it_fail "no OVMF for the UEFI run (scripts/setup.sh installs ovmf; or KK_OVMF=)"
variants+=(efi)
for v in "${variants[@]}"; do
  extra=()
  [ "$v" = efi ] && extra=(--efi)
  for who in ours debian; do
    "$SRCDIR/tests/qemu/kexec-compare.sh" --loader "$who" "${extra[@]}" --kexec "$KEXEC" \
        --out "$IT_TMP/$v-$who" 2>"$IT_TMP/run.log" >/dev/null ||
      { tail -n 40 "$IT_TMP/run.log" >&2; it_fail "$v: the capture after $who kexec -c -p did not print its /proc/vmcore header"; }
  done
  ours=$IT_TMP/$v-ours/phdrs debian=$IT_TMP/$v-debian/phdrs
  if ! diff -u "$debian" "$ours" >"$IT_TMP/diff"; then
    cat "$IT_TMP/diff" >&2
    it_fail "$v: /proc/vmcore program headers differ (- Debian's kexec-tools, + ours)"
  fi
  # The same, and not trivially: notes, the kernel text, and the backed-up low memory.
  grep -q '^NOTE ' "$ours" || it_fail "$v: no PT_NOTE"
  grep -q '^LOAD [^ ]* 0xffffffff8' "$ours" || it_fail "$v: no kernel text PT_LOAD"
  grep -q '^LOAD 0x1000 ' "$ours" || it_fail "$v: no PT_LOAD for the low memory at 0x1000"
  grep -q 'kdumpkit purgatory: checks ok' "$IT_TMP/$v-ours/console.log" || it_fail "$v: our purgatory did not run"
  # The backup holds the crashed kernel's low memory: the first kernel wrote a random word at
  # 0x80000 (devmem), and /proc/vmcore must show it there after either load.
  for who in ours debian; do
    log=$IT_TMP/$v-$who/console.log
    want=$(sed -n 's/^KK_LOWMARK //p' "$log" | head -n1)
    got=$(sed -n 's/^KK_LOWMARK_VMCORE //p' "$log" | head -n1)
    [ -n "$want" ] || it_fail "$v: the first kernel could not write its low-memory mark ($who)"
    [ "$got" = "$want" ] ||
      it_fail "$v: /proc/vmcore has '$got' at 0x80000, the crashed kernel had '$want' there ($who's load)"
  done
  echo "ok: $v: $(wc -l <"$ours") program headers equal ($(grep -c '^LOAD' "$ours") PT_LOAD):"
  sed 's/^/    /' "$ours"
  if [ "$v" = efi ]; then
    log=$IT_TMP/efi-ours/console.log
    efi=$(sed -n 's/^KK_CAPTURE_EFI //p' "$log" | head -n1)
    vars=$(sed -n 's/^KK_CAPTURE_EFIVARS //p' "$log" | head -n1)
    for f in runtime-map systab runtime fw_vendor config_table; do
      [[ " $efi " == *" $f "* ]] || it_fail "efi: the capture kernel's /sys/firmware/efi has no $f ($efi)"
    done
    [ "${vars:-0}" -gt 0 ] || it_fail "efi: efivarfs lists no variables in the capture kernel (EFI runtime services?)"
    awk '/sysrq: Trigger a crash/ { c = 1 } c && /efi: EFI v/ { found = 1 } END { exit !found }' "$log" ||
      it_fail "efi: the capture kernel printed no 'efi: EFI v...' line"
    echo "ok: efi: the capture kernel after our kexec -c -p has EFI runtime services ($vars variables; /sys/firmware/efi: $efi)"
  fi
done
