#!/bin/bash
# fixtures.sh: the real x86_64 vmcore fixtures, generated on first use and cached.
#
# Run it:
#   tests/qemu/fixtures.sh small    # prints the path of the 512 MiB-guest vmcore
#   tests/qemu/fixtures.sh large    # prints the path of the 4 GiB-guest vmcore
#   tests/qemu/fixtures.sh small-s  # 512 MiB guest, capture kernel loaded with kexec -s
#   tests/qemu/fixtures.sh arm64    # 512 MiB arm64 guest (qemu-system-aarch64, ~4 min TCG)
#                                   # (kexec_file_load: the kernel writes the ELF headers)
#   tests/qemu/fixtures.sh huge     # 16 GiB-guest vmcore, for bench/rss_scaling.py only (not in
#                                   # `all`, never made by the test suite): ~8.5 min, 17 GB
#                                   # sparse file (9 GiB on disk); QEMU holds ~12 GiB of host
#                                   # RAM while it runs
#   tests/qemu/fixtures.sh all      # prints small and large, small first, one per line
#   tests/qemu/fixtures.sh ours-c   # 512 MiB guest of KK_KVER, capture kernel loaded by OUR kexec
#   tests/qemu/fixtures.sh ours-s   #   (-c: kexec_load + our purgatory; -s: kexec_file_load);
#                                   # $KEXEC, else ${KDUMPKIT_BUILD:-build}/kexec/kexec
#   tests/qemu/fixtures.sh matrix   # ours-c and ours-s for each newer kernel of pins.sh
#                                   # (KK_MATRIX_KVERS: Debian 13's 6.12, unstable's 7.x),
#                                   # fetching each kernel and its -dbg first; prints the paths
#   tests/qemu/fixtures.sh matrix-arm64  # ours-c of each arm64 kernel of pins.sh
#                                   # (KK_MATRIX_KVERS_ARM64: Debian 13's 6.12 with 4K pages,
#                                   # unstable's 7.x -arm64-16k) in qemu-system-aarch64, loaded by
#                                   # OUR cross-built kexec -c -p ($KEXEC_ARM64, else
#                                   # ${KDUMPKIT_BUILD_ARM64:-build-arm64}/kexec/kexec)
#   tests/qemu/fixtures.sh env      # prints shell assignments: KK_KVER=... KK_VMLINUX=... etc.
# Progress and timings go to stderr; stdout carries only the paths, so
#   vmcore=$(tests/qemu/fixtures.sh small)
# works. Exit status is non-zero if a fixture could not be made.
#
# Or source it (bash): it fetches the kernel if needed and exports
#   KK_CACHE        cache root (${KDUMPKIT_CACHE:-$HOME/.cache/kdumpkit})
#   KK_KVER         kernel release (pinned in pins.sh), e.g. 6.1.0-57-amd64
#   KK_VMLINUX      debug vmlinux (for crash, drgn, makedumpfile -x)
#   KK_VMLINUZ      the bzImage the guest booted
#   KK_MODROOT      its unpacked /lib/modules/KVER
#   KK_VMCORE_SMALL / KK_VMCORE_LARGE / KK_VMCORE_SMALL_S / KK_VMCORE_HUGE   where the fixtures
#   KK_VMCORE_OURS_C / KK_VMCORE_OURS_S
#                   are (they may not exist yet)
# and defines kk_fixture small|large|small-s|arm64|huge, which prints the path, generating the
# vmcore if missing, and returns non-zero if it cannot. Sourcing exits the caller's shell if the
# kernel cannot be fetched.
#
# Fixtures: ELF cores copied from /proc/vmcore by the capture kernel after a sysrq-c panic of
# Debian's kernel in QEMU (TCG), memory filled by guest/memfill.c; files are sparse:
#   small:   $KK_CACHE/vmcore-KVER-512M.elf    (512 MiB guest, crashkernel=128M)
#   large:   $KK_CACHE/vmcore-KVER-4G.elf      (4 GiB guest, crashkernel=128M)
#   huge:    $KK_CACHE/vmcore-KVER-16G.elf     (16 GiB guest, crashkernel=128M, the same
#            memfill percentages as large, so the two differ in machine size only; made the
#            same way, through kexec and /proc/vmcore, because QEMU's dump-guest-memory ELF is
#            not readable by makedumpfile 1.7.2, the reference. Only for the memory-scaling
#            benchmark, bench/rss_scaling.py)
#   small-s: $KK_CACHE/vmcore-KVER-512M-s.elf  (as small, but kexec -s)
#   ours-c:  $KK_CACHE/vmcore-KVER-512M-ours-c.elf  (as small, loaded with our kexec -c -p;
#            the kernel matrix's fixture, keyed by release: pins.sh)
#   ours-s:  $KK_CACHE/vmcore-KVER-512M-ours-s.elf  (our kexec -s -p)
#            With KDUMPKIT_ARCH=arm64 (matrix-arm64), ours-c is the same name for an arm64
#            release (crashkernel=192M as for arm64 below; 16K-page kernels alike).
#   arm64:   $KK_CACHE/vmcore-KVER_ARM64-512M.elf  (Debian's arm64 kernel pinned in pins.sh, in
#            qemu-system-aarch64 -M virt, crashkernel=192M, Debian's arm64 kexec-tools)
# small and large are loaded with Debian's kexec default, kexec_load (-c): kexec-tools writes
# the ELF headers (with a PT_LOAD for the low 640 KiB); with -s the kernel writes them.
# Each has the guest's serial console next to it (.log instead of .elf).
# Environment: KDUMPKIT_CACHE, KDUMPKIT_KVER (see lib.sh; the default releases are in pins.sh).

[[ ${BASH_SOURCE[0]} == "$0" ]] && set -euo pipefail
KK_FIXTURES_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$KK_FIXTURES_DIR/lib.sh"

# kk_fixture NAME: print the path of fixture NAME, generating it if missing.
kk_fixture() {
    local m=$KK_FIXTURES_DIR/make-vmcore.sh
    case $1 in
        small) "$m" --mem 512M --out "$KK_VMCORE_SMALL" ;;
        large) "$m" --mem 4G --out "$KK_VMCORE_LARGE" ;;
        small-s) "$m" --mem 512M --kexec-opt -s --out "$KK_VMCORE_SMALL_S" ;;
        # Newer kernels boot a little slower under TCG; 400 s is ~3x what 6.12 and 7.2 took.
        ours-c)
            if [[ $KK_ARCH == arm64 ]]; then  # 6.1's arm64 fixture took ~4 min; 6.12/7.2 boot slower
                "$m" --mem 512M --crashkernel 192M --kexec "$(kk_our_kexec)" --kexec-opt -c \
                    --timeout 1500 --out "$KK_VMCORE_OURS_C"
            else
                "$m" --mem 512M --kexec "$(kk_our_kexec)" --kexec-opt -c --timeout 400 \
                    --out "$KK_VMCORE_OURS_C"
            fi ;;
        ours-s) "$m" --mem 512M --kexec "$(kk_our_kexec)" --kexec-opt -s --timeout 400 \
            --out "$KK_VMCORE_OURS_S" ;;
        matrix)
            local k
            for k in "${KK_MATRIX_KVERS[@]}"; do
                KDUMPKIT_KVER=$k "$KK_FIXTURES_DIR/fixtures.sh" ours-c || return 1
                KDUMPKIT_KVER=$k "$KK_FIXTURES_DIR/fixtures.sh" ours-s || return 1
            done ;;
        matrix-arm64)
            local k
            for k in "${KK_MATRIX_KVERS_ARM64[@]}"; do
                KDUMPKIT_ARCH=arm64 KDUMPKIT_KVER=$k "$KK_FIXTURES_DIR/fixtures.sh" ours-c || return 1
            done ;;
        # 16 GiB: 8.5 min measured on a busy host (fill 136 s, dd 217 s, dig holes 69 s); the
        # default timeout (939 s) is too tight for a busier one.
        huge) "$m" --mem 16G --timeout 2400 --out "$KK_VMCORE_HUGE" ;;
        arm64) KDUMPKIT_ARCH=arm64 KDUMPKIT_KVER=$KK_KVER_ARM64 "$m" --mem 512M --crashkernel 192M \
            --timeout 1200 --out "$KK_VMCORE_ARM64" ;;
        *) kk_die "unknown fixture '$1' (small, large, small-s, ours-c, ours-s, matrix, matrix-arm64, arm64, huge)" ;;
    esac
}

# kk_our_kexec: the kexec the ours-* fixtures load with (built before the fixtures are made).
kk_our_kexec() {
    local k=${KEXEC:-${KDUMPKIT_BUILD:-$KK_FIXTURES_DIR/../../build}/kexec/kexec}
    # arm64: the cross build (scripts/cross-arm64.sh, run by scripts/test.sh before the fixtures)
    [[ $KK_ARCH == arm64 ]] && k=${KEXEC_ARM64:-${KDUMPKIT_BUILD_ARM64:-$KK_FIXTURES_DIR/../../build-arm64}/kexec/kexec}
    [[ -x $k ]] || kk_die "our kexec $k is not built (ninja -C build kexec/kexec, or set KEXEC)"
    printf '%s\n' "$k"
}

kk_fetch_kernel
export KK_CACHE
export KK_VMCORE_SMALL=$KK_CACHE/vmcore-$KK_KVER-512M.elf
export KK_VMCORE_LARGE=$KK_CACHE/vmcore-$KK_KVER-4G.elf
export KK_VMCORE_SMALL_S=$KK_CACHE/vmcore-$KK_KVER-512M-s.elf
export KK_VMCORE_HUGE=$KK_CACHE/vmcore-$KK_KVER-16G.elf
export KK_VMCORE_OURS_C=$KK_CACHE/vmcore-$KK_KVER-512M-ours-c.elf
export KK_VMCORE_OURS_S=$KK_CACHE/vmcore-$KK_KVER-512M-ours-s.elf
# arm64: the release pinned for arm64 (pins.sh), fetched on first use of the fixture; with
# KDUMPKIT_KVER (or KDUMPKIT_KERNEL_DEB) given, the same Debian release built for arm64.
if [[ $KK_ARCH == arm64 ]]; then  # the guest is arm64 already (matrix-arm64; -16k has no -amd64 twin)
    KK_KVER_ARM64=$KK_KVER
elif [[ -n ${KDUMPKIT_KVER:-}${KDUMPKIT_KERNEL_DEB:-} ]]; then
    KK_KVER_ARM64=${KK_KVER%-amd64}
    KK_KVER_ARM64=${KK_KVER_ARM64%-arm64}-arm64
else
    KK_KVER_ARM64=$KK_PIN_KVER_ARM64
fi
export KK_KVER_ARM64
export KK_VMCORE_ARM64=$KK_CACHE/vmcore-$KK_KVER_ARM64-512M.elf
export KK_VMLINUX_ARM64=$KK_CACHE/kernel/$KK_KVER_ARM64/root/usr/lib/debug/boot/vmlinux-$KK_KVER_ARM64

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    case ${1:-} in
        small|large|small-s|ours-c|ours-s|matrix|matrix-arm64|arm64|huge) kk_fixture "$1" ;;
        all) kk_fixture small; kk_fixture large ;;
        env)
            for v in KK_CACHE KK_KVER KK_VMLINUX KK_VMLINUZ KK_MODROOT KK_VMCORE_SMALL \
                KK_VMCORE_LARGE KK_VMCORE_SMALL_S KK_VMCORE_HUGE KK_VMCORE_OURS_C KK_VMCORE_OURS_S KK_VMCORE_ARM64 KK_VMLINUX_ARM64; do
                printf '%s=%q\n' "$v" "${!v}"
            done
            ;;
        *) sed -n '2,/^# Environment/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
    esac
fi
