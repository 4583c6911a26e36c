"""Typed columns against ``pandas.read_csv`` (equivalent options) and against Python's own
``float()``/``int()``: random tables written by pandas itself, float and int edge cases,
inference, NA handling, nullable types, category, projection and renaming."""
from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csv_util import assert_frames_identical, bs_kw, csv_api, write
from reference import csv_ref as R

SETTINGS = settings(max_examples=50, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])


def _to_csv(df: pd.DataFrame, crlf: bool = False) -> bytes:
    return df.to_csv(index=False, lineterminator="\r\n" if crlf else "\n").encode("utf-8")


@SETTINGS
@given(tbl=R.table(), bs=st.sampled_from((7, 64, 1000, None)), nt=st.sampled_from(R.THREADS),
       crlf=st.booleans())
def test_random_table_with_dtypes_matches_pandas(tmp_path_factory, tbl, bs, nt, crlf):
    bio = csv_api()
    df, dtypes = tbl
    data = _to_csv(df, crlf)
    path = write(tmp_path_factory.mktemp("t"), data)
    got = bio.read_csv(path, dtypes=dtypes, n_threads=nt, **bs_kw(bs))
    want = R.pandas_expected(data, dtypes=dtypes)
    assert_frames_identical(got, want, msg=f"blocksize={bs} n_threads={nt}")
    # and the numbers are the ones that were written (pandas writes floats with repr)
    for c, t in dtypes.items():
        if t in ("int64", "float64", "bool"):
            np.testing.assert_array_equal(R.float_bits(got[c].to_numpy()) if t == "float64"
                                          else got[c].to_numpy(),
                                          R.float_bits(df[c].to_numpy()) if t == "float64"
                                          else df[c].to_numpy())


def _inferable(df):
    """Columns whose inferred type the contract pins down: no all-NA column, strings that
    cannot look like numbers, NA markers or booleans."""
    out = df.copy()
    for c in out.columns:
        if c.startswith("str"):
            out[c] = "s" + out[c].astype(object).map(lambda v: v.replace("N", "M"))
        elif c.startswith("nint") and out[c].isna().all():
            out[c] = out[c].fillna(1)
    return out


@SETTINGS
@given(tbl=R.table(min_rows=1), nt=st.sampled_from(R.THREADS))
def test_random_table_inferred_types_match_pandas(tmp_path_factory, tbl, nt):
    """Without dtypes and with the whole file in the first block, types are inferred as pandas
    would: int64, float64 (ints with NA), bool, str."""
    bio = csv_api()
    df = _inferable(tbl[0])
    data = _to_csv(df)
    path = write(tmp_path_factory.mktemp("i"), data)
    got = bio.read_csv(path, n_threads=nt)
    want = R.pandas_read_csv(io.BytesIO(data))
    for c in want.columns:
        if want[c].dtype == object:  # pandas 2 without the str dtype
            want[c] = want[c].astype(R.STR)
    assert_frames_identical(got, want)


def _float_column(tmp_path, texts, **kw):
    bio = csv_api()
    data = ("x\n" + "\n".join(texts) + "\n").encode()
    return bio.read_csv(write(tmp_path, data), **kw)["x"].to_numpy()


def test_float_edge_cases_bitwise_equal_to_python_float(tmp_path):
    texts = list(R.EDGE_FLOATS)
    want = np.array([float(s) for s in texts])
    for bs in (1, 7, None):
        got = _float_column(tmp_path, texts, dtypes={"x": "float64"}, **bs_kw(bs))
        assert got.dtype == np.float64
        bad = [(t, float(t), g) for t, g, w in zip(texts, got, want)
               if R.float_bits(np.array([g]))[0] != R.float_bits(np.array([w]))[0]]
        assert not bad, f"blocksize={bs}: (text, float(text), got): {bad}"
    # without dtypes: inferred float64, same bits
    got = _float_column(tmp_path, texts)
    np.testing.assert_array_equal(R.float_bits(got), R.float_bits(want))


@SETTINGS
@given(texts=st.lists(R.float_text(), min_size=1, max_size=40),
       bs=st.sampled_from((1, 5, 64, None)), nt=st.sampled_from(R.THREADS))
def test_random_float_text_bitwise_equal_to_python_float(tmp_path_factory, texts, bs, nt):
    tmp = tmp_path_factory.mktemp("f")
    want = np.array([float(s) for s in texts], dtype=np.float64)
    got = _float_column(tmp, texts, dtypes={"x": "float64"}, n_threads=nt, **bs_kw(bs))
    mism = [(t, float(t), float(g)) for t, g, w in zip(texts, got, want)
            if np.float64(g).view(np.uint64) != np.float64(w).view(np.uint64)]
    assert not mism, f"(text, float(text), got): {mism[:5]}"
    got32 = _float_column(tmp, texts, dtypes={"x": "float32"}, n_threads=nt, **bs_kw(bs))
    assert got32.dtype == np.float32
    with np.errstate(over="ignore"):
        want32 = want.astype(np.float32)
    np.testing.assert_array_equal(got32.view(np.uint32), want32.view(np.uint32))


def test_ints_exact_and_overflow_is_a_bad_row(tmp_path):
    bio = csv_api()
    import blockops

    texts = list(R.INT64_EDGE)
    got = _float_column(tmp_path, texts, dtypes={"x": "int64"})
    assert got.dtype == np.int64
    assert got.tolist() == [int(s) for s in texts]
    for dt, lo, hi in (("int8", -128, 127), ("int16", -2**15, 2**15 - 1),
                       ("int32", -2**31, 2**31 - 1), ("int64", -2**63, 2**63 - 1)):
        ok = _float_column(tmp_path, [str(lo), str(hi), "0"], dtypes={"x": dt})
        assert ok.dtype == np.dtype(dt) and ok.tolist() == [lo, hi, 0]
        # (not " ": a line of only spaces is skipped like an empty line, as pandas does)
        for bad in (str(hi + 1), str(lo - 1), "1.5", "x", "1e3", "0x10", "1 2", "--1"):
            data = f"x\n1\n{bad}\n2\n".encode()
            path = write(tmp_path, data, "bad.csv")
            with pytest.raises(blockops.CsvParseError) as ei:
                bio.read_csv(path, dtypes={"x": dt})
            assert ei.value.line == 3 and ei.value.column == "x", (dt, bad, ei.value)
            df = bio.read_csv(path, dtypes={"x": dt}, on_bad_lines="skip")
            assert df["x"].tolist() == [1, 2] and df.index.tolist() == [0, 2], (dt, bad)


@SETTINGS
@given(vals=st.lists(R.int_text(), min_size=1, max_size=30), bs=st.sampled_from((1, 9, None)))
def test_random_ints_exact(tmp_path_factory, vals, bs):
    got = _float_column(tmp_path_factory.mktemp("n"), vals, dtypes={"x": "int64"}, **bs_kw(bs))
    assert got.dtype == np.int64 and got.tolist() == [int(v) for v in vals]


def test_bool_and_nullable_types(tmp_path):
    bio = csv_api()
    import blockops

    data = b"b,nb,ni,f\nTrue,true,1,1.5\nFalse,,,\ntrue,FALSE,-7,NA\nFALSE,True,,2\nTRUE,NA,3,\n"
    path = write(tmp_path, data)
    got = bio.read_csv(path, dtypes={"b": "bool", "nb": "boolean", "ni": "Int64", "f": "float64"})
    want = R.pandas_expected(data, dtypes={"b": "bool", "nb": "boolean", "ni": "Int64",
                                           "f": "float64"})
    assert_frames_identical(got, want)
    assert got["b"].tolist() == [True, False, True, False, True]
    assert got["ni"].isna().tolist() == [False, True, False, True, False]
    for small in ("Int8", "Int16", "Int32"):
        g = bio.read_csv(path, columns=["ni"], dtypes={"ni": small})["ni"]
        assert str(g.dtype) == small and g.isna().sum() == 2 and g.dropna().tolist() == [1, -7, 3]
    # NA in a non-nullable int or bool column is a bad row
    for col, dt, line in (("ni", "int64", 3), ("nb", "bool", 3)):
        with pytest.raises(blockops.CsvParseError) as ei:
            bio.read_csv(path, columns=[col], dtypes={col: dt})
        assert ei.value.line == line and ei.value.column == col
    # bool rejects what pandas' default does not call a bool
    path2 = write(tmp_path, b"b\nTrue\nyes\n", "b2.csv")
    with pytest.raises(blockops.CsvParseError) as ei:
        bio.read_csv(path2, dtypes={"b": "bool"})
    assert ei.value.line == 3 and "yes" in str(ei.value)


def test_category_and_str(tmp_path):
    bio = csv_api()
    data = b"c,s\nb,x\na,\nb,\"y,z\"\n,NA\nc,w\n"
    path = write(tmp_path, data)
    got = bio.read_csv(path, dtypes={"c": "category", "s": "str"})
    want = R.pandas_expected(data, dtypes={"c": "category", "s": "str"})
    assert isinstance(got["c"].dtype, pd.CategoricalDtype)
    # same values in the same places; category order is not part of the contract
    assert got["c"].astype(object).where(got["c"].notna(), None).tolist() == \
        want["c"].astype(object).where(want["c"].notna(), None).tolist()
    assert sorted(got["c"].cat.categories) == ["a", "b", "c"]
    pd.testing.assert_series_equal(got["s"], want["s"])
    # the same with blocks smaller than a row: categories merged across blocks
    got1 = bio.read_csv(path, dtypes={"c": "category", "s": "str"}, blocksize=1, n_threads=2)
    assert got1["c"].astype(object).tolist() == got["c"].astype(object).tolist()


def test_na_values_list_and_per_column_dict(tmp_path):
    bio = csv_api()
    data = b"a,b,c\n1,x,-999\n-999,NA,5\n3,missing,missing\n4,,7\n"
    path = write(tmp_path, data)
    for na in (["-999", "missing"], {"a": ["-999"], "b": ["missing"]}, {"c": ["missing", "-999"]}):
        for kdn in (True, False):
            dt = {"a": "float64", "b": "str", "c": "float64"}
            try:
                want = R.pandas_expected(data, dtypes=dt, na_values=na, keep_default_na=kdn)
            except ValueError:  # pandas cannot make a float of "NA"/"" here: neither can we
                continue
            got = bio.read_csv(path, dtypes=dt, na_values=na, keep_default_na=kdn)
            assert_frames_identical(got, want, msg=f"na_values={na} keep_default_na={kdn}")
    got = bio.read_csv(path, columns=["b"], dtypes="str", keep_default_na=False)
    assert got["b"].tolist() == ["x", "NA", "missing", ""]  # no NA strings at all
    got = bio.read_csv(path, columns=["a"], dtypes={"a": "Int64"}, na_values={"a": ["-999"]})
    assert got["a"].isna().tolist() == [False, True, False, False]


def test_columns_by_name_position_mixed_and_rename(tmp_path):
    bio = csv_api()
    data = b"a,b,c,d\n1,x,2.5,True\n2,y,-0.0,False\n"
    path = write(tmp_path, data)
    full = bio.read_csv(path)
    for cols in (["c", "a"], [2, 0], ["d", 1], [3], ["b", 0, "d", 2]):
        got = bio.read_csv(path, columns=cols)
        names = [full.columns[c] if isinstance(c, int) else c for c in cols]
        assert list(got.columns) == names, cols
        assert_frames_identical(got, full[names], msg=str(cols))
        for bs in (1, 5):
            assert_frames_identical(bio.read_csv(path, columns=cols, blocksize=bs), full[names])
    got = bio.read_csv(path, columns=["c", "a"], rename={"c": "C", "zz": "never"})
    assert list(got.columns) == ["C", "a"]
    np.testing.assert_array_equal(got["C"].to_numpy(), [2.5, -0.0])
    assert np.signbit(got["C"].to_numpy()[1])


def test_only_selected_columns_are_converted(tmp_path):
    """An unparseable value in a column that is not selected is never looked at."""
    bio = csv_api()
    path = write(tmp_path, b"a,b\n1,x\n2,not-an-int\n3,y\n")
    got = bio.read_csv(path, columns=["a"], dtypes={"a": "int64", "b": "int64"})
    assert got["a"].tolist() == [1, 2, 3] and list(got.columns) == ["a"]


def test_unknown_column_and_bad_arguments(tmp_path):
    """Bad arguments raise TypeError/ValueError (KeyError for a missing column) that name the
    argument or the offending value."""
    bio = csv_api()
    path = write(tmp_path, b"a,b\n1,2\n")
    cases = [({"columns": ["zz"]}, "zz"), ({"columns": [5]}, "5"),
             ({"dtypes": {"a": "complex128"}}, "complex128"), ({"on_bad_lines": "ignore"}, "ignore"),
             ({"blocksize": 0}, "blocksize"), ({"blocksize": "12 parsecs"}, "parsecs"),
             ({"dtypes": {"a": "datetime:%Q"}}, "%Q")]
    for kw, token in cases:
        with pytest.raises((ValueError, TypeError, KeyError)) as ei:
            bio.read_csv(path, **kw)
        msg = str(ei.value)
        assert token in msg or next(iter(kw)) in msg, (kw, msg)


def test_header_false(tmp_path):
    bio = csv_api()
    data = b"1,x,2.5\n2,y,3.5\n"
    path = write(tmp_path, data)
    got = bio.read_csv(path, header=False)
    want = R.pandas_read_csv(io.BytesIO(data), header=None)
    want[1] = want[1].astype(R.STR)
    assert list(got.columns) == [0, 1, 2]
    assert_frames_identical(got, want)
    got = bio.read_csv(path, header=False, columns=[2, 0], dtypes={0: "int32"})
    assert list(got.columns) == [2, 0] and got[0].dtype == np.int32


def test_delimiter_and_quotechar(tmp_path):
    bio = csv_api()
    data = "a;b\n1;'x;y'\n2;'it''s'\n3;\"q\"\n".encode()
    path = write(tmp_path, data)
    got = bio.read_csv(path, delimiter=";", quotechar="'", dtypes={"a": "int64", "b": "str"})
    assert got["b"].tolist() == ["x;y", "it's", '"q"']
    got = bio.read_csv(write(tmp_path, b"a\tb\n1\t\"x\ty\"\n", "t.tsv"), delimiter="\t")
    assert got["b"].tolist() == ["x\ty"]


def test_a_late_misfit_of_an_inferred_type_widens_it_and_costs_no_row(tmp_path, monkeypatch):
    """A value far beyond the first block and every inference window (samples off) that does
    not fit the inferred type: read_csv widens the column as pandas types it, whatever
    on_bad_lines says; the streaming reader raises CsvInferenceError naming line, column,
    value and the dtypes= to pass, also with on_bad_lines="skip"."""
    bio = csv_api()
    import blockops
    from blockops.io import _csv_infer as binf

    monkeypatch.setattr(binf, "INFER_SAMPLES", 0)
    n = 150_000  # ~1.9 MB: more than the first block and more than 1 MiB
    rows = [f"{i},{i * 0.5}" for i in range(n)]
    bad_row = n - 10
    rows[bad_row] = "oops,1.0"
    data = ("i,f\n" + "\n".join(rows) + "\n").encode()
    path = write(tmp_path, data)
    ref = pd.read_csv(path, low_memory=False)
    for nt in (1, 3):
        for obl in ("error", "skip", "warn"):
            got = bio.read_csv(path, blocksize="256KB", n_threads=nt, on_bad_lines=obl)
            assert len(got) == n and got["i"].dtype == R.STR
            assert got["i"].tolist() == ref["i"].astype(str).tolist()
            assert got["f"].dtype == np.float64
            st_ = got.attrs["blockops_stats"]
            assert st_["rereads"] == 1 and st_["rows_in"] == st_["rows_out"] == n
            with pytest.raises(blockops.CsvInferenceError) as ei:
                for _ in bio.CsvBlockReader(path, blocksize="256KB", n_threads=nt,
                                            on_bad_lines=obl):
                    pass
            e = ei.value
            assert e.line == bad_row + 2 and e.column == "i" and e.value == "oops", str(e)
            assert e.dtypes == {"i": "str"} and "dtypes={'i': 'str'}" in str(e)
    with bio.CsvBlockReader(path, blocksize="256KB", dtypes=ei.value.dtypes) as r:
        assert sum(len(b) for b in r) == n
    # int inferred, a float arrives later: float64, as pandas reads it
    data = ("v\n" + "\n".join(["1"] * 700_000 + ["1.5"]) + "\n").encode()
    p2 = write(tmp_path, data, "late_float.csv")
    got = bio.read_csv(p2, blocksize="64KB")
    assert got["v"].dtype == np.float64 and got["v"].iloc[-1] == 1.5 and len(got) == 700_001
    with pytest.raises(blockops.CsvInferenceError) as ei:
        for _ in bio.CsvBlockReader(p2, blocksize="64KB", on_bad_lines="skip"):
            pass
    assert ei.value.line == 700_002 and ei.value.dtypes == {"v": "float64"}
    got = bio.read_csv(p2, blocksize="64KB", dtypes={"v": "float64"})
    assert got["v"].iloc[-1] == 1.5 and len(got) == 700_001
    # a dtype the user gave is theirs: its misfits are bad rows, as on_bad_lines says
    got = bio.read_csv(path, blocksize="256KB", dtypes={"i": "int64"}, on_bad_lines="skip")
    assert len(got) == n - 1 and bad_row not in got.index
    with pytest.raises(blockops.CsvParseError) as ei:
        bio.read_csv(path, blocksize="256KB", dtypes={"i": "int64"})
    assert not isinstance(ei.value, blockops.CsvInferenceError) and ei.value.line == bad_row + 2


def test_inference_uses_the_first_mib_whatever_the_block_size(tmp_path):
    """Without dtypes, types come from the complete rows in the first INFER_BYTES (1 MiB) of
    the data after the header and the sample windows, not from the first block: the same
    types for every block size. A misfit the windows did not see widens the column."""
    bio = csv_api()
    from blockops.io import _csv_infer as binf

    rows = [f"{i},{i * 0.5}" for i in range(2000)]
    rows[1500] = "oops,1.0"
    small = write(tmp_path, ("i,f\n" + "\n".join(rows) + "\n").encode(), "small.csv")
    for bs in (256, 4096, "64MB"):  # all inside the first MiB: str, like pandas
        got = bio.read_csv(small, blocksize=bs)
        assert got["i"].dtype == R.STR, bs
    n_ok = binf.INFER_BYTES // 10 + 1000  # rows of >= 10 bytes: past the first MiB
    big_rows = [f"{i:09d},{i}" for i in range(n_ok)] + ["oops,1"]
    big = write(tmp_path, ("i,f\n" + "\n".join(big_rows) + "\n").encode(), "big.csv")
    for bs in (4096, "64MB"):
        got = bio.read_csv(big, blocksize=bs)
        assert got["i"].iloc[-1] == "oops" and got["i"].iloc[0] == "000000000"
        assert len(got) == n_ok + 1


def test_inferred_types_simple_cases(tmp_path):
    bio = csv_api()
    data = b"i,f,fi,b,s,m\n1,1.5,1,True,x,1\n-2,2,,False,,y\n3,1e3,3,true,z,2\n"
    got = bio.read_csv(write(tmp_path, data))
    assert got["i"].dtype == np.int64 and got["f"].dtype == np.float64
    assert got["fi"].dtype == np.float64 and math.isnan(got["fi"].iloc[1])
    assert got["b"].dtype == np.bool_ and got["b"].tolist() == [True, False, True]
    assert str(got["s"].dtype) in ("str", "string") and got["s"].isna().tolist() == [False, True, False]
    assert got["m"].tolist() == ["1", "y", "2"]


def test_as_arrays(tmp_path):
    bio = csv_api()
    data = b"i,f,s,n,c,b\n1,1.5,x,4,u,true\n2,,,,v,FALSE\n3,-0.0,z,6,u,True\n"
    dt = {"i": "int32", "f": "float64", "s": "str", "n": "Int64", "c": "category", "b": "bool"}
    path = write(tmp_path, data)
    frame = bio.read_csv(path, dtypes=dt)
    for bs in (1, None):
        with bio.CsvBlockReader(path, dtypes=dt, as_arrays=True, **bs_kw(bs)) as r:
            blocks = list(r)
        assert all(isinstance(b, dict) for b in blocks)
        cat = {k: (np.ma.concatenate([b[k] for b in blocks]) if k == "n"
                   else np.concatenate([b[k] for b in blocks])) for k in blocks[0]}
        assert list(cat) == list(dt) + ["__row__"] or set(cat) == set(dt) | {"__row__"}
        assert cat["__row__"].dtype == np.int64 and cat["__row__"].tolist() == [0, 1, 2]
        assert cat["i"].dtype == np.int32 and cat["i"].tolist() == [1, 2, 3]
        np.testing.assert_array_equal(R.float_bits(cat["f"]), R.float_bits(frame["f"].to_numpy()))
        assert cat["s"].dtype == object and cat["s"].tolist() == ["x", None, "z"]
        assert isinstance(cat["n"], np.ma.MaskedArray)
        assert cat["n"].mask.tolist() == [False, True, False]
        assert cat["n"].compressed().tolist() == [4, 6]
        assert cat["c"].dtype == object and cat["c"].tolist() == ["u", "v", "u"]
        assert cat["b"].dtype == np.bool_ and cat["b"].tolist() == [True, False, True]


def test_empty_and_header_only_files_dtypes(tmp_path):
    bio = csv_api()
    e = write(tmp_path, b"", "e.csv")
    h = write(tmp_path, b"a,b,c\r\n", "h.csv")
    got = bio.read_csv(e)
    assert got.shape == (0, 0)
    got = bio.read_csv(e, columns=["x", "y"], dtypes={"x": "int64", "y": "float32"})
    assert list(got.columns) == ["x", "y"] and len(got) == 0
    assert got["x"].dtype == np.int64 and got["y"].dtype == np.float32
    got = bio.read_csv(h)
    assert list(got.columns) == ["a", "b", "c"] and len(got) == 0
    assert all(str(t) in ("object", "str") for t in got.dtypes)
    got = bio.read_csv(h, dtypes={"a": "int16", "b": "Int64", "c": "wkt_point"})
    assert list(got.columns) == ["a", "b", "c_lon", "c_lat"] and len(got) == 0
    assert [str(t) for t in got.dtypes] == ["int16", "Int64", "float64", "float64"]
    blocks = list(bio.CsvBlockReader(h, dtypes={"a": "int16"}))
    assert sum(len(b) for b in blocks) == 0


def test_long_fractions_bitwise_equal_to_python_float(tmp_path, simd_level):
    """The fast path for 16 to 19 digits in all (repr() of doubles in [0.1, 10) has 16 or 17
    fraction digits): every shape around the 19-digit cut, against float()."""
    r = np.random.default_rng(5)
    texts = [repr(float(x)) for x in np.concatenate([r.uniform(0, 10, 3000), r.uniform(-10, 10, 1000),
                                              r.uniform(0, 1e-3, 300), r.uniform(0, 999, 300)])]
    for ki in range(1, 5):
        for kf in range(14, 21):
            for _ in range(20):
                i = "".join(r.choice(list("0123456789"), ki))
                f = "".join(r.choice(list("0123456789"), kf))
                texts.append(f"{'-' if r.random() < 0.5 else ''}{i}.{f}")
                texts.append(f"{i}.{f}e{int(r.integers(-5, 5))}")
    texts += ["0.00000000000000001", "9.999999999999999999", "0.0000000000000000001",
              "1.0000000000000000", "00.000000000000000001", "1.00000000000000000001"]
    want = np.array([float(s) for s in texts])
    for bs, nt in ((None, 1), (997, 3)):
        got = _float_column(tmp_path, texts, dtypes={"x": "float64"}, n_threads=nt,
                            **bs_kw(bs))
        mism = [(t, g, w) for t, g, w in zip(texts, got, want)
                if np.float64(g).view(np.uint64) != np.float64(w).view(np.uint64)]
        assert not mism, mism[:5]


def _random_ints(r, lengths, each, p_minus):
    """each random integer texts of every length in lengths, a '-' with probability p_minus,
    else now and then a '+'."""
    out = []
    for n in lengths:
        for _ in range(each):
            v = "".join(r.choice(list("0123456789"), n))
            out.append(("-" if r.random() < p_minus else "+" if r.random() < 0.1 else "") + v)
    return out


def test_short_ints_bitwise_equal_to_python_int(tmp_path, simd_level):
    """The 1..8-digit fast path of the int converter, next to other columns (it reads up to 8
    bytes before the value) and first in the file, quoted and with blanks (the general path),
    against int(); out-of-range for int8/int16 still a bad value."""
    bio = csv_api()
    r = np.random.default_rng(9)
    vals = _random_ints(r, range(1, 12), 40, 0.3)
    vals += ["0", "-0", "+0", "00000000", "99999999", "-99999999", "100000000", " 7", "8 "]
    texts = [f'"{v}"' if r.random() < 0.1 else v for v in vals]
    data = "x,y\n" + "\n".join(f"{t},{'a' * int(r.integers(0, 9))}" for t in texts) + "\n"
    path = write(tmp_path, data.encode())
    for bs, nt in ((None, 1), (111, 3)):
        df = bio.read_csv(path, dtypes={"x": "int64", "y": "str"}, n_threads=nt, **bs_kw(bs))
        assert df["x"].tolist() == [int(v) for v in vals]
    with pytest.raises(Exception) as ei:
        bio.read_csv(write(tmp_path, b"x\n1\n128\n", "i8.csv"), dtypes={"x": "int8"})
    assert "out of range" in str(ei.value)


def test_int_fast_path_every_length_sign_and_neighbour(tmp_path, simd_level):
    """The int64 fast path reads the 16 bytes before a field: 1..18 digits with and without a
    sign, a sign alone, doubled signs, a blank inside, after text fields that end in digits and
    signs: the same values as int(), and the texts int() rejects are bad values (line and
    column)."""
    bio = csv_api()
    r = np.random.default_rng(13)
    vals = _random_ints(r, range(1, 19), 30, 0.4)
    vals += ["9223372036854775807", "-9223372036854775808", "+0", "-0", "0" * 17 + "1"]
    pre = ["".join(r.choice(list("0123456789+-x"), int(r.integers(0, 20)))) for _ in vals]
    data = "a,x\n" + "\n".join(f"{p},{v}" for p, v in zip(pre, vals)) + "\n"
    path = write(tmp_path, data.encode())
    for bs, nt in ((None, 1), (509, 3)):
        df = bio.read_csv(path, dtypes={"a": "str", "x": "int64"}, n_threads=nt, **bs_kw(bs))
        assert df["x"].tolist() == [int(v) for v in vals]
    for k, bad in enumerate(["-", "+", "--1", "+-5", "1-", "12 3", "9" * 20]):
        body = "a,x\n" + "".join(f"{'9' * i},{i}\n" for i in range(k + 3)) + f"99,{bad}\n"
        with pytest.raises(Exception) as ei:
            bio.read_csv(write(tmp_path, body.encode(), f"bad{k}.csv"),
                         dtypes={"a": "str", "x": "int64"})
        assert f"line {k + 5}" in str(ei.value) and repr(bad)[1:-1] in str(ei.value), \
            (bad, str(ei.value))


def _int_batch_text(r, width=16):
    """One int64 field's text for test_int_batches_of_eight and the long rows test: (text,
    value or None for a bad field). Mostly the fast shape ([+-] and up to width - 1 digits, or
    width digits), the rest every way out of it. width 8: every text at most 8 bytes (the
    AVX-512 batches then take eight fields in one register)."""
    k = r.random()
    if k < 0.70:  # the shape
        n = int(r.integers(1, width + 1))
        v = "".join(r.choice(list("0123456789"), n))
        sign = "" if n == width else "-" if r.random() < 0.3 else "+" if r.random() < 0.1 else ""
        return sign + v, int(sign + v)
    if k < 0.80 and width == 16:  # 17..19 digits, in range
        v = int(r.integers(10**16, 2**63 - 1, dtype=np.int64)) * (-1 if r.random() < 0.5 else 1)
        return str(v), v
    if k < 0.88:  # the general path's spellings of good values
        v = int(r.integers(-10**6, 10**6)) if width == 16 else int(r.integers(-9999, 9999))
        zeros = "0" * int(r.integers(1, 20 if width == 16 else 3))
        t = r.choice([f'"{v}"', f" {v}", f"{v} ", zeros + str(abs(v))])
        return str(t), abs(v) if t.startswith("0") else v
    # bad: each of these is a bad value, its row skipped
    bad = ["-", "+", "--1", "+-5", "1-", "12a", "1.5", "0x1", "1 2", "-+0", "9-9"]
    return str(r.choice(bad + (["9" * 20, "-" + "9" * 19] if width == 16 else []))), None


def _batch_file(tmp_path, r, field, missing, bad, crlf, n=6000):
    """The file of the batches-of-eight tests: rows x,p,m,y with x, m and y from field(r) ->
    (text, value, or None for a bad field), m missing one time in five, a stretch (rows 2000 to
    2400) where every batch of eight has a bad x (bad) and a missing m, a random text p, 1 %
    short rows (bad whatever their fields), LF or CR LF: the path and, per row kept,
    (row, x, m, y)."""
    rows, want = [], []
    for i in range(n):
        x, vx = field(r)
        y, vy = field(r)
        m, vm = field(r) if r.random() < 0.8 else ("", missing)
        if 2000 <= i < 2400:
            if i % 8 == 3:
                x, vx = bad, None
            if i % 8 == 5:
                m, vm = "", missing
        p = "".join(r.choice(list("0123456789+-.x"), int(r.integers(0, 6))))
        if r.random() < 0.01:
            rows.append(f"{x},{p}")
            continue
        rows.append(f"{x},{p},{m},{y}")
        if vx is not None and vy is not None and vm is not None:
            want.append((len(rows) - 1, vx, vm, vy))
    eol = "\r\n" if crlf else "\n"
    return write(tmp_path, ("x,p,m,y" + eol + eol.join(rows) + eol).encode()), want


@pytest.mark.parametrize("crlf", [False, True])
@pytest.mark.parametrize("short", [False, True])
def test_int_batches_of_eight_against_int(tmp_path, simd_level, crlf, short):
    """The AVX-512 int64 loop takes eight rows at a time and hands the ones it cannot parse to
    the one-field loop: every mix of good, long, quoted, padded, missing and bad fields in a
    batch, as the first field (at the start of a slice), a middle one and the last (before a
    line break or CR LF), short rows (which a batch leaves to the one-field loop whole), at
    several block sizes and thread counts: the values int() gives and exactly the rows with a
    bad field skipped. short: every field at most 8 bytes (the batches then take the eight
    fields in one register), the shape and every way out of it within 8 bytes."""
    bio = csv_api()
    path, want = _batch_file(tmp_path, np.random.default_rng(21 + crlf + 10 * short),
                             lambda r: _int_batch_text(r, 8 if short else 16), pd.NA, "1-",
                             crlf)
    dtypes = {"x": "int64", "p": "str", "m": "Int64", "y": "int64"}
    # columns: only the numbers (every column converted is an int64 one: the batches then
    # take eight rows of each column in turn)
    for bs, nt, cols in ((None, 1, None), (None, 2, None), (509, 2, None), (4096, 1, None),
                         (None, 1, ["x", "m", "y"]), (509, 2, ["x", "m", "y"])):
        df = bio.read_csv(path, dtypes=dtypes, n_threads=nt, on_bad_lines="skip", columns=cols,
                          **bs_kw(bs))
        assert df.index.tolist() == [w[0] for w in want], (bs, nt)
        assert df["x"].tolist() == [w[1] for w in want], (bs, nt)
        assert df["y"].tolist() == [w[3] for w in want], (bs, nt)
        got_m = df["m"].tolist()
        assert [g is pd.NA for g in got_m] == [w[2] is pd.NA for w in want], (bs, nt)
        assert [g for g in got_m if g is not pd.NA] == [w[2] for w in want
                                                         if w[2] is not pd.NA], (bs, nt)


def _bits(v):
    """float64 values as their bits, every NaN as one (the readers' missing values)."""
    a = np.asarray(v, dtype=np.float64)
    return np.where(np.isnan(a), np.uint64(0x7FF8000000000000), a.view(np.uint64))


def _long_row_text(r, kind, i, j):
    """Field j of row i of test_numbers_of_long_rows_row_by_row (of kind, the column's):
    (text, value or None for a bad field). Bad fields are rare, so that most rows are kept."""
    if kind in ("int64", "Int64"):
        # rows 500-599: fields of at most 8 bytes (the 8-byte int batches)
        width = 8 if 500 <= i < 600 else 16
        t, v = _int_batch_text(r, width)
        while v is None and r.random() > 0.02:
            t, v = _int_batch_text(r, width)
        if kind == "Int64" and r.random() < 0.2:
            t, v = "", pd.NA
        if 300 <= i < 340 and j % 8 == i % 8 and i % 2:  # one bad field a batch
            t, v = "1-", None
        return t, v
    if kind == "float64":
        if 100 <= i < 200 and r.random() < 0.9:  # the 32-byte batches' rows
            t = _long_decimals(r, 1)[0]
            return t, float(t)
        if 400 <= i < 450 and r.random() < 0.9:  # rows no batch takes: the one-field loop
            t = str(r.choice(["1e5", "-2.5E-3", "nan", "inf", f'"{i}.5"', "12345678901234567890"]))
            return t, float(t.strip('"'))
        t, v = _float_batch_text(r)
        while v is None and r.random() > 0.02:
            t, v = _float_batch_text(r)
        if r.random() < 0.05:
            t, v = "", math.nan
        if 300 <= i < 340 and j % 8 == i % 8 and i % 2:
            t, v = "1..2", None
        return t, v
    return ("s" + str(int(r.integers(0, 100))),) * 2


@pytest.mark.parametrize("crlf", [False, True])
@pytest.mark.parametrize("main", ["int64", "float64"])
def test_numbers_of_long_rows_row_by_row(tmp_path, simd_level, main, crlf):
    """Rows long enough that a pass of the converter holds fewer than 64 of them take their
    int64 and float64 columns row by row, eight fields of a row at once (rows_pass at the
    AVX-512 level): 147 columns, 99 of the main kind between columns of the others (ints
    nullable or not, with missing values), the last field one of them, every mix of the
    batches' shapes, longer, quoted, missing and bad fields, stretches of rows whose floats
    take the 32-byte batches or none and whose ints the 8-byte ones, short rows, and a stretch where every eighth field is
    bad, at several block sizes and thread counts: the values int() and float() give (bit for
    bit), and exactly the rows with a bad field skipped."""
    bio = csv_api()
    r = np.random.default_rng(41 + crlf + 2 * (main == "float64"))
    other = "float64" if main == "int64" else "int64"
    kinds = [main if j % 3 else "Int64" if j % 9 == 3 else other if j % 2 else "str"
             for j in range(146)] + [main]
    names = [f"c{j}" for j in range(len(kinds))]
    rows, want = [], []
    for i in range(700):
        texts, vals = zip(*(_long_row_text(r, k, i, j) for j, k in enumerate(kinds)))
        if r.random() < 0.01:
            rows.append(",".join(texts[:50]))
            continue
        rows.append(",".join(texts))
        if all(v is not None for v in vals):
            want.append((len(rows) - 1, vals))
    eol = "\r\n" if crlf else "\n"
    path = write(tmp_path, (",".join(names) + eol + eol.join(rows) + eol).encode())
    dtypes = dict(zip(names, kinds))

    for bs, nt in ((None, 1), (None, 2), (4096, 1), (50_000, 2)):
        df = bio.read_csv(path, dtypes=dtypes, n_threads=nt, on_bad_lines="skip", **bs_kw(bs))
        assert df.index.tolist() == [w[0] for w in want], (bs, nt)
        assert 300 < len(df) < 600, len(df)  # rows with bad fields skipped, most kept
        for j, (c, k) in enumerate(zip(names, kinds)):
            got = df[c].tolist()
            exp = [w[1][j] for w in want]
            if k == "float64":
                np.testing.assert_array_equal(_bits(got), _bits(exp), err_msg=f"{c} {bs} {nt}")
                continue
            if k == "Int64":
                assert [g is pd.NA for g in got] == [e is pd.NA for e in exp], (c, bs, nt)
                got = [g for g in got if g is not pd.NA]
                exp = [e for e in exp if e is not pd.NA]
            assert got == exp, (c, bs, nt)


def _float_batch_text(r):
    """One float64 field's text for test_float_batches_of_eight: (text, float or None for a
    bad field). Mostly what the AVX-512 batches take ([+-] digits with at most one dot, a
    digit on each side, at most 16 bytes), the rest every way out of it."""
    k = r.random()
    if k < 0.65:
        n = int(r.integers(1, 17))  # bytes with the sign and the dot
        sign = "-" if r.random() < 0.3 else "+" if r.random() < 0.05 else ""
        nd = n - len(sign)
        if nd >= 3 and r.random() < 0.8:
            ki = int(r.integers(1, nd - 1))
            digits = "".join(r.choice(list("0123456789"), nd - 1))
            t = sign + digits[:ki] + "." + digits[ki:]
        else:
            t = sign + "".join(r.choice(list("0123456789"), max(nd, 1)))
        return t, float(t)
    if k < 0.80:  # longer: 16-19 significant digits, exponents, other spellings pandas takes
        t = str(r.choice([repr(float(r.normal() * 10 ** int(r.integers(-3, 4)))),
                          f"{r.random():.18f}", "1e5", "-2.5E-3", "nan", "inf", "-inf",
                          ".5", "5.", "-.5", "+5.", "+.5", "-5.", "-0.", "-.0",
                          "0" * 12 + "1.25", "1" * 17,
                          "-0", "-0.0", "0.000000000000001", "9999999999999999"]))
        return t, float(t)
    if k < 0.88:  # the general path's spellings of good values
        v = round(float(r.normal() * 100), int(r.integers(0, 6)))
        return str(r.choice([f'"{v}"', f" {v}", f"{v} "])), v
    return str(r.choice(["-", "+", ".", "-.", "+.", "1..2", "1.2.3", "..", "1.5x", "x1", "1-",
                         "--1", "1 2", "+-1", "1.e", "1.2-", "-1-"])), None


@pytest.mark.parametrize("crlf", [False, True])
def test_float_batches_of_eight_against_float(tmp_path, simd_level, crlf):
    """The AVX-512 float64 loop takes eight rows at a time (w / 10^k by one vector division)
    and hands the ones it cannot parse to the one-field loop: every mix of its shape, longer
    numbers, other spellings, missing and bad fields in a batch, as the first field, a middle
    one and the last, short rows, at several block sizes and thread counts: bit for bit what
    float() gives (the sign of zero included), and exactly the rows with a bad field
    skipped."""
    bio = csv_api()
    path, want = _batch_file(tmp_path, np.random.default_rng(31 + crlf), _float_batch_text,
                             math.nan, "1..2", crlf)
    dtypes = {"x": "float64", "p": "str", "m": "float64", "y": "float64"}

    for bs, nt, cols in ((None, 1, None), (None, 2, None), (509, 2, None), (4096, 1, None),
                         (None, 1, ["x", "m", "y"]), (509, 2, ["x", "m", "y"])):
        df = bio.read_csv(path, dtypes=dtypes, n_threads=nt, on_bad_lines="skip", columns=cols,
                          **bs_kw(bs))
        assert df.index.tolist() == [w[0] for w in want], (bs, nt)
        for j, c in ((1, "x"), (2, "m"), (3, "y")):
            np.testing.assert_array_equal(_bits(df[c].to_numpy()), _bits([w[j] for w in want]),
                                          err_msg=f"{c} {bs} {nt}")


def _long_decimals(r, n):
    """n decimal texts of 15-18 significant digits for the 32-byte float batches: repr() of
    random doubles over 30 orders of magnitude, random 16-18-digit decimals, and the hard cases
    of correct rounding: exact halfway points between two doubles that take 17 or 18 digits
    (x.5 in [2^52, 2^53), x.25 and x.75 in [2^51, 2^52): ties, to even) and the decimals one
    unit of the last digit either side of them."""
    out = []
    for _ in range(n):
        k = r.random()
        if k < 0.35:
            d = float(r.uniform(1, 10)) * 10.0 ** int(r.integers(-12, 14))
            out.append(repr(d if r.random() < 0.7 else -d))
        elif k < 0.6:
            nd = int(r.integers(16, 19))
            digits = "".join(r.choice(list("0123456789"), nd))
            ki = int(r.integers(1, min(nd, 9)))
            out.append(("-" if r.random() < 0.3 else "") + digits[:ki] + "." + digits[ki:])
        else:
            u = r.random()
            if u < 0.1:  # below a power of two the halfway point is a quarter of an ulp
                t = str(r.choice(["4503599627370495.75", "2251799813685247.75",
                                  "4503599627370495.25", "2251799813685247.875"]))
            elif u < 0.55:
                m = int(r.integers(2**52, 2**53 - 1))
                t = f"{m}.5"
            else:
                m = int(r.integers(2**51, 2**52 - 1))
                t = f"{m}.{r.choice(['25', '75'])}"
            w, f = t.split(".")
            v = int(w + f) + int(r.choice([-1, 0, 0, 1]))  # a tie or its neighbours
            t = f"{str(v)[:-len(f)]}.{str(v)[-len(f):]}"
            out.append(t)
    return out


def test_float_long_batches_bitwise_equal_to_python_float(tmp_path, simd_level):
    """The 32-byte float batches (fields of up to 18 digits: w / 10^k by a division with its
    remainder, rows near a halfway point handed to the one-field loop): columns of long
    decimals only (so the batches take them), with a short one and a missing one now and then,
    as the first, a middle and the last field: bit for bit what float() gives, ties included,
    at several block sizes and thread counts."""
    bio = csv_api()
    r = np.random.default_rng(41)
    n = 8000
    cols = [_long_decimals(r, n) for _ in range(3)]
    for c in cols:
        for i in r.choice(n, 80, replace=False):
            c[i] = str(r.choice(["", "1.5", "-0.0", "7", "1e300", "0.000000000000000001"]))
    data = "a,b,c\n" + "\n".join(",".join(row) for row in zip(*cols)) + "\n"
    path = write(tmp_path, data.encode())
    want = {k: np.array([float(t) if t else math.nan for t in c]) for k, c in zip("abc", cols)}
    for bs, nt in ((None, 1), (None, 2), (777, 2)):
        df = bio.read_csv(path, dtypes={k: "float64" for k in "abc"}, n_threads=nt, **bs_kw(bs))
        for k in "abc":
            got = df[k].to_numpy()
            same = (got.view(np.uint64) == want[k].view(np.uint64)) | (
                np.isnan(got) & np.isnan(want[k]))
            assert same.all(), (k, bs, nt, [cols["abc".index(k)][i] for i in
                                            np.flatnonzero(~same)[:5]])


def test_float_column_of_integers_and_decimals_in_runs(tmp_path, simd_level):
    """A float column whose fields are integers for a while, then decimals, then integers (a
    column of ints with missing values is float64): the loop tries first the shape that took
    the previous field; every switch, "-0", 16-digit integers and missing values between them
    give float()'s bits."""
    bio = csv_api()
    r = np.random.default_rng(17)
    texts = []
    for run in range(300):
        n = int(r.integers(1, 12))
        for _ in range(n):
            k = int(r.integers(1, 17))
            v = "".join(r.choice(list("0123456789"), k))
            sign = "-" if r.random() < 0.3 else ""
            if run % 2:
                v = v[: max(1, k // 2)] + "." + (v[k // 2:] or "5")
            texts.append(sign + v)
        if r.random() < 0.2:
            texts.append("")
    texts += ["-0", "0", "-0.0", "1234567890123456", "-9007199254740993"]
    path = write(tmp_path, ("a,x\n" + "\n".join(f"{i % 10},{t}" for i, t in enumerate(texts))
                            + "\n").encode())
    got = bio.read_csv(path, dtypes={"a": "int64", "x": "float64"})["x"].to_numpy()
    want = np.array([float(t) if t else np.nan for t in texts])
    assert np.array_equal(got.view(np.uint64), want.view(np.uint64)), \
        [(t, g, w) for t, g, w in zip(texts, got, want) if np.float64(g).view(np.uint64)
         != np.float64(w).view(np.uint64)][:5]


def test_float_fast_path_next_to_other_fields(tmp_path, simd_level):
    """The float fast path reads the 32 bytes before a field: numbers of every plain shape
    (1..9 integer and 1..18 fraction digits, signs) after text fields of every length (quoted,
    non-ASCII, digits and dots that look like part of a number), and other shapes (exponents,
    blanks, no fraction, quoted numbers) that must take the general path: same bits as float()."""
    bio = csv_api()
    r = np.random.default_rng(11)
    digits = list("0123456789")
    rows, want = [], []
    for i in range(4000):
        ki, kf = int(r.integers(1, 10)), int(r.integers(1, 19))
        t = ("-" if r.random() < 0.4 else "+" if r.random() < 0.05 else "") + \
            "".join(r.choice(digits, ki)) + "." + "".join(r.choice(digits, kf))
        k = r.random()
        if k < 0.05:
            t += "e" + str(int(r.integers(-9, 9)))
        elif k < 0.08:
            t = " " + t
        elif k < 0.10:
            t = t.split(".")[0]
        elif k < 0.12:
            t = "." + t.split(".")[1]
        want.append(float(t))
        if r.random() < 0.05:
            t = f'"{t}"'
        pre = "".join(r.choice(list("0123456789.-é\"x"), int(r.integers(0, 40))))
        pre = '"' + pre.replace('"', '""') + '"'
        rows.append(f"{pre},{t}")
    path = write(tmp_path, ("a,x\n" + "\n".join(rows) + "\n").encode())
    for bs, nt in ((None, 1), (4093, 3)):
        got = bio.read_csv(path, dtypes={"a": "str", "x": "float64"}, n_threads=nt,
                           **bs_kw(bs))["x"].to_numpy()
        mism = [(t, g, w) for t, g, w in zip(rows, got, want)
                if np.float64(g).view(np.uint64) != np.float64(w).view(np.uint64)]
        assert not mism, mism[:5]


def _iso_ref(text: str):
    """Reference for the fixed ISO 8601 shape 'YYYY-MM-DD?HH:MM:SS[Z]' (? = T, t or a space):
    ns since the epoch, or None when the text is not a valid timestamp of that shape in
    datetime64[ns]'s years."""
    import calendar
    import re

    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})[Zz]?",
                     text.strip(" \t"))
    if not m:
        return None
    y, mo, d, h, mi, s = map(int, m.groups())
    if not (1 <= mo <= 12 and 1 <= d <= calendar.monthrange(y or 4, mo)[1] if 1 <= mo <= 12
            else False) or h > 23 or mi > 59 or s > 59 or not 1677 <= y <= 2262:
        return None
    days = (np.datetime64(f"{y:04d}-{mo:02d}-{d:02d}") - np.datetime64("1970-01-01")).astype(int)
    secs = int(days) * 86400 + h * 3600 + mi * 60 + s
    if not -9223372036 < secs < 9223372036:
        return None
    return secs * 10**9


@SETTINGS
@given(parts=st.lists(st.tuples(
    st.integers(1600, 2300), st.integers(0, 13), st.integers(0, 32), st.integers(0, 25),
    st.integers(0, 61), st.integers(0, 61), st.sampled_from("Tt -"), st.sampled_from(("", "Z", "z")),
    st.one_of(st.none(), st.tuples(st.integers(0, 19), st.sampled_from("x/ 9")))),
    min_size=1, max_size=30))
def test_iso_timestamps_fixed_shape_match_reference(tmp_path_factory, parts):
    """The converter's fixed-shape ISO path (and the general parser behind it): valid and
    invalid dates, times and separators, and one byte spoiled at any place (not into '-' or
    ':', which can make another valid ISO form, an offset); a value that is not a timestamp is
    a bad row (skipped), every other one the reference's instant."""
    bio = csv_api()
    texts = []
    for y, mo, d, h, mi, s, sep, z, spoil in parts:
        t = f"{y:04d}-{mo:02d}-{d:02d}{sep}{h:02d}:{mi:02d}:{s:02d}{z}"
        if spoil is not None and spoil[0] < len(t):
            t = t[:spoil[0]] + spoil[1] + t[spoil[0] + 1:]
        texts.append(t)
    from blockops import _config

    path = write(tmp_path_factory.mktemp("iso"), ("t\n" + "\n".join(texts) + "\n").encode())
    want = [(i, _iso_ref(t)) for i, t in enumerate(texts)]
    for level in _config.supported_simd_levels():  # the column loops' builds
        with _config.simd_level(level):
            df = bio.read_csv(path, dtypes={"t": "datetime:iso"}, on_bad_lines="skip")
        assert df.index.tolist() == [i for i, v in want if v is not None], (level, texts)
        assert df["t"].to_numpy().view(np.int64).tolist() == \
            [v for _, v in want if v is not None], level


def test_iso_timestamps_edges_and_missing_values(tmp_path, simd_level):
    """Leap days, the first and last instants of datetime64[ns] (years 1677 and 2262: in range
    and one second out), next to other fields; a missing-value string of the fixed shape is
    missing, not a timestamp."""
    bio = csv_api()
    texts = ["1900-02-29T00:00:00", "2000-02-29T00:00:00", "2024-02-29 23:59:59Z",
             "2023-02-29T00:00:00", "1677-09-21T00:12:44Z", "1677-09-21T00:12:43Z",
             "2262-04-11T23:47:16", "2262-04-11T23:47:17", "1676-12-31T23:59:59",
             "2013-01-01T10:00:00Z", "2013-01-01t10:00:00z", "2013-12-31T24:00:00"] * 3
    rows = [f"{'9' * (i % 7)},{t}" for i, t in enumerate(texts)]
    path = write(tmp_path, ("a,t\n" + "\n".join(rows) + "\n").encode())
    df = bio.read_csv(path, dtypes={"a": "str", "t": "datetime:iso"}, on_bad_lines="skip")
    want = [(i, _iso_ref(t)) for i, t in enumerate(texts)]
    assert df.index.tolist() == [i for i, v in want if v is not None]
    assert df["t"].to_numpy().view(np.int64).tolist() == [v for _, v in want if v is not None]
    df = bio.read_csv(path, dtypes={"a": "str", "t": "datetime:iso"}, on_bad_lines="skip",
                      na_values=["2013-01-01T10:00:00Z"], keep_default_na=False)
    t = df["t"]
    assert t.isna().sum() == 3 and texts.index("2013-01-01T10:00:00Z") in t[t.isna()].index
