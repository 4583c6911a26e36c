"""``python -m blockops bench geo``: blockops.geo against what users would otherwise use.

One process, the same arrays for every implementation (default 10 M points,
float64 and float32):

* haversine on matched pairs: blockops (1 thread and all threads), the usual
  NumPy expression, numba ``prange`` (if numba imports), scikit-learn
  ``haversine_distances`` on small blocks of matched pairs (diagonal taken),
  the ``haversine`` package's ``haversine_vector``;
* ``within_radius`` (2 km and 100 km) and ``within_bbox`` (the boxes of those
  circles from ``radius_bbox``): blockops vs the NumPy expressions;
* the bandwidth floor: ``np.copyto`` of the same input arrays into
  preallocated buffers (1 thread, and split over all cores with threads).

Reports ns/point, ns/point/core, speedup vs NumPy, time relative to the copy
floor and how far each result is from blockops' (so the same computation is
compared), then the machine, date and command line. Peak RSS comes from
blockops' MemoryMonitor: per row while it was timed, and for the whole run.
Peers that are not installed are reported as such, never replaced.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import numpy as np

from .._monitor import MemoryMonitor
from . import timing as _t

# Centre of the radius / box filters (degrees), from issue 2.
CENTER_LAT = 41.5430216
CENTER_LON = -106.0831353
RADII_M = (2000.0, 100_000.0)
DEFAULT_N = 10_000_000
MEM_INTERVAL_S = 0.02  # MemoryMonitor sampling interval (the sampler thread sleeps between)

# A realistic region (Wyoming, around the centre) with a few dense hubs.
REGION = dict(lat_min=40.5, lat_max=45.0, lon_min=-111.0, lon_max=-104.0)
HUBS = (  # lat, lon, sigma (deg)
    (CENTER_LAT, CENTER_LON, 0.05),
    (41.1400, -104.8202, 0.08),   # Cheyenne
    (42.8666, -106.3131, 0.08),   # Casper
    (41.3114, -105.5911, 0.05),   # Laramie
    (44.2910, -105.5022, 0.06),   # Gillette
)

PEERS = ("numpy", "numba", "sklearn", "haversine")


# --------------------------------------------------------------------------- rows

@dataclass
class Row:
    op: str                     # operation label (a group of rows)
    impl: str
    dtype: str
    threads: Optional[int]
    seconds: Optional[float] = None   # best-of-k wall time of one call
    n_timed: int = 0                  # points processed by the timed call
    status: str = ""                  # "not installed", "error: ...", "" if timed
    agree: str = ""                   # agreement with blockops
    notes: list[str] = field(default_factory=list)
    floor_key: str = ""               # which copy floor this op is compared to
    is_numpy: bool = False
    is_floor: bool = False
    peak_rss: Optional[int] = None    # bytes: MemoryMonitor peak while this row was timed

    @property
    def ns_per_point(self) -> Optional[float]:
        if self.seconds is None or self.n_timed <= 0:
            return None
        return self.seconds * 1e9 / self.n_timed


class Notes:
    """Footnotes numbered in order of first use."""

    def __init__(self) -> None:
        self._keys: dict[str, int] = {}
        self._texts: list[str] = []

    def ref(self, text: str) -> str:
        if text not in self._keys:
            self._texts.append(text)
            self._keys[text] = len(self._texts)
        return f"[{self._keys[text]}]"

    def lines(self) -> list[str]:
        return [f"[{i}] {t}" for i, t in enumerate(self._texts, 1)]


# --------------------------------------------------------------------------- data

def _parse_n(s: str) -> int:
    t = s.strip().replace("_", "").lower()
    mult = 1
    for suf, m in (("k", 1_000), ("m", 1_000_000), ("g", 1_000_000_000)):
        if t.endswith(suf):
            t, mult = t[:-1], m
            break
    try:
        v = float(t) * mult
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a point count: {s!r}") from None
    if not math.isfinite(v) or v < 1 or v != int(v):
        raise argparse.ArgumentTypeError(f"not a positive integer point count: {s!r}")
    return int(v)


def _points(rng: np.random.Generator, n: int, global_share: float) -> tuple[np.ndarray, np.ndarray]:
    """n points: a share uniform on the sphere, the rest in the region
    (half uniform over the region, half in Gaussian clusters around hubs)."""
    n_glob = int(round(n * global_share))
    n_reg = n - n_glob
    n_hub = n_reg // 2
    n_box = n_reg - n_hub
    lat = np.empty(n, dtype=np.float64)
    lon = np.empty(n, dtype=np.float64)
    # uniform on the sphere
    lat[:n_glob] = np.degrees(np.arcsin(rng.uniform(-1.0, 1.0, n_glob)))
    lon[:n_glob] = rng.uniform(-180.0, 180.0, n_glob)
    # uniform over the region
    s = slice(n_glob, n_glob + n_box)
    lat[s] = rng.uniform(REGION["lat_min"], REGION["lat_max"], n_box)
    lon[s] = rng.uniform(REGION["lon_min"], REGION["lon_max"], n_box)
    # clusters around hubs
    k = rng.integers(0, len(HUBS), n_hub)
    hubs = np.asarray(HUBS)
    s = slice(n_glob + n_box, n)
    lat[s] = hubs[k, 0] + rng.normal(0.0, 1.0, n_hub) * hubs[k, 2]
    lon[s] = hubs[k, 1] + rng.normal(0.0, 1.0, n_hub) * hubs[k, 2] / math.cos(math.radians(42.0))
    perm = rng.permutation(n)
    return np.clip(lat[perm], -90.0, 90.0), _wrap_lon(lon[perm])


def _wrap_lon(lon: np.ndarray) -> np.ndarray:
    return (lon + 180.0) % 360.0 - 180.0


def make_data(n: int, seed: int, global_share: float) -> dict[str, np.ndarray]:
    """float64 lat1, lon1, lat2, lon2 (matched pairs) and lat, lon (= lat1, lon1).

    Half of the pairs are short hops (second point ~1 km from the first, like
    consecutive fixes of a track), half independent draws (trips across the
    region or the globe)."""
    rng = np.random.default_rng(seed)
    lat1, lon1 = _points(rng, n, global_share)
    lat2, lon2 = _points(rng, n, global_share)
    short = rng.random(n) < 0.5
    m = int(short.sum())
    hop_lat = lat1[short] + rng.normal(0.0, 0.01, m)
    hop_lon = lon1[short] + rng.normal(0.0, 0.01, m)
    lat2[short] = np.clip(hop_lat, -90.0, 90.0)
    lon2[short] = _wrap_lon(hop_lon)
    return dict(lat1=lat1, lon1=lon1, lat2=lat2, lon2=lon2)


# --------------------------------------------------------------------------- peers

def _numpy_haversine(lat1, lon1, lat2, lon2, radius_m):
    """The usual NumPy formula (all in the input dtype)."""
    p1 = np.radians(lat1)
    p2 = np.radians(lat2)
    dphi = np.radians(lat2 - lat1)
    dlam = np.radians(lon2 - lon1)
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlam / 2) ** 2
    return 2 * radius_m * np.arcsin(np.sqrt(a))


def _numpy_within_radius(lat, lon, clat, clon, r, radius_m):
    return _numpy_haversine(lat, lon, clat, clon, radius_m) <= r


def _numpy_within_bbox(lat, lon, min_lat, max_lat, min_lon, max_lon):
    in_lat = (lat >= min_lat) & (lat <= max_lat)
    if min_lon <= max_lon:
        return in_lat & (lon >= min_lon) & (lon <= max_lon)
    return in_lat & ((lon >= min_lon) | (lon <= max_lon))


def _try_import(name: str):
    try:
        mod = __import__(name, fromlist=["_"])
        return mod, ""
    except ImportError:
        return None, "not installed"
    except Exception as e:  # broken install: say so rather than crash
        return None, f"import error: {type(e).__name__}: {e}"


def _dist_version(dist: str) -> str:
    try:
        from importlib.metadata import version
        return version(dist)
    except Exception:
        return "not installed"


_NUMBA_KERNEL: dict[str, Any] = {}


def _numba_kernel(numba):
    """@njit(parallel=True, fastmath=True) prange haversine, compiled lazily per dtype."""
    if "k" not in _NUMBA_KERNEL:
        from numba import njit, prange

        @njit(parallel=True, fastmath=True, cache=False)
        def hav(lat1, lon1, lat2, lon2, deg, half, two_r):
            n = lat1.shape[0]
            out = np.empty(n, dtype=lat1.dtype)
            for i in prange(n):
                p1 = lat1[i] * deg
                p2 = lat2[i] * deg
                s1 = math.sin((lat2[i] - lat1[i]) * deg * half)
                s2 = math.sin((lon2[i] - lon1[i]) * deg * half)
                a = s1 * s1 + math.cos(p1) * math.cos(p2) * s2 * s2
                out[i] = two_r * math.asin(math.sqrt(a))
            return out

        _NUMBA_KERNEL["k"] = hav
    return _NUMBA_KERNEL["k"]


def _sklearn_matched(hav_dist, X, Y, block, radius_m):
    """Matched-pair distances with sklearn: block x block matrices, diagonal kept."""
    n = X.shape[0]
    out = None
    for i in range(0, n, block):
        dd = np.diagonal(hav_dist(X[i:i + block], Y[i:i + block]))
        if out is None:
            out = np.empty(n, dtype=dd.dtype)
        out[i:i + block] = dd
    if out is None:
        out = np.empty(0, dtype=X.dtype)
    out *= radius_m
    return out


# --------------------------------------------------------------------------- agreement

def _rel_floor(dtype) -> float:
    """Distances below this (metres) are compared absolutely: 1 m for float64,
    100 m for float32 (issue 2 states float32 accuracy from 100 m on)."""
    return 100.0 if np.dtype(dtype) == np.float32 else 1.0


def _rel_diff(x: np.ndarray, ref: np.ndarray) -> str:
    """max |x - ref| / max(|ref|, floor), as a short string; NaN disagreement counted."""
    floor = _rel_floor(ref.dtype)
    x = np.asarray(x, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    if x.shape != ref.shape:
        return f"shape {x.shape} != {ref.shape}"
    nx, nr = np.isnan(x), np.isnan(ref)
    nan_bad = int(np.count_nonzero(nx != nr))
    ok = ~(nx | nr)
    if not ok.any():
        d = 0.0
    else:
        d = float(np.max(np.abs(x[ok] - ref[ok]) / np.maximum(np.abs(ref[ok]), floor)))
    s = "0" if d == 0.0 else f"{d:.1e}"
    return s + (f" ({nan_bad} NaN differ)" if nan_bad else "")


def _mask_diff(x: np.ndarray, ref: np.ndarray) -> str:
    x = np.asarray(x)
    ref = np.asarray(ref)
    if x.shape != ref.shape:
        return f"shape {x.shape} != {ref.shape}"
    k = int(np.count_nonzero(x.astype(bool) != ref.astype(bool)))
    return "identical" if k == 0 else f"{k}/{x.size} differ"


# --------------------------------------------------------------------------- runner

class Bench:
    def __init__(self, args: argparse.Namespace, bo) -> None:
        self.args = args
        self.bo = bo
        self.geo = bo.geo
        self.R = float(getattr(bo.geo, "EARTH_RADIUS_M", 6371008.8))
        self.rows: list[Row] = []
        self.notes = Notes()
        self.k = args.repeat
        self.warmup = args.warmup
        self.info = {}
        try:
            self.info = dict(bo.config_info())
        except Exception as e:  # still run; the report says why it's missing
            self.info = {"error": f"{type(e).__name__}: {e}"}
        self.all_threads = int(args.threads or self.info.get("effective_cpus") or _t.effective_cpus())
        self.peers = [p for p in PEERS if p not in set(args.skip or [])]
        self.extra: list[str] = []  # extra lines (data facts) for the report
        self.command = ""
        self.load_start = _load1()
        self.last_peak: Optional[int] = None
        self.run_monitor: Optional[MemoryMonitor] = None  # whole run, started by main()

    # -- helpers -----------------------------------------------------------
    def log(self, msg: str) -> None:
        if not self.args.quiet:
            print(msg, file=sys.stderr, flush=True)

    def time(self, fn: Callable[[], Any]) -> float:
        # peak RSS while this row's calls (warm-up and timed) ran: blockops' RSS sampler plus
        # the kernel's high-water mark if it rose meanwhile (catches spikes between samples)
        with MemoryMonitor(interval=MEM_INTERVAL_S) as mon:
            best = _t.best_of(fn, k=self.k, warmup=self.warmup).best
        self.last_peak = mon.peak
        return best

    def add(self, row: Row) -> Row:
        if row.seconds is not None and row.peak_rss is None:
            row.peak_rss = self.last_peak
        self.rows.append(row)
        ns = row.ns_per_point
        what = f"{ns:8.3f} ns/point" if ns is not None else row.status
        self.log(f"  {row.op:<26} {row.impl:<36} {row.dtype:<8} t={row.threads!s:<3} {what}")
        return row

    def run_timed(self, row: Row, fn: Callable[[], Any], n_timed: int) -> Row:
        try:
            row.seconds = self.time(fn)
            row.n_timed = n_timed
        except Exception as e:
            row.status = f"error: {type(e).__name__}: {str(e)[:80]}"
            if self.args.verbose:
                traceback.print_exc()
        return self.add(row)

    def subset_size(self, make_fn: Callable[[int], Callable[[], Any]], n: int) -> int:
        """Points to time a slow peer on: all of them unless one call would
        take longer than --peer-budget seconds (estimated on a small sample)."""
        m0 = min(n, 20_000)
        fn = make_fn(m0)
        fn()  # compile / warm caches
        t = _t.best_of(fn, k=1, warmup=0).best
        per_point = t / m0
        if per_point * n <= self.args.peer_budget:
            return n
        return int(min(n, max(m0, self.args.peer_budget / max(per_point, 1e-12))))

    # -- copy floor ---------------------------------------------------------
    def copy_floor(self, arrays: list[np.ndarray], dtype: str, key: str, label: str) -> None:
        n = arrays[0].shape[0]
        bufs = [np.empty_like(a) for a in arrays]
        for a, b in zip(arrays, bufs):  # touch the buffers once (no page faults in timing)
            np.copyto(b, a)

        def copy1():
            for a, b in zip(arrays, bufs):
                np.copyto(b, a)

        T = self.all_threads
        pool = ThreadPoolExecutor(max_workers=T) if T > 1 else None
        bounds = [(i * n // T, (i + 1) * n // T) for i in range(T)]

        def part(lo_hi):
            lo, hi = lo_hi
            for a, b in zip(arrays, bufs):
                np.copyto(b[lo:hi], a[lo:hi])

        def copyT():
            list(pool.map(part, bounds))

        nb = sum(a.nbytes for a in arrays) / n
        note = self.notes.ref(
            "Bandwidth floor: np.copyto of the same input arrays into preallocated, already "
            "touched buffers (reads and writes each input byte once). 'all' splits every "
            "array into one contiguous chunk per core, copied by Python threads (np.copyto "
            "releases the GIL). 'x copy floor' divides by the faster of the two.")
        self.add(Row(label, f"np.copyto {nb:.0f} B/point", dtype, 1, floor_key=key, is_floor=True,
                     notes=[note],
                     seconds=self.time(copy1), n_timed=n))
        if pool is not None:
            try:
                self.add(Row(label, f"np.copyto {nb:.0f} B/point", dtype, T, floor_key=key,
                             is_floor=True, notes=[note],
                             seconds=self.time(copyT), n_timed=n))
            finally:
                pool.shutdown()

    # -- haversine ------------------------------------------------------------
    def bench_haversine(self, d: dict[str, np.ndarray], dtype: str) -> None:
        geo, R, T = self.geo, self.R, self.all_threads
        lat1, lon1, lat2, lon2 = d["lat1"], d["lon1"], d["lat2"], d["lon2"]
        n = lat1.shape[0]
        op = "haversine"
        key = "copy4"

        def bo_call(threads, **kw):
            return lambda: geo.haversine(lat1=lat1, lon1=lon1, lat2=lat2, lon2=lon2,
                                         earth_radius_m=R, n_threads=threads, **kw)

        # reference result (all threads)
        ref = None
        try:
            ref = bo_call(T)()
        except Exception as e:
            self.add(Row(op, "blockops", dtype, T, floor_key=key,
                         status=f"error: {type(e).__name__}: {str(e)[:80]}"))
        if ref is not None:
            r1 = self.run_timed(Row(op, "blockops", dtype, 1, floor_key=key), bo_call(1), n)
            try:
                r1.agree = "all-thread result " + ("identical" if np.array_equal(
                    bo_call(1)(), ref, equal_nan=True) else "DIFFERS: " + _rel_diff(bo_call(1)(), ref))
            except Exception as e:
                r1.agree = f"error: {type(e).__name__}"
            self.run_timed(Row(op, "blockops", dtype, T, floor_key=key, agree="reference"),
                           bo_call(T), n)
            out = np.empty_like(lat1)
            note_out = self.notes.ref(
                "out= a preallocated array: no fresh allocation (and page faults) per call.")
            self.run_timed(Row(op, "blockops out=", dtype, 1, floor_key=key, notes=[note_out]),
                           bo_call(1, out=out), n)
            self.run_timed(Row(op, "blockops out=", dtype, T, floor_key=key, notes=[note_out]),
                           bo_call(T, out=out), n)
            note_nv = self.notes.ref("validate=False skips the latitude range check.")
            self.run_timed(Row(op, "blockops out=, validate=False", dtype, T, floor_key=key,
                               notes=[note_out, note_nv]),
                           bo_call(T, out=out, validate=False), n)
            del out

        # NumPy
        if "numpy" in self.peers:
            note = self.notes.ref(
                "NumPy: the usual formula in the input dtype: np.radians, sin(dphi/2)**2 + "
                "cos*cos*sin(dlam/2)**2, 2*R*arcsin(sqrt(a)); one thread.")
            row = Row(op, "NumPy expression", dtype, 1, floor_key=key, is_numpy=True, notes=[note])
            self.run_timed(row, lambda: _numpy_haversine(lat1, lon1, lat2, lon2, R), n)
            if ref is not None and row.seconds is not None:
                row.agree = _rel_diff(_numpy_haversine(lat1, lon1, lat2, lon2, R), ref)

        # numba prange
        if "numba" in self.peers:
            numba, err = _try_import("numba")
            if numba is None:
                self.add(Row(op, "numba prange", dtype, None, floor_key=key, status=err))
            else:
                self._bench_numba(numba, lat1, lon1, lat2, lon2, dtype, ref, op, key)

        # scikit-learn haversine_distances
        if "sklearn" in self.peers:
            self._bench_sklearn(lat1, lon1, lat2, lon2, dtype, ref, op, key)

        # haversine package
        if "haversine" in self.peers:
            self._bench_haversine_pkg(lat1, lon1, lat2, lon2, dtype, ref, op, key)
        del ref

    def _bench_numba(self, numba, lat1, lon1, lat2, lon2, dtype, ref, op, key):
        R, T = self.R, self.all_threads
        try:
            kern = _numba_kernel(numba)
            tp = lat1.dtype.type
            consts = (tp(math.pi / 180.0), tp(0.5), tp(2.0 * R))
            kern(lat1[:16], lon1[:16], lat2[:16], lon2[:16], *consts)  # compile outside timing
        except Exception as e:
            self.add(Row(op, "numba prange", dtype, None, floor_key=key,
                         status=f"error: {type(e).__name__}: {str(e)[:80]}"))
            return
        svml = bool(getattr(numba.config, "USING_SVML", False))
        note = self.notes.ref(
            f"numba {numba.__version__}: @njit(parallel=True, fastmath=True), prange loop with "
            "math.sin/cos/asin/sqrt, constants cast to the input dtype, output allocated "
            f"inside; compiled before timing; threads via numba.set_num_threads; SVML "
            f"{'on' if svml else 'off (no intel-cmplr-lib-rt)'}.")
        max_t = int(numba.config.NUMBA_NUM_THREADS)
        prev = numba.get_num_threads()
        try:
            for th in sorted({1, min(T, max_t)}):
                numba.set_num_threads(th)
                row = Row(op, "numba prange", dtype, th, floor_key=key, notes=[note])
                self.run_timed(row, lambda: kern(lat1, lon1, lat2, lon2, *consts), lat1.shape[0])
                if ref is not None and row.seconds is not None:
                    row.agree = _rel_diff(kern(lat1, lon1, lat2, lon2, *consts), ref)
        finally:
            numba.set_num_threads(prev)

    def _bench_sklearn(self, lat1, lon1, lat2, lon2, dtype, ref, op, key):
        R = self.R
        try:
            from sklearn.metrics.pairwise import haversine_distances
            import sklearn
        except ImportError:
            self.add(Row(op, "sklearn haversine_distances", dtype, None, floor_key=key,
                         status="not installed"))
            return
        except Exception as e:
            self.add(Row(op, "sklearn haversine_distances", dtype, None, floor_key=key,
                         status=f"import error: {type(e).__name__}"))
            return
        n = lat1.shape[0]
        try:
            # (n, 2) [lat, lon] in radians, prepared outside the timing. sklearn's
            # DistanceMetric("haversine") computes in float64 whatever the input, so
            # float32 degrees are converted to float64 radians here (converting in
            # float32 would round the radians and add error that is not sklearn's).
            X = np.radians(np.stack([lat1, lon1], axis=1).astype(np.float64))
            Y = np.radians(np.stack([lat2, lon2], axis=1).astype(np.float64))
            # pick the block size: fastest per point on a sample
            m = min(n, 8192)
            best_b, best_t = None, math.inf
            for b in self.args.sklearn_blocks:
                _sklearn_matched(haversine_distances, X[:m], Y[:m], b, R)
                t = _t.best_of(lambda: _sklearn_matched(haversine_distances, X[:m], Y[:m], b, R),
                               k=2, warmup=0).best
                if t < best_t:
                    best_b, best_t = b, t
            b = best_b
            m = self.subset_size(lambda mm: (lambda: _sklearn_matched(haversine_distances, X[:mm], Y[:mm], b, R)), n)
            out_dt = _sklearn_matched(haversine_distances, X[:4], Y[:4], b, R).dtype
            note = self.notes.ref(
                f"scikit-learn {sklearn.__version__}: sklearn.metrics.pairwise.haversine_distances "
                f"computes all pairs, so matched pairs are done in blocks of b rows: "
                f"haversine_distances(X[i:i+b], Y[i:i+b]) gives a b x b matrix whose diagonal is "
                f"kept (b times the needed work; b = fastest of {list(self.args.sklearn_blocks)} "
                f"on an 8192-pair sample), then * R. Inputs converted to (n, 2) [lat, lon] float64 "
                f"radians outside the timing; it computes in float64 (result {out_dt}) also for "
                f"float32 input.")
            name = f"sklearn haversine_distances b={b}" + ("" if m == n else f", {m:,} pts")
            row = Row(op, name, dtype, 1, floor_key=key, notes=[note])
            self.run_timed(row, lambda: _sklearn_matched(haversine_distances, X[:m], Y[:m], b, R), m)
            if ref is not None and row.seconds is not None:
                row.agree = _rel_diff(_sklearn_matched(haversine_distances, X[:m], Y[:m], b, R), ref[:m])
        except Exception as e:
            self.add(Row(op, "sklearn haversine_distances", dtype, None, floor_key=key,
                         status=f"error: {type(e).__name__}: {str(e)[:80]}"))
            if self.args.verbose:
                traceback.print_exc()

    def _bench_haversine_pkg(self, lat1, lon1, lat2, lon2, dtype, ref, op, key):
        try:
            from haversine import haversine_vector, Unit
            hmod = sys.modules.get("haversine.haversine")
        except ImportError:
            self.add(Row(op, "haversine.haversine_vector", dtype, None, floor_key=key,
                         status="not installed"))
            return
        except Exception as e:
            self.add(Row(op, "haversine.haversine_vector", dtype, None, floor_key=key,
                         status=f"import error: {type(e).__name__}"))
            return
        n = lat1.shape[0]
        try:
            a1 = np.stack([lat1, lon1], axis=1)
            a2 = np.stack([lat2, lon2], axis=1)
            kern = getattr(hmod, "_haversine_kernel_vector", None)
            backend = ("numba.vectorize(fastmath=True) kernel, because numba is importable"
                       if type(kern).__module__.startswith("numba") else "NumPy kernel")
            radius = getattr(hmod, "_AVG_EARTH_RADIUS_KM", None)
            m = self.subset_size(lambda mm: (lambda: haversine_vector(a1[:mm], a2[:mm], Unit.METERS)), n)
            note = self.notes.ref(
                f"haversine {_dist_version('haversine')}: haversine_vector(a1, a2, Unit.METERS) with "
                f"(n, 2) [lat, lon] degree arrays stacked outside the timing; radius "
                f"{radius} km; {backend}; one thread; default check=True range check.")
            name = "haversine.haversine_vector" + ("" if m == n else f", {m:,} pts")
            row = Row(op, name, dtype, 1, floor_key=key, notes=[note])
            self.run_timed(row, lambda: haversine_vector(a1[:m], a2[:m], Unit.METERS), m)
            if ref is not None and row.seconds is not None:
                row.agree = _rel_diff(haversine_vector(a1[:m], a2[:m], Unit.METERS), ref[:m])
        except Exception as e:
            self.add(Row(op, "haversine.haversine_vector", dtype, None, floor_key=key,
                         status=f"error: {type(e).__name__}: {str(e)[:80]}"))
            if self.args.verbose:
                traceback.print_exc()

    # -- filters ----------------------------------------------------------------
    def bench_filters(self, d: dict[str, np.ndarray], dtype: str) -> None:
        geo, R, T = self.geo, self.R, self.all_threads
        lat, lon = d["lat1"], d["lon1"]
        n = lat.shape[0]
        key = "copy2"
        np_note = self.notes.ref(
            "NumPy within_radius: the usual haversine formula (as for haversine) to the centre, then <= r; "
            "within_bbox: (lat >= min_lat) & (lat <= max_lat) & (lon >= min_lon) & (lon <= max_lon). "
            "In float32, NumPy rounds the Python-float centre and box bounds to float32 (NEP 50 "
            "promotion), so a few points at the very edge may legitimately differ from blockops.")
        for r in RADII_M:
            rl = f"{r / 1000:g} km"
            op = f"within_radius {rl}"
            ref = None
            try:
                ref = geo.within_radius(lat=lat, lon=lon, center_lat=CENTER_LAT,
                                        center_lon=CENTER_LON, radius_m=r, n_threads=T)
                self.extra.append(f"{dtype}: within_radius {rl}: {np.count_nonzero(ref) / n:.4%} of points inside")
            except Exception as e:
                self.add(Row(op, "blockops", dtype, T, floor_key=key,
                             status=f"error: {type(e).__name__}: {str(e)[:80]}"))
            if ref is not None:
                for th in sorted({1, T}):
                    row = Row(op, "blockops", dtype, th, floor_key=key,
                              agree="reference" if th == T else "")
                    fn = (lambda th=th: geo.within_radius(lat=lat, lon=lon, center_lat=CENTER_LAT,
                                                          center_lon=CENTER_LON, radius_m=r, n_threads=th))
                    self.run_timed(row, fn, n)
                    if th != T and row.seconds is not None:
                        row.agree = "all-thread result " + _mask_diff(fn(), ref)
            if "numpy" in self.peers:
                row = Row(op, "NumPy expression", dtype, 1, floor_key=key, is_numpy=True, notes=[np_note])
                fn = lambda: _numpy_within_radius(lat, lon, CENTER_LAT, CENTER_LON, r, R)
                self.run_timed(row, fn, n)
                if ref is not None and row.seconds is not None:
                    row.agree = _mask_diff(fn(), ref)

        for r in RADII_M:
            rl = f"{r / 1000:g} km"
            op = f"within_bbox ({rl} box)"
            try:
                box = tuple(float(v) for v in geo.radius_bbox(center_lat=CENTER_LAT,
                                                              center_lon=CENTER_LON, radius_m=r))
            except Exception as e:
                self.add(Row(op, "blockops radius_bbox", dtype, None, floor_key=key,
                             status=f"error: {type(e).__name__}: {str(e)[:80]}"))
                continue
            mn_lat, mx_lat, mn_lon, mx_lon = box
            ref = None
            try:
                ref = geo.within_bbox(lat=lat, lon=lon, min_lat=mn_lat, max_lat=mx_lat,
                                      min_lon=mn_lon, max_lon=mx_lon, n_threads=T)
                self.extra.append(
                    f"{dtype}: within_bbox {rl} box (lat {mn_lat:.5f}..{mx_lat:.5f}, lon "
                    f"{mn_lon:.5f}..{mx_lon:.5f}): {np.count_nonzero(ref) / n:.4%} of points inside")
            except Exception as e:
                self.add(Row(op, "blockops", dtype, T, floor_key=key,
                             status=f"error: {type(e).__name__}: {str(e)[:80]}"))
            if ref is not None:
                for th in sorted({1, T}):
                    row = Row(op, "blockops", dtype, th, floor_key=key,
                              agree="reference" if th == T else "")
                    fn = (lambda th=th: geo.within_bbox(lat=lat, lon=lon, min_lat=mn_lat, max_lat=mx_lat,
                                                        min_lon=mn_lon, max_lon=mx_lon, n_threads=th))
                    self.run_timed(row, fn, n)
                    if th != T and row.seconds is not None:
                        row.agree = "all-thread result " + _mask_diff(fn(), ref)
            if "numpy" in self.peers:
                row = Row(op, "NumPy expression", dtype, 1, floor_key=key, is_numpy=True, notes=[np_note])
                fn = lambda: _numpy_within_bbox(lat, lon, mn_lat, mx_lat, mn_lon, mx_lon)
                self.run_timed(row, fn, n)
                if ref is not None and row.seconds is not None:
                    row.agree = _mask_diff(fn(), ref)

    # -- run ------------------------------------------------------------------
    def run(self, data64: dict[str, np.ndarray]) -> None:
        ops = set(self.args.ops)
        for dtype in self.args.dtypes:
            self.log(f"{dtype}:")
            d = data64 if dtype == "float64" else {k: v.astype(dtype) for k, v in data64.items()}
            if "haversine" in ops:
                self.copy_floor([d["lat1"], d["lon1"], d["lat2"], d["lon2"]], dtype, "copy4",
                                "copy floor: lat1,lon1,lat2,lon2")
                self.bench_haversine(d, dtype)
            if ops & {"within_radius", "within_bbox"}:
                self.copy_floor([d["lat1"], d["lon1"]], dtype, "copy2", "copy floor: lat,lon")
                if "within_radius" not in ops or "within_bbox" not in ops:
                    self._filter_only(d, dtype, ops)
                else:
                    self.bench_filters(d, dtype)
            del d

    def _filter_only(self, d, dtype, ops):
        # run both, then drop the rows of the op not asked for
        before = len(self.rows)
        self.bench_filters(d, dtype)
        keep = [r for r in self.rows[before:] if r.op.split(" ")[0] in ops]
        self.rows[before:] = keep

    # -- report -------------------------------------------------------------------
    HEADER = ("operation", "implementation", "dtype", "threads", "ns/point", "ns/point/core",
              "speedup vs NumPy", "x copy floor", "max rel diff vs blockops", "peak RSS MiB",
              "notes")
    ALIGN = ("<", "<", "<", ">", ">", ">", ">", ">", "<", ">", "<")

    def table_rows(self) -> list[list[str]]:
        numpy_t: dict[tuple[str, str], float] = {}
        floor_t: dict[tuple[str, str], float] = {}
        for r in self.rows:
            if r.is_numpy and r.ns_per_point is not None:
                numpy_t[(r.op, r.dtype)] = r.ns_per_point
            if r.is_floor and r.ns_per_point is not None:
                k = (r.floor_key, r.dtype)
                floor_t[k] = min(floor_t.get(k, math.inf), r.ns_per_point)
        out = []
        for r in self.rows:
            ns = r.ns_per_point
            if ns is None:
                cells = [r.op, r.impl, r.dtype, "" if r.threads is None else str(r.threads),
                         r.status or "n/a", "", "", "", r.agree, "", " ".join(r.notes)]
            else:
                th = r.threads or 1
                npt = numpy_t.get((r.op, r.dtype))
                fl = floor_t.get((r.floor_key, r.dtype))
                cells = [r.op, r.impl, r.dtype, str(th), _fmt(ns), _fmt(ns * th),
                         "" if (npt is None or r.is_floor) else f"{npt / ns:.2f}",
                         "" if fl is None else f"{ns / fl:.2f}",
                         r.agree,
                         "" if r.peak_rss is None else f"{r.peak_rss / 2**20:,.0f}",
                         " ".join(r.notes)]
            out.append(cells)
        return out

    def machine_lines(self) -> list[str]:
        i = self.info
        bo = self.bo
        lines = [
            f"date: {_t.utc_now()}",
            f"command: {self.command}",
            f"machine: {_t.cpu_model()}; {_t.effective_cpus()} usable CPUs "
            f"(os.cpu_count() = {os.cpu_count()}); {platform.system()} {platform.release()}",
            f"blockops {getattr(bo, '__version__', '?')}: simd selected {i.get('simd_selected', '?')} "
            f"({i.get('simd_reason', '?')}); compiled {i.get('simd_compiled', '?')}; supported "
            f"{i.get('simd_supported', '?')}; openmp {i.get('openmp', '?')}; default threads "
            f"{i.get('default_threads', '?')}; effective cpus {i.get('effective_cpus', '?')}; "
            f"compiler {i.get('compiler', '?')}",
            f"load average (1 min) at start {self.load_start}, at end {_load1()} (other work on the "
            f"machine skews the numbers)",
            f"python {platform.python_version()}; numpy {np.__version__}; numba "
            f"{_dist_version('numba')}; scikit-learn {_dist_version('scikit-learn')}; haversine "
            f"{_dist_version('haversine')}",
            f"data: {self.args.n:,} points (matched pairs for haversine; lat1/lon1 for the filters), "
            f"seed {self.args.seed}, {self.args.global_share:.0%} uniform on the globe, the rest in "
            f"lat {REGION['lat_min']}..{REGION['lat_max']}, lon {REGION['lon_min']}..{REGION['lon_max']} "
            f"(half uniform, half clustered around 5 hubs); half of the pairs ~1 km hops, half "
            f"independent; float32 = the float64 arrays cast.",
            f"timing: best of {self.k} after {self.warmup} warm-up call(s), time.perf_counter, "
            f"gc off; 'all' threads = {self.all_threads}; ns/point/core = ns/point x threads; "
            f"speedup vs NumPy = NumPy time / time; x copy floor = time / copy-floor time (lower "
            f"is better; 1.0 = as fast as copying the inputs). A peer whose one call on all points "
            f"would take more than {self.args.peer_budget:g} s is timed on the first m points only "
            f"(', m pts' in its name); its ns/point and agreement come from that subset.",
            "max rel diff vs blockops: max |d - d_blockops| / max(|d_blockops|, F) over the "
            "points timed, against blockops (all threads) in the same dtype, F = 1 m for float64 "
            "and 100 m for float32; masks: count of points that differ.",
        ]
        if "error" in i:
            lines.append(f"config_info() failed: {i['error']}")
        return lines

    def report(self, markdown_path: Optional[str]) -> None:
        rows = self.table_rows()
        rss = None
        if self.run_monitor is not None:
            self.run_monitor.stop()
            rss = self.run_monitor.peak
        rss_line = ("peak RSS during the run (data generation to report; blockops MemoryMonitor, "
                    f"sampled every {MEM_INTERVAL_S * 1000:.0f} ms plus the kernel's high-water "
                    "mark when it rose during the run): "
                    + ("n/a" if rss is None else _t.format_bytes(rss)))
        print()
        print("blockops bench geo")
        print("=" * 18)
        for line in self.machine_lines():
            print(line)
        print()
        print(_t.format_table(self.HEADER, rows, self.ALIGN))
        print()
        for line in self.notes.lines():
            print(line)
        for line in self.extra:
            print(line)
        print(rss_line)
        if markdown_path:
            md = [f"### geo benchmark, {_t.utc_now()}", ""]
            md += [f"- {_md_inline(line)}" for line in self.machine_lines()]
            md += ["", _t.markdown_table(self.HEADER, rows, self.ALIGN), ""]
            md += [f"{line}  " for line in self.notes.lines()]
            md += [""] + [f"- {line}" for line in self.extra]
            md += [f"- {rss_line}", ""]
            existed = os.path.exists(markdown_path)
            with open(markdown_path, "a", encoding="utf-8") as f:
                if existed and os.path.getsize(markdown_path) > 0:
                    f.write("\n")
                f.write("\n".join(md) + "\n")
            print(f"{'appended to' if existed else 'wrote'} {markdown_path}")


def _load1() -> str:
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except (AttributeError, OSError):
        return "n/a"


def _md_inline(line: str) -> str:
    if line.startswith("command: "):
        return "command: `" + line[len("command: "):] + "`"
    return line


def _fmt(x: float) -> str:
    if x >= 100:
        return f"{x:.0f}"
    if x >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


# --------------------------------------------------------------------------- CLI

def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m blockops bench geo",
        description="Benchmark blockops.geo against NumPy, numba, scikit-learn, the haversine "
                    "package and a memory-copy floor, on the same arrays in one process.")
    p.add_argument("--n", type=_parse_n, default=DEFAULT_N,
                   help="number of points (accepts 1000000, 1e6, 1M; default 10M)")
    p.add_argument("--dtype", dest="dtypes", action="append", choices=("float64", "float32"),
                   help="dtype to run (repeatable; default both)")
    p.add_argument("--op", dest="ops", action="append",
                   choices=("haversine", "within_radius", "within_bbox"),
                   help="operation to run (repeatable; default all)")
    p.add_argument("--skip", action="append", choices=PEERS, help="peer to leave out (repeatable)")
    p.add_argument("--threads", type=int, default=None,
                   help="thread count for the 'all threads' rows (default: blockops effective CPUs)")
    p.add_argument("--repeat", "-k", type=int, default=5, help="timed calls, best taken (default 5)")
    p.add_argument("--warmup", type=int, default=1, help="untimed warm-up calls (default 1)")
    p.add_argument("--seed", type=int, default=20240602, help="random seed of the data")
    p.add_argument("--global-share", type=float, default=0.10,
                   help="share of points uniform on the globe (default 0.10)")
    p.add_argument("--peer-budget", type=float, default=2.0,
                   help="seconds one call of a slow peer may take before it is timed on a "
                        "subset (default 2)")
    p.add_argument("--sklearn-blocks", type=lambda s: [int(v) for v in s.split(",")],
                   default=[16, 32, 64, 128],
                   help="block sizes tried for sklearn matched pairs (default 16,32,64,128)")
    p.add_argument("--markdown", metavar="PATH",
                   help="append the report as Markdown to PATH (created if missing)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress lines on stderr")
    p.add_argument("--verbose", "-v", action="store_true", help="tracebacks for peer errors")
    return p


def main(argv: Optional[list[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    args.dtypes = args.dtypes or ["float64", "float32"]
    args.dtypes = list(dict.fromkeys(args.dtypes))
    args.ops = args.ops or ["haversine", "within_radius", "within_bbox"]
    if not (0.0 <= args.global_share <= 1.0):
        print("--global-share must be in [0, 1]", file=sys.stderr)
        return 2
    if args.repeat < 1 or args.warmup < 0:
        print("--repeat must be >= 1 and --warmup >= 0", file=sys.stderr)
        return 2
    try:
        import blockops
        import blockops.geo  # noqa: F401
    except Exception as e:
        print(f"cannot import blockops.geo: {type(e).__name__}: {e}", file=sys.stderr)
        return 1

    bench = Bench(args, blockops)
    bench.run_monitor = MemoryMonitor(interval=MEM_INTERVAL_S).start()
    bench.command = _t.command_line(argv, "python -m blockops bench geo")
    bench.log(f"generating {args.n:,} points ...")
    data = make_data(args.n, args.seed, args.global_share)
    bench.run(data)
    del data
    bench.report(args.markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
