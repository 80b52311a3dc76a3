#!/usr/bin/env bash
# cross-arm64.sh: cross-builds kdumpkit for arm64 (kexec, dumpfilter) into build-arm64/ with
# Debian's g++-aarch64-linux-gnu and the arm64 libraries from multiarch (cross/aarch64-linux-gnu.ini).
# Installs what is missing first (as setup.sh does). libfdt-dev:arm64 cannot be co-installed
# with the amd64 one (same header paths, not Multi-Arch: same), so its libfdt.a is unpacked
# into build-arm64/libfdt and named with -Dfdt_libdir.
# Usage: scripts/cross-arm64.sh [ninja targets...]   (default: kexec/kexec dumpfilter/dumpfilter)
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  $SUDO dpkg --add-architecture arm64
  $SUDO apt-get update -q
fi
PKGS=(g++-aarch64-linux-gnu qemu-user-static zlib1g-dev:arm64 liblzo2-dev:arm64
      libzstd-dev:arm64 libssl-dev:arm64 libelf-dev:arm64 libsnappy-dev:arm64 libfdt1:arm64)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "cross-arm64: installing ${missing[*]}"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

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
for t in "${targets[@]}"; do file "build-arm64/$t" | sed 's/, BuildID.*//'; done
