#!/usr/bin/python3
"""Prints 'N passed, N failed' from meson's testlog.json files (one JSON object a line), summed
over every file given (the main tree's and the sanitizer tree's), the line CI counts; then, on a
line of its own, 'N skipped' with the names of the skipped tests, so that a case that could not
run is seen, never counted as passed. A missing or unreadable file counts as a failure."""
import json
import sys

passed = failed = 0
skipped = []
for path in sys.argv[1:]:
    try:
        with open(path) as f:
            for line in f:
                if not line.strip():
                    continue
                entry = json.loads(line)
                result = entry.get("result", "")
                if result in ("OK", "EXPECTEDFAIL"):
                    passed += 1
                elif result == "SKIP":
                    skipped.append(entry.get("name", "?"))
                else:
                    failed += 1
    except (OSError, ValueError) as e:
        print(f"test summary: {path}: {e}", file=sys.stderr)
        failed += 1
print(f"{passed} passed, {failed} failed")
print(f"{len(skipped)} skipped" + (": " + ", ".join(skipped) if skipped else ""))
