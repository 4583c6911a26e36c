"""``python -m blockops bench reports``: blockops.io.read_one_reports vs the original pattern.

The original pattern (what the ONE averaging script did) is a ``multiprocessing.Pool`` that
parses each report file in pure Python (open, split each line on ``:``, ``float()``, one dict
per file) followed by ``pandas.DataFrame`` of the dicts. It is timed with the pool size that
``ResourceManager().optimal_workers(sizes=...)`` picks and with 1 process. blockops' reader
(C opens, reads and parses: ``bo_report_read_files``) is timed with its default thread count
and with 1 thread, and so is its previous per-file engine (Python threads open and read each
file, C parses the bytes; ``engine="files"``).

Data sets: the real report files (``/work/shared/data/one-reports``, else
``tests/data/one-reports.tar.gz`` extracted to a temporary directory, or ``--data DIR``) and,
for each ``--scale`` value, that many times as many synthesized files (copies of the real ones
under new seeds, with every numeric value perturbed, written to a temporary directory that is
removed afterwards).

Also timed: ``ResourceManager.optimal_workers(sizes=...)`` for the real count of sizes and
100 times that, and ``DynamicSemaphore`` acquire+release with the default memory probe (cached
for ``probe_interval``, and with ``probe_interval=0``, probing every time) and with a fake one.

Best-of-k wall time (``timing.best_of``; one untimed warm-up, so the files are in the page
cache: this measures parsing from a warm cache; dropping the cache needs root and is not
attempted), and the CPU time of that same run (this process plus reaped children, i.e. the
pool's workers, from ``os.times``). Peak RSS is this process's, from ``MemoryMonitor`` around
the timed calls; the pool's worker processes are not included (their largest peak RSS is
shown separately).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import platform
import random
import re
import resource
import shutil
import sys
import tarfile
import tempfile
import time
from typing import Callable, Optional

from . import timing as _t

DEFAULT_DATA = "/work/shared/data/one-reports"
_NAME_RE = re.compile(
    r"^(?P<scenario>.+)_(?P<router>[^_]+)_(?P<seed>[0-9]+)_(?P<ttl>[0-9]+)_(?P<buffer>[0-9]+)M"
    r"_(?P<report_type>[^_]+)\.txt$"
)
_NUM_RE = re.compile(rb"^([^:\n]+: )(-?[0-9]+(?:\.[0-9]+)?)$", re.M)


# --------------------------------------------------------------------------- original pattern

def _orig_parse(path: str) -> dict:
    """One file the way the original script read it: a dict of floats per file."""
    name = os.path.basename(path)[:-4]
    parts = name.split("_")
    d = {"scenario": "_".join(parts[:-5]), "router": parts[-5], "seed": int(parts[-4]),
         "ttl": int(parts[-3]), "buffer": int(parts[-2][:-1]), "report_type": parts[-1]}
    with open(path) as f:
        for line in f:
            kv = line.split(":")
            if len(kv) != 2:
                continue  # the title line
            d[kv[0].strip()] = float(kv[1])
    return d


def original_read(paths: list[str], processes: int):
    import pandas as pd

    if processes == 1:
        dicts = [_orig_parse(p) for p in paths]
    else:
        with mp.Pool(processes) as pool:
            dicts = pool.map(_orig_parse, paths)
    return pd.DataFrame(dicts)


# --------------------------------------------------------------------------- data

def report_paths(d: str) -> list[str]:
    return sorted(os.path.join(d, n) for n in os.listdir(d) if _NAME_RE.match(n))


def find_real(data: Optional[str], tmp: str) -> tuple[str, str]:
    """(directory, how it was found)."""
    if data:
        return data, "--data"
    if os.path.isdir(DEFAULT_DATA) and report_paths(DEFAULT_DATA):
        return DEFAULT_DATA, DEFAULT_DATA
    here = os.path.dirname(os.path.abspath(__file__))
    cands = [os.path.join(os.getcwd(), "tests/data/one-reports.tar.gz")]
    d = here
    for _ in range(5):
        d = os.path.dirname(d)
        cands.append(os.path.join(d, "tests/data/one-reports.tar.gz"))
    for tgz in cands:
        if os.path.isfile(tgz):
            out = os.path.join(tmp, "real")
            os.makedirs(out)
            with tarfile.open(tgz) as tf:
                tf.extractall(out)
            for root, _dirs, files in os.walk(out):
                if any(_NAME_RE.match(f) for f in files):
                    return root, tgz + " (extracted)"
    raise SystemExit("no report files: pass --data DIR")


def synthesize(paths: list[str], scale: int, out: str, seed: int) -> list[str]:
    """``scale`` copies of every file, each under a new seed (so names stay valid and unique),
    with every numeric value multiplied by a random factor in [0.9, 1.1]."""
    rng = random.Random(seed)
    os.makedirs(out)
    originals = []
    for p in paths:
        m = _NAME_RE.match(os.path.basename(p))
        with open(p, "rb") as f:
            originals.append((m.groupdict(), f.read()))
    max_seed = max(int(g["seed"]) for g, _ in originals) + 1
    written = []

    def perturb(m):
        v = m.group(2)
        x = float(v) * rng.uniform(0.9, 1.1)
        if b"." in v:
            nd = len(v) - v.index(b".") - 1
            s = f"{x:.{nd}f}"
        else:
            s = str(int(round(x)))
        return m.group(1) + s.encode()

    for i in range(scale):
        for g, data in originals:
            new_seed = int(g["seed"]) + i * max_seed
            name = (f"{g['scenario']}_{g['router']}_{new_seed}_{g['ttl']}_{g['buffer']}M_"
                    f"{g['report_type']}.txt")
            path = os.path.join(out, name)
            with open(path, "wb") as f:
                f.write(_NUM_RE.sub(perturb, data) if i else data)
            written.append(path)
    return sorted(written)


# --------------------------------------------------------------------------- timing

def _cpu_seconds() -> float:
    """User + system CPU of this process and its reaped children (getrusage: microseconds,
    where os.times counts 10 ms ticks)."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        r = resource.getrusage(who)
        total += r.ru_utime + r.ru_stime
    return total


def timed(fn: Callable, k: int, warmup: int = 1):
    """(Timing, peak RSS, CPU seconds of the fastest run)."""
    from blockops.resources import MemoryMonitor

    cpu: list[tuple[float, float]] = []  # (wall, cpu) per call

    def measured():
        w0, c0 = time.perf_counter(), _cpu_seconds()
        r = fn()
        cpu.append((time.perf_counter() - w0, _cpu_seconds() - c0))
        return r

    mon = MemoryMonitor(interval=0.01)
    with mon:
        tm = _t.best_of(measured, k=k, warmup=warmup)
    timed_runs = cpu[warmup:]
    return tm, mon.peak, min(timed_runs)[1]


def per_call_us(fn: Callable, min_time: float = 0.2, k: int = 5) -> float:
    """Best of k of (loop of n calls) / n, with n chosen to take ~min_time."""
    n, t = 1, 0.0
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        t = time.perf_counter() - t0
        if t >= min_time / 5 or n >= 1 << 24:
            break
        n *= 2

    def loop():
        for _ in range(n):
            fn()

    return _t.best_of(loop, k=k, warmup=0).best / n * 1e6


def children_peak_rss() -> int:
    r = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return int(r) if sys.platform == "darwin" else int(r) * 1024


# --------------------------------------------------------------------------- main

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m blockops bench reports", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", help=f"directory of real report files (default {DEFAULT_DATA})")
    ap.add_argument("--scale", type=int, nargs="+", default=[100],
                    help="synthesized sets = scale x the real files, one set per value "
                         "(default 100; 0 skips)")
    ap.add_argument("--k", type=int, default=3, help="best of k timed runs (default 3)")
    ap.add_argument("--seed", type=int, default=1, help="seed of the perturbation")
    ap.add_argument("--markdown", metavar="PATH", help="also write the table as Markdown")
    ap.add_argument("--tmp", help="where to write the synthesized files (default: $TMPDIR)")
    args = ap.parse_args(list(sys.argv[1:] if argv is None else argv))
    if args.k < 1 or any(sc < 0 for sc in args.scale):
        ap.error("--k must be >= 1 and --scale >= 0")
    scales = sorted({sc for sc in args.scale if sc > 0})

    import blockops
    from blockops.io import read_one_reports
    from blockops.io.reports import _read_one_reports
    from blockops.resources import DynamicSemaphore, ResourceManager

    cmd = _t.command_line(list(sys.argv[1:] if argv is None else argv),
                          "python -m blockops bench reports")
    tmp = tempfile.mkdtemp(prefix="blockops-bench-reports-", dir=args.tmp)
    header = ["data set", "files", "MB", "implementation", "workers", "best s", "CPU s",
              "files/s", "MB/s", "vs blockops", "peak RSS", "rows x cols"]
    align = ["<", ">", ">", "<", ">", ">", ">", ">", ">", ">", ">", ">"]
    rows: list[list[str]] = []
    rm = ResourceManager()
    try:
        real_dir, real_src = find_real(args.data, tmp)
        real = report_paths(real_dir)
        sets = [("real", real, None)]
        gen_s = {}
        for sc in scales:
            sets.append((f"synthetic x{sc}", None, sc))
        for label, paths, sc in sets:
            if sc is not None:  # written just before use and removed right after
                t0 = time.perf_counter()
                paths = synthesize(real, sc, os.path.join(tmp, f"synth{sc}"), args.seed)
                gen_s[sc] = time.perf_counter() - t0
            sizes = [os.path.getsize(p) for p in paths]
            mb = sum(sizes) / 1e6
            pool_n = rm.optimal_workers(sizes=sizes)
            impls = [
                ("blockops.io.read_one_reports", "default",
                 lambda p=paths: read_one_reports(p)),
                ("blockops.io.read_one_reports", "1",
                 lambda p=paths: read_one_reports(p, n_workers=1)),
                ("read_one_reports, per-file engine (before)", "default",
                 lambda p=paths: _read_one_reports(p, engine="files")),
                ("read_one_reports, per-file engine (before)", "1",
                 lambda p=paths: _read_one_reports(p, engine="files", n_workers=1)),
                ("Pool + Python parse + DataFrame", str(pool_n),
                 lambda p=paths, n=pool_n: original_read(p, n)),
                ("Python parse + DataFrame (1 process)", "1",
                 lambda p=paths: original_read(p, 1)),
            ]
            base = None
            shapes = {}
            for name, workers, fn in impls:
                df = fn()
                shapes[name + workers] = f"{df.shape[0]} x {df.shape[1]}"
                del df
                tm, peak, cpu_s = timed(fn, args.k, warmup=0)
                if base is None:
                    base = tm.best
                rows.append([label, str(len(paths)), f"{mb:.2f}", name, workers,
                             f"{tm.best:.4f}", f"{cpu_s:.3f}", f"{len(paths) / tm.best:,.0f}",
                             f"{mb / tm.best:.1f}", f"{tm.best / base:.2f}x",
                             _t.format_bytes(peak) if peak else "?",
                             shapes[name + workers]])
            if sc is not None:
                shutil.rmtree(os.path.join(tmp, f"synth{sc}"), ignore_errors=True)
        # overheads
        n_real = len(real)
        ov_header = ["operation", "µs per call"]
        ov_rows = []
        sizes_real = [os.path.getsize(p) for p in real]
        for mult in (1, 100):
            sz = sizes_real * mult
            ov_rows.append([f"ResourceManager.optimal_workers(sizes=<{len(sz):,} sizes>)",
                            f"{per_call_us(lambda s=sz: rm.optimal_workers(sizes=s)):.1f}"])
        sem = DynamicSemaphore(8)

        def ar(sem=sem):
            sem.acquire()
            sem.release()
        ov_rows.append([f"DynamicSemaphore acquire+release, default probe "
                        f"(probe_interval={sem.probe_interval:g} s)", f"{per_call_us(ar):.2f}"])
        every = DynamicSemaphore(8, probe_interval=0)
        ov_rows.append(["DynamicSemaphore acquire+release, default probe, probe_interval=0 "
                        "(probes every time: the previous behaviour)",
                        f"{per_call_us(lambda s=every: ar(s)):.2f}"])
        fake = DynamicSemaphore(8, memory_probe=lambda: (8 << 30, 16 << 30))
        ov_rows.append(["DynamicSemaphore acquire+release, fake probe",
                        f"{per_call_us(lambda s=fake: ar(s)):.2f}"])
        import threading
        lk = threading.Lock()

        def lock_ar():
            lk.acquire()
            lk.release()
        ov_rows.append(["threading.Lock acquire+release (floor)", f"{per_call_us(lock_ar):.3f}"])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    ctx = mp.get_start_method()
    notes = [
        f"Real files: {real_src} ({n_real} files).",
        (f"Synthetic x N: N copies of each real file under new seeds, numeric values "
         f"x U[0.9, 1.1]; generated in "
         + ", ".join(f"{v:.1f} s (x{k})" for k, v in gen_s.items())
         + ", deleted afterwards.") if gen_s else "",
        f"Best of {args.k} wall-clock runs after one untimed run (warm page cache; dropping the "
        "cache needs root, so cold-cache reads are not measured).",
        "'vs blockops' = time / time of read_one_reports with default workers (higher is slower).",
        "CPU s: user + system CPU seconds of the fastest run, this process plus the pool's "
        "reaped worker processes.",
        "Pool time includes starting and joining the pool (the original created one per call); "
        f"start method {ctx!r}.",
        "Peak RSS: this process, MemoryMonitor around the timed runs (RSS high-water mark is "
        "monotonic, so a run after a larger one can show the earlier peak). Pool workers are "
        f"separate processes: their largest peak RSS was {_t.format_bytes(children_peak_rss())}.",
        "Workers 'default': read_one_reports asks ResourceManager().optimal_workers with every "
        "file counted at max_file_bytes (C threads, GIL released); the per-file engine asks it "
        "with the real sizes (Python threads); the Pool uses optimal_workers(sizes=real sizes) "
        "as its process count.",
    ]
    notes = [n for n in notes if n]
    machine = [
        f"machine: {_t.cpu_model()}, {_t.effective_cpus()} usable CPUs, "
        f"{platform.system()} {platform.release()}",
        f"python {platform.python_version()}, blockops {getattr(blockops, '__version__', '?')}, "
        f"date {_t.utc_now()}",
        f"command: {cmd}",
    ]
    table = _t.format_table(header, rows, align)
    ov = _t.format_table(ov_header, ov_rows, ["<", ">"])
    print(table)
    print()
    print(ov)
    print()
    for n in notes:
        print("- " + n)
    print()
    for m in machine:
        print(m)
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as f:
            f.write("# blockops bench reports\n\n")
            f.write(_t.markdown_table(header, rows, align) + "\n\n")
            f.write(_t.markdown_table(ov_header, ov_rows, ["<", ">"]) + "\n\n")
            f.write("\n".join("- " + n for n in notes) + "\n\n")
            f.write("\n".join("- " + m.replace("command: ", "command: `", 1) + ("`" if m.startswith("command") else "")
                              for m in machine) + "\n")
        print(f"markdown written to {args.markdown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
