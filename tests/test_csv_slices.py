"""A block is tokenized and converted in slices (``SLICE_BYTES``): the blocks handed out, the
stats, the warnings and the errors must not depend on the slice size, down to one byte (so a
slice boundary falls at every position: inside quoted newlines, between CR and LF, on a bad
row, inside a row longer than the slice); and a mapped block's file pages must leave RSS slice
by slice."""
from __future__ import annotations

import dataclasses
import mmap
import os
import warnings

import numpy as np
import pytest

from csv_util import assert_frames_identical, bs_kw, csv_api, write
from test_csv_mmap import CASES, PAGE, TYPED, _has_bad_rows, _typed_file

UNSLICED = 1 << 40  # one slice per block: the reader as it was before slicing
SLICES = (1, 2, 3, 7, 64, 1000, PAGE + 1)


def _run(monkeypatch, path, slice_bytes, **kw):
    """Every block, the stats, the warnings' texts and read_csv's frame, or the error (class,
    text, line, column, value, byte offset), with blocks sliced at ``slice_bytes``."""
    import blockops.io.csv as C

    bio = csv_api()
    monkeypatch.setattr(C, "SLICE_BYTES", slice_bytes)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with bio.CsvBlockReader(path, **kw) as r:
                blocks = list(r)
            stats = dataclasses.asdict(r.stats)
            whole = bio.read_csv(path, **kw)
    except Exception as exc:  # noqa: BLE001 - compared below
        assert not isinstance(exc, (SystemError, MemoryError, BufferError)), repr(exc)
        return ("err", type(exc), str(exc)) + tuple(
            getattr(exc, a, None) for a in ("line", "column", "value", "byte_offset"))
    texts = [str(w.message) for w in caught if issubclass(w.category, bio.CsvBadLineWarning)]
    return "ok", blocks, stats, texts, whole


def _assert_same(got, want, msg):
    assert got[0] == want[0], f"{msg}: {got[:3]} vs {want[:3]}"
    if got[0] == "err":
        assert got == want, msg
        return
    assert len(got[1]) == len(want[1]), f"{msg}: {len(got[1])} blocks vs {len(want[1])}"
    for i, (g, w) in enumerate(zip(got[1], want[1])):
        assert_frames_identical(g, w, msg=f"{msg} block {i}")
    assert got[2] == want[2], msg
    assert got[3] == want[3], msg
    assert_frames_identical(got[4], want[4], msg=msg + " (read_csv)")


@pytest.mark.parametrize("name", list(CASES))
def test_slices_identical_on_hostile_files(tmp_path, monkeypatch, name):
    """Every hostile file, sliced from one byte up, against the unsliced reader: the same
    blocks (bounds, index, values), stats, warnings and errors, on both sources."""
    data = CASES[name]
    path = write(tmp_path, data)
    modes = ("warn", "error") if _has_bad_rows(data) else ("skip",)
    small = len(data) <= 2048
    for bs in ((64, 1000, None) if small else (1000, 3 * PAGE, None)):
        for mm in (True, False):
            for bad in modes:
                kw = dict(dtypes="str", on_bad_lines=bad, n_threads=2, memory_map=mm, **bs_kw(bs))
                want = _run(monkeypatch, path, UNSLICED, **kw)
                for sl in SLICES if small else (1, 7, 1000, PAGE + 1):
                    _assert_same(_run(monkeypatch, path, sl, **kw), want,
                                 f"{name} blocksize={bs} memory_map={mm} {bad} slice={sl}")


@pytest.mark.parametrize("slice_bytes", [1, 5, 333, 4096, 50_000])
def test_slices_identical_typed_and_inferred(tmp_path, monkeypatch, slice_bytes):
    """Every converter, long rows (longer than the slice: the slice grows), quoted CRLFs; the
    inferred types come from the first MiB whatever the slice; a column subset."""
    path = write(tmp_path, _typed_file(2000))
    for bs in (20_000, "1MB", None):
        for kw in (dict(dtypes=TYPED), dict(columns=["s", "f", "i"])):
            kw = dict(kw, n_threads=2, **bs_kw(bs))
            _assert_same(_run(monkeypatch, path, slice_bytes, **kw),
                         _run(monkeypatch, path, UNSLICED, **kw),
                         f"blocksize={bs} slice={slice_bytes} {kw}")


def test_bad_rows_on_every_slice_boundary(tmp_path, monkeypatch):
    """Bad rows (wrong field count, a value that does not convert, an unterminated quote at the
    end) every few rows, with slices small enough that every row is cut: the first error names
    the same line, column and value; skip/warn drop and list the same rows."""
    rows = [b"a,b,c"]
    for i in range(300):
        if i % 7 == 3:
            rows.append(b"%d,%d" % (i, i))  # one field short
        elif i % 11 == 5:
            rows.append(b"%d,x%d,\"q\r\nr\"" % (i, i))  # b is not an int
        else:
            rows.append(b"%d,%d,\"v,%d\"" % (i, -i, i))
    data = b"\r\n".join(rows) + b'\r\n1,2,"open'
    path = write(tmp_path, data)
    kw = dict(dtypes={"a": "int64", "b": "int32", "c": "str"}, blocksize=900)
    for bad in ("error", "warn", "skip"):
        want = _run(monkeypatch, path, UNSLICED, on_bad_lines=bad, **kw)
        if bad == "error":
            assert want[0] == "err" and want[3] == 5, want  # line 5: row 3 has two fields
        else:
            assert want[0] == "ok" and want[2]["rows_skipped"] > 60
        for sl in (1, 2, 9, 31, 200, 899):
            _assert_same(_run(monkeypatch, path, sl, on_bad_lines=bad, **kw), want,
                         f"{bad} slice={sl}")


def test_block_columns_grow_when_the_estimate_is_short():
    """The block's arrays are sized from the first slice's rows per byte; when later slices
    hold more rows, the arrays grow and keep what was written."""
    from blockops.io import _csv_assemble as A
    from blockops.io import _csv_options as O

    specs = [O._Spec(0, "i", O._T_INT64), O._Spec(1, "p", O._T_WKT),
             O._Spec(2, "n", O._T_INT32, nullable=True), O._Spec(3, "s", O._T_STR, True)]
    acc = A._BlockColumns(specs, rows=2, nbytes=100, block_bytes=100)
    assert acc.cap == 18  # 2 rows per 100 bytes, +10%, +16
    written = 0
    for k in (10, 10, 25):
        r0 = acc.reserve(k)
        assert r0 == written and acc.cap >= written + k
        cols, bad = acc.dest()
        cols[0][0][r0:r0 + k] = np.arange(written, written + k)
        cols[1][1][r0:r0 + k] = -np.arange(written, written + k)
        cols[2][2][r0:r0 + k] = np.arange(written, written + k) % 2
        bad[r0:r0 + k] = np.arange(written, written + k) % 3 == 0
        acc.add([(None, None), (None, None), (None, None),
                 ((np.zeros(k + 1, np.int64), np.zeros(0, np.uint8)), None)], k)
        written += k
    outs, bad = acc.outputs()
    assert acc.n == 45 and acc.cap >= 45
    np.testing.assert_array_equal(outs[0][0], np.arange(45))
    np.testing.assert_array_equal(outs[1][0][1], -np.arange(45))
    np.testing.assert_array_equal(outs[2][1], np.arange(45) % 2 == 1)
    np.testing.assert_array_equal(bad, np.arange(45) % 3 == 0)
    assert len(outs[3][0]) == 3 and len(outs[3][1]) == 45  # one string chunk per slice


def _resident_bytes_of(path) -> tuple[int, int]:
    """(size, resident bytes) of this process's mapping of path (0, 0 when not mapped)."""
    real = os.path.realpath(path)
    size = rss = 0
    inside = False
    with open("/proc/self/smaps") as fh:
        for line in fh:
            head = line.split()
            if "-" in head[0] and len(head) >= 5 and ":" not in head[0]:
                inside = line.rstrip("\n").endswith(real)
            elif inside and head[0] == "Size:":
                size += int(head[1]) * 1024
            elif inside and head[0] == "Rss:":
                rss += int(head[1]) * 1024
    return size, rss


@pytest.mark.skipif(not os.path.exists("/proc/self/smaps") or not hasattr(mmap, "MADV_DONTNEED"),
                    reason="needs Linux /proc/self/smaps and MADV_DONTNEED")
@pytest.mark.parametrize("drop", [True, False], ids=["reader", "control-without-drop"])
def test_mapped_block_pages_leave_rss_slice_by_slice(tmp_path, monkeypatch, drop):
    """A block is one mapping, but while slice k is tokenized the pages of slices 0..k-1 are
    no longer resident: the window's RSS stays near one slice, far below the block. The control
    run keeps the reader from dropping pages and must see the window climb towards the block
    size (so this measurement can tell the two apart)."""
    import blockops.io.csv as C
    from blockops import _core

    slice_bytes, blocksize = 256 << 10, 16 << 20
    rows = 500_000
    data = b"i,s\n" + b"".join(b"%d,%s\n" % (i, b"v" * (40 + i % 50)) for i in range(rows))
    assert len(data) > 2 * blocksize
    path = write(tmp_path, data)
    monkeypatch.setattr(C, "SLICE_BYTES", slice_bytes)
    seen = []
    real_tokenize, real_count = _core.csv_tokenize, _core.csv_count_lines

    def spy(buf, *args):
        seen.append(_resident_bytes_of(path))
        return real_tokenize(buf, *args)

    def count_without_drop(buf, start, end, n_threads=1, drop_file_pages=False, count=True):
        return real_count(buf, start, end, n_threads, False, count)

    monkeypatch.setattr(_core, "csv_tokenize", spy)
    if not drop:
        monkeypatch.setattr(_core, "csv_count_lines", count_without_drop)
    n = 0
    with csv_api().CsvBlockReader(path, dtypes={"i": "int64", "s": "str"}, blocksize=blocksize,
                                  n_threads=2, memory_map=True) as r:
        for block in r:
            n += len(block)
    assert n == rows
    assert max(size for size, _ in seen) >= blocksize  # the window is the whole block
    worst = max(rss for _, rss in seen)
    if not drop:
        assert worst >= blocksize // 2, f"control: only {worst} bytes resident"
        return
    # the slice, the kernel's fault-around (64 KiB) and, where the kernel maps a large folio
    # of the page cache whole (a 2 MiB-aligned window on ext4 with Linux 6.x), two 2 MiB ones
    limit = 2 * slice_bytes + (128 << 10) + 2 * (2 << 20)
    assert worst <= limit, f"{worst} bytes of the window resident (slice {slice_bytes})"
