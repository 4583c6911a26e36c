"""``python -m blockops bench v2x``: the connected-vehicle pipeline in blockops against the
original Dask pattern and against what a user would write today in polars and DuckDB.

Runs, side by side on the same generated Basic Safety Message CSV
(:func:`blockops.synth.write_bsm_csv`, generated around the pipeline's centre and kept in
``--out-dir`` keyed by rows, seed and null fraction; about 290 bytes a row, and a run needs up
to 125 bytes a row more for its staged parts or output: 42 + 19 GB at 150 M rows, checked
before anything runs), DOMAIN.md steps 1-5 once per side
(``--sides``; default ``original,blockops,polars,duckdb``):

* **original**: the Dask port's pattern. ``dask.dataframe.read_csv(blocksize="64MB",
  assume_missing=True, on_bad_lines="skip")`` with the text columns as ``str``; a pandas
  ``map_partitions`` clean (select the 19 columns, ``dropna()``, POINT -> ``x_pos``/``y_pos``
  with ``str.extract``, drop ``coreData_position``, timestamp -> month/day/year/hour/minute/
  second/pm with ``pd.to_datetime(format=...)`` + ``.dt``, drop the lat/long columns); the
  radius filter with the Dask port's crude box (``lat +- d/111320``, ``lon +- d/(111320 |lat/90
  + 0.1|)``) then a per-row haversine (vectorised NumPy, R = 6,371,008.8 m as the
  ``haversine`` package); the equirectangular projection to metres about the centre
  (``x = R dlon cos(lat0)``, ``y = R dlat``, R = 6,371,000 m, signed); attackers: the sorted
  unique IDs ``.compute()``-d, ``train_test_split(ids, test_size=0.3, random_state=42)``, the
  test part are attackers, ``isAttacker`` by ``isin``; then the per-ID attack as the pandas
  original does it: ``.compute()`` the whole frame, Python's ``random`` seeded once, a dict
  ID -> (``randint(0, 360)`` degrees, ``randint(min, max)`` metres) filled in row order, applied
  row by row (``DataFrame.apply(axis=1)``) to ``x_pos``/``y_pos`` of the attacker rows
  (``x += d cos(angle)``, ``y += d sin(angle)``, angle counter-clockwise from +x);
  ``dd.from_pandas(df, npartitions=<input partitions>).to_parquet(...)``.
* **blockops**: ``blockops.v2x.Pipeline(PipelineConfig.from_dict(cfg)).run()`` with the same
  steps (:func:`pipeline_config`): clean with timestamps, radius filter, projection, attackers
  (exact, ratio 0.3, seed 42), ``positional_offset_const_per_id_with_random_direction`` in xy
  coordinates, Parquet output.
* **polars** and **duckdb**: the same job written the way a competent user of each would
  (:mod:`blockops._bench.v2x_peers`): polars lazy ``scan_csv`` + expressions and
  ``sink_parquet`` on the streaming engine; DuckDB ``read_csv`` + SQL and ``COPY ... TO``
  Parquet. Both choose the attackers exactly as the original (unique IDs collected in a first
  pass, scikit-learn's ``train_test_split``); their per-ID offsets come from their own hash
  functions.
* **blockops-dask**, **blockops-ray** (not run by default): the blockops pipeline on its
  cluster engines (``[engine] kind = "dask"``: a ``distributed.LocalCluster`` of ``--workers``
  single-threaded worker processes with ``--worker-memory`` each; ``kind = "ray"``:
  ``ray.init(num_cpus=--workers)``), each worker's peak RSS reported.

Each side runs in its own fresh Python process under a watchdog that samples the RSS of the
process tree and kills it past ``--memory-limit`` or ``--timeout``; a killed side is reported as
such ("did not finish"), with the RSS at the kill (defaults: 30 minutes, 20 GiB, issue 18). The
child reports its work's wall time (imports excluded), its own peak RSS (``VmHWM`` of
``/proc/self/status``, read in the child: a fresh interpreter's peak, not the parent's, which
``ru_maxrss`` of a child would include) and a :class:`blockops._monitor.MemoryMonitor` timeline.

Checks, against the blockops side (the reference):

* original, polars, duckdb: the outputs must hold the same rows (by
  ``metadata_serialId_serialNumber``, the row number the generator writes) with the same
  ``isAttacker``; the attack values differ by design (different random streams). A difference
  is explained when it consists only of rows the original's crude box wrongly drops at the
  circle's north and south tips (a known fault of the original; blockops uses the exact box)
  or, for polars and DuckDB, of rows within 1e-6 of the radius from the circle (their
  haversine is not blockops' to the last bit);
* blockops-dask, blockops-ray: the output must be the local engine's bit for bit (the Arrow
  schema and, row by row, every column's bytes; :func:`output_digest`).

A micro-benchmark times the feature conversions (hex id -> int, POINT -> x/y, timestamp ->
parts) in blockops and in the pandas idioms the original uses, as rows per second per CPU.
"""
from __future__ import annotations

import argparse
import glob
import hashlib
import json
import math
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any, Optional

from . import timing as _t
from .csv import _warm  # read a file once so that every side finds it in the page cache
from ..synth import BSM_COLUMNS

# --------------------------------------------------------------------------- parameters

#: Centre of the pipeline's radius filter and of the projection (DOMAIN.md step 3); the data
#: are generated around it.
CENTER_LAT = 41.5430216
CENTER_LON = -106.0831353
#: Default radius: 8 km keeps about half of the generated rows (47-55 % for seeds 42, 1, 7).
DEFAULT_RADIUS_M = 8000.0
ATTACK_RATIO = 0.3
SEED = 42
MIN_DIST, MAX_DIST = 25, 250
#: Haversine radius: the mean Earth radius, as the ``haversine`` package and blockops.geo use.
HAVERSINE_R = 6371008.8
#: Projection radius of the original's metric pipeline (DOMAIN.md step 3).
PROJECT_R = 6371000.0
TS_FORMAT = "%m/%d/%Y %I:%M:%S %p"
POINT_RE = r"^POINT \((\S+) (\S+)\)$"
#: The generator writes the global row number here: the row key for the output check.
ROW_ID = "metadata_serialId_serialNumber"
ATTACK_KIND = "positional_offset_const_per_id_with_random_direction"

#: The 19 columns the original keeps: all of the export's, in file order.
COLUMNS = list(BSM_COLUMNS)
STR_COLUMNS = ["metadata_generatedAt", "metadata_recordType", "metadata_serialId_streamId",
               "metadata_receivedAt", "coreData_id", "coreData_position"]
#: Every side the benchmark knows; DEFAULT_SIDES run unless --sides says otherwise.
SIDES = ("original", "blockops", "polars", "duckdb", "blockops-dask", "blockops-ray")
DEFAULT_SIDES = ("original", "blockops", "polars", "duckdb")
PEER_SIDES = ("polars", "duckdb")
ENGINE_SIDES = {"blockops-dask": "dask", "blockops-ray": "ray"}


# --------------------------------------------------------------------------- the original

def crude_box(center_lat: float, center_lon: float, radius_m: float):
    """The Dask port's prefilter box ``(min_lat, max_lat, min_lon, max_lon)`` (DOMAIN.md 3).

    Its latitude half-width d/111320 is ~0.1 % narrower than the circle's (d/111195), so it
    drops points near the circle's north and south tips that are within the radius.
    """
    dlat = radius_m / 111320.0
    dlon = radius_m / (111320.0 * abs(center_lat / 90.0 + 0.1))
    return center_lat - dlat, center_lat + dlat, center_lon - dlon, center_lon + dlon


def _haversine_np(lat, lon, lat0: float, lon0: float, r: float = HAVERSINE_R):
    import numpy as np

    la, lo = np.radians(lat), np.radians(lon)
    la0, lo0 = math.radians(lat0), math.radians(lon0)
    a = np.sin((la - la0) / 2.0) ** 2 + math.cos(la0) * np.cos(la) * np.sin((lo - lo0) / 2.0) ** 2
    return 2.0 * r * np.arcsin(np.sqrt(a))


def orig_clean(df):
    """Step 2 with timestamps, in pandas, as the original's cleaner (one partition)."""
    import pandas as pd

    df = df[COLUMNS].dropna()
    pt = df["coreData_position"].str.extract(POINT_RE)
    df["x_pos"] = pt[0].astype("float64")
    df["y_pos"] = pt[1].astype("float64")
    ts = pd.to_datetime(df["metadata_generatedAt"], format=TS_FORMAT)
    df["metadata_generatedAt"] = ts
    df["month"] = ts.dt.month
    df["day"] = ts.dt.day
    df["year"] = ts.dt.year
    df["hour"] = ts.dt.hour
    df["minute"] = ts.dt.minute
    df["second"] = ts.dt.second
    df["pm"] = (ts.dt.hour >= 12).astype("int64")  # 0 if hour < 12 else 1
    return df.drop(columns=["coreData_position", "coreData_position_lat",
                            "coreData_position_long"])


def orig_filter(df, center_lat: float, center_lon: float, radius_m: float):
    """Step 3: the crude box, then the haversine distance of the remaining rows."""
    lat_lo, lat_hi, lon_lo, lon_hi = crude_box(center_lat, center_lon, radius_m)
    lat, lon = df["y_pos"], df["x_pos"]
    df = df[(lat >= lat_lo) & (lat <= lat_hi) & (lon >= lon_lo) & (lon <= lon_hi)]
    d = _haversine_np(df["y_pos"].to_numpy(), df["x_pos"].to_numpy(), center_lat, center_lon)
    return df[d <= radius_m]


def orig_project(df, origin_lat: float, origin_lon: float):
    """x_pos/y_pos (lon/lat degrees) -> signed metres about the origin."""
    df = df.copy()
    df["x_pos"] = PROJECT_R * ((df["x_pos"] - origin_lon) * (math.pi / 180.0)) * \
        math.cos(math.radians(origin_lat))
    df["y_pos"] = PROJECT_R * ((df["y_pos"] - origin_lat) * (math.pi / 180.0))
    return df


def orig_label(df, attackers: frozenset):
    df = df.copy()
    df["isAttacker"] = df["coreData_id"].isin(attackers).astype("int64")
    return df


def run_original(spec: dict, stages: dict) -> dict:
    """Steps 1-5 the way the Dask port does them; fills ``stages`` (seconds) as it goes."""
    import random

    import dask
    import dask.dataframe as dd
    from sklearn.model_selection import train_test_split

    clat, clon, radius = spec["center_lat"], spec["center_lon"], spec["radius_m"]
    dask.config.set(scheduler="threads")
    t = time.perf_counter()
    ddf = dd.read_csv(spec["path"], blocksize="64MB", assume_missing=True, on_bad_lines="skip",
                      dtype={c: str for c in STR_COLUMNS})
    nparts = ddf.npartitions
    meta = orig_clean(ddf._meta)
    ddf = ddf.map_partitions(orig_clean, meta=meta)
    ddf = ddf.map_partitions(orig_filter, clat, clon, radius, meta=meta)
    ddf = ddf.map_partitions(orig_project, clat, clon, meta=meta)

    # step 4: the unique IDs need one pass over the data (the graph is re-run below)
    ids = sorted(ddf["coreData_id"].unique().compute())
    if len(ids) >= 2:
        _, attackers = train_test_split(ids, test_size=spec["ratio"], random_state=spec["seed"])
    else:  # train_test_split refuses fewer than 2 samples
        attackers = []
    attackers = frozenset(attackers)
    meta_l = orig_label(meta, attackers)
    ddf = ddf.map_partitions(orig_label, attackers=attackers, meta=meta_l)
    now = time.perf_counter()
    stages["read+clean+filter, unique IDs"] = now - t
    t = now

    # step 5: the per-ID dict needs global state -> the whole frame in pandas
    df = ddf.compute()
    now = time.perf_counter()
    stages["read+clean+filter+label, compute()"] = now - t
    t = now

    random.seed(spec["seed"])
    lookup: dict = {}
    lo, hi = spec["min_dist"], spec["max_dist"]

    def offset(row):
        i = row["coreData_id"]
        if i not in lookup:
            lookup[i] = (random.randint(0, 360), random.randint(lo, hi))
        angle, dist = lookup[i]
        a = math.radians(angle)
        return row["x_pos"] + dist * math.cos(a), row["y_pos"] + dist * math.sin(a)

    att = (df["isAttacker"] == 1).to_numpy()
    if att.any():
        new = df.loc[att, ["coreData_id", "x_pos", "y_pos"]].apply(offset, axis=1,
                                                                   result_type="expand")
        df.loc[att, "x_pos"] = new[0].to_numpy()
        df.loc[att, "y_pos"] = new[1].to_numpy()
        del new
    now = time.perf_counter()
    stages["per-ID offset (apply)"] = now - t
    t = now

    rows_out = len(df)
    n_att = int(att.sum())
    out = dd.from_pandas(df, npartitions=max(1, nparts))
    del df
    out.to_parquet(spec["out_dir"], write_index=False)
    stages["from_pandas + to_parquet"] = time.perf_counter() - t
    return {"rows_out": rows_out, "attacker_rows": n_att, "attacker_ids": len(attackers),
            "ids": len(ids), "partitions": nparts}


# --------------------------------------------------------------------------- blockops

def pipeline_config(path: str, out_dir: str, *, center_lat: float = CENTER_LAT,
                    center_lon: float = CENTER_LON, radius_m: float = DEFAULT_RADIUS_M,
                    ratio: float = ATTACK_RATIO, seed: int = SEED, min_dist: float = MIN_DIST,
                    max_dist: float = MAX_DIST, blocksize: Optional[str] = None) -> dict:
    """The blockops Pipeline config (schema of notes/v2x_spec.md) doing the original's steps."""
    inp: dict[str, Any] = {"path": path, "on_bad_lines": "skip"}
    if blocksize:
        inp["blocksize"] = blocksize
    return {
        "input": inp,
        "clean": {"dropna": True, "timestamps": True},
        "filter": {"kind": "radius", "center_lat": center_lat, "center_lon": center_lon,
                   "radius_m": float(radius_m)},
        "project": {"origin_lat": center_lat, "origin_lon": center_lon},
        "attackers": {"ratio": ratio, "seed": seed, "method": "exact"},
        "attack": {"kind": ATTACK_KIND, "coords": "xy", "min_dist": float(min_dist),
                   "max_dist": float(max_dist), "seed": seed},
        "output": {"dir": out_dir, "overwrite": True},
        "engine": {"kind": "local"},
    }


class NotAvailable(Exception):
    """blockops.v2x (or a function of it) is not in this build."""


def run_blockops(spec: dict, stages: dict) -> dict:
    try:
        from blockops.v2x import Pipeline, PipelineConfig
    except ImportError as exc:
        raise NotAvailable(f"{type(exc).__name__}: {exc}") from exc
    cfg = pipeline_config(spec["path"], spec["out_dir"], center_lat=spec["center_lat"],
                          center_lon=spec["center_lon"], radius_m=spec["radius_m"],
                          ratio=spec["ratio"], seed=spec["seed"], min_dist=spec["min_dist"],
                          max_dist=spec["max_dist"], blocksize=spec.get("blocksize"))
    if spec.get("engine"):
        cfg["engine"] = dict(spec["engine"])
    res = Pipeline(PipelineConfig.from_dict(cfg)).run()
    stages.update({str(k): float(v) for k, v in (res.stage_seconds or {}).items()})
    return {"rows_in": res.rows_in, "rows_out": res.rows_out, "rows_skipped": res.rows_skipped,
            "rows_dropped_na": res.rows_dropped_na, "rows_filtered_out": res.rows_filtered_out,
            "n_attackers": res.n_attackers, "pipeline_seconds": res.seconds,
            "pipeline_peak_rss": res.peak_rss_bytes, "engine": res.engine,
            "worker_peak_rss": dict(res.worker_peak_rss)}


def run_peer(spec: dict, stages: dict) -> dict:
    """The polars or DuckDB side (:mod:`blockops._bench.v2x_peers`)."""
    from .v2x_peers import PEERS, PeerNotAvailable

    try:
        return PEERS[spec["side"]](spec, stages)
    except PeerNotAvailable as exc:
        raise NotAvailable(str(exc)) from exc


# --------------------------------------------------------------------------- micro-benchmark

def _pd_parts(ts_text):
    import pandas as pd

    ts = pd.to_datetime(ts_text, format=TS_FORMAT)
    d = ts.dt
    return pd.DataFrame({"month": d.month, "day": d.day, "year": d.year, "hour": d.hour,
                         "minute": d.minute, "second": d.second,
                         "pm": (d.hour >= 12).astype("int8")})


def _micro_cases(frame):
    """(conversion, implementation, call, result -> comparable dict of arrays) per case."""
    import numpy as np

    ids, pos, ts = frame["coreData_id"], frame["coreData_position"], frame["metadata_generatedAt"]
    pos_frame = frame[["coreData_position"]]
    ts_frame = frame[["metadata_generatedAt"]]
    parts = ["month", "day", "year", "hour", "minute", "second", "pm"]

    def v2x(name):
        try:
            import blockops.v2x as m
        except ImportError as exc:
            raise NotAvailable(f"{type(exc).__name__}: {exc}") from exc
        if not hasattr(m, name):
            raise NotAvailable(f"blockops.v2x has no {name} in this build")
        return getattr(m, name)

    def arr(x):
        return np.asarray(x.to_numpy() if hasattr(x, "to_numpy") else x)

    def bo_hex():
        f = v2x("hex_to_int")
        return lambda: f(ids)

    def bo_point():
        f = v2x("clean")
        return lambda: f(pos_frame, columns=["coreData_position"], dropna=False)

    def bo_parts():
        f = v2x("timestamp_parts")
        return lambda: f(ts_frame)

    return [
        ("hex id -> int64", "pandas .map(lambda s: int(s, 16))",
         lambda: lambda: ids.map(lambda s: int(s, 16)), lambda r: {"id": arr(r).astype(np.int64)}),
        ("hex id -> int64", "blockops.v2x.hex_to_int", bo_hex,
         lambda r: {"id": arr(r).astype(np.int64)}),
        ("POINT -> x_pos, y_pos", "pandas str.extract + astype(float)",
         lambda: lambda: pos.str.extract(POINT_RE).astype("float64"),
         lambda r: {"x": arr(r[0]), "y": arr(r[1])}),
        ("POINT -> x_pos, y_pos", "pandas str.split + astype(float)",
         lambda: lambda: pos.str.slice(7, -1).str.split(" ", n=1, expand=True).astype("float64"),
         lambda r: {"x": arr(r[0]), "y": arr(r[1])}),
        ("POINT -> x_pos, y_pos", "blockops.v2x.clean (POINT only)", bo_point,
         lambda r: {"x": arr(r["x_pos"]), "y": arr(r["y_pos"])}),
        ("timestamp -> 7 parts", "pandas to_datetime(format=) + .dt",
         lambda: lambda: _pd_parts(ts), lambda r: {p: arr(r[p]).astype(np.int64) for p in parts}),
        ("timestamp -> 7 parts", "blockops.v2x.timestamp_parts", bo_parts,
         lambda r: {p: arr(r[p]).astype(np.int64) for p in parts}),
    ]


def run_micro(spec: dict, stages: dict) -> dict:
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pcsv

    cols = ["metadata_generatedAt", "coreData_id", "coreData_position"]
    conv = pcsv.ConvertOptions(include_columns=cols, column_types={c: pa.string() for c in cols},
                               strings_can_be_null=True)
    tbl = pcsv.read_csv(spec["path"], convert_options=conv).drop_null()  # dropna, as the clean
    n = int(spec["micro_rows"])
    if tbl.num_rows == 0:
        raise ValueError("no rows to convert")
    tbl = tbl.take(pa.array(np.arange(n) % tbl.num_rows))  # repeat a small file's rows
    frame = tbl.to_pandas()
    del tbl
    results, ref = [], {}
    for conversion, impl, build, extract in _micro_cases(frame):
        row: dict[str, Any] = {"conversion": conversion, "impl": impl, "rows": n}
        results.append(row)
        try:
            fn = build()
            r = fn()  # first call: warm-up, and the values to check
        except NotAvailable as exc:
            row.update(status="not available", error=str(exc))
            continue
        except Exception as exc:
            row.update(status="failed", error=f"{type(exc).__name__}: {exc}"[:300])
            continue
        got = extract(r)
        del r
        if conversion not in ref:
            ref[conversion] = got
            row["check"] = "reference"
        else:
            want = ref[conversion]
            bad = [k for k in want if got.get(k) is None or got[k].shape != want[k].shape
                   or not np.array_equal(got[k], want[k])]
            row["check"] = "ok (equal to the pandas result)" if not bad else \
                "DIFFERS: " + ", ".join(bad)
        del got
        walls, cpus = [], []
        for _ in range(spec["repeat"]):
            r, wall, cpu = _t.timed_call(fn)
            del r
            walls.append(wall)
            cpus.append(cpu)
        i = walls.index(min(walls))
        row.update(status="ok", best_s=walls[i], cpu_s=cpus[i])
    return {"micro": results}


# --------------------------------------------------------------------------- child side

#: Imported before a side's clock starts, so that its wall time is the work's alone.
_IMPORTS = {
    "original": ("numpy", "pandas", "pyarrow.parquet", "dask.dataframe",
                 "sklearn.model_selection"),
    "blockops": ("numpy", "pandas", "pyarrow.parquet", "blockops.v2x"),
    "blockops-dask": ("numpy", "pandas", "pyarrow.parquet", "blockops.v2x", "dask.dataframe",
                      "distributed"),
    "blockops-ray": ("numpy", "pandas", "pyarrow.parquet", "blockops.v2x", "ray"),
    "polars": ("numpy", "pyarrow.parquet", "polars", "sklearn.model_selection"),
    "duckdb": ("numpy", "pyarrow.parquet", "duckdb", "sklearn.model_selection"),
    "micro": ("numpy", "pandas", "pyarrow.csv", "blockops.v2x"),
    "sleep": (),
}


def _child(spec: dict) -> dict:
    import importlib

    from blockops._monitor import MemoryMonitor
    from blockops.resources import peak_rss  # VmHWM

    out: dict[str, Any] = {"side": spec["side"], "pid": os.getpid()}
    t0 = time.perf_counter()
    for mod in _IMPORTS[spec["side"]]:
        try:
            importlib.import_module(mod)
        except ImportError:
            pass  # the side itself says what is missing
    out["import_s"] = time.perf_counter() - t0
    stages: dict[str, float] = {}
    runner = {"original": run_original, "blockops": run_blockops, "blockops-dask": run_blockops,
              "blockops-ray": run_blockops, "polars": run_peer, "duckdb": run_peer,
              "micro": run_micro, "sleep": _run_sleep}[spec["side"]]
    mon = MemoryMonitor(interval=spec.get("monitor_interval", 0.1))
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    mon.start()
    w0 = time.perf_counter()
    try:
        out.update(runner(spec, stages))
        out["status"] = "ok"
    except NotAvailable as exc:
        out.update(status="not available", error=str(exc))
    finally:
        wall = time.perf_counter() - w0
        mon.stop()
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    out.update(wall_s=wall, cpu_s=(r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime),
               peak_rss=peak_rss(), stages=stages, monitor_peak=mon.peak or 0,
               rss_start=mon.start_rss or 0)
    tl = mon.timeline
    step = max(1, len(tl) // 200)
    out["timeline"] = [(round(s, 3), r) for s, r in tl[::step]]
    if spec.get("plot") and out["status"] == "ok":
        try:
            mon.plot(spec["plot"], title=f"v2x {spec['side']}: RSS over time")
            out["plot"] = spec["plot"]
        except ImportError:
            pass
    return out


def _run_sleep(spec: dict, stages: dict) -> dict:
    """Test helper: hold ``alloc_mb`` MB for ``seconds`` (exercises the watchdog)."""
    buf = bytearray(int(spec.get("alloc_mb", 0)) << 20)
    for i in range(0, len(buf), 4096):  # touch every page so it is resident
        buf[i] = 1
    time.sleep(float(spec.get("seconds", 0)))
    return {"held": len(buf)}


# --------------------------------------------------------------------------- supervision

def _tree_pids(pid: int) -> list[int]:
    """``pid`` and its descendants (Linux /proc/<pid>/task/<tid>/children)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for tid in os.listdir(f"/proc/{p}/task"):
                try:
                    with open(f"/proc/{p}/task/{tid}/children", encoding="ascii") as f:
                        todo.extend(int(c) for c in f.read().split())
                except OSError:
                    pass
        except OSError:
            pass
    return out


_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def tree_rss(pid: int) -> int:
    """Resident bytes of a process and its descendants (0 once it is gone)."""
    total = 0
    for p in _tree_pids(pid):
        try:
            with open(f"/proc/{p}/statm", encoding="ascii") as f:
                total += int(f.read().split()[1]) * _PAGE
        except (OSError, IndexError, ValueError):
            pass
    return total


@dataclass
class Outcome:
    """What :func:`supervise` saw of one child process."""

    status: str                 # ok | failed | timeout | memory | not available
    wall_s: float               # parent-side wall time, interpreter start included
    data: dict = field(default_factory=dict)
    error: str = ""
    peak_tree_rss: int = 0      # highest sampled RSS of the process tree
    rss_at_kill: int = 0
    returncode: Optional[int] = None
    stderr: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def supervise(argv: list[str], *, timeout: float, memory_limit: Optional[int] = None,
              env: Optional[dict] = None, poll: float = 0.1) -> Outcome:
    """Run ``argv`` in a new session; kill its process group past ``timeout`` seconds or when
    the RSS of its process tree exceeds ``memory_limit`` bytes. Never raises for the child's
    failures: they come back in the :class:`Outcome`. The child's result is the last stdout
    line that starts with ``{`` (JSON)."""
    with tempfile.TemporaryDirectory(prefix="blockops-v2x-") as td:
        po, pe = os.path.join(td, "out"), os.path.join(td, "err")
        with open(po, "wb") as fo, open(pe, "wb") as fe:
            t0 = time.perf_counter()
            proc = subprocess.Popen(argv, stdout=fo, stderr=fe, env=env, start_new_session=True)
            status, peak, at_kill = "", 0, 0
            try:
                while True:
                    try:
                        proc.wait(timeout=poll)
                        break
                    except subprocess.TimeoutExpired:
                        pass
                    rss = tree_rss(proc.pid)
                    peak = max(peak, rss)
                    if memory_limit and rss > memory_limit:
                        status, at_kill = "memory", rss
                    elif time.perf_counter() - t0 > timeout:
                        status, at_kill = "timeout", rss
                    if status:
                        _kill_group(proc)
                        break
            finally:
                if proc.poll() is None:  # interrupted (Ctrl-C): do not leave it running
                    _kill_group(proc)
            wall = time.perf_counter() - t0
        with open(po, encoding="utf-8", errors="replace") as f:
            stdout = f.read()
        with open(pe, encoding="utf-8", errors="replace") as f:
            stderr = f.read()
    res = Outcome(status=status or "failed", wall_s=wall, peak_tree_rss=peak,
                  rss_at_kill=at_kill, returncode=proc.returncode, stderr=stderr[-4000:])
    if status == "memory":
        res.error = (f"killed: exceeded the memory limit {_t.format_bytes(memory_limit)} "
                     f"(RSS {_t.format_bytes(at_kill)} at the kill, after {wall:.0f} s)")
        return res
    if status == "timeout":
        res.error = (f"killed: timed out after {timeout:.0f} s (RSS {_t.format_bytes(at_kill)} "
                     f"at the kill)")
        return res
    lines = [ln for ln in stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = stderr.strip().splitlines()
        if proc.returncode is not None and proc.returncode < 0:
            sig = signal.Signals(-proc.returncode).name
            res.error = f"died of {sig}" + (" (out of memory?)" if sig == "SIGKILL" else "")
        else:
            res.error = tail[-1] if tail else f"exit code {proc.returncode}"
        return res
    res.data = json.loads(lines[-1])
    res.status = res.data.get("status", "ok")
    res.error = res.data.get("error", "")
    return res


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the child's own session: pgid == its pid
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def child_argv(spec: dict) -> list[str]:
    return [sys.executable, "-m", "blockops._bench.v2x", "--child", json.dumps(spec)]


# --------------------------------------------------------------------------- output check

@dataclass
class Labels:
    """Row keys (sorted, int64), their isAttacker (int8) and the attacker vehicle count."""

    ids: Any
    labels: Any
    attacker_ids: int

    @property
    def rows(self) -> int:
        return int(self.ids.size)

    @property
    def attacker_rows(self) -> int:
        return int(self.labels.sum())

    def checksum(self) -> str:
        h = hashlib.sha256(self.ids.tobytes())
        h.update(self.labels.tobytes())
        return h.hexdigest()[:16]


def read_labels(out_dir: str) -> Labels:
    """(row key, isAttacker) of a Parquet output directory, sorted by row key."""
    import numpy as np
    import pyarrow.compute as pc
    import pyarrow.dataset as ds

    d = ds.dataset(out_dir, format="parquet")
    names = d.schema.names
    missing = [c for c in (ROW_ID, "isAttacker", "coreData_id") if c not in names]
    if missing:
        raise KeyError(f"output {out_dir} has no column(s) {missing} (it has {names})")
    t = d.to_table(columns=[ROW_ID, "isAttacker", "coreData_id"])
    ids = t.column(ROW_ID).to_numpy().astype(np.int64)
    lab = t.column("isAttacker").to_numpy().astype(np.int8)
    att = t.column("coreData_id").filter(pc.equal(t.column("isAttacker"), 1))
    n_att_ids = len(pc.unique(att))
    order = np.argsort(ids, kind="stable")
    return Labels(ids[order], lab[order], n_att_ids)


def compare(orig: Labels, bo: Labels, *, csv_path: str, center_lat: float, center_lon: float,
            radius_m: float) -> tuple[bool, str]:
    """(ok, text): do both outputs hold the same rows with the same isAttacker?"""
    import numpy as np

    problems = []
    for name, lab in (("original", orig), ("blockops", bo)):
        if lab.rows and np.any(lab.ids[1:] == lab.ids[:-1]):
            problems.append(f"{name} output repeats row keys")
    if orig.checksum() == bo.checksum() and orig.attacker_ids == bo.attacker_ids \
            and not problems:
        return True, (f"ok: same {bo.rows:,} rows and isAttacker (sha256 {bo.checksum()}), "
                      f"{bo.attacker_ids:,} attacker IDs each")
    only_bo = np.setdiff1d(bo.ids, orig.ids, assume_unique=True)
    only_orig = np.setdiff1d(orig.ids, bo.ids, assume_unique=True)
    common, io, ib = np.intersect1d(orig.ids, bo.ids, assume_unique=True, return_indices=True)
    label_diff = int(np.count_nonzero(orig.labels[io] != bo.labels[ib]))
    outside = _outside_crude_box(only_bo, csv_path, center_lat, center_lon, radius_m)
    parts = [f"rows {orig.rows:,} original vs {bo.rows:,} blockops"]
    if only_bo.size:
        parts.append(f"{only_bo.size:,} only in blockops ({outside:,} of them outside the "
                     f"original's crude box)")
    if only_orig.size:
        parts.append(f"{only_orig.size:,} only in the original")
    parts.append(f"isAttacker differs on {label_diff:,} of {common.size:,} common rows")
    if orig.attacker_ids != bo.attacker_ids:
        parts.append(f"attacker IDs {orig.attacker_ids:,} vs {bo.attacker_ids:,}")
    explained = (not problems and only_orig.size == 0 and label_diff == 0
                 and outside == only_bo.size and orig.attacker_ids == bo.attacker_ids)
    text = "; ".join(problems + parts)
    if explained:
        return True, ("ok: same isAttacker on all common rows; the only difference is the "
                      "original's crude box (DOMAIN.md 3): " + text)
    return False, "MISMATCH: " + text


def _positions(row_ids, csv_path: str):
    """(lat, lon) of the rows ``row_ids`` as the CSV has them (read only when a check needs
    to explain a difference)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pcsv

    cols = {ROW_ID: pa.float64(), "coreData_position_lat": pa.float64(),
            "coreData_position_long": pa.float64()}
    t = pcsv.read_csv(csv_path, convert_options=pcsv.ConvertOptions(
        include_columns=list(cols), column_types=cols))
    ids = t.column(ROW_ID).to_numpy(zero_copy_only=False)
    sel = np.isin(ids, row_ids)
    return (t.column("coreData_position_lat").to_numpy(zero_copy_only=False)[sel],
            t.column("coreData_position_long").to_numpy(zero_copy_only=False)[sel])


def _outside_crude_box(row_ids, csv_path: str, center_lat: float, center_lon: float,
                       radius_m: float) -> int:
    """How many of ``row_ids`` lie outside the original's crude box (read from the CSV)."""
    import numpy as np

    if row_ids.size == 0:
        return 0
    lat, lon = _positions(row_ids, csv_path)
    lat_lo, lat_hi, lon_lo, lon_hi = crude_box(center_lat, center_lon, radius_m)
    inside = (lat >= lat_lo) & (lat <= lat_hi) & (lon >= lon_lo) & (lon <= lon_hi)
    return int(np.count_nonzero(~inside))


#: A row this close to the circle (relative to the radius) may fall on either side of it in
#: two correct implementations: blockops compares the haversine term against a precomputed
#: bound (docs/v2x.md: "only points within 1e-9 x radius of the boundary can differ"), the
#: peers compute the distance with their own sin/asin; 1e-6 leaves room for their libm.
EDGE_REL = 1e-6


def _at_edge(row_ids, csv_path: str, center_lat: float, center_lon: float,
             radius_m: float) -> int:
    """How many of ``row_ids`` lie within ``EDGE_REL * radius_m`` of the circle."""
    import numpy as np

    if row_ids.size == 0:
        return 0
    lat, lon = _positions(row_ids, csv_path)
    d = _haversine_np(lat, lon, center_lat, center_lon)
    return int(np.count_nonzero(np.abs(d - radius_m) <= EDGE_REL * radius_m))


def compare_peer(bo: Labels, peer: Labels, *, name: str, csv_path: str, center_lat: float,
                 center_lon: float, radius_m: float) -> tuple[bool, str]:
    """Does the polars or DuckDB output hold blockops' rows with blockops' isAttacker?

    Parameters
    ----------
    bo, peer : Labels
        Row keys and isAttacker of the blockops output and of the peer's (:func:`read_labels`).
    name : str
        The peer's name, for the text.
    csv_path : str
        The input, read only to locate rows that one side kept and the other did not.
    center_lat, center_lon, radius_m : float
        The radius filter both applied.

    Returns
    -------
    (bool, str)
        Whether the outputs agree, and a one-line account. A difference is explained (ok)
        only when every row that one side keeps and the other does not lies on the circle's
        edge (within :data:`EDGE_REL` of the radius), the common rows agree on isAttacker and
        both chose as many attacker IDs.
    """
    import numpy as np

    problems = [f"{n} output repeats row keys" for n, lab in ((name, peer), ("blockops", bo))
                if lab.rows and np.any(lab.ids[1:] == lab.ids[:-1])]
    if peer.checksum() == bo.checksum() and peer.attacker_ids == bo.attacker_ids \
            and not problems:
        return True, (f"ok: same {bo.rows:,} rows and isAttacker as blockops (sha256 "
                      f"{bo.checksum()}), {bo.attacker_ids:,} attacker IDs each")
    only_bo = np.setdiff1d(bo.ids, peer.ids, assume_unique=True)
    only_peer = np.setdiff1d(peer.ids, bo.ids, assume_unique=True)
    common, ip, ib = np.intersect1d(peer.ids, bo.ids, assume_unique=True, return_indices=True)
    label_diff = int(np.count_nonzero(peer.labels[ip] != bo.labels[ib]))
    edge = _at_edge(np.concatenate([only_bo, only_peer]), csv_path, center_lat, center_lon,
                    radius_m)
    parts = [f"rows {peer.rows:,} {name} vs {bo.rows:,} blockops"]
    if only_bo.size or only_peer.size:
        parts.append(f"{only_bo.size:,} only in blockops, {only_peer.size:,} only in {name} "
                     f"({edge:,} of them on the circle's edge)")
    parts.append(f"isAttacker differs on {label_diff:,} of {common.size:,} common rows")
    if peer.attacker_ids != bo.attacker_ids:
        parts.append(f"attacker IDs {peer.attacker_ids:,} vs {bo.attacker_ids:,}")
    explained = (not problems and label_diff == 0 and peer.attacker_ids == bo.attacker_ids
                 and edge == only_bo.size + only_peer.size)
    text = "; ".join(problems + parts)
    if explained:
        return True, "ok: the only difference is rows on the circle's edge: " + text
    return False, "MISMATCH: " + text


def _bits(col):
    """Per-row uint64 of a column's value: the bits of a number, a hash of text."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    t = col.type
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t):
        a = np.ascontiguousarray(col.to_numpy())
        if a.dtype == bool:
            return a.astype(np.uint64)
        return a.view(f"u{a.dtype.itemsize}").astype(np.uint64)
    # text and the rest: hash each distinct value once (few distinct values per column)
    d = pc.dictionary_encode(col).combine_chunks()
    vh = pd.util.hash_array(np.asarray(d.dictionary.to_pylist(), dtype=object))
    idx = pc.fill_null(d.indices, 0).to_numpy(zero_copy_only=False)
    return vh[idx] ^ np.where(pc.is_null(col).to_numpy(zero_copy_only=False),
                              np.uint64(0x9E3779B97F4A7C15), np.uint64(0))


def output_digest(out_dir: str) -> dict:
    """A digest of a blockops Parquet output that does not depend on how its rows are split
    into parts.

    Parameters
    ----------
    out_dir : str
        A pipeline output directory (``part-*.parquet`` with the ``row`` column).

    Returns
    -------
    dict
        ``rows``, ``digest`` (sha256 of the Arrow schema without metadata and, sorted by the
        global row number, a 64-bit mix of every column's bytes per row: numbers by their
        bits, so -0.0 is not 0.0; text by a hash of its value), ``schema`` and
        ``unique_rows``. Two outputs with the same digest are equal bit for bit, up to a hash
        collision. Reads one part at a time and keeps 16 bytes a row.
    """
    import numpy as np
    import pyarrow.parquet as pq

    parts = sorted(glob.glob(os.path.join(glob.escape(out_dir), "part-*.parquet")))
    schema, rows, mixes = None, [], []
    for p in parts:
        t = pq.read_table(p)
        if t.num_rows == 0:
            continue  # an empty part's text columns may read back as another type
        sch = t.schema.remove_metadata()
        if schema is None:
            schema = sch
        elif not sch.equals(schema):
            return {"rows": -1, "digest": f"parts differ in schema: {os.path.basename(p)}",
                    "schema": str(schema)}
        h = np.zeros(t.num_rows, np.uint64)
        for name in t.column_names:
            h = (h ^ _bits(t.column(name))) * np.uint64(0x100000001B3)  # FNV-1a style mix
        rows.append(t.column("row").to_numpy())
        mixes.append(h)
    r = np.concatenate(rows) if rows else np.empty(0, np.int64)
    m = np.concatenate(mixes) if mixes else np.empty(0, np.uint64)
    order = np.argsort(r, kind="stable")
    dig = hashlib.sha256(str(schema).encode())
    dig.update(r[order].tobytes())
    dig.update(m[order].tobytes())
    return {"rows": int(r.size), "digest": dig.hexdigest()[:16], "schema": str(schema),
            "unique_rows": bool(r.size == 0 or np.all(np.diff(r[order]) > 0))}


def compare_digest(local: dict, other: dict, name: str) -> tuple[bool, str]:
    """(ok, text): is the cluster engine's output the local engine's, bit for bit?"""
    if not local.get("unique_rows", True) or not other.get("unique_rows", True):
        return False, "MISMATCH: an output repeats row numbers"
    if local["schema"] != other["schema"]:
        return False, f"MISMATCH: schemas differ ({name} vs local engine)"
    if local["digest"] == other["digest"] and local["rows"] == other["rows"]:
        return True, (f"ok: the local engine's output bit for bit ({other['rows']:,} rows, every "
                      f"column; sha256 {other['digest']})")
    return False, (f"MISMATCH: {other['rows']:,} rows (digest {other['digest']}) vs the local "
                   f"engine's {local['rows']:,} (digest {local['digest']})")


# --------------------------------------------------------------------------- parent side

def parse_count(text: str) -> int:
    """``"15M"`` -> 15_000_000; K, M, G are powers of 1000; plain integers and ``1e6`` too."""
    s = str(text).strip().replace("_", "").replace(",", "")
    mult = {"K": 10**3, "M": 10**6, "G": 10**9}.get(s[-1:].upper(), 1)
    if mult != 1:
        s = s[:-1]
    try:
        v = float(s) * mult
    except ValueError:
        raise ValueError(f"not a row count: {text!r} (e.g. 2000, 1M, 15M)") from None
    if v < 0 or v != int(v):
        raise ValueError(f"not a row count: {text!r}")
    return int(v)


def parse_memory(text: str) -> Optional[int]:
    """``"75%"`` of MemTotal, ``"16GB"``, bytes, or ``"0"`` / ``"none"`` for no limit."""
    s = str(text).strip().lower()
    if s in ("", "0", "none", "off"):
        return None
    if s.endswith("%"):
        return int(float(s[:-1]) / 100.0 * _mem_total_bytes())
    from blockops.io.csv import parse_size

    return int(parse_size(text))


def _mem_total_bytes() -> int:
    """RAM this process may use: MemTotal, or a smaller cgroup limit."""
    from blockops.resources import system_memory

    return int(system_memory().effective_limit)


#: Disk bytes a row takes, measured at 150 M rows (benchmarks/RESULTS.md, session 18): the CSV
#: (42.0 GB), the staged parts a blockops run spills by the end of pass 1 (about 17 GB, the
#: most it holds at once: pass 2 deletes each as its output part is written) and one side's
#: Parquet output (about 11 GB). Rounded up.
CSV_BYTES_PER_ROW, STAGE_BYTES_PER_ROW, OUTPUT_BYTES_PER_ROW = 290, 125, 80


def run_space(rows: int, sides: int, keep_outputs: bool) -> int:
    """About the most disk a run of ``rows`` rows needs at once under --out-dir besides its
    CSV: the staged parts or the output, whichever is larger (pass 2 deletes each staged part
    as its output part is written; each side's output is deleted after it unless kept), and
    the kept outputs of the other sides."""
    need = rows * max(STAGE_BYTES_PER_ROW, OUTPUT_BYTES_PER_ROW)
    if keep_outputs:
        need += rows * OUTPUT_BYTES_PER_ROW * max(0, sides - 1)
    return need


def csv_path(out_dir: str, rows: int, seed: int, null_fraction: float) -> str:
    """Where the generated BSM file of (rows, seed, null fraction) is kept."""
    return os.path.join(out_dir, f"bsm_v2x_{rows}r_seed{seed}_null{null_fraction:g}.csv")


def check_space(out_dir: str, rows_list: list, seed: int, null_fraction: float, sides: int,
                keep_outputs: bool) -> str | None:
    """A message when --out-dir's file system has clearly too little free space for the run
    (a 150 M row run failed at its 590th part with ENOSPC after 80 s), else None. The files
    already generated (complete, with their metadata) count as there."""
    import shutil

    probe = out_dir
    while probe and not os.path.exists(probe):
        probe = os.path.dirname(probe)
    free = shutil.disk_usage(probe or ".").free
    need = 0
    for rows in rows_list:
        path = csv_path(out_dir, rows, seed, null_fraction)
        have = os.path.exists(path) and os.path.exists(path + ".json")
        need += 0 if have else rows * CSV_BYTES_PER_ROW  # every file stays (reused)
    need += max(run_space(r, sides, keep_outputs) for r in rows_list)
    if free >= need:
        return None
    return (f"--out-dir {out_dir!r}: about {need / 1e9:,.1f} GB of disk are needed (the CSV "
            f"files not generated yet, {CSV_BYTES_PER_ROW} bytes a row; then up to "
            f"{max(STAGE_BYTES_PER_ROW, OUTPUT_BYTES_PER_ROW)} bytes a row of staged parts "
            f"or output during a run), {free / 1e9:,.1f} GB are free: free some space or pass "
            "--out-dir on a larger disk")


def ensure_file(out_dir: str, rows: int, seed: int, null_fraction: float, log) -> dict:
    """Generate the BSM file for (rows, seed, null fraction) around the pipeline's centre
    unless a complete one is already there."""
    from blockops.synth import write_bsm_csv

    os.makedirs(out_dir, exist_ok=True)
    path = csv_path(out_dir, rows, seed, null_fraction)
    meta_path = path + ".json"
    key = {"format": 1, "rows": rows, "seed": seed, "null_fraction": null_fraction,
           "center": [CENTER_LAT, CENTER_LON]}
    if os.path.exists(path) and os.path.exists(meta_path):
        with open(meta_path, encoding="utf-8") as f:
            meta = json.load(f)
        if all(meta.get(k) == v for k, v in key.items()) and \
                meta.get("nbytes") == os.path.getsize(path):
            meta["generated"] = False
            log(f"reusing {path}")
            return meta
    log(f"generating {path} ({rows:,} rows) ...")
    r = write_bsm_csv(path, rows=rows, seed=seed, null_fraction=null_fraction,
                      center=(CENTER_LAT, CENTER_LON))
    meta = dict(key, path=path, nbytes=r.nbytes, vehicles=r.vehicles, gen_s=r.seconds)
    with open(meta_path, "w", encoding="utf-8") as f:
        json.dump(meta, f)
    meta["generated"] = True
    log(f"  {r.nbytes / 1e6:,.0f} MB in {r.seconds:.1f} s")
    return meta


@dataclass
class SideRun:
    rows: int
    side: str
    outcome: Outcome
    labels: Optional[Labels] = None
    label_error: str = ""
    digest: Optional[dict] = None  # output_digest of a blockops side, when engines are compared


def run_side(side: str, meta: dict, args, work_dir: str, log, *,
             digest: bool = False) -> SideRun:
    """Run one side on one file in its own supervised process; read back its labels (and, with
    ``digest``, the :func:`output_digest` of a blockops side) before its output is removed."""
    out_dir = os.path.join(work_dir, f"{side}_{meta['rows']}r")
    shutil.rmtree(out_dir, ignore_errors=True)
    spec = {"side": side, "path": meta["path"], "out_dir": out_dir,
            "center_lat": CENTER_LAT, "center_lon": CENTER_LON, "radius_m": args.radius_m,
            "ratio": ATTACK_RATIO, "seed": SEED, "min_dist": MIN_DIST, "max_dist": MAX_DIST,
            "blocksize": args.blocksize}
    if side in ENGINE_SIDES:
        spec["engine"] = {"kind": ENGINE_SIDES[side], "n_workers": args.workers,
                          "memory_limit": args.worker_memory}
    if args.plot_dir:
        os.makedirs(args.plot_dir, exist_ok=True)
        spec["plot"] = os.path.abspath(os.path.join(args.plot_dir,
                                                    f"v2x_{side}_{meta['rows']}r.png"))
    log(f"  {side} [{meta['rows']:,} rows] ...")
    if meta.get("cold"):  # every side starts from the disk, none from its predecessor's cache
        _t.evict_page_cache(meta["path"])
    # nor with an earlier side's (or run's) output still being written back to the same disk
    if hasattr(os, "sync"):
        os.sync()
    oc = supervise(child_argv(spec), timeout=args.timeout, memory_limit=args.memory_limit_bytes)
    run = SideRun(meta["rows"], side, oc)
    if oc.ok:
        try:
            run.labels = read_labels(out_dir)
            if digest and side.startswith("blockops"):
                run.digest = output_digest(out_dir)
        except Exception as exc:
            run.label_error = f"{type(exc).__name__}: {exc}"
        d = oc.data
        w = d.get("worker_peak_rss") or {}
        log(f"    {d['wall_s']:.2f} s, peak RSS {_t.format_bytes(_peak(oc))}"
            + (f" (workers: {_workers_text(w)})" if w else "")
            + f", {d.get('rows_out', 0):,} rows out")
    else:
        log(f"    {oc.status}: {oc.error}")
    if not args.keep_outputs:
        shutil.rmtree(out_dir, ignore_errors=True)
    return run


def _peak(oc: Outcome) -> int:
    """The side's peak RSS: the child's own VmHWM when it finished (a fresh interpreter: its
    peak alone); for a killed child, the watchdog's RSS of its process tree at the kill."""
    if oc.ok and oc.data.get("peak_rss"):
        return int(oc.data["peak_rss"])
    return max(oc.peak_tree_rss, oc.rss_at_kill)


def _workers_text(w: dict) -> str:
    return (f"{len(w)} x max {_t.format_bytes(max(w.values()))}" if w else "")


def _run_peak(oc: Outcome) -> int:
    """Memory of the whole run of a side: its own peak plus each worker's peak (an upper
    bound for the cluster engines, whose workers need not peak at the same moment)."""
    return _peak(oc) + sum((oc.data.get("worker_peak_rss") or {}).values())


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    rc = _t.child_main(argv, _child)
    if rc is not None:
        return rc

    ap = argparse.ArgumentParser(prog="python -m blockops bench v2x", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", default="1M",
                    help="comma-separated row counts of the generated CSVs (default 1M; issue "
                         "18's runs: 1M, 15M, 150M)")
    ap.add_argument("--sides", default=",".join(DEFAULT_SIDES),
                    help=f"comma-separated subset of: {', '.join(SIDES)} (default "
                         f"{','.join(DEFAULT_SIDES)})")
    ap.add_argument("--seed", type=int, default=42, help="generator seed (default 42)")
    ap.add_argument("--null-fraction", type=float, default=0.001,
                    help="share of rows with one empty field, dropped by dropna (default 0.001)")
    ap.add_argument("--radius-m", type=float, default=DEFAULT_RADIUS_M,
                    help=f"radius of the filter about ({CENTER_LAT}, {CENTER_LON}) in metres "
                         f"(default {DEFAULT_RADIUS_M:g}: about half of the rows)")
    ap.add_argument("--blocksize", default=None,
                    help="blockops input blocksize (default: the pipeline's own, from "
                         "blockops.resources.plan()); the original always uses 64MB")
    ap.add_argument("--workers", type=int, default=2,
                    help="worker processes of the blockops-dask / blockops-ray sides "
                         "(default 2)")
    ap.add_argument("--worker-memory", default="2GiB",
                    help="per-worker memory limit of the blockops-dask side (its "
                         "LocalCluster's memory_limit) and per-task memory reservation of "
                         "blockops-ray (default 2GiB)")
    ap.add_argument("--out-dir", default=os.path.join(tempfile.gettempdir(), "blockops-bench"),
                    help="where generated files are kept and reused, and outputs are written "
                         "(default $TMPDIR/blockops-bench)")
    ap.add_argument("--timeout", type=float, default=1800.0,
                    help="seconds per side before its process is killed and reported as did "
                         "not finish (default 1800: 30 minutes)")
    ap.add_argument("--memory-limit", default="20GiB",
                    help="kill a side whose process tree RSS exceeds this and report it as did "
                         "not finish: '20GiB' (default), '75%%' of RAM, or 0 for no limit")
    ap.add_argument("--micro-rows", default="1M",
                    help="values per feature-conversion micro-benchmark (default 1M; 0 skips)")
    ap.add_argument("--repeat", type=int, default=3,
                    help="timed calls per micro-benchmark case after a warm-up (default 3)")
    ap.add_argument("--results", metavar="PATH",
                    help="append the Markdown report to this file (default: print only)")
    ap.add_argument("--plot-dir", metavar="DIR",
                    help="write each side's RSS-over-time PNG here (needs matplotlib)")
    ap.add_argument("--keep", action="store_true",
                    help="keep generated CSVs (default: keep files that existed, delete the "
                         "ones this run generated)")
    ap.add_argument("--cache", choices=("auto", "warm", "cold"), default="auto",
                    help="warm: the CSV is read once before each size, so every side finds it "
                         "in the page cache; cold: it is evicted from the page cache before "
                         "each side (POSIX_FADV_DONTNEED) and the disk's sequential read rate "
                         "on it is measured first, as the floor; auto (default): cold when the "
                         "file is larger than half the RAM")
    ap.add_argument("--keep-outputs", action="store_true",
                    help="keep every side's Parquet output under --out-dir")
    args = ap.parse_args(argv)

    try:
        rows_list = [parse_count(r) for r in args.rows.split(",") if r.strip()]
        micro_rows = parse_count(args.micro_rows)
        args.memory_limit_bytes = parse_memory(args.memory_limit)
        from blockops.io.csv import parse_size

        parse_size(args.worker_memory, "--worker-memory")  # as [engine] memory_limit reads it
    except ValueError as exc:
        ap.error(str(exc))
    sides = [s.strip() for s in args.sides.split(",") if s.strip()]
    if not rows_list or any(r < 1 for r in rows_list):
        ap.error("--rows: give at least one positive row count")
    if any(s not in SIDES for s in sides) or not sides:
        ap.error(f"--sides: choose from {', '.join(SIDES)}")
    if len(set(sides)) != len(sides):
        ap.error("--sides: each side once")
    if args.repeat < 1:
        ap.error("--repeat must be >= 1")
    if args.workers < 1:
        ap.error("--workers must be >= 1")
    if not args.radius_m > 0:
        ap.error("--radius-m must be > 0")
    short = check_space(args.out_dir, rows_list, args.seed, args.null_fraction, len(sides),
                        args.keep_outputs)
    if short:
        ap.error(short)
    # the engines' outputs are compared with the local engine's: it runs first
    if any(s in ENGINE_SIDES for s in sides) and "blockops" in sides:
        sides = ["blockops"] + [s for s in sides if s != "blockops"]

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    cmd = _t.command_line(argv, "python -m blockops bench v2x")
    started = _t.utc_now()
    load0 = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    work_dir = os.path.join(args.out_dir, "v2x-out")
    generated: list[str] = []
    files: list[dict] = []
    runs: list[SideRun] = []
    checks: dict[tuple[int, str], tuple[bool, str]] = {}
    micro: Optional[Outcome] = None
    digest = any(s in ENGINE_SIDES for s in sides)
    try:
        for rows in rows_list:
            meta = ensure_file(args.out_dir, rows, args.seed, args.null_fraction, log)
            if meta["generated"]:
                generated.append(meta["path"])
            files.append(meta)
            meta["cold"] = args.cache == "cold" or (
                args.cache == "auto" and meta["nbytes"] > _mem_total_bytes() // 2)
            if meta["cold"]:
                # the floor: the disk's own sequential read rate on this file, in this run
                meta["cold_read_s"] = _t.cold_read_seconds(meta["path"])
                meta["cached_after_evict"] = _t.cached_bytes(meta["path"])
                log(f"  cold read: {meta['nbytes'] / meta['cold_read_s'] / 1e6:,.0f} MB/s "
                    f"({meta['cold_read_s']:.1f} s); cached after eviction: "
                    f"{meta['cached_after_evict']}")
            else:
                _warm(meta["path"])
            by_side = {s: run_side(s, meta, args, work_dir, log, digest=digest) for s in sides}
            runs.extend(by_side.values())
            for s in sides:
                if s != "blockops":
                    checks[(rows, s)] = _check(s, by_side, meta, args)
                    log(f"  check {s}: {checks[(rows, s)][1]}")
        if micro_rows:
            log(f"  feature conversions [{micro_rows:,} values] ...")
            spec = {"side": "micro", "path": files[0]["path"], "micro_rows": micro_rows,
                    "repeat": args.repeat}
            micro = supervise(child_argv(spec), timeout=args.timeout,
                              memory_limit=args.memory_limit_bytes)
            if not micro.ok:
                log(f"    {micro.status}: {micro.error}")
    finally:
        if not args.keep:
            for p in generated:
                for q in (p, p + ".json"):
                    try:
                        os.remove(q)
                    except OSError:
                        pass
        if not args.keep_outputs:
            shutil.rmtree(work_dir, ignore_errors=True)
    load1 = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")

    report = render_report(runs, checks, micro, files, args, cmd, started, load0, load1)
    print(report)
    if args.results:
        with open(args.results, "a", encoding="utf-8") as f:
            f.write("\n" + report + "\n")
    # a peer that did not finish is a result; blockops (any engine) failing is not
    bad_bo = [r for r in runs if r.side.startswith("blockops") and r.outcome.status not in
              ("ok", "not available")]
    bad_check = [t for ok, t in checks.values() if not ok]
    return 1 if bad_bo or bad_check else 0


def _check(side: str, by_side: dict, meta: dict, args) -> tuple[bool, str]:
    """(ok, text) of one side's output against the blockops (local engine) side's."""
    r, b = by_side.get(side), by_side.get("blockops")
    for x in (r, b):
        if x is not None and x.outcome.ok and x.labels is None:
            return False, f"{x.side} output unreadable: {x.label_error}"
    if b is None:
        return True, "no blockops side: nothing to compare"
    if not (r.outcome.ok and b.outcome.ok):
        down = [x.side + " " + x.outcome.status for x in (r, b) if not x.outcome.ok]
        return True, "not compared (" + ", ".join(down) + ")"
    kw = dict(csv_path=meta["path"], center_lat=CENTER_LAT, center_lon=CENTER_LON,
              radius_m=args.radius_m)
    if side == "original":
        return compare(r.labels, b.labels, **kw)
    if side in ENGINE_SIDES:
        if r.digest is None or b.digest is None:
            return False, "no digest of the outputs"
        return compare_digest(b.digest, r.digest, side)
    return compare_peer(b.labels, r.labels, name=side, **kw)


# --------------------------------------------------------------------------- report
def _fmt_s(x: Optional[float]) -> str:
    return "" if x is None else (f"{x:.3f}" if x < 10 else f"{x:.1f}")


def _fmt_rate(x: float) -> str:
    return f"{x / 1e6:,.1f} M" if x >= 1e6 else f"{x / 1e3:,.0f} K"


def _did_not_finish(oc: Outcome, args) -> str:
    cap = {"memory": f"memory cap {_t.format_bytes(args.memory_limit_bytes or 0)}",
           "timeout": f"time cap {args.timeout:.0f} s"}[oc.status]
    return f"did not finish ({cap}): {oc.error[:200]}"


def _versus(r: SideRun, bo: Optional[SideRun]) -> tuple[str, str]:
    """(time, RSS) of a side as multiples of the blockops side's; '> x' for a side that was
    killed (its time and RSS at the kill are lower bounds)."""
    if bo is None or r.side == "blockops" or not bo.outcome.ok:
        return "", ""
    oc, b = r.outcome, bo.outcome
    if oc.ok:
        return (f"{oc.data['wall_s'] / b.data['wall_s']:.1f}x",
                f"{_run_peak(oc) / max(1, _peak(b)):.1f}x")
    if oc.status in ("memory", "timeout"):
        return (f"> {oc.wall_s / b.data['wall_s']:.1f}x",
                f"> {oc.rss_at_kill / max(1, _peak(b)):.1f}x")
    return "", ""


def render_report(runs: list[SideRun], checks: dict, micro: Optional[Outcome], files: list[dict],
                  args, cmd: str, started: str, load0: float, load1: float) -> str:
    """The Markdown report: one table row per (size, side), targets, stages, conditions.

    ``checks`` maps (rows, side) to the (ok, text) of that side's output check."""
    import blockops

    sides = list(dict.fromkeys(r.side for r in runs))
    out = [f"### V2X pipeline benchmark ({', '.join(sides)}), {started}", ""]
    header = ["rows", "side", "status", "wall s", "MB/s", "of disk rate", "peak RSS",
              "worker peak RSS", "rows out", "attacker rows", "attacker IDs",
              "time vs blockops", "RSS vs blockops", "check"]
    align = ["<", "<", "<", ">", ">", ">", ">", ">", ">", ">", ">", ">", ">", "<"]
    table = []
    stage_lines = []
    for meta in files:
        n = meta["rows"]
        group = [r for r in runs if r.rows == n]
        bo = next((r for r in group if r.side == "blockops"), None)
        for r in group:
            oc = r.outcome
            t_vs, rss_vs = _versus(r, bo)
            if not oc.ok:
                killed = oc.status in ("memory", "timeout")
                status = _did_not_finish(oc, args) if killed else \
                    oc.status + ((": " + oc.error[:200]) if oc.error else "")
                table.append([f"{n:,}", r.side, status, _fmt_s(oc.wall_s) if killed else "",
                              "", "", _t.format_bytes(_peak(oc)) if killed else "", "", "", "",
                              "", t_vs, rss_vs, ""])
                continue
            d = oc.data
            lab = r.labels
            w = d.get("worker_peak_rss") or {}
            check = "reference" if r.side == "blockops" else checks.get((n, r.side),
                                                                        (True, ""))[1]
            rate = meta["nbytes"] / d["wall_s"] / 1e6
            table.append([
                f"{n:,}", r.side, "ok", _fmt_s(d["wall_s"]), f"{rate:,.0f}",
                f"{rate / _disk_rate(meta):.2f}" if meta.get("cold_read_s") else "",
                _t.format_bytes(_peak(oc)),
                _workers_text(w), f"{lab.rows:,}" if lab else f"{d.get('rows_out', 0):,}",
                f"{lab.attacker_rows:,}" if lab else "",
                f"{lab.attacker_ids:,}" if lab else "", t_vs, rss_vs,
                (r.label_error and "output unreadable: " + r.label_error) or check])
            if d.get("stages"):
                st = "; ".join(f"{k} {v:.2f} s" for k, v in d["stages"].items())
                extra = ""
                if w:
                    extra = "; worker peak RSS " + ", ".join(
                        f"{k} {_t.format_bytes(v)}" for k, v in w.items())
                if "rows_filtered_out" in d:  # a blockops side: where every row went
                    extra += (f"; rows in {d['rows_in']:,} = out {d['rows_out']:,} + skipped "
                              f"{d['rows_skipped']:,} + dropped (NA) {d['rows_dropped_na']:,} "
                              f"+ filtered out {d['rows_filtered_out']:,}")
                stage_lines.append(f"- {n:,} rows, {r.side}: {st} (CPU {d['cpu_s']:.1f} s, "
                                   f"{d['cpu_s'] / d['wall_s']:.2f} CPUs used; RSS after "
                                   f"imports {_t.format_bytes(d.get('rss_start', 0))}{extra})")
    out.append(_t.markdown_table(header, table, align))
    out.append("")
    targets = _targets(runs, files)
    if targets:
        out += ["Targets (issues 4 and 18): " + "; ".join(targets), ""]
    if stage_lines:
        out += ["Stages (seconds inside each side's process; CPU of the side's own process, "
                "not of its workers):", ""] + stage_lines + [""]

    if micro is not None:
        out += _micro_table(micro)

    cfg = blockops.config_info() if hasattr(blockops, "config_info") else {}
    versions = []
    for mod in ("pandas", "pyarrow", "dask", "sklearn", "numpy", "polars", "duckdb", "ray"):
        try:
            versions.append(f"{mod} {__import__(mod).__version__}")
        except Exception:
            versions.append(f"{mod} not installed")
    limit = args.memory_limit_bytes
    out += [
        f"- date: {started}; command: `{cmd}`",
        f"- machine: {_t.cpu_model()}; {_t.effective_cpus()} usable CPUs; "
        f"{_mem_total_bytes() / 2**30:.0f} GiB; {platform.system()} {platform.release()}; "
        f"load average (1 min) {load0:.2f} at start, {load1:.2f} at end",
        f"- python {platform.python_version()}; blockops {blockops.__version__} (simd "
        f"{cfg.get('simd_selected', '?')}, openmp {cfg.get('openmp', '?')}, default threads "
        f"{cfg.get('default_threads', '?')}); " + "; ".join(versions),
        "- data: " + "; ".join(
            f"{m['rows']:,} rows, {m['nbytes'] / 1e6:,.0f} MB, {m['vehicles']:,} vehicle IDs"
            + ("" if m.get("generated") else " (reused)") for m in files)
        + f"; blockops.synth.write_bsm_csv(seed={args.seed}, null_fraction="
        f"{args.null_fraction:g}, center=({CENTER_LAT}, {CENTER_LON}))",
        f"- steps (every side): read CSV, clean (19 columns, dropna, POINT -> x/y, timestamp "
        f"parts), radius {args.radius_m:g} m about ({CENTER_LAT}, {CENTER_LON}), projection to "
        f"metres about that centre, attackers (sorted unique IDs, train_test_split test_size="
        f"{ATTACK_RATIO}, random_state={SEED}), per-ID constant offset with random direction "
        f"({MIN_DIST}-{MAX_DIST} m, xy), Parquet output. original: the Dask port's "
        f"pattern (module docstring of blockops._bench.v2x): read_csv 64MB blocks -> "
        f"map_partitions clean/filter/project -> unique IDs .compute() -> .compute() -> per-ID "
        f"dict + DataFrame.apply(axis=1) on the attacker rows -> from_pandas -> to_parquet, "
        f"threaded scheduler. blockops: blockops.v2x.Pipeline with the equivalent config "
        f"(blocksize {args.blocksize or 'default'}); blockops-dask / blockops-ray: the same on "
        f"[engine] kind = dask (LocalCluster, {args.workers} single-threaded worker processes, "
        f"memory_limit {args.worker_memory} each) / ray (ray.init(num_cpus={args.workers})). "
        f"polars, duckdb: blockops._bench.v2x_peers (two passes over the CSV: unique IDs, "
        f"then the job; polars sink_parquet on the streaming engine, DuckDB COPY TO with "
        f"preserve_insertion_order = false as its performance guide advises; otherwise each "
        f"tool's default threads and memory settings).",
        "- wall s: inside the side's process, from the first read to the written output "
        "(interpreter start and imports excluded; a cluster engine's includes starting its "
        "cluster). peak RSS: the side's own process, VmHWM read by the process itself; worker "
        "peak RSS: each worker process's VmHWM as its tasks report it. time / RSS vs blockops: "
        "the side's wall time and memory as multiples of the blockops (local engine) side's; "
        "a cluster engine's memory is its own peak plus every worker's (an upper bound); "
        "'> x' for a side that did not finish (its time and RSS at the kill).",
        f"- each side in its own fresh process, one run each; a side is killed past "
        f"{args.timeout:.0f} s or "
        + (f"{_t.format_bytes(limit)} RSS of its process tree" if limit else
           "(no memory limit)")
        + " and reported as did not finish, with its RSS at the kill. "
        + " ".join(_cache_text(m) for m in files)
        + " MB/s: the CSV's bytes / wall s; of disk rate: that / the cold read rate.",
        "- check (against blockops): original, polars, duckdb must hold the same rows "
        "(metadata_serialId_serialNumber) with the same isAttacker (sha256 of the sorted "
        "pairs); attack offsets differ by design (different random streams). Rows that only "
        "blockops keeps and that lie outside the original's crude prefilter box (narrower than "
        "the circle in latitude by 0.1 %, a known fault), or that lie within 1e-6 of the "
        "radius from the circle (polars, duckdb), are reported as explained. blockops-dask and "
        "blockops-ray must equal the local engine's output bit for bit (schema and every "
        "column of every row, output_digest).",
    ]
    return "\n".join(out)


def _disk_rate(meta: dict) -> float:
    """The disk's cold sequential read rate on the file, MB/s (the floor of every side)."""
    return meta["nbytes"] / meta["cold_read_s"] / 1e6


def _cache_text(meta: dict) -> str:
    if not meta.get("cold"):
        return f"{meta['rows']:,} rows: the CSV is in the page cache (read once before)."
    left = meta.get("cached_after_evict")
    return (f"{meta['rows']:,} rows: read cold, evicted from the page cache "
            f"(POSIX_FADV_DONTNEED) before each side"
            + (f" ({left / 1e6:,.0f} MB still cached after the eviction, fincore)"
               if left is not None else "")
            + f"; the disk reads it at {_disk_rate(meta):,.0f} MB/s (16 MiB reads, "
              f"{meta['cold_read_s']:.1f} s, measured first in this run).")


def _targets(runs: list[SideRun], files: list[dict]) -> list[str]:
    """Issue 4: blockops >= 15x faster than the original. Issue 18: peak RSS <= 1 GiB from
    15 M rows on; blockops ahead of every peer in wall time at every size, its peak RSS the
    lowest from 15 M rows on (a peer that did not finish is behind on both)."""
    out = []
    peers = ("original",) + PEER_SIDES
    for meta in files:
        n = meta["rows"]
        bo = next((r for r in runs if r.rows == n and r.side == "blockops" and r.outcome.ok),
                  None)
        if bo is None:
            continue
        peak, wall = _peak(bo.outcome), bo.outcome.data["wall_s"]
        s = f"{n:,} rows: blockops peak RSS {_t.format_bytes(peak)}"
        if n >= 15_000_000:
            s += " (target <= 1 GiB: " + ("met" if peak <= 2**30 else "NOT met") + ")"
        if meta.get("cold_read_s"):
            rate = meta["nbytes"] / wall / 1e6
            frac = rate / _disk_rate(meta)
            s += (f", {rate:,.0f} MB/s read cold (target >= 500: "
                  + ("met" if rate >= 500 else "NOT met") + f"), {frac:.2f} of the disk's "
                  f"{_disk_rate(meta):,.0f} MB/s (target >= 0.75: "
                  + ("met" if frac >= 0.75 else "NOT met") + ")")
        orig = next((r for r in runs if r.rows == n and r.side == "original" and r.outcome.ok),
                    None)
        if orig is not None:
            sp = orig.outcome.data["wall_s"] / wall
            s += f", {sp:.1f}x faster than the original (target >= 15x: " + \
                ("met" if sp >= 15 else "NOT met") + ")"
        ran = [r for r in runs if r.rows == n and r.side in peers and
               (r.outcome.ok or r.outcome.status in ("memory", "timeout"))]
        if ran:
            slower = [r.side for r in ran if r.outcome.ok and r.outcome.data["wall_s"] <= wall]
            s += ("; ahead of every peer in wall time (" + ", ".join(r.side for r in ran)
                  + "): " + ("met" if not slower else "NOT met (" + ", ".join(slower) + ")"))
            if n >= 15_000_000:
                lower = [r.side for r in ran if r.outcome.ok and _peak(r.outcome) <= peak]
                s += ("; lowest peak RSS: " +
                      ("met" if not lower else "NOT met (" + ", ".join(lower) + ")"))
        out.append(s)
    return out


def _micro_table(micro: Outcome) -> list[str]:
    out = ["Feature conversions (one process; best of the timed calls after a warm-up; "
           "'per CPU' = values / CPU seconds of the call, target >= 50 M/s per core for "
           "blockops):", ""]
    if not micro.ok:
        return out + [f"micro-benchmark {micro.status}: {micro.error}", ""]
    header = ["conversion", "implementation", "values", "best s", "values/s", "CPUs used",
              "values/s per CPU", "vs pandas", "check"]
    rows = []
    base: dict[str, float] = {}
    for r in micro.data["micro"]:
        if r.get("status") != "ok":
            rows.append([r["conversion"], r["impl"], f"{r['rows']:,}", "", "", "", "", "",
                         f"{r.get('status')}: {r.get('error', '')[:200]}"])
            continue
        per_cpu = r["rows"] / r["cpu_s"] if r["cpu_s"] > 0 else float("nan")
        if r["impl"].startswith("pandas") and r["conversion"] not in base:
            base[r["conversion"]] = r["best_s"]
        b = base.get(r["conversion"])
        rows.append([r["conversion"], r["impl"], f"{r['rows']:,}", _fmt_s(r["best_s"]),
                     _fmt_rate(r["rows"] / r["best_s"]), f"{r['cpu_s'] / r['best_s']:.2f}",
                     _fmt_rate(per_cpu) if per_cpu == per_cpu else "",
                     f"{b / r['best_s']:.1f}x" if b and not r["impl"].startswith("pandas")
                     else "", r.get("check", "")])
    out.append(_t.markdown_table(header, rows, ["<", "<", ">", ">", ">", ">", ">", ">", "<"]))
    out.append("")
    return out


if __name__ == "__main__":
    sys.exit(main())
