"""ONE simulator reports: read many small ``key: value`` files into one frame, average them
per (router, ttl) and (router, buffer), and write the averages in the original tool's format.

A report file is named ``<scenario>_<router>_<seed>_<ttl>_<buffer>M_<ReportType>.txt``, e.g.
``TEST_EpidemicRouter_10_104_100M_MessageStatsReport.txt``, and holds a title line and then
``key: value`` lines (``NaN`` allowed)::

    Message stats for scenario TEST_EpidemicRouter_10_104_100M
    sim_time: 604800.0999
    created: 20503
    rtt_avg: NaN

Files are opened, read and parsed in C with the GIL released (``bo_report_read_files`` in
``csrc/report/report_files.c``: OpenMP threads, one bounded reusable read buffer per thread, a
batch-wide key table), with the thread count from :class:`blockops.resources.ResourceManager`;
Python checks the file names and builds the frame from the C arrays. The grammar is in
``csrc/include/blockops/bo_report.h``; ``tests/reference/one_report_ref.py`` is its executable
specification.
"""
from __future__ import annotations

import glob as _glob
import logging
import math
import os
import re
import sys
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import Iterable, Sequence

import numpy as np

from .. import _core
from .._errors import BlockopsError, CsvParseError

__all__ = [
    "ID_COLUMNS",
    "REPORT_NAME_RE",
    "ReportParseError",
    "ReportWarning",
    "average_reports",
    "parse_report_name",
    "read_one_reports",
    "write_averages",
]

log = logging.getLogger("blockops")

#: ``<scenario>_<router>_<seed>_<ttl>_<buffer>M_<ReportType>.txt``. The scenario may contain
#: underscores (it is matched greedily); router and report type may not (ONE class names).
REPORT_NAME_RE = re.compile(
    r"^(?P<scenario>.+)_(?P<router>[^_]+)_(?P<seed>[0-9]+)_(?P<ttl>[0-9]+)_(?P<buffer>[0-9]+)M"
    r"_(?P<report_type>[^_]+)\.txt$"
)
#: Columns taken from the file name, in frame order; every other column is a metric.
ID_COLUMNS = ("scenario", "router", "seed", "ttl", "buffer", "report_type")
_INT_COLUMNS = ("seed", "ttl", "buffer")
_ON_ERROR = ("raise", "skip", "warn")
# metric keys may not shadow the file-name columns or average_reports' count column
_RESERVED = frozenset(ID_COLUMNS) | {"n_files"}
_NAME_HINT = "<scenario>_<router>_<seed>_<ttl>_<buffer>M_<ReportType>.txt"


class ReportParseError(BlockopsError, ValueError):
    """A malformed report file. Has ``.path``, ``.line`` (1-based, or None when the problem is
    the file name or a clash of keys), ``.column`` (0-based byte column) and ``.byte_offset``."""


class ReportWarning(UserWarning):
    """A report file was skipped (``on_error="warn"``)."""


def parse_report_name(path) -> dict | None:
    """The file-name fields of a report path as a dict (seed, ttl, buffer as ints), or None."""
    m = REPORT_NAME_RE.match(os.path.basename(os.fspath(path)))
    if m is None:
        return None
    d = m.groupdict()
    for c in _INT_COLUMNS:
        d[c] = int(d[c])
    return d


# ---------------------------------------------------------------------------- reading

#: Default of ``max_file_bytes``: a real report is ~420 bytes; this is 150,000 times that.
DEFAULT_MAX_FILE_BYTES = 64 << 20


def _resolve(paths_or_dir) -> tuple[list[str], list[str]]:
    """(candidate paths, ignored paths). Directories and globs keep only names that
    match the pattern (the averaged files live next to the inputs); explicit paths are strict:
    a bad name there is an error."""
    if isinstance(paths_or_dir, (str, bytes, os.PathLike)):
        p = os.fsdecode(os.fspath(paths_or_dir))
        if os.path.isdir(p):
            found = [os.path.join(p, n) for n in os.listdir(p) if n.endswith(".txt")]
            found = [f for f in found if os.path.isfile(f)]
        elif _glob.has_magic(p):
            found = [f for f in _glob.glob(p) if os.path.isfile(f)]
        else:
            return [p], []
        keep = [f for f in found if REPORT_NAME_RE.match(os.path.basename(f))]
        ignored = sorted(set(found) - set(keep))
        return sorted(keep), ignored
    if isinstance(paths_or_dir, Iterable):
        paths = [p if type(p) is str else os.fsdecode(os.fspath(p)) for p in paths_or_dir]
        return sorted(paths), []
    raise TypeError(
        "paths_or_dir must be a directory, a glob pattern, a path or a list of paths, "
        f"got {type(paths_or_dir).__name__}"
    )


def _default_workers(sizes: Sequence[int], n_tasks: int) -> int:
    try:
        from ..resources import ResourceManager
    except ImportError:  # pragma: no cover - resources ships with the package
        return max(1, min(4, os.cpu_count() or 1))
    return ResourceManager().optimal_workers(sizes=sizes, n_tasks=n_tasks)


def _name_error(path: str) -> ReportParseError:
    return ReportParseError(f"{path}: unexpected file name (expected {_NAME_HINT})", path=path,
                            line=None, column=None, byte_offset=None)


def _clash_error(path: str, key: str) -> ReportParseError:
    return ReportParseError(f"{path}: key {key!r} clashes with a column blockops adds",
                            path=path, line=None, column=None, byte_offset=None)


def _too_large_error(path: str, max_file_bytes: int) -> ReportParseError:
    # the C reader's message, so that both engines say the same
    return ReportParseError(f"{path}: file is larger than max_file_bytes ({max_file_bytes} bytes)",
                            path=path, line=None, column=None, byte_offset=None)


def _empty_frame():
    import pandas as pd

    cols = {c: pd.Series([], dtype="int64" if c in _INT_COLUMNS else str) for c in ID_COLUMNS}
    return pd.DataFrame(cols)


def _check_args(on_error, n_workers, chunk_size, max_file_bytes):
    if on_error not in _ON_ERROR:
        raise ValueError(f"on_error must be one of {_ON_ERROR}, got {on_error!r}")
    if n_workers is not None and (isinstance(n_workers, bool) or int(n_workers) != n_workers
                                  or n_workers < 1):
        raise ValueError(f"n_workers must be a positive integer or None, got {n_workers!r}")
    if chunk_size is not None and (isinstance(chunk_size, bool) or int(chunk_size) != chunk_size
                                   or chunk_size < 1):
        raise ValueError(f"chunk_size must be a positive integer or None, got {chunk_size!r}")
    if (isinstance(max_file_bytes, bool) or int(max_file_bytes) != max_file_bytes
            or max_file_bytes < 1):
        raise ValueError(f"max_file_bytes must be a positive integer, got {max_file_bytes!r}")


class _Failures:
    """Bad files in path order, handled by the on_error policy once all are known (so that
    "raise" names the first bad file in path order, whichever thread met it first)."""

    def __init__(self, on_error: str):
        self.on_error = on_error
        self.items: list[tuple[int, BaseException]] = []

    def add(self, index: int, exc: BaseException) -> None:
        self.items.append((index, exc))

    def settle(self, paths: Sequence[str], stacklevel: int) -> list:
        """Raise (policy "raise") or return the ``attrs["skipped"]`` list."""
        self.items.sort(key=lambda t: t[0])
        if self.items and self.on_error == "raise":
            raise self.items[0][1]
        skipped = []
        for i, exc in self.items:
            msg = str(exc)
            skipped.append((paths[i], getattr(exc, "line", None), msg))
            if self.on_error == "warn":
                warnings.warn(f"skipped report file: {msg}", ReportWarning, stacklevel=stacklevel + 1)
        if skipped:
            log.info("read_one_reports: skipped %d of %d files", len(skipped), len(paths))
        return skipped


def read_one_reports(paths_or_dir, *, n_workers: int | None = None, on_error: str = "raise",
                     chunk_size: int | None = None,
                     max_file_bytes: int = DEFAULT_MAX_FILE_BYTES, progress: bool = False):
    """Read ONE simulator report files into one DataFrame, one row per file.

    Opening, reading and parsing run in C with the GIL released
    (``bo_report_read_files``), on ``n_workers`` threads; Python only checks the file names
    and assembles the frame from the C arrays.

    Parameters
    ----------
    paths_or_dir : str, path-like or iterable of them
        A directory (its ``*.txt`` files whose names match
        ``<scenario>_<router>_<seed>_<ttl>_<buffer>M_<ReportType>.txt``; others, such as the
        ``*_average.txt`` files, are ignored and listed in ``df.attrs["ignored"]``), a glob
        pattern (filtered the same way), or one path / a list of paths (every one must match the
        pattern; a name that does not is a malformed file).
    n_workers : int, optional
        Threads reading files. Default: ``blockops.resources.ResourceManager().optimal_workers``
        with every file counted at ``max_file_bytes`` (the most a thread holds at once; the
        files are not stat'ed first: a stat costs about half as much as reading and parsing a
        report), so in practice the effective CPUs unless memory is tight. At most one thread
        per file. The frame does not depend on it.
    on_error : {"raise", "skip", "warn"}
        What to do with a malformed file (missing ``:``, non-numeric value, bad file name, a
        key named like a file-name column, larger than ``max_file_bytes``) or one that cannot be
        read. ``"raise"`` raises :class:`ReportParseError` (or the ``OSError``, e.g.
        ``FileNotFoundError``) for the first one in path order; ``"skip"`` leaves it out;
        ``"warn"`` leaves it out and emits a :class:`ReportWarning`. Skipped files are listed in
        ``df.attrs["skipped"]`` as ``(path, line, message)`` (``line`` is None when the problem
        is not on one line), so that files in = rows + skipped. Every file is read before the
        policy is applied.
    chunk_size : int, optional
        Files a thread takes at a time (default: ~4 tasks per thread, at most 64 files). Load
        balance only; the frame does not depend on it.
    max_file_bytes : int, default 64 MiB
        A larger file is a malformed file (``ReportParseError``), not a larger buffer: each
        thread reads into one reusable buffer of at most ``max_file_bytes + 1`` bytes.
    progress : bool, default False
        Show a ``tqdm.auto`` bar of the files read (a widget in a notebook, text on stderr
        elsewhere). The C reader works through the files in blocks of 8192 (~10-100 ms each)
        and the bar moves after each block, so it only shows movement on batches that take
        seconds. The frame does not depend on it.

    Returns
    -------
    pandas.DataFrame
        Columns ``scenario, router, seed, ttl, buffer, report_type`` (seed, ttl and buffer as
        int64; buffer in MB), then one float64 column per metric key in order of first
        appearance (NaN where a file has no such key or says ``NaN``). Rows are sorted by path.
        If a key repeats within a file the last value wins (as in the original averager).
        ``df.attrs``: ``"skipped"``, ``"ignored"``, ``"paths"`` (the path of each row) and
        ``"metrics"`` (``{report_type: [keys seen in files of that type]}``, used by
        :func:`average_reports` to tell "no such key" from "NaN").
    """
    return _read_one_reports(paths_or_dir, n_workers=n_workers, on_error=on_error,
                             chunk_size=chunk_size, max_file_bytes=max_file_bytes,
                             progress=progress, engine="batch", _stacklevel=3)


def _progress_bar(progress: bool, total: int):
    """A ``tqdm.auto`` bar of files, or None."""
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="file", desc="read_one_reports")


def _read_one_reports(paths_or_dir, *, n_workers=None, on_error="raise", chunk_size=None,
                      max_file_bytes=DEFAULT_MAX_FILE_BYTES, progress=False, engine="batch",
                      _stacklevel=2):
    """read_one_reports with a choice of engine: ``"batch"`` (C opens, reads and parses,
    the default) or ``"files"`` (the earlier path: Python threads open and read each file and
    call the C parser on its bytes). Both give the same frame; tests and the benchmark compare
    them."""
    _check_args(on_error, n_workers, chunk_size, max_file_bytes)
    paths, ignored = _resolve(paths_or_dir)
    if engine == "batch":
        read = _read_batch
    elif engine == "files":
        read = _read_files
    else:
        raise ValueError(f"engine must be 'batch' or 'files', got {engine!r}")
    bar = _progress_bar(progress, len(paths))
    try:
        df = read(paths, n_workers, on_error, chunk_size, int(max_file_bytes), _stacklevel + 1,
                  bar)
    finally:
        if bar is not None:
            bar.close()
    df.attrs["ignored"] = ignored
    return df


# -- the batch engine: everything per file in C ------------------------------------------------


def _split_name(base: str):
    """REPORT_NAME_RE.match(base).groups() without the regex, or None when this shortcut
    cannot tell (the caller then asks the regex). The five fields after the scenario cannot
    contain "_", so they are the last five "_"-separated parts: rsplit finds them, and the
    checks below are the pattern's ("." in the scenario excludes a newline; [0-9] is ASCII)."""
    if not base.endswith(".txt"):
        return None
    parts = base[:-4].rsplit("_", 5)
    if len(parts) != 6:
        return None
    scenario, router, seed, ttl, buffer, report_type = parts
    if not (scenario and router and report_type and "\n" not in scenario
            and seed.isdigit() and ttl.isdigit() and buffer[:-1].isdigit()
            and buffer[-1:] == "M" and seed.isascii() and ttl.isascii() and buffer.isascii()):
        return None
    return scenario, router, seed, ttl, buffer[:-1], report_type


def _name_groups(paths: Sequence[str]) -> list:
    """REPORT_NAME_RE's groups for each path's base name (None where it does not match).
    _split_name answers for ordinary names in a third of the regex's time; the regex decides
    the rest (so the answer is always the regex's: tests/test_reports.py checks the shortcut
    against it)."""
    if os.sep == "/" and not os.altsep:
        base = [p[p.rfind("/") + 1:] for p in paths]
    else:
        base = [os.path.basename(p) for p in paths]
    match = REPORT_NAME_RE.match
    return [g if (g := _split_name(b)) is not None else
            (m.groups() if (m := match(b)) else None) for b in base]


def _read_batch(paths, n_workers, on_error, chunk_size, max_file_bytes, stacklevel, bar=None):
    fails = _Failures(on_error)
    groups = _name_groups(paths)
    bad_names = [i for i, g in enumerate(groups) if g is None]
    for i in bad_names:
        fails.add(i, _name_error(paths[i]))
    if bar is not None and bad_names:
        bar.update(len(bad_names))  # done with: never opened
    if bad_names:
        index = [i for i, g in enumerate(groups) if g is not None]  # index in paths
        groups = [groups[i] for i in index]
        todo = [paths[i] for i in index]
    else:
        index, todo = None, paths
    if n_workers is None:
        # the batch rule with every file at the bound a thread may hold (see the docstring)
        workers = _default_workers([max_file_bytes] * min(len(todo), 64), len(todo)) if todo else 1
    else:
        # more threads than files would only wait; the binding caps threads at 4096
        workers = max(1, min(int(n_workers), len(todo), 4096))
    log.debug("read_one_reports: %d files, %d threads, files_per_task=%s", len(todo), workers,
              chunk_size or "auto")
    enc, errors = sys.getfilesystemencoding(), sys.getfilesystemencodeerrors()  # os.fsencode's
    # the bar moves between the C reader's blocks of files (the binding calls it there, with
    # the GIL held), never from inside the parallel read
    res = _core.read_one_reports([p.encode(enc, errors) for p in todo], workers, max_file_bytes,
                                 int(chunk_size or 0), None if bar is None else bar.update)
    keys: list = res["keys"]
    pair_start = res["pair_start"].astype(np.int64)
    key_id = res["key_id"]
    value = res["value"]
    n_dup_pairs = res["n_dup_pairs"]
    errors = res["errors"]
    del res  # the arrays go as soon as the frame has them

    ok = np.ones(len(todo), dtype=bool)
    for j, status, errno, line, column, byte_offset, msg in errors:
        p = todo[j]
        if status == "BO_ERR_IO":
            exc = OSError(errno, os.strerror(errno), p)  # FileNotFoundError etc., as open() says
        elif status == "BO_ERR_LIMIT":
            exc = _too_large_error(p, max_file_bytes)
        else:
            exc = ReportParseError(f"{p}, line {line}, column {column + 1} (byte {byte_offset}): "
                                   f"{msg}", path=p, line=line, column=column,
                                   byte_offset=byte_offset)
        ok[j] = False
        fails.add(j if index is None else index[j], exc)
    reserved = [k for k, name in enumerate(keys) if name in _RESERVED]
    if reserved:
        hit = np.flatnonzero(np.isin(key_id, reserved))
        files = np.unique(np.searchsorted(pair_start, hit, side="right") - 1)
        for j in files.tolist():
            ids = key_id[pair_start[j]:pair_start[j + 1]].tolist()
            clash = sorted({keys[k] for k in ids} & _RESERVED)
            ok[j] = False
            fails.add(j if index is None else index[j], _clash_error(todo[j], clash[0]))
    skipped = fails.settle(paths, stacklevel)

    rows = np.flatnonzero(ok)
    if len(rows) == 0:
        df = _empty_frame()
        df.attrs["metrics"] = {}
        df.attrs["paths"] = []
        df.attrs["skipped"] = skipped
        return df
    counts = np.diff(pair_start)
    if len(rows) == len(todo):
        kid, val, cnt = key_id, value, counts
    else:
        keep = np.repeat(ok, counts)
        kid, val, cnt = key_id[keep], value[keep], counts[ok]
    # columns: keys in order of first appearance among the rows kept. Files with an error have
    # no pairs, so the C table is in that order unless a file was dropped after parsing (a
    # clash with a reserved name); then recompute it (a sort, but only in that case).
    if reserved:
        uniq, first = np.unique(kid, return_index=True)
        col_keys = uniq[np.argsort(first, kind="stable")]
    else:
        col_keys = np.arange(len(keys))
    col_of = np.full(len(keys), -1, dtype=np.intp)
    col_of[col_keys] = np.arange(len(col_keys))
    n_rows, n_cols = len(rows), len(col_keys)
    cols = col_of[kid]  # column of each pair
    # column-major (one contiguous row per metric): pandas keeps float columns as rows of one
    # 2-D block, so building the frame copies contiguous memory
    mat = np.full((n_cols, n_rows), np.nan)
    lin = cols * n_rows
    lin += np.repeat(np.arange(n_rows, dtype=np.intp), cnt)
    if n_dup_pairs:
        # a key repeated within a file: the last value wins (the original's dict). Fancy
        # assignment does not promise an order for repeated indices, so keep the last ourselves.
        _, last_rev = np.unique(lin[::-1], return_index=True)
        pick = len(lin) - 1 - last_rev
        lin, val = lin[pick], val[pick]
    mat.reshape(-1)[lin] = val
    del lin, val, kid, key_id, value

    if len(rows) != len(todo):
        groups = [groups[j] for j in rows.tolist()]
    data = dict(zip(ID_COLUMNS, (list(col) for col in zip(*groups))))
    del groups
    for c in _INT_COLUMNS:  # [0-9]+ by the name pattern; numpy parses the digits
        data[c] = np.array(data[c], dtype=np.int64)
    col_names = [keys[k] for k in col_keys.tolist()]
    for j, k in enumerate(col_names):
        data[k] = mat[j]
    import pandas as pd

    df = pd.DataFrame(data)
    del mat
    df.attrs["metrics"] = _metrics_by_type(data["report_type"], cnt, cols, col_names)
    df.attrs["paths"] = list(todo) if len(rows) == len(todo) else [todo[j] for j in rows.tolist()]
    df.attrs["skipped"] = skipped
    return df


def _metrics_by_type(report_types, counts, cols, col_names) -> dict:
    """{report type: column names seen in files of that type, in order of first appearance}."""
    types = list(dict.fromkeys(report_types))
    if len(types) == 1:  # every column was seen in a file of the one type, in column order
        return {types[0]: list(col_names)}
    rt = np.asarray(report_types, dtype=object)
    out = {}
    for t in types:
        c = cols[np.repeat(rt == t, counts)]
        uniq, first = np.unique(c, return_index=True)
        out[t] = [col_names[k] for k in uniq[np.argsort(first, kind="stable")].tolist()]
    return out


# -- the per-file engine: Python threads open and read, C parses --------------------------------


def _parse_one(path: str, max_file_bytes: int):
    """(path, meta, keys, values, None) or (path, None, None, None, error-or-exception)."""
    meta = parse_report_name(path)
    if meta is None:
        return path, None, None, None, _name_error(path)
    try:
        # read() whole, as this engine always did (f.read(max_file_bytes + 1) would allocate
        # that much for every file); the limit gives the same error as the batch engine but
        # does not bound memory here
        with open(path, "rb") as f:
            data = f.read()
        if len(data) > max_file_bytes:
            return path, None, None, None, _too_large_error(path, max_file_bytes)
        _title, keys, values = _core.parse_one_report(data, path)
    except CsvParseError as e:  # the status -> exception mapping names it after the CSV reader
        return path, None, None, None, ReportParseError(
            str(e), path=path, line=e.line, column=e.column, byte_offset=e.byte_offset)
    except OSError as e:
        return path, None, None, None, e
    clash = sorted(set(keys) & _RESERVED)
    if clash:
        return path, None, None, None, _clash_error(path, clash[0])
    return path, meta, keys, values, None


def _parse_chunk(paths: Sequence[str], max_file_bytes: int):
    return [_parse_one(p, max_file_bytes) for p in paths]


def _read_files(paths, n_workers, on_error, chunk_size, max_file_bytes, stacklevel, bar=None):
    import pandas as pd

    n = len(paths)
    workers = int(n_workers) if n_workers is not None else None
    if chunk_size is None:
        guess = workers or max(1, min(4, os.cpu_count() or 1))
        chunk_size = max(1, min(256, math.ceil(n / (4 * guess)))) if n else 1
    chunks = [paths[i:i + chunk_size] for i in range(0, n, chunk_size)]
    if workers is None:
        sizes = []
        for p in paths:
            try:
                sizes.append(os.path.getsize(p))
            except OSError:
                sizes.append(0)  # reading it reports the error
        workers = _default_workers(sizes, len(chunks)) if n else 1
    workers = max(1, min(workers, len(chunks) or 1))
    log.debug("read_one_reports (files): %d files, %d chunks of <= %d, %d workers", n,
              len(chunks), chunk_size, workers)

    results = []
    if workers == 1 or len(chunks) <= 1:
        for c in chunks:
            rs = _parse_chunk(c, max_file_bytes)
            results.extend(rs)
            if bar is not None:
                bar.update(len(rs))
    else:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="blockops-reports") as ex:
            for rs in ex.map(_parse_chunk, chunks, [max_file_bytes] * len(chunks)):
                results.extend(rs)
                if bar is not None:
                    bar.update(len(rs))
    fails = _Failures(on_error)
    rows = []
    for i, (path, meta, keys, values, err) in enumerate(results):
        if err is None:
            rows.append((path, meta, keys, values))
        else:
            fails.add(i, err)
    skipped = fails.settle(paths, stacklevel)

    if not rows:
        df = _empty_frame()
    else:
        col_of: dict[str, int] = {}
        by_type: dict[str, dict[str, None]] = {}
        for _, meta, keys, _ in rows:
            seen = by_type.setdefault(meta["report_type"], {})
            for k in keys:
                col_of.setdefault(k, len(col_of))
                seen[k] = None
        mat = np.full((len(rows), len(col_of)), np.nan)
        for i, (_, _, keys, values) in enumerate(rows):
            # a fancy assignment keeps the last of repeated keys, like a dict
            mat[i, [col_of[k] for k in keys]] = values
        data = {c: [r[1][c] for r in rows] for c in ID_COLUMNS}
        for c in _INT_COLUMNS:
            data[c] = np.asarray(data[c], dtype=np.int64)
        for k, j in col_of.items():
            data[k] = mat[:, j]
        df = pd.DataFrame(data)
        df.attrs["metrics"] = {t: list(s) for t, s in by_type.items()}
    df.attrs.setdefault("metrics", {})
    df.attrs["paths"] = [r[0] for r in rows]
    df.attrs["skipped"] = skipped
    return df


# ---------------------------------------------------------------------------- averaging


def _metrics_for(df, report_type: str, exclude: Sequence[str], id_like: Sequence[str]) -> list:
    """Metric columns of one report type: from attrs when present (it knows "absent" from
    "all NaN"); otherwise every metric column if the frame has one report type, else the
    columns with at least one value among that type's rows."""
    cols = [c for c in df.columns if c not in id_like and c not in exclude]
    known = df.attrs.get("metrics", {}).get(report_type)
    if known is not None:
        keep = set(known)
        return [c for c in cols if c in keep]
    if "report_type" not in df.columns or df["report_type"].nunique() <= 1:
        return cols
    sub = df.loc[df["report_type"] == report_type, cols]
    return [c for c in cols if sub[c].notna().any()]


def average_reports(df, by: Sequence[str] = ("router", "ttl"), *, min_files: int = 1,
                    exclude: Sequence[str] = ("sim_time",)):
    """NaN-mean of every metric per group of report files.

    Parameters
    ----------
    df : pandas.DataFrame
        A frame from :func:`read_one_reports`.
    by : sequence of str
        Grouping columns, e.g. ``("router", "ttl")`` or ``("router", "buffer")``. Groups are
        always also split by ``report_type``.
    min_files : int
        Groups with fewer files are left out (listed in ``attrs["dropped_groups"]``). The
        original averager used 2.
    exclude : sequence of str
        Metrics not averaged (``sim_time``, as in the original).

    Returns
    -------
    pandas.DataFrame
        ``report_type``, the ``by`` columns, ``n_files``, then one column per metric, one row
        per group sorted by the group key. A metric that is NaN in every file of a group is NaN.
        Each mean is ``numpy.nanmean`` over the group's files in path order, exactly as the
        original computed it, so the written averages match its files digit for digit.
    """
    import pandas as pd

    by = [by] if isinstance(by, str) else list(by)
    if not by:
        raise ValueError("by must name at least one column")
    missing = [c for c in by if c not in df.columns]
    if missing:
        raise ValueError(f"by: no column {missing[0]!r} in the frame")
    if int(min_files) != min_files or min_files < 1:
        raise ValueError(f"min_files must be a positive integer, got {min_files!r}")
    keys = ([] if "report_type" in by or "report_type" not in df.columns else ["report_type"]) + by
    id_like = set(ID_COLUMNS) | set(by)
    metric_cols = [c for c in df.columns if c not in id_like and c not in exclude]

    out_rows, dropped, metrics = [], [], {}
    if len(df):
        arrays = {c: df[c].to_numpy(dtype=np.float64) for c in metric_cols}
        groups = df.groupby(keys, sort=True, dropna=False).indices
        for key, idx in sorted(groups.items()):
            key = key if isinstance(key, tuple) else (key,)
            if len(idx) < min_files:
                dropped.append((key, len(idx)))
                continue
            rt = key[0] if keys[0] == "report_type" else None
            cols = _metrics_for(df, rt, exclude, id_like) if rt is not None else metric_cols
            metrics.setdefault(rt, cols)
            row = dict(zip(keys, key))
            row["n_files"] = len(idx)
            idx = np.sort(idx)  # path order, as read
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN -> NaN, on purpose
                for c in cols:
                    # one contiguous 1-D nanmean per column: numpy sums 1-D arrays pairwise and
                    # 2-D axis reductions sequentially, and the original did the former
                    col = np.ascontiguousarray(arrays[c][idx])
                    row[c] = float(np.nanmean(col))
            out_rows.append(row)
    columns = keys + ["n_files"] + metric_cols
    res = pd.DataFrame(out_rows, columns=columns)
    for c in metric_cols:
        res[c] = res[c].astype(np.float64)
    res["n_files"] = res["n_files"].astype(np.int64)
    for c in keys:
        if c in _INT_COLUMNS and len(res):
            res[c] = res[c].astype(np.int64)
    res.attrs["kind"] = "report_averages"
    res.attrs["by"] = list(by)
    res.attrs["metrics"] = {k: list(v) for k, v in metrics.items() if k is not None}
    res.attrs["dropped_groups"] = dropped
    return res


# ---------------------------------------------------------------------------- writing


def _is_averages(df) -> bool:
    return df.attrs.get("kind") == "report_averages" or (
        "n_files" in df.columns and "seed" not in df.columns)


def _average_name(report_type, by: Sequence[str], values) -> str:
    suffix = "_".join(c for c in by if c != "router") or "_".join(by)
    parts = ([str(report_type)] if report_type is not None else []) + [str(v) for v in values]
    return "_".join(parts) + f"_{suffix}_average.txt"


def write_averages(df_or_averages, out_dir, *, by=None, min_files: int = 1, precision: int = 4,
                   exclude: Sequence[str] = ("sim_time",)) -> list:
    """Write averaged reports in the original averager's format.

    One file per group, named ``<ReportType>_<router>_<value>_<ttl|buffer>_average.txt``
    (e.g. ``MessageStatsReport_EpidemicRouter_104_ttl_average.txt``), holding ``key: value``
    lines with keys sorted, values with ``precision`` decimals (``nan`` when a group has no
    value), ``\\n`` line endings and no title line. Existing files are overwritten.

    Parameters
    ----------
    df_or_averages : pandas.DataFrame
        A frame from :func:`average_reports` (written as is), or one from
        :func:`read_one_reports`, which is averaged first with ``min_files``/``exclude`` for
        each grouping in ``by``.
    out_dir : str or path-like
        Created if missing.
    by : sequence of str or list of them, optional
        Only for a frame of reports: the grouping(s). Default: both ``("router", "ttl")`` and
        ``("router", "buffer")``, as the original tool wrote.

    Returns
    -------
    list of str
        The written paths, sorted.
    """
    if int(precision) != precision or precision < 0:
        raise ValueError(f"precision must be a non-negative integer, got {precision!r}")
    df = df_or_averages
    if _is_averages(df):
        if by is not None:
            raise ValueError("by applies to a frame of reports; this frame is already averaged")
        frames = [df]
    else:
        if by is None:
            groupings = [("router", "ttl"), ("router", "buffer")]
        elif isinstance(by, str) or all(isinstance(b, str) for b in by):
            groupings = [by]
        else:
            groupings = list(by)
        frames = [average_reports(df, g, min_files=min_files, exclude=exclude)
                  for g in groupings]

    out_dir = os.fspath(out_dir)
    os.makedirs(out_dir, exist_ok=True)
    written = []
    for avg in frames:
        gby = avg.attrs.get("by")
        if gby is None:  # infer: the columns between report_type and n_files
            cols = list(avg.columns)
            gby = [c for c in cols[:cols.index("n_files")] if c != "report_type"]
        id_like = set(ID_COLUMNS) | set(gby) | {"n_files"}
        # column lists, not iterrows: a row Series would upcast the int keys to float
        values = {c: avg[c].tolist() for c in avg.columns}
        for i in range(len(avg)):
            rt = values["report_type"][i] if "report_type" in values else None
            cols = sorted(_metrics_for(avg, rt, exclude, id_like) if rt is not None else
                          [c for c in avg.columns if c not in id_like and c not in exclude])
            # the original wrote f"{field}: {value:.4f}\n" for each sorted field
            text = "".join(f"{c}: {float(values[c][i]):.{precision}f}\n" for c in cols)
            path = os.path.join(out_dir, _average_name(rt, gby, [values[c][i] for c in gby]))
            with open(path, "wb") as f:
                f.write(text.encode("utf-8"))
            written.append(path)
    return sorted(written)
