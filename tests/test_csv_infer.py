"""Inferred types: a guess never costs a row, and one schema whatever the reader.

Cases from issue 15: late misfits (text in an int column, a late NA, a column empty so far),
block-size and engine independence, pandas' exact bool spellings, and the streaming reader's
error naming every misfit column. pandas (``low_memory=False``, which types each column from
all of its values) is the reference for the eager reader.
"""
from __future__ import annotations

import io
import os

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import blockops
from blockops.io import CsvBlockReader, read_csv
from blockops.io import _csv_infer as binf


def write(tmp_path, text: str, name="t.csv") -> str:
    p = tmp_path / name
    p.write_bytes(text.encode())
    return str(p)


def same_as_pandas(got: pd.DataFrame, path: str) -> None:
    """Column names, kinds and values equal pandas' whole-column typing."""
    ref = pd.read_csv(path, low_memory=False)
    assert list(got.columns) == list(ref.columns)
    assert len(got) == len(ref)
    for c in ref.columns:
        g, r = got[c], ref[c]
        if r.dtype == object or pd.api.types.is_string_dtype(r.dtype):
            assert pd.api.types.is_string_dtype(g.dtype) or g.dtype == object, (c, g.dtype)
            assert g.isna().tolist() == r.isna().tolist(), c
            assert g[g.notna()].astype(str).tolist() == r[r.notna()].astype(str).tolist(), c
        elif r.dtype == bool:
            assert g.dtype == bool and g.tolist() == r.tolist(), c
        else:
            assert g.dtype == r.dtype, (c, g.dtype, r.dtype)
            np.testing.assert_array_equal(g.to_numpy(), r.to_numpy())


@pytest.fixture(params=[True, False], ids=["samples", "no-samples"])
def samples(request, monkeypatch):
    """With and without the sample windows: without them every late misfit goes through
    read_csv's widening read, with them most are seen up front."""
    if not request.param:
        monkeypatch.setattr(binf, "INFER_SAMPLES", 0)
    return request.param


def test_issue_example_keeps_every_row(tmp_path, samples):
    path = write(tmp_path, "a,b\n" + "1,2\n" * 200_000 + "x1,5\n7,2.5\n")
    for obl in ("error", "skip", "warn"):
        got = read_csv(path, on_bad_lines=obl)
        assert len(got) == 200_002
        same_as_pandas(got, path)
        s = got.attrs["blockops_stats"]
        assert s["rows_in"] == s["rows_out"] + s["rows_skipped"] and s["rows_skipped"] == 0


def test_r_dataset_patterns(tmp_path, samples):
    """An int column whose first NA comes after the window (pandas: float64) and a column
    empty throughout the window that later holds text (pandas: str)."""
    n = 300_000
    rows = [f"{i},{i % 97},," for i in range(n)]
    rows[n - 1000] = f"{n - 1000},NA,,"
    rows[n // 2 + 3] = f"{n // 2 + 3},5,,late text"
    path = write(tmp_path, "id,count,empty,notes\n" + "\n".join(rows) + "\n")
    for bs in ("64KB", "1MiB", None):
        got = read_csv(path, blocksize=bs)
        assert got["count"].dtype == np.float64 and np.isnan(got["count"].iloc[n - 1000])
        assert pd.api.types.is_string_dtype(got["notes"].dtype)
        assert got["empty"].dtype == np.float64 and got["empty"].isna().all()
        same_as_pandas(got, path)


def test_streaming_names_every_misfit_column(tmp_path, monkeypatch):
    """A file whose last row is empty in every column: one error for all of them (and one
    re-read in read_csv, not one per column)."""
    monkeypatch.setattr(binf, "INFER_SAMPLES", 0)
    n = 150_000
    body = "".join(f"{i},{i * 0.5},{'True' if i % 2 else 'False'},s{i}\n" for i in range(n))
    path = write(tmp_path, "i,f,b,s\n" + body + "x,y,z,w\n,,,\n")
    for obl in ("error", "skip", "warn"):
        with pytest.raises(blockops.CsvInferenceError) as ei:
            for _ in CsvBlockReader(path, blocksize="512KB", on_bad_lines=obl):
                pass
        e = ei.value
        assert e.dtypes == {"i": "str", "f": "str", "b": "str"}
        assert e.line == n + 2 and e.column == "i" and e.value == "x"
        for col in ("'i' (int64)", "'f' (float64)", "'b' (bool)"):
            assert col in str(e)
        assert os.path.basename(path) in str(e)
    got = read_csv(path, blocksize="512KB")
    assert got.attrs["blockops_stats"]["rereads"] == 1
    same_as_pandas(got, path)
    # the suggested dtypes= reads the file with the streaming reader
    with CsvBlockReader(path, blocksize="512KB", dtypes=e.dtypes) as r:
        assert sum(len(b) for b in r) == n + 2


def test_a_late_na_in_a_bool_column_suggests_boolean(tmp_path, monkeypatch):
    monkeypatch.setattr(binf, "INFER_SAMPLES", 0)
    path = write(tmp_path, "b\n" + "True\nFalse\n" * 100_000 + "NA\n")
    with pytest.raises(blockops.CsvInferenceError) as ei:
        for _ in CsvBlockReader(path, on_bad_lines="skip", blocksize="256KB"):
            pass
    assert ei.value.dtypes == {"b": "boolean"} and "a missing value" in str(ei.value)
    got = read_csv(path, blocksize="256KB")
    assert str(got["b"].dtype) == "boolean" and got["b"].isna().sum() == 1
    assert len(got) == 200_001


def test_padded_booleans_stay_text_as_in_pandas(tmp_path):
    path = write(tmp_path, "a,b,c\n TRUE,True,true\nFALSE,False ,false\n")
    got = read_csv(path)
    assert pd.api.types.is_string_dtype(got["a"].dtype) and got["a"].tolist() == [" TRUE", "FALSE"]
    assert pd.api.types.is_string_dtype(got["b"].dtype)
    assert got["c"].dtype == bool
    same_as_pandas(got, path)


def test_encoding_error_does_not_suggest_dtypes(tmp_path):
    p = tmp_path / "u.csv"
    p.write_bytes(b"a,b\n1,ok\n2,bad\xff\n")
    with pytest.raises(blockops.CsvParseError) as ei:
        read_csv(str(p))
    assert not isinstance(ei.value, blockops.CsvInferenceError)
    assert "dtypes" not in str(ei.value) and ei.value.line == 3
    got = read_csv(str(p), on_bad_lines="skip")
    assert got["a"].tolist() == [1] and got.attrs["blockops_stats"]["rows_skipped"] == 1


def test_inference_does_not_depend_on_block_size_or_engine(tmp_path):
    """The window counts the data after the header everywhere (it once counted the header's
    bytes in one place and not in the other)."""
    dd = pytest.importorskip("blockops.dask")
    path = write(tmp_path, "x\n" + "1\n" * 524286 + "NA\n" + "2\n" * 10)
    ref = read_csv(path)
    assert ref["x"].dtype == np.float64 and ref["x"].isna().sum() == 1
    for bs in (4096, "1MiB", "64KB"):
        got = read_csv(path, blocksize=bs)
        pd.testing.assert_frame_equal(got, ref, check_index_type=False)
        assert CsvBlockReader(path, blocksize=bs).meta().dtypes.to_dict() == {"x": np.float64}
        ddf = dd.read_csv(path, blocksize=bs if bs != 4096 else 1 << 16)
        assert ddf.dtypes.to_dict() == {"x": np.float64}
        pd.testing.assert_frame_equal(ddf.compute(), ref, check_index_type=False)


def test_dask_partition_misfit_is_a_clear_error(tmp_path, monkeypatch):
    """A Dask partition cannot change the schema its meta promised: a misfit the samples did
    not see raises CsvInferenceError with the dtypes= to pass, never a dropped row."""
    dd = pytest.importorskip("blockops.dask")
    monkeypatch.setattr(binf, "INFER_SAMPLES", 0)
    n = 200_000
    path = write(tmp_path, "a,b\n" + "".join(f"{i},{i}\n" for i in range(n)) + "oops,1\n")
    ddf = dd.read_csv(path, blocksize="256KB", on_bad_lines="skip")
    with pytest.raises(blockops.CsvInferenceError) as ei:
        ddf.compute(scheduler="sync")
    assert ei.value.dtypes == {"a": "str"}
    got = dd.read_csv(path, blocksize="256KB", dtypes=ei.value.dtypes).compute(scheduler="sync")
    assert len(got) == n + 1 and got["a"].iloc[-1] == "oops"


def test_file_objects_are_read_again_when_seekable(tmp_path, monkeypatch):
    """A late value that needs the text again (int -> str) reads a seekable file object again;
    a pipe cannot be, and says so. int -> float needs no second read, pipe or not."""
    monkeypatch.setattr(binf, "INFER_SAMPLES", 0)
    text = "a\n" + "1\n" * 600_000 + "x\n"
    path = write(tmp_path, text)
    with open(path, "rb") as f:
        got = read_csv(f, blocksize="256KB")
    assert got["a"].iloc[-1] == "x" and got["a"].iloc[0] == "1" and len(got) == 600_001
    assert got.attrs["blockops_stats"]["rereads"] == 1

    class Stream(io.RawIOBase):  # a pipe-like source: cannot seek back
        def __init__(self, data):
            self._b = io.BytesIO(data)

        def readable(self):
            return True

        def readinto(self, b):
            return self._b.readinto(b)

    with pytest.raises(blockops.CsvInferenceError):
        read_csv(Stream(text.encode()), blocksize="256KB")
    floats = "a\n" + "1\n" * 600_000 + "2.5\n"
    got = read_csv(Stream(floats.encode()), blocksize="256KB")  # widened where it stood
    assert got["a"].dtype == np.float64 and got["a"].iloc[-1] == 2.5 and len(got) == 600_001
    st = got.attrs["blockops_stats"]
    assert st["rereads"] == 0 and st["widened"] == 1


def test_sample_windows_see_late_changes_without_a_second_read(tmp_path):
    n = 400_000
    rows = [str(i) for i in range(n)]
    rows[-5] = "text"
    path = write(tmp_path, "a\n" + "\n".join(rows) + "\n")
    got = read_csv(path, blocksize="256KB")
    assert got.attrs["blockops_stats"]["rereads"] == 0
    assert pd.api.types.is_string_dtype(got["a"].dtype)
    assert CsvBlockReader(path).meta().dtypes.to_dict()["a"] != np.int64
    # a window with the quote character is left out: its rows could be cut wrongly
    rows = [f'{i},"q"' for i in range(n)]
    rows[-5] = 'text,"q"'
    path = write(tmp_path, "a,b\n" + "\n".join(rows) + "\n", "q.csv")
    got = read_csv(path, blocksize="256KB")
    assert got.attrs["blockops_stats"]["rereads"] == 1
    assert got["a"].iloc[-5] == "text" and len(got) == n


def test_genuine_bad_rows_still_follow_on_bad_lines(tmp_path, monkeypatch):
    """Rows with a wrong field count stay bad rows (counted and skipped) while a misfit of an
    inferred type elsewhere widens its column; with "error" the first bad row raises."""
    monkeypatch.setattr(binf, "INFER_SAMPLES", 0)
    n = 150_000
    rows = [f"{i},{i}" for i in range(n)]
    rows[100] = "1,2,3"
    rows[n - 50] = "x,1"
    path = write(tmp_path, "a,b\n" + "\n".join(rows) + "\n")
    got = read_csv(path, blocksize="256KB", on_bad_lines="skip")
    s = got.attrs["blockops_stats"]
    assert len(got) == n - 1 and s["rows_skipped"] == 1 and s["rows_in"] == n
    assert got["a"].iloc[-50] == "x" and 100 not in got.index
    with pytest.raises(blockops.CsvParseError) as ei:
        read_csv(path, blocksize="256KB")
    assert ei.value.line == 102 and "expected 2 fields" in str(ei.value)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    n=st.integers(1, 400),
    at=st.integers(0, 399),
    late=st.sampled_from(["x", "NA", "", "2.5", "-0", "1e3", "True", "007"]),
    kind=st.sampled_from(["int", "float", "bool", "empty"]),
    window=st.integers(1, 200),
    bs=st.sampled_from([64, 256, 4096]),
    nt=st.sampled_from([1, 2]),
)
def test_round_trip_with_late_type_changes(tmp_path, monkeypatch, n, at, late, kind, window,
                                           bs, nt):
    """Any column kind with one late value of another kind, a tiny inference window and no
    samples, at several block sizes and thread counts: the frame equals pandas'."""
    monkeypatch.setattr(binf, "INFER_BYTES", window)
    monkeypatch.setattr(binf, "INFER_SAMPLES", 0)
    base = {"int": lambda i: str(i - 7), "float": lambda i: f"{i * 0.25}",
            "bool": lambda i: "True" if i % 3 else "False", "empty": lambda i: ""}[kind]
    vals = [base(i) for i in range(n)]
    vals[min(at, n - 1)] = late
    path = write(tmp_path, "v,k\n" + "".join(f"{v},{i}\n" for i, v in enumerate(vals)))
    got = read_csv(path, blocksize=bs, n_threads=nt, on_bad_lines="skip")
    ref = pd.read_csv(path, low_memory=False)
    assert len(got) == n
    if ref["v"].dtype == object and ref["v"].dropna().map(type).eq(bool).all():
        # pandas keeps bools with NaN as object; blockops gives the nullable boolean
        assert str(got["v"].dtype) == "boolean"
        assert got["v"].isna().tolist() == ref["v"].isna().tolist()
        return
    same_as_pandas(got, path)


@pytest.mark.parametrize("seed", [0, 1])
def test_infer_fields_is_infer_of_each_field(seed):
    """csv_infer_fields (every column at once, over the rows of several windows, on the
    reader's threads, telling the commonest number shapes itself) gives each field exactly
    csv_infer's (type, has_na) over all the rows (csv_infer asks each type's parser of every
    value: the reference), at every thread count and however the rows are cut into windows,
    on columns of every kind: ints, uint64s, "-0", floats, bools, text, missing values, quoted
    values, short rows, and the edges of the number shapes (18 and 19 digits, signs without
    digits, blanks, "1.", ".5", exponents, digits next to bytes one off '0' and '9')."""
    from blockops import _core

    r = np.random.default_rng(seed)
    kinds = [
        ["1", "-2", "+3", " 4", "0"], ["18446744073709551615", "7", "0"], ["-0", "5"],
        ["1.5", "2", "-3e4", "inf"], ["True", "false", "TRUE"], ["a", "b,c", '"q"'],
        ["", "NA", "nan"], ["9223372036854775808", "-9223372036854775809"],
        ["12345678901234567890123456"],
        ["123456789012345678", "-123456789012345678", "+0"],
        ["1234567890123456789", "-9223372036854775808", "12"],
        ["-", "+", "5"], ["1.", "2.5"], [".5", "-0.25"], ["1.5", "-2.25", "3 "],
        ["12345678.87654321", "0.000000001", "-1234567890123.5"], ["1/2", "3"],
        ["12:30", "4"], ["0x10", "16"], ["1.5.2", "2.5"], ['"12"', "13"],
        ["1e5", "2"], ["123456789a", "1"], ["1" * 30 + ".5", "2.5"],
    ]
    n_cols, n_rows = 3 * len(kinds), 3000
    cols = [[str(v) for v in r.choice(kinds[k % len(kinds)] + (["NA"] if k % 3 else []),
                                      n_rows)] for k in range(n_cols)]
    lines = []
    for i in range(n_rows):
        vals = ['"' + c[i].replace('"', '""') + '"' if ("," in c[i] or '"' in c[i]) else c[i]
                for c in cols]
        if i % 997 == 5:
            vals = vals[:n_cols - 3]  # a short row
        lines.append(",".join(vals))
    data = ("\n".join(lines) + "\n").encode()

    def index(b):
        ix, n, *_ = _core.csv_tokenize(b, len(b), ",", '"', n_cols, True, 0, 0, 1)
        return ix, n

    ix, n = index(data)
    assert n == n_rows  # every row indexed (max_rows 0: no limit)
    # the same rows cut into windows at random line breaks, each its own buffer
    breaks = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == ord("\n")) + 1
    cuts = [0, *sorted(r.choice(breaks[:-1], 6, replace=False)), len(data)]
    windows = [(data[a:b], index(data[a:b])[0]) for a, b in zip(cuts, cuts[1:])]
    nas = [(b"", b"NA", b"nan") if k % 2 else (b"NA",) for k in range(n_cols)]
    fields = list(range(n_cols))[::-1]
    for pad in (False, True):
        want = [_core.csv_infer(data, ix, f, '"', nas[f], pad) for f in fields]
        assert len({w for w in want}) > 4  # the columns infer to several kinds
        for nt in (1, 2, 3):
            for ws in ([(data, ix)], windows):
                got = _core.csv_infer_fields(ws, fields, '"', [nas[f] for f in fields], pad,
                                             nt)
                assert [tuple(g) for g in got] == [tuple(w) for w in want], (pad, nt, len(ws))


@pytest.mark.parametrize("blocksize", ["64KB", "256KB", "64MB"])
@pytest.mark.parametrize("n_threads", [1, 2])
def test_late_widening_to_float_or_boolean_happens_in_place(tmp_path, monkeypatch, blocksize,
                                                            n_threads):
    """read_csv of one source widens int64 -> float64 (a late missing value, a late decimal)
    and bool -> boolean (a late missing value) where the column stands: the values read so far
    are cast (ints beyond 2**53 round as parsing their text as a double does), the file is
    not read again, and the frame is what a read with those dtypes from the start gives (and
    pandas' typing of the whole columns), at every block size and thread count. A later
    misfit that needs the text (-> str) still reads the file again."""
    monkeypatch.setattr(binf, "INFER_SAMPLES", 0)  # so the late values are late
    n = 120_000
    big = 2**53 + 1
    rows = [f"{i},{big + 2 * i},{'True' if i % 3 else 'False'},{i % 7},s{i}" for i in range(n)]
    rows[n - 50] = f"{n - 50},1.5,,3,s"  # the big ints' column gets a decimal, bools a gap
    rows[n - 20] = ",12,False,4,s"  # the first column gets a missing value
    path = write(tmp_path, "a,b,c,d,e\n" + "\n".join(rows) + "\n")
    got = read_csv(path, blocksize=blocksize, n_threads=n_threads)
    st = got.attrs["blockops_stats"]
    assert st["rereads"] == 0 and st["widened"] == 3, st
    assert st["rows_in"] == st["rows_out"] == n
    assert got.dtypes.astype(str).tolist()[:4] == ["float64", "float64", "boolean", "int64"]
    want = read_csv(path, blocksize=blocksize, n_threads=n_threads,
                    dtypes={"a": "float64", "b": "float64", "c": "boolean", "d": "int64"})
    pd.testing.assert_frame_equal(got, want, check_like=False)
    assert float(big + 2 * 7) == got["b"].iloc[7]  # the cast int rounds as its text parses
    ref = pd.read_csv(path, low_memory=False)
    for c in "abd":
        np.testing.assert_array_equal(got[c].to_numpy(), ref[c].to_numpy())
    assert got["c"].isna().sum() == 1 and not got["c"].iloc[0] and got["c"].iloc[1]
    # then text in the widened column: that needs the text again, one more read
    rows[n - 5] = "x,1,True,1,s"
    path = write(tmp_path, "a,b,c,d,e\n" + "\n".join(rows) + "\n", "x.csv")
    got = read_csv(path, blocksize=blocksize, n_threads=n_threads)
    st = got.attrs["blockops_stats"]
    assert st["rereads"] == 1 and got["a"].iloc[n - 5] == "x" and len(got) == n
    ref = pd.read_csv(path, low_memory=False)
    assert got["a"].isna().tolist() == ref["a"].isna().tolist()
    np.testing.assert_array_equal(got["b"].to_numpy(), ref["b"].to_numpy())
