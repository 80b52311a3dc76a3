#!/usr/bin/env bash
# test.sh: the whole test suite. Sets up (packages + build), generates the real vmcore fixtures
# (cached in ${KDUMPKIT_CACHE:-~/.cache/kdumpkit}), runs every test through meson, and ends with
# the line "N passed, N failed" that CI counts (then "N skipped" and their names on a line of its own).
set -uo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh || { echo "0 passed, 1 failed"; exit 1; }
# Fixtures: the small vmcore for every run, the 4 GiB-guest one for the heavier tests.
if ! { tests/qemu/fixtures.sh all && tests/qemu/fixtures.sh arm64; } >/tmp/kdumpkit-fixtures.log 2>&1; then
  tail -n 30 /tmp/kdumpkit-fixtures.log
  echo "fixture generation failed; the integration tests will fail"
fi

# The kernel matrix (issue 19): Debian 13's 6.12 and unstable's 7.x with their -dbg (pinned in
# tests/qemu/pins.sh), a capture of each with our kexec -c and -s (fixtures.sh matrix: the kexec
# just built in build/), and unstable's makedumpfile, crash and drgn (oracle-chroot.sh), all
# cached by release. Cold: ~25 min (downloads ~2.5 GB, unpacking, 4 guests); warm: seconds.
if [ $# -eq 0 ] || [[ " $* " == *kernel_matrix* ]]; then
  if ! { tests/qemu/oracle-chroot.sh make && tests/qemu/fixtures.sh matrix; } >/tmp/kdumpkit-matrix.log 2>&1; then
    tail -n 30 /tmp/kdumpkit-matrix.log
    echo "kernel matrix fixtures failed; kernel_matrix_trixie and kernel_matrix_sid will fail"
  fi
fi

# The arm64 kernel matrix (issue 19): Debian 13's 6.12 arm64 and unstable's 7.x -arm64-16k with
# their -dbg (pins.sh), a capture of each in qemu-system-aarch64 with OUR kexec -c -p (the cross
# build in build-arm64), and unstable's arm64 makedumpfile (run under qemu-user by the tests).
# Cold: ~20 min (downloads ~2.3 GB, the cross build, 2 arm64 guests); warm: seconds.
if [ $# -eq 0 ] || [[ " $* " == *kernel_matrix* ]]; then
  if ! { scripts/cross-arm64.sh kexec/kexec && bash -c '. tests/qemu/lib.sh && kk_arm64_oracle' &&
      tests/qemu/fixtures.sh matrix-arm64; } >/tmp/kdumpkit-matrix-arm64.log 2>&1; then
    tail -n 30 /tmp/kdumpkit-matrix-arm64.log
    echo "arm64 kernel matrix fixtures failed; kernel_matrix_trixie_arm64 and kernel_matrix_sid_arm64_16k will fail"
  fi
fi

# The real-system image (issue 17, tests/qemu/real-system.sh): the cached Debian 12 base, this
# tree's .deb (dpkg-buildpackage, ~5 min, cached by the tree's contents) and the image kernel's
# -dbg vmlinux, made here where the network is; the test real_system fails without them.
if [ $# -eq 0 ] || [[ " $* " == *real_system* ]] || [[ " $* " == *deb_lintian* ]]; then
  if ! tests/qemu/real-system.sh prepare >/tmp/kdumpkit-real-system.log 2>&1; then
    tail -n 30 /tmp/kdumpkit-real-system.log
    echo "real-system preparation failed; the test real_system will fail"
  fi
fi
# The second image (Debian 13, LVM + xfs, dracut; tests/qemu/real-trixie.sh): its base (~15 min
# cold), this tree's .deb built in a Debian 13 chroot (~15 min), the 6.12 -dbg vmlinux and the
# oracle chroot whose crash and drgn read 6.12; cached like the first.
if [ $# -eq 0 ] || [[ " $* " == *real_system_trixie* ]] || [[ " $* " == *deb_lintian* ]]; then
  if ! { tests/qemu/real-trixie.sh prepare && tests/qemu/oracle-chroot.sh make; } \
      >/tmp/kdumpkit-real-trixie.log 2>&1; then
    tail -n 30 /tmp/kdumpkit-real-trixie.log
    echo "real-system (trixie) preparation failed; the test real_system_trixie will fail"
  fi
fi

# What the tests use and must not fetch, build or create themselves (meson runs them with
# KK_OFFLINE=1): the arm64 cross build (kexec_arm64), dracut and sshd unpacked into the cache
# and the /usr/lib/modules mount point (tests/qemu/capture-lib.sh). A step that fails here
# fails its tests, which name what is missing.
if [ $# -eq 0 ] || [[ " $* " == *kexec_arm64* ]]; then
  scripts/cross-arm64.sh >/tmp/kdumpkit-cross.log 2>&1 ||
    { tail -n 20 /tmp/kdumpkit-cross.log; echo "arm64 cross build failed; kexec_arm64 will fail"; }
fi
[ -d /usr/lib/modules ] || mkdir -p /usr/lib/modules
bash -c '. tests/qemu/lib.sh && . tests/qemu/capture-lib.sh && kk_fetch_dracut && kk_fetch_sshd' \
  >/tmp/kdumpkit-capture-cache.log 2>&1 ||
  { tail -n 20 /tmp/kdumpkit-capture-cache.log; echo "dracut/sshd fetch failed; the capture tests will fail"; }

# The kernel the fixtures booted, for tests that boot it themselves (the purgatory smoke test).
eval "$(tests/qemu/fixtures.sh env 2>/dev/null)" && export KK_VMLINUZ KK_VMLINUX

# A meson that stops before writing its log must not leave the previous run's to be summarised.
rm -f build/meson-logs/testlog.json
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
