#!/usr/bin/env bash
# run.sh: runs the libFuzzer harnesses of a -Dfuzz=true build (README.md).
#   run.sh --short NAME FUZZER SECONDS   one short run (the meson test): replays corpus/NAME, then
#                                        fuzzes for SECONDS; new inputs go to a temporary folder
#   run.sh --long [RUNS] [NAMES...]      the long run: RUNS executions (default 1000000) of each
#                                        fuzzer in build-fuzz (or $FUZZ_BUILD), one after another;
#                                        corpora grow in $FUZZ_WORK (default build-fuzz/fuzz-work),
#                                        crashes land there as crash-*, and one line per fuzzer
#                                        says how many executions it ran; FUZZ_SECONDS=N stops
#                                        each one after N seconds as well
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# Every fuzzer gets the same limits: a slow input over 25 s is a hang, and 96 MiB of RSS is a
# capture kernel's whole budget (crashkernel=96M): no input may make a parser take more.
common=(-timeout=25 -rss_limit_mb=96 -malloc_limit_mb=96 -max_len=65536 -print_final_stats=1)
# ASan's quarantine of freed blocks (256 MiB by default) counts in the RSS: kept small so the
# limit measures what the parsers hold, not what the sanitizer keeps for use-after-free checks.
export ASAN_OPTIONS="quarantine_size_mb=4:thread_local_quarantine_size_kb=64${ASAN_OPTIONS:+:$ASAN_OPTIONS}"

case "${1:-}" in
--short)
  name="$2" fuzzer="$3" seconds="$4"
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  mkdir "$tmp/new"
  "$fuzzer" "${common[@]}" -max_total_time="$seconds" -artifact_prefix="$tmp/" \
    "$tmp/new" "$here/corpus/$name" >"$tmp/log" 2>&1
  rc=$?
  if [ $rc -ne 0 ]; then
    tail -n 60 "$tmp/log"
    for a in "$tmp"/crash-* "$tmp"/timeout-* "$tmp"/oom-* "$tmp"/leak-*; do
      [ -e "$a" ] && echo "finding: $(basename "$a"): $(od -An -tx1 "$a" | head -c 2000)"
    done
    exit 1
  fi
  grep -E '^(INFO: seed corpus|Done|stat::number_of_executed_units)' "$tmp/log"
  ;;
--long)
  runs="${2:-1000000}"
  shift $(( $# >= 2 ? 2 : $# ))
  build="${FUZZ_BUILD:-$root/build-fuzz}"
  work="${FUZZ_WORK:-$build/fuzz-work}"
  names=("$@")
  if [ ${#names[@]} -eq 0 ]; then
    for f in "$build"/tests/fuzz/fuzz_*; do
      [ -x "$f" ] && names+=("$(basename "$f" | sed 's/^fuzz_//')")
    done
  fi
  failed=0
  for name in "${names[@]}"; do
    mkdir -p "$work/$name"
    log="$work/$name.log"
    "$build/tests/fuzz/fuzz_$name" "${common[@]}" -runs="$runs" -artifact_prefix="$work/$name-" \
      ${FUZZ_SECONDS:+-max_total_time="$FUZZ_SECONDS"} \
      "$work/$name" "$here/corpus/$name" >"$log" 2>&1
    rc=$?
    execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
    echo "$name: ${execs:-?} executions, exit $rc$([ $rc -ne 0 ] && echo ", see $log")"
    [ $rc -eq 0 ] || failed=1
  done
  exit $failed
  ;;
*)
  sed -n '2,10p' "$0"
  exit 2
  ;;
esac
