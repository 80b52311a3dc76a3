#!/usr/bin/env bash
# main-job.sh: the main job on its embedded default. Sets up and builds, boots Debian's kernel in
# QEMU with memory filled, panics it and captures the vmcore (tests/qemu, cached), then filters it
# with dumpfilter and prints what crashed and what the dump kept.
# Until kdumpkit's own kexec lands, the capture inside the guest is made with Debian's kexec-tools.
# Usage: scripts/main-job.sh [-d LEVEL] [-c|-l|-z] [--large] [--out DIR]
set -euo pipefail
cd "$(dirname "$0")/.."

level=31 codec=-l size=small out=${KDUMPKIT_OUT:-$PWD/kdumpkit-out}
while [ $# -gt 0 ]; do
  case $1 in
    -d) level=$2; shift ;;
    -c|-l|-z|-p) codec=$1 ;;
    --large) size=large ;;
    --out) out=$2; shift ;;
    -h|--help) sed -n 2,7p "$0"; exit 0 ;;
    *) echo "main-job: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

t0=$(date +%s.%N)
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }'; }
phase() { printf '[%6ss] %s\n' "$(since "$t0")" "$*"; }

phase "set-up: packages and build"
scripts/setup.sh
phase "vmcore: QEMU guest panicked and captured (cached after the first run)"
vmcore=$(tests/qemu/fixtures.sh $size)
mkdir -p "$out"
chmod 0700 "$out"
dump="$out/dump-d$level${codec#-}"
log="$out/vmcore-dmesg.txt"

phase "dumpfilter $codec -d $level $vmcore"
start=$(date +%s.%N)
build/dumpfilter/dumpfilter -f $codec -d "$level" --message-level 16 "$vmcore" "$dump"
secs=$(since "$start")
build/dumpfilter/dumpfilter -f --dump-dmesg "$vmcore" "$log"

echo
echo "What crashed:"
grep -m1 -o 'Linux version [^ ]*' "$log" | sed 's/^/  /'
grep -m1 -E 'Kernel panic|BUG:|Oops' "$log" | sed 's/^/  /' || echo "  (no panic line in the log)"
echo
printf 'The dump: %s, %s bytes from a %s bytes vmcore, written in %s s\n' "$dump" \
  "$(stat -c %s "$dump")" "$(stat -c %s "$vmcore")" "$secs"
echo "Kernel log: $log"
phase "done"
