#!/usr/bin/env bash
# deb_build_deps (issue 17): README's "Install on Debian" step that installs the Build-Depends,
# `sudo mk-build-deps -i -r debian/control`, works on this tree: mk-build-deps (devscripts, with
# equivs) builds its kdumpkit-build-deps package from debian/control, the package depends on
# exactly the Build-Depends the control file names, and apt can install it (simulated: the
# test never changes the machine's packages). The rest of the section (dpkg-buildpackage, apt
# install of the .deb) is run by tests/qemu/real-system.sh and checked by deb_lintian.
source "$(dirname "$0")/lib.sh"
command -v mk-build-deps >/dev/null || it_fail "mk-build-deps is not installed (devscripts, scripts/setup.sh)"
command -v equivs-build >/dev/null || it_fail "equivs-build is not installed (equivs, scripts/setup.sh)"

grep -q '^ *sudo mk-build-deps -i -r debian/control' "$SRCDIR/README.md" ||
  it_fail "README.md no longer says 'sudo mk-build-deps -i -r debian/control'"
grep -q '^ *sudo apt-get install .*devscripts.*equivs' "$SRCDIR/README.md" ||
  it_fail "README.md does not install devscripts and equivs before mk-build-deps"

it_tmpdir
# mk-build-deps writes its package into the current directory.
(cd "$IT_TMP" && mk-build-deps "$SRCDIR/debian/control") >"$IT_TMP/mk.log" 2>&1 ||
  { tail -n 20 "$IT_TMP/mk.log" >&2; it_fail "mk-build-deps debian/control failed"; }
pkg=$(ls "$IT_TMP"/kdumpkit-build-deps_*.deb 2>/dev/null | head -n 1)
[ -n "$pkg" ] || it_fail "mk-build-deps wrote no kdumpkit-build-deps_*.deb"

# The names in Build-Depends (first alternative of each, no versions, architectures or build
# profiles), and those the package depends on: the same set, or mk-build-deps read another
# control file.
names() { tr ',' '\n' | sed 's/|.*//; s/(.*)//; s/\[.*\]//; s/<[^>]*>//g; s/:[a-z0-9]*//; s/[[:space:]]//g' | sed '/^$/d' | sort -u; }
want=$(sed -n '/^Build-Depends:/,/^[A-Z][A-Za-z-]*:/{/^Build-Depends:/s/^Build-Depends://;/^[A-Z][A-Za-z-]*:/d;p}' \
         "$SRCDIR/debian/control" | names)
got=$(dpkg-deb -f "$pkg" Depends | names | grep -vx build-essential)
[ -n "$want" ] || it_fail "no Build-Depends in debian/control"
[ "$want" = "$got" ] ||
  it_fail "kdumpkit-build-deps depends on [$(echo $got)], debian/control builds with [$(echo $want)]"
echo "ok: mk-build-deps built $(basename "$pkg"): build-essential and $(echo "$want" | wc -l) Build-Depends"

# apt resolves every dependency from the machine's sources (an unknown or uninstallable name
# fails here), without installing anything.
apt-get install -s -q "$pkg" >"$IT_TMP/apt.log" 2>&1 ||
  { tail -n 20 "$IT_TMP/apt.log" >&2; it_fail "apt-get install -s $(basename "$pkg") failed"; }
grep -q '^Inst kdumpkit-build-deps ' "$IT_TMP/apt.log" ||
  { tail -n 20 "$IT_TMP/apt.log" >&2; it_fail "apt would not install kdumpkit-build-deps"; }
echo "ok: apt-get install -s $(basename "$pkg") resolves ($(grep -c '^Inst ' "$IT_TMP/apt.log") packages to install)"
