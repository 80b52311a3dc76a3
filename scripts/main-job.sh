#!/usr/bin/env bash
# main-job.sh: the main job on its embedded default. Sets up and builds kdumpkit, fetches Debian's
# kernel, boots it in QEMU with crashkernel=, loads the capture kernel with OUR kexec -p, crashes
# the guest, lets the capture kernel run OUR dumpfilter (dump, kernel log, triage report) onto a
# virtio disk, takes the files out and says what crashed. Phases are shown live.
#
# usage: scripts/main-job.sh [--mem 1G] [--cpus 1] [--crashkernel 128M] [-d LEVEL] [-c|-l|-z|-p|-E]
#                            [--kexec-opt -c|-s] [--kernel KVER] [--crash KIND] [--out DIR]
#   --kernel KVER|trixie|sid|PATH.deb  the Debian kernel to boot: a release (6.1.0-N-amd64 from
#                   Debian 12; 6.12.N+deb13-amd64, 7.N+deb14-amd64 from trixie or sid, fetched
#                   through an apt state of their own), trixie or sid for the release pinned in
#                   tests/qemu/pins.sh, or a linux-image (linux-binary) .deb file (its -dbg and
#                   split packages are taken from beside it, else from apt); default: the 6.1
#                   pinned in pins.sh
#   --crash KIND    sysrq (default), null, bug, oops, panic or softlockup (a small test module)
set -euo pipefail
cd "$(dirname "$0")/.."

mem=1G cpus=1 ck=128M level=31 codec=-l kexec_opt=-c crash=sysrq
out=${KDUMPKIT_OUT:-$PWD/kdumpkit-out}
while [ $# -gt 0 ]; do
  case $1 in
    --mem) mem=$2; shift ;;
    --cpus) cpus=$2; shift ;;
    --crashkernel) ck=$2; shift ;;
    -d) level=$2; shift ;;
    -c|-l|-z|-p|-E) codec=$1 ;;
    --kexec-opt) kexec_opt=$2; shift ;;
    --kernel)
      if [[ $2 == *.deb ]]; then
        [[ -f $2 ]] || { echo "main-job: --kernel $2: no such file" >&2; exit 2; }
        KDUMPKIT_KERNEL_DEB=$(realpath "$2"); export KDUMPKIT_KERNEL_DEB
      else
        . tests/qemu/pins.sh
        case $2 in
          trixie) export KDUMPKIT_KVER=$KK_PIN_KVER_TRIXIE ;;
          sid) export KDUMPKIT_KVER=$KK_PIN_KVER_SID ;;
          *) export KDUMPKIT_KVER=$2 ;;
        esac
      fi
      shift ;;
    --crash) crash=$2; shift ;;
    --out) out=$2; shift ;;
    -h|--help) sed -n 2,15p "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "main-job: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

t0=$(date +%s.%N)
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
phase() { printf '[%6ss] %s\n' "$(since "$t0")" "$*"; }

phase "set-up: packages (only missing ones) and build"
scripts/setup.sh
phase "kernel: Debian's linux-image and its debug symbols (cached after the first run)"
eval "$(tests/qemu/fixtures.sh env)"
phase "guest: ${mem} RAM, ${cpus} vCPU, crashkernel=${ck}; kexec ${kexec_opt} -p, crash: ${crash}"

mkdir -p "$out"
chmod 0700 "$out"
log="$out/console.log"
rm -f "$log"
crash_args=()
[ "$crash" = sysrq ] || crash_args=(--crash-kind "$crash")
tests/qemu/kexec-boot.sh --mode crash --mem "$mem" --cpus "$cpus" --crashkernel "$ck" \
  --level "$level" --codec "$codec" --kexec-opt "$kexec_opt" "${crash_args[@]}" --out "$out" \
  >/dev/null 2>"$out/kexec-boot.err" &
pid=$!
# Live phases: the guests print KK_PHASE lines on the serial console.
seen=0
while kill -0 $pid 2>/dev/null; do
  if [ -f "$log" ]; then
    n=$(grep -c 'KK_PHASE' "$log" || true)
    if [ "$n" -gt "$seen" ]; then
      grep 'KK_PHASE' "$log" | sed -n "$((seen + 1)),${n}p" | while read -r _ name rest; do
        phase "  guest: ${name} ${rest}"
      done
      seen=$n
    fi
  fi
  sleep 0.5
done
rc=0
wait $pid || rc=$?
[ -f "$log" ] && grep 'KK_PHASE' "$log" | sed -n "$((seen + 1)),\$p" | while read -r _ name rest; do
  phase "  guest: ${name} ${rest}"
done
if [ $rc -ne 0 ]; then
  tail -n 15 "$out/kexec-boot.err" >&2
  echo "main-job: the capture flow failed (status $rc); console log: $log" >&2
  exit 1
fi
phase "capture done: files in $out"

echo
echo "== What crashed"
if [ -f "$out/report.txt" ]; then
  sed -n '/^Kernel/,/^Vmcore/p' "$out/report.txt" | sed '$d'
else
  grep -m1 -o 'Linux version [^ ]*' "$out/vmcore-dmesg.txt" | sed 's/^/  /'
  grep -m1 -E 'Kernel panic|BUG:|Oops' "$out/vmcore-dmesg.txt" | sed 's/^/  /' || true
fi
echo "== The dump"
ram=$(awk -v m="$mem" 'BEGIN { n = m + 0; u = substr(m, length(m)); print (u == "G" ? n * 1024 : n) * 1048576 }')
printf '  %s: %s bytes (guest RAM %s bytes), -d %s %s\n' "$out/vmcore" "$(stat -c %s "$out/vmcore")" \
  "$ram" "$level" "$codec"
[ -f "$out/report.txt" ] && sed -n '/^Dump/,$p' "$out/report.txt" | grep -E 'excl\.|kept|present' | sed 's/^/  /'
echo "  kernel log: $out/vmcore-dmesg.txt"
echo "== Time per phase (seconds)"
sed 's/=/ /' "$out/timings" | while read -r k v; do printf '  %-16s %s\n' "$k" "$v"; done
phase "total"
