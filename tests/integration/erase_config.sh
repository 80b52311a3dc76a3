#!/usr/bin/env bash
# --config FILE -x VMLINUX on the 512 MiB vmcore: the named kernel data reads back in crash as 'X'
# (or NULL for nullify), nothing else in the dump changes, crash shows the eraseinfo, and
# makedumpfile 1.7.2 with the same config erases the same bytes and records the same eraseinfo.
source "$(dirname "$0")/lib.sh"
it_tmpdir
VMCORE=$(it_fixture small)
VMLINUX=$(it_vmlinux)
CHECK="$SRCDIR/tests/integration/erase_check.py"
CONF=$IT_TMP/erase.conf
cat >"$CONF" <<'EOF'
# what a site may not want to leave a machine in a dump
[vmlinux]
erase init_uts_ns.name.nodename
erase init_uts_ns.name.domainname size 8
erase saved_command_line
erase init_task.real_parent nullify
erase log_buf size log_buf_len
for fs in file_systems via next
  erase fs.name
endfor
for m in modules within module:list
  erase m.name
endfor
EOF
"$DUMPFILTER" -c -d 31 "$VMCORE" "$IT_TMP/plain" || it_fail "dumpfilter without --config"
start=$(date +%s.%N)
"$DUMPFILTER" -c -d 31 -x "$VMLINUX" --config "$CONF" "$VMCORE" "$IT_TMP/erased" || it_fail "dumpfilter --config"
echo "dumpfilter --config: $(awk "BEGIN { printf \"%.2f\", $(date +%s.%N) - $start }") s"

# 1. The same pages; every byte that changed is erase fill ('X', 0x58) or a NULL pointer.
$PY "$CHECK" diff "$IT_TMP/erased" "$IT_TMP/plain" >"$IT_TMP/diff"
tail -n 1 "$IT_TMP/diff" | grep -qx "pages only in A: 0, only in B: 0" || it_fail "page sets differ: $(tail -n 1 "$IT_TMP/diff")"
runs=$(($(wc -l <"$IT_TMP/diff") - 1))
[ "$runs" -ge 10 ] || it_fail "only $runs changed byte runs"
bad=$(head -n -1 "$IT_TMP/diff" | awk '$3 !~ /^(58)+$/ && $3 !~ /^(00)+$/' | head -n 3)
[ -z "$bad" ] || it_fail "changed bytes that are not erase fill: $bad"
bytes=$(head -n -1 "$IT_TMP/diff" | awk '{ n += $2 } END { print n }')
echo "changed: $runs runs, $bytes bytes"

# 2. The eraseinfo, in makedumpfile's words.
$PY "$CHECK" eraseinfo "$IT_TMP/erased" >"$IT_TMP/ei.ours"
for line in "erase init_uts_ns.name.nodename size 65" "erase init_uts_ns.name.domainname size 8" \
            "erase init_task.real_parent nullify"; do
  grep -qx "$line" "$IT_TMP/ei.ours" || it_fail "eraseinfo lacks '$line'"
done
grep -Eqx "erase saved_command_line size [0-9]+" "$IT_TMP/ei.ours" || it_fail "eraseinfo: no saved_command_line"
grep -Eqx "erase log_buf size [0-9]+" "$IT_TMP/ei.ours" || it_fail "eraseinfo: no log_buf"
[ "$(grep -c '^erase fs.name size ' "$IT_TMP/ei.ours")" -ge 3 ] || it_fail "eraseinfo: file_systems loop"
[ "$(grep -c '^erase m.name size 56$' "$IT_TMP/ei.ours")" -ge 3 ] || it_fail "eraseinfo: modules loop"

# 3. crash reads the erased values, warns that data was erased, and shows the eraseinfo.
out=$(printf 'p init_uts_ns.name.nodename\np init_task.real_parent\nhelp -D\nquit\n' |
      timeout 300 env -u MALLOC_PERTURB_ crash -s "$VMLINUX" "$IT_TMP/erased" 2>&1) || it_fail "crash failed"
x65=$(printf 'X%.0s' $(seq 65))
grep -qF "= \"$x65\"" <<<"$out" || { echo "$out" | head -40 >&2; it_fail "crash: nodename is not 65 X"; }
grep -Eq '= \(struct task_struct \*\) 0x0$' <<<"$out" || it_fail "crash: init_task.real_parent is not NULL"
grep -q "Kernel data has been erased from this dumpfile" <<<"$out" || it_fail "crash: no erased-data warning"
grep -q "erase init_uts_ns.name.nodename size 65" <<<"$out" || it_fail "crash help -D: no eraseinfo"
plain=$(printf 'p init_uts_ns.name.nodename\nquit\n' |
        timeout 300 env -u MALLOC_PERTURB_ crash -s "$VMLINUX" "$IT_TMP/plain" 2>&1) || it_fail "crash failed (plain)"
grep -qF "$x65" <<<"$plain" && it_fail "crash: the plain dump is erased too"

# ELF output (-E) is erased the same way; the eraseinfo goes into an ERASEINFO note, as makedumpfile -E does.
"$DUMPFILTER" -E -d 31 -x "$VMLINUX" --config "$CONF" "$VMCORE" "$IT_TMP/erased.elf" || it_fail "dumpfilter -E --config"
elf=$(printf 'p init_uts_ns.name.nodename\nquit\n' |
      timeout 300 env -u MALLOC_PERTURB_ crash -s "$VMLINUX" "$IT_TMP/erased.elf" 2>&1) || it_fail "crash failed (-E)"
grep -qF "= \"$x65\"" <<<"$elf" || it_fail "crash -E: nodename is not 65 X"
grep -q "Kernel data has been erased from this dumpfile" <<<"$elf" || it_fail "crash -E: no erased-data warning"
$PY "$CHECK" elf-eraseinfo "$IT_TMP/erased.elf" | diff - "$IT_TMP/ei.ours" >&2 || it_fail "-E: ERASEINFO note differs"
rm -f "$IT_TMP/erased.elf"
# A flattened stream (-F) carries the eraseinfo through makedumpfile -R.
"$DUMPFILTER" -F -c -d 31 -x "$VMLINUX" --config "$CONF" "$VMCORE" >"$IT_TMP/erased.flat" || it_fail "dumpfilter -F --config"
makedumpfile -R "$IT_TMP/erased.rebuilt" <"$IT_TMP/erased.flat" >/dev/null 2>&1 || it_fail "makedumpfile -R"
$PY "$CHECK" eraseinfo "$IT_TMP/erased.rebuilt" | diff - "$IT_TMP/ei.ours" >&2 || it_fail "-F: eraseinfo differs"
rm -f "$IT_TMP/erased.flat" "$IT_TMP/erased.rebuilt"

# 4. makedumpfile, same config, same vmcore: the same eraseinfo and the same bytes.
makedumpfile -c -d 31 -x "$VMLINUX" --config "$CONF" "$VMCORE" "$IT_TMP/theirs" >/dev/null 2>&1 ||
  it_fail "makedumpfile --config"
$PY "$CHECK" eraseinfo "$IT_TMP/theirs" >"$IT_TMP/ei.theirs"
diff "$IT_TMP/ei.ours" "$IT_TMP/ei.theirs" >&2 || it_fail "eraseinfo differs from makedumpfile's"
$PY "$CHECK" diff "$IT_TMP/erased" "$IT_TMP/theirs" >"$IT_TMP/diff2"
[ "$(wc -l <"$IT_TMP/diff2")" -eq 1 ] || { head -n 5 "$IT_TMP/diff2" >&2; it_fail "bytes differ from makedumpfile's"; }
echo "makedumpfile: same eraseinfo ($(wc -l <"$IT_TMP/ei.ours") lines), same bytes; $(cat "$IT_TMP/diff2")"

# 5. Bad configs: one line naming the file and line, exit 1, no dump file left; usage errors exit 2.
printf 'erase init_uts_ns.name\nerase init_uts_ns.name.nosuch\n' >"$IT_TMP/bad.conf"
rc=0; "$DUMPFILTER" -d 31 -x "$VMLINUX" --config "$IT_TMP/bad.conf" "$VMCORE" "$IT_TMP/bad" 2>"$IT_TMP/err" || rc=$?
[ "$rc" -eq 1 ] || it_fail "bad config: exit $rc"
grep -qx "dumpfilter: $IT_TMP/bad.conf: line 2: struct new_utsname has no member 'nosuch'" "$IT_TMP/err" ||
  it_fail "bad config: $(cat "$IT_TMP/err")"
[ ! -e "$IT_TMP/bad" ] || it_fail "bad config left a dump file"
[ -z "$(ls "$IT_TMP" | grep -v -e '^plain$' -e '^erased$' -e '^theirs$' -e '\.conf$' -e '^ei\.' -e '^diff' -e '^err$' -e '\.sha256$')" ] ||
  it_fail "temporary files left: $(ls "$IT_TMP")"
printf '[ext4]\nerase ext4_li_info\n' >"$IT_TMP/mod.conf"
rc=0; "$DUMPFILTER" -x "$VMLINUX" --config "$IT_TMP/mod.conf" "$VMCORE" "$IT_TMP/bad" 2>"$IT_TMP/err" || rc=$?
[ "$rc" -eq 1 ] && grep -q "line 1: section \[ext4\]: only \[vmlinux\] is supported" "$IT_TMP/err" ||
  it_fail "module section: exit $rc, $(cat "$IT_TMP/err")"
rc=0; "$DUMPFILTER" --config "$CONF" "$VMCORE" "$IT_TMP/bad" 2>"$IT_TMP/err" || rc=$?
[ "$rc" -eq 2 ] && grep -q -- "--config needs -x VMLINUX" "$IT_TMP/err" || it_fail "--config without -x: exit $rc"
rc=0; "$DUMPFILTER" -x /bin/true --config "$CONF" "$VMCORE" "$IT_TMP/bad" 2>"$IT_TMP/err" || rc=$?
[ "$rc" -eq 1 ] && grep -qx "dumpfilter: /bin/true: cannot read its DWARF: no DWARF information" "$IT_TMP/err" ||
  it_fail "-x without DWARF: exit $rc, $(cat "$IT_TMP/err")"
echo "erase_config: ok"
