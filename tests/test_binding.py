"""The binding toolkit (csrc/py/bo_py.h) seen through ``blockops._core``: input normalising,
output checks, bounds checks of every buffer and index passed in, and the one status ->
exception path.

Calls here go straight to ``_core`` with arguments the Python layer would never build, as a
caller of the internal API (or a bug in the Python layer) could. Several of them read or
wrote out of bounds before the checks existed; a read a few bytes past a small buffer rarely
crashes, so those tests assert the ValueError (an AddressSanitizer build of the extension
would also show the old over-read). Calls that wrote out of bounds or zeroed memory run in a
subprocess, so that the old behaviour fails the test instead of the test run.
"""
from __future__ import annotations

import numpy as np
import pytest

from blockops import _core


def _labels_args(n=8, weights=None):
    """Arguments of a valid _core.barrier_labels call over n bars (one mode)."""
    ts = np.arange(n, dtype=np.int64) * 60
    close = 100.0 + np.arange(n, dtype=np.float64) % 3
    op, hi, lo = close.copy(), close + 1.0, close - 1.0
    modes = np.array([[1.0, 2.0, 3.0]])
    labels = np.zeros((1, n), dtype=np.int8)
    if weights is None:
        weights = np.zeros((1, n), dtype=np.float32)
    return [ts, op, hi, lo, close, None, modes, labels, weights, None, None, 0, True, 0.25, 5,
            0.0, float("inf"), 12 * 2024, 1, 1]


def test_outputs_must_be_native_order():
    """A big-endian float32 output has PyArray_TYPE NPY_FLOAT32 too: it was accepted and the
    labels' weights were written in native order into it (wrong numbers, no error)."""
    args = _labels_args()
    _core.barrier_labels(*args)
    want = args[8].copy()
    assert want.any()  # the check below would prove nothing on zeros
    swapped = np.zeros((1, 8), dtype=">f4")
    with pytest.raises(ValueError, match="barrier_labels: weights must be .*native byte order"):
        _core.barrier_labels(*_labels_args(weights=swapped))
    assert not swapped.any()


def test_outputs_must_be_aligned():
    """An unaligned float64 out (a view at an odd byte offset) was written through misaligned
    double pointers (undefined behaviour; UBSan reports it)."""
    raw = bytearray(8 * 3 + 1)
    out = np.frombuffer(raw, dtype=np.float64, count=3, offset=1)
    assert out.flags.writeable and not out.flags.aligned
    z = np.zeros(3)
    with pytest.raises(ValueError, match="haversine: out must be a writeable, aligned"):
        _core.haversine(z, z, 1.0, 1.0, 6_371_000.0, out, 0, 1, True)
    good = np.empty(3)
    assert _core.haversine(z, z, 1.0, 1.0, 6_371_000.0, good, 0, 1, True) is good


def test_inputs_name_the_argument():
    off = np.array([0, 2, 4], dtype=np.int64)
    data = np.frombuffer(b"1f2a", dtype=np.uint8)
    with pytest.raises(TypeError, match="v2x_parse_hex: offsets must be an array of dtype int64"):
        _core.v2x_parse_hex(off.astype(np.float64), data, None, 0)
    with pytest.raises(ValueError, match="barrier_labels: close has 7 elements, expected 8"):
        args = _labels_args()
        args[4] = args[4][:7]
        _core.barrier_labels(*args)
    with pytest.raises(ValueError, match="lat1 must be an array of dtype float64"):
        _core.haversine(["x"], np.zeros(1), 1.0, 1.0, 6_371_000.0, None, 0, 1, True)
    # byte-swapped and non-contiguous inputs are converted (a copy), never refused or written
    big = np.zeros(6, dtype=">i8")
    big[::2] = off
    ro = big[::2]
    ro.flags.writeable = False
    np.testing.assert_array_equal(_core.v2x_parse_hex(ro, data, None, 0)[0], [31, 42])
    swapped_ns = np.array([0, 86_400 * 10**9], dtype=">M8[ns]")
    assert _core.v2x_timestamp_parts(swapped_ns)["day"].tolist() == [1, 2]


# ---------------------------------------------------------------- one status -> exception path


def _tokenize(data: bytes, **kw):
    o = dict(delimiter=",", quotechar='"', n_fields=0, final=True, max_rows=0, max_row_bytes=0,
             n_threads=1)
    o.update(kw)
    return _core.csv_tokenize(data, len(data), o["delimiter"], o["quotechar"], o["n_fields"],
                              o["final"], o["max_rows"], o["max_row_bytes"], o["n_threads"])


_T_INT64, _T_STR, _T_DT = 3, 7, 10  # bo_csv_type


def test_csv_convert_errors_come_from_from_status():
    """csv_convert used to return a bare tuple for a bad value (and raise a plain ValueError
    or MemoryError for other statuses): its problems now are the exception from_status builds,
    returned for the reader to place in the file."""
    import blockops

    data = b"1,x\n2,y\n3z,w\n"
    ix = _tokenize(data)[0]
    outs, bad, err = _core.csv_convert(data, ix, [(0, _T_INT64, False, None, None)], '"', 1, True)
    assert type(err) is blockops.CsvParseError
    assert (err.status, err.code) == ("BO_ERR_PARSE", _core.status_codes()["BO_ERR_PARSE"])
    assert (err.index, err.column, err.byte_offset) == (2, 0, data.index(b"3z"))
    assert '"3z"' in err.reason and str(err).startswith("csv_convert: ")
    assert bad.tolist() == [False, False, True]
    # a datetime format C rejects: the one path too, naming the argument
    with pytest.raises(blockops.BlockopsError, match="csv_convert") as ei:
        _core.csv_convert(data, ix, [(0, _T_DT, False, None, "%Q")], '"', 1, False)
    assert isinstance(ei.value, ValueError) and ei.value.argument == "specs"
    assert ei.value.status == "BO_ERR_ARG"


def test_csv_tokenize_errors_come_from_from_status():
    import blockops

    *_, err = _tokenize(b"a,b\n1," + b"x" * 100 + b"\n", max_row_bytes=50)
    assert type(err) is blockops.LimitError and err.status == "BO_ERR_LIMIT"
    assert err.byte_offset == 4 and "max_row_bytes" in err.reason
    *_, err = _tokenize(b"a;b\n", delimiter=";", quotechar=";")
    assert isinstance(err, blockops.BlockopsError) and isinstance(err, ValueError)
    assert err.status == "BO_ERR_ARG"


def test_csv_reader_errors_keep_their_types_and_attributes(tmp_path):
    """What the reader raises: CsvParseError / LimitError with the file, line, column name,
    value and file byte offset added to the binding's exception; status and code set (a
    reader-made CsvParseError had the base class's BO_ERR_INTERNAL)."""
    import blockops
    from blockops.io import read_csv

    p = tmp_path / "bad.csv"
    data = b"a,b\n1,x\n\xff\xfe7,y\n"  # the value is not UTF-8: escaped in the message
    p.write_bytes(data)
    with pytest.raises(blockops.CsvParseError) as ei:
        read_csv(p, dtypes={"a": "int64", "b": "str"})
    e = ei.value
    assert isinstance(e, ValueError) and (e.status, e.code) == ("BO_ERR_PARSE", -4)
    assert (e.path, e.line, e.column, e.byte_offset) == (str(p), 3, "a", data.index(b"\xff"))
    assert e.index is None  # the binding's row in its buffer means nothing in the file
    assert str(e).startswith(f"{p}, line 3, column 'a': ") and "\\xff\\xfe7" in str(e)
    p.write_bytes(b"a,b\n1,2,3\n")  # found by the reader from the row flags
    with pytest.raises(blockops.CsvParseError) as ei:
        read_csv(p)
    assert (ei.value.line, ei.value.status, ei.value.code) == (2, "BO_ERR_PARSE", -4)
    p.write_bytes(b"a,b\n1," + b"x" * 3000 + b"\n")
    with pytest.raises(blockops.LimitError) as ei:
        read_csv(p, max_row_bytes=1000)
    e = ei.value
    assert (e.status, e.line, e.byte_offset, e.path) == ("BO_ERR_LIMIT", 2, 4, str(p))
    assert "max_row_bytes" in str(e) and str(p) in str(e)


def test_status_codes_match_the_classes():
    from blockops import _errors

    codes = _core.status_codes()
    for status, cls in _errors._BY_STATUS.items():
        assert cls.status == status and status in codes
        assert cls("x").code == codes[status]


# ---------------------------------------------------------------- bounds of buffers and indexes

_ROWS = b"a,b\n" + b"".join(b"%d,hello%d\n" % (i, i) for i in range(8))


def test_csv_convert_index_must_fit_the_buffer():
    """The index holds offsets into the buffer it was made for; with a shorter buffer
    csv_convert read on past its end (strings full of heap bytes; under ASan a
    heap-buffer-overflow)."""
    ix = _tokenize(_ROWS)[0]
    spec = [(1, _T_STR, True, None, None)]
    outs, _, err = _core.csv_convert(_ROWS, ix, spec, '"', 1, False)
    (offs, raw, runs), _ = outs[0]
    assert err is None and runs.tolist() == [0, 0]  # one thread: one run
    assert err is None and bytes(raw[offs[1]:offs[2]]) == b"hello0"
    for short in (b"a,b\n1,", b"", _ROWS[:-1], memoryview(_ROWS)[4:]):
        with pytest.raises(ValueError, match=r"csv_convert: index covers 76 bytes but buf has"):
            _core.csv_convert(short, ix, spec, '"', 1, False)
    with pytest.raises(ValueError, match=r"csv_infer: index covers 76 bytes but buf has 1"):
        _core.csv_infer(b"a", ix, 0, '"', None)
    with pytest.raises(TypeError, match="csv_convert: index must be the index that csv_tokenize"):
        _core.csv_convert(_ROWS, object(), spec, '"', 1, False)
    with pytest.raises(ValueError, match=r"csv_convert: specs\[0\]: field 2"):
        _core.csv_convert(_ROWS, ix, [(2, _T_STR, True, None, None)], '"', 1, False)


def test_csv_convert_missing_value_sets_per_column_and_dest_errors():
    """csv_convert builds one missing-value set per distinct tuple object and shares it between
    the columns that pass it (and the fast-path answer that depends on it): columns with the
    same tuple, an equal tuple, another one and none each get their own meaning of missing.
    A dest array that does not fit is named by its spec (the name is formatted only then)."""
    data = b"".join(b"%d,-1,-1,-1,-1\n" % i for i in range(8))
    ix = _tokenize(data)[0]
    t = (b"-1",)
    specs = [(0, _T_INT64, True, t, None), (1, _T_INT64, True, t, None),
             (2, _T_INT64, True, None, None), (3, _T_INT64, True, (b"-1",), None),
             (4, _T_INT64, True, (b"x",), None)]
    outs, _, err = _core.csv_convert(data, ix, specs, '"', 1, False)
    assert err is None
    assert outs[0][0].tolist() == list(range(8)) and not outs[0][1].any()
    assert [o[1].all() for o in outs[1:]] == [True, False, True, False]
    assert outs[2][0].tolist() == outs[4][0].tolist() == [-1] * 8
    vals = [np.zeros(8, dtype=np.int64) for _ in specs]
    masks = [np.zeros(8, dtype=bool) for _ in specs]
    vals[1] = np.zeros(7, dtype=np.int64)
    with pytest.raises(ValueError, match=r"csv_convert: dest values of spec 1 must be"):
        _core.csv_convert(data, ix, specs, '"', 1, False,
                          ([(v, None, m) for v, m in zip(vals, masks)], None))
    vals[1], masks[3] = np.zeros(8, dtype=np.int64), np.zeros(8, dtype=np.int8)
    with pytest.raises(ValueError, match=r"csv_convert: dest mask of spec 3 must be"):
        _core.csv_convert(data, ix, specs, '"', 1, False,
                          ([(v, None, m) for v, m in zip(vals, masks)], None))


def test_csv_rows_names_the_bad_row():
    ix = _tokenize(_ROWS)[0]
    starts, flags, counts = _core.csv_rows(ix, [0, 8])
    assert starts.tolist() == [0, _ROWS.index(b"7,")] and counts.tolist() == [2, 2]
    for bad in ([9], [-1], [0, 1 << 40]):
        with pytest.raises(ValueError, match=r"csv_rows: rows\[\d\] = .* is outside the index's 9"):
            _core.csv_rows(ix, bad)


def test_csv_lengths_must_fit_the_buffer():
    with pytest.raises(ValueError, match=r"csv_tokenize: length must be in \[0, 4\]"):
        _core.csv_tokenize(b"a,b\n", 5, ",", '"', 0, True, 0, 0, 1)
    with pytest.raises(ValueError, match="csv_tokenize: n_fields must be <"):
        _core.csv_tokenize(b"a,b\n", 4, ",", '"', 2**31 - 1, True, 0, 0, 1)
    for a, b in ((0, 5), (-1, 2), (3, 2)):
        with pytest.raises(ValueError, match=rf"csv_count_lines: start={a}, end={b} is not"):
            _core.csv_count_lines(b"a\nb\n", a, b)
    s = _core.csv_scan_new(",", '"')
    t = np.array([2], dtype=np.uint64)
    f, r, l = (np.full(1, -1, np.int64), np.zeros(1, np.int64), np.zeros(1, np.int64))
    with pytest.raises(ValueError, match=r"csv_scan_feed: length must be in \[0, 4\]"):
        _core.csv_scan_feed(s, b"a\nb\n", 5, t, f, r, l)
    with pytest.raises(ValueError, match="csv_scan_feed: found must be .* with 1 elements"):
        _core.csv_scan_feed(s, b"a\nb\n", 4, t, np.full(2, -1, np.int64), r, l)
    assert _core.csv_scan_feed(s, b"a\nb\n", 4, t, f, r, l) == 1 and f.tolist() == [2]
    ix = _tokenize(_ROWS)[0]
    with pytest.raises(TypeError, match="csv_scan_feed: scanner must be the scanner that"):
        _core.csv_scan_feed(ix, b"a\nb\n", 4, t, f, r, l)  # an index is not a scanner
    with pytest.raises(TypeError, match="csv_scan_finish: scanner must be"):
        _core.csv_scan_finish(ix)


def _run(code: str):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)


def test_csv_convert_row_offset_cannot_wrap():
    """row_offset + n_rows wrapped for a huge row_offset, passed the dest length check and the
    rows were written before the dest arrays (heap corruption; a crash, so in a subprocess)."""
    code = f"""if True:
        import numpy as np
        from blockops import _core
        data = {_ROWS[4:]!r}  # 8 rows of ints
        ix = _core.csv_tokenize(data, len(data), ",", '"', 0, True, 0, 0, 1)[0]
        vals = np.zeros(16, dtype=np.int64)
        bad = np.zeros(16, dtype=bool)
        dest = ([(vals, None, None)], bad)
        _core.csv_convert(data, ix, [(0, 3, False, None, None)], '"', 1, True, dest, 7)
        assert vals[7:15].tolist() == list(range(8)) and not bad.any(), vals
        try:
            _core.csv_convert(data, ix, [(0, 3, False, None, None)], '"', 1, True, dest,
                              2**63 - 2)
        except ValueError as e:
            print("ValueError", e)
        else:
            print("no error", vals.tolist())
        """
    p = _run(code)
    assert p.returncode == 0 and p.stdout.startswith("ValueError csv_convert: row_offset must"), (
        p.returncode, p.stdout, p.stderr[-2000:])


def test_drop_file_pages_only_for_read_only_mappings(tmp_path):
    """drop_file_pages runs MADV_DONTNEED over buf's pages (the one holding buf[0] whole): on
    a bytes object it zeroed the object's own header and the bytes (a crash, so in a
    subprocess). Only a read-only mmap.mmap (or a memoryview of one) may be dropped."""
    code = """if True:
        from blockops import _core
        buf = b"x\\n" * (1 << 20)
        try:
            n = _core.csv_count_lines(buf, 0, len(buf), 1, True)
        except ValueError as e:
            print("ValueError", e)
        else:
            print("no error", n, buf.count(b"\\n"))
        """
    p = _run(code)
    assert p.returncode == 0 and p.stdout.startswith(
        "ValueError csv_count_lines: drop_file_pages needs buf to be a view of a read-only "
        "mmap.mmap"), (p.returncode, p.stdout, p.stderr[-2000:])
    import mmap

    path = tmp_path / "f.csv"
    path.write_bytes(b"a\n" * 100_000)
    ba = bytearray(b"a\n" * 100_000)
    for other in (ba, memoryview(ba).toreadonly(), bytes(ba)):
        with pytest.raises(ValueError, match="drop_file_pages"):
            _core.csv_count_lines(other, 0, len(other), 1, True)
    assert ba == b"a\n" * 100_000
    with open(path, "r+b") as f:
        for access in (mmap.ACCESS_WRITE, mmap.ACCESS_COPY):
            with mmap.mmap(f.fileno(), 0, access=access) as mm:
                with pytest.raises(ValueError, match="drop_file_pages"):
                    _core.csv_count_lines(mm, 0, len(mm), 1, True)
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            with memoryview(mm) as whole:
                piece = whole[10:]
                assert _core.csv_count_lines(piece, 0, len(piece), 2, True) == 99_995
                assert _core.csv_count_lines(mm, 0, len(mm), 1, True) == 100_000
                assert bytes(piece[:4]) == b"a\na\n"  # back from the page cache
                del piece


def test_report_error_with_an_undecodable_path():
    """A report path with a byte that is not UTF-8 (os.fsdecode makes it a lone surrogate)
    became a UnicodeEncodeError instead of the parse error: the path went through a UTF-8 C
    string on its way to from_status; it goes as a str object now."""
    import blockops

    path = "scenario_\udcff.txt"
    with pytest.raises(blockops.BlockopsError) as ei:
        _core.parse_one_report(b"title\nno colon here\n", path)
    e = ei.value
    assert isinstance(e, ValueError) and e.status == "BO_ERR_PARSE" and e.path == path
    assert str(e).startswith(path + ", line 2, column ")
