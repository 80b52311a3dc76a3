#!/usr/bin/env bash
# test.sh: the whole test suite. Sets up (packages + build), generates the real vmcore fixtures
# (cached in ${KDUMPKIT_CACHE:-~/.cache/kdumpkit}), runs every test through meson, and ends with
# the line "N passed, N failed" that CI counts.
set -uo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh || { echo "0 passed, 1 failed"; exit 1; }
# Fixtures: the small vmcore for every run, the 4 GiB-guest one for the heavier tests.
if ! { tests/qemu/fixtures.sh all && tests/qemu/fixtures.sh arm64; } >/tmp/kdumpkit-fixtures.log 2>&1; then
  tail -n 30 /tmp/kdumpkit-fixtures.log
  echo "fixture generation failed; the integration tests will fail"
fi

# The kernel the fixtures booted, for tests that boot it themselves (the purgatory smoke test).
eval "$(tests/qemu/fixtures.sh env 2>/dev/null)" && export KK_VMLINUZ KK_VMLINUX

meson test -C build --print-errorlogs --num-processes 2 "$@"
rc=$?
/usr/bin/python3 scripts/test_summary.py build/meson-logs/testlog.json
exit $rc
