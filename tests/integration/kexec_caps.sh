#!/usr/bin/env bash
# kexec asks for CAP_SYS_BOOT, not uid 0 (issue 18.11): root without the capability (a container
# that drops it; here setpriv drops it from every set) is told so, with exit status 3, before any
# kexec call; -S (status) needs no capability. Safe on any host: without CAP_SYS_BOOT the kernel
# refuses every kexec call anyway.
set -euo pipefail
: "${KEXEC:?meson sets KEXEC}"
fail() { echo "FAIL: $*" >&2; exit 1; }

cap_eff=$(awk '$1 == "CapEff:" { print $2 }' /proc/self/status)
if (( (0x$cap_eff >> 22) & 1 )); then
  # We hold it: drop it (needs CAP_SETPCAP for the bounding set, which root has).
  command -v setpriv >/dev/null || { echo "SKIP: setpriv missing (util-linux)"; exit 77; }
  setpriv --bounding-set=-sys_boot --inh-caps=-sys_boot true 2>/dev/null ||
    { echo "SKIP: cannot drop CAP_SYS_BOOT here"; exit 77; }
  nocap=(setpriv --bounding-set=-sys_boot --inh-caps=-sys_boot)
else
  nocap=()
fi
# The child really runs without it (CapEff bit 22 clear), whatever its uid.
child_eff=$("${nocap[@]}" awk '$1 == "CapEff:" { print $2 }' /proc/self/status)
(( ((0x$child_eff >> 22) & 1) == 0 )) || fail "setpriv left CAP_SYS_BOOT in $child_eff"

for args in "-u" "-p -u" "-e" "-p /nonexistent-kernel"; do
  rc=0
  # shellcheck disable=SC2086  # the options are words on purpose
  out=$("${nocap[@]}" "$KEXEC" $args 2>&1) || rc=$?
  [ "$rc" = 3 ] || fail "kexec $args without CAP_SYS_BOOT: exit $rc, not 3: $out"
  grep -q 'lacks CAP_SYS_BOOT' <<<"$out" || fail "kexec $args: message does not name CAP_SYS_BOOT: $out"
  [ "$(wc -l <<<"$out")" = 1 ] || fail "kexec $args: more than one line: $out"
done
echo "ok: kexec without CAP_SYS_BOOT exits 3 and says so (uid $(id -u))"

# -S only reads /sys: no capability needed, the usual status (0 or 1), or 2 without kexec support.
rc=0
"${nocap[@]}" "$KEXEC" -p -S >/dev/null 2>&1 || rc=$?
[ "$rc" != 3 ] || fail "kexec -p -S asked for CAP_SYS_BOOT"
echo "ok: kexec -p -S runs without CAP_SYS_BOOT (exit $rc)"
