"""Dask integrations: :func:`read_csv` (the block-chunked C reader as a Dask DataFrame).

Dask is imported lazily; install it with ``pip install "blockops[dask]"``.
"""
from __future__ import annotations

import os
from typing import Any

import numpy as np

from .io import csv as _csv

__all__ = ["read_csv", "plan_csv_partitions"]

_SCAN_BYTES = 8 << 20


def plan_csv_partitions(paths, *, blocksize, header=True, delimiter=",", quotechar='"'):
    """Split files into row-aligned byte ranges of about ``blocksize`` bytes.

    One streaming pass per file (in C, tracking quote state) finds, for every multiple of
    ``blocksize``, the first row that starts at or after it, so a range never starts inside a
    quoted field, even one holding newlines (``dask.dataframe.read_csv`` splits at the first
    newline and gets those wrong). The same pass counts rows and lines, which gives every
    range its first global row number (hence known divisions) and its first line number (for
    error messages).

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
        bom = 0
        with open(path, "rb", buffering=0) as f:
            first = True
            while True:
                buf = f.read(_SCAN_BYTES)
                if not buf:
                    break
                if first and buf.startswith(b"\xef\xbb\xbf"):
                    bom = 3
                first = False
                _core.csv_scan_feed(scanner, buf, len(buf), targets, found, rows_before,
                                    lines_before)
        total_rows, _, _ = _core.csv_scan_finish(scanner)
        hdr = 1 if header and total_rows else 0
        # header end: the first row start after the header row
        starts = [(bom, 0, 0)]
        if header:
            # the data starts at the second row; find it by indexing the first row
            with open(path, "rb", buffering=0) as f:
                starts = [_after_header(f, bom, delimiter, quotechar)]
        for t, fo, rb, lb in zip(targets, found, rows_before, lines_before):
            if fo < 0 or fo >= size or fo <= starts[-1][0]:
                continue
            starts.append((int(fo), int(rb) - hdr, int(lb)))
        bounds = [s[0] for s in starts] + [size]
        for (s, rb, lb), e in zip(starts, bounds[1:]):
            if e > s:
                parts.append((os.fspath(path), s, e, row0 + rb, lb + 1))
        row0 += total_rows - hdr
    return parts, row0


def _after_header(f, bom, delimiter, quotechar):
    """(offset, rows before, lines before) of the first data row of a file with a header."""
    from . import _core

    data = b""
    while True:
        more = f.read(_SCAN_BYTES)
        data += more
        ix, n_rows, _, consumed, _, err = _core.csv_tokenize(
            data[bom:], len(data) - bom, delimiter, quotechar, 0, not more, 1, 0, 1)
        if n_rows or not more:
            return bom + consumed, 0, _core.csv_count_lines(data, bom, bom + consumed)


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
    source : path, list of paths or glob
        Local files (ranges are read with ``seek``; every worker must see the same paths).
    blocksize : int or str
        Target bytes per partition.
    columns, dtypes, **options
        As for :class:`blockops.io.CsvBlockReader`. Column types not given are inferred from
        the first MiB of the first file, exactly as the embedded reader does, and then fixed
        for every partition.

    Returns
    -------
    dask.dataframe.DataFrame
        With ``meta`` from the reader and known divisions: the index is the global data-row
        number, the same as :func:`blockops.io.read_csv` gives.

    Notes
    -----
    Planning reads every file once (a quote-aware C scan, disk-bound) to find row starts; this
    is what makes partitions split correctly at quoted newlines and the divisions known.
    """
    import dask.dataframe as dd

    if hasattr(source, "read"):
        raise TypeError("blockops.dask.read_csv needs paths (workers re-open the files)")
    bs = _csv.parse_size(blocksize, "blocksize")
    opts = {k: v for k, v in options.items() if k not in ("progress", "as_arrays")}
    head = _csv.CsvBlockReader(source, columns=columns, dtypes=dtypes, **opts)
    paths = [s.path for s in head._sources]
    meta = head.meta()
    # the first reader's specs (names, types) are fixed for every partition
    probe = _csv.CsvBlockReader(paths[0], columns=columns, dtypes=dtypes, **opts)
    with probe:
        next(iter(probe), None)
        names, specs = probe._names or [], probe._specs or []
    parts, total = plan_csv_partitions(paths, blocksize=bs, header=head.header,
                                       delimiter=head.delimiter, quotechar=head.quotechar)
    if not parts:
        return dd.from_pandas(meta, npartitions=1)
    divisions = [p[3] for p in parts] + [max(total - 1, parts[-1][3])]
    # a range that holds only blank lines would repeat a division: dask needs them increasing
    if any(b <= a for a, b in zip(divisions[:-2], divisions[1:-1])):
        divisions = None
    ropts: dict[str, Any] = dict(opts)
    ropts["blocksize"] = max(bs, 1 << 16)
    func = _CsvPartition(names, specs, ropts)
    import dask

    # Our strings are already Arrow-backed pandas ``str`` columns: keep them as the embedded
    # reader gives them, instead of Dask's string[pyarrow] (NA-semantics) conversion, so a
    # pipeline gives the same frame on Dask as without it.
    with dask.config.set({"dataframe.convert-string": False}):
        return dd.from_map(func, parts, meta=meta, divisions=divisions,
                           label="blockops-read-csv", enforce_metadata=False)
