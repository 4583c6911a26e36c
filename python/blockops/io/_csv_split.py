"""Split planning for the distributed readers (:mod:`blockops.dask`, :mod:`blockops.ray`): where
each partition of a file starts, its first global row number and its first file line.

A partition must start at a row start, and whether a line break ends a row depends on the quote
state there, which depends on every byte before it. Local plain files get one quote-aware C
scan each on the driver (``blockops.dask.plan_csv_partitions``). A remote file is not read on the
driver: its nominal ranges ``[k * blocksize, (k + 1) * blocksize)`` are scanned by one task each,
where the caller runs tasks (Dask or Ray workers), each fetching only its range (plus the rest
of the row it ends in), and the driver chains the tasks' small results in file order.

Why that is exact without knowing the quote state at a cut: each task moves its cut to just
after the first LF at or after it. After an LF the scanner (the same state machine as the
tokenizer, ``bo_csv_scan_feed``) is in one of two states only: at a row start (the LF ended a
row), or inside a quoted field (the LF is data); every other part of its state is then fixed
(the LF is no CR, a quoted field has data and is past its field start). So the task scans its
unit once from each of the two states; the driver knows the state at the start of the file,
and each unit's result for the true state gives the true state at the next unit. A row is
never split or duplicated, and a quoted newline never starts a partition, as on local files.

A compressed remote file cannot be entered in the middle, and a file of unknown size cannot be
cut: one task decompresses or streams it and counts its rows, and it is one partition.
"""
from __future__ import annotations

import numpy as np

from .._errors import BlockopsIOError
from ._csv_sources import _BOM, _FsRange, _resolve_sources, url_fs

#: Bytes per read of the driver's and the tasks' scans (local reads, remote ranged requests).
SCAN_BYTES = 8 << 20
#: Most bytes of the first read past a unit's nominal end, looking for the LF that ends it
#: (and at most an eighth of the range; doubled per read up to SCAN_BYTES): lines are short,
#: so the tail usually costs one small request. Also the first read of a remote header.
TAIL_BYTES = 64 << 10

#: A local plain file at least this large is planned by scan tasks as a remote one is, not by
#: one scan on the driver: on a cluster that serial scan is most of a large run's time
#: (docs/scaling.md), and the tasks read the file by its path (a file system the workers
#: share, as the read tasks themselves need). Smaller files stay on the driver: a task round
#: trip costs more than scanning them.
LOCAL_TASK_BYTES = 1 << 30

_NONE = np.zeros(0, dtype=np.uint64)


def _scanner(delimiter, quotechar, inside: bool):
    """A C split scanner and its ``bytes fed before the unit``. ``inside``: in a quoted field,
    after an LF, which is where one quote character puts a fresh scanner (at a row start, a
    quote opens a quoted field: in_quote, the row has data, past its field start, no CR
    before); so that state is reached through the state machine itself, not by setting its
    fields, and found offsets are one byte later."""
    from .. import _core

    s = _core.csv_scan_new(delimiter, quotechar)
    if inside:
        q = quotechar.encode()
        _core.csv_scan_feed(s, q, 1, _NONE, *(np.zeros(0, dtype=np.int64) for _ in range(3)))
    return s, int(inside)


class _Hypothesis:
    """One scanner over a unit, from one start state; records the unit's first row start."""

    def __init__(self, delimiter, quotechar, inside: bool):
        self.scan, self.off = _scanner(delimiter, quotechar, inside)
        # the first row start at or after the unit's first byte (offset 0 is one itself when
        # the unit starts at a row start: found at once)
        self.targets = np.array([self.off], dtype=np.uint64)
        self.found = np.full(1, -1, dtype=np.int64)
        self.rows_before = np.zeros(1, dtype=np.int64)
        self.lines_before = np.zeros(1, dtype=np.int64)

    def feed(self, buf) -> None:
        from .. import _core

        if len(buf):
            _core.csv_scan_feed(self.scan, buf, len(buf), self.targets, self.found,
                                self.rows_before, self.lines_before)

    def result(self, unit_len: int, eof: bool) -> tuple:
        """``(first, rows_before, lines_before, rows, ends_outside)``: the unit's first row start
        (offset in the unit, None when none starts inside it) with the rows and lines before
        it, the rows the unit completes (at the end of the file: with an unterminated last
        row, as ``bo_csv_scan_finish`` counts it), and whether the unit ends at a row start
        (None at the end of the file)."""
        from .. import _core

        finished, _, _ = _core.csv_scan_finish(self.scan)
        # (a row start at the unit's end is reported only when one more byte is fed: never
        # here, so it is the next unit's first)
        first = int(self.found[0]) - self.off if self.found[0] >= 0 else None
        rb, lb = (int(self.rows_before[0]), int(self.lines_before[0])) if first is not None \
            else (0, 0)
        if eof:
            return first, rb, lb, int(finished), None
        # Whether the state after the unit's last byte (an LF) is a row start: one more byte
        # fed makes the scanner report a row start at the unit's end exactly then. finish()
        # counts the row a unit ending inside quotes is in as unterminated: not completed here.
        t = np.array([unit_len + self.off], dtype=np.uint64)
        fo, r, ln = np.full(1, -1, dtype=np.int64), np.zeros(1, np.int64), np.zeros(1, np.int64)
        _core.csv_scan_feed(self.scan, b"\n", 1, t, fo, r, ln)
        outside = bool(fo[0] == unit_len + self.off)
        return first, rb, lb, int(finished) - (0 if outside else 1), outside


def scan_range(name: str, storage_options, size: int, lo: int, hi: int, delimiter: str,
               quotechar) -> dict:
    """The scan task of one nominal range ``[lo, hi)`` of a file of ``size`` bytes: a remote
    file, or a local one of at least :data:`LOCAL_TASK_BYTES` (read by its path).

    Its unit starts just after the first LF at or after ``lo`` (the file's start for ``lo``
    0) and ends just after the first LF at or after ``hi`` (or at the end of the file), so
    consecutive tasks' units tile the file. Fetched: ``[lo, hi)`` and the rest of the line
    ``hi`` is in, by ranged reads. Returns ``{"start", "end", "eof", "lines", "out", "in"}``
    (``start`` None: no LF in ``[lo, hi)``, the unit is empty and its bytes the previous
    unit's): the line breaks in the unit, and :meth:`_Hypothesis.result` from a row start
    (``out``) and from inside a quoted field (``in``; None without a quote character)."""
    from .. import _core

    fs, path = url_fs(name, storage_options)
    if fs is None:  # a large local file (LOCAL_TASK_BYTES): the workers share its path
        import fsspec

        fs = fsspec.filesystem("file")
    f = _FsRange(fs, path, name, lo, size)
    try:
        pos, head = lo, b""
        if lo:
            start = None
            while pos < hi:
                buf = f.read(min(SCAN_BYTES, hi - pos))
                k = buf.find(b"\n")
                pos += len(buf)
                if k >= 0:
                    start, head = pos - len(buf) + k + 1, buf[k + 1:]
                    break
            if start is None or start >= size:  # (an LF that ends the file starts nothing)
                return {"lo": lo, "start": None}
        else:
            start = 0
        hyps = {"out": _Hypothesis(delimiter, quotechar, False)}
        if quotechar is not None:
            hyps["in"] = _Hypothesis(delimiter, quotechar, True)

        def feed(buf):
            for h in hyps.values():
                h.feed(buf)

        feed(head)
        del head
        while pos < hi:
            buf = f.read(min(SCAN_BYTES, hi - pos))
            feed(buf)
            pos += len(buf)
        # the tail: up to and including the first LF at or after hi (the first read an eighth
        # of the range at most, so small ranges fetch little more than themselves)
        want = max(256, min(TAIL_BYTES, (hi - lo) // 8))
        while pos < size:
            buf = f.read(min(want, size - pos))
            k = buf.find(b"\n")
            if k >= 0:
                buf = buf[:k + 1]
            feed(buf)
            pos += len(buf)
            if k >= 0:
                break
            want = min(2 * want, SCAN_BYTES)
    finally:
        f.close()
    eof = pos >= size
    _, _, lines = _core.csv_scan_finish(hyps["out"].scan)
    out = {"lo": lo, "start": start, "end": pos, "eof": eof, "lines": int(lines), "in": None}
    for key, h in hyps.items():
        out[key] = h.result(pos - start, eof)
    return out


def chain_units(name: str, size: int, units: list) -> tuple[list, int]:
    """The scan tasks' results of one file, in order -> ``(cuts, rows)``: ``cuts`` the
    ``(offset, rows before, lines before)`` of the first row start in each unit, for the
    quote state the file really has there (known at its start: a row start), and ``rows``
    the rows of the file (the header and an unterminated last row included), as the local
    scan gives them."""
    state, rows, lines, end, cuts = "out", 0, 0, 0, []
    for u in units:
        if u["start"] is None:
            continue
        if u["start"] != end:  # the tasks read different files: it changed while planned
            raise BlockopsIOError(f"{name}: the planning scan's ranges do not join at byte "
                                  f"{end:,} (the file changed while it was planned?)",
                                  path=name, byte_offset=end)
        first, rb, lb, n, ends_outside = u[state]
        if first is not None:
            cuts.append((u["start"] + first, rows + rb, lines + lb))
        rows += n
        lines += u["lines"]
        end = u["end"]
        if not u["eof"]:
            state = "out" if ends_outside else "in"
    if end != size:
        raise BlockopsIOError(f"{name}: the planning scan ended at byte {end:,} of {size:,} "
                              "(the file changed while it was planned?)", path=name,
                              byte_offset=end)
    return cuts, rows


def data_start(read, header: bool, delimiter, quotechar, piece: int = SCAN_BYTES) -> tuple:
    """``(offset, lines before)`` of a file's first data row: after a UTF-8 BOM and, with
    ``header``, after the first row, found by the tokenizer (a quoted header may hold line
    breaks). ``read(n)`` reads the file from its start; ``piece`` is the first read's size
    (doubled per read: a header is usually one short line)."""
    from .. import _core

    data = b""
    while True:
        more = read(piece)
        data += more
        piece = min(2 * piece, SCAN_BYTES)
        if len(data) < len(_BOM) and more:
            continue
        bom = len(_BOM) if data.startswith(_BOM) else 0
        if not header:
            return bom, 0
        _, n_rows, _, consumed, _, _ = _core.csv_tokenize(
            data[bom:], len(data) - bom, delimiter, quotechar, 0, not more, 1, 0, 1)
        if n_rows or not more:
            return bom + consumed, _core.csv_count_lines(data, bom, bom + consumed)


def file_parts(name: str, size: int, start: tuple, cuts, scanned_rows: int, header: bool,
               row0: int) -> tuple[list, int]:
    """A file's partitions ``(name, start, end, first global row, first line)`` and its data
    rows, from its data start (:func:`data_start`), the row starts found at or after each cut
    (``(offset, rows before, lines before)``, ascending) and the rows the scan counted. A
    range without rows (blank lines only) is left out, so every division is a row."""
    hdr = 1 if header and scanned_rows else 0
    n = scanned_rows - hdr
    starts = [(start[0], 0, start[1])]
    for fo, rb, lb in cuts:
        if fo < 0 or fo >= size or fo <= starts[-1][0]:
            continue
        starts.append((int(fo), int(rb) - hdr, int(lb)))
    ends = [s[0] for s in starts[1:]] + [size]
    rows_end = [s[1] for s in starts[1:]] + [n]
    parts = [(name, s, e, row0 + rb, lb + 1)
             for (s, rb, lb), e, re in zip(starts, ends, rows_end) if e > s and re > rb]
    return parts, n


def count_stream(f, delimiter, quotechar) -> int:
    """Rows of a stream (the header and an unterminated last row included): the planner's
    quote-aware C scan, one pass."""
    from .. import _core

    scanner = _core.csv_scan_new(delimiter, quotechar)
    none = np.zeros(0, dtype=np.int64)
    while True:
        buf = f.read(SCAN_BYTES)
        if not buf:
            break
        _core.csv_scan_feed(scanner, buf, len(buf), _NONE, none, none, none)
    return int(_core.csv_scan_finish(scanner)[0])


def count_rows(name: str, storage_options, compression, delimiter, quotechar) -> int:
    """The count task of a file read whole (compressed, or of unknown size): its rows, as
    :func:`count_stream` counts them (decompressing, streaming)."""
    src = _resolve_sources(name, compression, storage_options)[0]
    f, _ = src.open()
    try:
        return count_stream(f, delimiter, quotechar)
    finally:
        f.close()
