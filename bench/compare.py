#!/usr/bin/python3
"""compare.py: dumpfilter against makedumpfile on the same vmcore, run alternately.

  bench/compare.py [--vmcore PATH] [--reps N] [--threads N] [--modes -l,-z,-c] [--levels 1,31]
                   [--out DIR] [--markdown]

For every mode and level it runs makedumpfile (one thread, and --num-threads when asked) and
dumpfilter (one thread, and N threads) alternately, REPS times each, and prints the best wall
time, user+sys time, max RSS and output size of each, and the ratio of ours to makedumpfile's best
configuration, and of our user+sys time to that run's (cpu x; a makedumpfile command that runs in several sections, -l in the -l and -z ones,
counts with its best time anywhere in the run; the table is printed at the end). For context:
the file's read bandwidth (cat > /dev/null) and single-thread lz4 and
zstd speed on the first GiB of the same data. The input is read into the page cache before every
run and dirty output is synced between runs, both outside the timing (dumpfilter's own fsync is
inside it; makedumpfile does not fsync).

After each mode it checks that dumpfilter's outputs at 1 and N threads are the same bytes (past
the header block, which holds the time of the dump) and prints, for dumpfilter, its read rate
(bytes it had to read: the pages the memory map did not exclude, over its wall time) as a share
of the file's read bandwidth, and the thread scaling (N-thread throughput / (N x 1-thread)).
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


def run_timed(cmd, out_path=None, keep=None, warm=None):
    """Runs cmd under /usr/bin/time; returns (wall, user+sys, maxrss KiB, output bytes). The
    output is removed, or renamed to `keep`."""
    if out_path and os.path.exists(out_path):
        os.unlink(out_path)
    subprocess.run(["sync"], check=True)  # no writeback of the last run's output in this one
    if warm:  # the input in the page cache for every run (reclaim may have dropped some)
        subprocess.run(f"cat '{warm}' > /dev/null", shell=True, check=True)
    t = subprocess.run(["/usr/bin/time", "-f", "TIME %e %U %S %M"] + cmd,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    m = re.search(r"TIME ([\d.]+) ([\d.]+) ([\d.]+) (\d+)", t.stderr)
    if t.returncode != 0 or not m:
        sys.exit(f"failed ({t.returncode}): {' '.join(cmd)}\n{t.stderr[-2000:]}")
    size = os.path.getsize(out_path) if out_path else 0
    if out_path and keep:
        os.replace(out_path, keep)
    elif out_path:
        os.unlink(out_path)
    return float(m[1]), float(m[2]) + float(m[3]), int(m[4]), size


def bytes_to_read(dumpfilter, mode, level, vmcore, out):
    """Bytes dumpfilter must read at this level: every present page the memory map does not
    exclude (zero pages must be read to be found), from its --show-stats."""
    r = subprocess.run([dumpfilter, mode, "-d", level, "--dry-run", "--message-level", "16", vmcore,
                        os.path.join(out, "dry")], capture_output=True, text=True)
    stats = dict(re.findall(r"^\s*(pages present|excluded: [a-z ]+?|pages kept)\s+(\d+)$", r.stderr, re.M))
    if "pages present" not in stats:
        return None
    mapped = sum(int(v) for k, v in stats.items() if k.startswith("excluded: ") and k != "excluded: zero")
    return (int(stats["pages present"]) - mapped) * 4096


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
    ap.add_argument("--baseline", help="another dumpfilter binary (e.g. an older commit's) run alongside at one thread")
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
    cat_bw = throughput(f'cat {vmcore} > /dev/null', size)
    print(f"read bandwidth (cat > /dev/null, warm): {cat_bw:.0f} MB/s")
    head = f"head -c {gib} '{vmcore}'"
    print(f"lz4 -1 one thread: {throughput(f'{head} | lz4 -1 -c > /dev/null', gib):.0f} MB/s, "
          f"zstd -1 one thread: {throughput(f'{head} | zstd -1 -T1 -c > /dev/null', gib):.0f} MB/s "
          f"(first {gib >> 20} MiB, through a pipe)")
    print()
    # The same makedumpfile command runs in more than one section (-l in the -l and -z ones): its
    # best anywhere in the run is the reference, so a slow spell of the machine in one section
    # does not flatter us. Tables are printed at the end for that.
    mdf_best, sections = {}, []
    for level in args.levels.split(","):
        for mode in args.modes.split(","):
            theirs_modes = ["-l", "-c"] if mode == "-z" else [mode]
            configs = []
            for tm in theirs_modes:
                configs.append((f"makedumpfile {tm}", ["makedumpfile", tm, "-d", level, vmcore], True))
                if args.mdf_threads:
                    configs.append((f"makedumpfile {tm} --num-threads {args.threads}",
                                    ["makedumpfile", tm, "-d", level, "--num-threads", str(args.threads), vmcore], True))
            if args.baseline:  # outside the identity check: its output may differ
                configs.append((f"baseline {mode} 1 thread",
                                [args.baseline, mode, "-d", level, "--num-threads", "1", vmcore], None))
            configs.append((f"dumpfilter {mode} 1 thread",
                            [args.dumpfilter, mode, "-d", level, "--num-threads", "1", vmcore], False))
            if args.threads > 1:
                configs.append((f"dumpfilter {mode} {args.threads} threads",
                                [args.dumpfilter, mode, "-d", level, "--num-threads", str(args.threads), vmcore], False))
            best = {}
            for rep in range(args.reps):
                for i, (name, cmd, mdf) in enumerate(configs):  # alternate tools run after run
                    path = os.path.join(out, "dump")
                    keep = os.path.join(out, f"kept{i}") if (mdf is False and rep == args.reps - 1) else None
                    r = run_timed(cmd + [path], path, keep, vmcore)
                    if name not in best or r[0] < best[name][0]:
                        best[name] = r
            for name, cmd, mdf in configs:
                key = " ".join(cmd)
                if mdf and (key not in mdf_best or best[name][0] < mdf_best[key][0]):
                    mdf_best[key] = best[name]
            ours = [(i, n) for i, (n, _c, mdf) in enumerate(configs) if mdf is False]
            kept = [os.path.join(out, f"kept{i}") for i, _n in ours]
            same = all(subprocess.run(["cmp", "-s", "--ignore-initial=4096", kept[0], k]).returncode == 0
                       and os.path.getsize(k) == os.path.getsize(kept[0]) for k in kept[1:])
            need = bytes_to_read(args.dumpfilter, mode, level, vmcore, out)
            w1 = best[ours[0][1]][0]
            notes = [f"outputs at every thread count {'identical' if same else 'DIFFER'}"]
            if need:
                wn = min(best[n][0] for _i, n in ours)
                notes.append(f"read {need / 1e6:.0f} MB at {need / wn / 1e6:.0f} MB/s = "
                             f"{100 * need / wn / 1e6 / cat_bw:.0f} % of cat's")
            if len(ours) > 1:
                notes.append(f"scaling at {args.threads} threads: {w1 / best[ours[-1][1]][0] / args.threads:.2f}")
            sections.append((level, mode, configs, best, notes))
            for k in kept:
                for f in (k, k + ".sha256"):
                    if os.path.exists(f):
                        os.unlink(f)
    # ratio: our wall time over makedumpfile's best; cpu x: our user+sys over that same run's (on
    # a shared machine CPU time moves less with the load than wall time does).
    print(f"{'mode':10} {'tool':30} {'wall s':>8} {'cpu s':>8} {'RSS MiB':>8} {'output MiB':>11} {'ratio':>6} {'cpu x':>6}")
    for level, mode, configs, best, notes in sections:
        for name, cmd, mdf in configs:
            if mdf:
                best[name] = mdf_best[" ".join(cmd)]
        ref_name = min((n for n, _c, mdf in configs if mdf), key=lambda n: best[n][0])
        ref, ref_cpu = best[ref_name][0], best[ref_name][1]
        for name, _cmd, mdf in configs:
            w, cpu, rss, sz = best[name]
            ratio = "" if mdf else f"{w / ref:.2f}"
            cpux = "" if mdf or not ref_cpu else f"{cpu / ref_cpu:.2f}"
            print(f"-d {level:3} {mode:3} {name:30} {w:8.2f} {cpu:8.2f} {rss / 1024:8.1f} {sz / 2**20:11.1f} {ratio:>6} {cpux:>6}")
        print(f"{'':14} dumpfilter: " + "; ".join(notes))
    if not args.out:
        shutil.rmtree(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
