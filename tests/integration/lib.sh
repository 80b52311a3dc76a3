# lib.sh: shared by the integration tests (sourced). Meson passes DUMPFILTER and SRCDIR.
# Fixtures come from tests/qemu/fixtures.sh (generated and cached by scripts/test.sh first).
set -euo pipefail
: "${DUMPFILTER:?meson sets DUMPFILTER}"
: "${SRCDIR:?meson sets SRCDIR}"
PY=/usr/bin/python3   # Debian's python: drgn is a module of it, not of another python3 on PATH
# meson sets MALLOC_PERTURB_ for every test; drgn 0.0.22 with libkdumpfile 0.5.1 then segfaults on
# any kdump-compressed file (makedumpfile's own included). Our tools keep it; the readers run without.
DRGN_PY=(env -u MALLOC_PERTURB_ /usr/bin/python3)

it_fail() { echo "FAIL: $*" >&2; exit 1; }
it_skip() { echo "SKIP: $*" >&2; exit 77; }

# it_fixture small|large: path of the vmcore; skips the test when it cannot be had.
it_fixture() {
  local p
  p=$("$SRCDIR/tests/qemu/fixtures.sh" "$1" 2>/dev/null | tail -n 1) || true
  [ -n "$p" ] && [ -f "$p" ] || it_fail "no $1 vmcore fixture (tests/qemu/fixtures.sh $1)"
  echo "$p"
}

it_vmlinux() {
  local v
  v=$("$SRCDIR/tests/qemu/fixtures.sh" env 2>/dev/null | sed -n 's/^KK_VMLINUX=//p' | tr -d "'\"") || true
  [ -n "$v" ] && [ -f "$v" ] || it_fail "no debug vmlinux (tests/qemu/fixtures.sh env)"
  echo "$v"
}

# The fixture kernel's release (pinned in tests/qemu/pins.sh), as crash and drgn report it.
it_release() {
  local r
  r=$("$SRCDIR/tests/qemu/fixtures.sh" env 2>/dev/null | sed -n 's/^KK_KVER=//p') || true
  [ -n "$r" ] || it_fail "no KK_KVER from tests/qemu/fixtures.sh env"
  echo "$r"
}

it_tmpdir() {
  IT_TMP=$(mktemp -d /tmp/kdumpkit-it.XXXXXX)
  trap 'rm -rf "$IT_TMP"' EXIT
}

# it_crash_facts DUMP VMLINUX LABEL RELEASE: runs crash's sys, bt and log on DUMP (a --split set:
# "FILE1 FILE2 ..."), checks the facts every dump of a sysrq panic must show, and prints crash's
# output for further checks. IT_CRASH_TIMEOUT: seconds crash may take (default 300).
it_crash_facts() {
  local dump=$1 vmlinux=$2 label=$3 release=$4 out
  # shellcheck disable=SC2086  # a split set is several words on purpose
  out=$(printf 'sys\nbt\nlog\nquit\n' | timeout "${IT_CRASH_TIMEOUT:-300}" env -u MALLOC_PERTURB_ crash -s "$vmlinux" $dump 2>&1) ||
    { echo "$out" | tail -20 >&2; it_fail "crash failed on $label"; }
  grep -q "RELEASE: $release" <<<"$out" || { echo "$out" | head -30 >&2; it_fail "crash sys: no RELEASE $release ($label)"; }
  grep -q "PANIC:" <<<"$out" || it_fail "crash sys: no PANIC line ($label)"
  grep -Eq '^ ?#0 ' <<<"$out" || { echo "$out" | head -40 >&2; it_fail "crash bt: no frame #0 ($label)"; }
  grep -q 'sysrq: Trigger a crash' <<<"$out" || it_fail "crash log: no sysrq line ($label)"
  printf '%s\n' "$out"
}

# it_drgn_facts DUMP VMLINUX LABEL: drgn_facts.py's line (release tid comm sysrq-flag cpus).
it_drgn_facts() {
  timeout 300 "${DRGN_PY[@]}" "$SRCDIR/tests/integration/drgn_facts.py" "$1" "$2" ||
    it_fail "drgn failed on $3"
}
