#!/usr/bin/env bash
# arm64 vmcores on this x86_64 host: a real capture of Debian's arm64 6.1 kernel
# (tests/qemu/fixtures.sh arm64: qemu-system-aarch64 -M virt, sysrq-c, Debian's arm64
# kexec-tools) is dumped by our dumpfilter with -d 31, and
#   - the non-zero kept pages equal those of Debian's arm64 makedumpfile (run under qemu-user)
#     on the same vmcore within 0.5 %, with the same bytes (kdump_pages.py);
#   - drgn opens our dump with the arm64 debug vmlinux and reads the panicking task;
#   - --dump-dmesg gives makedumpfile's log byte for byte.
source "$(dirname "$0")/lib.sh"
command -v qemu-aarch64-static >/dev/null || it_fail "qemu-aarch64-static missing (scripts/setup.sh)"
it_tmpdir
VMCORE=$(it_fixture arm64)
eval "$("$SRCDIR/tests/qemu/fixtures.sh" env 2>/dev/null | grep -E '^KK_(CACHE|VMLINUX_ARM64|VMCORE_ARM64)=')"
MDF=(qemu-aarch64-static -L / "$KK_CACHE/arm64/tools/usr/bin/makedumpfile")
[ -x "${MDF[2]}" ] || it_fail "no arm64 makedumpfile at ${MDF[2]} (made with the fixture)"

"$DUMPFILTER" -c -d 31 "$VMCORE" "$IT_TMP/ours" || it_fail "dumpfilter -c -d 31 on the arm64 vmcore"
"${MDF[@]}" -c -d 31 "$VMCORE" "$IT_TMP/theirs" >"$IT_TMP/mdf.log" 2>&1 ||
  { tail -5 "$IT_TMP/mdf.log" >&2; it_fail "arm64 makedumpfile under qemu-user"; }
$PY "$SRCDIR/tests/integration/kdump_pages.py" compare "$IT_TMP/ours" "$IT_TMP/theirs" ||
  it_fail "arm64: kept pages differ from makedumpfile's"

# drgn: "RELEASE TID COMM sysrq|no-sysrq CPUS"; the panicking task ran sysrq_handle_crash.
read -r release tid comm sysrq cpus < <(it_drgn_facts "$IT_TMP/ours" "$KK_VMLINUX_ARM64" arm64)
[ "$release" = "$(basename "$KK_VMLINUX_ARM64" | sed 's/^vmlinux-//')" ] || it_fail "drgn: release $release"
[ "$sysrq" = sysrq ] || it_fail "drgn: the crashed thread ($tid $comm) did not run sysrq_handle_crash"
echo "ok: drgn reads our arm64 dump: $release, crashed task $tid ($comm), $cpus CPU(s)"

"$DUMPFILTER" --dump-dmesg "$VMCORE" "$IT_TMP/ours.dmesg" || it_fail "dumpfilter --dump-dmesg (arm64)"
"${MDF[@]}" --dump-dmesg "$VMCORE" "$IT_TMP/theirs.dmesg" >/dev/null 2>&1 || it_fail "makedumpfile --dump-dmesg (arm64)"
cmp "$IT_TMP/ours.dmesg" "$IT_TMP/theirs.dmesg" || it_fail "arm64 kernel logs differ"
echo "ok: arm64 kernel log identical to makedumpfile's ($(wc -l <"$IT_TMP/ours.dmesg") lines)"
