#!/usr/bin/env bash
# deb_lintian (issue 17): the two .debs the real-system tests install, checked as a Debian
# maintainer checks them, each by the lintian of the release it was built for: Debian 12's (the
# host's) on the package tests/qemu/real-system.sh built here, Debian 13's (in the trixie build
# chroot: tests/qemu/real-trixie.sh lint) on the one built there. lintian reads the .changes, so
# the .deb, its -dbgsym and the .buildinfo. An error (E:) fails the test; warnings are printed.
# Then what lintian does not check: the unit where that release's systemd and dh_installsystemd
# want it (/lib on Debian 12, /usr/lib on merged-/usr Debian 13), the hooks where their tools
# look, postinst enabling kdump.service, no maintainer script touching crashkernel= or grub, and
# the package's purge and kernel hooks run against a scratch /var (a private mount namespace):
# purge removes /var/lib/kdumpkit and never /var/crash, postinst.d rebuilds the new kernel's
# image only while kdump.service is enabled and never fails; README's install command
# names the package the build wrote. No QEMU, no network: the
# packages are made by scripts/test.sh (real-system.sh prepare, real-trixie.sh prepare).
source "$(dirname "$0")/lib.sh"
RS=$SRCDIR/tests/qemu/real-system.sh
it_tmpdir
fails=0
check() {  # check DESCRIPTION COMMAND...: one line ok/FAIL; a failure fails the test at the end
  local what=$1
  shift
  if "$@" >/dev/null 2>&1; then echo "ok: $what"; else echo "FAIL: $what"; fails=$((fails + 1)); fi
}
command -v lintian >/dev/null || it_fail "lintian is not installed (scripts/setup.sh)"

# lint IMAGE DIST: that release's lintian on DIST/*.changes: its output and exit status (0
# clean, 1 errors, 2 lintian failed).
lint() {
  if [ "$1" = bookworm ]; then
    (cd "$2" && lintian --fail-on error ./*.changes)
  else
    KDUMPKIT_REAL_IMAGE=trixie "$RS" lint "$2"
  fi
}

# The maintainer scripts of the control area in DIR, one after the other.
maint_scripts() {
  local s
  for s in preinst postinst prerm postrm; do [ ! -f "$1/$s" ] || cat "$1/$s"; done
}

# The package's postrm purge and its kernel postrm.d hook, run against a scratch /var and /run
# (tmpfs in a private mount namespace: the host's are never touched).
purge_run() {
  local deb=$1 root=$IT_TMP/purge-$2
  mkdir -p "$root" && dpkg-deb -x "$deb" "$root/data" && dpkg-deb -e "$deb" "$root/control" || return 1
  # shellcheck disable=SC2016  # expanded by the inner shell
  unshare -m --propagation private sh -euc '
    mount -t tmpfs scratch /var && mount -t tmpfs scratch /run
    mkdir -p /var/lib/kdumpkit /var/crash/host-2026-12-07-10:00
    for f in initrd-6.1.0-1-amd64.img initrd-6.1.0-1-amd64.img.inputs initrd-6.1.0-2-amd64.img; do
      : >/var/lib/kdumpkit/$f
    done
    : >/var/crash/host-2026-12-07-10:00/vmcore
    sh "$1/data/etc/kernel/postrm.d/kdumpkit" 6.1.0-1-amd64 /boot/vmlinuz-6.1.0-1-amd64
    sh "$1/data/etc/kernel/postrm.d/kdumpkit" ../crash
    ls /var/lib/kdumpkit >"$1/after-hook"
    sh "$1/control/postrm" purge
    ls -d /var/lib/kdumpkit 2>/dev/null >"$1/after-purge" || true
    find /var/crash >"$1/crash-after-purge"' purge "$root"
}

# The kernel postinst.d hook (after purge_run unpacked the package) with stand-ins, in a private
# mount namespace: systemctl (first on PATH) says whether kdump.service is enabled, a tmpfs
# /usr/sbin holds a kdumpctl that records its call (and fails when asked), a tmpfs /boot the new
# kernel. One line per case: the hook's exit status, what kdumpctl was asked, warnings.
postinst_hook_run() {
  local root=$IT_TMP/purge-$1
  mkdir -p "$root/bin"
  printf '#!/bin/sh\n[ "$KK_ENABLED" = 1 ]\n' >"$root/bin/systemctl"
  chmod +x "$root/bin/systemctl"
  # shellcheck disable=SC2016  # expanded by the inner shell
  PATH=$root/bin:$PATH unshare -m --propagation private sh -uc '
    dir=$1 hook=$1/data/etc/kernel/postinst.d/kdumpkit log=$1/kdumpctl.log
    mount -t tmpfs scratch /boot && mount -t tmpfs scratch /usr/sbin || exit 1
    : >/boot/vmlinuz-6.1.0-3-amd64
    printf "#!/bin/sh\necho \"KDUMP_KERNELVER=\$KDUMP_KERNELVER \$*\" >>$log\nexit \${KK_FAIL:-0}\n" >/usr/sbin/kdumpctl
    chmod +x /usr/sbin/kdumpctl
    run() {
      : >"$log"
      env "$@" sh "$hook" 6.1.0-3-amd64 /boot/vmlinuz-6.1.0-3-amd64 2>"$dir/hook.err"
      echo "exit=$? [$(cat "$log")] warn=$(grep -c "kdumpkit: warning" "$dir/hook.err")"
    }
    run KK_ENABLED=1
    run KK_ENABLED=0
    run KK_ENABLED=1 KK_FAIL=1
    rm /boot/vmlinuz-6.1.0-3-amd64 && run KK_ENABLED=1' hook "$root"
}

for image in bookworm trixie; do
  eval "$(KDUMPKIT_REAL_IMAGE=$image "$RS" env)"
  [ -n "$RS_DEB" ] && [ -f "$RS_DEB" ] ||
    it_fail "no cached $image .deb (tests/qemu/real-system.sh prepare; KDUMPKIT_REAL_IMAGE=$image)"
  dist=$(dirname "$RS_DEB")/dist
  ls "$dist"/*.changes >/dev/null 2>&1 ||
    it_fail "no .changes beside $RS_DEB (made by tests/qemu/real-system.sh prepare since issue 17's lint)"
  t0=$(date +%s)
  rc=0
  out=$(lint "$image" "$dist" 2>&1) || rc=$?
  printf '%s\n' "$out"
  n_e=$(grep -c '^E: ' <<<"$out" || true)
  n_w=$(grep -c '^W: ' <<<"$out" || true)
  echo "$image: lintian: $n_e error(s), $n_w warning(s), exit status $rc, $(($(date +%s) - t0)) s"
  check "$image: lintian reports no errors" test "$n_e" = 0 -a "$rc" = 0

  # README's "Install on Debian" installs the file this build wrote (its name has the version).
  readme_deb=$(sed -n 's|^ *sudo apt install \.\./\(kdumpkit_[^ ]*\.deb\).*|\1|p' "$SRCDIR/README.md")
  check "$image: README's 'apt install ../${readme_deb:-?}' is the package built" test -f "$dist/${readme_deb:-none}"

  list=$IT_TMP/$image.list
  dpkg-deb -c "$RS_DEB" | awk '{ print $1, $6 }' >"$list"
  if [ "$image" = bookworm ]; then unit=./lib/systemd/system/kdump.service; else unit=./usr/lib/systemd/system/kdump.service; fi
  check "$image: kdump.service is $unit" grep -qx -- "-rw-r--r-- $unit" "$list"
  if [ "$image" = trixie ]; then
    check "$image: nothing under /lib, /bin or /sbin (merged /usr)" eval '! grep -Eq " \./(lib|bin|sbin)/" "$list"'
  fi
  for f in ./etc/kernel/postinst.d/kdumpkit ./etc/kernel/postrm.d/kdumpkit \
           ./usr/lib/dracut/modules.d/99kdumpkit/module-setup.sh \
           ./usr/share/kdumpkit/initramfs-tools/hooks/kdumpkit ./usr/sbin/kdumpctl; do
    check "$image: $f is there, executable" grep -qx -- "-rwxr-xr-x $f" "$list"
  done
  ctl=$IT_TMP/$image.control
  dpkg-deb -e "$RS_DEB" "$ctl" || it_fail "dpkg-deb -e $RS_DEB failed"
  check "$image: postinst enables kdump.service" grep -q "deb-systemd-helper enable 'kdump.service'" "$ctl/postinst"
  check "$image: postinst starts it through deb-systemd-invoke (not in a chroot)" \
    grep -Eq "deb-systemd-invoke .*'kdump.service'" "$ctl/postinst"
  check "$image: no maintainer script touches crashkernel= or grub" \
    eval '! maint_scripts "$ctl" | grep -Eiq "crashkernel|grub"'

  purge_run "$RS_DEB" "$image" >"$IT_TMP/purge-$image.log" 2>&1 || { cat "$IT_TMP/purge-$image.log"; }
  p=$IT_TMP/purge-$image
  check "$image: the kernel postrm.d hook removes that kernel's image only" \
    test "$(cat "$p/after-hook" 2>/dev/null)" = initrd-6.1.0-2-amd64.img
  check "$image: purge removes /var/lib/kdumpkit" test -f "$p/after-purge" -a ! -s "$p/after-purge"
  check "$image: purge leaves /var/crash and its dumps" \
    grep -qx /var/crash/host-2026-12-07-10:00/vmcore "$p/crash-after-purge"
  hook_out=$(postinst_hook_run "$image" 2>&1) || true
  echo "$hook_out"
  want="exit=0 [KDUMP_KERNELVER=6.1.0-3-amd64 rebuild] warn=0
exit=0 [] warn=0
exit=0 [KDUMP_KERNELVER=6.1.0-3-amd64 rebuild] warn=1
exit=0 [] warn=0"
  check "$image: the kernel postinst.d hook rebuilds the new kernel's image only while kdump.service is enabled and the kernel is there, and never fails the kernel's installation" \
    test "$hook_out" = "$want"
done

[ $fails = 0 ] || it_fail "deb_lintian: $fails check(s) failed"
echo "deb_lintian: every check holds"
