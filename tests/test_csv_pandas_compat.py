"""pandas compatibility where users rely on it: header names, header-only and empty files, the
field-count error. pandas is the reference, run on the same bytes."""
from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import blockops
from blockops.io import CsvBlockReader, read_csv

NAMES = ["", "a", "a.1", "a.2", "a.1.1", "b", "Unnamed: 0", "Unnamed: 1", "Unnamed: 0.1"]


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(NAMES), min_size=1, max_size=7))
def test_header_names_are_mangled_as_pandas_does(tmp_path, header):
    if all(h == "" for h in header):
        header = header + ["x"]
    text = ",".join(header) + "\n" + ",".join(str(i) for i in range(len(header))) + "\n"
    ref = pd.read_csv(io.StringIO(text))
    p = tmp_path / "h.csv"
    p.write_text(text)
    got = read_csv(str(p))
    assert list(got.columns) == list(ref.columns)
    # every column holds its own field, so selecting by a mangled name gets the right one
    for i, c in enumerate(ref.columns):
        assert read_csv(str(p), columns=[c])[c].tolist() == [i]


def test_issue_cases(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("a,a,a.1\n1,2,3\n")
    got = read_csv(str(p))
    assert list(got.columns) == ["a", "a.2", "a.1"]
    assert read_csv(str(p), columns=["a.1"])["a.1"].tolist() == [3]
    p.write_text("a,,b,\n1,2,3,4\n")
    assert list(read_csv(str(p)).columns) == ["a", "Unnamed: 1", "b", "Unnamed: 3"]


@pytest.mark.parametrize("text", ["a,b\n", "a,b", "a,b\r\n", "\ufeffa,b\n"])
def test_header_only_file_same_frame_eager_and_dask(tmp_path, text):
    dd = pytest.importorskip("blockops.dask")
    p = tmp_path / "h.csv"
    p.write_text(text, encoding="utf-8")
    eager = read_csv(str(p))
    ref = pd.read_csv(str(p))
    assert list(eager.columns) == list(ref.columns) == ["a", "b"]
    assert eager.dtypes.to_dict() == ref.dtypes.to_dict()
    lazy = dd.read_csv(str(p))
    assert lazy.dtypes.to_dict() == eager.dtypes.to_dict()
    pd.testing.assert_frame_equal(lazy.compute(), eager, check_index_type=False)
    assert CsvBlockReader(str(p)).meta().dtypes.to_dict() == eager.dtypes.to_dict()


def test_empty_file_same_frame_eager_and_dask(tmp_path):
    dd = pytest.importorskip("blockops.dask")
    p = tmp_path / "e.csv"
    p.write_text("")
    eager = read_csv(str(p))
    assert eager.shape == (0, 0)
    lazy = dd.read_csv(str(p)).compute()
    assert lazy.shape == (0, 0)


def test_field_count_error_names_the_first_missing_column(tmp_path):
    p = tmp_path / "s.csv"
    p.write_text("A,B,C,D\n1,2,3,4\n5,6,7\n")
    with pytest.raises(blockops.CsvParseError) as ei:
        read_csv(str(p))
    assert "expected 4 fields, saw 3: 'D' is missing" in str(ei.value) and ei.value.line == 3
    with pytest.warns(blockops.io.CsvBadLineWarning, match="'D' is missing"):
        got = read_csv(str(p), on_bad_lines="warn")
    assert len(got) == 1
    p.write_text("A,B\n1,2,3\n")
    with pytest.raises(blockops.CsvParseError) as ei:
        read_csv(str(p))
    assert str(ei.value).endswith("expected 2 fields, saw 3")


@pytest.mark.parametrize("values", [
    ["18446744073709551615", "1"],                       # uint64
    ["9223372036854775808", "+1", " 7"],                 # uint64, sign and blanks
    ["18446744073709551616", "1"],                       # beyond uint64: exact ints
    ["18446744073709551615", "0"],                       # uint64 with zero
    ["-9223372036854775809", "1"],                       # below int64
    ["12345678901234567890123456", "-5"],                # a 26-digit ID
    ["18446744073709551616", "NA"],                      # exact ints with NaN
    ["-9223372036854775809", "2.5"],                     # with a fraction: float64
    ["12345678901234567890123456", "abc"],               # with text: str
])
def test_integers_beyond_int64_are_exact(tmp_path, values):
    p = tmp_path / "big.csv"
    p.write_text("x\n" + "\n".join(values) + "\n")
    got, ref = read_csv(str(p)), pd.read_csv(str(p))
    assert got["x"].dtype == ref["x"].dtype or (
        pd.api.types.is_string_dtype(got["x"].dtype) and pd.api.types.is_string_dtype(ref["x"].dtype))
    g = [None if v != v else v for v in got["x"].tolist()]
    r = [None if v != v else v for v in ref["x"].tolist()]
    assert g == r and [type(v) for v in g] == [type(v) for v in r]


def test_big_integers_late_in_the_file(tmp_path, monkeypatch):
    """An int64 column that meets a 26-digit ID after the inference window: read_csv reads
    it again as exact ints; a later text value makes it str. The streaming reader names them."""
    from blockops.io import _csv_infer as binf

    monkeypatch.setattr(binf, "INFER_SAMPLES", 0)
    n = 200_000
    rows = [str(i) for i in range(n)]
    rows[-3] = "12345678901234567890123456"
    p = tmp_path / "late.csv"
    p.write_text("id\n" + "\n".join(rows) + "\n")
    got = read_csv(str(p), blocksize="256KB")
    assert got["id"].dtype == object and got["id"].iloc[-3] == 12345678901234567890123456
    assert got["id"].iloc[5] == 5 and type(got["id"].iloc[5]) is int and len(got) == n
    with pytest.raises(blockops.CsvInferenceError) as ei:
        for _ in CsvBlockReader(str(p), blocksize="256KB"):
            pass
    assert ei.value.dtypes == {"id": "bigint"}
    assert read_csv(str(p), dtypes=ei.value.dtypes)["id"].iloc[-3] == 12345678901234567890123456
    rows[-1] = "not a number"
    p.write_text("id\n" + "\n".join(rows) + "\n")
    got = read_csv(str(p), blocksize="256KB")
    assert pd.api.types.is_string_dtype(got["id"].dtype) and got["id"].iloc[-1] == "not a number"
    assert got["id"].iloc[-3] == "12345678901234567890123456" and len(got) == n


def test_uint64_dtypes(tmp_path):
    p = tmp_path / "u.csv"
    p.write_text("a,b\n18446744073709551615,1\n0,NA\n")
    got = read_csv(str(p), dtypes={"a": "uint64", "b": "UInt64"})
    assert got["a"].dtype == np.uint64 and got["a"].tolist() == [2**64 - 1, 0]
    assert str(got["b"].dtype) == "UInt64" and got["b"].isna().tolist() == [False, True]
    with pytest.raises(blockops.CsvParseError):
        read_csv(str(p), dtypes={"a": "uint64", "b": "uint64"})
    p.write_text("a\n-1\n")
    with pytest.raises(blockops.CsvParseError):
        read_csv(str(p), dtypes={"a": "uint64"})


@pytest.mark.parametrize("nt", [1, 2])
@pytest.mark.parametrize("bs", [64, 4096, None])
def test_short_rows_pad_as_pandas(tmp_path, nt, bs):
    text = ('a,b,c,d\n' + '1,x,2.5,True\n2\n3,"q,r"\n4,y,,False\n5,z,7.5\n' * 3
            + "6,w,1.0,True\n")
    p = tmp_path / "short.csv"
    p.write_text(text)
    ref = pd.read_csv(str(p))
    kw = {} if bs is None else {"blocksize": bs}
    got = read_csv(str(p), short_rows="pad", n_threads=nt, **kw)
    assert list(got.columns) == list(ref.columns) and len(got) == len(ref) == 16
    assert got["a"].tolist() == ref["a"].tolist()
    assert got["b"].isna().tolist() == ref["b"].isna().tolist()
    assert got["b"].dropna().tolist() == ref["b"].dropna().tolist()
    np.testing.assert_array_equal(got["c"].to_numpy(), ref["c"].to_numpy())
    assert got["d"].isna().tolist() == ref["d"].isna().tolist()
    s = got.attrs["blockops_stats"]
    assert s["rows_in"] == s["rows_out"] == 16 and s["rows_skipped"] == 0
    # the default stays an error naming the first missing column; long rows stay bad rows
    with pytest.raises(blockops.CsvParseError, match="'b' is missing"):
        read_csv(str(p), **kw)
    p.write_text("a,b\n1,2\n3\n4,5,6\n")
    got = read_csv(str(p), short_rows="pad", on_bad_lines="skip", **kw)
    assert got["a"].tolist() == [1, 3] and np.isnan(got["b"].iloc[1])
    assert got.attrs["blockops_stats"]["rows_skipped"] == 1


def test_short_rows_pad_through_dask(tmp_path):
    dd = pytest.importorskip("blockops.dask")
    p = tmp_path / "short.csv"
    p.write_text("a,b,c\n" + "1,2,3\n4\n" * 5000)
    eager = read_csv(str(p), short_rows="pad")
    assert eager["b"].dtype == np.float64 and eager["b"].isna().sum() == 5000
    lazy = dd.read_csv(str(p), short_rows="pad", blocksize="16KB")
    pd.testing.assert_frame_equal(lazy.compute(), eager, check_index_type=False)
