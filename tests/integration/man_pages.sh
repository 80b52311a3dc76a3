#!/usr/bin/env bash
# Every man page (kexec.8, dumpfilter.8, kdumpctl.8, kdump.conf.5) formats without a single
# groff warning (`groff -man -ww -z` prints nothing), and each is installed by man/meson.build.
source "$(dirname "$0")/lib.sh"
command -v groff >/dev/null || it_fail "no groff (scripts/setup.sh installs groff-base)"
n=0
for page in "$SRCDIR"/man/*.[1-8]; do
  out=$(groff -man -ww -z "$page" 2>&1) || it_fail "groff failed on $page: $out"
  [ -z "$out" ] || it_fail "groff warns on $(basename "$page"): $out"
  grep -q "'$(basename "$page")'" "$SRCDIR/man/meson.build" || it_fail "$(basename "$page") is not installed by man/meson.build"
  n=$((n + 1))
done
[ "$n" -ge 4 ] || it_fail "only $n man pages"
echo "ok: $n man pages, no groff warnings"
