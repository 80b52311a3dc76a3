#!/usr/bin/env bash
# Our kexec loads a real capture kernel and our dumpfilter writes the dump in it: Debian's 6.1
# kernel in QEMU (TCG, crashkernel=128M) runs `kexec -p` (-c: kexec_load with kdumpkit's
# purgatory; -s: kexec_file_load), panics with sysrq-c, and the capture kernel runs
# `dumpfilter -d 31 -l /proc/vmcore` and `--dump-dmesg` onto an ext4 disk
# (tests/qemu/kexec-boot.sh). Here: crash reads the dump (sys: release and PANIC; bt; log: the
# sysrq line), drgn reads init_uts_ns and the crashed thread, the dmesg file has the panic.
# With UEFI firmware installed (package ovmf), -c also runs with the first kernel booted by UEFI.
source "$(dirname "$0")/lib.sh"
: "${KEXEC:?meson sets KEXEC}"
command -v qemu-system-x86_64 >/dev/null || it_skip "qemu-system-x86_64 is not installed"
VMLINUX=$(it_vmlinux)
it_tmpdir
variants=(-c -s)
if [ -r "${KK_OVMF:-/usr/share/ovmf/OVMF.fd}" ]; then variants+=(-c:efi); else echo "note: no OVMF, no UEFI run"; fi
for variant in "${variants[@]}"; do
  opt=${variant%%:*} extra=()
  [ "$variant" = -c:efi ] && extra=(--efi)
  out="$IT_TMP/crash$variant"
  "$SRCDIR/tests/qemu/kexec-boot.sh" --mode crash --kexec-opt "$opt" "${extra[@]}" --level 31 --codec -l \
      --kexec "$KEXEC" --dumpfilter "$DUMPFILTER" --out "$out" 2>"$IT_TMP/run.log" >/dev/null ||
    { cat "$IT_TMP/run.log" >&2; it_fail "kexec $variant -p + sysrq-c + dumpfilter did not produce a dump"; }
  dump="$out/vmcore"
  release=$(sed -n 's/^KK_KERNEL //p; s/^.*Linux version \([^ ]*\) .*$/\1/p' "$out/console.log" | head -n1)
  [ -n "$release" ] || it_fail "no kernel release on the console"
  grep -q 'sysrq: Trigger a crash' "$out/vmcore-dmesg.txt" || it_fail "vmcore-dmesg.txt has no sysrq line ($variant)"
  grep -q 'Kernel panic - not syncing: sysrq triggered crash' "$out/vmcore-dmesg.txt" ||
    it_fail "vmcore-dmesg.txt has no panic line ($variant)"

  cout=$(printf 'sys\nbt\nlog\nquit\n' | timeout 300 env -u MALLOC_PERTURB_ crash -s "$VMLINUX" "$dump" 2>&1) ||
    { echo "$cout" | tail -20; it_fail "crash failed on the kexec $variant dump"; }
  grep -q "RELEASE: $release" <<<"$cout" || { echo "$cout" | head -30; it_fail "crash sys: no RELEASE $release ($variant)"; }
  grep -q 'PANIC: "Kernel panic - not syncing: sysrq triggered crash"' <<<"$cout" ||
    { echo "$cout" | head -30; it_fail "crash sys: no sysrq PANIC line ($variant)"; }
  grep -Eq '^ ?#0 ' <<<"$cout" || { echo "$cout" | head -40; it_fail "crash bt: no frame #0 ($variant)"; }
  grep -q 'sysrq: Trigger a crash' <<<"$cout" || it_fail "crash log: no sysrq line ($variant)"

  got=$(timeout 300 "${DRGN_PY[@]}" - "$dump" "$VMLINUX" <<'PYEOF'
import sys, drgn
prog = drgn.Program()
prog.set_core_dump(sys.argv[1])
prog.load_debug_info([sys.argv[2]])
release = prog["init_uts_ns"].name.release.string_().decode()
thread = prog.crashed_thread()
comm = thread.object.comm.string_().decode()
frames = " ".join(f.name or "?" for f in thread.stack_trace())
print(release, thread.tid, comm, "sysrq" if "sysrq_handle_crash" in frames else "no-sysrq")
PYEOF
  ) || it_fail "drgn failed on the kexec $variant dump"
  set -- $got
  [ "$1" = "$release" ] || it_fail "drgn release '$1' != '$release' ($variant)"
  [ -n "${3:-}" ] || it_fail "drgn: no crashed task ($variant)"
  [ "${4:-}" = sysrq ] || it_fail "drgn: sysrq_handle_crash is not on the crashed thread's stack ($variant)"
  t() { sed -n "s/^$1=//p" "$out/timings"; }
  echo "ok: kexec $variant -p: dump $(stat -c %s "$dump") B; crash + drgn (task $2 $3);" \
       "load $(t load) s, panic -> capture /init $(t panic) s, dump $(t dump) s, QEMU $(t total_qemu) s"
done
