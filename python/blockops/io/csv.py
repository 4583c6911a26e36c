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

import collections
import dataclasses
import logging
import os
import sys
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterator

import numpy as np

from .. import _config, _core
from .._errors import CsvInferenceError, CsvParseError, LimitError, located
from . import _csv_infer as _infer
# The reader is five modules: options and dtypes, sources, inference, assembly (each
# _csv_<part>.py) and this one, the block engine and the public API. Names that other parts of
# blockops (Dask, Ray, the benchmarks) and the tests take from here stay importable from here.
from ._csv_assemble import (_assemble, _BlockColumns, _empty_frame, _finish_block,  # noqa: F401
                            _read_all)
from ._csv_infer import INFER_BYTES, _inferred_spec, _join_state  # noqa: F401
from ._csv_options import (_T_STR, DEFAULT_NA_VALUES, _field_value, _mangle,  # noqa: F401
                           _na_bytes, _parse_dtype, _Spec, parse_size)
from ._csv_sources import (_BOM, _is_regular_file, _MappedFile, _ReadAhead,  # noqa: F401
                           _resolve_sources, _Source)

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

_MAX_SKIPPED_LINES = 100
_MAX_WARNINGS = 20


class CsvBadLineWarning(UserWarning):
    """A bad row was dropped (``on_bad_lines="warn"``)."""


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
    rereads: int = 0  # read_csv: reads started again to widen inferred types
    widened: int = 0  # read_csv: inferred columns widened where they stood (int -> float, ...)

    def _repr_html_(self) -> str:
        from .. import _html

        first = ", ".join(f"{p}:{ln}" for p, ln in self.skipped_lines[:5])
        rows = [("bytes read", f"{self.bytes_read:,}"), ("rows in", f"{self.rows_in:,}"),
                ("rows out", f"{self.rows_out:,}"), ("rows skipped", f"{self.rows_skipped:,}"),
                ("first skipped lines", first or "none"), ("blocks", self.blocks),
                ("files", self.files), ("re-reads (widened types)", self.rereads),
                ("columns widened in place", self.widened)]
        return _html.table(rows, "CSV read")


# ---------------------------------------------------------------------------------- sources


def _range_reader(path, start, end, *, names, specs, row0, line0, options) -> "CsvBlockReader":
    """A reader over bytes [start, end) of path, which start at a row boundary, with the
    column names and types fixed in advance (so every range parses alike). ``end=None``:
    the whole file, header included (a compressed file, or a remote one of unknown size or read
    with blocksize=None: one partition per file)."""
    opts = dict(options)
    if end is not None:
        opts["header"] = False
    opts.pop("columns", None)
    opts.pop("dtypes", None)
    r = CsvBlockReader(path, **opts)
    if end is not None:
        src = r._sources[0]
        src.start, src.end, src.size = start, end, end - start
    r._names = list(names)
    r._specs = list(specs)
    r._row_base = row0
    r._line_base0 = line0
    return r


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
        Column -> dtype: ``int8`` .. ``int64``, ``uint64`` (missing values are an error),
        ``Int8`` .. ``Int64``, ``UInt64`` (nullable), ``bigint`` (exact Python ints of any
        size, NaN where missing: an object column), ``float32``, ``float64``, ``bool``, ``boolean`` (nullable),
        ``str``, ``category``, ``wkt_point`` (``POINT (lon lat)`` -> ``<col>_lon``,
        ``<col>_lat`` float64), ``hex`` (-> uint64), ``datetime`` (ISO 8601) or
        ``datetime:<format>`` (e.g. ``"datetime:%m/%d/%Y %I:%M:%S %p"``) -> ``datetime64[ns]``.
        Columns without a dtype are inferred as pandas would, from the first MiB after the
        header (less for a file under 96 MiB) and sample windows over the rest of a file on
        disk (see ``docs/csv.md``); a
        later value that does not fit raises :class:`blockops.CsvInferenceError` (never a bad
        row).
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
    short_rows : {"error", "pad"}, default "error"
        A row with fewer fields than the header: a bad row (``on_bad_lines`` says what
        happens; the error names the first missing column), or, with ``"pad"``, a row whose
        missing trailing fields are missing values, as pandas reads it. A row with more
        fields is always a bad row.
    max_row_bytes : int or str, default "16MB"
        A longer row raises :class:`blockops.LimitError` (no unbounded allocation).
    rename : dict, optional
        Output column renames applied last, e.g. ``{"pos_lon": "x_pos"}``.
    n_threads : int, optional
        Threads used to parse each block (default: :func:`blockops.get_num_threads`).
        Results do not depend on it.
    progress : bool or str, default False
        Show a tqdm progress bar in bytes; a string is its label (default "read_csv").
    as_arrays : bool, default False
        Yield ``dict[str, numpy.ndarray]`` instead of DataFrames; nullable columns become
        ``numpy.ma.MaskedArray``, strings object arrays; key ``"__row__"`` holds row numbers.
    compression : {"infer", None, "gzip", "bz2", "xz", "zstd"}, default "infer"
        Decompress the source as a stream (memory does not grow with the file; the
        decompression runs on the read-ahead thread, beside the parsing). ``"infer"``: from
        the path's ending (``.gz``, ``.bz2``, ``.xz``, ``.zst``), as pandas does; a file object
        is read as it is unless this names its codec. A corrupt or truncated stream raises
        :class:`blockops.BlockopsIOError` naming the file and how far it got (rows handed out
        before stay counted in :attr:`stats`).
    storage_options : dict, optional
        For fsspec URLs (``s3://``, ``gs://``, ``https://``, ``memory://``, ``file://``):
        the file system's options (credentials, endpoint), as pandas and Dask take them.
        URLs and their globs are read through fsspec file objects, streaming.
    memory_map : bool or None, default None
        ``None``: memory-map regular files given by path, one window per block (no read
        buffer, no copy; the window is unmapped before its block is handed out, and the kernel
        reads ahead), and read everything else (file objects, pipes, devices, files of size 0
        such as procfs's, file systems without mmap). ``True``: map, and raise ``ValueError``
        for a file object or a file that is not regular. ``False``: read every
        source with a read-ahead thread into two reused buffers. Results are the same either
        way. Truncating or rewriting a mapped file while it is read is undefined (the process
        may get ``SIGBUS``), as with pandas' and pyarrow's ``memory_map``.
    page_cache : {"auto", "keep", "drop"}, default "auto"
        What becomes of a memory-mapped file's pages in the kernel's page cache once the
        reader is past them. ``"keep"``: nothing (the kernel keeps them while it has room, so
        the next read of the file is from memory). ``"drop"``: they are dropped behind the
        reader (``POSIX_FADV_DONTNEED``), as ``dd iflag=nocache`` does. ``"auto"``: dropped
        when the file is larger than half of this process's memory (RAM or its cgroup's
        limit), since it cannot stay cached then, and keeping it would evict what can (a
        pipeline's spilled parts, other files); kept otherwise. Results never depend on it;
        sources that are read rather than mapped are left alone.

    Notes
    -----
    Every block's index is the global data-row number (0-based over all files; the header
    and blank lines are not rows; a dropped bad row leaves a gap), so later operators can key
    on it. :attr:`stats` counts bytes, rows in/out/skipped and blocks.
    """

    def __init__(self, source, *, blocksize=None, columns=None, dtypes=None, header=True,
                 delimiter=",", quotechar='"', na_values=None, keep_default_na=True,
                 on_bad_lines="error", max_row_bytes="16MB", rename=None, n_threads=None,
                 progress=False, as_arrays=False, memory_map=None, short_rows="error",
                 compression="infer", storage_options=None, page_cache="auto"):
        if page_cache not in ("auto", "keep", "drop"):
            raise ValueError(f"page_cache must be 'auto', 'keep' or 'drop', not {page_cache!r}")
        self.page_cache = page_cache
        self._sources = _resolve_sources(source, compression, storage_options)
        self.compression = compression
        self.storage_options = dict(storage_options) if storage_options else None
        if memory_map not in (None, True, False):
            raise ValueError(f"memory_map must be None (regular files), True or False, "
                             f"not {memory_map!r}")
        if memory_map:
            for s in self._sources:
                if not s.local or not _is_regular_file(s.path):
                    raise ValueError(f"memory_map=True needs uncompressed local regular files "
                                     f"given by path; {s.name} is " + (
                                         "a file object" if s.fileobj is not None else
                                         "a URL" if s.fs is not None else
                                         f"{s.compression}-compressed" if s.compression else
                                         "not a regular file"))
        self.memory_map = memory_map
        self.n_threads = _config.resolve_threads(n_threads)
        self.blocksize = (default_blocksize(self.n_threads) if blocksize is None
                          else parse_size(blocksize, "blocksize"))
        self.max_row_bytes = parse_size(max_row_bytes, "max_row_bytes")
        if on_bad_lines not in ("error", "skip", "warn"):
            raise ValueError(f"on_bad_lines must be 'error', 'skip' or 'warn', not {on_bad_lines!r}")
        if short_rows not in ("error", "pad"):
            raise ValueError(f"short_rows must be 'error' or 'pad', not {short_rows!r}")
        self.short_rows = short_rows
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
        self._progress_desc = progress if isinstance(progress, str) else "read_csv"
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
        self._na_cache: dict = {}  # column name -> its missing-value strings as bytes
        self._na_sets: dict = {}   # na_values' strings of a column -> the same, shared
        self._row_base = 0  # global row number of the first data row (set for file ranges)
        self._line_base0 = 1  # file line number of the first byte (set for file ranges)
        # column -> inference state learnt by an earlier read of the same source (read_csv)
        self._infer_overrides: dict = {}
        # read_csv of one source: ONE _BlockColumns for the whole source, sized from its bytes,
        # that every block converts into (the blocks are not handed out). Converting block by
        # block into separate arrays and then copying them into the frame's columns touched
        # every output page twice (a third of a whole read's time on a numeric file, most of it
        # the kernel zeroing the fresh pages of each block's arrays). None: hand out blocks.
        self._whole: _BlockColumns | None = None
        self._whole_mode = False

    @property
    def _simd(self) -> int:
        """The SIMD level of the structural scan and the UTF-8 check, read at each call (a
        reader pickled to a Dask or Ray worker uses the worker's CPU)."""
        return _config.simd()

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
            opts = {**self._options(), "blocksize": _infer.INFER_BYTES, "on_bad_lines": "skip"}
            with CsvBlockReader(first.name, **opts) as r:
                next(iter(r), None)
                return _empty_frame(r._specs or [], self.rename)
        return _empty_frame(self._specs, self.rename)

    def _options(self) -> dict:
        return dict(blocksize=self.blocksize, columns=self.columns, dtypes=self.dtypes,
                    header=self.header, delimiter=self.delimiter, quotechar=self.quotechar,
                    na_values=self.na_values, keep_default_na=self.keep_default_na,
                    on_bad_lines=self.on_bad_lines, max_row_bytes=self.max_row_bytes,
                    rename=self.rename, n_threads=self.n_threads, memory_map=self.memory_map,
                    short_rows=self.short_rows, compression=self.compression,
                    storage_options=self.storage_options, page_cache=self.page_cache)

    # -- internals ---------------------------------------------------------------------
    def _na_for(self, name) -> tuple:
        """The missing-value strings of column ``name`` as bytes, built once per distinct set:
        inference, the conversion specs and the check of a late misfit all ask for them, and
        building them (about 9 us) once per column was 3 ms of a 30 MB, 320-column read."""
        na = self._na_cache.get(name)
        if na is None:
            extra = self._na_extra(name)
            na = self._na_sets.get(extra)
            if na is None:
                na = self._na_sets[extra] = self._na_build(extra)
            self._na_cache[name] = na
        return na

    def _na_extra(self, name) -> tuple:
        """``na_values``' strings for column ``name`` (those beside the defaults)."""
        nv = self.na_values
        if isinstance(nv, dict):
            extra = nv.get(name, ())
        elif nv is None:
            extra = ()
        else:
            extra = nv
        if isinstance(extra, str):
            extra = [extra]
        return tuple(str(v) for v in extra)

    def _na_build(self, extra: tuple) -> tuple:
        vals = list(DEFAULT_NA_VALUES) if self.keep_default_na else []
        vals.extend(extra)
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

    def _bad(self, src, line, column, message, value=None, byte_offset=None, err=None):
        """The exception for a problem at ``src``, ``line`` (and ``column``): ``err``, the one
        the binding returned for a C status (its class follows the status: LimitError,
        CsvParseError, ...), placed in the file; or a CsvParseError for what the reader
        finds itself (the row flags: field counts, unterminated quotes)."""
        text = f"{self._where(src, line, column)}: {message}"
        details = dict(path=src.name, line=line, column=column, value=value,
                       byte_offset=byte_offset)
        if err is None:
            return CsvParseError(text, **details)
        # err.index is the row in the binding's buffer: meaningless once placed in the file
        return located(err, text, index=None, **details)

    def _header(self, src, data, line_base, base_off=0) -> tuple[list, int, int]:
        """Parse the header row at the start of data -> (names, consumed, lines)."""
        q = self.quotechar
        ix, n_rows, nf, consumed, n_bad, err = _core.csv_tokenize(
            data, len(data), self.delimiter, q, 0, True, 1, self.max_row_bytes, 1)
        if err is not None:
            raise self._bad(src, line_base, None, err.reason, byte_offset=err.byte_offset,
                            err=err)
        if n_bad:
            # The only bad header row (no field count is expected yet) is one whose quote
            # never closes: its "names" would be the whole file cut at delimiters, and with
            # no data rows left the read used to return an empty frame. pandas raises too
            # (csv-spectrum/PapaParse-style hostile input, issue 15).
            raise self._bad(src, line_base, None, "unterminated quote in the header (the "
                            "quoted field runs to the end of the input)", byte_offset=base_off)
        if n_rows == 0:
            return [], consumed, _core.csv_count_lines(data, 0, consumed)
        specs = [(f, _T_STR, True, (), None) for f in range(nf)]
        outs, _, _ = _core.csv_convert(data, ix, specs, q, 1, False, None, 0, False,
                                       self._simd)
        names = []
        for (offs, raw, _runs), _mask in outs:  # one thread: one run
            try:
                names.append(bytes(raw[offs[0]:offs[1]]).decode("utf-8"))
            except UnicodeDecodeError as e:
                raise self._bad(src, line_base, None, f"header is not UTF-8: {e}") from None
        return _mangle(names), consumed, _core.csv_count_lines(data, 0, consumed)

    def _setup(self, names: list, windows=()) -> None:
        """Choose specs from the header and, for columns without a dtype, from ``windows``:
        ``(data, index)`` pairs of the rows inference looks at (none: every type is
        ``object``), joined with what an earlier read of the same source learnt
        (``_infer_overrides``, see :func:`read_csv`)."""
        sel = [(field, name, self._dtype_for(name)) for field, name in self._select(names)]
        specs = []
        # every column to infer, window by window, the columns on the reader's threads
        infer = [(field, name) for field, name, d in sel if d is None]
        states: dict = {}
        if infer and windows:
            # all the windows in one call: their rows on the reader's threads together
            got = _core.csv_infer_fields(windows, [f for f, _ in infer], self.quotechar,
                                         [self._na_for(name) for _, name in infer],
                                         self.short_rows == "pad", self.n_threads)
            states = {name: st for (_, name), st in zip(infer, got)}
        for field, name, d in sel:
            if d is None:
                if not windows:
                    specs.append(_Spec(field, name, _T_STR, True, None, False, "object"))
                    continue
                state = states[name]
                if name in self._infer_overrides:
                    state = _join_state(state, self._infer_overrides[name])
                specs.append(_inferred_spec(field, name, state))
            else:
                code, nullable, fmt, cat, dn = _parse_dtype(d, name)
                specs.append(_Spec(field, name, code, nullable, fmt, cat, dn))
        if isinstance(self.dtypes, dict) and names:
            unknown = [k for k in self.dtypes if k not in names]
            if unknown:
                raise ValueError(f"dtypes names columns not in the header: {unknown!r}")
        outs = [self.rename.get(o, o) for sp in specs for o in sp.out_names()]
        dup = sorted((o for o, k in collections.Counter(outs).items() if k > 1), key=str)
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

    def _infer_setup(self, view, n, nf, eof, has_rows, src, data_off) -> None:
        """Choose column types. For a file on disk: from the complete rows in the first
        INFER_BYTES after the header, read from the file (``data_off``: the offset of the
        first data byte), and from the sample windows over the rest of it. Otherwise (file
        objects, pipes), or when not one row ends in the first INFER_BYTES: from the same
        first INFER_BYTES of the first block ``view[:n]`` (all of its rows when not one ends
        there). So the types depend on neither the slice nor the block size, nor on which
        reader (eager, streaming, Dask's probe) asks. ``has_rows``: the block has complete rows
        (else every type is ``object``)."""
        windows = []
        if has_rows:
            if src.local and _is_regular_file(src.path, nonempty=True):
                windows = _infer.file_windows(self, src.path, data_off, nf)
            elif src.fs is not None and src.compression is None and src.size:
                # a remote file: the same windows, each a ranged read
                windows = _infer.file_windows(self, src.path, data_off, nf, fs=src.fs,
                                              size=src.size)
            if not windows:
                for m in dict.fromkeys((min(n, _infer.INFER_BYTES), n)):
                    ix, n_inf, _, _, _, err = _core.csv_tokenize(
                        view, m, self.delimiter, self.quotechar, nf, eof and m == n, 0,
                        self.max_row_bytes, 1)
                    if err is None and n_inf:
                        windows = [(view, ix)]
                        break
        self._setup(self._names, windows)

    def _blocks(self) -> Iterator:
        if self.progress:
            from tqdm.auto import tqdm

            # the bar counts decompressed bytes: no total when a file's is unknown
            total = (None if any(s.compression or s.size is None for s in self._sources)
                     else sum(s.size for s in self._sources) or None)
            self._bar = tqdm(total=total, unit="B", unit_scale=True, desc=self._progress_desc)
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
                self._setup(names)
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
        if self.memory_map is False or not src.local:
            return False
        return _is_regular_file(src.path, nonempty=True)

    def _drop_over(self):
        """The file size above which a mapped file's pages leave the page cache behind the
        reader (page_cache); None: never."""
        if self.page_cache != "auto":
            return -1 if self.page_cache == "drop" else None
        from ..resources import system_memory

        return system_memory().effective_limit // 2

    def _file_blocks(self, src: _Source, row0: int):
        bs = self.blocksize
        first = (max(bs, _infer.INFER_BYTES) if self._specs is None and self._needs_inference()
                 else bs)
        first = max(first, len(_BOM))  # a BOM is never split
        if self._maps(src):
            blocks = _MappedFile(src.path, src.start, src.end, bs, bs + self.max_row_bytes,
                                 drop_over=self._drop_over())
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
                    raise self._bad(src, 1, None, err.reason, err=err,
                                    byte_offset=base_off + (err.byte_offset or 0))
                if n_rows or eof:
                    break
                rest = len(view)
                del view
                data = ra.grow(pos)
                self.stats.bytes_read += len(data) - rest
                eof = ra.eof
                pos = 0
            names, consumed, lines = self._header(src, view, line_base, base_off)
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
                self.max_row_bytes, self.n_threads, self._simd)
            if err is not None:
                bad_at = err.byte_offset or 0
                line = line_base + _core.csv_count_lines(piece, 0, bad_at)
                hint = (" (a bigger max_row_bytes allows longer rows)"
                        if isinstance(err, LimitError) else "")
                raise self._bad(src, line, None, err.reason + hint, err=err,
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
                self._infer_setup(view, n, nf, eof, n_rows > 0, src, base_off - at)
            if n_rows:
                if acc is None:
                    acc = self._block_columns(src, n_rows, consumed, n - at)
                    acc_n0 = acc.n
                self._convert(src, piece, ix, n_rows, n_bad, acc, line_base, base_off)
            if consumed:
                prev_cr = piece[consumed - 1] == 13
            # The slice's lines: counted by the tokenizer unless a row needed its byte path or
            # a line break was quoted; then counted here. For a mapped file its pages leave
            # RSS in the same call, on the reader's threads: as serial steps between the
            # parallel ones they cost more than themselves (the idle OpenMP thread spins
            # through every such gap).
            lines = _core.csv_index_lines(ix)
            if lines is None or ra.maps:
                counted = _core.csv_count_lines(piece, 0, consumed, self.n_threads, ra.maps,
                                                lines is None)
                lines = counted if lines is None else lines
            line_base += lines
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
            if acc is not None and acc.mismatches:
                raise _infer.inference_error(src, acc.mismatches)
            if acc is not None:
                if not self._whole_mode:
                    block = self._finish(src, acc, row0)
                row0 += acc.n - acc_n0
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
                                           True, acc.dest(), r0, self.short_rows == "pad",
                                           self._simd)
        acc.add(outs, n_rows)
        bad = bad[r0:r0 + n_rows]
        n_bad_total = int(bad.sum()) if (n_bad or err is not None) else 0
        if n_bad_total and err is not None and _infer.mismatches(self, src, piece, ix, bad, acc,
                                                                line_base):
            if self._whole_mode and _infer.widen_in_place(self, acc, r0, n_rows):
                # the slice again, with the widened types
                self._convert(src, piece, ix, n_rows, n_bad, acc, line_base, base_off)
            return  # else the block is not handed out: see _inference_error
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
                           _field_count(self, counts[i]) if flags[i] == 1 else
                           "a value does not fit its column's type")
                    warnings.warn(f"{src.name}, line {ln}: skipped bad row ({why})",
                                  CsvBadLineWarning, stacklevel=_caller_stacklevel())
                if self._warned == _MAX_WARNINGS:
                    self._warned += 1
                    warnings.warn("more bad rows skipped; see reader.stats for the count",
                                  CsvBadLineWarning, stacklevel=_caller_stacklevel())
        self.stats.rows_in += n_rows
        self.stats.rows_out += n_rows - n_bad_total

    def _block_columns(self, src, n_rows: int, nbytes: int, block_bytes: int) -> _BlockColumns:
        """The arrays a block's rows are converted into: new ones sized for the block, or in
        whole-source mode the source's (created by its first block, sized for the whole
        source when its size is known: ``block_bytes`` grows to the bytes left in it)."""
        if not self._whole_mode:
            return _BlockColumns(self._specs, n_rows, nbytes, block_bytes)
        if self._whole is None:
            if src.size is not None and not src.compression:
                end = src.end if src.end is not None else src.size
                block_bytes = max(block_bytes, end - src.start)
            self._whole = _BlockColumns(self._specs, n_rows, nbytes, block_bytes)
        return self._whole

    def _finish_whole(self):
        """The frame of a whole-source read (None when no row was read)."""
        if self._whole is None:
            return None
        return self._finish(self._sources[0], self._whole, self._row_base)

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
            return self._bad(src, line, None, _field_count(self, count),
                             byte_offset=row_offset)
        if flag == 2:
            return self._bad(src, line, None, "unterminated quote (the quoted field runs to the "
                             "end of the input)", byte_offset=row_offset)
        # a conversion error (a given dtype, or ill-formed UTF-8): err (a CsvParseError)
        # describes the first one in row order; its column is the spec's position, its byte
        # offset the field's in the slice. Values that do not fit an inferred type never get
        # here (_mismatches), so there is no dtypes= to suggest.
        spec = self._specs[err.column]
        return self._bad(src, line, spec.name, err.reason, value=_field_value(err.reason),
                         byte_offset=base_off + err.byte_offset, err=err)

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


def _field_count(reader, count: int) -> str:
    """``expected 4 fields, saw 3: 'D' is missing`` (the first missing column, by name)."""
    nf = ix_nf(reader)
    text = f"expected {nf} fields, saw {count}"
    if 0 <= count < nf:
        text += f": {reader._names[count]!r} is missing"
    return text


# ---------------------------------------------------------------------------------- read_csv

def read_csv(source, **options):
    """Read a whole CSV source into one DataFrame (same options as :class:`CsvBlockReader`).

    Numeric columns are written into arrays allocated once (sized from the first block's
    bytes per row, grown geometrically only when that estimate was short); for one source
    every block is converted straight into them, never into per-block arrays that are then
    copied. String columns stay Arrow chunks (a chunked array), never concatenated. The
    reader's counters are in ``df.attrs["blockops_stats"]``.

    A column without a dtype whose later values do not fit the type inferred from the
    sampled rows is widened as pandas would type the whole column (int -> float64 for
    numbers and missing values, -> str for text; bool -> boolean for missing values, -> str
    otherwise; float -> str). For one source, int -> float64 and bool -> boolean happen in
    place (the values read so far cast; ``stats["widened"]`` counts the columns); otherwise
    the source is read again from the start with the widened types (each column widens at
    most twice; ``stats["rereads"]`` counts the extra reads: each costs the bytes read before
    the misfit was found).
    No row is ever dropped because of an inferred type. File objects are re-read when
    seekable; otherwise the :class:`blockops.CsvInferenceError` is raised.
    """
    if options.get("as_arrays"):
        raise ValueError("read_csv returns a DataFrame; use CsvBlockReader(as_arrays=True)")
    overrides: dict = {}
    fileobj = None
    if hasattr(source, "read"):
        fileobj = source
        pos = None
        try:
            if fileobj.seekable():
                pos = fileobj.tell()
        except (AttributeError, OSError):  # a minimal stream: not re-readable
            pass
    rereads = 0
    while True:
        reader = CsvBlockReader(source, **options)
        reader._infer_overrides = overrides
        reader.stats.rereads = rereads
        try:
            df = _read_all(reader)
        except CsvInferenceError as e:
            if fileobj is not None:
                if pos is None:
                    raise
                fileobj.seek(pos)
            widened = {c: _join_state(overrides[c], st) if c in overrides else st
                       for c, st in e.states.items()}
            if all(overrides.get(c) == st for c, st in widened.items()):
                raise  # nothing new learnt: do not loop (cannot happen; widening is monotone)
            overrides.update(widened)
            rereads += 1
            log.info("read_csv: %s; reading again with dtypes %s", e, e.dtypes)
            continue
        return df


