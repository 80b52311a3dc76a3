#!/usr/bin/env bash
# build_types.sh: every build type a user or packager may pick builds with the project's default
# options (-Werror included), compile only (issue 18.12):
#   release         meson setup --buildtype=release (-O3)
#   plain           --buildtype=plain with Debian's flags from dpkg-buildflags (as a package build)
#   debugoptimized  the default
# Each in a fresh tree outside the source tree; only the product executables (kexec, dumpfilter,
# kdumpctl), not the tests, to keep CI's cost down (the time per type is printed).
# Usage: tests/build_types.sh [TYPE...]   (no arguments: all three; the suite names release and
# plain, as its own tree is debugoptimized)
set -euo pipefail
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
TARGETS=(kexec/kexec dumpfilter/dumpfilter kdumpctl/kdumpctl)
tmp=$(mktemp -d /tmp/kdumpkit-build-types.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# build NAME [ENV=VALUE...] -- MESON-SETUP-ARGS...: configure and build the products in $tmp/NAME.
build() {
  local name=$1 envs=() t0 log=$tmp/$1.log
  shift
  while [ "$1" != -- ]; do envs+=("$1"); shift; done
  shift
  t0=$(date +%s)
  env "${envs[@]}" meson setup "$@" -Dqemu_tests=false "$SRCDIR" "$tmp/$name" >"$log" 2>&1 ||
    { tail -n 20 "$log" >&2; fail "$name: meson setup $* failed"; }
  ninja -C "$tmp/$name" "${TARGETS[@]}" >>"$log" 2>&1 ||
    { grep -E -A12 '^FAILED|error:' "$log" | head -n 60 >&2; fail "$name: the build failed"; }
  for t in "${TARGETS[@]}"; do [ -x "$tmp/$name/$t" ] || fail "$name: no $t"; done
  grep -q -- '-Werror' "$tmp/$name/build.ninja" || fail "$name: the default build lost -Werror"
  echo "ok: $name builds ($(( $(date +%s) - t0 )) s)"
  rm -rf "${tmp:?}/$name"  # a release tree is ~100 MB
}

types=("$@")
[ ${#types[@]} -gt 0 ] || types=(release plain debugoptimized)
for type in "${types[@]}"; do
  case $type in
    release) build release -- --buildtype=release ;;
    debugoptimized) build debugoptimized -- --buildtype=debugoptimized ;;
    plain)
      command -v dpkg-buildflags >/dev/null || fail "dpkg-buildflags missing (dpkg-dev)"
      build plain "CXXFLAGS=$(dpkg-buildflags --get CXXFLAGS)" \
        "CPPFLAGS=$(dpkg-buildflags --get CPPFLAGS)" "LDFLAGS=$(dpkg-buildflags --get LDFLAGS)" \
        -- --buildtype=plain ;;
    *) fail "unknown build type $type (release, plain, debugoptimized)" ;;
  esac
done
