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
logs=(build/meson-logs/testlog.json)

# A second tree, clang with ASan+UBSan and libFuzzer: the unit suite again, and a short run of each
# fuzzer (tests/fuzz). Only for the whole suite (no test names given); KK_SANITIZE=0 skips it.
# Both trees build with -Werror: clang's warnings are fixed as gcc's are.
if [ $# -eq 0 ] && [ "${KK_SANITIZE:-1}" != 0 ]; then
  rm -f build-fuzz/meson-logs/testlog.json
  # A tree set up before clang's warnings were fixed still has werror off: turn it on.
  if { { [ -f build-fuzz/build.ninja ] && meson configure build-fuzz -Dwerror=true >/dev/null; } ||
       CXX=clang++ meson setup build-fuzz -Dfuzz=true -Db_sanitize=address,undefined \
         -Db_lundef=false -Dqemu_tests=false -Dwerror=true >/dev/null; } && ninja -C build-fuzz >/dev/null; then
    meson test -C build-fuzz --print-errorlogs --num-processes 2 --suite unit --suite fuzz || rc=1
  else
    echo "build-fuzz: the sanitizer build failed"
    rc=1
  fi
  logs+=(build-fuzz/meson-logs/testlog.json)  # absent after a failed build: counted as a failure
fi
/usr/bin/python3 scripts/test_summary.py "${logs[@]}"
exit $rc
