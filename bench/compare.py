#!/usr/bin/python3
"""compare.py: dumpfilter against makedumpfile on the same vmcore, run alternately.

  bench/compare.py [--vmcore PATH] [--reps N] [--threads N] [--modes -l,-z,-c] [--levels 1,31]
                   [--out DIR] [--markdown]

For every mode and level it runs makedumpfile (one thread, and --num-threads when asked) and
dumpfilter (one thread, and N threads) alternately, REPS times each, and prints the best wall
time, user+sys time, max RSS and output size of each, and the ratio of ours to makedumpfile's best
configuration. For context: the file's read bandwidth (cat > /dev/null) and single-thread lz4 and
zstd speed on the first GiB of the same data. The page cache is warm for everyone (a first cat).
Debian's makedumpfile has no zstd: -z is compared with its -l and -c.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_timed(cmd, out_path=None):
    """Runs cmd under /usr/bin/time; returns (wall, user+sys, maxrss KiB, output bytes)."""
    if out_path and os.path.exists(out_path):
        os.unlink(out_path)
    t = subprocess.run(["/usr/bin/time", "-f", "TIME %e %U %S %M"] + cmd,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    m = re.search(r"TIME ([\d.]+) ([\d.]+) ([\d.]+) (\d+)", t.stderr)
    if t.returncode != 0 or not m:
        sys.exit(f"failed ({t.returncode}): {' '.join(cmd)}\n{t.stderr[-2000:]}")
    size = os.path.getsize(out_path) if out_path else 0
    if out_path:
        os.unlink(out_path)
    return float(m[1]), float(m[2]) + float(m[3]), int(m[4]), size


def throughput(cmd, nbytes):
    t0 = time.monotonic()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, shell=True)
    return nbytes / (time.monotonic() - t0) / 1e6


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vmcore")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--modes", default="-l,-z,-c")
    ap.add_argument("--levels", default="1,31")
    ap.add_argument("--dumpfilter", default=os.path.join(ROOT, "build/dumpfilter/dumpfilter"))
    ap.add_argument("--out", help="directory for the outputs (default: a temporary one)")
    ap.add_argument("--mdf-threads", action="store_true", help="also makedumpfile --num-threads")
    args = ap.parse_args()

    vmcore = args.vmcore
    if not vmcore:
        r = subprocess.run([os.path.join(ROOT, "tests/qemu/fixtures.sh"), "large"],
                           capture_output=True, text=True)
        vmcore = r.stdout.strip().splitlines()[-1] if r.returncode == 0 and r.stdout.strip() else ""
        if not os.path.isfile(vmcore):
            sys.exit("no vmcore: give --vmcore or let tests/qemu/fixtures.sh large make one")
    for tool in ("makedumpfile", "lz4", "zstd"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is missing: apt-get install {tool}")
    out = args.out or tempfile.mkdtemp(prefix="kk-bench-")
    size = os.path.getsize(vmcore)
    gib = min(size, 1 << 30)

    subprocess.run(f"cat '{vmcore}' > /dev/null", shell=True, check=True)  # warm the cache
    print(f"vmcore {vmcore}: {size / 2**20:.0f} MiB; {os.cpu_count()} CPUs; {args.reps} runs each, best shown")
    print(f"read bandwidth (cat > /dev/null, warm): {throughput(f'cat {vmcore} > /dev/null', size):.0f} MB/s")
    head = f"head -c {gib} '{vmcore}'"
    print(f"lz4 -1 one thread: {throughput(f'{head} | lz4 -1 -c > /dev/null', gib):.0f} MB/s, "
          f"zstd -1 one thread: {throughput(f'{head} | zstd -1 -T1 -c > /dev/null', gib):.0f} MB/s "
          f"(first {gib >> 20} MiB, through a pipe)")
    print()
    print(f"{'mode':10} {'tool':30} {'wall s':>8} {'cpu s':>8} {'RSS MiB':>8} {'output MiB':>11} {'ratio':>6}")
    for level in args.levels.split(","):
        for mode in args.modes.split(","):
            theirs_modes = ["-l", "-c"] if mode == "-z" else [mode]
            configs = []
            for tm in theirs_modes:
                configs.append((f"makedumpfile {tm}", ["makedumpfile", tm, "-d", level, vmcore], True))
                if args.mdf_threads:
                    configs.append((f"makedumpfile {tm} --num-threads {args.threads}",
                                    ["makedumpfile", tm, "-d", level, "--num-threads", str(args.threads), vmcore], True))
            configs.append((f"dumpfilter {mode} 1 thread",
                            [args.dumpfilter, mode, "-d", level, "--num-threads", "1", vmcore], False))
            if args.threads > 1:
                configs.append((f"dumpfilter {mode} {args.threads} threads",
                                [args.dumpfilter, mode, "-d", level, "--num-threads", str(args.threads), vmcore], False))
            best = {}
            for _ in range(args.reps):
                for name, cmd, _mdf in configs:  # alternate tools run after run
                    path = os.path.join(out, "dump")
                    r = run_timed(cmd + [path], path)
                    if name not in best or r[0] < best[name][0]:
                        best[name] = r
            ref = min(best[n][0] for n, _c, mdf in configs if mdf)
            for name, _cmd, mdf in configs:
                w, cpu, rss, sz = best[name]
                ratio = "" if mdf else f"{w / ref:.2f}"
                print(f"-d {level:3} {mode:3} {name:30} {w:8.2f} {cpu:8.2f} {rss / 1024:8.1f} {sz / 2**20:11.1f} {ratio:>6}")
    if not args.out:
        shutil.rmtree(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
