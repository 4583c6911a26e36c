"""Bad rows and limits: CsvParseError's path/line/column/value/byte_offset, skip/warn counting,
the rows_in == rows_out + rows_skipped invariant, index gaps, LimitError on over-long rows."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pandas as pd
import pytest

from csv_util import (HERE, assert_blocks_well_formed, bs_kw, csv_api, read_blocks,
                      skipped_line_numbers, write)
from reference import csv_ref as R


def _errors():
    import blockops

    return blockops


# (name, data, line, column, value, byte offset of the bad row's start) for on_bad_lines="error"
BAD = [
    ("too_many_fields", b"a,b\n1,x\n2,y,EXTRA\n3,z\n", 3, None, None),
    ("too_few_fields", b"a,b\n1,x\n2\n3,z\n", 3, None, None),
    ("too_many_after_quoted_newlines", b'a,b\n1,"x\ny"\n2,"p\r\nq"\n3,y,EXTRA\n', 6, None, None),
    ("unterminated_quote_at_eof", b'a,b\n1,x\n2,"never\nclosed\n', 3, None, None),
    ("unparseable_int", b"a,b\n1,x\n2,y\nx7q,z\n", 4, "a", "x7q"),
    ("unparseable_int_after_empty_lines", b"a,b\n\n1,x\n\n\n2.5,y\n", 6, "a", "2.5"),
    ("unparseable_int_crlf_bom", R.BOM + b"a,b\r\n1,x\r\n\r\n9z,y\r\n", 4, "a", "9z"),
    ("unparseable_after_multiline", b'a,b\n1,"x\n\ny"\nbad,z\n', 5, "a", "bad"),
]


def _row_start(data: bytes, line: int) -> int:
    """Byte offset of the start of physical line ``line`` (1-based)."""
    off = 0
    for _ in range(line - 1):
        off = data.index(b"\n", off) + 1
    return off


@pytest.mark.parametrize("name,data,line,column,value", BAD, ids=[b[0] for b in BAD])
@pytest.mark.parametrize("bs,nt", [(None, 1), (1, 1), (3, 2), (16, 3)])
def test_error_names_path_line_column_value(tmp_path, name, data, line, column, value, bs, nt):
    bio = csv_api()
    bo = _errors()
    path = write(tmp_path, data, f"{name}.csv")
    with pytest.raises(bo.CsvParseError) as ei:
        bio.read_csv(path, dtypes={"a": "int64", "b": "str"}, n_threads=nt, **bs_kw(bs))
    e = ei.value
    assert isinstance(e, bo.BlockopsError) and isinstance(e, ValueError)
    assert os.fspath(e.path) == path
    assert e.line == line, f"{name}: line {e.line}, want {line}: {e}"
    msg = str(e)
    assert os.path.basename(path) in msg and str(line) in msg, msg
    start = _row_start(data, line)
    end = data.find(b"\n", start)
    end = len(data) if end < 0 else end
    assert e.byte_offset is not None and start <= e.byte_offset <= len(data), (e.byte_offset, start)
    if column is not None:
        assert e.column == column and column in msg
        assert value in msg and value in str(e.value)
        assert start <= e.byte_offset <= end, (e.byte_offset, start, end)


@pytest.mark.parametrize("name,data,line,column,value", BAD, ids=[b[0] for b in BAD])
def test_skip_and_warn_drop_and_count(tmp_path, name, data, line, column, value):
    bio = csv_api()
    path = write(tmp_path, data, f"{name}.csv")
    dt = {"a": "int64", "b": "str"}
    ref = R.expected_str_frame(data)
    good_rows = [i for i in ref.frame.index]
    if column is not None:  # the typed-value rows are bad too: find them by line
        recs = R.tokenize(data)[1:]
        good_rows = [k for k, r in enumerate(recs) if r.line != line and len(r.fields) == 2
                     and not r.unterminated]
    for mode in ("skip", "warn"):
        for bs, nt in ((None, 1), (1, 2), (5, 3)):
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                got = bio.read_csv(path, dtypes=dt, on_bad_lines=mode, n_threads=nt, **bs_kw(bs))
            blocks, st = read_blocks(path, dtypes=dt, on_bad_lines=mode, n_threads=nt,
                                     **bs_kw(bs))
            bad_warn = [x for x in w if issubclass(x.category, bio.CsvBadLineWarning)]
            if mode == "skip":
                assert not bad_warn, [str(x.message) for x in bad_warn]
            else:  # one per bad row (a summary may follow)
                assert 1 <= len(bad_warn) <= 2, [str(x.message) for x in bad_warn]
                assert str(line) in str(bad_warn[0].message)
            assert got.index.tolist() == good_rows, (mode, bs, nt)
            assert st.rows_skipped == 1 and skipped_line_numbers(st, path) == [line]
            assert st.rows_in == st.rows_out + st.rows_skipped == len(R.tokenize(data)) - 1
            assert st.rows_out == len(got) == sum(len(b) for b in blocks)
            assert_blocks_well_formed(blocks)


def test_warn_is_capped_at_20_plus_summary(tmp_path):
    bio = csv_api()
    rows = [("%d,x" % i) if i % 2 else "%d" % i for i in range(100)]
    data = ("a,b\n" + "\n".join(rows) + "\n").encode()
    path = write(tmp_path, data)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        with bio.CsvBlockReader(path, on_bad_lines="warn", blocksize=16, n_threads=2) as r:
            got = [b for b in r]
            st = r.stats
    ws = [x for x in w if issubclass(x.category, bio.CsvBadLineWarning)]
    assert len(ws) == 21, [str(x.message) for x in ws]
    # they point at the user's loop, not into blockops
    assert {x.filename for x in ws} == {__file__}, {x.filename for x in ws}
    with warnings.catch_warnings(record=True) as w2:
        warnings.simplefilter("always")
        bio.read_csv(path, on_bad_lines="warn", blocksize=16)
    assert {x.filename for x in w2 if issubclass(x.category, bio.CsvBadLineWarning)} == {__file__}
    # the first 20 name lines 2, 4, ..., 40 in file order; the summary gives the total count
    for k, x in enumerate(ws[:20]):
        assert str(2 + 2 * k) in str(x.message)
    assert all(str(2 + 2 * k) not in str(ws[-1].message).split() for k in range(20, 50))
    assert st.rows_skipped == 50 and st.rows_out == 50 and st.rows_in == 100
    assert skipped_line_numbers(st, path) == list(range(2, 101, 2))
    idx = np.concatenate([b.index.to_numpy() for b in got])
    assert idx.tolist() == list(range(1, 100, 2))


def test_skipped_lines_keeps_the_first_100(tmp_path):
    bio = csv_api()
    rows = ["1,x" if i % 3 else "1" for i in range(600)]
    data = ("a,b\n" + "\n".join(rows) + "\n").encode()
    path = write(tmp_path, data)
    _, st = read_blocks(path, on_bad_lines="skip", blocksize=32, n_threads=3)
    bad = [i + 2 for i in range(600) if i % 3 == 0]
    assert st.rows_skipped == 200 and skipped_line_numbers(st, path) == bad[:100]
    assert st.rows_in == 600 == st.rows_out + st.rows_skipped


def test_first_bad_row_in_file_order_is_reported(tmp_path):
    """With several bad rows in different blocks and threads, the error names the first one."""
    bio = csv_api()
    bo = _errors()
    rows = ["%d,x" % i for i in range(3000)]
    rows[2900] = "1,2,3"
    rows[1700] = "bad,x"
    rows[2200] = '1,"unterminated'
    data = ("a,b\n" + "\n".join(rows) + "\n").encode()
    path = write(tmp_path, data)
    for bs, nt in ((None, 3), (1000, 3), (4096, 2)):
        with pytest.raises(bo.CsvParseError) as ei:
            bio.read_csv(path, dtypes={"a": "int64", "b": "str"}, blocksize=bs or "64MB",
                         n_threads=nt)
        assert ei.value.line == 1702 and ei.value.column == "a"


def test_unterminated_quote_swallows_rest_of_file(tmp_path):
    bio = csv_api()
    data = b'a,b\n1,x\n2,"open\n3,y\n4,z\n'
    path = write(tmp_path, data)
    blocks, st = read_blocks(path, dtypes="str", on_bad_lines="skip", blocksize=2)
    assert st.rows_in == 2 and st.rows_out == 1 and skipped_line_numbers(st, path) == [3]
    assert pd.concat(blocks)["b"].tolist() == ["x"]


def test_max_row_bytes(tmp_path):
    bio = csv_api()
    bo = _errors()
    data = b"a,b\n1,short\n2," + b"x" * 5000 + b"\n3,short\n"
    path = write(tmp_path, data)
    for bs, nt in ((1, 1), (64, 2), (None, 3)):
        with pytest.raises(bo.LimitError) as ei:
            bio.read_csv(path, max_row_bytes=1000, n_threads=nt, **bs_kw(bs))
        e = ei.value
        assert isinstance(e, ValueError) and isinstance(e, bo.BlockopsError)
        assert "line 3" in str(e) or e.line == 3, str(e)
        assert os.path.basename(path) in str(e)
        # a limit that fits reads it, at any block size
        got = bio.read_csv(path, max_row_bytes=6000, n_threads=nt, **bs_kw(bs))
        assert got["b"].str.len().tolist() == [5, 5000, 5]
    # the same for a quoted field that keeps going over newlines
    data = b'a,b\n1,"' + b"y\n" * 3000 + b'"\n'
    with pytest.raises(bo.LimitError):
        bio.read_csv(write(tmp_path, data, "q.csv"), max_row_bytes="1KB", blocksize=7)
    # string sizes: KB = 1000, KiB = 1024
    data = b"a\n" + b"z" * 1010 + b"\n"
    p = write(tmp_path, data, "k.csv")
    with pytest.raises(bo.LimitError):
        bio.read_csv(p, max_row_bytes="1KB")
    assert bio.read_csv(p, max_row_bytes="1KiB")["a"].str.len().tolist() == [1010]


def test_huge_single_row_fails_fast_without_unbounded_allocation(tmp_path):
    """A 50 MB file that is one row: with max_row_bytes=1MB the reader must raise LimitError
    having grown its peak RSS by a few MB, not by 50+ MB (measured in a subprocess)."""
    script = textwrap.dedent(r"""
        import os, sys
        sys.path.insert(0, sys.argv[2])
        path = sys.argv[1]
        with open(path, "wb") as fh:
            fh.write(b"a,b\n1,")
            chunk = b"x" * (1 << 20)
            for _ in range(50):
                fh.write(chunk)
            fh.write(b"\n")
        import blockops
        from blockops.io import read_csv
        read_csv(os.path.join(os.path.dirname(path), "warm.csv"))  # load everything lazily used
        def hwm():
            for ln in open("/proc/self/status"):
                if ln.startswith("VmHWM:"):
                    return int(ln.split()[1]) * 1024
        def rss():
            for ln in open("/proc/self/status"):
                if ln.startswith("VmRSS:"):
                    return int(ln.split()[1]) * 1024
        base = rss()
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        try:
            read_csv(path, max_row_bytes="1MB", blocksize="256KB", n_threads=2)
        except blockops.LimitError as e:
            print("LIMIT", e.line, (hwm() - base) // 1024, flush=True)
        else:
            print("NOERROR", flush=True)
    """)
    big = os.path.join(str(tmp_path), "one_row.csv")
    write(tmp_path, b"a,b\n1,2\n", "warm.csv")
    out = subprocess.run([sys.executable, "-c", script, big, HERE], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-3000:]
    words = out.stdout.split()
    assert words and words[0] == "LIMIT", out.stdout + out.stderr[-2000:]
    assert words[1] == "2", out.stdout
    growth_kib = int(words[2])
    # bound: (n_threads + 2) * max(blocksize, max_row_bytes) * EXPANSION = 16 MB
    assert growth_kib < 16 * 1000, f"peak RSS grew by {growth_kib} KiB before LimitError"


def test_unterminated_quote_in_header_is_an_error(tmp_path):
    """A header whose quote never closes swallowed the file: the names were the file cut at
    delimiters and the frame came back empty, with no error (found by tests/test_csv_suites.py,
    issue 15). pandas raises; so does blockops, naming line 1 and the header's byte offset
    (after the BOM), at every block size and through the Dask planner."""
    blockops = _errors()
    bio = csv_api()
    path = write(tmp_path, '\ufeffa,b,"c\n1,2,3\n'.encode())
    for bs in (1, 7, 64, None):
        for mm in (True, False):
            with pytest.raises(blockops.CsvParseError, match="unterminated quote in the header") as ei:
                bio.read_csv(path, memory_map=mm, **bs_kw(bs))
            assert ei.value.line == 1 and ei.value.byte_offset == 3
    with pytest.raises(pd.errors.ParserError):
        pd.read_csv(path)
    dd = pytest.importorskip("blockops.dask")
    with pytest.raises(blockops.CsvParseError, match="unterminated quote in the header"):
        dd.read_csv(path)


def _lines_before(data: bytes, at: int) -> int:
    """Line breaks in data[:at] as the reader counts them: LF, CRLF once, a lone CR."""
    head = data[:at]
    return head.count(b"\n") + head.count(b"\r") - head.count(b"\r\n")


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("nt", [1, 2])
def test_error_line_after_many_slices(tmp_path, monkeypatch, seed, nt):
    """The line number of a bad value far into a file of many slices and blocks, with every
    kind of line end, blank lines and (for odd seeds) quoted line breaks before it: the
    tokenizer counts lines itself where it can and the reader counts the rest, and the sum
    must be the file's own count."""
    import blockops.io.csv as C

    rng = np.random.default_rng(seed)
    ends = [b"\n", b"\r\n", b"\r"]
    parts = [b"a,b" + ends[seed % 3]]
    for i in range(6000):
        if rng.random() < 0.02:
            parts.append(b"\n")
        text = b'"x\r\ny"' if seed % 2 and rng.random() < 0.01 else b'"q,""r"' if rng.random() < 0.05 else b"v%d" % i
        parts.append(b"%d,%s%s" % (i, text, ends[int(rng.integers(3))]))
    bad_at = sum(map(len, parts))
    parts.append(b"9z,bad\n")
    parts.extend(b"%d,w\n" % i for i in range(50))
    data = b"".join(parts)
    path = write(tmp_path, data, "lines.csv")
    monkeypatch.setattr(C, "SLICE_BYTES", 4096)
    with pytest.raises(_errors().CsvParseError) as ei:
        csv_api().read_csv(path, dtypes={"a": "int64", "b": "str"}, n_threads=nt,
                           blocksize=1 << 16)
    # a lone CR right before the bad row, then its own LF-free start: the row is on the
    # line after the breaks before it
    assert ei.value.line == _lines_before(data, bad_at) + 1
    assert ei.value.byte_offset == bad_at
