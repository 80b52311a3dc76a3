#!/usr/bin/env bash
# -R and --reassemble on makedumpfile's files. Our -R of makedumpfile's -F stream is byte for byte
# makedumpfile -R's and crash opens it; a 3-way --split set reassembled by us holds the single
# dump's pages with the same bytes, in any order given, and crash opens it. Cut or damaged streams
# and sets that do not fit together are one-line errors, exit 1, and leave no file behind.
source "$(dirname "$0")/lib.sh"
: "${PAGECMP:?meson sets PAGECMP}"
it_tmpdir
T=$IT_TMP
VMCORE=$(it_fixture small)
VMLINUX=$(it_vmlinux)

# expect_error NAME NEEDLE OUTDIR COMMAND...: one line mentioning NEEDLE, exit 1, OUTDIR empty.
expect_error() {
  local name=$1 needle=$2 outdir=$3 err rc=0; shift 3
  err=$("$@" 2>&1 >/dev/null) || rc=$?
  [ $rc -eq 1 ] || it_fail "$name: exit $rc, not 1 ($err)"
  [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || it_fail "$name: error is not one line: $err"
  grep -qF -- "$needle" <<<"$err" || it_fail "$name: error '$err' does not mention '$needle'"
  [ -z "$(ls -A "$outdir")" ] || it_fail "$name: left files behind: $(ls -A "$outdir")"
  echo "ok: $name: $err"
}

# -R: makedumpfile's -F stream rebuilt by us equals makedumpfile -R's file.
makedumpfile -F -l -d 31 "$VMCORE" > "$T/flat" 2>/dev/null || it_fail "makedumpfile -F"
"$DUMPFILTER" -R "$T/ours" < "$T/flat" || it_fail "dumpfilter -R"
makedumpfile -R "$T/theirs" < "$T/flat" >/dev/null 2>&1 || it_fail "makedumpfile -R"
cmp "$T/ours" "$T/theirs" || it_fail "our -R differs from makedumpfile -R"
[ "$(stat -c %a "$T/ours")" = 600 ] || it_fail "-R output mode is not 600"
RELEASE=$("$PY" "$SRCDIR/tests/integration/kdump_pages.py" summary "$T/ours" | sed 's/.*"release": "\([^"]*\)".*/\1/')
it_crash_facts "$T/ours" "$VMLINUX" "-R output" "$RELEASE" >/dev/null
echo "ok: -R equals makedumpfile -R ($(stat -c %s "$T/ours") bytes) and crash opens it"
# Through a pipe, as from ssh.
cat "$T/flat" | "$DUMPFILTER" -R "$T/piped" || it_fail "dumpfilter -R from a pipe"
cmp -s "$T/ours" "$T/piped" || it_fail "-R from a pipe differs"
rm -f "$T/theirs" "$T/piped"

# Bad streams: cut short, cut inside the header block, a damaged header, written over nothing.
mkdir "$T/out"
size=$(stat -c %s "$T/flat")
head -c $((size / 2)) "$T/flat" > "$T/flat-cut"
expect_error "-R of a cut stream" "truncated flattened stream" "$T/out" \
  sh -c '"$1" -R "$2" < "$3"' sh "$DUMPFILTER" "$T/out/dump" "$T/flat-cut"
head -c $((size - 16)) "$T/flat" > "$T/flat-noend"
expect_error "-R of a stream without end marker" "truncated flattened stream" "$T/out" \
  sh -c '"$1" -R "$2" < "$3"' sh "$DUMPFILTER" "$T/out/dump" "$T/flat-noend"
head -c 1000 "$T/flat" > "$T/flat-head"
expect_error "-R of a cut header" "header block" "$T/out" \
  sh -c '"$1" -R "$2" < "$3"' sh "$DUMPFILTER" "$T/out/dump" "$T/flat-head"
cp "$T/flat" "$T/flat-bad"
printf '\x07' | dd of="$T/flat-bad" bs=1 seek=23 conv=notrunc status=none  # type 1 -> 7
expect_error "-R of a bad header" "bad flattened header" "$T/out" \
  sh -c '"$1" -R "$2" < "$3"' sh "$DUMPFILTER" "$T/out/dump" "$T/flat-bad"
# The same files as dumpfilter inputs.
expect_error "cut stream as input" "flat-cut: truncated flattened stream" "$T/out" \
  "$DUMPFILTER" -l -d 31 "$T/flat-cut" "$T/out/dump"
expect_error "stream without end marker as input" "no end marker" "$T/out" \
  "$DUMPFILTER" --dump-dmesg "$T/flat-noend" "$T/out/log"
expect_error "bad header as input" "flat-bad: bad flattened header" "$T/out" \
  "$DUMPFILTER" --report "$T/out/r.txt" "$T/flat-bad"
# A kdump-compressed dump cut short: its page data is missing.
head -c $(( $(stat -c %s "$T/ours") / 2 )) "$T/ours" > "$T/kdump-cut"
expect_error "cut kdump-compressed input" "kdump-cut: " "$T/out" \
  "$DUMPFILTER" -c -d 31 "$T/kdump-cut" "$T/out/dump"
head -c 3000 "$T/ours" > "$T/kdump-head"
expect_error "kdump-compressed header only" "kdump-head: " "$T/out" \
  "$DUMPFILTER" -c -d 31 "$T/kdump-head" "$T/out/dump"
rm -f "$T"/flat* "$T"/kdump-*

# --reassemble: a 3-way split (16 MiB split blocks, so all three pieces hold pages).
makedumpfile -c -d 31 "$VMCORE" "$T/single" >/dev/null 2>&1 || it_fail "makedumpfile single"
makedumpfile -c -d 31 --splitblock-size 16384 --split "$VMCORE" "$T/s1" "$T/s2" "$T/s3" >/dev/null 2>&1 ||
  it_fail "makedumpfile --split"
"$DUMPFILTER" --reassemble "$T/s1" "$T/s2" "$T/s3" "$T/re" || it_fail "dumpfilter --reassemble"
# Our writer's output read by libkdumpfile (drgn's reader), not by ours.
"$PY" "$SRCDIR/tests/tools/kdumpfile_pagecmp.py" same "$T/re" "$T/single" ||
  it_fail "reassembled dump differs from the single dump (libkdumpfile)"
"$PY" "$SRCDIR/tests/integration/kdump_pages.py" compare "$T/re" "$T/single" | grep -q 'only ours 0, only makedumpfile 0.*different bytes 0' ||
  it_fail "kdump_pages.py sees a difference"
[ "$(stat -c %a "$T/re")" = 600 ] || it_fail "reassembled dump mode is not 600"
it_crash_facts "$T/re" "$VMLINUX" "reassembled dump" "$RELEASE" >/dev/null
echo "ok: reassembled $(stat -c %s "$T/re") bytes (single: $(stat -c %s "$T/single")), same pages, crash opens it"
# Our reader on makedumpfile's pieces, each alone: pagecmp on purpose.
for p in s1 s2 s3; do "$PAGECMP" subset "$T/$p" "$T/single" >/dev/null || it_fail "piece $p alone"; done
"$DUMPFILTER" --reassemble "$T/s3" "$T/s1" "$T/s2" "$T/re2" || it_fail "--reassemble in another order"
cmp -s "$T/re" "$T/re2" || it_fail "the order of the pieces changes the result"
rm -f "$T/re2"

# A damaged compressed page: the page (and file) named, nothing written.
cp "$T/single" "$T/badpage"
$PY - "$T/badpage" <<'PYEOF'
import struct, sys
with open(sys.argv[1], "r+b") as f:
    hdr = f.read(464)
    block, sub_blocks, bitmap_blocks = struct.unpack_from("<iiI", hdr, 428)
    desc_off = (1 + sub_blocks + bitmap_blocks) * block
    i = 1000  # the first zlib page from the 1000th page on gets garbage
    while True:
        f.seek(desc_off + 24 * i)
        off, size, flags, _ = struct.unpack("<qIIQ", f.read(24))
        if flags == 1:
            break
        i += 1
    f.seek(off); f.write(b"\xa5" * size)
PYEOF
expect_error "bad compressed page" "bad compressed page (zlib)" "$T/out" \
  "$DUMPFILTER" -l -d 0 "$T/badpage" "$T/out/dump"
rm -f "$T/badpage"

# Sets that do not fit together.
expect_error "piece missing" "a piece is missing" "$T/out" \
  "$DUMPFILTER" --reassemble "$T/s1" "$T/s2" "$T/out/dump"
expect_error "gap" "leave a gap" "$T/out" \
  "$DUMPFILTER" --reassemble "$T/s1" "$T/s3" "$T/out/dump"
expect_error "overlap" " overlap " "$T/out" \
  "$DUMPFILTER" --reassemble "$T/s1" "$T/s2" "$T/s2" "$T/s3" "$T/out/dump"
expect_error "not a split file" "not a piece of a --split set" "$T/out" \
  "$DUMPFILTER" --reassemble "$T/s1" "$T/single" "$T/out/dump"
makedumpfile -c -d 1 --splitblock-size 16384 --split "$VMCORE" "$T/o1" "$T/o2" "$T/o3" >/dev/null 2>&1 ||
  it_fail "makedumpfile --split -d 1"
expect_error "pieces of another dump" "not pieces of the same dump" "$T/out" \
  "$DUMPFILTER" --reassemble "$T/s1" "$T/o2" "$T/s3" "$T/out/dump"
