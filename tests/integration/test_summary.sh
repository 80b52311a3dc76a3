#!/usr/bin/env bash
# scripts/test_summary.py: the line CI counts is exactly "N passed, N failed"; skipped tests are
# counted on a line of their own, with their names; a missing log counts as a failure.
source "$(dirname "$0")/lib.sh"
it_tmpdir
printf '%s\n' '{"name": "a", "result": "OK"}' '{"name": "b", "result": "SKIP"}' \
  '{"name": "c", "result": "FAIL"}' '{"name": "d", "result": "EXPECTEDFAIL"}' \
  '{"name": "e", "result": "TIMEOUT"}' '{"name": "f", "result": "SKIP"}' >"$IT_TMP/log.json"
out=$(/usr/bin/python3 "$SRCDIR/scripts/test_summary.py" "$IT_TMP/log.json" "$IT_TMP/absent.json" 2>"$IT_TMP/err") ||
  it_fail "test_summary.py exited $?"
want=$'2 passed, 3 failed\n2 skipped: b, f'
[ "$out" = "$want" ] || it_fail "summary was: $out"
grep -q 'absent.json' "$IT_TMP/err" || it_fail "the missing log is not named: $(cat "$IT_TMP/err")"
out=$(/usr/bin/python3 "$SRCDIR/scripts/test_summary.py" "$IT_TMP/log.json" | tail -n 1)
[ "$out" = "2 skipped: b, f" ] || it_fail "skip line: $out"
echo "ok: '2 passed, 3 failed' then '2 skipped: b, f'"
