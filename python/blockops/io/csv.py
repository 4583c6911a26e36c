"""Block-chunked CSV reader: typed columns in bounded memory, parsed in parallel in C.

:class:`CsvBlockReader` streams a CSV file (or many) as a sequence of pandas DataFrames (or
dicts of NumPy arrays), one per block of about ``blocksize`` bytes; :func:`read_csv` reads
everything into one frame. See ``docs/csv.md`` for the dialect, the type rules, where they
differ from :func:`pandas.read_csv`, and the memory bound.

Memory: a block is parsed in slices of ``SLICE_BYTES``. A regular file is memory-mapped one
block at a time, the pages of each parsed slice leave RSS at once and the window is unmapped
before its block is handed out, so about one slice of the file is resident; other sources
(file objects, pipes, ``memory_map=False``) hold two raw blocks (the block being parsed and the
next one being read by a background thread). Add one slice's row index and the block's
converted columns. Peak RSS while iterating stays below ``base + (n_threads + k) * blocksize *
EXPANSION`` (``k`` the raw blocks: 1 mapped, ``MAX_BLOCKS_IN_FLIGHT`` = 2 read) and does not
grow with the size of the file; ``docs/csv.md`` gives the closer estimate.
"""
from __future__ import annotations

import dataclasses
import glob
import io
import logging
import mmap
import os
import re
import stat
import sys
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterator

import numpy as np

from .. import _compat, _config, _core
from .._errors import CsvParseError, LimitError

__all__ = [
    "DEFAULT_NA_VALUES",
    "EXPANSION",
    "INFER_BYTES",
    "MAX_BLOCKS_IN_FLIGHT",
    "SLICE_BYTES",
    "CsvBadLineWarning",
    "CsvBlockReader",
    "CsvStats",
    "DEFAULT_BLOCKSIZE",
    "default_blocksize",
    "parse_size",
    "read_csv",
]

log = logging.getLogger("blockops")

#: Documented bound on memory per block: raw bytes + row index (4 bytes per field) + converted
#: columns (+ the read-ahead buffer when the source is read, not mapped) stay below
#: ``EXPANSION * blocksize`` per thread slot.
EXPANSION = 4
#: Largest default block size; :func:`default_blocksize` plans one at most this big.
DEFAULT_BLOCKSIZE = 64 * 2**20
#: Raw blocks alive at once when a source is read (file objects, pipes, ``memory_map=False``):
#: the one being parsed and the one being read ahead. A mapped file has one.
MAX_BLOCKS_IN_FLIGHT = 2
#: Column types are inferred from the complete rows in the first INFER_BYTES of the data (not
#: from the first block), so inferred types do not depend on the block size.
INFER_BYTES = 1 << 20

#: pandas' default missing-value strings (``pandas.read_csv``'s ``keep_default_na``).
DEFAULT_NA_VALUES = (
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
)

# C type codes (csrc/include/blockops/bo_csv.h, enum bo_csv_type)
_T_INT8, _T_INT16, _T_INT32, _T_INT64, _T_F32, _T_F64, _T_BOOL, _T_STR = range(8)
_T_WKT, _T_HEX, _T_DT, _T_DT_ISO = 8, 9, 10, 11
_INT_CODES = {"int8": _T_INT8, "int16": _T_INT16, "int32": _T_INT32, "int64": _T_INT64}
_NP_OF = {_T_INT8: np.int8, _T_INT16: np.int16, _T_INT32: np.int32, _T_INT64: np.int64,
          _T_F32: np.float32, _T_F64: np.float64, _T_BOOL: np.bool_, _T_HEX: np.uint64}

#: A block is tokenized and converted in slices of about this many bytes (each cut where the
#: previous slice's complete rows end, as blocks are), so only one slice's row index and, for a
#: mapped file, one slice's file pages are in memory at once, not the whole block's; the block
#: handed out is the same. The index of a 64 MB block was 18 MiB and its mapped pages 61 MiB
#: of the streaming reader's 264 MiB peak (1 GB BSM file, 11 columns). Measured there (VmHWM,
#: imports included): 8 MiB slices 181 MiB, 6 MiB 177, 4 MiB 175, in about the same time on a
#: quiet machine (each slice adds a few waits between parallel steps, which cost more when
#: other processes take the CPUs). 4 MiB still gives each of two threads 2 MB to tokenize
#: (the tokenizer splits from 1 MiB per thread) and about 15,000 rows to convert.
SLICE_BYTES = 4 << 20

_BOM = b"\xef\xbb\xbf"
_MAX_SKIPPED_LINES = 100
_MAX_WARNINGS = 20


class CsvBadLineWarning(UserWarning):
    """A bad row was dropped (``on_bad_lines="warn"``)."""


_SIZE_RE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*([kmgt]?i?b?)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9,
          "gb": 10**9, "t": 10**12, "tb": 10**12, "kib": 2**10, "mib": 2**20, "gib": 2**30,
          "tib": 2**40, "ki": 2**10, "mi": 2**20, "gi": 2**30, "ti": 2**40}


def default_blocksize(n_threads: int) -> int:
    """The reader's default block size: :func:`blockops.resources.plan` for ``n_threads``
    slots at the reader's ``EXPANSION`` (75% of the effective available memory, cgroup limits
    included), capped at ``DEFAULT_BLOCKSIZE``; 1 MiB when even that does not fit."""
    from ..resources import plan
    from .._errors import BlockopsError

    try:
        return plan(n_cpus=max(1, n_threads), expansion=EXPANSION,
                    max_block=DEFAULT_BLOCKSIZE).block_size
    except BlockopsError:
        return 1 << 20


def parse_size(value, name: str = "size") -> int:
    """``64MB`` -> 64_000_000, ``"1MiB"`` -> 1_048_576, ints pass through (must be >= 1)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        n = int(value)
    elif isinstance(value, str):
        m = _SIZE_RE.match(value)
        unit = (m.group(2) or "").lower() if m else None
        if not m or unit not in _UNITS:
            raise ValueError(f"{name}={value!r} is not a size (examples: 65536, '64MB', '1MiB')")
        n = int(float(m.group(1)) * _UNITS[unit])
    else:
        raise TypeError(f"{name} must be an int or a string like '64MB', not {type(value).__name__}")
    if n < 1:
        raise ValueError(f"{name} must be at least 1 byte, got {value!r}")
    return n


@dataclasses.dataclass
class CsvStats:
    """Counters of a read. Invariant: ``rows_in == rows_out + rows_skipped``."""

    bytes_read: int = 0
    rows_in: int = 0
    rows_out: int = 0
    rows_skipped: int = 0
    skipped_lines: list = dataclasses.field(default_factory=list)  # (path, line), first 100
    blocks: int = 0
    files: int = 0


@dataclasses.dataclass(frozen=True)
class _Spec:
    """How one selected input field becomes output column(s)."""

    field: int
    name: Any
    code: int
    nullable: bool = False
    fmt: str | None = None
    category: bool = False
    dtype_name: str = ""

    def out_names(self):
        if self.code == _T_WKT:
            if self.fmt:  # "wkt_point:LON,LAT"
                return self.fmt.split(",")
            return [f"{self.name}_lon", f"{self.name}_lat"]
        return [self.name]


def _parse_dtype(spec, col) -> tuple[int, bool, str | None, bool, str]:
    """dtype spec -> (code, nullable, datetime format, category, canonical name)."""
    if isinstance(spec, type) and spec is str:
        spec = "str"
    if not isinstance(spec, str):
        try:
            spec = np.dtype(spec).name
        except TypeError:
            spec = str(spec)
    s = spec.strip()
    low = s.lower()
    if low in _INT_CODES:
        return _INT_CODES[low], s[0] == "I", None, False, s
    if low in ("float32", "float64", "float"):
        return (_T_F32 if low == "float32" else _T_F64), False, None, False, low
    if low in ("bool", "boolean"):
        return _T_BOOL, low == "boolean", None, False, low
    if low in ("str", "string", "object"):
        return _T_STR, True, None, False, "str"
    if low == "category":
        return _T_STR, True, None, True, "category"
    if low == "wkt_point":
        return _T_WKT, False, None, False, low
    if low.startswith("wkt_point:"):
        names = [x.strip() for x in s.split(":", 1)[1].split(",")]
        if len(names) != 2 or not all(names) or names[0] == names[1]:
            raise ValueError(f"dtypes[{col!r}] = {spec!r}: give two output names, "
                             "e.g. 'wkt_point:x_pos,y_pos' (longitude first)")
        return _T_WKT, False, ",".join(names), False, "wkt_point"
    if low == "hex":
        return _T_HEX, False, None, False, low
    if low in ("datetime", "datetime:iso", "datetime64", "datetime64[ns]"):
        return _T_DT_ISO, False, None, False, "datetime:iso"
    if low.startswith("datetime:"):
        return _T_DT, False, s.split(":", 1)[1], False, s
    raise ValueError(
        f"dtypes[{col!r}] = {spec!r} is not supported; use one of int8/16/32/64, Int8/16/32/64, "
        "float32, float64, bool, boolean, str, category, wkt_point, hex, datetime, "
        "datetime:<format>"
    )


def _mangle(names: list[str]) -> list[str]:
    """Duplicate header names get .1, .2 ... suffixes (as pandas does)."""
    seen: dict[str, int] = {}
    out = []
    for n in names:
        if n in seen:
            k = seen[n]
            while f"{n}.{k}" in seen:
                k += 1
            seen[n] = k + 1
            n = f"{n}.{k}"
        seen[n] = seen.get(n, 1)
        out.append(n)
    return out


# ---------------------------------------------------------------------------------- sources

class _Source:
    __slots__ = ("name", "path", "fileobj", "size", "start", "end")

    def __init__(self, name, path=None, fileobj=None, size=None, start=0, end=None):
        self.name, self.path, self.fileobj, self.size = name, path, fileobj, size
        self.start, self.end = start, end

    def open(self):
        if self.fileobj is not None:
            return self.fileobj, False
        if self.start or self.end is not None:
            return _RangeFile(self.path, self.start, self.end), True
        return open(self.path, "rb", buffering=0), True


class _RangeFile:
    """Bytes [start, end) of a file, read like a file (a Dask partition's byte range)."""

    def __init__(self, path, start, end):
        self._f = open(path, "rb", buffering=0)
        self.prev_cr = False  # the byte before the range ends a line with CR (line counting)
        if start:
            self._f.seek(start - 1)
            self.prev_cr = self._f.read(1) == b"\r"
        self._f.seek(start)
        self._left = (end - start) if end is not None else None

    def read(self, n=-1):
        if self._left is not None:
            n = self._left if n < 0 else min(n, self._left)
            if n <= 0:
                return b""
        b = self._f.read(n)
        if self._left is not None:
            self._left -= len(b)
        return b

    def readinto(self, mv) -> int:
        mv = memoryview(mv).cast("B")
        if self._left is not None:
            if self._left <= 0:
                return 0
            mv = mv[:self._left]
        k = self._f.readinto(mv) or 0
        if self._left is not None:
            self._left -= k
        return k

    def close(self):
        self._f.close()


def _is_regular_file(path, nonempty: bool = False) -> bool:
    try:
        st = os.stat(path)
    except OSError:
        return False
    return stat.S_ISREG(st.st_mode) and (st.st_size > 0 or not nonempty)


class _MappedFile:
    """Bytes [start, end) of a regular file, served block by block as read-only views into
    memory-mapped windows: no read buffer, no copy, no read-ahead thread.

    Each block is one mapping of the bytes from its first unconsumed byte (the mapping starts
    at that offset rounded down to ``mmap.ALLOCATIONGRANULARITY``), so the partial row at the
    end of a block is simply mapped again at the start of the next window, and a row longer
    than the block just gets a longer window. :meth:`release` unmaps the window as soon as its
    block is converted, and the reader takes each parsed slice's pages out of RSS before (see
    ``maps``): file pages are only in this process's RSS while their slice is being tokenized
    and converted, whatever the file size. Reading ahead is left to the kernel: when a window
    is mapped, the next block's bytes are requested with ``POSIX_FADV_WILLNEED`` (what
    ``MADV_WILLNEED`` does for a file mapping, without mapping the next window yet), so the disk
    reads them while this block is parsed (the first block's bytes are requested before its
    window is touched). Not ``MADV_SEQUENTIAL``: Linux does not mark pages accessed through such
    a mapping when it is unmapped (``vma_has_recency``), so a file read this way would look
    unused to reclaim (LRU aging, DAMON) and leave the page cache sooner than one read with
    ``read()``, making the next read of the same file go to the disk.
    ``MAP_POPULATE`` (the whole window's page tables in the ``mmap`` call) measured no faster
    than the tokenizer's threads faulting the pages in (about 0.07 s per GB either way on a
    cached file, against 0.22 s per GB for ``readinto`` copies) and blocks on a cold file.

    The file is not copied, so truncating it while it is read is undefined (the process can
    get SIGBUS), as with pandas' and pyarrow's ``memory_map``; the size is taken when the file
    is opened, and bytes appended later are not read.
    """

    #: Blocks are views of a read-only file mapping: once a slice is parsed, its pages can be
    #: taken out of RSS (``MADV_DONTNEED``, see ``bo_csv_count_lines_par``) and come back from
    #: the page cache if read again.
    maps = True

    def __init__(self, path, start: int, end, blocksize: int, max_len: int):
        self._f = open(path, "rb", buffering=0)
        try:
            fd = self._f.fileno()
            size = os.fstat(fd).st_size
            self._end = size if end is None else min(end, size)
            self._start = min(start, self._end)
            self.prev_cr = False  # the byte before a range ends a line with CR (as _RangeFile)
            if start:
                self._f.seek(start - 1)
                self.prev_cr = self._f.read(1) == b"\r"
            if hasattr(os, "posix_fadvise") and self._end > self._start:
                os.posix_fadvise(fd, self._start, self._end - self._start,
                                 os.POSIX_FADV_SEQUENTIAL)
        except BaseException:
            self._f.close()
            raise
        self.blocksize = blocksize
        self.max_len = max_len
        self._mm = None
        self._off = self._hi = self._start  # the current view is file bytes [_off, _hi)
        self.eof = True

    def _map(self, off: int, hi: int):
        self.release()
        hi = max(off, min(self._end, hi))
        self._off, self._hi = off, hi
        self.eof = hi >= self._end
        if hi == off:
            return memoryview(b"")
        fd = self._f.fileno()
        base = off - off % mmap.ALLOCATIONGRANULARITY
        mm = mmap.mmap(fd, hi - base, access=mmap.ACCESS_READ, offset=base)
        self._mm = mm
        self._willneed(hi, self.blocksize)  # the next block's new bytes
        with memoryview(mm) as whole:
            return whole[off - base:]

    # The same bytes as _ReadAhead hands out (the unconsumed tail, then the next blocksize
    # bytes of the file), so both sources cut a file into the same blocks.
    def start(self, first: int):
        """The first ``first`` bytes."""
        self._willneed(self._start, first)
        return self._map(self._start, self._start + first)

    def _willneed(self, off: int, n: int) -> None:
        """Ask the kernel to start reading file bytes [off, off + n) (asynchronous; about
        2 ms per GB when they are cached already)."""
        n = min(n, self._end - off)
        if n > 0 and hasattr(os, "posix_fadvise"):
            os.posix_fadvise(self._f.fileno(), off, n, os.POSIX_FADV_WILLNEED)

    def next(self, consumed: int):
        """The next block: the bytes of the current one the caller did not consume, then the
        next ``blocksize`` bytes of the file."""
        return self._map(self._off + consumed, self._hi + self.blocksize)

    def grow(self, consumed: int):
        """The unconsumed bytes followed by (at least) as many more again, for a row or a
        header longer than the window: geometric growth, so a long row costs O(row) and not
        O(row^2 / blocksize); never beyond ``max_len`` (``blocksize + max_row_bytes``: the
        tokenizer stops a longer row first)."""
        off = self._off + consumed
        rest = self._hi - off
        return self._map(off, min(self._hi + self.blocksize + max(0, rest - self.blocksize),
                                  off + self.max_len))

    def release(self) -> None:
        """Unmap the current window. The caller has dropped its views of it; should one still
        be alive (a traceback holding a frame), the mapping lives until that view dies, so
        nothing ever points into unmapped memory."""
        mm, self._mm = self._mm, None
        if mm is not None:
            try:
                mm.close()
            except BufferError:
                log.debug("csv: a view of a mapped block is still alive; unmapped when it dies")

    def close(self) -> None:
        self.release()
        self._f.close()


def _range_reader(path, start, end, *, names, specs, row0, line0, options) -> "CsvBlockReader":
    """A reader over bytes [start, end) of path, which start at a row boundary, with the
    column names and types fixed in advance (so every range parses alike)."""
    opts = dict(options)
    opts["header"] = False
    opts.pop("columns", None)
    opts.pop("dtypes", None)
    r = CsvBlockReader(path, **opts)
    r._sources = [_Source(path, path=path, size=end - start, start=start, end=end)]
    r._names = list(names)
    r._specs = list(specs)
    r._row_base = row0
    r._line_base0 = line0
    return r


def _resolve_sources(source) -> list[_Source]:
    if hasattr(source, "readinto") or hasattr(source, "read"):
        if isinstance(source, io.TextIOBase):
            raise TypeError("source must be opened in binary mode ('rb'), not text mode")
        return [_Source(str(getattr(source, "name", "<file object>")), fileobj=source)]
    if isinstance(source, (str, os.PathLike)):
        s = os.fspath(source)
        if any(ch in s for ch in "*?[") and not os.path.exists(s):
            paths = sorted(glob.glob(s))
            if not paths:
                raise FileNotFoundError(f"no file matches {s!r}")
        else:
            paths = [s]
    elif isinstance(source, (list, tuple)):
        paths = [os.fspath(p) for p in source]
        if not paths:
            raise ValueError("source is an empty list")
    else:
        raise TypeError(f"source must be a path, a list of paths, a glob or a binary file object, "
                        f"not {type(source).__name__}")
    out = []
    for p in paths:
        if not os.path.exists(p):
            raise FileNotFoundError(f"{p}: no such file")
        out.append(_Source(p, path=p, size=os.path.getsize(p)))
    return out


def _na_bytes(values) -> tuple:
    return tuple(v.encode("utf-8") for v in values)


# ---------------------------------------------------------------------------------- reader

class CsvBlockReader:
    """Iterate over a CSV source block by block.

    Parameters
    ----------
    source : str, os.PathLike, list of paths, glob pattern or binary file object
        A glob (``"data/*.csv"``) is expanded and sorted. With several files, the first row of
        every file is its header (``header=True``) and all headers must be equal.
    blocksize : int or str, optional
        Bytes read per block (``"64MB"`` = 64e6, ``"64MiB"`` = 2**26). A row longer than the
        block makes the block grow, up to ``max_row_bytes``. By default the block size comes
        from :func:`blockops.resources.plan` for this reader (its ``n_threads`` slots and
        ``EXPANSION``, within 75% of the memory this process may use, containers included),
        capped at ``DEFAULT_BLOCKSIZE`` (64 MiB): 64 MiB on any machine with a few GiB free,
        smaller in a tight container.
    columns : list of str or int, optional
        Columns to keep, by name or 0-based position, in the order given. Only these are
        converted.
    dtypes : dict or str, optional
        Column -> dtype: ``int8`` .. ``int64`` (missing values are an error), ``Int8`` ..
        ``Int64`` (nullable), ``float32``, ``float64``, ``bool``, ``boolean`` (nullable),
        ``str``, ``category``, ``wkt_point`` (``POINT (lon lat)`` -> ``<col>_lon``,
        ``<col>_lat`` float64), ``hex`` (-> uint64), ``datetime`` (ISO 8601) or
        ``datetime:<format>`` (e.g. ``"datetime:%m/%d/%Y %I:%M:%S %p"``) -> ``datetime64[ns]``.
        Columns without a dtype are inferred from the first block as pandas would.
    header : bool, default True
        Whether the first row of each file holds the column names (else names are 0..n-1).
    delimiter, quotechar : str
        Single ASCII characters; ``quotechar=None`` disables quoting.
    na_values : list or dict of lists, optional
        Extra strings read as missing (per column with a dict).
    keep_default_na : bool, default True
        Also treat pandas' default missing strings (:data:`DEFAULT_NA_VALUES`) as missing.
    on_bad_lines : {"error", "skip", "warn"}
        What to do with a row that has the wrong number of fields, an unterminated quote or a
        value its column's type cannot hold: raise :class:`blockops.CsvParseError` naming the
        file, line, column and value; drop it silently; or drop it with a
        :class:`CsvBadLineWarning`. Dropped rows are counted in :attr:`stats`.
    max_row_bytes : int or str, default "16MB"
        A longer row raises :class:`blockops.LimitError` (no unbounded allocation).
    rename : dict, optional
        Output column renames applied last, e.g. ``{"pos_lon": "x_pos"}``.
    n_threads : int, optional
        Threads used to parse each block (default: :func:`blockops.get_num_threads`).
        Results do not depend on it.
    progress : bool, default False
        Show a tqdm progress bar in bytes.
    as_arrays : bool, default False
        Yield ``dict[str, numpy.ndarray]`` instead of DataFrames; nullable columns become
        ``numpy.ma.MaskedArray``, strings object arrays; key ``"__row__"`` holds row numbers.
    memory_map : bool or None, default None
        ``None``: memory-map regular files given by path, one window per block (no read
        buffer, no copy; the window is unmapped before its block is handed out, and the kernel
        reads ahead), and read everything else (file objects, pipes, devices, files of size 0
        such as procfs's, file systems without mmap). ``True``: map, and raise ``ValueError``
        for a file object or a file that is not regular. ``False``: read every
        source with a read-ahead thread into two reused buffers. Results are the same either
        way. Truncating or rewriting a mapped file while it is read is undefined (the process
        may get ``SIGBUS``), as with pandas' and pyarrow's ``memory_map``.

    Notes
    -----
    Every block's index is the global data-row number (0-based over all files; the header
    and blank lines are not rows; a dropped bad row leaves a gap), so later operators can key
    on it. :attr:`stats` counts bytes, rows in/out/skipped and blocks.
    """

    def __init__(self, source, *, blocksize=None, columns=None, dtypes=None, header=True,
                 delimiter=",", quotechar='"', na_values=None, keep_default_na=True,
                 on_bad_lines="error", max_row_bytes="16MB", rename=None, n_threads=None,
                 progress=False, as_arrays=False, memory_map=None):
        self._sources = _resolve_sources(source)
        if memory_map not in (None, True, False):
            raise ValueError(f"memory_map must be None (regular files), True or False, "
                             f"not {memory_map!r}")
        if memory_map:
            for s in self._sources:
                if s.fileobj is not None or not _is_regular_file(s.path):
                    raise ValueError(f"memory_map=True needs regular files given by path; "
                                     f"{s.name} is " + ("a file object" if s.fileobj is not None
                                                         else "not a regular file"))
        self.memory_map = memory_map
        self.n_threads = _config.resolve_threads(n_threads)
        self.blocksize = (default_blocksize(self.n_threads) if blocksize is None
                          else parse_size(blocksize, "blocksize"))
        self.max_row_bytes = parse_size(max_row_bytes, "max_row_bytes")
        if on_bad_lines not in ("error", "skip", "warn"):
            raise ValueError(f"on_bad_lines must be 'error', 'skip' or 'warn', not {on_bad_lines!r}")
        for nm, ch in (("delimiter", delimiter), ("quotechar", quotechar)):
            if ch is None and nm == "quotechar":
                continue
            if not isinstance(ch, str) or len(ch) != 1 or ord(ch) > 127 or ch in "\r\n":
                raise ValueError(f"{nm} must be a single ASCII character other than CR/LF, "
                                 f"got {ch!r}")
        if quotechar is not None and quotechar == delimiter:
            raise ValueError("delimiter and quotechar must differ")
        self.delimiter, self.quotechar = delimiter, quotechar
        self.header = bool(header)
        self.columns = None if columns is None else list(columns)
        self.dtypes = dtypes
        self.na_values = na_values
        self.keep_default_na = bool(keep_default_na)
        self.on_bad_lines = on_bad_lines
        self.rename = dict(rename or {})
        self.progress = bool(progress)
        self.as_arrays = bool(as_arrays)
        self.stats = CsvStats()
        self._names: list | None = None
        self._specs: list[_Spec] | None = None
        self._n_fields: int | None = None
        self._gen = None
        self._closed = False
        self._warned = 0
        self._pool: ThreadPoolExecutor | None = None
        self._ring: _ReadAhead | None = None
        self._bar = None
        self._slice_bytes = SLICE_BYTES  # (tests make it tiny)
        self._cspecs = None  # (specs, csv_convert's form of them)
        self._row_base = 0  # global row number of the first data row (set for file ranges)
        self._line_base0 = 1  # file line number of the first byte (set for file ranges)

    # -- public ------------------------------------------------------------------------
    def __iter__(self):
        if self._gen is None:
            self._gen = self._blocks()
        return self

    def __next__(self):
        if self._closed:
            raise StopIteration
        if self._gen is None:
            self._gen = self._blocks()
        return next(self._gen)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self) -> None:
        """Stop reading, close files and the read-ahead thread."""
        if self._gen is not None:
            self._gen.close()
        self._closed = True

    @property
    def specs(self) -> list[_Spec] | None:
        """Per selected column: field index, output type (known after the first block)."""
        return self._specs

    def meta(self):
        """An empty frame with the output columns and dtypes.

        Known after the first block; before that, a second reader parses the first MiB of
        the first file, which is where types are inferred from, skipping bad rows (they are
        the real read's business). File objects cannot be re-read: iterate first.
        """
        if self._specs is None:
            first = self._sources[0]
            if first.fileobj is not None:
                raise ValueError("meta() of a file-object source is known after the first block")
            opts = {**self._options(), "blocksize": INFER_BYTES, "on_bad_lines": "skip"}
            with CsvBlockReader(first.path, **opts) as r:
                next(iter(r), None)
                return _empty_frame(r._specs or [], self.rename)
        return _empty_frame(self._specs, self.rename)

    def _options(self) -> dict:
        return dict(blocksize=self.blocksize, columns=self.columns, dtypes=self.dtypes,
                    header=self.header, delimiter=self.delimiter, quotechar=self.quotechar,
                    na_values=self.na_values, keep_default_na=self.keep_default_na,
                    on_bad_lines=self.on_bad_lines, max_row_bytes=self.max_row_bytes,
                    rename=self.rename, n_threads=self.n_threads, memory_map=self.memory_map)

    # -- internals ---------------------------------------------------------------------
    def _na_for(self, name) -> tuple:
        vals = list(DEFAULT_NA_VALUES) if self.keep_default_na else []
        nv = self.na_values
        if isinstance(nv, dict):
            extra = nv.get(name, ())
        elif nv is None:
            extra = ()
        else:
            extra = nv
        if isinstance(extra, str):
            extra = [extra]
        vals.extend(str(v) for v in extra)
        return _na_bytes(dict.fromkeys(vals))

    def _select(self, names: list) -> list[tuple[int, Any]]:
        if self.columns is None:
            return list(enumerate(names))
        out = []
        for c in self.columns:
            if isinstance(c, (int, np.integer)) and not isinstance(c, bool) and (
                    not self.header or c not in names):
                if not 0 <= int(c) < len(names):
                    raise ValueError(f"column position {c} out of range: the file has "
                                     f"{len(names)} columns")
                out.append((int(c), names[int(c)]))
            elif c in names:
                out.append((names.index(c), c))
            else:
                raise ValueError(f"column {c!r} not in the file's header {names!r}")
        return out

    def _dtype_for(self, name):
        d = self.dtypes
        if d is None:
            return None
        if isinstance(d, dict):
            return d.get(name)
        return d

    def _where(self, src: _Source, line: int | None, column=None) -> str:
        s = f"{src.name}, line {line}" if line is not None else src.name
        return s if column is None else f"{s}, column {column!r}"

    def _bad(self, src, line, column, message, value=None, byte_offset=None, exc=CsvParseError):
        text = f"{self._where(src, line, column)}: {message}"
        return exc(text, path=src.name, line=line, column=column, value=value,
                   byte_offset=byte_offset)

    def _header(self, src, data, line_base) -> tuple[list, int, int]:
        """Parse the header row at the start of data -> (names, consumed, lines)."""
        q = self.quotechar
        ix, n_rows, nf, consumed, _, err = _core.csv_tokenize(
            data, len(data), self.delimiter, q, 0, True, 1, self.max_row_bytes, 1)
        if err is not None:
            raise self._bad(src, line_base, None, err[1], exc=LimitError, byte_offset=err[2])
        if n_rows == 0:
            return [], consumed, _core.csv_count_lines(data, 0, consumed)
        specs = [(f, _T_STR, True, (), None) for f in range(nf)]
        outs, _, _ = _core.csv_convert(data, ix, specs, q, 1, False)
        names = []
        for (offs, raw), _mask in outs:
            try:
                names.append(bytes(raw[offs[0]:offs[1]]).decode("utf-8"))
            except UnicodeDecodeError as e:
                raise self._bad(src, line_base, None, f"header is not UTF-8: {e}") from None
        return _mangle(names), consumed, _core.csv_count_lines(data, 0, consumed)

    def _setup(self, names: list, data=None, ix=None) -> None:
        """Choose specs from the header (and the first block's index for inference)."""
        sel = self._select(names)
        specs = []
        for field, name in sel:
            d = self._dtype_for(name)
            if d is None:
                if ix is None:
                    specs.append(_Spec(field, name, _T_STR, True, None, False, "object"))
                    continue
                t, has_na = _core.csv_infer(data, ix, field, self.quotechar, self._na_for(name))
                if t == _T_INT64 and has_na:
                    t = _T_F64
                nullable = t == _T_STR or (t == _T_BOOL and has_na)
                dn = {_T_INT64: "int64", _T_F64: "float64", _T_BOOL: "boolean" if nullable else "bool",
                      _T_STR: "str"}[t]
                specs.append(_Spec(field, name, t, nullable, None, False, dn))
            else:
                code, nullable, fmt, cat, dn = _parse_dtype(d, name)
                specs.append(_Spec(field, name, code, nullable, fmt, cat, dn))
        if isinstance(self.dtypes, dict) and names:
            unknown = [k for k in self.dtypes if k not in names]
            if unknown:
                raise ValueError(f"dtypes names columns not in the header: {unknown!r}")
        outs = [self.rename.get(o, o) for sp in specs for o in sp.out_names()]
        dup = sorted({o for o in outs if outs.count(o) > 1}, key=str)
        if dup:
            raise ValueError(
                f"output column names {dup!r} would appear twice (a wkt_point column makes "
                "<col>_lon and <col>_lat, which may already exist, as coreData_position_lat does "
                "in BSM files): name its outputs with dtypes={col: 'wkt_point:LON,LAT'}, or "
                "leave the other column out of columns=")
        self._specs = specs

    def _needs_inference(self) -> bool:
        d = self.dtypes
        if d is None:
            return True
        if not isinstance(d, dict):
            return False
        return self.columns is None or any(c not in d for c in self.columns)

    def _infer_setup(self, view, n, nf, eof, has_rows) -> None:
        """Choose column types from the complete rows in the first INFER_BYTES of the first
        block ``view[:n]`` (all of its rows when not one ends in the first INFER_BYTES), so
        the types depend on neither the slice size nor, unless a row is that long, the block
        size. ``has_rows``: the block has complete rows (else every type is ``object``)."""
        ix = None
        if has_rows:
            for m in dict.fromkeys((min(n, INFER_BYTES), n)):
                ix, n_inf, _, _, _, err = _core.csv_tokenize(
                    view, m, self.delimiter, self.quotechar, nf, eof and m == n, 0,
                    self.max_row_bytes, 1)
                if err is None and n_inf:
                    break
                ix = None  # (an error here is the slices' to report)
        self._setup(self._names, view, ix)

    def _blocks(self) -> Iterator:
        if self.progress:
            from tqdm.auto import tqdm

            total = sum(s.size or 0 for s in self._sources) or None
            self._bar = tqdm(total=total, unit="B", unit_scale=True, desc="read_csv")
        try:
            row0 = self._row_base
            for src in self._sources:
                self.stats.files += 1
                for item in self._file_blocks(src, row0):
                    row0 = item[1]
                    if item[0] is not None:
                        yield item[0]
            if self._specs is None:  # nothing at all was read: empty frame with what we know
                names = self._names or (list(self.columns) if self.columns else
                                        list(self.dtypes) if isinstance(self.dtypes, dict) else [])
                self._setup(names, None, None)
                yield self._empty_block()
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)
            if self._bar is not None:
                self._bar.close()
            self._closed = True

    def _empty_block(self):
        if self.as_arrays:
            d = {n: np.empty(0, dtype=c.dtype) for n, c in _empty_frame(self._specs, self.rename).items()}
            d["__row__"] = np.empty(0, dtype=np.int64)
            return d
        return _empty_frame(self._specs, self.rename)

    def _maps(self, src: _Source) -> bool:
        """Whether src is read through memory-mapped windows: regular files given by path,
        unless ``memory_map=False``. A regular file of size 0 is read (nothing to map, and
        procfs/sysfs files say 0 but have content)."""
        if self.memory_map is False or src.fileobj is not None:
            return False
        return _is_regular_file(src.path, nonempty=True)

    def _file_blocks(self, src: _Source, row0: int):
        bs = self.blocksize
        first = max(bs, INFER_BYTES) if self._specs is None and self._needs_inference() else bs
        first = max(first, len(_BOM))  # a BOM is never split
        if self._maps(src):
            blocks = _MappedFile(src.path, src.start, src.end, bs, bs + self.max_row_bytes)
            try:
                try:
                    data = blocks.start(first)
                except OSError as e:  # a file system that cannot map (ENODEV): read it instead
                    if self.memory_map:
                        raise
                    log.debug("csv: %s cannot be memory-mapped (%s); reading it", src.name, e)
                    data = None
                if data is not None:
                    gen = self._file_blocks_open(src, blocks, data, row0)
                    del data  # the generator's view only: the window must be unmappable
                    yield from gen
                    return
            finally:
                blocks.close()
        f, owned = src.open()
        try:
            if self._ring is None:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(1, thread_name_prefix="blockops-read")
                self._ring = _ReadAhead(self._pool, bs, first, bs + self.max_row_bytes)
            yield from self._file_blocks_open(src, self._ring, self._ring.start(f, first), row0)
        finally:
            if self._ring is not None:
                self._ring.cancel()  # no read may still be running when the file closes
            if owned:
                f.close()

    def _file_blocks_open(self, src: _Source, ra, data, row0: int):
        """Parse one file's blocks. ``ra`` is its byte source (:class:`_MappedFile` or
        :class:`_ReadAhead`) and ``data`` its first block. ``data`` and every slice of it are
        views of ``ra``'s window: they are dropped before ``ra.release()`` unmaps it."""
        self.stats.bytes_read += len(data)
        eof = ra.eof
        base_off = src.start  # file offset of data[pos], for error messages
        pos = 0  # bytes of data consumed (BOM, header, complete rows)
        if not src.start and bytes(data[:len(_BOM)]) == _BOM:
            pos = len(_BOM)
            base_off += len(_BOM)
        # Line numbers: counts are additive except for a CRLF split between two counted pieces;
        # prev_cr remembers that the byte before the current view was a CR.
        prev_cr = ra.prev_cr
        line_base = self._line_base0
        if self.header:
            # the header must be complete in the buffer: grow until it is (bounded by max_row_bytes)
            while True:
                view = data[pos:] if pos else data
                _, n_rows, _, consumed, _, err = _core.csv_tokenize(
                    view, len(view), self.delimiter, self.quotechar, 0, eof, 1,
                    self.max_row_bytes, 1)
                if err is not None:
                    raise self._bad(src, 1, None, err[1], exc=LimitError,
                                    byte_offset=base_off + max(err[2], 0))
                if n_rows or eof:
                    break
                rest = len(view)
                del view
                data = ra.grow(pos)
                self.stats.bytes_read += len(data) - rest
                eof = ra.eof
                pos = 0
            names, consumed, lines = self._header(src, view, line_base)
            del view
            pos += consumed
            line_base += lines
            prev_cr = consumed > 0 and data[pos - 1] == 13
            if self._names is None:
                self._names = names
            elif names != self._names and names:
                raise self._bad(src, 1, None, f"header {names!r} differs from the first file's "
                                f"header {self._names!r}")
            base_off += consumed
            if self._bar is not None:
                self._bar.update(consumed)
        nf = len(self._names) if self._names else 0
        # A block (the bytes ra hands out) is tokenized and converted slice by slice: each slice
        # starts where the previous one's complete rows ended (as a block starts at the
        # previous block's unconsumed tail), its rows are converted into the block's arrays
        # (acc), then its index is freed and its file pages dropped. Tokenizing in pieces
        # indexes the same rows as tokenizing the block at once, so the blocks handed out do
        # not depend on SLICE_BYTES. line_base and base_off follow the start of the slice.
        view = data[pos:] if pos else data
        n = len(data) - pos
        at = 0  # start of the current slice in view
        want = max(1, self._slice_bytes)
        acc = None
        while True:
            hi = min(n, at + want)
            last = hi == n  # the block's last slice: final when the file ends there
            piece = view[at:hi] if at or not last else view
            if hi > at:
                if prev_cr and piece[0] == 10:  # the LF of a CRLF whose CR was counted before
                    line_base -= 1
                prev_cr = False
            ix, n_rows, nf_found, consumed, n_bad, err = _core.csv_tokenize(
                piece, hi - at, self.delimiter, self.quotechar, nf, eof and last, 0,
                self.max_row_bytes, self.n_threads)
            if err is not None:
                bad_at = err[2] if err[2] >= 0 else 0
                line = line_base + _core.csv_count_lines(piece, 0, bad_at)
                raise self._bad(src, line, None, f"{err[1]} (a bigger max_row_bytes allows longer "
                                "rows)" if err[0] == "BO_ERR_LIMIT" else err[1],
                                exc=LimitError if err[0] == "BO_ERR_LIMIT" else CsvParseError,
                                byte_offset=base_off + bad_at)
            if not nf and nf_found:
                nf = nf_found
                if self._names is None:
                    self._names = list(range(nf))
            if n_rows == 0 and consumed < hi - at and not (last and eof):
                if not last:  # a row longer than the slice: a longer slice (up to the block)
                    del piece, ix
                    want *= 2
                    continue
                # a row longer than the whole block: read as much again (geometric growth, so
                # a long row costs O(row) and not O(row^2 / blocksize); bounded by
                # max_row_bytes). Only a block without rows grows: else the row is carried.
                if acc is None:
                    del piece, ix, view
                    data = ra.grow(pos + at)
                    self.stats.bytes_read += len(data) - (n - at)
                    eof = ra.eof
                    pos = at = 0
                    view = data
                    n = len(data)
                    continue
            if self._specs is None and self._names and (n_rows or (last and eof)):
                self._infer_setup(view, n, nf, eof, n_rows > 0)
            if n_rows:
                if acc is None:
                    acc = _BlockColumns(self._specs, n_rows, consumed, n - at)
                self._convert(src, piece, ix, n_rows, n_bad, acc, line_base, base_off)
            if consumed:
                prev_cr = piece[consumed - 1] == 13
            # Count the slice's lines and, for a mapped file, take its pages out of RSS, both
            # on the reader's threads: as serial steps between the parallel ones they cost
            # more than themselves (the idle OpenMP thread spins through every such gap).
            line_base += _core.csv_count_lines(piece, 0, consumed, self.n_threads, ra.maps)
            del piece, ix
            at += consumed
            base_off += consumed
            if self._bar is not None:
                self._bar.update(consumed)
            if not last:
                want = max(1, self._slice_bytes)
                continue
            # Nothing below needs the raw bytes: drop every view of the window and let the
            # source unmap it before the frame is built and handed out (file pages leave RSS).
            del view
            data = None
            ra.release()
            block = None
            if acc is not None:
                block = self._finish(src, acc, row0)
                row0 += acc.n
                self.stats.blocks += 1
            del acc
            yield block, row0
            del block
            rest = n - at
            if eof:
                if rest:  # only blank space can be left over at the end
                    raise self._bad(src, line_base, None, "internal error: unconsumed bytes at end")
                return
            # the next block starts at the unconsumed tail (a partial row)
            data = ra.next(pos + at)
            self.stats.bytes_read += len(data) - rest
            eof = ra.eof
            pos = at = 0
            view = data
            n = len(data)
            acc = None
            want = max(1, self._slice_bytes)

    def _convert(self, src, piece, ix, n_rows, n_bad, acc, line_base, base_off):
        """Convert one slice's rows into the block's arrays (``acc``), and deal with its bad
        rows: raise the first one's error, or count, list and warn about them. ``line_base``
        and ``base_off`` are the file line and offset of ``piece[0]``."""
        if self._cspecs is None or self._cspecs[0] is not self._specs:
            # built once per reader, not once per slice (the missing-value tuples add up)
            self._cspecs = (self._specs, [(s.field, s.code, s.nullable, self._na_for(s.name),
                                           s.fmt) for s in self._specs])
        cspecs = self._cspecs[1]
        r0 = acc.reserve(n_rows)
        outs, bad, err = _core.csv_convert(piece, ix, cspecs, self.quotechar, self.n_threads,
                                           True, acc.dest(), r0)
        acc.add(outs, n_rows)
        bad = bad[r0:r0 + n_rows]
        n_bad_total = int(bad.sum()) if (n_bad or err is not None) else 0
        if n_bad_total:
            bad_rows = np.flatnonzero(bad)
            starts, flags, counts = _core.csv_rows(ix, bad_rows[:_MAX_SKIPPED_LINES + 1])
            # line numbers of the first bad rows (incremental counting, one pass)
            lines = []
            at, ln = 0, line_base
            for s in starts:
                ln += _core.csv_count_lines(piece, at, int(s))
                at = int(s)
                lines.append(ln)
            first = int(bad_rows[0])
            if self.on_bad_lines == "error":
                raise self._first_error(src, first, lines[0], flags[0], counts[0], err,
                                        base_off + int(starts[0]), base_off)
            acc.n_bad += n_bad_total
            self.stats.rows_skipped += n_bad_total
            room = _MAX_SKIPPED_LINES - len(self.stats.skipped_lines)
            if room > 0:
                self.stats.skipped_lines.extend((src.name, ln) for ln in lines[:room])
            if self.on_bad_lines == "warn":
                for i, ln in enumerate(lines):
                    if self._warned >= _MAX_WARNINGS:
                        break
                    self._warned += 1
                    why = ("unterminated quote" if flags[i] == 2 else
                           f"expected {ix_nf(self)} fields, saw {counts[i]}" if flags[i] == 1 else
                           "a value does not fit its column's type")
                    warnings.warn(f"{src.name}, line {ln}: skipped bad row ({why})",
                                  CsvBadLineWarning, stacklevel=_caller_stacklevel())
                if self._warned == _MAX_WARNINGS:
                    self._warned += 1
                    warnings.warn("more bad rows skipped; see reader.stats for the count",
                                  CsvBadLineWarning, stacklevel=_caller_stacklevel())
        self.stats.rows_in += n_rows
        self.stats.rows_out += n_rows - n_bad_total

    def _finish(self, src, acc, row0):
        """The block's frame (or dict of arrays) from its converted columns."""
        outs, bad = acc.outputs()
        keep = rows = None
        if acc.n_bad:
            keep = ~bad
            rows = row0 + np.flatnonzero(keep)
        cols = _assemble(self._specs, outs, keep, self.as_arrays, src)
        return _finish_block(cols, rows, row0, acc.n, self.as_arrays, self.rename)

    def _first_error(self, src, row, line, flag, count, err, row_offset, base_off):
        if flag == 1:
            return self._bad(src, line, None, f"expected {ix_nf(self)} fields, saw {count}",
                             byte_offset=row_offset)
        if flag == 2:
            return self._bad(src, line, None, "unterminated quote (the quoted field runs to the "
                             "end of the input)", byte_offset=row_offset)
        # a conversion error: err describes the first one in row order
        status, message, byte_offset, erow, ecol = err
        spec = self._specs[ecol]
        value = _field_value(message)
        hint = ""
        if self.dtypes is None or self._dtype_for(spec.name) is None:
            hint = (f" (the type {spec.dtype_name} was inferred from the first block; pass "
                    f"dtypes={{{spec.name!r}: ...}} to choose it)")
        return self._bad(src, line, spec.name, message + hint, value=value,
                         byte_offset=base_off + byte_offset)


def _caller_stacklevel() -> int:
    """``warnings.warn`` stacklevel of the first frame outside blockops, so a warning points at
    the user's line (``for block in reader:`` or the ``read_csv(...)`` call), whatever path
    through the reader (generator, read_csv, Dask task) raised it."""
    pkg = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    f = sys._getframe(1)
    level = 1
    while f is not None and os.path.abspath(f.f_code.co_filename).startswith(pkg + os.sep):
        f = f.f_back
        level += 1
    return level


def ix_nf(reader) -> int:
    return len(reader._names) if reader._names else 0


def _field_value(message: str):
    m = re.search(r'value "(.*)" (cannot|is out|is not valid UTF-8)', message, re.S)
    return m.group(1) if m else None


class _BlockColumns:
    """One block's converted columns, filled slice by slice (``csv_convert`` with ``dest`` and
    ``row_offset``): values, masks and bad-row flags go straight into arrays sized for the
    whole block, from the first slice's rows per byte + 10% (grown by 1.5x, a copy, when that
    falls short), so a block's columns are never concatenated from per-slice parts (which
    would hold them twice). Capacity left unused costs address space only: ``np.empty`` and
    ``np.zeros`` pages nobody writes are not resident. Strings stay one Arrow chunk per
    slice."""

    def __init__(self, specs, rows: int, nbytes: int, block_bytes: int):
        self.specs = specs
        self.n = 0  # rows converted so far
        self.n_bad = 0  # of which bad (dropped when the block is finished)
        self.strings = [[] for _ in specs]  # per str column: (offsets, data) per slice
        self.arrays = [[None, None, None] for _ in specs]  # values, latitudes, mask
        self.bad = None
        self.cap = 0
        self._resize(max(rows, int(rows * block_bytes / max(nbytes, 1) * 1.1) + 16))

    def _resize(self, cap: int) -> None:
        def grown(old, dtype, zero):
            new = (np.zeros if zero else np.empty)(cap, dtype)
            if old is not None:
                new[:self.n] = old[:self.n]
            return new

        for s, a in zip(self.specs, self.arrays):
            if s.code != _T_STR:
                a[0] = grown(a[0], np.float64 if s.code == _T_WKT else
                             np.int64 if s.code in (_T_DT, _T_DT_ISO) else _NP_OF[s.code], False)
            if s.code == _T_WKT:
                a[1] = grown(a[1], np.float64, False)
            if s.code == _T_STR or s.nullable:
                a[2] = grown(a[2], np.bool_, True)
        self.bad = grown(self.bad, np.bool_, True)
        self.cap = cap

    def reserve(self, rows: int) -> int:
        """Room for ``rows`` more rows; returns the row offset they go to."""
        if self.n + rows > self.cap:
            self._resize(max(self.n + rows, int(self.cap * 1.5)))
        return self.n

    def dest(self) -> tuple:
        return tuple(tuple(a) for a in self.arrays), self.bad

    def add(self, outs, rows: int) -> None:
        for s, chunks, (vals, _mask) in zip(self.specs, self.strings, outs):
            if s.code == _T_STR:
                chunks.append(vals)
        self.n += rows

    def outputs(self):
        """``(outputs, bad)`` in :func:`_assemble`'s format, trimmed to the rows converted."""
        n = self.n
        outs = []
        for s, (v, lat, m), chunks in zip(self.specs, self.arrays, self.strings):
            m = None if m is None else m[:n]
            if s.code == _T_STR:
                outs.append((chunks, m))
            elif s.code == _T_WKT:
                outs.append(((v[:n], lat[:n]), None))
            else:
                outs.append((v[:n], m))
        return outs, self.bad[:n]


class _ReadAhead:
    """Double-buffered reading of one reader's files, one block ahead, without copying blocks:
    the source for file objects, pipes and other non-regular files (and ``memory_map=False``).

    Two buffers of ``headroom + blocksize`` bytes are allocated once per reader (NumPy, so pages
    are only touched when read into) and reused for every block of every file: while the
    caller parses the block in one buffer, the pool's thread reads the next one into the
    other, at offset ``headroom``. The caller's unconsumed tail (the partial row at the end of
    a block) is copied into the headroom just in front of the new bytes, so a block is one
    contiguous view and nothing is concatenated. A tail longer than the headroom (a row longer
    than ``headroom``), and the geometric growth for rows longer than a block, fall back to
    building a ``bytes`` object. At most ``MAX_BLOCKS_IN_FLIGHT`` raw blocks exist at once.

    Same interface as :class:`_MappedFile`: ``start``, then ``next``/``grow`` with the number of
    bytes of the last block the caller consumed.
    """

    maps = False  # blocks live in our buffers: never drop their pages (that would zero them)

    def __init__(self, pool, blocksize: int, first: int, max_len: int):
        self.blocksize = blocksize
        self.max_len = max_len
        self.headroom = min(max(blocksize // 8, 1 << 16), 8 << 20)
        cap = self.headroom + max(blocksize, first)
        self._bufs = [np.empty(cap, np.uint8), None]  # the second one when a file needs it
        self._pool = pool
        self._f = None
        self._pending = None  # (buffer index, future of the byte count, bytes asked for)
        self._data = None  # the last block handed out
        self.eof = True
        self.prev_cr = False

    def _buf(self, k: int) -> memoryview:
        if self._bufs[k] is None:
            self._bufs[k] = np.empty(len(self._bufs[0]), np.uint8)
        return memoryview(self._bufs[k])

    def _submit(self, k: int) -> None:
        dst = self._buf(k)[self.headroom:self.headroom + self.blocksize]
        self._pending = (k, self._pool.submit(_fill_from, self._f, dst), self.blocksize)

    def start(self, f, first: int) -> memoryview:
        """Read the first ``first`` bytes of file ``f`` (synchronously) and start reading ahead."""
        self.cancel()
        self._f = f
        self.prev_cr = getattr(f, "prev_cr", False)
        mv = self._buf(0)
        if first > len(mv) - self.headroom:
            raise ValueError("first read larger than the buffers")
        got = _fill_from(f, mv[self.headroom:self.headroom + first])
        self.eof = got < first
        if not self.eof:
            self._submit(1)
        self._data = mv[self.headroom:self.headroom + got]
        return self._data

    def next(self, consumed: int) -> "memoryview | bytes":
        """The next block: the bytes of the last one the caller did not consume + the bytes
        read ahead."""
        tail = self._data[consumed:]
        k, fut, asked = self._pending
        self._pending = None
        got = fut.result()
        self.eof = got < asked
        h = self.headroom
        mv = self._buf(k)
        rest = len(tail)
        if rest <= h:
            if rest:
                mv[h - rest:h] = tail  # tail lives in the other buffer (or is bytes): no overlap
            data = mv[h - rest:h + got]
        else:
            data = bytes(tail) + bytes(mv[h:h + got])
        if not self.eof:
            self._submit(1 - k)
        self._data = data
        return data

    def grow(self, consumed: int) -> bytes:
        """The unconsumed bytes followed by (at least) as many more again: for rows (or a
        header) longer than what is buffered; the caller's max_row_bytes bounds how far this
        goes."""
        data = self._data[consumed:]
        k, fut, asked = self._pending
        self._pending = None
        got = fut.result()
        self.eof = got < asked
        parts = [bytes(data), bytes(self._buf(k)[self.headroom:self.headroom + got])]
        want = min(len(data) - self.blocksize, self.max_len - len(data) - got)
        if not self.eof and want > 0:
            extra = _read_full_from(self._f.read, want)
            self.eof = len(extra) < want
            parts.append(extra)
        if not self.eof:
            self._submit(1 - k)
        self._data = b"".join(parts)
        return self._data

    def release(self) -> None:
        """Nothing to give back: the buffers are reused (the tail stays where it is)."""

    def cancel(self) -> None:
        """Wait for (and drop) a read still in flight, e.g. before its file is closed."""
        self._data = None
        if self._pending is not None:
            try:
                self._pending[1].result()
            except Exception:  # the error belongs to a read nobody wants any more
                pass
            self._pending = None


def _fill_from(f, mv: memoryview) -> int:
    """Read from ``f`` into ``mv`` until it is full or the file ends; returns the byte count."""
    readinto = getattr(f, "readinto", None)
    n = len(mv)
    got = 0
    while got < n:
        if readinto is not None:
            k = readinto(mv[got:]) or 0
        else:
            b = f.read(n - got)
            k = len(b)
            mv[got:got + k] = b
        if not k:
            break
        got += k
    return got


def _read_full_from(read, n):
    parts = []
    got = 0
    while got < n:
        b = read(n - got)
        if not b:
            break
        parts.append(b)
        got += len(b)
    if not parts:
        return b""
    return parts[0] if len(parts) == 1 else b"".join(parts)


def _str_array(chunks, mask: np.ndarray, keep, src):
    """A string column from its per-slice (offsets, data) chunks: one Arrow array, or a
    chunked array of one per slice (pandas' Arrow strings hold it as is, no concatenation)."""
    import pyarrow as pa

    arrays = []
    r0 = 0
    for offs, data in chunks:
        n = len(offs) - 1
        m = mask[r0:r0 + n]
        validity = None
        if m.any():
            validity = pa.py_buffer(np.packbits(~m, bitorder="little"))
        # No arr.validate(full=True) (a third of the string path): csv_convert checked every
        # value's UTF-8 while copying it, and a row with an ill-formed value is a bad row, which
        # ``keep`` drops (or the reader raised for it already).
        arr = pa.LargeStringArray.from_buffers(n, pa.py_buffer(offs), pa.py_buffer(data),
                                               validity,
                                               int(m.sum()) if validity is not None else 0)
        if keep is not None:
            arr = arr.filter(pa.array(keep[r0:r0 + n]))
        arrays.append(arr)
        r0 += n
    return arrays[0] if len(arrays) == 1 else pa.chunked_array(arrays, type=pa.large_string())


def _assemble(specs, outs, keep, as_arrays, src) -> list:
    """C outputs -> list of (name, array) in output order."""
    import pandas as pd

    cols = []
    for s, (vals, mask) in zip(specs, outs):
        if s.code == _T_STR:
            arr = _str_array(vals, mask, keep, src)
            if as_arrays:
                cols.append((s.name, np.asarray(arr.to_pylist(), dtype=object)))
            else:
                ser = pd.Series(arr, dtype=_compat.str_dtype())
                if s.category:
                    ser = ser.astype("category")
                cols.append((s.name, ser.array))
            continue
        if s.code == _T_WKT:
            lon, lat = vals
            if keep is not None:
                lon, lat = lon[keep], lat[keep]
            n_lon, n_lat = s.out_names()
            cols.append((n_lon, lon))
            cols.append((n_lat, lat))
            continue
        v = vals if keep is None else vals[keep]
        m = None if mask is None else (mask if keep is None else mask[keep])
        if s.code in (_T_DT, _T_DT_ISO):
            v = v.view("datetime64[ns]")
        if m is not None and s.nullable:
            if as_arrays:
                v = np.ma.MaskedArray(v, mask=m)
            elif s.code == _T_BOOL:
                v = pd.arrays.BooleanArray(v, m)
            else:
                v = pd.arrays.IntegerArray(v, m)
        cols.append((s.name, v))
    return cols


def _finish_block(cols, rows, row0, n_rows, as_arrays, rename):
    if as_arrays:
        d = {rename.get(k, k): v for k, v in cols}
        d["__row__"] = (np.arange(row0, row0 + n_rows, dtype=np.int64) if rows is None
                        else rows.astype(np.int64))
        return d
    import pandas as pd

    index = pd.RangeIndex(row0, row0 + n_rows) if rows is None else pd.Index(rows, dtype=np.int64)
    data = {rename.get(k, k): v for k, v in cols}
    return pd.DataFrame(data, index=index, copy=False)


def _empty_frame(specs, rename):
    import pandas as pd

    data = {}
    for s in specs:
        if s.code == _T_WKT:
            for nm in s.out_names():
                data[rename.get(nm, nm)] = np.empty(0, np.float64)
            continue
        nm = rename.get(s.name, s.name)
        if s.dtype_name == "object":
            data[nm] = np.empty(0, dtype=object)
        elif s.code == _T_STR:
            data[nm] = pd.Series([], dtype="category" if s.category else
                                 _compat.str_dtype()).array
        elif s.code in (_T_DT, _T_DT_ISO):
            data[nm] = np.empty(0, "datetime64[ns]")
        elif s.nullable:
            data[nm] = pd.array([], dtype="boolean" if s.code == _T_BOOL else
                                s.dtype_name[0].upper() + s.dtype_name[1:])
        else:
            data[nm] = np.empty(0, _NP_OF[s.code])
    return pd.DataFrame(data, index=pd.RangeIndex(0, 0))


# ---------------------------------------------------------------------------------- read_csv

def read_csv(source, **options):
    """Read a whole CSV source into one DataFrame (same options as :class:`CsvBlockReader`).

    Numeric columns are written into arrays allocated once (sized from the first block's
    bytes per row, grown geometrically only when that estimate was short); string columns
    stay Arrow chunks (a chunked array), never concatenated. The reader's counters are in
    ``df.attrs["blockops_stats"]``.
    """
    import pandas as pd

    if options.get("as_arrays"):
        raise ValueError("read_csv returns a DataFrame; use CsvBlockReader(as_arrays=True)")
    reader = CsvBlockReader(source, **options)
    total_bytes = sum(s.size or 0 for s in reader._sources)
    acc: dict[Any, _Column] = {}
    order: list = []
    index_parts = []
    n = 0
    with reader:
        for block in reader:
            m = len(block)
            if not order:
                order = list(block.columns)
                cap = m
                if total_bytes and reader.stats.bytes_read and m:
                    per_row = max(1.0, reader.stats.bytes_read / m)
                    cap = max(m, int(total_bytes / per_row * 1.05) + 16)
                for c in order:
                    acc[c] = _Column(block[c], cap)
            else:
                for c in order:
                    acc[c].append(block[c])
            if not isinstance(block.index, pd.RangeIndex):
                index_parts.append(np.asarray(block.index, dtype=np.int64))
            else:
                index_parts.append(block.index)
            n += m
    stats = reader.stats
    if not order:
        return reader._empty_block()
    data = {c: acc[c].finish() for c in order}
    if stats.rows_skipped == 0:
        index = pd.RangeIndex(0, n)
    else:
        index = pd.Index(np.concatenate([np.asarray(p, dtype=np.int64) for p in index_parts]),
                         dtype=np.int64)
    df = pd.DataFrame(data, index=index, copy=False)
    df.attrs["blockops_stats"] = dataclasses.asdict(stats)
    return df


class _Column:
    """Grow-once accumulator: a preallocated NumPy array, or Arrow chunks for strings."""

    def __init__(self, first, cap):
        self.dtype = first.dtype
        if isinstance(first.dtype, np.dtype):
            self.kind = "np"
            self.buf = np.empty(max(cap, len(first)), dtype=first.dtype)
            self.n = 0
        else:
            self.kind = "ext"
            self.chunks = []
        self.append(first)

    def append(self, col):
        if self.kind == "np":
            v = np.asarray(col)
            need = self.n + len(v)
            if need > len(self.buf):
                new = np.empty(max(need, int(len(self.buf) * 1.5) + 16), dtype=self.buf.dtype)
                new[: self.n] = self.buf[: self.n]
                self.buf = new
            self.buf[self.n:need] = v
            self.n = need
        else:
            self.chunks.append(col.array)

    def finish(self):
        import pandas as pd

        if self.kind == "np":
            return self.buf[: self.n]
        if len(self.chunks) == 1:
            return self.chunks[0]
        if isinstance(self.dtype, pd.CategoricalDtype):
            from pandas.api.types import union_categoricals

            return union_categoricals(self.chunks)
        if isinstance(self.dtype, pd.StringDtype) and self.dtype.storage == "pyarrow":
            import pyarrow as pa

            parts = []
            for c in self.chunks:  # a block's strings may be chunked already (one per slice)
                a = pa.array(c)
                parts.extend(a.chunks if isinstance(a, pa.ChunkedArray) else [a])
            chunked = pa.chunked_array(parts, type=parts[0].type)
            return pd.array(chunked, dtype=self.dtype)
        return pd.concat([pd.Series(c, copy=False) for c in self.chunks], ignore_index=True).array
