"""Inference's share of a read, as a user sees it: ``read_csv(path)`` against
``read_csv(path, dtypes=<the types the default read inferred>)`` on the CSV suite's files
(``python -m blockops bench csv-suite`` writes them), 1 and 2 threads, each file and thread
count in fresh processes, the two reads alternating, best of ``--reps`` in each of ``--rounds``
rounds.

``--build LABEL=PYTHONPATH`` (repeatable) compares builds of blockops in the same run (for
example the previous commit's tree, built in place, against this one); the rounds alternate
which build goes first. Run it on a quiet machine: a 30 MB read takes 20-60 ms, and a busy
neighbour moves it by more than inference costs.

    python benchmarks/bench_inference.py --size 30000000 --reps 15 --rounds 3

``--widen``: instead, the cost of a late misfit. The suite's numeric file with one int field
(``VendorID``, at 37 % of the file, between the inference windows) emptied, written next to
it once; ``read_csv(path)`` on 1 and 2 threads, best of ``--reps``, with the reads started
again (``rereads``) and the columns widened in place (``widened``) it reports.

    python benchmarks/bench_inference.py --widen --size 600000000 --reps 3 --rounds 2
"""
from __future__ import annotations

import argparse
import os
import sys

import _builds  # benchmarks/_builds.py (this directory is on sys.path)

SHAPES = ("numeric", "flights", "text", "wide", "bsm")

# one file, one thread count, one build: best (default, explicit dtypes) of reps reads each
CHILD = r"""
import json, sys, time
import blockops.io as bio
path, nt, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

def name(s):
    d = str(s.dtype)
    return "str" if d == "object" or "str" in d else d

df = bio.read_csv(path)
dtypes = {c: name(df[c]) for c in df.columns}
del df
best = [float("inf")] * 2
for _ in range(reps):
    for k, kw in enumerate(({}, {"dtypes": dtypes})):
        t0 = time.perf_counter()
        bio.read_csv(path, n_threads=nt, **kw)
        best[k] = min(best[k], time.perf_counter() - t0)
print(json.dumps(best))
"""


# one file, one thread count, one build: best read_csv of reps, and what it reports
WIDEN_CHILD = r"""
import json, sys, time
import blockops.io as bio
path, nt, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
best = float("inf")
for _ in range(reps):
    t0 = time.perf_counter()
    df = bio.read_csv(path, n_threads=nt)
    best = min(best, time.perf_counter() - t0)
st = df.attrs["blockops_stats"]
print(json.dumps([best, st.get("rereads"), st.get("widened"), str(df["VendorID"].dtype)]))
"""


def widen_file(src: str) -> str:
    """``src`` with the VendorID (int64) field of the row at 37 % of the file emptied, written
    once beside it."""
    dst = src[:-len(".csv")] + "_late_na.csv"
    if os.path.exists(dst) and os.path.getmtime(dst) >= os.path.getmtime(src):
        return dst
    with open(src, "rb") as f:
        data = f.read()
    col = data[:data.index(b"\n")].split(b",").index(b"VendorID")
    s = data.index(b"\n", int(len(data) * 0.37)) + 1
    e = data.index(b"\n", s)
    fields = data[s:e].split(b",")
    fields[col] = b""
    with open(dst + ".tmp", "wb") as f:
        f.write(data[:s])
        f.write(b",".join(fields))
        f.write(data[e:])
    os.replace(dst + ".tmp", dst)
    return dst


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", default="30000000", help="bytes, as in the suite's file names")
    _builds.add_args(ap, reps=15, rounds=3)
    ap.add_argument("--widen", action="store_true",
                    help="time a read with a late int -> float misfit instead")
    a = ap.parse_args(argv)
    builds = _builds.builds(ap, a)
    if a.widen:
        return widen(a, builds)
    paths = {shape: os.path.join(a.dir, f"{shape}_{a.size}B_seed{a.seed}.csv")
             for shape in SHAPES}
    best = measure(a, builds, paths, CHILD, n_times=2)
    print(f"inference's share, {a.size} B files, best of {a.reps} x {a.rounds} rounds; "
          f"load average {os.getloadavg()[0]:.2f}")
    print("| shape | threads | " + " | ".join(f"{lb}: default / explicit ms, share"
                                             for lb, _ in builds) + " |")
    print("|---|---:|" + "---:|" * len(builds))
    for shape in SHAPES:
        for nt in (1, 2):
            cells = []
            for label, _ in builds:
                d, e = best[(shape, nt, label)]
                cells.append(f"{d * 1e3:.1f} / {e * 1e3:.1f}, {100 * (d - e) / d:.1f} %")
            print(f"| {shape} | {nt} | " + " | ".join(cells) + " |")
    return 0


def measure(a, builds, paths: dict, child: str, n_times: int) -> dict:
    """``child`` run for every (key, thread count, build) in fresh processes, ``a.rounds``
    times, the builds' order alternating: ``{(key, threads, label): result}``, the first
    ``n_times`` fields of a result the best over the rounds, the others the last round's."""
    best: dict = {}
    for rnd in range(a.rounds):
        for key, path in paths.items():
            for nt in (1, 2):
                for label, root in _builds.order(builds, rnd):
                    got = _builds.run(child, [path, nt, a.reps], root)
                    old = best.get((key, nt, label), got)
                    best[(key, nt, label)] = [min(x, y) for x, y in
                                              zip(old[:n_times], got[:n_times])] + got[n_times:]
    return best


def widen(a, builds) -> int:
    path = widen_file(os.path.join(a.dir, f"numeric_{a.size}B_seed{a.seed}.csv"))
    best = measure(a, builds, {"numeric": path}, WIDEN_CHILD, n_times=1)
    print(f"a late missing int in {path}, best of {a.reps} x {a.rounds} rounds; "
          f"load average {os.getloadavg()[0]:.2f}")
    print("| build | threads | read_csv s | rereads | widened | VendorID |")
    print("|---|---:|---:|---:|---:|---|")
    for label, _ in builds:
        for nt in (1, 2):
            t, rereads, widened, dtype = best[("numeric", nt, label)]
            w = "-" if widened is None else widened  # a build without the counter
            print(f"| {label} | {nt} | {t:.3f} | {rereads} | {w} | {dtype} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
