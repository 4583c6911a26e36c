"""``python -m blockops bench labels``: blockops.labels against the alternatives.

Synthetic ES-like 1-second bars (default 517 K and 10 M rows): regular trading hours
sessions (07:30-15:00 US/Central) on weekdays, a random walk on the 0.25 tick grid with
day-to-day volatility regimes, flat bars, and a 25-point jump (a contract roll) every 13
weeks. All six default modes, horizon 900, every contender on the same bars:

* ``blockops barrier_labels`` with 1 thread and all threads;
* ``blockops BarrierLabeler`` streaming over 1 M-row blocks (frames consumed and dropped);
* ``NumPy vectorized``: written for this benchmark; per mode, the undecided bars of a 1 M-bar
  chunk advance one bar of look-ahead at a time (``k = 1..horizon``), compressing away the
  bars that resolved, so its cost is the total time-to-outcome, not n x horizon;
* ``Python per-row scan``: the original engine's pattern (for each mode, for each bar, walk
  the next bars until a barrier), on ``--scan-bars`` signal bars starting in the middle of the
  data, its time *extrapolated* linearly to all rows (labelled as such).

Each contender runs in its own subprocess that builds the bars, resets the kernel's peak-RSS
counter (``/proc/self/clear_refs``, value 5) and then runs the contender: the peak RSS shown
is that process's high-water mark during the run (VmHWM; with ``MemoryMonitor`` sampling as a
fallback where clear_refs is refused), next to the bytes of the inputs (timestamp + OHLCV,
48 B/row) and outputs (int8 label + float32 weight per mode, 30 B/row). Agreement: every
contender's labels are compared with blockops' (over the rows it computed).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time

import numpy as np

from . import timing as _t

DEFAULT_ROWS = (517_000, 10_000_000)
HORIZON = 900
TICK = 0.25
SESSION_S = 7 * 3600 + 30 * 60  # 07:30 local
SESSION_LEN = 27_000             # to 15:00
SEED = 20240605


# --------------------------------------------------------------------------- data


def make_bars(n: int, seed: int = SEED) -> dict:
    """ES-like 1-second bars, built in 1 M-row pieces (no n-sized temporaries)."""
    rng = np.random.default_rng(seed)
    ts = np.empty(n, np.int64)
    o = np.empty(n)
    h = np.empty(n)
    lo = np.empty(n)
    c = np.empty(n)
    v = np.empty(n)
    # session starts: weekdays from 2023-01-03, 07:30 CST = 13:30 UTC (DST ignored: fine)
    day0 = np.datetime64("2023-01-03", "D")
    price = 4000.0 / TICK
    pos, day = 0, 0
    step = 1 << 20
    roll_every = 13 * 5  # trading days
    tday = 0
    while pos < n:
        d = day0 + day
        day += 1
        if not np.is_busday(d):
            continue
        tday += 1
        m = min(SESSION_LEN, n - pos)
        base = (d.astype("datetime64[s]").astype(np.int64) + 13 * 3600 + 30 * 60) * 1_000_000_000
        ts[pos:pos + m] = base + np.arange(m, dtype=np.int64) * 1_000_000_000
        vol = rng.choice([0.6, 1.0, 1.6])  # the day's regime
        for s in range(0, m, step):
            k = min(step, m - s)
            moves = np.round(rng.normal(0, vol, k)).astype(np.int64)
            moves[rng.random(k) < 0.35] = 0  # flat bars
            cl = price + np.cumsum(moves)
            op = np.concatenate([[price], cl[:-1]])
            wick_u = (rng.random(k) < 0.3) * rng.integers(1, 3, k)
            wick_d = (rng.random(k) < 0.3) * rng.integers(1, 3, k)
            a, b = pos + s, pos + s + k
            o[a:b] = op * TICK
            c[a:b] = cl * TICK
            h[a:b] = (np.maximum(op, cl) + wick_u) * TICK
            lo[a:b] = (np.minimum(op, cl) - wick_d) * TICK
            v[a:b] = rng.integers(1, 200, k)
            price = cl[-1]
        if tday % roll_every == 0:
            price += 100  # 25 points: the next contract
        if price < 2000 / TICK:
            price += 4000
        pos += m
    return {"timestamp": ts.view("datetime64[ns]"), "open": o, "high": h, "low": lo,
            "close": c, "volume": v}


def _frame(bars):
    import pandas as pd

    return pd.DataFrame(bars, copy=False)


# --------------------------------------------------------------------------- contenders


MODES6 = ((1, 6, 12), (1, 8, 16), (1, 10, 20), (-1, 6, 12), (-1, 8, 16), (-1, 10, 20))


def _decay(ts_ns, ref_month, rate=0.05):
    months = ts_ns.astype("datetime64[M]").astype(np.int64) + 1970 * 12
    return np.exp(-rate * (ref_month - months).astype(np.float64))


def _affected(c, thr=20.0):
    n = c.shape[0]
    ev = np.nonzero(np.abs(np.diff(c)) > thr)[0] + 1
    aff = np.zeros(n, bool)
    for s in range(-1, 6):
        idx = ev + s
        aff[idx[(idx >= 0) & (idx < n)]] = True
    return aff


def numpy_labels(bars, horizon=HORIZON, chunk=1 << 20):
    """Vectorized NumPy labels and weights of the six modes (the benchmark's own)."""
    ts = bars["timestamp"].view(np.int64)
    o, h, lo, c = bars["open"], bars["high"], bars["low"], bars["close"]
    n = o.shape[0]
    ref_month = int(bars["timestamp"][-1].astype("datetime64[M]").astype(np.int64)) + 1970 * 12
    aff = _affected(c)
    labels = np.zeros((len(MODES6), n), np.int8)
    weights = np.empty((len(MODES6), n), np.float32)
    for s0 in range(0, n, chunk):
        s1 = min(n, s0 + chunk)
        decay = _decay(bars["timestamp"][s0:s1], ref_month)
        for mi, (d, st, tt) in enumerate(MODES6):
            weights[mi, s0:s1] = decay
            act = np.arange(s0, min(s1, n - 1))
            act = act[~aff[act]]
            P = o[act + 1]
            T = P + tt * TICK if d > 0 else P - tt * TICK
            S = P - st * TICK if d > 0 else P + st * TICK
            worst = np.zeros(act.shape[0])
            for k in range(1, horizon + 1):
                j = act + k
                keep = j <= n - 1
                if not keep.all():
                    act, j, P, T, S, worst = act[keep], j[keep], P[keep], T[keep], S[keep], worst[keep]
                if act.size == 0:
                    break
                hj, lj = h[j], lo[j]
                worst = np.maximum(worst, P - lj if d > 0 else hj - P)
                th = hj >= T if d > 0 else lj <= T
                sh = lj <= S if d > 0 else hj >= S
                rolled = aff[j]
                win = th & ~sh & ~rolled
                if win.any():
                    wi = act[win]
                    mae = worst[win] / TICK
                    secs = (ts[j[win]] - ts[wi + 1]) / 1e9
                    q = np.clip(2 - 1.5 * mae / st, 0.5, 2)
                    vel = np.clip(2 - 1.5 * (secs - 300) / 600, 0.5, 2)
                    labels[mi, wi] = 1
                    weights[mi, wi] = q * vel * decay[wi - s0]
                keep = ~(th | sh | rolled)
                act, P, T, S, worst = act[keep], P[keep], T[keep], S[keep], worst[keep]
                if act.size == 0:
                    break
    return labels, weights


def python_scan(bars, start, count, horizon=HORIZON):
    """The original engine's per-row pattern on bars [start, start + count)."""
    ts = bars["timestamp"].view(np.int64)
    o, h, lo, c = bars["open"], bars["high"], bars["low"], bars["close"]
    n = o.shape[0]
    ref_month = int(bars["timestamp"][-1].astype("datetime64[M]").astype(np.int64)) + 1970 * 12
    aff = _affected(c)
    decay = _decay(bars["timestamp"][start:start + count], ref_month)
    labels = np.zeros((len(MODES6), count), np.int8)
    weights = np.empty((len(MODES6), count), np.float32)
    for mi, (d, st, tt) in enumerate(MODES6):
        for r in range(count):
            i = start + r
            w = decay[r]
            if i < n - 1 and not aff[i]:
                entry = o[i + 1]
                target = entry + tt * TICK if d > 0 else entry - tt * TICK
                stop = entry - st * TICK if d > 0 else entry + st * TICK
                worst = 0.0
                for j in range(i + 1, min(i + horizon, n - 1) + 1):
                    if aff[j]:
                        break
                    worst = max(worst, entry - lo[j] if d > 0 else h[j] - entry)
                    if (lo[j] <= stop) if d > 0 else (h[j] >= stop):
                        break
                    if (h[j] >= target) if d > 0 else (lo[j] <= target):
                        mae = worst / TICK
                        secs = (ts[j] - ts[i + 1]) / 1e9
                        q = min(max(2 - 1.5 * mae / st, 0.5), 2.0)
                        vel = min(max(2 - 1.5 * (secs - 300) / 600, 0.5), 2.0)
                        labels[mi, r] = 1
                        w = q * vel * decay[r]
                        break
            weights[mi, r] = w
    return labels, weights


# --------------------------------------------------------------------------- worker


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class _Digest:
    """sha1 of the labels in bar-major order (bars x modes int8), fed piece by piece, plus the
    float64 sum of the weights and the labels of the sub-range the Python scan covers."""

    def __init__(self, sub0: int, sub_n: int, n_modes: int):
        self.h = hashlib.sha1()
        self.wsum = 0.0
        self.winners = np.zeros(n_modes, np.int64)
        self.sub0, self.sub_n = sub0, sub_n
        self.sub = np.zeros((sub_n, n_modes), np.int8)
        self.pos = 0

    def add(self, lab_bm, weights_cols) -> None:
        """lab_bm: (rows, modes) int8; weights_cols: iterable of 1-D float32 arrays."""
        lab_bm = np.ascontiguousarray(lab_bm)
        self.h.update(lab_bm.tobytes())
        self.winners += np.count_nonzero(lab_bm, axis=0)
        for w in weights_cols:
            self.wsum += float(np.sum(w, dtype=np.float64))
        k = lab_bm.shape[0]
        lo, hi = max(self.pos, self.sub0), min(self.pos + k, self.sub0 + self.sub_n)
        if hi > lo:
            self.sub[lo - self.sub0:hi - self.sub0] = lab_bm[lo - self.pos:hi - self.pos]
        self.pos += k

    def result(self) -> dict:
        return {"digest": self.h.hexdigest()[:16], "wsum": self.wsum,
                "winners": [int(x) for x in self.winners],
                "digest_sub": hashlib.sha1(self.sub.tobytes()).hexdigest()[:16]}


def worker(impl: str, n: int, threads: int, k: int, scan_bars: int, block: int) -> dict:
    """Run one contender k times; peak RSS is read right after the timed runs, before any
    checking (the checks' temporaries must not count)."""
    import pandas  # noqa: F401  (counted in the start-up RSS, as for every contender)

    import blockops.labels  # noqa: F401
    from blockops.resources import MemoryMonitor, peak_rss, rss

    startup = rss()
    bars = make_bars(n)
    df = _frame(bars) if impl.startswith("blockops") else None
    if df is not None:
        bars = None  # the frame holds the inputs (pandas may have consolidated a copy)
    base = rss()
    sub0, sub_n = n // 2, min(scan_bars, n - n // 2)
    dig = _Digest(0 if impl == "python" else sub0, sub_n, len(MODES6))
    cleared = _reset_peak()
    times = []
    result = None
    with MemoryMonitor(interval=0.02) as mon:
        for rep in range(k):
            result = None  # never two results alive at once
            t0 = time.perf_counter()
            if impl == "blockops":
                from blockops.labels import barrier_labels

                result = barrier_labels(df, n_threads=threads)
            elif impl == "blockops-stream":
                from blockops.labels import BarrierLabeler

                # the consumer keeps only a digest of each frame (the labels' bytes)
                if rep:
                    dig = _Digest(sub0, sub_n, len(MODES6))
                ref = df["timestamp"].iloc[-1]
                blocks = (df.iloc[i:i + block] for i in range(0, n, block))
                for fr in BarrierLabeler(reference_time=ref, n_threads=threads).label_blocks(blocks):
                    lab_cols = [c for c in fr.columns if c.startswith("label_")]
                    dig.add(fr[lab_cols].to_numpy(),
                            (fr[c].to_numpy() for c in fr.columns if c.startswith("weight_")))
                    del fr
            elif impl == "numpy":
                result = numpy_labels(bars)
            elif impl == "python":
                result = python_scan(bars, sub0, sub_n)
            else:
                raise ValueError(impl)
            times.append(time.perf_counter() - t0)
        peak = peak_rss() if cleared else mon.peak
    if impl == "blockops":
        lab_cols = [c for c in result.columns if c.startswith("label_")]
        dig.add(result[lab_cols].to_numpy(),
                (result[c].to_numpy() for c in result.columns if c.startswith("weight_")))
    elif impl in ("numpy", "python"):
        lab, w = result
        dig.add(lab.T, list(w))
    res = {"impl": impl, "n": n, "threads": threads}
    res.update(dig.result())
    res.update(seconds=min(times), times=times, peak_rss=peak, base_rss=base, startup_rss=startup,
               peak_method="VmHWM after clear_refs" if cleared else "MemoryMonitor samples",
               rows_timed=sub_n if impl == "python" else n)
    return res


def _run_worker(impl, n, threads, k, scan_bars, block) -> dict:
    cmd = [sys.executable, "-m", "blockops._bench.labels", "--worker", impl, "--rows", str(n),
           "--threads", str(threads), "--k", str(k), "--scan-bars", str(scan_bars),
           "--block", str(block)]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        return {"impl": impl, "n": n, "threads": threads,
                "error": (p.stderr.strip().splitlines() or ["?"])[-1]}
    return json.loads(p.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- main


def _parse_rows(s: str) -> int:
    t = s.strip().lower().replace("_", "")
    mult = {"k": 1_000, "m": 1_000_000}.get(t[-1:], 1)
    return int(float(t[:-1] if mult > 1 else t) * mult)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m blockops bench labels", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", default=",".join(str(r) for r in DEFAULT_ROWS),
                    help="comma-separated row counts (default 517000,10000000; k/M suffixes)")
    ap.add_argument("--threads", type=int, default=None, help="'all threads' (default: CPUs)")
    ap.add_argument("--k", type=int, default=3, help="best of k for blockops (default 3)")
    ap.add_argument("--scan-bars", type=int, default=3000,
                    help="signal bars the Python scan runs on (default 3000), extrapolated")
    ap.add_argument("--numpy-max-rows", type=_parse_rows, default=20_000_000,
                    help="skip the NumPy contender above this many rows")
    ap.add_argument("--block", type=_parse_rows, default=1_000_000,
                    help="rows per block for the streaming contender (default 1 M)")
    ap.add_argument("--markdown", metavar="PATH", help="append the report as Markdown")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args(list(sys.argv[1:] if argv is None else argv))

    if args.worker:
        n = _parse_rows(args.rows)
        print(json.dumps(worker(args.worker, n, args.threads or 1, args.k, args.scan_bars,
                                args.block)))
        return 0

    import blockops
    from blockops import _config

    rows_list = [_parse_rows(r) for r in args.rows.split(",")]
    nt = args.threads or _config.get_num_threads()
    cmd = _t.command_line(list(sys.argv[1:] if argv is None else argv),
                          "python -m blockops bench labels")
    load0 = os.getloadavg()[0]
    started = _t.utc_now()
    header = ["rows", "implementation", "threads", "rows timed", "seconds", "rows/s",
              "vs blockops", "peak RSS", "peak - start-up", "(peak - start-up) / (in+out)",
              "labels vs blockops"]
    align = ["<", "<", ">", ">", ">", ">", ">", ">", ">", ">", "<"]
    table = []
    for n in rows_list:
        inout = n * (48 + 30)
        plan = [("blockops", 1, args.k), ("blockops", nt, args.k),
                ("blockops-stream", nt, 1)]
        if n <= args.numpy_max_rows:
            plan.append(("numpy", 1, 1))
        plan.append(("python", 1, 1))
        results = []
        for impl, t, k in plan:
            print(f"# {n} rows: {impl} ({t} threads) ...", file=sys.stderr, flush=True)
            results.append(_run_worker(impl, n, t, k if impl.startswith("blockops") else 1,
                                       args.scan_bars, args.block))
        ref = next((r for r in results if r["impl"] == "blockops" and "error" not in r), None)
        ref_rate = None
        if ref:
            best = min((r for r in results if r["impl"] == "blockops" and "error" not in r),
                       key=lambda r: r["seconds"])
            ref_rate = n / best["seconds"]
        for r in results:
            name = {"blockops": "blockops barrier_labels",
                    "blockops-stream": f"blockops BarrierLabeler ({args.block:,}-row blocks)",
                    "numpy": "NumPy vectorized (chunked, active set)",
                    "python": "Python per-row scan (original pattern)"}[r["impl"]]
            if "error" in r:
                table.append([f"{n:,}", name, str(r["threads"]), "", "", "", "", "", "", "",
                              "error: " + r["error"]])
                continue
            rate = r["rows_timed"] / r["seconds"]
            secs = f"{r['seconds']:.2f}"
            if r["impl"] == "python":
                name += " [extrapolated]"
                secs = f"{n / rate:,.0f} (extrap.)"
            if r["impl"] == "python":
                agree = ("identical" if ref and r["digest"] == ref["digest_sub"]
                         else "DIFFERENT")
                agree += f" on {r['rows_timed']:,} bars"
            elif ref is None:
                agree = ""
            elif r is ref:
                agree = "reference"
            else:
                agree = "identical" if r["digest"] == ref["digest"] else "DIFFERENT"
                if abs(r["wsum"] - ref["wsum"]) > 1e-6 * abs(ref["wsum"]):
                    agree += f"; weight sums differ ({r['wsum']:.6g} vs {ref['wsum']:.6g})"
            peak = r["peak_rss"]
            table.append([
                f"{n:,}", name, str(r["threads"]), f"{r['rows_timed']:,}", secs,
                f"{rate:,.0f}", f"{ref_rate / rate:.1f}x slower" if ref_rate and rate < ref_rate * 0.95
                else ("1.0x" if ref_rate else ""),
                _t.format_bytes(peak), _t.format_bytes(peak - r["startup_rss"]),
                f"{(peak - r['startup_rss']) / inout:.2f}" if r["impl"] != "python" else "n/a",
                agree,
            ])
    finished = _t.utc_now()
    import numpy
    import pandas

    info = _config.config_info()
    lines = [
        f"### labels benchmark, {started}",
        "",
        f"- date: {started} to {finished}",
        f"- command: `{cmd}`",
        f"- machine: {_t.cpu_model()}; {_t.effective_cpus()} usable CPUs; "
        f"{os.uname().sysname} {os.uname().release}",
        f"- blockops {blockops.__version__}: simd {info['simd_selected']}, openmp "
        f"{info['openmp']}, compiler {info['compiler']}; python {sys.version.split()[0]}, "
        f"numpy {numpy.__version__}, pandas {pandas.__version__}",
        f"- load average (1 min) at start {load0:.2f}, at end {os.getloadavg()[0]:.2f} "
        "(other work on the machine skews the numbers)",
        f"- data: synthetic ES-like 1-second bars (seed {SEED}): 07:30-15:00 US/Central "
        "sessions on weekdays from 2023-01-03, random walk on the 0.25 tick grid (daily "
        "volatility regime, 35 % flat bars, 30 % wicks), a 25-point roll every 65 sessions; "
        "six modes (6/12, 8/16, 10/20 ticks long and short), horizon 900.",
        "- each contender in its own subprocess; peak RSS = that process's VmHWM, reset with "
        "/proc/self/clear_refs after the bars were built (so it includes the inputs, ~48 B/row, "
        "and the interpreter); 'start-up' = RSS after importing numpy, pandas and blockops, "
        "before the bars; in+out = 78 B/row (inputs + int8 labels + float32 weights); "
        "blockops timed best of "
        f"{args.k}, the others once.",
        f"- Python per-row scan: {args.scan_bars:,} signal bars from the middle of the data, "
        "six modes, time extrapolated linearly to all rows; labels compared on those bars.",
        "- the engine this replaces (issue 5): 5.8 minutes for 517 K rows (not re-measured).",
        "",
        _t.markdown_table(header, table, align),
        "",
    ]
    text = "\n".join(lines)
    print(_t.format_table(header, table, align))
    print()
    print("\n".join(lines[:10]))
    if args.markdown:
        with open(args.markdown, "a", encoding="utf-8") as f:
            f.write("\n" + text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
