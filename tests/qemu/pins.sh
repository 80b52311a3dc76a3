# shellcheck shell=bash
# pins.sh: the Debian kernel releases the QEMU fixtures boot, in this one place (sourced by lib.sh).
# The integration tests read the release from `tests/qemu/fixtures.sh env` (KK_KVER), never from
# a literal. Debian serves only the newest few 6.1.0-N ABIs: when a pin can no longer be
# downloaded, fixture generation stops naming the package; move both pins to a served ABI (the
# vmcores are cached by release, so the fixtures are then made anew).
# KDUMPKIT_KVER (or KDUMPKIT_KERNEL_DEB) still overrides the pin for one run.
KK_PIN_KVER_AMD64=6.1.0-57-amd64
KK_PIN_KVER_ARM64=6.1.0-57-arm64
