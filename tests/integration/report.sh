#!/usr/bin/env bash
# --report on a real sysrq-c panic (init, PID 1, CPU 0): the text names the crash, the task and
# the call trace, the JSON parses and says the same, the notes agree, and the files are 0600.
source "$(dirname "$0")/lib.sh"
VMCORE=$(it_fixture small)
it_tmpdir
R=$IT_TMP/report.txt
RJ=$IT_TMP/report.json  # report.txt gets report.json beside it

"$DUMPFILTER" --report "$R" "$VMCORE" || it_fail "dumpfilter --report"
grep -q '^  kind           sysrq triggered crash$' "$R" || it_fail "kind is not sysrq triggered crash"
grep -q '^  CPU            0$' "$R" || it_fail "CPU is not 0"
grep -q '^  task           PID 1 (init)$' "$R" || it_fail "task is not PID 1 (init)"
grep -q '^  sysrq_handle_crash+0x' "$R" || it_fail "call trace has no sysrq_handle_crash"
grep -q '^  NT_PRSTATUS    PID 1 on CPU 0: agrees with the log$' "$R" || it_fail "notes do not agree"
$PY -m json.tool "$RJ" >/dev/null || it_fail "report JSON does not parse"
$PY - "$RJ" <<'PYEOF' || it_fail "report JSON facts"
import json, sys
r = json.load(open(sys.argv[1]))
c = r["crash"]
assert c["kind"] == "sysrq" and c["reason"] == "sysrq triggered crash", c["kind"]
assert c["cpu"] == 0 and c["pid"] == 1 and c["comm"] == "init", (c["cpu"], c["pid"], c["comm"])
assert "sysrq_handle_crash" in c["call_trace"], c["call_trace"]
assert c["tainted"] is False
assert r["prstatus"]["cpus_naming_pid"] == [0] and r["prstatus"]["agrees_with_log"] is True
assert r["kernel"]["release"] and r["kernel"]["version"].startswith("Linux version " + r["kernel"]["release"])
assert r["dump"] is None and r["vmcore"]["present_pages"] > 0 and r["problems"] == []
PYEOF
for f in "$R" "$RJ"; do [ "$(stat -c %a "$f")" = 600 ] || it_fail "$f mode is not 600"; done
"$DUMPFILTER" --report "$R" "$VMCORE" 2>/dev/null && it_fail "an existing report was overwritten without -f"

# Alongside a dump: the same facts plus the dump's statistics; FILE.json alone when FILE ends so.
J=$IT_TMP/triage.json
"$DUMPFILTER" -l -d 31 --report "$J" "$VMCORE" "$IT_TMP/dump" || it_fail "dump with --report"
[ -e "$IT_TMP/triage" ] || [ -e "$J.json" ] && it_fail "a .json report also wrote text"
$PY - "$J" <<'PYEOF' || it_fail "report JSON with a dump"
import json, os, sys
r = json.load(open(sys.argv[1]))
d = r["dump"]
assert r["crash"]["kind"] == "sysrq"
assert d["codec"] == "lzo" and d["format"] == "kdump-compressed" and d["dump_level"] == 31 and d["classified"] is True, d
assert d["file_size"] == os.path.getsize(os.path.join(os.path.dirname(sys.argv[1]), "dump")), d
assert d["pages_kept"] == d["pages_present"] - sum(d["excluded"].values()) > 0, d
PYEOF
echo "ok: $(grep -c '^  ' "$R") report lines, JSON parses"
