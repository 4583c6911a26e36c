"""The memory-mapped source (regular files; ``memory_map=None`` or ``True``) against the read
path (``memory_map=False``, also what file objects and pipes take): the same frames, errors and
stats at every block size and thread count; windows unmapped before a block is handed out;
nothing in a result points into a window; the ``memory_map`` argument."""
from __future__ import annotations

import dataclasses
import gc
import glob
import mmap
import os
import threading

import numpy as np
import pandas as pd
import pytest

from csv_util import (DATA_DIR, assert_blocks_well_formed, assert_frames_identical, bs_kw,
                      concat_blocks, csv_api, read_blocks, write)
from reference import csv_ref as R

from blockops.io._csv_sources import _MappedFile

PAGE = mmap.ALLOCATIONGRANULARITY


def _page_aligned(size: int, last: bytes) -> bytes:
    """A file of exactly ``size`` bytes whose last field, ``last``, ends at the end of the file
    (no final newline): the end of the mapping is the end of the last value."""
    head = b"k,v\n"
    filler_row = b"1," + b"x" * 250 + b"\n"
    body = bytearray()
    room = size - len(head) - len(b"2,") - len(last)
    while len(body) + len(filler_row) <= room - 8:
        body += filler_row
    pad = room - len(body) - 3  # "3,<pad>\n"
    body += b"3," + b"y" * pad + b"\n"
    data = head + bytes(body) + b"2," + last
    assert len(data) == size, (len(data), size)
    return data


def _bytes(path) -> bytes:
    with open(path, "rb") as fh:
        return fh.read()


CASES = dict(R.NASTY)
CASES.update({"data/" + os.path.basename(p): _bytes(p)
              for p in sorted(glob.glob(os.path.join(DATA_DIR, "*.csv")))})
CASES.update({
    "page_aligned_number": _page_aligned(PAGE, b"12345.678901234"),
    "page_aligned_quoted": _page_aligned(2 * PAGE, b'"a, ""quoted"" value"'),
    "crlf_across_pages": (b"a,b\r\n" + b"".join(b"%d,%s\r\n" % (i, b"v" * (i % 97))
                                                for i in range(400))),
    "quoted_newlines_across_pages": (b"a,b\n" + b"".join(
        b'%d,"%s\r\n%s"\n' % (i, b"p" * (i % 131), b"q" * (i % 53)) for i in range(300))),
})
BLOCKSIZES = (1, 2, 3, 7, 64, 1000, PAGE - 1, PAGE, PAGE + 1, None)
#: for files over 2 KB: one-byte blocks there only re-test what the small files test, slowly
BLOCKSIZES_BIG = (61, 1000, PAGE - 1, PAGE, PAGE + 1, None)


def _has_bad_rows(data: bytes) -> bool:
    try:
        return bool(R.expected_str_frame(data).bad_lines)
    except R.Unspecified:
        return True


def _outcome(path, **kw):
    """(frame of all blocks, read_csv frame, stats without the block count) or the error."""
    bio = csv_api()
    try:
        blocks, st = read_blocks(path, **kw)
        assert_blocks_well_formed(blocks, st)
        whole = bio.read_csv(path, **kw)
    except Exception as exc:  # noqa: BLE001 - compared below, class and text
        assert not isinstance(exc, (SystemError, MemoryError, BufferError)), repr(exc)
        return "err", type(exc), str(exc), getattr(exc, "line", None)
    stats = dataclasses.asdict(st)
    stats.pop("blocks")  # the read path may end with an extra block holding only the tail
    return "ok", concat_blocks(blocks, whole), whole, stats


def _assert_same(a, b, msg):
    assert a[0] == b[0], f"{msg}: {a[:2]} vs {b[:2]}"
    if a[0] == "err":
        assert a[1:] == b[1:], msg
        return
    if a[1] is not None:
        assert_frames_identical(a[1], b[1], msg=msg + " (blocks)")
    assert_frames_identical(a[2], b[2], msg=msg)
    assert a[3] == b[3], msg


@pytest.mark.parametrize("name", list(CASES))
def test_mapped_and_read_paths_identical_on_hostile_files(tmp_path, name):
    """Every hostile file (quoted newlines, CRLF, BOM, no final newline, bad rows, rows longer
    than the block, files that end exactly at a page boundary) at every block size from one
    byte and 1 and 3 threads: the mapped source gives the frames, stats and errors the read
    path gives."""
    data = CASES[name]
    path = write(tmp_path, data)
    modes = ("skip", "error") if _has_bad_rows(data) else ("skip",)
    for bs in BLOCKSIZES if len(data) <= 2048 else BLOCKSIZES_BIG:
        for nt in (1, 3):
            for bad in modes:
                kw = dict(dtypes="str", on_bad_lines=bad, n_threads=nt, **bs_kw(bs))
                mapped = _outcome(path, memory_map=True, **kw)
                read = _outcome(path, memory_map=False, **kw)
                _assert_same(mapped, read, f"{name} blocksize={bs} n_threads={nt} {bad}")
                if mapped[0] == "ok" and bad == "skip":
                    assert mapped[3]["bytes_read"] == len(data)


def _typed_file(n=3000, seed=3):
    """Typed columns of every converter (numbers, hex, WKT, datetimes, bool, str with quotes),
    long rows here and there, CRLF line ends."""
    rng = np.random.default_rng(seed)
    lines = [b"i,f,h,p,d,b,s"]
    for i in range(n):
        note = (b'"' + b"z" * int(rng.integers(0, 9000)) + b'"') if i % 97 == 0 else b"s%d" % i
        if i % 13 == 0:
            note = b'"two\r\nlines, ""q"""'
        lines.append(b"%d,%r,%x,POINT (%r %r),%02d/%02d/2021 %02d:%02d:%02d PM,%s,%s" % (
            i, float(rng.normal()), int(rng.integers(0, 2**32)), float(rng.uniform(-180, 180)),
            float(rng.uniform(-90, 90)), 1 + i % 12, 1 + i % 28, 1 + i % 12, i % 60, i % 60,
            b"True" if i % 2 else b"False", note))
    return b"\r\n".join(lines) + b"\r\n"


TYPED = {"i": "int64", "f": "float64", "h": "hex", "p": "wkt_point",
         "d": "datetime:%m/%d/%Y %I:%M:%S %p", "b": "bool", "s": "str"}


@pytest.mark.parametrize("bs", [7, 4096, 50_000, "1MB", None])
def test_mapped_and_read_paths_identical_typed(tmp_path, bs):
    data = _typed_file()
    path = write(tmp_path, data)
    for nt in (1, 2):
        kw = dict(dtypes=TYPED, n_threads=nt, **bs_kw(bs))
        _assert_same(_outcome(path, memory_map=True, **kw), _outcome(path, memory_map=False, **kw),
                     f"blocksize={bs} n_threads={nt}")
        # inference (the first MiB) and a column subset too
        kw = dict(columns=["s", "f", "i"], n_threads=nt, **bs_kw(bs))
        _assert_same(_outcome(path, memory_map=None, **kw), _outcome(path, memory_map=False, **kw),
                     f"inferred blocksize={bs} n_threads={nt}")


def _mappings_of(path) -> int:
    real = os.path.realpath(path)
    with open("/proc/self/maps") as fh:
        return sum(1 for line in fh if line.rstrip("\n").endswith(real))


@pytest.mark.skipif(not os.path.exists("/proc/self/maps"), reason="needs Linux /proc/self/maps")
@pytest.mark.parametrize("memory_map", [None, True, False])
def test_windows_are_mapped_while_parsed_and_unmapped_before_the_block_is_handed_out(
        tmp_path, monkeypatch, memory_map):
    """With memory_map None (auto) or True a regular file is parsed from a mapping, and that
    mapping is gone by the time its block reaches the caller (so file pages never pile up in
    RSS, and no view of the window survives: a live view would keep it mapped)."""
    from blockops import _core

    data = _typed_file(600)
    path = write(tmp_path, data)
    seen = []
    real = _core.csv_tokenize

    def spy(buf, *args):
        seen.append(_mappings_of(path))
        return real(buf, *args)

    monkeypatch.setattr(_core, "csv_tokenize", spy)
    bio = csv_api()
    n = 0
    with bio.CsvBlockReader(path, columns=list(TYPED), dtypes=TYPED, blocksize=5000,
                            memory_map=memory_map) as r:
        for block in r:
            assert _mappings_of(path) == 0, "a window is still mapped while the caller has the block"
            n += len(block)
    assert n == 600 and len(seen) > 20
    if memory_map is False:
        assert max(seen) == 0
    else:
        assert min(seen) == 1 == max(seen), seen  # one window at a time, never none
    assert _mappings_of(path) == 0


def test_values_outlive_the_mapping(tmp_path):
    """Strings, categories, header names and every typed column are copies: read a file block by
    block, close the reader, map and unmap other memory over the old addresses, then check every
    value against the read path."""
    bio = csv_api()
    data = _typed_file(800, seed=5)
    path = write(tmp_path, data)
    dtypes = dict(TYPED, s="category", b="str")
    with bio.CsvBlockReader(path, dtypes=dtypes, blocksize=3000, memory_map=True) as r:
        blocks = list(r)
    with bio.CsvBlockReader(path, dtypes={"s": "str"}, blocksize=3000, memory_map=True,
                            as_arrays=True) as r:
        arrays = list(r)
    del r
    gc.collect()
    churn = []
    for _ in range(64):  # reuse the address range the windows had
        m = mmap.mmap(-1, 1 << 16)
        m.write(b"\xff" * (1 << 16))
        churn.append(m)
    for m in churn:
        m.close()
    with open(path, "rb") as fh:
        want = bio.read_csv(fh, dtypes=dtypes)  # a file object: the read path
    got = pd.concat(blocks)
    got["s"] = got["s"].astype(str)
    want["s"] = want["s"].astype(str)
    assert_frames_identical(got, want)
    assert list(got.columns) == ["i", "f", "h", "p_lon", "p_lat", "d", "b", "s"]
    strings = np.concatenate([a["s"] for a in arrays])
    assert strings.tolist() == want["s"].tolist()


def test_ranges_mapped_and_read(tmp_path):
    """The byte ranges the Dask and Ray readers plan (blockops.io.csv._range_reader) read the
    same rows through either source, and together give the whole file."""
    from blockops.dask import plan_csv_partitions
    from blockops.io import csv as bcsv

    bio = csv_api()
    data = _typed_file(1500, seed=11)
    path = write(tmp_path, data)
    want = bio.read_csv(path, dtypes=TYPED, memory_map=False)
    probe = bio.CsvBlockReader(path, dtypes=TYPED)
    next(iter(probe))
    names, specs = probe._names, probe._specs
    probe.close()
    for bs in (3000, 40_000):
        parts, total = plan_csv_partitions([path], blocksize=bs)
        assert len(parts) > 1 and total == len(want)
        for mm in (True, False):
            frames = []
            for p, start, end, row0, line0 in parts:
                opts = dict(dtypes=TYPED, blocksize=1000, n_threads=2, memory_map=mm)
                with bcsv._range_reader(p, start, end, names=names, specs=specs, row0=row0,
                                        line0=line0, options=opts) as r:
                    frames.extend(b for b in r if len(b))
            assert_frames_identical(pd.concat(frames), want, msg=f"bs={bs} memory_map={mm}")


def test_long_rows_and_row_limit(tmp_path):
    """Rows far longer than the block grow the window geometrically (same rows as the read
    path), and a row past max_row_bytes raises LimitError with the same line either way."""
    import blockops

    bio = csv_api()
    rows = [b"a,b"] + [b"%d,%s" % (i, b"x" * n) for i, n in enumerate([5, 70_000, 3, 250_000, 9])]
    data = b"\n".join(rows) + b"\n"
    path = write(tmp_path, data)
    for bs in (1, 100, 4096):
        a = bio.read_csv(path, blocksize=bs, memory_map=True, dtypes={"b": "str"})
        b = bio.read_csv(path, blocksize=bs, memory_map=False, dtypes={"b": "str"})
        assert_frames_identical(a, b)
        assert a["b"].str.len().tolist() == [5, 70_000, 3, 250_000, 9]
        lines = []
        for mm in (True, False):
            with pytest.raises(blockops.LimitError) as ei:
                bio.read_csv(path, blocksize=bs, memory_map=mm, max_row_bytes=100_000)
            lines.append((ei.value.line, ei.value.byte_offset))
        assert lines[0] == lines[1] and lines[0][0] == 5


def test_memory_map_argument(tmp_path):
    bio = csv_api()
    path = write(tmp_path, b"a,b\n1,2\n")
    with pytest.raises(ValueError, match="memory_map"):
        bio.CsvBlockReader(path, memory_map="yes")
    with open(path, "rb") as fh, pytest.raises(ValueError, match="memory_map=True"):
        bio.CsvBlockReader(fh, memory_map=True)
    with open(path, "rb") as fh:  # auto: a file object is read, not mapped
        assert bio.read_csv(fh)["b"].tolist() == [2]
    assert bio.read_csv(path, memory_map=True)["b"].tolist() == [2]
    # options travel to the readers built from this one (meta(), Dask/Ray ranges)
    assert bio.CsvBlockReader(path, memory_map=False)._options()["memory_map"] is False


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_named_pipe_is_read_not_mapped(tmp_path):
    bio = csv_api()
    fifo = os.path.join(str(tmp_path), "pipe.csv")
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match="not a regular file"):
        bio.CsvBlockReader(fifo, memory_map=True)
    data = b"a,b\n" + b"".join(b"%d,%d\n" % (i, 2 * i) for i in range(5000))

    def feed():
        with open(fifo, "wb") as fh:
            fh.write(data)

    t = threading.Thread(target=feed)
    t.start()
    try:
        got = bio.read_csv(fifo, blocksize=1000)  # auto: a pipe takes the read path
    finally:
        t.join(10)
    assert got["b"].tolist() == [2 * i for i in range(5000)]


def test_empty_and_header_only_files_mapped(tmp_path):
    for data in (b"", b"a,b", b"a,b\r\n", R.BOM + b"a,b\n", b"\n\n"):
        path = write(tmp_path, data, "e.csv")
        for bs in (1, None):
            _assert_same(_outcome(path, memory_map=True, dtypes="str", **bs_kw(bs)),
                         _outcome(path, memory_map=False, dtypes="str", **bs_kw(bs)),
                         f"{data!r} blocksize={bs}")


@pytest.mark.skipif(not os.path.exists("/proc/self/maps"), reason="needs Linux /proc/self/maps")
def test_error_mid_block_releases_the_window(tmp_path):
    """A parse error raised while a window is mapped: the error is the CsvParseError (not a
    BufferError from closing a mapping a traceback still views), and the window goes when the
    exception does."""
    import blockops

    bio = csv_api()
    data = b"a,b\n" + b"".join(b"%d,x\n" % i for i in range(2000)) + b"oops,x\n1,y\n"
    path = write(tmp_path, data)
    try:
        bio.read_csv(path, dtypes={"a": "int64"}, blocksize=4096, memory_map=True)
    except blockops.CsvParseError as e:
        assert e.line == 2002 and "oops" in str(e)
    else:
        pytest.fail("no CsvParseError")
    gc.collect()
    assert _mappings_of(path) == 0


@pytest.mark.skipif(not os.path.exists("/proc/version"), reason="needs Linux procfs")
@pytest.mark.parametrize("memory_map", [None, True])
def test_zero_size_regular_file_with_content_is_read(memory_map):
    """procfs and sysfs files are regular files of size 0 that have content: nothing to map,
    so they are read."""
    bio = csv_api()
    with open("/proc/version", "rb") as fh:
        want = fh.read().decode().strip()
    got = bio.read_csv("/proc/version", header=False, delimiter="\x01", dtypes="str",
                       memory_map=memory_map)
    assert got[0].tolist() == [want]


def test_file_system_that_cannot_map_is_read(tmp_path, monkeypatch):
    """mmap failing (ENODEV: a file system without mmap) falls back to reading with
    memory_map=None, and is the error with memory_map=True."""
    import errno

    from blockops.io import _csv_sources as bsrc

    bio = csv_api()
    data = _typed_file(300)
    path = write(tmp_path, data)
    want = bio.read_csv(path, dtypes=TYPED, blocksize=2000)

    def no_mmap(*a, **k):
        raise OSError(errno.ENODEV, "No such device")

    monkeypatch.setattr(bsrc.mmap, "mmap", no_mmap)
    assert_frames_identical(bio.read_csv(path, dtypes=TYPED, blocksize=2000), want)
    with pytest.raises(OSError):
        bio.read_csv(path, dtypes=TYPED, blocksize=2000, memory_map=True)


def _dropped_ranges(monkeypatch):
    """Record every POSIX_FADV_DONTNEED (offset, length) the process asks for, passing it on."""
    calls = []
    real = os.posix_fadvise

    def spy(fd, offset, length, advice):
        if advice == os.POSIX_FADV_DONTNEED:
            calls.append((offset, length))
        return real(fd, offset, length, advice)

    monkeypatch.setattr(os, "posix_fadvise", spy)
    return calls


@pytest.mark.skipif(not hasattr(os, "posix_fadvise"), reason="no posix_fadvise here")
@pytest.mark.parametrize("bs", [5000, 70_000])
def test_page_cache_dropped_behind_the_reader(tmp_path, monkeypatch, bs):
    """page_cache="drop": a mapped file's pages leave the page cache in whole pages, in file
    order, only behind the reader (never past the bytes already handed out while it reads),
    and every page by the time the reader is closed; "keep" and read sources drop nothing; the
    frames are the same every way."""
    bio = csv_api()
    data = _typed_file(3000, seed=7)
    path = write(tmp_path, data)
    kw = dict(columns=list(TYPED), dtypes=TYPED)  # no inference: its first window is 1 MiB
    want = bio.read_csv(path, memory_map=False, **kw)
    page = mmap.PAGESIZE
    calls = _dropped_ranges(monkeypatch)
    windows = []  # (first byte of each window mapped, pages dropped before it was)
    real_map = _MappedFile._map

    def spy_map(self, off, hi):
        windows.append((off, len(calls)))
        return real_map(self, off, hi)

    monkeypatch.setattr(_MappedFile, "_map", spy_map)
    with bio.CsvBlockReader(path, blocksize=bs, page_cache="drop", **kw) as r:
        blocks = list(r)
    assert_frames_identical(pd.concat(blocks), want)
    assert len(calls) >= (2 if bs == 5000 else 1) and len(windows) > len(calls) / 2
    for off, k in windows:  # no byte a window maps was dropped before it
        assert all(o + n <= off for o, n in calls[:k]), (off, calls[:k])
    at = 0
    for off, n in calls:
        assert off == at and n > 0 and off % page == 0 and (off + n) % page == 0, calls
        at = off + n
    assert at == -(-len(data) // page) * page
    for more in (dict(page_cache="keep"), dict(page_cache="drop", memory_map=False)):
        calls.clear()
        assert_frames_identical(bio.read_csv(path, blocksize=bs, **kw, **more), want,
                                msg=str(more))
        assert calls == [], more


@pytest.mark.skipif(not hasattr(os, "posix_fadvise"), reason="no posix_fadvise here")
def test_page_cache_auto_drops_files_larger_than_half_the_memory(tmp_path, monkeypatch):
    """page_cache="auto" (the default) drops behind exactly when the file is larger than half
    of the process's memory limit, which a file that can never stay cached is; other values
    are refused."""
    import blockops.resources as res

    bio = csv_api()
    path = write(tmp_path, _typed_file(400))
    size = os.path.getsize(path)
    real = res.system_memory()
    calls = _dropped_ranges(monkeypatch)
    for limit, drops in ((2 * size, False), (2 * size - 2, True), (real.effective_limit, False)):
        fake = dataclasses.replace(real, effective_limit=limit)
        monkeypatch.setattr(res, "system_memory", lambda fake=fake: fake)
        calls.clear()
        bio.read_csv(path, dtypes=TYPED)
        assert bool(calls) == drops, (limit, size)
    with pytest.raises(ValueError, match="page_cache"):
        bio.CsvBlockReader(path, page_cache="never")
