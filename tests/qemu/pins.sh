# shellcheck shell=bash
# pins.sh: the Debian kernel releases the QEMU fixtures boot, and the reference tools of the
# right age, in this one place (sourced by lib.sh).
# The integration tests read the release from `tests/qemu/fixtures.sh env` (KK_KVER), never from
# a literal. Debian serves only the newest few ABIs: when a pin can no longer be downloaded,
# fixture generation stops naming the package; move the pin to a served ABI (the vmcores are
# cached by release, so the fixtures are then made anew).
# KDUMPKIT_KVER (or KDUMPKIT_KERNEL_DEB) still overrides the pin for one run.
KK_PIN_KVER_AMD64=6.1.0-57-amd64
KK_PIN_KVER_ARM64=6.1.0-57-arm64
# The kernel matrix (x86_64), beside the 6.1 above: Debian 13 (trixie) and unstable (sid). Each
# is fetched with its -dbg package from the suite named here, through an apt state of its own
# under $KK_CACHE/apt-newer (the host stays Debian 12; see kk_newer_apt in lib.sh).
KK_PIN_KVER_TRIXIE=6.12.117+deb13-amd64
KK_PIN_KVER_SID=7.2.13+deb14-amd64
KK_MATRIX_KVERS=("$KK_PIN_KVER_TRIXIE" "$KK_PIN_KVER_SID")
# The kernel matrix (arm64): Debian 13's 6.12 with 4K pages and unstable's 16K-page flavour,
# each with its -dbg, through an apt state of their own (apt-newer-arm64).
KK_PIN_KVER_TRIXIE_ARM64=6.12.117+deb13-arm64
KK_PIN_KVER_SID_ARM64_16K=7.2.13+deb14-arm64-16k
KK_MATRIX_KVERS_ARM64=("$KK_PIN_KVER_TRIXIE_ARM64" "$KK_PIN_KVER_SID_ARM64_16K")
# Unstable's reference tools for the newer kernels (tests/qemu/oracle-chroot.sh): Debian 12's
# makedumpfile 1.7.2, crash 8.0.2 and drgn 0.0.22 predate 6.12 and 7.x.
KK_PIN_ORACLE_MAKEDUMPFILE=1:1.7.8-1
KK_PIN_ORACLE_CRASH=9.0.2+~16.3-1
KK_PIN_ORACLE_DRGN=0.3.0-1
KK_PIN_ORACLE_KEY=mdf1.7.8-1_crash9.0.2_drgn0.3.0-1
# The real-system image (tests/qemu/real-system.sh): Debian 12's linux-image-amd64 must install
# this release (the image build stops otherwise); its -dbg vmlinux opens the dump the image saves.
KK_PIN_REAL_SYSTEM_DBG=linux-image-6.1.0-57-amd64-dbg
