#!/usr/bin/env bash
# Our kexec loads a real capture kernel and our dumpfilter writes the dump in it: Debian's 6.1
# kernel in QEMU (TCG, crashkernel=128M) runs `kexec -p` (-c: kexec_load with kdumpkit's
# purgatory; -s: kexec_file_load), panics with sysrq-c, and the capture kernel runs
# `dumpfilter -d 31 -l --report /mnt/report.txt /proc/vmcore` and `--dump-dmesg` onto an ext4
# disk (tests/qemu/kexec-boot.sh). Here: crash reads the dump (sys: release and PANIC; bt; log:
# the sysrq line), drgn reads init_uts_ns and the crashed thread, the dmesg file has the panic,
# and the triage report (report.json, report.txt) parses and names the sysrq crash.
# Runs: -c and -s (1 GiB, 1 vCPU); -c:4g, a 4 GiB guest with 2 vCPUs and crashkernel=96M
# (the smallest reservation the capture must fit), where crash, drgn and the report must all
# see 2 CPUs, and whose capture kernel boots with nr_cpus=2 (96M is also the smallest for 2 and
# 4 capture CPUs, bench/README.md): kexec-boot.sh --capture-cpus 2 checks that it has 2 CPUs and
# that dumpfilter ran 2 threads; with UEFI firmware installed (package ovmf), -c:efi, the first
# kernel booted by UEFI, whose capture kernel must have EFI too (runtime map passed on). Then
# -c:spoil: the load gets kexec --test-spoil-digest and the purgatory must refuse to enter the
# capture kernel on the panic.
source "$(dirname "$0")/lib.sh"
: "${KEXEC:?meson sets KEXEC}"
command -v qemu-system-x86_64 >/dev/null || it_skip "qemu-system-x86_64 is not installed"
VMLINUX=$(it_vmlinux)
it_tmpdir
variants=(-c -s -c:4g)
[ -r "${KK_OVMF:-/usr/share/ovmf/OVMF.fd}" ] || it_fail "no OVMF for the UEFI run (scripts/setup.sh installs ovmf; or KK_OVMF=)"
variants+=(-c:efi)
for variant in "${variants[@]}"; do
  opt=${variant%%:*} extra=() cpus=1 codec=-l
  case $variant in
    # The file-load capture writes ELF (-E): crash and drgn read that form too.
    -s) codec=-E ;;
    -c:efi) extra=(--efi) ;;
    # Lean: the default 16 MiB fill. At 96M the capture /init has ~10 MB free (88M runs out of
    # memory unpacking the capture image).
    -c:4g) extra=(--mem 4G --cpus 2 --fill 16 --crashkernel 96M --capture-cpus 2); cpus=2 ;;
  esac
  out="$IT_TMP/crash$variant"
  "$SRCDIR/tests/qemu/kexec-boot.sh" --mode crash --kexec-opt "$opt" "${extra[@]}" --level 31 --codec "$codec" \
      --kexec "$KEXEC" --dumpfilter "$DUMPFILTER" --out "$out" 2>"$IT_TMP/run.log" >/dev/null ||
    { cat "$IT_TMP/run.log" >&2; it_fail "kexec $variant -p + sysrq-c + dumpfilter did not produce a dump"; }
  dump="$out/vmcore"
  release=$(sed -n 's/^KK_KERNEL //p; s/^.*Linux version \([^ ]*\) .*$/\1/p' "$out/console.log" | head -n1)
  [ -n "$release" ] || it_fail "no kernel release on the console"
  grep -q 'sysrq: Trigger a crash' "$out/vmcore-dmesg.txt" || it_fail "vmcore-dmesg.txt has no sysrq line ($variant)"
  grep -q 'Kernel panic - not syncing: sysrq triggered crash' "$out/vmcore-dmesg.txt" ||
    it_fail "vmcore-dmesg.txt has no panic line ($variant)"

  cout=$(it_crash_facts "$dump" "$VMLINUX" "the kexec $variant dump" "$release") || exit 1
  grep -q 'PANIC: "Kernel panic - not syncing: sysrq triggered crash"' <<<"$cout" ||
    { echo "$cout" | head -30; it_fail "crash sys: no sysrq PANIC line ($variant)"; }
  grep -Eq "^ +CPUS: $cpus\$" <<<"$cout" || { echo "$cout" | head -30; it_fail "crash sys: CPUS is not $cpus ($variant)"; }
  if [ "$variant" = -c:4g ]; then  # nr_cpus=2 in the capture kernel, and dumpfilter used both
    grep -q '^KK_CPUS online=0-1 count=2' "$out/console.log" || it_fail "the capture kernel does not have 2 CPUs ($variant)"
    grep -q '^KK_RUSAGE rc=0 .*max_threads=2$' "$out/console.log" || it_fail "dumpfilter did not run 2 threads ($variant)"
  fi
  if [ "$variant" = -c:efi ]; then  # the capture kernel kept EFI (SETUP_EFI + runtime map)
    grep -q '^KK_EFI .*runtime-map' "$out/console.log" ||
      it_fail "the capture kernel has no /sys/firmware/efi/runtime-map after a UEFI boot ($variant)"
  fi

  got=$(it_drgn_facts "$dump" "$VMLINUX" "the kexec $variant dump") || exit 1
  # shellcheck disable=SC2086  # words on purpose
  set -- $got
  [ "$1" = "$release" ] || it_fail "drgn release '$1' != '$release' ($variant)"
  [ -n "${3:-}" ] || it_fail "drgn: no crashed task ($variant)"
  [ "${4:-}" = sysrq ] || it_fail "drgn: sysrq_handle_crash is not on the crashed thread's stack ($variant)"
  [ "${5:-}" = "$cpus" ] || it_fail "drgn: ${5:-?} online CPUs, expected $cpus ($variant)"

  # The triage report written in the capture kernel: valid JSON naming the sysrq crash, one
  # NT_PRSTATUS note per CPU; the text names it too.
  /usr/bin/python3 -m json.tool "$out/report.json" >/dev/null || it_fail "report.json does not parse ($variant)"
  /usr/bin/python3 - "$out/report.json" "$cpus" <<'PYEOF' || it_fail "report.json does not describe the sysrq crash on $cpus CPU(s) ($variant)"
import json, sys
r = json.load(open(sys.argv[1]))
cpus = int(sys.argv[2])
c = r["crash"]
problems = []
if c["kind"] != "sysrq" or c["kind_description"] != "sysrq triggered crash":
    problems.append(f"kind {c['kind']!r} / {c['kind_description']!r}")
if c["panic_message"] != "sysrq triggered crash":
    problems.append(f"panic_message {c['panic_message']!r}")
if "sysrq_handle_crash" not in c["call_trace"]:
    problems.append("no sysrq_handle_crash in call_trace")
if r["vmcore"]["cpus"] != cpus or len(r["prstatus"]["pids"]) != cpus:
    problems.append(f"vmcore.cpus {r['vmcore']['cpus']}, {len(r['prstatus']['pids'])} NT_PRSTATUS")
if r["dump"]["path"] != "/mnt/vmcore":
    problems.append(f"dump.path {r['dump']['path']!r}")
for p in problems:
    print("report.json:", p, file=sys.stderr)
sys.exit(1 if problems else 0)
PYEOF
  grep -Eq '^  kind +sysrq triggered crash$' "$out/report.txt" || it_fail "report.txt: no 'kind sysrq triggered crash' ($variant)"
  t() { sed -n "s/^$1=//p" "$out/timings"; }
  echo "ok: kexec $variant -p: dump $(stat -c %s "$dump") B; crash + drgn (task $2 $3, $5 CPU); report;" \
       "load $(t load) s, panic -> capture /init $(t panic) s, dump $(t dump) s, QEMU $(t total_qemu) s"
done

# The refusal: a spoiled digest (kexec -c -p --test-spoil-digest) and sysrq-c. kexec-boot.sh
# --spoil checks that the purgatory printed the mismatch with both digests (the handed-over one
# and the real one, one bit apart, as kexec -d printed them at load) and that no capture kernel
# started within --spoil-wait seconds, then stops QEMU; no fill, no dump disk.
out="$IT_TMP/crash-c:spoil"
"$SRCDIR/tests/qemu/kexec-boot.sh" --mode crash --kexec-opt -c --spoil --fill 0 \
    --kexec "$KEXEC" --dumpfilter "$DUMPFILTER" --out "$out" 2>"$IT_TMP/run.log" >/dev/null ||
  { cat "$IT_TMP/run.log" >&2; it_fail "kexec -c -p --test-spoil-digest: the purgatory did not refuse as it must"; }
grep -q '^kdumpkit purgatory: digest mismatch, not booting$' "$out/console.log" || it_fail "no mismatch line (-c:spoil)"
! grep -q 'KK_PHASE init_capture' "$out/console.log" || it_fail "the capture kernel ran despite the spoiled digest"
echo "ok: kexec -c -p --test-spoil-digest: the purgatory refused $(sed -n 's/^refused=//p' "$out/timings") s" \
     "after the panic, no capture kernel in $(sed -n 's/^refused_wait=//p' "$out/timings") s; QEMU" \
     "$(sed -n 's/^total_qemu=//p' "$out/timings") s"
