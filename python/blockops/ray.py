"""Ray integration: :func:`read_csv`, the block-chunked C reader as a Ray Dataset.

Install with ``pip install "blockops[ray]"``; importing this module without Ray raises an
``ImportError`` that says so.

The files are planned exactly as :func:`blockops.dask.read_csv` plans them: a quote-aware C
scan per file (on the driver for local files, by Ray tasks for remote ones, each fetching one
range) finds row-aligned byte ranges of about ``blocksize`` bytes (a range never starts inside
a quoted field), with the global row number and file line each one starts at. A custom
:class:`ray.data.Datasource` turns groups of consecutive ranges into read tasks; each task parses
its ranges with :class:`blockops.io.CsvBlockReader` and yields one Arrow table per block of the
reader, so a task never holds more than a block's worth of parsed rows at once. Column names
and types are fixed once (given, or inferred from the first MiB and sample windows of the first file, as the
embedded reader does), so every task produces the same schema.

Ray datasets have no pandas index: the global data-row number that
:func:`blockops.io.read_csv` puts in the index is a column here, ``row_column`` (``"__row__"``
by default; ``None`` leaves it out). With it, ``ds.sort(row_column)`` gives the file's order
whatever the number of tasks.
"""
from __future__ import annotations

import inspect
from typing import Any, Iterator

try:
    import ray
    import ray.data
    from ray.data.block import BlockMetadata
    from ray.data.datasource import Datasource, ReadTask
except ImportError as exc:  # pragma: no cover - exercised only without Ray
    raise ImportError("blockops.ray needs Ray Data: pip install \"blockops[ray]\"") from exc

from .dask import _plan_read
from .io import csv as _csv

__all__ = ["CsvDatasource", "read_csv"]


def _metadata(num_rows: int | None, size_bytes: int, path: str, schema) -> tuple[BlockMetadata, dict]:
    """BlockMetadata for one read task, and the extra ReadTask keywords, across Ray versions
    (newer Ray moved ``schema`` from the block metadata to the read task)."""
    meta_kw: dict[str, Any] = {"num_rows": num_rows, "size_bytes": size_bytes,
                               "input_files": [path], "exec_stats": None}
    params = inspect.signature(BlockMetadata).parameters
    task_kw: dict[str, Any] = {}
    if "schema" in params:
        meta_kw["schema"] = schema
    elif "schema" in inspect.signature(ReadTask).parameters:
        task_kw["schema"] = schema
    meta_kw = {k: v for k, v in meta_kw.items() if k in params}
    return BlockMetadata(**meta_kw), task_kw


class CsvDatasource(Datasource):
    """Row-aligned byte ranges of CSV files, parsed by the blockops C reader.

    Built by :func:`read_csv`; holds only the plan (paths, byte ranges, first row and line
    numbers) and the fixed column specs, so it pickles small.
    """

    def __init__(self, parts, total_rows, names, specs, options, schema, row_column):
        self._parts = list(parts)
        self._total_rows = None if total_rows is None else int(total_rows)  # None: not counted
        self._names = names
        self._specs = specs
        self._options = options
        self._schema = schema
        self._row_column = row_column

    def get_name(self) -> str:
        """``"BlockopsCSV"``: the read operator's name in Ray's plans and progress bars."""
        return "BlockopsCSV"

    def estimate_inmemory_data_size(self) -> int:
        """Bytes the parsed data take, estimated for Ray's planner.

        Returns
        -------
        int
            Half the reader's documented bound (``EXPANSION`` times the bytes of the ranges):
            typed columns usually take about twice the text; compressed and remote files count
            as 0 (their size is not known before reading).
        """
        return int(sum(_size(p) for p in self._parts) * _csv.EXPANSION / 2)

    def _rows_of(self, i: int) -> "int | None":
        if self._total_rows is None:  # a plan without row counts
            return None
        nxt = self._parts[i + 1][3] if i + 1 < len(self._parts) else self._total_rows
        return max(0, nxt - self._parts[i][3])

    def get_read_tasks(self, parallelism: int, per_task_row_limit=None,
                       data_context=None) -> list[ReadTask]:
        """Group the planned byte ranges into at most ``parallelism`` read tasks.

        Parameters
        ----------
        parallelism : int
            Tasks Ray asks for (at most one per range; ranges are grouped in file order).
        per_task_row_limit : int, optional
            Passed on to :class:`ray.data.ReadTask` where this Ray has that argument.
        data_context : optional
            Accepted for Ray's signature; not used.

        Returns
        -------
        list of ray.data.ReadTask
            One per non-empty group, with the exact row count in its metadata unless bad
            lines may be skipped (then Ray counts what the task yields).
        """
        n = len(self._parts)
        k = max(1, min(int(parallelism) if parallelism and parallelism > 0 else n, n))
        groups = [list(range(n * g // k, n * (g + 1) // k)) for g in range(k)]
        tasks = []
        for idx in groups:
            if not idx:
                continue
            parts = [self._parts[i] for i in idx]
            # exact unless bad rows may be skipped (then Ray must count what the task yields)
            counts = [self._rows_of(i) for i in idx]
            rows = (sum(counts) if self._options.get("on_bad_lines", "error") == "error"
                    and None not in counts else None)
            size = sum(_size(p) for p in parts)
            meta, extra = _metadata(rows, size, parts[0][0], self._schema)
            kw: dict[str, Any] = dict(extra)
            if per_task_row_limit is not None and \
                    "per_task_row_limit" in inspect.signature(ReadTask).parameters:
                kw["per_task_row_limit"] = per_task_row_limit
            tasks.append(ReadTask(_ReadRanges(parts, self._names, self._specs, self._options,
                                              self._row_column), meta, **kw))
        return tasks


def _run_on_ray(calls):
    """The planning scans of remote files as Ray tasks (one CPU each), all at once; their
    results in order."""
    fns: dict = {}
    refs = []
    for f, args in calls:
        if f not in fns:
            fns[f] = ray.remote(num_cpus=1)(f)
        refs.append(fns[f].remote(*args))
    return ray.get(refs)


def _size(part) -> int:
    """Bytes of a planned part (a file read whole, compressed or of unknown size, counts as 0:
    unknown)."""
    _, s, e, _, _ = part
    return 0 if e is None else e - s


class _ReadRanges:
    """The read function of one task: its byte ranges, one Arrow table per reader block."""

    def __init__(self, parts, names, specs, options, row_column):
        self.parts, self.names, self.specs = parts, names, specs
        self.options, self.row_column = options, row_column
        # Ray 2.30's read operator names the task by its read function's __name__
        self.__name__ = "read_blockops_csv"

    def __call__(self) -> Iterator:
        import numpy as np
        import pyarrow as pa

        for path, start, end, row0, line0 in self.parts:
            r = _csv._range_reader(path, start, end, names=self.names, specs=self.specs,
                                   row0=row0, line0=line0, options=self.options)
            with r:
                for block in r:
                    if not len(block):
                        continue
                    table = pa.Table.from_pandas(block, preserve_index=False)
                    if self.row_column is not None:
                        rows = np.asarray(block.index, dtype=np.int64)
                        table = table.append_column(self.row_column, pa.array(rows))
                    yield table


def read_csv(source, *, blocksize="64MB", columns=None, dtypes=None, row_column="__row__",
             override_num_blocks: int | None = None, ray_remote_args: dict | None = None,
             **options) -> "ray.data.Dataset":
    """Read CSV files into a Ray Dataset through :class:`CsvDatasource`.

    Parameters
    ----------
    source : path, URL, list of them or glob
        Local files every Ray worker can open at the same paths, or fsspec URLs
        (``storage_options=``); planned as :func:`blockops.dask.read_csv` plans them
        (uncompressed files, local or remote, are split into row-aligned ranges; a compressed
        file is one range; ``row_column`` is always the global row number).
    blocksize : int, str or None, default "64MB"
        Target bytes per byte range (and per reader block inside a task); ``None``: one
        range per file.
    columns, dtypes, **options
        As for :class:`blockops.io.CsvBlockReader` (``on_bad_lines``, ``na_values``,
        ``rename``, ...). Types not given are inferred once from the first MiB and sample windows of the first
        file, so every task has the same schema.
    row_column : str or None, default "__row__"
        Name of the int64 column holding the global data-row number (the index of
        :func:`blockops.io.read_csv`); None leaves it out.
    override_num_blocks : int, optional
        Number of read tasks (Ray's default: its own parallelism heuristic). Ranges are
        grouped into tasks in file order; the rows do not depend on it.
    ray_remote_args : dict, optional
        Passed to :func:`ray.data.read_datasource` (e.g. ``{"num_cpus": 1}``).

    Notes
    -----
    ``on_bad_lines="error"`` raises inside the task that meets the bad row; Ray reports it as
    a task error whose cause is the :class:`blockops.CsvParseError` naming file, line, column and
    value. Row counting across tasks: the planner's total is exact (rows skipped as bad lines
    are the difference between it and ``ds.count()``).
    """
    import pyarrow as pa

    if hasattr(source, "read"):
        raise TypeError("blockops.ray.read_csv needs paths (Ray workers re-open the files)")
    bs = None if blocksize is None else _csv.parse_size(blocksize, "blocksize")
    opts = {k: v for k, v in options.items() if k not in ("progress", "as_arrays", "n_threads")}
    meta, names, specs, parts, total = _plan_read(source, bs, columns, dtypes, opts,
                                                  run=_run_on_ray)
    schema = pa.Schema.from_pandas(meta, preserve_index=False)
    if row_column is not None:
        if row_column in schema.names:
            raise ValueError(f"row_column {row_column!r} is also a data column; pick another "
                             "name or None")
        schema = schema.append(pa.field(row_column, pa.int64()))
    ropts: dict[str, Any] = dict(opts)
    ropts["blocksize"] = None if bs is None else max(bs, 1 << 16)
    # one C thread per task: Ray runs tasks side by side, one per CPU slot
    ropts["n_threads"] = 1
    ds_source = CsvDatasource(parts, total, names, specs, ropts, schema, row_column)
    kw: dict[str, Any] = {}
    if override_num_blocks is not None:
        kw["override_num_blocks"] = int(override_num_blocks)
    if ray_remote_args:
        kw["ray_remote_args"] = dict(ray_remote_args)
    if not parts:
        return ray.data.from_arrow(schema.empty_table())
    return ray.data.read_datasource(ds_source, **kw)
