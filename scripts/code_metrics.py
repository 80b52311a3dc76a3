#!/usr/bin/env python3
"""code_metrics.py: size and shape figures of kdumpkit's product code, the same way each time.

Usage: scripts/code_metrics.py [--root DIR] [--rev REV] [--list-long N]
  --root  the checkout to measure (default: this script's tree)
  --rev   measure the files of a commit (git show REV:path) instead of the working tree
  --list-long N  also print the N longest functions

What counts: git-tracked *.cpp, *.h and *.c under lib/ kexec/ arch/ dumpfilter/ kdumpctl/
purgatory/ (product code; tests/, bench/ and generated files are not measured).

Method (an estimate, stated so that two runs compare):
- lines: every line of those files (as wc -l counts them).
- comment share: lines that hold a comment (// or /* */, alone or after code) over non-blank
  lines.
- functions: comments, strings and character literals are blanked out, then braces are matched.
  A '{' opens a function body when it stands at namespace, class or extern "C" scope and the
  statement before it has a parameter list closing at paren depth 0, with no '=' before that list
  (a variable's initializer) and no struct/class/union/enum/namespace keyword outside a template
  header. Braces inside a constructor's init list (a_{x}) are skipped. A function's length runs
  from the first line of its statement (its signature, template header included) to its closing
  brace, inclusive. Lambdas and local classes count toward the function that holds them.
- hand-written error returns: occurrences of `return std::move(x).error()` (any x, with or
  without a .context() after it), and among them those on an `if (!x)` line.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys

DIRS = ["lib", "kexec", "arch", "dumpfilter", "kdumpctl", "purgatory"]
EXTS = (".cpp", ".h", ".c")
TYPE_WORDS = {"struct", "class", "union", "enum", "namespace"}
ERROR_RETURN = re.compile(r"return\s+std::move\(\s*[^()]*(?:\([^()]*\))?[^()]*\)\s*\.error\(\)")
IF_ERROR_RETURN = re.compile(r"if\s*\(\s*!\s*[\w.]+\s*\)\s*" + ERROR_RETURN.pattern)


def list_files(root, rev):
    cmd = ["git", "-C", root, "ls-tree", "-r", "--name-only", rev, "--"] if rev else \
          ["git", "-C", root, "ls-files", "--"]
    out = subprocess.run(cmd + DIRS, capture_output=True, text=True, check=True).stdout
    return sorted(p for p in out.splitlines() if p.endswith(EXTS))


def read(root, rev, path):
    if rev:
        return subprocess.run(["git", "-C", root, "show", f"{rev}:{path}"], capture_output=True,
                              text=True, check=True).stdout
    with open(os.path.join(root, path), encoding="utf-8", errors="replace") as f:
        return f.read()


def blank_comments_and_strings(text):
    """The text with comments, strings and char literals replaced by spaces (newlines kept), and
    the set of line numbers (0-based) that hold a comment."""
    out, comment_lines = [], set()
    i, n, line = 0, len(text), 0
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            comment_lines.add(line)
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            chunk = text[i:j]
            for k in range(chunk.count("\n") + 1):
                comment_lines.add(line + k)
            out.append(re.sub(r"[^\n]", " ", chunk))
            line += chunk.count("\n")
            i = j
        elif c == 'R' and text.startswith('R"', i) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            m = re.match(r'R"([^(\s]*)\(', text[i:])
            if not m:
                out.append(c); i += 1; continue
            end = text.find(")" + m.group(1) + '"', i)
            j = n if end < 0 else end + len(m.group(1)) + 2
            chunk = text[i:j]
            out.append(re.sub(r"[^\n]", " ", chunk))
            line += chunk.count("\n")
            i = j
        elif c in "\"'":
            if c == "'" and i > 0 and text[i - 1].isalnum():  # digit separator 1'000
                out.append(" "); i += 1; continue
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(c + " " * (j - i - 2) + c if j - i >= 2 else " " * (j - i))
            i = j
        else:
            if c == "\n":
                line += 1
            out.append(c)
            i += 1
    return "".join(out), comment_lines


def strip_template_headers(stmt):
    """The statement without its template <...> headers (their 'class T' is no type keyword)."""
    out, i = [], 0
    while True:
        m = re.search(r"\btemplate\s*<", stmt[i:])
        if not m:
            out.append(stmt[i:])
            return "".join(out)
        out.append(stmt[i:i + m.start()])
        j, depth = i + m.end(), 1
        while j < len(stmt) and depth:
            depth += {"<": 1, ">": -1}.get(stmt[j], 0)
            j += 1
        i = j


def is_function_head(stmt):
    s = strip_template_headers(stmt)
    if not s.strip() or re.search(r"\b(" + "|".join(TYPE_WORDS) + r")\b", s):
        return False
    if re.match(r'\s*extern\s*$', s):
        return False
    depth, seen_params = 0, False
    for ch in s:
        if ch == "(":
            if depth == 0 and not seen_params:
                seen_params = True
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "=" and depth == 0 and not seen_params:
            return False  # an initializer: `auto f = [](...) {`
    return seen_params and depth == 0


def functions(text):
    """[(name-ish, first line, last line)] of the function bodies, 1-based lines."""
    code, _ = blank_comments_and_strings(text)
    scopes = []       # 'ns' (namespace, class, extern "C"), 'fn', 'block', 'init'
    stmt_start = 0    # index where the current statement at non-function scope began
    found = []
    fn_open = None
    i = 0
    for i, ch in enumerate(code):
        in_fn = any(s == "fn" for s in scopes)
        if ch == "{":
            if in_fn:
                scopes.append("block")
                continue
            stmt = code[stmt_start:i]
            tail = stmt.rstrip()
            if scopes and scopes[-1] == "init":
                scopes.append("init")
            elif re.search(r"\)\s*:\s*", stmt) and tail and (tail[-1].isalnum() or tail[-1] == "_") \
                    and not re.search(r"\)\s*(const|noexcept|override|final|mutable|\s)*$", tail) \
                    and not re.search(r"->\s*[\w:<>,\s*&]+$", tail) and is_function_head(stmt):
                scopes.append("init")  # a_{x} in a constructor's init list
            elif is_function_head(stmt):
                scopes.append("fn")
                first = stmt_start + (len(stmt) - len(stmt.lstrip()))
                fn_open = (code.count("\n", 0, first) + 1, stmt.strip().split("(")[0].split()[-1:] or ["?"])
            else:
                scopes.append("ns")
                stmt_start = i + 1
        elif ch == "}":
            if not scopes:
                continue
            kind = scopes.pop()
            if kind == "fn":
                found.append((fn_open[1][0], fn_open[0], code.count("\n", 0, i) + 1))
                stmt_start = i + 1
            elif kind == "ns":
                stmt_start = i + 1
        elif ch in ";" and not in_fn and not (scopes and scopes[-1] == "init"):
            stmt_start = i + 1
        elif ch == "#" and not in_fn and (i == 0 or code[i - 1] == "\n"):
            pass
    return found


def strip_preprocessor(text):
    # Directives (and their continuation lines) are no part of a statement.
    return re.sub(r"(?m)^[ \t]*#(?:[^\n]*\\\n)*[^\n]*", lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)


def measure(root, rev, list_long):
    files = list_files(root, rev)
    lines = nonblank = comment = 0
    lengths, longest = [], []
    err_returns = if_err_returns = 0
    for path in files:
        text = read(root, rev, path)
        lines += text.count("\n") + (0 if text.endswith("\n") or not text else 1)
        _, comment_lines = blank_comments_and_strings(text)
        for k, l in enumerate(text.split("\n")):
            if l.strip():
                nonblank += 1
                comment += k in comment_lines
        for name, a, b in functions(strip_preprocessor(text)):
            lengths.append(b - a + 1)
            longest.append((b - a + 1, f"{path}:{a} {name}"))
        err_returns += len(ERROR_RETURN.findall(text))
        if_err_returns += len(IF_ERROR_RETURN.findall(text))
    lengths.sort()
    p90 = lengths[min(len(lengths) - 1, int(0.9 * len(lengths)))] if lengths else 0
    print(f"measured: {rev or 'working tree'} of {os.path.abspath(root)}")
    print(f"files: {len(files)}")
    print(f"lines: {lines}")
    print(f"functions: {len(lengths)}")
    print(f"function lines: median {statistics.median(lengths) if lengths else 0:g}, p90 {p90}, "
          f"max {lengths[-1] if lengths else 0}")
    print(f"functions over 80 lines: {sum(1 for n in lengths if n > 80)}")
    print(f"comment share: {100.0 * comment / max(nonblank, 1):.1f} % of {nonblank} non-blank lines")
    print(f"hand-written error returns: {err_returns} `return std::move(x).error()`, "
          f"{if_err_returns} of them as `if (!x) return std::move(x).error()`")
    for n, where in sorted(longest, reverse=True)[:list_long]:
        print(f"  {n:4d} {where}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap.add_argument("--rev", default="")
    ap.add_argument("--list-long", type=int, default=0)
    a = ap.parse_args()
    measure(a.root, a.rev, a.list_long)
    return 0


if __name__ == "__main__":
    sys.exit(main())
