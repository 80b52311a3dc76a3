#!/usr/bin/env bash
# kernel_matrix_arm64.sh trixie|sid|KVER: one arm64 kernel of the matrix (tests/qemu/pins.sh:
# Debian 13's 6.12 with 4K pages, unstable's 7.x -arm64-16k with 16K pages) on its cached
# fixture, a /proc/vmcore copy captured in qemu-system-aarch64 after OUR cross-built kexec -c -p
# (tests/qemu/fixtures.sh matrix-arm64):
#  (a) for each -d bit alone (1 2 4 8 16) and 31, the kept pfns equal, exactly, those of
#      unstable's ARM64 makedumpfile (makedumpfile is built per architecture: the amd64 one
#      reads only x86_64 dumps), run under qemu-user (lib.sh kk_arm64_oracle), and 2,000
#      sampled kept pages byte-equal (kdump_pages.py exact). The one disagreement allowed is
#      kernel_matrix.sh's: makedumpfile 1.7.8 does not know Linux 7.1's compound_head ->
#      compound_info rename ("mm: rename page->compound_head to compound_info", v7.1) and drops
#      the tails of kernel folios as user pages; then every pfn only we keep must be, by drgn on
#      the full vmcore, a tail whose head makedumpfile keeps (compound_tails.py): we follow the
#      kernel.
#  (b) drgn (unstable's, amd64: it reads arm64 dumps) on the full vmcore and on our -d 31 dump:
#      the same crashed thread and stack, tasks, slab caches, modules, mounts and kernel log, no
#      fault (drgn_facts.py --all).
#  (c) --dump-dmesg byte-identical to the arm64 makedumpfile's, printk caller column included.
# But makedumpfile 1.7.8 (unstable's, the newest Debian has) reads neither kernel: both are
# built with CONFIG_ARM64_VA_BITS=52 (Debian's 6.1 had 48; 52-bit VAs with 4K and 16K pages come
# with the kernel's FEAT_LPA2 support, Linux 6.9), and its arm64
# code knows 52-bit VAs only with 64K pages: it stops with "PAGE SIZE 0x1000 (0x4000) and VA Bits
# 52 not supported" for dumps and --dump-dmesg alike. That refusal is checked here (a makedumpfile
# that reads these kernels gets the exact comparisons above instead), and the reference is the
# kernel's own data read by drgn on the full vmcore: (a) arm64_page_oracle.py (-d 1: the shared
# zero pages are the vmcore's all-zero pages; -d 16: the buddy free lists exactly; -d 2/4/8: every
# page we drop is of its class), (c) arm64_dmesg_drgn.py (the printk records in makedumpfile's
# form, caller column included), byte for byte.
# crash is not run: Debian builds crash for its own architecture only (no arm64 target in the
# amd64 crash) and the arm64 crash under qemu-user loads the -dbg vmlinux for tens of minutes.
# The fixtures, the arm64 makedumpfile and the oracle chroot are made by scripts/test.sh before
# meson; a missing one fails here. Inner limits: 6 levels x (dumpfilter 120 + makedumpfile 300 +
# compound tails 180) + page oracle 600 + drgn 2 x 300 + dmesg 300 + 120 + 300 + 2 lookups x 60
# = 5160; meson's is 5400.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/matrix_lib.sh"
. "$SRCDIR/tests/qemu/pins.sh"
case ${1:?usage: kernel_matrix_arm64.sh trixie|sid|KVER} in
  trixie) kver=$KK_PIN_KVER_TRIXIE_ARM64 ;;
  sid) kver=$KK_PIN_KVER_SID_ARM64_16K ;;
  *) kver=$1 ;;
esac
command -v qemu-aarch64-static >/dev/null || it_fail "qemu-aarch64-static missing (scripts/setup.sh)"
it_tmpdir
oracle=$SRCDIR/tests/qemu/oracle-chroot.sh
"$oracle" path >/dev/null || it_fail "no oracle chroot (tests/qemu/oracle-chroot.sh make)"
env_out=$(KDUMPKIT_ARCH=arm64 KDUMPKIT_KVER=$kver "$SRCDIR/tests/qemu/fixtures.sh" env) ||
  it_fail "no arm64 kernel $kver in the cache"
eval "$env_out"
A64=$(bash -c '. "$1/tests/qemu/lib.sh" && kk_arm64_oracle && printf "%s\n" "$KK_ARM64_ORACLE"' _ "$SRCDIR") ||
  it_fail "no arm64 makedumpfile (scripts/test.sh fetches it)"
MDF=(qemu-aarch64-static -L "$A64" "$A64/usr/bin/makedumpfile")
for f in "$KK_VMCORE_OURS_C" "$KK_VMLINUX" "${MDF[3]}"; do
  [ -f "$f" ] || it_fail "missing $f (tests/qemu/fixtures.sh matrix-arm64, run by scripts/test.sh)"
done
VMCORE=$KK_VMCORE_OURS_C
cp "$SRCDIR/tests/integration/drgn_facts.py" "$SRCDIR/tests/integration/compound_tails.py" \
  "$SRCDIR/tests/integration/kdump_pages.py" "$SRCDIR/tests/integration/arm64_page_oracle.py" \
  "$SRCDIR/tests/integration/arm64_dmesg_drgn.py" "$IT_TMP/"
mdf() { timeout "$1" env -u MALLOC_PERTURB_ "${MDF[@]}" "${@:2}"; }

# Does this makedumpfile read the kernel at all? (See the top: 1.7.8 refuses VA_BITS 52.)
mdf_reads=1
if ! mdf 300 --dump-dmesg "$VMCORE" "$IT_TMP/theirs.dmesg" >"$IT_TMP/mdf.dmesg" 2>&1; then
  grep -q 'VA Bits 52 not supported' "$IT_TMP/mdf.dmesg" ||
    { cat "$IT_TMP/mdf.dmesg" >&2; it_fail "arm64 makedumpfile --dump-dmesg failed for another reason"; }
  grep -q '^NUMBER(VA_BITS)=52$' <(strings -n 12 "$VMCORE" | grep -m1 '^NUMBER(VA_BITS)=') ||
    it_fail "makedumpfile refuses VA_BITS 52 but VMCOREINFO says otherwise"
  mdf_reads=0
  echo "== $kver: makedumpfile $(mdf 60 -v 2>&1 | head -1 | sed -n 's/.*version \([0-9.]*\).*/\1/p') refuses it: $(grep -m1 'not supported' "$IT_TMP/mdf.dmesg")"
fi

if [ "$mdf_reads" = 0 ]; then
  echo "== $kver: page sets, ours vs the kernel's data (drgn on the full vmcore)"
  for d in 1 2 4 8 16 31; do
    t0=$SECONDS
    timeout 120 "$DUMPFILTER" -c -d "$d" "$VMCORE" "$IT_TMP/ours.$d" >/dev/null 2>"$IT_TMP/err" ||
      { cat "$IT_TMP/err" >&2; it_fail "dumpfilter -d $d"; }
    echo "-d $d: $($PY "$SRCDIR/tests/integration/kdump_pages.py" summary "$IT_TMP/ours.$d" |
      $PY -c 'import json,sys; print("kept", json.load(sys.stdin).get("dumped", "?"), end="")') pages, $((SECONDS - t0)) s"
  done
  in_oracle 600 python3 "$IT_TMP/arm64_page_oracle.py" "$VMCORE" "$KK_VMLINUX" "$IT_TMP" ||
    it_fail "our page sets disagree with the kernel's data"
fi
[ "$mdf_reads" = 1 ] && echo "== $kver: page sets, ours vs arm64 makedumpfile $(mdf 60 -v 2>&1 | head -1)"
[ "$mdf_reads" = 1 ] && for d in 1 2 4 8 16 31; do
  matrix_page_set "$d" mdf 300
done

matrix_drgn_equal 300

timeout 120 "$DUMPFILTER" --dump-dmesg "$VMCORE" "$IT_TMP/ours.dmesg" || it_fail "dumpfilter --dump-dmesg"
if [ "$mdf_reads" = 1 ]; then
  echo "== $kver: --dump-dmesg, ours vs the arm64 makedumpfile"
else
  echo "== $kver: --dump-dmesg, ours vs the printk records drgn reads"
  in_oracle 300 python3 "$IT_TMP/arm64_dmesg_drgn.py" "$VMCORE" "$KK_VMLINUX" >"$IT_TMP/theirs.dmesg" ||
    it_fail "drgn's printk records"
fi
cmp "$IT_TMP/ours.dmesg" "$IT_TMP/theirs.dmesg" ||
  { diff "$IT_TMP/ours.dmesg" "$IT_TMP/theirs.dmesg" | head -20; it_fail "kernel logs differ"; }
grep -Eq '^\[ *[0-9]+\.[0-9]{6}\] \[ *T0\] ' "$IT_TMP/ours.dmesg" || it_fail "no printk caller column"
echo "ok: $(wc -l <"$IT_TMP/ours.dmesg") lines identical (caller column: yes)"
