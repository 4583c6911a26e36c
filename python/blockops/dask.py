"""Dask integrations: :func:`read_csv` (the block-chunked C reader as a Dask DataFrame) and
:func:`barrier_labels` (label kernels with overlap across partitions).

Dask is imported lazily, when a function here is called; install it with
``pip install "blockops[dask]"``.
"""
from __future__ import annotations

import os
from typing import Any

import numpy as np

from . import labels as _labels
from .io import _csv_split as _split
from .io import csv as _csv
from .io._csv_sources import _FsRange

__all__ = ["barrier_labels", "plan_csv_partitions", "read_csv"]


def plan_csv_partitions(paths, *, blocksize, header=True, delimiter=",", quotechar='"'):
    """Split local files into row-aligned byte ranges of about ``blocksize`` bytes.

    One streaming pass per file (in C, tracking quote state) finds, for every multiple of
    ``blocksize``, the first row that starts at or after it, so a range never starts inside a
    quoted field, even one holding newlines (``dask.dataframe.read_csv`` splits at the first
    newline and gets those wrong). The same pass counts rows and lines, which gives every
    range its first global row number (hence known divisions) and its first line number (for
    error messages). A range holding blank lines only is left out.

    Returns a list of ``(path, start, end, first_row, first_line)`` and the total row count.
    """
    from . import _core

    parts = []
    row0 = 0
    for path in paths:
        size = os.path.getsize(path)
        targets = np.arange(0, size, blocksize, dtype=np.uint64)
        targets = targets[1:] if len(targets) else targets
        found = np.full(len(targets), -1, dtype=np.int64)
        rows_before = np.zeros(len(targets), dtype=np.int64)
        lines_before = np.zeros(len(targets), dtype=np.int64)
        scanner = _core.csv_scan_new(delimiter, quotechar)
        with open(path, "rb", buffering=0) as f:
            while True:
                buf = f.read(_split.SCAN_BYTES)
                if not buf:
                    break
                _core.csv_scan_feed(scanner, buf, len(buf), targets, found, rows_before,
                                    lines_before)
            total_rows, _, _ = _core.csv_scan_finish(scanner)
            f.seek(0)
            start = _split.data_start(f.read, header, delimiter, quotechar)
        p, n = _split.file_parts(os.fspath(path), size, start,
                                 zip(found, rows_before, lines_before), total_rows, header, row0)
        parts += p
        row0 += n
    return parts, row0


def _run_on_dask(calls):
    """The planning scans as Dask tasks on the current scheduler (a distributed cluster's
    workers when a client is active), all at once; their results in order."""
    import dask

    return list(dask.compute(*[dask.delayed(f, pure=True)(*args) for f, args in calls]))


def _plan_read(source, blocksize, columns, dtypes, opts: dict, run=_run_on_dask):
    """What a distributed read needs before any task runs: the output ``meta``, the column
    names and specs fixed for every range (given, or inferred from the first MiB and samples
    of the first file, as the embedded reader does), and the partitions with the total row
    count. Bad rows are left to the tasks (the probe that fixes the types skips them).

    Partitions: local plain files are scanned on the driver and split at row starts
    (:func:`plan_csv_partitions`); remote plain files of known size, and local ones of at
    least ``_csv_split.LOCAL_TASK_BYTES``, are split the same way by scan tasks that
    ``run(calls)`` runs (a list of ``(function, args)``, on workers), each
    reading one range (``_csv_split``); compressed files and remote files of unknown size are
    one partition each, their rows counted in one pass (on the driver for local files, by a
    task for remote ones). ``blocksize=None``: every file is one partition (still counted).
    So the index is always the global row number and the divisions are known. The driver
    itself reads the header, the first MiB and the inference windows of the first file,
    and, for a remote file, its header row again."""
    head = _csv.CsvBlockReader(source, columns=columns, dtypes=dtypes, **opts)
    srcs = head._sources
    fmt = (head.delimiter, head.quotechar)
    so = opts.get("storage_options")

    def ranged(s):
        return (blocksize is not None and s.fs is not None and s.compression is None
                and s.size is not None)

    def local_tasks(s):  # a large local plain file: scanned by tasks, as a remote one
        return (blocksize is not None and s.local and s.compression is None
                and s.size is not None and s.size >= _split.LOCAL_TASK_BYTES)

    probe_opts = {**opts, "on_bad_lines": "skip", "blocksize": _csv._infer.INFER_BYTES}
    probe = _csv.CsvBlockReader(srcs[0].name, columns=columns, dtypes=dtypes, **probe_opts)
    if ranged(srcs[0]):  # exact ranged reads: not the file system's read-ahead blocks
        probe._sources[0].end = probe._sources[0].size
    with probe:
        next(iter(probe), None)
        names, specs = probe._names or [], probe._specs or []
        meta = _csv._empty_frame(specs, opts.get("rename") or {})
    calls: list = []
    plan: list = []  # per source: (kind, indexes of its calls)
    def split_name(s):  # how a scan task opens the file, and its partitions' name
        return s.path if s.local else s.name

    for s in srcs:
        if ranged(s) or local_tasks(s):
            los = range(0, s.size, blocksize)
            plan.append(("ranges", list(range(len(calls), len(calls) + len(los)))))
            calls += [(_split.scan_range, (split_name(s), so, s.size, lo,
                                           min(lo + blocksize, s.size), *fmt)) for lo in los]
        elif s.local or s.fs is None:
            plan.append(("driver", []))
        else:
            plan.append(("count", [len(calls)]))
            calls.append((_split.count_rows, (s.name, so, s.compression, *fmt)))
    results = run(calls) if calls else []
    parts: list = []
    total = 0
    for s, (kind, idx) in zip(srcs, plan):
        if s.local and kind == "driver":
            p, n = plan_csv_partitions([s.path], blocksize=blocksize or max(1, s.size),
                                       header=head.header, delimiter=head.delimiter,
                                       quotechar=head.quotechar)
            p = [(q[0], q[1], q[2], total + q[3], q[4]) for q in p]
        elif kind == "ranges":
            cuts, scanned = _split.chain_units(s.name, s.size, [results[i] for i in idx])
            f = open(s.path, "rb") if s.local else _FsRange(s.fs, s.path, s.name, 0, s.size)
            try:
                start = _split.data_start(f.read, head.header, *fmt, piece=4096)
            finally:
                f.close()
            p, n = _split.file_parts(split_name(s), s.size, start, cuts, scanned, head.header,
                                     total)
        else:
            # A compressed stream cannot be entered in the middle (nor a file of unknown size
            # cut): one partition, read whole by its task; its rows counted in one pass (here
            # for a local file, decompressing as a plain file is scanned; by a task for a
            # remote one), so the index stays the global row number.
            if kind == "count":
                scanned = results[idx[0]]
            else:
                f, _ = s.open()
                try:
                    scanned = _split.count_stream(f, *fmt)
                finally:
                    f.close()
            n = scanned - (1 if head.header and scanned else 0)
            p = [(s.name, 0, None, total, 1)] if n else []
        parts += p
        total += n
    return meta, names, specs, parts, total


class _CsvPartition:
    """Callable handed to ``dask.dataframe.from_map``: parses one byte range. Pickles.

    Its ``columns=`` keyword is Dask's column projection: only the fields behind the requested
    output columns are converted.
    """

    def __init__(self, names, specs, options):
        self.names = names
        self.specs = specs
        self.options = options

    def _specs_for(self, columns):
        if columns is None:
            return self.specs
        rename = self.options.get("rename") or {}
        return [s for s in self.specs
                if any(rename.get(n, n) in columns for n in s.out_names())]

    def __call__(self, part, columns=None):
        import pandas as pd

        path, start, end, row0, line0 = part
        if columns is not None:
            columns = list(columns) if not isinstance(columns, str) else [columns]
        specs = self._specs_for(columns)
        r = _csv._range_reader(path, start, end, names=self.names, specs=specs, row0=row0,
                               line0=line0, options=self.options)
        with r:
            frames = [b for b in r if len(b)]
        if not frames:
            df = _csv._empty_frame(specs, self.options.get("rename") or {})
        elif len(frames) == 1:
            df = frames[0]
        else:
            df = pd.concat(frames)
        if columns is not None:
            df = df[columns]
        return df


def read_csv(source, *, blocksize="64MB", columns=None, dtypes=None, **options):
    """Read CSV files into a Dask DataFrame, one partition per row-aligned byte range.

    Parameters
    ----------
    source : path, URL, list of them or glob
        Local files (each task maps or reads its byte range; every worker must see the same
        paths), or fsspec URLs (``s3://``, ``gs://``, ``https://``; ``storage_options=`` as
        for :class:`blockops.io.CsvBlockReader`). Uncompressed files, local and remote, are
        split into row-aligned byte ranges (a remote range is fetched by ranged reads); a
        compressed file (``compression=``) or a remote file of unknown size is one partition.
    blocksize : int, str or None
        Target bytes per partition; ``None``: one partition per file.
    columns, dtypes, **options
        As for :class:`blockops.io.CsvBlockReader`. Column types not given are inferred from
        the first MiB and sample windows of the first file, exactly as the embedded reader
        does, and then fixed for every partition: a later value that does not fit raises
        :class:`blockops.CsvInferenceError` with the ``dtypes=`` to pass.

    Returns
    -------
    dask.dataframe.DataFrame
        With ``meta`` from the reader and known divisions: the index is the global data-row
        number, the same as :func:`blockops.io.read_csv` gives, for local and remote,
        plain and compressed files alike. ``divisions[-1] + 1`` is the number of rows in the
        files, bad ones included: with ``on_bad_lines="skip"``, ``divisions[-1] + 1 -
        len(ddf)`` rows were skipped (and a skipped row leaves a gap in the index).

    Notes
    -----
    Planning finds where rows start before any partition is read, so that partitions split
    correctly at quoted newlines and the divisions are known; it reads every file once.
    Local files are scanned on the driver (a quote-aware C scan, disk-bound). Remote files
    are scanned by Dask tasks on the current scheduler (a cluster's workers when a
    ``distributed`` client is active), one per ``blocksize`` range, each fetching only its
    range by ranged reads; compressed remote files by one task each (decompressing). The
    driver reads only a file's header, and the first MiB and inference windows of the first
    file. A remote file is therefore fetched twice in all, once scanned and once parsed,
    each time in parallel ranges (``docs/csv.md``).
    """
    import dask.dataframe as dd

    if hasattr(source, "read"):
        raise TypeError("blockops.dask.read_csv needs paths (workers re-open the files)")
    bs = None if blocksize is None else _csv.parse_size(blocksize, "blocksize")
    opts = {k: v for k, v in options.items() if k not in ("progress", "as_arrays")}
    meta, names, specs, parts, total = _plan_read(source, bs, columns, dtypes, opts)
    import dask

    if not parts:
        # a header-only or empty file: the eager reader's empty frame, object columns kept
        # (Dask would make them string[pyarrow])
        with dask.config.set({"dataframe.convert-string": False}):
            return dd.from_pandas(meta, npartitions=1)
    divisions = [p[3] for p in parts] + [max(total - 1, parts[-1][3])]
    # every partition holds a row (the planner leaves blank-only ranges out), so divisions
    # increase; should they not, dask gets none rather than wrong ones
    if any(b <= a for a, b in zip(divisions[:-2], divisions[1:-1])):
        divisions = None
    ropts: dict[str, Any] = dict(opts)
    ropts["blocksize"] = None if bs is None else max(bs, 1 << 16)
    func = _CsvPartition(names, specs, ropts)
    # Our strings are already Arrow-backed pandas ``str`` columns: keep them as the embedded
    # reader gives them, instead of Dask's string[pyarrow] (NA-semantics) conversion, so a
    # pipeline gives the same frame on Dask as without it.
    with dask.config.set({"dataframe.convert-string": False}):
        return dd.from_map(func, parts, meta=meta, divisions=divisions,
                           label="blockops-read-csv", enforce_metadata=False)

def _needed(columns, ts_col) -> list:
    cols = [c for c in ("open", "high", "low", "close", "volume") if c in columns]
    return ([ts_col] if ts_col is not None else []) + cols


def _len_max(ts):
    """(rows, latest timestamp or None) of one partition's timestamp column or index."""
    t = _labels._block_max_time("blockops.dask.barrier_labels", _as_frame(ts))
    return len(ts), t


def _as_frame(ts):
    import pandas as pd

    if isinstance(ts, pd.Series):
        return ts.rename("timestamp").to_frame()
    return pd.DataFrame(index=ts)  # an Index: the frame's DatetimeIndex


def _head(part, k, cols):
    return part[cols].iloc[:k]


def _tail(part, k, cols):
    return part[cols].iloc[len(part) - k:]


def _label_piece(part, befores, afters, offset, at_end, opts, ref_month, n_threads, cols):
    import pandas as pd

    from . import _config

    func = "blockops.dask.barrier_labels"
    nt = _config.resolve_threads(n_threads)
    frames = [*befores, part[cols], *afters]
    whole = pd.concat(frames) if len(frames) > 1 else frames[0]
    nb = sum(len(b) for b in befores)
    k = len(part)
    a = _labels._extract(func, whole)
    outs = _labels._alloc(opts, k)
    stats = _labels._run(func, a, nb, nb + k, at_end, opts, ref_month, outs, nt, offset - nb)
    outside = _labels._check_rth(func, a, nb, nb + k, opts, offset - nb)
    frame = _labels._frame(opts, outs, part.index, k)
    return frame, (k, _labels._winners(opts, outs, k), stats, outside)


def _combine(pieces, ref):
    diag = _labels.LabelDiagnostics(reference_time=ref)
    for p in pieces:
        diag._merge_piece(*p)
    return diag


def barrier_labels(ddf, *, modes=_labels.MODES, tick_size: float = 0.25, horizon: int = 900,
                   decay_rate: float = 0.05, roll_threshold: float | None = 20.0,
                   reference_time=None, details: bool = False, rth: str = "ignore",
                   diagnostics: bool = False, n_threads: int | None = None):
    """:func:`blockops.labels.barrier_labels` on a Dask DataFrame, identical to the one pass.

    Each partition is labelled with the last 6 rows before it and the first ``horizon + 1``
    rows after it as context (taken from as many neighbouring partitions as needed, so
    partitions may be smaller than the horizon). Planning that needs each partition's length:
    one cheap pass over the timestamp column (``ddf["timestamp"]``, or the index) computes the
    lengths and, when ``reference_time`` is not given, the latest timestamp. Sources that
    project columns (Parquet, CSV with ``usecols``) read only that column in this pass.

    Parameters
    ----------
    ddf : dask.dataframe.DataFrame
        ``timestamp`` (column or index), ``open``, ``high``, ``low``, ``close`` (``volume``
        optional), in time order across partitions.
    diagnostics : bool
        Also return a ``dask.delayed`` :class:`blockops.labels.LabelDiagnostics` (compute it
        together with the frame, e.g. ``dask.compute(frame, diag)``, to read the data once).
    **options
        As in :func:`blockops.labels.barrier_labels`. ``n_threads=None`` is resolved in each
        worker at run time (Dask sets ``OMP_NUM_THREADS=1`` there).

    Returns
    -------
    dask.dataframe.DataFrame
        The label columns on the partitions' index and divisions (``meta`` from
        :func:`blockops.labels.output_columns`); with ``diagnostics=True``,
        ``(frame, delayed diagnostics)``.
    """
    import dask
    import dask.dataframe as dd
    import numpy as np
    import pandas as pd

    func = "blockops.dask.barrier_labels"
    opts = _labels._Options.make(func, modes=modes, tick_size=tick_size, horizon=horizon,
                                 decay_rate=decay_rate, roll_threshold=roll_threshold,
                                 details=details, rth=rth)
    if n_threads is not None:
        from . import _config

        _config.resolve_threads(n_threads)  # check it here, not in every task
    if not isinstance(ddf, dd.DataFrame):
        raise TypeError(f"{func}: expected a dask DataFrame, got {type(ddf).__name__}")
    ts_col = "timestamp" if "timestamp" in ddf.columns else None
    if ts_col is None:
        kind = getattr(ddf.index.dtype, "kind", "")
        if kind != "M" and getattr(ddf.index.dtype, "tz", None) is None:
            raise ValueError(f"{func}: no 'timestamp' column and the index is not datetime")
    for c in ("open", "high", "low", "close"):
        if c not in ddf.columns:
            raise ValueError(f"{func}: missing column {c!r}")
    cols = _needed(ddf.columns, ts_col)

    ts_parts = (ddf[ts_col] if ts_col is not None else ddf.index).to_delayed()
    info = dask.compute(*[dask.delayed(_len_max, pure=True)(p) for p in ts_parts])
    lens = [int(n) for n, _ in info]
    if reference_time is not None:
        ref = _labels._to_timestamp(func, reference_time)
    else:
        latest = [t for _, t in info if t is not None]
        ref = max(latest) if latest else None
    ref_month = _labels._month_index(ref) if ref is not None else 0

    parts = ddf.to_delayed()
    offsets = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
    P = len(parts)
    H = opts.horizon
    label_piece = dask.delayed(_label_piece, pure=True, nout=2)
    head = dask.delayed(_head, pure=True)
    tail = dask.delayed(_tail, pure=True)
    frames, stats = [], []
    for p in range(P):
        befores, need, q = [], _labels.CONTEXT_BEFORE, p - 1
        while need > 0 and q >= 0:
            k = min(need, lens[q])
            if k:
                befores.insert(0, tail(parts[q], k, cols))
            need -= k
            q -= 1
        afters, need, q = [], H + 1, p + 1
        while need > 0 and q < P:
            k = min(need, lens[q])
            if k:
                afters.append(head(parts[q], k, cols))
            need -= k
            q += 1
        fr, st = label_piece(parts[p], befores, afters, int(offsets[p]), need > 0, opts,
                             ref_month, n_threads, cols)
        frames.append(fr)
        stats.append(st)

    meta_index = ddf._meta.index[:0]
    meta = pd.DataFrame({name: np.empty(0, dt) for name, dt in opts.columns()},
                        index=meta_index)
    divisions = ddf.divisions if ddf.known_divisions else None
    out = dd.from_delayed(frames, meta=meta, divisions=divisions, verify_meta=False)
    if not diagnostics:
        return out
    return out, dask.delayed(_combine, pure=True)(stats, ref)


# ----------------------------------------------------------------------------- V2X operators
# Every blockops.v2x operator on a Dask DataFrame, with its meta computed by running the
# operator on the input's (empty) meta. Two need the whole data set first and do a cheap
# global pass: add_attackers(method="exact") collects the unique vehicle IDs (IDs only, never
# the rows) and positional_swap_rand draws its bounded donor pool with a tree reduction.

def _map_op(ddf, op, *args, **kwargs):
    from .v2x import ops as _ops

    return ddf.map_partitions(op, *args, meta=_ops.meta(op, ddf._meta, *args, **kwargs),
                              **kwargs)


def _make_wrapper(name):
    def wrapper(ddf, **kwargs):
        from .v2x import ops as _ops

        return _map_op(ddf, getattr(_ops, name), **kwargs)

    wrapper.__name__ = wrapper.__qualname__ = name
    wrapper.__doc__ = (f"Apply :func:`blockops.v2x.{name}` to every partition of a Dask "
                       f"DataFrame (``meta`` computed from the operator).")
    return wrapper


_V2X_SIMPLE = ("clean", "timestamp_parts", "project_xy", "filter_radius", "filter_xy_range",
               "filter_date_range", "positional_offset_const", "positional_offset_rand",
               "positional_offset_const_per_id_with_random_direction",
               "positional_override_const", "positional_override_rand")
for _n in _V2X_SIMPLE:
    globals()[_n] = _make_wrapper(_n)
del _n
__all__ += list(_V2X_SIMPLE) + ["add_attackers", "donor_pool", "hex_to_int",
                                "positional_swap_rand", "unique_ids"]


def hex_to_int(series, *, errors="raise"):
    """:func:`blockops.v2x.hex_to_int` on a Dask Series."""
    from .v2x import ops as _ops

    dtype = "int64" if errors == "raise" else "Int64"
    return series.map_partitions(_ops.hex_to_int, errors=errors, meta=(series.name, dtype))


def _unique_ids(df, id_column):
    from .v2x import ops as _ops

    return np.unique(_ops.id_keys(df[id_column]).view(np.int64)) if len(df) else \
        np.empty(0, np.int64)


def _merge_unique(*arrays):
    return np.unique(np.concatenate(arrays))


def unique_ids(ddf, *, id_column="coreData_id"):
    """Sorted unique vehicle IDs (int64; hex strings converted) of a Dask DataFrame, in one
    streaming pass that keeps IDs only: per partition ``np.unique``, merged in a tree."""
    import dask

    parts = [dask.delayed(_unique_ids)(p, id_column) for p in ddf.to_delayed()]
    while len(parts) > 1:
        parts = [dask.delayed(_merge_unique)(*parts[i:i + 8]) for i in range(0, len(parts), 8)]
    return parts[0].compute() if parts else np.empty(0, np.int64)


def add_attackers(ddf, attackers=None, *, ratio=0.3, seed=42, method="exact",
                  id_column="coreData_id"):
    """:func:`blockops.v2x.add_attackers` on a Dask DataFrame.

    With ``method="exact"`` and no ``attackers`` the unique IDs of the whole frame are
    collected first (:func:`unique_ids`), so the choice is the same as on the whole data in
    pandas, whatever the partitioning. ``method="hash"`` needs no global pass.
    """
    from .v2x import ops as _ops

    if attackers is None and method == "exact":
        attackers = _ops.select_attackers(unique_ids(ddf, id_column=id_column), ratio=ratio,
                                          seed=seed, method="exact")
    return _map_op(ddf, _ops.add_attackers, attackers, ratio=ratio, seed=seed, method=method,
                   id_column=id_column)


def donor_pool(ddf, *, size=None, seed=42, row_key=None):
    """The global :class:`blockops.v2x.DonorPool` of a Dask DataFrame (bottom-``size`` rows by
    keyed hash), built with a tree reduction; memory ``size`` x 40 bytes per task."""
    import dask

    from .v2x import ops as _ops

    size = _ops.DEFAULT_POOL_SIZE if size is None else int(size)

    def one(df):
        return _ops.DonorPool.from_frame(df, size=size, seed=seed, row_key=row_key)

    def merge(*pools):
        out = pools[0]
        for p in pools[1:]:
            out = out.merge(p)
        return out

    parts = [dask.delayed(one)(p) for p in ddf.to_delayed()]
    while len(parts) > 1:
        parts = [dask.delayed(merge)(*parts[i:i + 8]) for i in range(0, len(parts), 8)]
    return parts[0].compute() if parts else _ops.DonorPool.empty(size, seed)


def positional_swap_rand(ddf, *, seed=42, pool=None, **kwargs):
    """:func:`blockops.v2x.positional_swap_rand` with a donor pool drawn over the whole frame
    (``pool`` an int size or None), so results do not depend on the partitioning."""
    from .v2x import ops as _ops

    if not isinstance(pool, _ops.DonorPool):
        pool = donor_pool(ddf, size=pool, seed=seed, row_key=kwargs.get("row_key"))
    return _map_op(ddf, _ops.positional_swap_rand, seed=seed, pool=pool, **kwargs)
