#!/usr/bin/env bash
# Damaged inputs (issue 10's acceptance): 200 truncated or bit-flipped vmcores and kdump-compressed
# dumps, each ending in a one-line error or a valid dump of the input's own pages (damaged_inputs.py).
source "$(dirname "$0")/lib.sh"
: "${PAGECMP:?meson sets PAGECMP}"
VMCORE=$(it_fixture small)
it_tmpdir
$PY "$SRCDIR/tests/integration/damaged_inputs.py" "$DUMPFILTER" "$PAGECMP" "$VMCORE" "$IT_TMP" ||
  it_fail "damaged inputs"
