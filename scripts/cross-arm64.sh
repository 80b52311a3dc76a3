#!/usr/bin/env bash
# cross-arm64.sh: cross-builds kdumpkit for arm64 (kexec, dumpfilter) into build-arm64/ with
# Debian's g++-aarch64-linux-gnu and the arm64 libraries from multiarch (cross/aarch64-linux-gnu.ini).
# Installs what is missing first (scripts/setup.sh --no-build). libfdt-dev:arm64 cannot be co-installed
# with the amd64 one (same header paths, not Multi-Arch: same), so its libfdt.a is unpacked
# into build-arm64/libfdt and named with -Dfdt_libdir.
# Usage: scripts/cross-arm64.sh [ninja targets...]   (default: kexec/kexec dumpfilter/dumpfilter)
set -euo pipefail
cd "$(dirname "$0")/.."

# The packages (cross compiler, arm64 libraries through multiarch) are setup.sh's.
scripts/setup.sh --no-build

fdt=build-arm64/libfdt
if [ ! -f "$fdt/libfdt.a" ]; then
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download -q libfdt-dev:arm64 >/dev/null)
  dpkg -x "$tmp"/libfdt-dev_*_arm64.deb "$tmp/root"
  mkdir -p "$fdt"
  cp "$tmp/root/usr/lib/aarch64-linux-gnu/libfdt.a" "$fdt/"
  rm -rf "$tmp"
fi

if [ ! -f build-arm64/build.ninja ]; then
  meson setup build-arm64 --cross-file cross/aarch64-linux-gnu.ini \
    -Dfdt_libdir="$(pwd)/$fdt" -Dqemu_tests=false >/dev/null
fi
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(kexec/kexec dumpfilter/dumpfilter)
nice ninja -C build-arm64 -j2 "${targets[@]}"
for t in "${targets[@]}"; do echo "cross-arm64: built build-arm64/$t"; done
