#!/usr/bin/env bash
# setup.sh: installs every Debian package kdumpkit's build and tests need (non-interactive,
# idempotent: nothing is fetched when all are present), then configures and builds into build/.
# Usage: scripts/setup.sh [--no-build]
set -euo pipefail
cd "$(dirname "$0")/.."

# Build dependencies.
PKGS_BUILD=(meson ninja-build g++ pkg-config libelf-dev zlib1g-dev libdeflate-dev liblzo2-dev libzstd-dev
            libxxhash-dev libssl-dev libsnappy-dev catch2 libfdt-dev libdw-dev)
# Test and reference tools: QEMU guests, the tools we replace, the readers our dumps must open.
PKGS_TEST=(qemu-system-x86 xxhash busybox-static cpio xz-utils kmod libc6-dev gcc makedumpfile crash
           python3 python3-drgn libkdumpfile10 kexec-tools e2fsprogs time util-linux ovmf make
           initramfs-tools systemd openssh-client groff-base
           clang libclang-rt-14-dev   # the sanitizer tree and libFuzzer (build-fuzz, tests/fuzz)
           dpkg-dev                   # dpkg-buildflags: tests/build_types.sh builds with Debian's flags
           debhelper mmdebstrap qemu-utils fuse3   # tests/qemu/real-system.sh: .deb, image, overlay
           lintian                    # tests/integration/deb_lintian.sh: Debian 12's checks of the .deb
           devscripts equivs)         # tests/integration/deb_build_deps.sh: README's mk-build-deps

# arm64 (issue 9): the cross compiler builds the arm64 purgatory into every kexec and
# scripts/cross-arm64.sh builds arm64 binaries; the arm64 tests run Debian's arm64 makedumpfile
# under qemu-user and boot qemu-system-aarch64. Target libraries come from multiarch (:arm64).
PKGS_ARM64=(g++-aarch64-linux-gnu qemu-user-static qemu-system-arm zlib1g-dev:arm64
            libdeflate-dev:arm64 libxxhash-dev:arm64 liblzo2-dev:arm64 libzstd-dev:arm64 libssl-dev:arm64 libelf-dev:arm64
            libsnappy-dev:arm64 libfdt1:arm64 libdw1:arm64 libdw-dev:arm64)
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  echo "setup: adding the arm64 architecture (multiarch)"
  $SUDO dpkg --add-architecture arm64
  $SUDO apt-get update -q
fi

missing=()
for p in "${PKGS_BUILD[@]}" "${PKGS_TEST[@]}" "${PKGS_ARM64[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

[ "${1:-}" = "--no-build" ] && exit 0
if [ -f build/build.ninja ]; then
  meson setup --reconfigure build >/dev/null
else
  meson setup build >/dev/null
fi
ninja -C build >/dev/null
echo "setup: built $(pwd)/build"
