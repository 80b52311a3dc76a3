#!/usr/bin/env bash
# The output forms besides the plain kdump-compressed file, on the small real vmcore:
# -E (ELF): crash and drgn read it, and it keeps exactly the pages our kdump-compressed dump keeps;
# -F: makedumpfile -R rebuilds our stream into the same file we write directly (header time
# aside), also for -F -E; threads: the dump is the same at every thread count; --split sets hold
# the same pages and open in crash; --mem-usage counts what the dump reports; --dry-run writes
# nothing.
source "$(dirname "$0")/lib.sh"
it_tmpdir
VMCORE=$(it_fixture small)
VMLINUX=$(it_vmlinux)
RELEASE=$(it_release)
T=$IT_TMP
pages() { $PY "$SRCDIR/tests/integration/kdump_pages.py" same "$1" "$2" || it_fail "$3"; }
# Bytes 408..423 of a kdump-compressed header are the dump time: all else must match.
same_but_time() {
  { cmp -l "$1" "$2" || true; } | awk '$1 < 409 || $1 > 424 { bad = 1 } END { exit bad }' ||
    it_fail "$3: files differ beyond the header time"
  [ "$(stat -c %s "$1")" = "$(stat -c %s "$2")" ] || it_fail "$3: sizes differ"
}

# -E
"$DUMPFILTER" -E -d 31 "$VMCORE" "$T/e.elf" || it_fail "dumpfilter -E"
[ "$(stat -c %a "$T/e.elf")" = 600 ] || it_fail "-E output is not 0600"
readelf -h "$T/e.elf" | grep -q 'Flags: *0x0$' || it_fail "-E output still flagged incomplete"
"$DUMPFILTER" -c -d 31 "$VMCORE" "$T/k.c" || it_fail "dumpfilter -c"
pages "$T/e.elf" "$T/k.c" "-E -d 31 keeps other pages than -c -d 31"
it_crash_facts "$T/e.elf" "$VMLINUX" "-E" "$RELEASE" >/dev/null
read -r rel _tid comm sysrq _cpus <<<"$(it_drgn_facts "$T/e.elf" "$VMLINUX" "-E")"
[ "$rel" = "$RELEASE" ] && [ "$sysrq" = sysrq ] || it_fail "drgn on -E: '$rel $comm $sysrq'"
"$DUMPFILTER" -E -d 0 "$VMCORE" "$T/e0.elf" || it_fail "dumpfilter -E -d 0"
pages "$T/e0.elf" "$VMCORE" "-E -d 0 is not the whole vmcore"

# -F, kdump-compressed and ELF
"$DUMPFILTER" -F -l -d 31 "$VMCORE" >"$T/s.flat" || it_fail "dumpfilter -F"
makedumpfile -R "$T/r.l" <"$T/s.flat" >/dev/null 2>&1 || it_fail "makedumpfile -R on our -F stream"
"$DUMPFILTER" -l -d 31 "$VMCORE" "$T/k.l" || it_fail "dumpfilter -l"
same_but_time "$T/r.l" "$T/k.l" "-F -l | makedumpfile -R"
it_crash_facts "$T/r.l" "$VMLINUX" "-F rebuilt" "$RELEASE" >/dev/null
"$DUMPFILTER" -F -E -d 31 "$VMCORE" >"$T/e.flat" || it_fail "dumpfilter -F -E"
makedumpfile -R "$T/re.elf" <"$T/e.flat" >/dev/null 2>&1 || it_fail "makedumpfile -R on our -F -E stream"
cmp "$T/re.elf" "$T/e.elf" || it_fail "-F -E rebuilt differs from -E"
"$DUMPFILTER" -F -l "$VMCORE" 2>/dev/null </dev/null >/dev/full && it_fail "-F to a full device succeeded"

# Threads: the same dump at 1, 2 and 5 workers.
for n in 1 2 5; do
  "$DUMPFILTER" -c -d 1 --num-threads $n "$VMCORE" "$T/t$n" || it_fail "--num-threads $n"
done
same_but_time "$T/t1" "$T/t2" "--num-threads 1 vs 2"
same_but_time "$T/t1" "$T/t5" "--num-threads 1 vs 5"
# ... and for the other forms: -E, and -F (the stream, byte for byte but the header time).
"$DUMPFILTER" -E -d 31 --num-threads 3 "$VMCORE" "$T/e3.elf" || it_fail "-E --num-threads 3"
cmp "$T/e3.elf" "$T/e.elf" || it_fail "-E differs at 3 threads"
"$DUMPFILTER" -F -l -d 31 --num-threads 3 "$VMCORE" >"$T/s3.flat" || it_fail "-F --num-threads 3"
makedumpfile -R "$T/r3.l" <"$T/s3.flat" >/dev/null 2>&1 || it_fail "makedumpfile -R (3 threads)"
same_but_time "$T/r3.l" "$T/k.l" "-F at 3 threads"
# A budget too small to keep the bitmap between the passes: pass 2 classifies again.
"$DUMPFILTER" -c -d 31 --cyclic-buffer 1 "$VMCORE" "$T/small-budget" || it_fail "--cyclic-buffer 1"
same_but_time "$T/small-budget" "$T/k.c" "--cyclic-buffer 1"
"$DUMPFILTER" -E -d 31 --cyclic-buffer 1 "$VMCORE" "$T/e-small.elf" || it_fail "-E --cyclic-buffer 1"
cmp "$T/e-small.elf" "$T/e.elf" || it_fail "-E --cyclic-buffer 1 differs"

# --split: three files with the pages of one dump; crash opens the set; makedumpfile joins it.
"$DUMPFILTER" --split -c -d 31 "$VMCORE" "$T/p1" "$T/p2" "$T/p3" || it_fail "--split"
pages "$T/p1,$T/p2,$T/p3" "$T/k.c" "--split set keeps other pages than one file"
for p in p1 p2 p3; do [ -s "$T/$p" ] || it_fail "--split left $p empty"; done
it_crash_facts "$T/p1 $T/p2 $T/p3" "$VMLINUX" "--split set" "$RELEASE" >/dev/null
makedumpfile --reassemble "$T/p1" "$T/p2" "$T/p3" "$T/joined" >/dev/null 2>&1 || it_fail "makedumpfile --reassemble of our set"
pages "$T/joined" "$T/k.c" "our --split set, reassembled by makedumpfile"
"$DUMPFILTER" --reassemble "$T/p3" "$T/p1" "$T/p2" "$T/ourjoin" || it_fail "our --reassemble of our set"
pages "$T/ourjoin" "$T/k.c" "our --split set, reassembled by us"

# --mem-usage counts what makedumpfile counts: its own --mem-usage reads only a live /proc/kcore,
# so the reference is its -d 31 report (--message-level 16), the same classes in hex.
usage=$("$DUMPFILTER" --mem-usage "$VMCORE") || it_fail "--mem-usage"
theirs=$(makedumpfile -c -d 31 --message-level 16 "$VMCORE" "$T/m-usage.c" 2>&1) ||
  it_fail "makedumpfile -d 31 --message-level 16"
row() { awk -v k="$1" '$1 == k { print $2 }' <<<"$usage"; }
mdf() { sed -n "s/^ *$1 *: 0x\([0-9a-f]*\)\$/\1/p" <<<"$theirs" | head -n 1; }
for pair in "ZERO:Pages filled with zero" "NON_PRI_CACHE:Non-private cache pages" \
            "PRI_CACHE:Private cache pages" "USER:User process data pages" "FREE:Free pages"; do
  u=$(row "${pair%%:*}"); h=$(mdf "${pair#*:}")
  [ -n "$h" ] || { echo "$theirs" | tail -n 20 >&2; it_fail "makedumpfile's report has no '${pair#*:}'"; }
  [ -n "$u" ] && [ "$u" = $((16#$h)) ] || it_fail "--mem-usage ${pair%%:*} $u, makedumpfile says $((16#$h))"
done
# KERN_DATA: the pages makedumpfile's -d 31 dump holds, less its zero pages (in its bitmap, but
# stored once and shared). Its "Remaining pages" would not do: it counts pfns outside the vmcore's
# PT_LOADs (the crashkernel region) as remaining too.
dumped=$($PY "$SRCDIR/tests/integration/kdump_pages.py" summary "$T/m-usage.c" | sed -n 's/.*"dumped": \([0-9]*\).*/\1/p')
rm -f "$T/m-usage.c"
[ -n "$dumped" ] || it_fail "kdump_pages.py: no page count for makedumpfile's -d 31 dump"
kern=$((dumped - 16#$(mdf "Pages filled with zero")))
[ "$(row KERN_DATA)" = "$kern" ] || it_fail "--mem-usage KERN_DATA $(row KERN_DATA), makedumpfile's dump holds $kern"

# --dry-run: no file, no temporary left behind.
"$DUMPFILTER" -c -d 31 --dry-run "$VMCORE" "$T/dry" || it_fail "--dry-run"
[ -z "$(ls -A "$T" | grep dry)" ] || it_fail "--dry-run left a file"
"$DUMPFILTER" --check-params -c -d 31 "$VMCORE" "$T/never" || it_fail "--check-params"
[ ! -e "$T/never" ] || it_fail "--check-params wrote a dump"
echo "output forms: ok"
