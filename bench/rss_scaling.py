#!/usr/bin/python3
"""rss_scaling.py: does dumpfilter's memory grow with the crashed machine's size?

  bench/rss_scaling.py [--vmcore-large PATH] [--vmcore-huge PATH] [--reps N] [--threads N]
                       [--levels 31,1] [--out DIR] [--limit PCT]

Runs `dumpfilter -l` (one thread and N threads) and, for reference, `makedumpfile -l` at each dump
level on the 4 GiB-guest vmcore (`tests/qemu/fixtures.sh large`) and the 16 GiB-guest vmcore
(`tests/qemu/fixtures.sh huge`: made on first use, minutes of QEMU and ~12 GB of disk), REPS
times each, alternating the vmcores and tools run after run. For each configuration it prints
the best wall time and the highest max RSS (/usr/bin/time %M) of the runs on each vmcore, the
RSS ratio huge/large, and whether dumpfilter's ratio is within --limit percent (default 10, the
acceptance point: memory bounded whatever the machine size). The page cache is warm for everyone
(a first cat of each vmcore); outputs go to a temporary directory (or --out) and are deleted
after each run. Exit status 1 if a dumpfilter configuration exceeds the limit.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_timed(cmd, out_path):
    """Runs cmd under /usr/bin/time; returns (wall s, user+sys s, maxrss KiB, output bytes)."""
    if os.path.exists(out_path):
        os.unlink(out_path)
    t = subprocess.run(["/usr/bin/time", "-f", "TIME %e %U %S %M"] + cmd,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    m = re.search(r"TIME ([\d.]+) ([\d.]+) ([\d.]+) (\d+)", t.stderr)
    if t.returncode != 0 or not m:
        sys.exit(f"failed ({t.returncode}): {' '.join(cmd)}\n{t.stderr[-2000:]}")
    size = os.path.getsize(out_path)
    for p in (out_path, out_path + ".sha256"):  # dumpfilter writes a manifest beside the dump
        if os.path.exists(p):
            os.unlink(p)
    return float(m[1]), float(m[2]) + float(m[3]), int(m[4]), size


def fixture(kind):
    print(f"vmcore {kind}: tests/qemu/fixtures.sh {kind} (made on first use)", file=sys.stderr)
    r = subprocess.run([os.path.join(ROOT, "tests/qemu/fixtures.sh"), kind],
                       stdout=subprocess.PIPE, text=True)
    path = r.stdout.strip().splitlines()[-1] if r.returncode == 0 and r.stdout.strip() else ""
    if not os.path.isfile(path):
        sys.exit(f"no {kind} vmcore: give --vmcore-{kind} or let tests/qemu/fixtures.sh {kind} make one")
    return path


def max_pfn(dumpfilter, vmcore, out):
    """Pages in the memory map and pages present, from dumpfilter's --show-stats (-d 31)."""
    path = os.path.join(out, "probe")
    r = subprocess.run([dumpfilter, "-l", "-d", "31", "--num-threads", "1", "--show-stats", vmcore, path],
                       capture_output=True, text=True)
    for p in (path, path + ".sha256"):
        if os.path.exists(p):
            os.unlink(p)
    text = r.stdout + r.stderr
    mm = re.search(r"pages in memory map\s+(\d+)", text)
    pr = re.search(r"pages present\s+(\d+)", text)
    return (int(mm[1]) if mm else 0), (int(pr[1]) if pr else 0)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vmcore-large", help="the smaller vmcore (default: fixtures.sh large, 4 GiB guest)")
    ap.add_argument("--vmcore-huge", help="the larger vmcore (default: fixtures.sh huge, 16 GiB guest)")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2, help="the multi-threaded configuration (default 2)")
    ap.add_argument("--levels", default="31,1")
    ap.add_argument("--limit", type=float, default=10.0, help="allowed RSS growth in percent (default 10)")
    ap.add_argument("--dumpfilter", default=os.path.join(ROOT, "build/dumpfilter/dumpfilter"))
    ap.add_argument("--no-mdf", action="store_true", help="leave makedumpfile out")
    ap.add_argument("--out", help="directory for the outputs (default: a temporary one)")
    args = ap.parse_args()

    if not args.no_mdf and not shutil.which("makedumpfile"):
        sys.exit("makedumpfile is missing: apt-get install makedumpfile (or --no-mdf)")
    if not os.access(args.dumpfilter, os.X_OK):
        sys.exit(f"{args.dumpfilter}: not built (meson setup build && ninja -C build)")
    vm = {"large": args.vmcore_large or fixture("large"), "huge": args.vmcore_huge or fixture("huge")}
    out = args.out or tempfile.mkdtemp(prefix="kk-rss-")
    os.makedirs(out, exist_ok=True)

    for kind, path in vm.items():
        subprocess.run(["cat", path], stdout=subprocess.DEVNULL, check=True)  # warm the cache
        mp, present = max_pfn(args.dumpfilter, path, out)
        print(f"{kind:5} {path}: {os.path.getsize(path) / 2**30:.2f} GiB, max_pfn {mp} "
              f"({mp * 4096 / 2**30:.1f} GiB), {present} pages present")
    print(f"{os.cpu_count()} CPUs; {args.reps} runs each, alternating; best wall, highest RSS")
    print()
    print(f"{'level':6} {'tool':28} {'wall 4G':>8} {'wall 16G':>9} {'RSS 4G':>9} {'RSS 16G':>9} "
          f"{'ratio':>6} {'out 4G MiB':>11} {'out 16G MiB':>12}")
    print(f"{'':6} {'':28} {'s':>8} {'s':>9} {'MiB':>9} {'MiB':>9}")

    over = []
    for level in args.levels.split(","):
        configs = [(f"dumpfilter -l 1 thread", [args.dumpfilter, "-l", "-d", level, "--num-threads", "1"], False)]
        if args.threads > 1:
            configs.append((f"dumpfilter -l {args.threads} threads",
                            [args.dumpfilter, "-l", "-d", level, "--num-threads", str(args.threads)], False))
        if not args.no_mdf:
            configs.append(("makedumpfile -l", ["makedumpfile", "-l", "-d", level], True))
        wall, rss, size = {}, {}, {}
        for _ in range(args.reps):
            for kind, path in vm.items():
                for name, cmd, _mdf in configs:
                    dump = os.path.join(out, "dump")
                    w, _cpu, r, sz = run_timed(cmd + [path, dump], dump)
                    key = (name, kind)
                    wall[key] = min(wall.get(key, w), w)
                    rss[key] = max(rss.get(key, r), r)
                    size[key] = sz
        for name, _cmd, mdf in configs:
            ratio = rss[(name, "huge")] / rss[(name, "large")]
            flag = ""
            if not mdf and ratio > 1 + args.limit / 100:
                over.append(f"-d {level} {name}")
                flag = " over"
            print(f"-d {level:3} {name:28} {wall[(name, 'large')]:8.2f} {wall[(name, 'huge')]:9.2f} "
                  f"{rss[(name, 'large')] / 1024:9.1f} {rss[(name, 'huge')] / 1024:9.1f} {ratio:6.3f} "
                  f"{size[(name, 'large')] / 2**20:11.1f} {size[(name, 'huge')] / 2**20:12.1f}{flag}")
    if not args.out:
        shutil.rmtree(out)
    print()
    if over:
        print(f"dumpfilter max RSS grows more than {args.limit:g} % from the 4G to the 16G vmcore: {', '.join(over)}")
        return 1
    print(f"dumpfilter max RSS within {args.limit:g} % between the 4G and the 16G vmcore")
    return 0


if __name__ == "__main__":
    sys.exit(main())
