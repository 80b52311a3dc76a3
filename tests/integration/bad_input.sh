#!/usr/bin/env bash
# Bad input: a one-line error naming the file and the problem, a non-zero exit (no signal), and no
# DUMPFILE (nor a temporary) left behind; a full disk keeps what it wrote as DUMPFILE-incomplete,
# flagged incomplete (write_faults.sh tests that side).
source "$(dirname "$0")/lib.sh"
VMCORE=$(it_fixture small)
it_tmpdir
mounts=()
cleanup() { for m in "${mounts[@]}"; do umount "$m" 2>/dev/null; done; rm -rf "$IT_TMP"; }
trap cleanup EXIT

# expect_error NAME NEEDLE INPUT OUTDIR [dumpfilter options...]
expect_error() {
  local name=$1 needle=$2 input=$3 outdir=$4; shift 4
  local err rc=0
  err=$("$DUMPFILTER" "$@" "$input" "$outdir/dump" 2>&1 >/dev/null) || rc=$?
  [ $rc -ne 0 ] || it_fail "$name: exit 0"
  [ $rc -lt 128 ] || it_fail "$name: killed by a signal (rc $rc)"
  [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || it_fail "$name: error is not one line: $err"
  grep -qF -- "$needle" <<<"$err" || it_fail "$name: error '$err' does not mention '$needle'"
  [ -z "$(ls -A "$outdir" 2>/dev/null | grep -v '^input' | grep -vx "${IT_KEEP:-}" || true)" ] ||
    it_fail "$name: left files behind: $(ls -A "$outdir")"
  echo "ok: $name: $err"
}

mkdir -p "$IT_TMP/out"
# Truncated: headers intact, memory cut off; and cut inside the program headers.
head -c 100000000 "$VMCORE" > "$IT_TMP/trunc-data"
expect_error "truncated data" "trunc-data" "$IT_TMP/trunc-data" "$IT_TMP/out" -l -d 31
head -c 300 "$VMCORE" > "$IT_TMP/trunc-head"
expect_error "truncated headers" "trunc-head" "$IT_TMP/trunc-head" "$IT_TMP/out" -l -d 31
rm -f "$IT_TMP"/trunc-*

# Not ELF.
echo "this is not a vmcore" > "$IT_TMP/text"
expect_error "not ELF" "not an ELF file" "$IT_TMP/text" "$IT_TMP/out"

# Issue 18: a flattened kdump-compressed stream whose header claims max_mapnr 2^45, its size
# inflated for free by a zero-length record at 2^44: once an abort (std::bad_alloc of an 8 GiB
# page index); now a one-line error, in well under a second.
$PY - "$IT_TMP/huge.flat" <<'PYEOF'
import struct, sys
ps, max_mapnr = 4096, 1 << 45
vi = b"OSRELEASE=6.1.0-56-amd64\nPAGESIZE=4096\n"
hdr = bytearray(ps)
hdr[0:8] = b"KDUMP   "
struct.pack_into("<i", hdr, 8, 6)                           # header_version
hdr[12 + 4 * 65:12 + 4 * 65 + 6] = b"x86_64"                # utsname.machine
struct.pack_into("<iiIII", hdr, 428, ps, 1, 2 * max_mapnr // 8 // ps, max_mapnr & 0xffffffff, 0)
sub = bytearray(ps)
struct.pack_into("<QiiQQqQ", sub, 0, 0, 31, 0, 0, 0, ps + 104, len(vi))
struct.pack_into("<QQQ", sub, 80, 0, 0, max_mapnr)           # start/end_pfn_64, max_mapnr_64
sub[104:104 + len(vi)] = vi
def rec(off, data):
    return struct.pack(">qq", off, len(data)) + data
stream = bytearray(4096)
stream[0:12] = b"makedumpfile"
struct.pack_into(">qq", stream, 16, 1, 1)
stream += rec(0, bytes(hdr)) + rec(ps, bytes(sub)) + rec(1 << 44, b"") + struct.pack(">qq", -1, -1)
open(sys.argv[1], "wb").write(stream)
PYEOF
start=$(date +%s%N)
expect_error "max_mapnr 2^45 in a flattened stream" "bitmaps of 8796093022208 bytes are more than" \
  "$IT_TMP/huge.flat" "$IT_TMP/out" -l -d 31
[ $(( ($(date +%s%N) - start) / 1000000 )) -lt 2000 ] || it_fail "max_mapnr 2^45: took over 2 s"
rm -f "$IT_TMP/huge.flat"

# Missing vmcoreinfo: rename the note.
cp --sparse=always "$VMCORE" "$IT_TMP/novi"
$PY - "$IT_TMP/novi" <<'PYEOF'
import sys
with open(sys.argv[1], "r+b") as f:
    head = f.read(1 << 20)
    i = head.find(b"VMCOREINFO\0")
    assert i > 0, "no VMCOREINFO note name"
    f.seek(i); f.write(b"X")
PYEOF
expect_error "missing vmcoreinfo" "VMCOREINFO" "$IT_TMP/novi" "$IT_TMP/out" -l -d 31

# Another architecture (x86_64 and arm64 are read): e_machine = EM_PPC64 (21).
printf '\x15\x00' | dd of="$IT_TMP/novi" bs=1 seek=18 conv=notrunc status=none
expect_error "other arch" "e_machine 21" "$IT_TMP/novi" "$IT_TMP/out"
rm -f "$IT_TMP/novi"

# Unwritable output directory and full disk: small tmpfs mounts (root only).
if [ "$(id -u)" -eq 0 ] && mkdir -p "$IT_TMP/ro" "$IT_TMP/full" &&
   mount -t tmpfs -o size=1M,mode=0755 kdumpkit-ro "$IT_TMP/ro" 2>/dev/null; then
  mounts+=("$IT_TMP/ro")
  mount -o remount,ro "$IT_TMP/ro"
  expect_error "read-only output directory" "$IT_TMP/ro/dump" "$VMCORE" "$IT_TMP/ro" -l -d 31
  mount -t tmpfs -o size=2M,mode=0700 kdumpkit-full "$IT_TMP/full"
  mounts+=("$IT_TMP/full")
  IT_KEEP=dump-incomplete expect_error "full disk" "No space left on device" "$VMCORE" "$IT_TMP/full" -d 0
  [ $(( $($PY "$SRCDIR/tests/integration/kdump_pages.py" summary "$IT_TMP/full/dump-incomplete" |
          sed 's/.*"status": \([0-9]*\).*/\1/') & 8 )) = 8 ] || it_fail "full disk: dump-incomplete not flagged"
else
  it_fail "the read-only and full-disk cases need root and a tmpfs mount"
fi

# Existing DUMPFILE without -f is refused and left untouched.
echo keep > "$IT_TMP/out/dump"
rc=0; err=$("$DUMPFILTER" -l -d 31 "$VMCORE" "$IT_TMP/out/dump" 2>&1) || rc=$?
[ $rc -ne 0 ] && [ "$(cat "$IT_TMP/out/dump")" = keep ] || it_fail "existing file overwritten without -f"
echo "ok: existing file refused: $err"
