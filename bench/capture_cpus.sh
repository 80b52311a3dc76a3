#!/bin/bash
# capture_cpus.sh: what each capture-kernel CPU costs and buys (issue 20), measured with
# tests/qemu/kexec-boot.sh (Debian's 6.1 kernel under TCG, our kexec -c, our dumpfilter in the
# capture kernel). One guest at a time; each RUN is NR_CPUS@CRASHKERNEL, run in the order given
# (give 1@128M 2@128M 1@128M 2@128M to alternate), and prints one table row:
#   nr_cpus crashkernel result MemTotal MemAvailable Percpu (KiB, the capture kernel's
#   /proc/meminfo before the dump) dumpfilter maxrss (KiB, getrusage), its most threads,
#   dump s (dumpfilter's wall time in the capture kernel), panic->saved s (the end-to-end capture)
#
# usage: bench/capture_cpus.sh [--mem 2G] [--cpus 4] [--level 31] [--codec -l] [--fill MIB]
#                              [--out DIR] RUN...
# BUILD: $KDUMPKIT_BUILD or build/ (kexec/kexec, dumpfilter/dumpfilter). Each run's files stay
# in OUT/NR@CK.K (console.log, timings); a failed capture is a row with result "fail", not an
# error: finding the smallest crashkernel= is what the failures are for.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mem=2G cpus=4 level=31 codec=-l fill=16 out=''
while (($#)); do
    case $1 in
        --mem) mem=$2; shift 2 ;;
        --cpus) cpus=$2; shift 2 ;;
        --level) level=$2; shift 2 ;;
        --codec) codec=$2; shift 2 ;;
        --fill) fill=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        -*) echo "capture_cpus.sh: unknown option $1" >&2; exit 2 ;;
        *) break ;;
    esac
done
(($#)) || { echo "capture_cpus.sh: no RUN (NR_CPUS@CRASHKERNEL) given" >&2; exit 2; }
out=${out:-$(mktemp -d "${TMPDIR:-/tmp}/capture-cpus.XXXXXX")}
mkdir -p "$out"

# field LOG KEY: the value of KEY=... or "KEY: N kB" in the capture kernel's lines of LOG.
meminfo() { sed -n "s/^KK_MEMINFO .*$2: \([0-9]*\)k.*/\1/p" "$1" | head -n1; }
printf '%-7s %-11s %-6s %9s %12s %7s %10s %7s %7s %7s\n' nr_cpus crashkernel result MemTotal MemAvailable \
    Percpu df_maxrss threads dump_s saved_s
k=0
for run in "$@"; do
    [[ $run =~ ^([1-9][0-9]*)@([0-9]+[MG])$ ]] || { echo "capture_cpus.sh: bad RUN $run (e.g. 2@128M)" >&2; exit 2; }
    n=${BASH_REMATCH[1]} ck=${BASH_REMATCH[2]}
    k=$((k + 1))
    dir=$out/$n@$ck.$k
    result=ok
    "$here/../tests/qemu/kexec-boot.sh" --mode crash --mem "$mem" --cpus "$cpus" --capture-cpus "$n" \
        --crashkernel "$ck" --level "$level" --codec "$codec" --fill "$fill" --out "$dir" \
        >/dev/null 2>"$dir.log" || result=fail
    log=$dir/console.log
    rss=$(sed -n 's/^KK_RUSAGE .*maxrss_kb=\([0-9]*\).*/\1/p' "$log" 2>/dev/null | head -n1)
    threads=$(sed -n 's/^KK_RUSAGE .*max_threads=\([0-9]*\).*/\1/p' "$log" 2>/dev/null | head -n1)
    t() { sed -n "s/^$1=//p" "$dir/timings" 2>/dev/null; }
    printf '%-7s %-11s %-6s %9s %12s %7s %10s %7s %7s %7s\n' "$n" "$ck" "$result" "$(meminfo "$log" MemTotal)" \
        "$(meminfo "$log" MemAvailable)" "$(meminfo "$log" Percpu)" "${rss:--}" "${threads:--}" "$(t dump)" "$(t saved)"
done
