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
# werror is off there only: clang warns where gcc does not, and the gcc tree keeps -Werror.
if [ $# -eq 0 ] && [ "${KK_SANITIZE:-1}" != 0 ]; then
  rm -f build-fuzz/meson-logs/testlog.json
  if { [ -f build-fuzz/build.ninja ] ||
       CXX=clang++ meson setup build-fuzz -Dfuzz=true -Db_sanitize=address,undefined \
         -Db_lundef=false -Dqemu_tests=false -Dwerror=false >/dev/null; } && ninja -C build-fuzz >/dev/null; then
    meson test -C build-fuzz --print-errorlogs --num-processes 2 --suite unit --suite fuzz || rc=1
  else
    echo "build-fuzz: the sanitizer build failed"
    rc=1
  fi
  logs+=(build-fuzz/meson-logs/testlog.json)  # absent after a failed build: counted as a failure
fi
/usr/bin/python3 scripts/test_summary.py "${logs[@]}"
exit $rc
