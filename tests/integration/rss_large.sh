#!/usr/bin/env bash
# Bounded memory: on the 4 GiB-guest vmcore dumpfilter's max RSS stays <= 16 MiB (a capture kernel
# with crashkernel=96M has about 14 MB free). makedumpfile's figure is printed beside ours.
source "$(dirname "$0")/lib.sh"
VMCORE=$(it_fixture large)
it_tmpdir
limit_kb=$((16 * 1024))
for args in "-l -d 31" "-l -d 1"; do
  /usr/bin/time -f '%M' -o "$IT_TMP/rss" "$DUMPFILTER" $args "$VMCORE" "$IT_TMP/ours" || it_fail "dumpfilter $args"
  ours=$(tail -n 1 "$IT_TMP/rss")
  /usr/bin/time -f '%M' -o "$IT_TMP/rss" makedumpfile $args "$VMCORE" "$IT_TMP/theirs" >/dev/null 2>&1 || it_fail "makedumpfile $args"
  theirs=$(tail -n 1 "$IT_TMP/rss")
  echo "max RSS $args: dumpfilter ${ours} KiB, makedumpfile ${theirs} KiB; sizes $(stat -c %s "$IT_TMP/ours") / $(stat -c %s "$IT_TMP/theirs") bytes"
  [ "$ours" -le $limit_kb ] || it_fail "dumpfilter $args used ${ours} KiB > ${limit_kb} KiB"
  rm -f "$IT_TMP/ours" "$IT_TMP/theirs"
done
