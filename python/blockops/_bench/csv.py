"""``python -m blockops bench csv``: the blockops CSV reader against what users run today.

Generates (or reuses, keyed by size and seed) a Basic Safety Message CSV in the Wyoming
export format with :func:`blockops.synth.write_bsm_csv` (1 GB by default), then reads it,
with the same columns and the same types for everyone, with:

* blockops ``read_csv`` (one frame) and ``CsvBlockReader`` (iterate blocks, discard them);
* ``pandas.read_csv`` (C engine) and ``pandas.read_csv(engine="pyarrow")``;
* ``pyarrow.csv.read_csv`` (an Arrow table; also with ``.to_pandas()``) and
  ``pyarrow.csv.open_csv`` (streaming record batches);
* polars ``read_csv``, ``scan_csv(...).collect(engine="streaming")`` and
  ``scan_csv(...).collect_batches()`` (streaming);
* ``dask.dataframe.read_csv(path, blocksize="64MB").compute()``, and a streaming-style
  reduction over its partitions (``map_partitions`` + ``compute``);
* pandas ``read_csv(chunksize=...)`` (streaming), and a raw ``readinto`` of the file bytes
  as the I/O floor.

Every reader runs in its own fresh interpreter (a subprocess), so the peak RSS reported
(``VmHWM`` of that process) is the reader's own. In that process the reader runs once
untimed-for-ranking (the "first run", which includes one-time initialisation), then
``--repeat`` times; the best is reported. The file is in the page cache (it was just written or
read): cold-cache reads are not measured (dropping the cache needs root).

Every reader must return the same number of rows as were generated, with the requested columns
in order and the requested types, and the same values on a sample of rows; the expected values
come from the generator itself (:func:`blockops.synth.bsm_rows_text`), not from any reader.
A reader that does less work (fewer rows, other types) is flagged in the ``check`` column.

``--compression gzip,zstd`` adds the decompression benchmark (issue 16's target: the reader on a
compressed file at >= 90% of the decompressor's single-core rate): the same file compressed
(gzip level 6, one member; zstd level 3, frames of 16 MiB, written by pyarrow) and reused like
the plain one, then read by each codec's bare decompressors on one core (the library stack
blockops uses, and the fastest other one installed; they only count line breaks) and by
``CsvBlockReader`` streaming the compressed file (iterate, discard), each in its own process.
Rates are decompressed bytes per second; "vs fastest decompressor" is the fastest bare
decompressor's time over the reader's. ``--rounds N`` runs the decompressors and the reader N
times, alternating, and takes the median of the rounds' ratios as the verdict (on a machine
whose speed drifts between processes one round can fall either side of the target).
``--readers ''`` leaves out the plain-file table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from . import timing as _t

# --------------------------------------------------------------------------- projections

STR, I64, F64 = "str", "int64", "float64"

#: The columns of the classifier's "with timestamps" feature set (DOMAIN.md, step 6) before
#: conversion: timestamp and hex id as text, positions from the lat/long columns.
PIPELINE_COLUMNS: dict[str, str] = {
    "metadata_generatedAt": STR,
    "coreData_id": STR,
    "coreData_secMark": I64,
    "coreData_position_lat": F64,
    "coreData_position_long": F64,
    "coreData_accuracy_semiMajor": F64,
    "coreData_accuracy_semiMinor": F64,
    "coreData_elevation": F64,
    "coreData_accelset_accelYaw": F64,
    "coreData_speed": F64,
    "coreData_heading": I64,
}

#: All 19 columns, in file order: text for timestamps, ids, record type and POINT.
ALL_COLUMNS: dict[str, str] = {
    "metadata_generatedAt": STR,
    "metadata_recordType": STR,
    "metadata_serialId_streamId": STR,
    "metadata_serialId_bundleSize": I64,
    "metadata_serialId_bundleId": I64,
    "metadata_serialId_recordId": I64,
    "metadata_serialId_serialNumber": I64,
    "metadata_receivedAt": STR,
    "coreData_id": STR,
    "coreData_secMark": I64,
    "coreData_position_lat": F64,
    "coreData_position_long": F64,
    "coreData_accuracy_semiMajor": F64,
    "coreData_accuracy_semiMinor": F64,
    "coreData_elevation": F64,
    "coreData_accelset_accelYaw": F64,
    "coreData_speed": F64,
    "coreData_heading": I64,
    "coreData_position": STR,
}

PROJECTIONS = {"pipeline": PIPELINE_COLUMNS, "all": ALL_COLUMNS}

BLOCK_BYTES = 64 * 10**6  # "64MB": dask's blocksize in the original pipeline, blockops' default


@dataclass(frozen=True)
class Reader:
    key: str
    label: str
    streaming: bool
    notes: str = ""


READERS: dict[str, Reader] = {r.key: r for r in [
    Reader("blockops", "blockops.io.read_csv", False),
    Reader("pandas", "pandas.read_csv (C engine)", False),
    Reader("pandas-pyarrow", 'pandas.read_csv(engine="pyarrow")', False),
    Reader("pyarrow", "pyarrow.csv.read_csv (Arrow table)", False),
    Reader("pyarrow-pandas", "pyarrow.csv.read_csv + .to_pandas()", False),
    Reader("polars", "polars.read_csv", False),
    Reader("polars-streaming", 'polars.scan_csv.collect(engine="streaming")', False),
    Reader("dask", 'dask read_csv(blocksize="64MB").compute()', False),
    Reader("blockops-stream", "blockops.io.CsvBlockReader (iterate, discard)", True),
    Reader("pandas-chunks", "pandas.read_csv(chunksize=...) (iterate)", True),
    Reader("pyarrow-stream", "pyarrow.csv.open_csv (iterate batches)", True),
    Reader("polars-batches", "polars.scan_csv.collect_batches() (iterate)", True),
    Reader("dask-reduce", 'dask read_csv(blocksize="64MB").map_partitions(...).compute()', True),
    Reader("bytes", "raw file.readinto, 64 MB buffer (I/O floor)", True),
]}
DEFAULT_READERS = list(READERS)

#: --compression: the bare single-core decompressors of each codec: Python's gzip module and
#: zlib.decompressobj (what blockops' gzip stream uses, without its Python layer); pyarrow's
#: zstd stream (blockops') and zstandard, when installed. They decompress into one reused 1 MiB
#: buffer and count line breaks (the row check); nothing else.
DECOMPRESSORS: dict[str, list[Reader]] = {
    "gzip": [Reader("gzip-module", "gzip.GzipFile.readinto (Python's gzip module)", True),
             Reader("zlib", "zlib.decompressobj (bare inflate; blockops' gzip stream)", True)],
    "zstd": [Reader("pyarrow-zstd", "pyarrow CompressedInputStream (blockops' zstd stream)", True),
             Reader("zstandard", "zstandard stream_reader", True)],
}
#: File endings of the compressed copies (blockops infers the codec from them).
CODEC_EXT = {"gzip": ".gz", "zstd": ".zst"}
_RAW_READERS = {"bytes"} | {r.key for rs in DECOMPRESSORS.values() for r in rs}
#: Readers whose peak RSS is measured at two file sizes (--stream-sizes).
STREAM_RSS_READERS = ["blockops-stream", "pandas-chunks", "pyarrow-stream", "polars-batches",
                      "dask-reduce"]


# --------------------------------------------------------------------------- child side

# VmHWM / VmRSS of the reader's own process (shared with the other benchmarks)
_peak_rss_bytes = _t.self_peak_rss
_rss_bytes = _t.self_rss


def _norm(v: Any, kind: str) -> Any:
    """A JSON-able, exact form of one value: floats as float.hex, NA as None."""
    if v is None:
        return None
    try:
        if v != v:  # NaN / pd.NA raise or are unequal
            return None
    except (TypeError, ValueError):
        return None
    if kind == F64:
        return float(v).hex()
    if kind == I64:
        return int(v)
    return str(v)


def _sample_frame(df, pos: list[int], cols: dict[str, str], offset: int = 0) -> dict[int, list]:
    """Sampled rows of a pandas / polars / Arrow block whose first row is global ``offset``."""
    n = len(df) if not hasattr(df, "num_rows") else df.num_rows
    want = [p for p in pos if offset <= p < offset + n]
    if not want:
        return {}
    local = [p - offset for p in want]
    names = list(cols)
    mod = type(df).__module__
    if mod.startswith("pandas"):
        sub = df.iloc[local]
        values = [sub[c].tolist() for c in names]
    elif mod.startswith("polars"):
        sub = df[local]
        values = [sub[c].to_list() for c in names]
    elif mod.startswith("pyarrow"):
        import pyarrow as pa

        sub = df.take(pa.array(local))
        values = [sub.column(c).to_pylist() for c in names]
    elif isinstance(df, dict):  # blockops as_arrays
        values = [[df[c][i] for i in local] for c in names]
    else:
        raise TypeError(f"cannot sample a {type(df)!r}")
    return {p: [_norm(values[j][r], cols[c]) for j, c in enumerate(names)]
            for r, p in enumerate(want)}


def _describe_types(obj) -> list[str]:
    mod = type(obj).__module__
    if mod.startswith("pandas"):
        return [str(t) for t in obj.dtypes]
    if mod.startswith("polars"):
        return [str(t) for t in obj.dtypes]
    if mod.startswith("pyarrow"):
        return [str(f.type) for f in obj.schema]
    return []


def _names(obj) -> list[str]:
    mod = type(obj).__module__
    if mod.startswith("pyarrow"):
        return list(obj.schema.names)
    return [str(c) for c in obj.columns]


def _type_ok(typename: str, kind: str) -> bool:
    t = typename.lower()
    if kind == F64:
        return t in ("float64", "double")
    if kind == I64:
        return t == "int64"
    return t in ("str", "string", "large_string", "string_view", "object") or "string" in t


class _Acc:
    """What a streaming reader keeps: row count, sampled rows, first block's schema."""

    def __init__(self, pos: list[int], cols: dict[str, str]) -> None:
        self.pos, self.cols = pos, cols
        self.rows = 0
        self.blocks = 0
        self.samples: dict[int, list] = {}
        self.types: list[str] = []
        self.names: list[str] = []

    def add(self, block) -> None:
        n = len(block) if not hasattr(block, "num_rows") else block.num_rows
        if self.blocks == 0:
            self.types, self.names = _describe_types(block), _names(block)
        self.samples.update(_sample_frame(block, self.pos, self.cols, self.rows))
        self.rows += n
        self.blocks += 1


def _build(key: str, path: str, cols: dict[str, str], threads: Optional[int],
           pos: list[int], row_bytes: float) -> Callable[[], Any]:
    """Import the reader's library and return a call that reads the whole file once."""
    names = list(cols)
    if key in ("blockops", "blockops-stream"):
        import blockops.io as bio

        missing = [n for n in ("read_csv", "CsvBlockReader") if not hasattr(bio, n)]
        if missing:
            raise RuntimeError(
                f"blockops.io has no {' / '.join(missing)}: the CSV reader (issue 3) is not in "
                f"this build of blockops ({os.path.dirname(bio.__file__)}); merge it and reinstall")
        dtypes = {c: ("str" if k == STR else k) for c, k in cols.items()}
        if key == "blockops":
            return lambda: bio.read_csv(path, columns=names, dtypes=dtypes, n_threads=threads)

        def stream():
            acc = _Acc(pos, cols)
            with bio.CsvBlockReader(path, columns=names, dtypes=dtypes, blocksize=BLOCK_BYTES,
                                    n_threads=threads) as r:
                for block in r:
                    acc.add(block)
            return acc
        return stream

    if key in ("pandas", "pandas-pyarrow", "pandas-chunks"):
        import pandas as pd

        if threads is not None and key == "pandas-pyarrow":
            import pyarrow as pa

            pa.set_cpu_count(threads)
        dtypes = {c: k for c, k in cols.items()}
        if key == "pandas":
            return lambda: pd.read_csv(path, usecols=names, dtype=dtypes, engine="c")[names]
        if key == "pandas-pyarrow":
            return lambda: pd.read_csv(path, usecols=names, dtype=dtypes, engine="pyarrow")[names]
        chunk = max(1, int(BLOCK_BYTES / row_bytes))

        def chunks():
            acc = _Acc(pos, cols)
            with pd.read_csv(path, usecols=names, dtype=dtypes, engine="c",
                             chunksize=chunk) as it:
                for block in it:
                    acc.add(block[names])
            return acc
        return chunks

    if key in ("pyarrow", "pyarrow-pandas", "pyarrow-stream"):
        import pyarrow as pa
        import pyarrow.csv as pcsv

        if threads is not None:
            pa.set_cpu_count(threads)
        typ = {STR: pa.string(), I64: pa.int64(), F64: pa.float64()}
        conv = pcsv.ConvertOptions(include_columns=names,
                                   column_types={c: typ[k] for c, k in cols.items()})
        if key == "pyarrow":
            return lambda: pcsv.read_csv(path, convert_options=conv)
        if key == "pyarrow-pandas":
            return lambda: pcsv.read_csv(path, convert_options=conv).to_pandas()
        ropt = pcsv.ReadOptions(block_size=BLOCK_BYTES)

        def stream():
            acc = _Acc(pos, cols)
            with pcsv.open_csv(path, read_options=ropt, convert_options=conv) as r:
                for batch in r:
                    acc.add(batch)
            return acc
        return stream

    if key in ("polars", "polars-streaming", "polars-batches"):
        import polars as pl  # POLARS_MAX_THREADS is set in the environment by the parent

        typ = {STR: pl.String, I64: pl.Int64, F64: pl.Float64}
        schema = {c: typ[k] for c, k in cols.items()}
        if key == "polars":
            return lambda: pl.read_csv(path, columns=names, schema_overrides=schema)
        lf = pl.scan_csv(path, schema_overrides=schema).select(names)
        if key == "polars-streaming":
            return lambda: lf.collect(engine="streaming")
        chunk = max(1, int(BLOCK_BYTES / row_bytes))

        def batches():
            acc = _Acc(pos, cols)
            for df in lf.collect_batches(chunk_size=chunk, engine="streaming"):
                acc.add(df)
            return acc
        return batches

    if key in ("dask", "dask-reduce"):
        import dask.dataframe as dd

        dtypes = {c: k for c, k in cols.items()}
        kw = {"scheduler": "threads"}
        if threads is not None:
            kw["num_workers"] = threads

        def ddf():
            return dd.read_csv(path, blocksize=BLOCK_BYTES, usecols=names, dtype=dtypes)[names]
        if key == "dask":
            return lambda: ddf().compute(**kw)

        def reduce():
            # What a streaming Dask job does: one small result per partition, each partition
            # freed when done. Global row numbers are unknown inside a partition, so it returns
            # its length and its first and last rows (every column), checked in the parent.
            import pandas as pd

            def part(df):
                ends = [0, len(df) - 1] if len(df) else []
                s = _sample_frame(df, ends, cols)
                return pd.Series([json.dumps([len(df), s.get(0), s.get(len(df) - 1),
                                              _describe_types(df), _names(df)])])
            out = ddf().map_partitions(part, meta=(None, "object")).compute(**kw)
            acc = _Acc(pos, cols)
            for js in out.tolist():
                n, first, last, types, nms = json.loads(js)
                if acc.blocks == 0:
                    acc.types, acc.names = types, nms
                if n:
                    acc.samples[acc.rows] = first
                    acc.samples[acc.rows + n - 1] = last
                acc.rows += n
                acc.blocks += 1
            return acc
        return reduce

    if key == "bytes":
        def raw():
            acc = _Acc(pos, cols)
            buf = bytearray(BLOCK_BYTES)
            with open(path, "rb", buffering=0) as f:
                while True:
                    n = f.readinto(buf)
                    if not n:
                        break
                    acc.rows += buf.count(b"\n", 0, n)
                    acc.blocks += 1
            acc.rows -= 1  # header
            return acc
        return raw
    if key in ("gzip-module", "zlib", "pyarrow-zstd", "zstandard"):
        return _decompressor(key, path)
    raise ValueError(f"unknown reader {key!r}")


def _decompressor(key: str, path: str) -> Callable[[], Any]:
    """One bare decompression of ``path`` on this thread into a reused 1 MiB buffer, counting
    line breaks (the BSM file has none inside quotes: rows = breaks - header)."""
    piece = 1 << 20

    def streamed(open_stream):
        def run():
            acc = _Acc([], {})
            buf = bytearray(piece)
            mv = memoryview(buf)
            with open_stream() as f:
                while True:
                    n = f.readinto(mv)
                    if not n:
                        break
                    acc.rows += buf.count(b"\n", 0, n)
                    acc.blocks += 1
            acc.rows -= 1
            return acc
        return run

    if key == "gzip-module":
        import gzip

        return streamed(lambda: gzip.open(path, "rb"))
    if key == "pyarrow-zstd":
        import pyarrow as pa

        return streamed(lambda: pa.CompressedInputStream(pa.OSFile(path, "rb"), "zstd"))
    if key == "zstandard":
        import zstandard

        def open_z():
            f = open(path, "rb")  # noqa: SIM115 - the stream reader owns it (closefd)
            return zstandard.ZstdDecompressor().stream_reader(f, read_across_frames=True,
                                                              closefd=True)
        return streamed(open_z)
    import zlib

    def inflate():
        acc = _Acc([], {})
        with open(path, "rb", buffering=0) as f:
            d = zlib.decompressobj(31)
            while True:
                chunk = f.read(piece)
                if not chunk:
                    break
                while chunk:
                    out = d.decompress(chunk, piece)
                    acc.rows += out.count(b"\n")
                    acc.blocks += 1
                    chunk = d.unconsumed_tail
                    if d.eof:  # the next gzip member (cat a.gz b.gz), as gzip readers go on
                        chunk = d.unused_data + chunk
                        d = zlib.decompressobj(31)
                        if not chunk:
                            break
            acc.rows += d.flush().count(b"\n")
        acc.rows -= 1
        return acc
    return inflate


def _child(spec: dict) -> dict:
    key, path, cols = spec["reader"], spec["path"], spec["columns"]
    pos, repeat = spec["sample_rows"], spec["repeat"]
    out: dict[str, Any] = {"reader": key, "pid": os.getpid()}
    t0 = time.perf_counter()
    fn = _build(key, path, cols, spec["threads"], pos, spec["row_bytes"])
    out["import_s"] = time.perf_counter() - t0
    out["rss_base"] = _rss_bytes()
    out["threads_default"] = _library_threads(key)

    def run():
        return _t.timed_call(fn)

    from blockops.resources import MemoryMonitor

    mon = MemoryMonitor(interval=0.05)
    mon.start()
    res, wall, cpu = run()
    out["first_s"], out["first_cpu_s"] = wall, cpu
    if isinstance(res, _Acc):
        out.update(rows=res.rows, blocks=res.blocks, samples=res.samples,
                   types=res.types, names=res.names)
    else:
        out.update(rows=len(res) if not hasattr(res, "num_rows") else res.num_rows,
                   samples=_sample_frame(res, pos, cols), types=_describe_types(res),
                   names=_names(res), result_type=f"{type(res).__module__}.{type(res).__name__}")
    del res
    times, cpus, rows_each = [], [], []
    for _ in range(repeat):
        res, wall, cpu = run()
        rows_each.append(res.rows if isinstance(res, _Acc) else
                         (len(res) if not hasattr(res, "num_rows") else res.num_rows))
        del res
        times.append(wall)
        cpus.append(cpu)
    mon.stop()
    out["times"], out["cpus"], out["rows_each"] = times, cpus, rows_each
    # the monitor's peak folds in VmHWM (imports included) with its own samples of the calls
    out["peak_rss"] = max(_peak_rss_bytes(), mon.peak or 0)
    return out


def _library_threads(key: str) -> str:
    if key in _RAW_READERS:  # one thread, whatever the library's pool size
        return "1"
    try:
        if key.startswith("blockops"):
            import blockops

            return str(blockops.get_num_threads())
        if key.startswith("pyarrow") or key == "pandas-pyarrow":
            import pyarrow as pa

            return str(pa.cpu_count())
        if key.startswith("polars"):
            import polars as pl

            return str(pl.thread_pool_size())
        if key.startswith("dask"):
            return str(os.cpu_count())
        if key in ("pandas", "pandas-chunks"):
            return "1"
    except Exception:  # pragma: no cover - reporting only
        pass
    return "?"


# --------------------------------------------------------------------------- parent side

@dataclass
class Result:
    reader: Reader
    projection: str
    path: str
    nbytes: int
    threads_cfg: str = ""
    ok: bool = False
    error: str = ""
    data: dict = field(default_factory=dict)
    check: str = ""
    codec: str = ""  # the decompression table's codec
    round: int = 0  # the decompression table's round (--rounds)

    @property
    def best(self) -> Optional[float]:
        t = self.data.get("times") or [self.data.get("first_s")]
        return min(t) if t and t[0] is not None else None

    @property
    def best_cpu(self) -> Optional[float]:
        t = self.data.get("times") or []
        if not t:
            return self.data.get("first_cpu_s")
        return self.data["cpus"][t.index(min(t))]


def _run_child(spec: dict, env_extra: dict, timeout: float) -> tuple[bool, dict, str]:
    return _t.run_child("blockops._bench.csv", spec, env_extra, timeout)


def _expected(meta: dict, pos: list[int], cols: dict[str, str]) -> dict[int, list]:
    from blockops.synth import BSM_COLUMNS, bsm_rows_text

    texts = bsm_rows_text(pos, seed=meta["seed"], vehicles=meta["vehicles"])
    idx = [BSM_COLUMNS.index(c) for c in cols]
    out = {}
    for p, fields in zip(pos, texts):
        row = []
        for j, (c, k) in zip(idx, cols.items()):
            s = fields[j]
            row.append(None if s == "" else float(s).hex() if k == F64 else
                       int(s) if k == I64 else s)
        out[p] = row
    return out


def _check(res: Result, expected: dict[int, list], rows: int, cols: dict[str, str]) -> str:
    d = res.data
    problems = []
    if d.get("rows") != rows or any(r != rows for r in d.get("rows_each", [])):
        problems.append(f"rows {d.get('rows')} != {rows}")
    if res.reader.key in _RAW_READERS:
        return "; ".join(problems) or "ok (rows)"
    if d.get("names") != list(cols):
        problems.append(f"columns {d.get('names')}")
    bad_types = [f"{c}:{t}" for (c, k), t in zip(cols.items(), d.get("types", []))
                 if not _type_ok(t, k)]
    if bad_types:
        problems.append("types " + ", ".join(bad_types))
    got = {int(k): v for k, v in d.get("samples", {}).items()}
    if res.reader.key == "dask-reduce":  # samples the first and last row of each partition
        missing = [] if len(got) >= 2 else ["first/last"]
    else:
        missing = [p for p in expected if p not in got]
    diff_cols = set()
    for p, row in expected.items():
        if p in got:
            for c, a, b in zip(cols, row, got[p]):
                if a != b:
                    diff_cols.add(c)
    if missing:
        problems.append(f"{len(missing)} sampled rows missing")
    if diff_cols:
        problems.append("values differ: " + ", ".join(sorted(diff_cols)))
    compared = sum(p in got for p in expected)
    return "; ".join(problems) or f"ok ({compared} rows sampled)"


def _ensure_file(out_dir: str, nbytes: int, seed: int, log) -> dict:
    """Generate the BSM file for (size, seed) unless a complete one is already there."""
    from blockops.synth import write_bsm_csv

    os.makedirs(out_dir, exist_ok=True)
    name = f"bsm_{nbytes}B_seed{seed}.csv"
    path = os.path.join(out_dir, name)
    meta_path = path + ".json"
    if os.path.exists(path) and os.path.exists(meta_path):
        with open(meta_path, encoding="utf-8") as f:
            meta = json.load(f)
        if meta.get("nbytes") == os.path.getsize(path) and meta.get("format") == 1:
            meta["generated"] = False
            log(f"reusing {path} ({meta['rows']:,} rows)")
            return meta
    log(f"generating {path} ...")
    r = write_bsm_csv(path, nbytes=nbytes, seed=seed)
    meta = {"format": 1, "path": path, "rows": r.rows, "nbytes": r.nbytes, "seed": seed,
            "vehicles": r.vehicles, "gen_s": r.seconds}
    with open(meta_path, "w", encoding="utf-8") as f:
        json.dump(meta, f)
    meta["generated"] = True
    log(f"  {r.rows:,} rows, {r.nbytes / 1e6:,.0f} MB in {r.seconds:.1f} s")
    return meta


_warm = _t.warm_page_cache  # read once: every reader finds the file in the page cache


def _fmt_s(x: Optional[float]) -> str:
    return "" if x is None else (f"{x:.3f}" if x < 10 else f"{x:.2f}")


def _sample_positions(rows: int, k: int, seed: int) -> list[int]:
    import numpy as np

    if rows <= 0:
        return []
    rng = np.random.default_rng([seed, 0xC5B])
    pos = {0, rows - 1}
    pos.update(int(p) for p in rng.integers(0, rows, k))
    return sorted(pos)


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    rc = _t.child_main(argv, _child)
    if rc is not None:
        return rc

    ap = argparse.ArgumentParser(prog="python -m blockops bench csv", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", default="1GB", help="file size to generate (default 1GB)")
    ap.add_argument("--seed", type=int, default=42, help="generator seed (default 42)")
    ap.add_argument("--out-dir", default=os.path.join(tempfile.gettempdir(), "blockops-bench"),
                    help="where generated files are kept and reused (default $TMPDIR/blockops-bench)")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per reader after the first")
    ap.add_argument("--rounds", type=int, default=1,
                    help="--compression: run the decompressors and the reader this many times, "
                    "alternating; the verdict is the median of the rounds' ratios (each "
                    "round's reader against that round's fastest decompressor), so a drift of "
                    "the machine's speed between processes weighs less")
    ap.add_argument("--readers", default=",".join(DEFAULT_READERS),
                    help="comma-separated subset of: " + ", ".join(READERS) +
                    " ('' for none: the decompression table only)")
    ap.add_argument("--compression", default="",
                    help="comma-separated codecs (gzip, zstd): also read the file compressed, "
                         "with the bare decompressors and blockops' streaming reader "
                         "(decompressed MB/s, and the reader's rate against the fastest "
                         "single-core decompressor; target >= 0.90)")
    ap.add_argument("--projections", default="pipeline",
                    help="comma-separated: pipeline (11 columns), all (19 columns)")
    ap.add_argument("--threads", type=int, default=None,
                    help="threads for every reader that takes a thread count (default: each "
                         "library's default)")
    ap.add_argument("--stream-sizes", default="0.25GB,1GB",
                    help="file sizes at which the streaming readers' peak RSS is measured "
                         "('' to skip)")
    ap.add_argument("--stream-readers", default=",".join(STREAM_RSS_READERS),
                    help="readers for the streaming peak-RSS table")
    ap.add_argument("--samples", type=int, default=30, help="rows whose values are checked")
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds per reader process")
    ap.add_argument("--markdown", metavar="PATH", help="also write the report as Markdown")
    ap.add_argument("--keep", action="store_true", help="keep generated files (default: keep "
                    "files that existed, delete the ones this run generated)")
    args = ap.parse_args(argv)

    from blockops.synth import parse_size

    readers = [r.strip() for r in args.readers.split(",") if r.strip()]
    unknown = [r for r in readers if r not in READERS]
    projections = [p.strip() for p in args.projections.split(",") if p.strip()]
    stream_readers = [r.strip() for r in args.stream_readers.split(",") if r.strip()]
    if unknown or any(r not in READERS for r in stream_readers):
        ap.error(f"unknown reader(s); choose from {', '.join(READERS)}")
    if any(p not in PROJECTIONS for p in projections):
        ap.error("projections: pipeline, all")
    if args.repeat < 1:
        ap.error("--repeat must be >= 1")
    codecs = [c.strip() for c in args.compression.split(",") if c.strip()]
    if any(c not in DECOMPRESSORS for c in codecs):
        ap.error(f"--compression: choose from {', '.join(DECOMPRESSORS)}")
    size = parse_size(args.size)
    stream_sizes = [parse_size(s) for s in args.stream_sizes.split(",") if s.strip()]

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    cmd = _t.command_line(argv, "python -m blockops bench csv")
    started = _t.utc_now()
    load0 = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    env_threads = {}
    if args.threads is not None:
        env_threads["POLARS_MAX_THREADS"] = str(args.threads)
    generated: list[str] = []
    files: dict[int, dict] = {}

    def get_file(nb: int) -> dict:
        if nb not in files:
            meta = _ensure_file(args.out_dir, nb, args.seed, log)
            if meta["generated"]:
                generated.append(meta["path"])
            files[nb] = meta
        return files[nb]

    def run(reader: Reader, meta: dict, proj: str, repeat: int, path: str | None = None) -> Result:
        cols = PROJECTIONS[proj]
        pos = _sample_positions(meta["rows"], args.samples, args.seed)
        spec = {"reader": reader.key, "path": path or meta["path"], "columns": cols,
                "threads": args.threads, "sample_rows": pos, "repeat": repeat,
                "row_bytes": meta["nbytes"] / max(1, meta["rows"])}
        log(f"  {reader.key} [{proj}, {meta['nbytes'] / 1e9:.2f} GB"
            f"{', ' + os.path.basename(path) if path else ''}] ...")
        ok, data, err = _run_child(spec, env_threads, args.timeout)
        res = Result(reader, proj, spec["path"], meta["nbytes"], ok=ok, error=err, data=data)
        if ok:
            res.threads_cfg = (str(args.threads) if args.threads is not None and
                               reader.key not in ("pandas", "pandas-chunks")
                               and reader.key not in _RAW_READERS
                               else data.get("threads_default", "?"))
            got = sorted(int(k) for k in data.get("samples", {}))
            want = sorted(set(pos) | {p for p in got if 0 <= p < meta["rows"]})
            res.check = _check(res, _expected(meta, want, cols), meta["rows"], cols)
            log(f"    best {res.best or 0:.3f} s, first {data['first_s']:.3f} s, peak RSS "
                f"{_t.format_bytes(data['peak_rss'])}, {res.check}")
        else:
            log(f"    FAILED: {err}")
        return res

    results: list[Result] = []
    stream_results: list[Result] = []
    decomp_results: list[Result] = []
    compressed: dict[str, dict] = {}
    try:
        meta = get_file(size)
        warm_s = _warm(meta["path"])
        for proj in projections:
            for key in readers:
                results.append(run(READERS[key], meta, proj, args.repeat))
        for nb in stream_sizes:
            m = get_file(nb)
            _warm(m["path"])
            for key in stream_readers:  # a fresh process and a single call per size
                stream_results.append(run(READERS[key], m, projections[0], 0))
        for codec in codecs:
            cmeta = _ensure_compressed(meta, codec, log)
            if cmeta["generated"]:
                generated.append(cmeta["path"])
            compressed[codec] = cmeta
            _warm(cmeta["path"])
            for rnd in range(max(1, args.rounds)):
                for reader in DECOMPRESSORS[codec] + [READERS["blockops-stream"]]:
                    if reader.key == "zstandard" and not _importable("zstandard"):
                        if not rnd:
                            log("  zstandard is not installed: skipped")
                        continue
                    r = run(reader, meta, projections[0], args.repeat, path=cmeta["path"])
                    r.codec, r.round = codec, rnd
                    decomp_results.append(r)
    finally:
        if not args.keep:
            for p in generated:
                for q in (p, p + ".json"):
                    try:
                        os.remove(q)
                    except OSError:
                        pass
    load1 = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")

    report = _report(results, stream_results, meta, files, projections, args, cmd, started,
                     load0, load1, warm_s, generated, decomp_results, compressed)
    print(report)
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as f:
            f.write(report + "\n")
    everything = results + stream_results + decomp_results
    bo_failed = [r for r in everything if r.reader.key.startswith("blockops") and not r.ok]
    if bo_failed:
        log("blockops reader failed: " + bo_failed[0].error)
        return 1
    return 0 if all(r.ok for r in everything) else 2


def _report(results, stream_results, meta, files, projections, args, cmd, started, load0, load1,
            warm_s, generated, decomp_results=(), compressed=None) -> str:
    import blockops

    mb = meta["nbytes"] / 1e6
    out = [f"### CSV reader benchmark, {started}", ""]
    if results:
        _plain_table(out, results, projections, mb)
    if decomp_results:
        _decompression_table(out, decomp_results, compressed or {}, mb)
    _stream_table(out, stream_results)
    _notes(out, blockops, meta, projections, args, cmd, started, load0, load1, warm_s,
           bool(results), compressed or {})
    return "\n".join(out)


def _plain_table(out, results, projections, mb) -> None:
    header = ["columns", "reader", "threads", "first run s", "best s", "MB/s", "CPUs used",
              "MB/s per CPU", "vs blockops", "peak RSS", "rows", "check"]
    align = ["<", "<", ">", ">", ">", ">", ">", ">", ">", ">", ">", "<"]
    rows = []
    for proj in projections:
        group = [r for r in results if r.projection == proj]
        base = {s: next((r.best for r in group if r.ok and
                         r.reader.key == ("blockops-stream" if s else "blockops")), None)
                for s in (False, True)}
        for r in group:
            name = r.reader.label
            if not r.ok:
                rows.append([proj, name, "", "", "", "", "", "", "", "", "",
                             "FAILED: " + r.error[:160]])
                continue
            d = r.data
            best, cpu = r.best, r.best_cpu
            used = cpu / best if best else float("nan")
            b = base[r.reader.streaming]
            rows.append([
                proj + (" (stream)" if r.reader.streaming else ""), name, r.threads_cfg,
                _fmt_s(d["first_s"]), _fmt_s(best), f"{mb / best:,.0f}", f"{used:.2f}",
                f"{mb / cpu:,.0f}" if cpu else "",
                "" if b is None or r.reader.key == "bytes" else f"{best / b:.2f}x",
                _t.format_bytes(d["peak_rss"]), f"{d['rows']:,}", r.check])
    out.append(_t.markdown_table(header, rows, align))
    out.append("")


def _decompression_table(out, decomp_results, compressed, mb) -> None:
    """Per codec: the bare decompressors and blockops' streaming reader on the compressed file,
    in decompressed MB/s, and each against the fastest bare decompressor (the target: the
    reader at >= 0.90 of it)."""
    header = ["codec", "reader", "threads", "best s", "MB/s (decompressed)", "CPUs used",
              "vs fastest decompressor", "peak RSS", "rows", "check"]
    align = ["<", "<", ">", ">", ">", ">", ">", ">", ">", "<"]
    rows = []
    verdicts = []
    for codec in dict.fromkeys(r.codec for r in decomp_results):
        every = [r for r in decomp_results if r.codec == codec]
        # the table: each reader's best round; the verdict: the median of the rounds' ratios
        rounds = sorted({r.round for r in every})
        per_round = []
        for rnd in rounds:
            g = [r for r in every if r.round == rnd and r.ok and r.best]
            bare_r = [r.best for r in g if r.reader.key in _RAW_READERS]
            bo = [r.best for r in g if r.reader.key == "blockops-stream"]
            if bare_r and bo:
                per_round.append(min(bare_r) / bo[0])
        group = []
        for key in dict.fromkeys(r.reader.key for r in every):
            rs = [r for r in every if r.reader.key == key]
            ok = [r for r in rs if r.ok and r.best]
            group.append(min(ok, key=lambda r: r.best) if ok else rs[0])
        bare = [r.best for r in group if r.ok and r.reader.key in _RAW_READERS and r.best]
        fastest = min(bare) if bare else None
        c = compressed.get(codec, {})
        for r in group:
            name = r.reader.label
            if not r.ok:
                rows.append([codec, name, "", "", "", "", "", "", "", "FAILED: " + r.error[:160]])
                continue
            best, cpu = r.best, r.best_cpu
            ratio = fastest / best if fastest and best else None
            rows.append([codec, name, r.threads_cfg, _fmt_s(best), f"{mb / best:,.0f}",
                         f"{cpu / best:.2f}" if best else "",
                         "" if ratio is None else f"{ratio:.2f}",
                         _t.format_bytes(r.data["peak_rss"]), f"{r.data['rows']:,}", r.check])
            if r.reader.key == "blockops-stream" and ratio is not None:
                if len(per_round) > 1:
                    med = statistics.median(per_round)
                    verdicts.append(
                        f"{codec}: blockops at {med:.2f} of the fastest single-core decompressor, "
                        f"the median of {len(per_round)} alternating rounds ("
                        + ", ".join(f"{x:.2f}" for x in per_round) + "; "
                        f"{'meets' if med >= 0.90 else 'misses'} the >= 0.90 target; the table "
                        f"shows each reader's best round); file "
                        f"{c.get('nbytes', 0) / 1e6:,.0f} MB compressed ({c.get('how', '')})")
                else:
                    verdicts.append(
                        f"{codec}: blockops at {ratio:.2f} of the fastest single-core "
                        f"decompressor ({'meets' if ratio >= 0.90 else 'misses'} the >= 0.90 "
                        f"target); file {c.get('nbytes', 0) / 1e6:,.0f} MB compressed "
                        f"({c.get('how', '')})")
    out.append("Decompression: the compressed file through each codec's bare decompressors "
               "(one core) and blockops' streaming reader (MB/s of decompressed CSV):")
    out.append("")
    out.append(_t.markdown_table(header, rows, align))
    out.append("")
    out += [f"- {v}" for v in verdicts]
    if verdicts:
        out.append("")


def _stream_table(out, stream_results) -> None:
    if stream_results:
        out.append("Streaming peak RSS against file size (a fresh process and one call per "
                   "size; VmHWM of the process, imports included):")
        out.append("")
        sizes = sorted({r.nbytes for r in stream_results})
        sh = ["reader"] + [f"peak RSS, {_fmt_size(s)} file" for s in sizes] + \
             ["base RSS (after import)", "check"]
        srows = []
        for key in dict.fromkeys(r.reader.key for r in stream_results):
            cells = [READERS[key].label]
            base_rss, checks = "", []
            for s in sizes:
                r = next((x for x in stream_results if x.reader.key == key and x.nbytes == s), None)
                if r is None or not r.ok:
                    cells.append("FAILED" if r is not None else "")
                    checks.append(r.error[:80] if r is not None else "")
                else:
                    cells.append(_t.format_bytes(r.data["peak_rss"]))
                    base_rss = _t.format_bytes(r.data["rss_base"])
                    checks.append(r.check.split(" (")[0])
            srows.append(cells + [base_rss, "; ".join(sorted(set(checks)))])
        out.append(_t.markdown_table(sh, srows, ["<"] + [">"] * (len(sizes) + 1) + ["<"]))
        out.append("")


def _notes(out, blockops, meta, projections, args, cmd, started, load0, load1, warm_s,
           plain: bool, compressed) -> None:
    cfg = blockops.config_info() if hasattr(blockops, "config_info") else {}
    versions = []
    for mod in ("pandas", "pyarrow", "polars", "dask", "numpy") + (
            ("zstandard",) if "zstd" in compressed else ()):
        try:
            versions.append(f"{mod} {__import__(mod).__version__}")
        except Exception:
            versions.append(f"{mod} not installed")
    out += [
        f"- date: {started}; command: `{cmd}`",
        f"- machine: {_t.cpu_model()}; {_t.effective_cpus()} usable CPUs; "
        f"{_mem_total_gib():.0f} GiB; {platform.system()} {platform.release()}; "
        f"load average (1 min) {load0:.2f} at start, {load1:.2f} at end (other work on the "
        f"machine skews the numbers)",
        f"- python {platform.python_version()}; blockops {blockops.__version__}"
        f" (simd {cfg.get('simd_selected', '?')}, openmp {cfg.get('openmp', '?')}, default "
        f"threads {cfg.get('default_threads', '?')});"
        f" " + "; ".join(versions),
        f"- data: {meta['path']}: {meta['rows']:,} rows, {meta['nbytes']:,} bytes "
        f"({meta['nbytes'] / meta['rows']:.0f} B/row), {meta['vehicles']:,} vehicle IDs, seed "
        f"{meta['seed']}; written by blockops.synth.write_bsm_csv"
        + (f" in {meta['gen_s']:.1f} s" if meta.get("gen_s") else "")
        + ("" if meta.get("generated") else " (reused)"),
    ]
    if plain:
        out += _plain_notes(meta, args, warm_s)
    if compressed:
        out.append(
            "- decompression: " + "; ".join(f"{c['path']} ({c['nbytes']:,} bytes, {c['how']})"
                                            for c in compressed.values())
            + ". The bare decompressors run on one core (their libraries' single-threaded "
            "streams into a reused 1 MiB buffer, counting line breaks for the row check); "
            "blockops' CsvBlockReader streams the compressed file (the first --projections "
            "columns, 'pipeline' by default) "
            "(its read-ahead thread decompresses while the others parse). Each reader runs in "
            f"its own fresh process, best of {args.repeat} calls after a first one; the "
            "compressed file is in the page cache. MB/s = decompressed bytes / best wall time; "
            "'vs fastest decompressor' = fastest bare decompressor's time / this reader's time "
            "(issue 16's target for blockops: >= 0.90).")


def _plain_notes(meta, args, warm_s) -> list[str]:
    return [
        "- columns 'pipeline': " + ", ".join(f"{c} {k}" for c, k in PIPELINE_COLUMNS.items())
        + "; 'all': the 19 columns (timestamps, ids, record type and POINT as str, the serial "
        "fields, secMark and heading int64, the rest float64). Every reader is given these names "
        "and types (pandas/dask `usecols` + `dtype`, pyarrow `include_columns` + `column_types`, "
        "polars `columns`/`select` + `schema_overrides`, blockops `columns` + `dtypes`).",
        f"- timing: each reader in its own fresh Python process; 'first run' is its first call "
        f"(libraries imported before, one-time initialisation included); 'best' is the best of "
        f"{args.repeat} further calls. The file is in the page cache for all of them (read once "
        f"before the first reader, {meta['nbytes'] / 1e6 / warm_s:,.0f} MB/s); cold-cache reads "
        f"are not measured. Results are dropped between calls.",
        "- MB/s = file bytes / best wall time (every reader scans the whole file). 'CPUs used' = "
        "(user + system CPU time of the process) / wall time of the best call; 'MB/s per CPU' = "
        "file MB / CPU seconds. 'vs blockops' = time / blockops time (read_csv for whole-file "
        "readers, CsvBlockReader for streaming ones); > 1 means slower than blockops.",
        "- peak RSS: VmHWM of the reader's process over all its calls (imports included).",
        "- streaming readers keep nothing but a row count and the sampled rows; block size "
        "64 MB (blockops blocksize, pyarrow block_size, dask blocksize) or the rows of 64 MB "
        "(pandas chunksize, polars collect_batches chunk_size). dask uses its threaded scheduler"
        "; the streaming variant computes one small result per partition.",
        f"- check: every reader's row count on every call equals the generated count; the column "
        f"names, order and types are the requested ones (any string dtype counts as str); and "
        f"{args.samples} random rows plus the first and last have exactly the values that "
        f"blockops.synth.bsm_rows_text rebuilds from the generator (floats compared bit for bit).",
        "- threads: 'threads' is the reader's thread setting (its library default unless "
        "--threads); pandas' C engine is single-threaded.",
    ]


def _ensure_compressed(meta: dict, codec: str, log) -> dict:
    """The benchmark file compressed with ``codec`` beside it, reused while the plain file and
    the recipe are the same: gzip level 6 (the gzip tool's default), one member; zstd level 3
    (the zstd tool's default) in frames of 16 MiB (pyarrow's codec: no extra dependency; a
    multi-frame file is one stream to every reader)."""
    path = meta["path"] + CODEC_EXT[codec]
    meta_path = path + ".json"
    how = {"gzip": "gzip level 6, one member (Python's gzip)",
           "zstd": "zstd level 3, 16 MiB frames (pyarrow)"}[codec]
    if os.path.exists(path) and os.path.exists(meta_path):
        with open(meta_path, encoding="utf-8") as f:
            m = json.load(f)
        if (m.get("source_nbytes") == meta["nbytes"] and m.get("how") == how
                and m.get("nbytes") == os.path.getsize(path)):
            log(f"reusing {path}")
            return dict(m, generated=False)
    log(f"compressing {meta['path']} ({how}) ...")
    t0 = time.perf_counter()
    chunk = 16 << 20
    tmp = path + f".{os.getpid()}.tmp"
    with open(meta["path"], "rb") as src:
        if codec == "gzip":
            import gzip

            with gzip.open(tmp, "wb", compresslevel=6) as dst:
                while True:
                    b = src.read(chunk)
                    if not b:
                        break
                    dst.write(b)
        else:
            import pyarrow as pa

            zc = pa.Codec("zstd", compression_level=3)
            with open(tmp, "wb") as dst:
                while True:
                    b = src.read(chunk)
                    if not b:
                        break
                    dst.write(zc.compress(b, asbytes=True))
    os.replace(tmp, path)
    m = {"path": path, "nbytes": os.path.getsize(path), "source_nbytes": meta["nbytes"],
         "how": how, "seconds": time.perf_counter() - t0}
    with open(meta_path, "w", encoding="utf-8") as f:
        json.dump(m, f)
    log(f"  {m['nbytes'] / 1e6:,.0f} MB in {m['seconds']:.1f} s")
    return dict(m, generated=True)


def _importable(mod: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(mod) is not None


def _fmt_size(nbytes: int) -> str:
    return f"{nbytes / 1e9:.2f} GB" if nbytes >= 10**9 else f"{nbytes / 1e6:,.0f} MB"


_mem_total_gib = _t.mem_total_gib


if __name__ == "__main__":
    sys.exit(main())
