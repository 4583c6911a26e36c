"""blockops._frames.take_rows: the V2X operators' row selection, against its reference
``df[mask]`` (pandas' own boolean indexing) on every kind of column, hostile masks and frames,
and with the gathered columns in pool buffers that earlier selections freed."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from blockops import _core
from blockops._frames import _gather, take_rows


def _frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    f = rng.normal(size=n)
    f[rng.random(n) < 0.1] = np.nan
    ints = rng.integers(-2**62, 2**62, n)
    masked = pd.array(ints, dtype="Int64")
    masked[rng.random(n) < 0.2] = pd.NA
    flo = pd.array(f, dtype="Float64")
    boo = pd.array(rng.random(n) < 0.5, dtype="boolean")
    boo[rng.random(n) < 0.1] = pd.NA
    words = np.array([None if k % 7 == 3 else f"w{k % 13}é" for k in range(n)], dtype=object)
    df = pd.DataFrame({
        "f64": f,
        "f32": f.astype(np.float32),
        "i64": ints,
        "u8": rng.integers(0, 255, n).astype(np.uint8),
        "b": rng.random(n) < 0.3,
        "Int64": masked,
        "Float64": flo,
        "boolean": boo,
        "obj": words,
        "cat": pd.Categorical(rng.choice(["x", "y", "z"], n)),
        "ts": pd.to_datetime(rng.integers(0, 2**40, n), unit="s"),
        "tz": pd.to_datetime(rng.integers(0, 2**40, n), unit="s", utc=True),
        "td": pd.to_timedelta(rng.integers(0, 2**30, n), unit="s"),
    }, index=pd.Index(rng.permutation(n) * 3 + 7, name="row"))
    df["str"] = pd.array(words, dtype="string[pyarrow]")
    try:  # pandas 3's default "str": Arrow-backed, NaN for missing
        df["str_nan"] = pd.array(words, dtype=pd.StringDtype("pyarrow", na_value=np.nan))
    except TypeError:  # pandas < 2.2: no na_value
        pass
    df.attrs["source"] = "test"
    return df


MASKS = {
    "random": lambda n, rng: rng.random(n) < 0.5,
    "none": lambda n, rng: np.zeros(n, bool),
    "all": lambda n, rng: np.ones(n, bool),
    "first": lambda n, rng: np.arange(n) == 0,
    "last": lambda n, rng: np.arange(n) == n - 1,
    "runs": lambda n, rng: (np.arange(n) // 37) % 2 == 0,
}


@pytest.mark.parametrize("n", [0, 1, 2, 33, 1000, 70_000])
@pytest.mark.parametrize("mask_kind", list(MASKS))
def test_take_rows_is_boolean_indexing(n, mask_kind):
    df = _frame(n, seed=n)
    before = df.copy(deep=True)
    mask = MASKS[mask_kind](n, np.random.default_rng(n + 1))
    got = take_rows(df, mask)
    want = df[mask]
    pd.testing.assert_frame_equal(got, want, check_index_type=True, check_column_type=True)
    assert got.attrs == want.attrs
    pd.testing.assert_frame_equal(df, before)  # the input is untouched


def test_take_rows_owns_its_columns():
    """The result's columns are new memory, not views of the input's."""
    df = _frame(100_000, seed=5)
    mask = np.random.default_rng(6).random(len(df)) < 0.6
    got = take_rows(df, mask)
    pd.testing.assert_frame_equal(got, df[mask])
    for name in ("f64", "i64"):
        assert not np.shares_memory(got[name].to_numpy(), df[name].to_numpy())
    assert not np.shares_memory(got["Int64"].array._data, df["Int64"].array._data)
    assert not np.shares_memory(got["Int64"].array._mask, df["Int64"].array._mask)


def test_gather_over_freed_pool_buffers_shows_none_of_their_values():
    """Each round scribbles over its result and frees it into the pool; the next gather of
    the same size gets those pages back and must still equal np.take."""
    rng = np.random.default_rng(7)
    a = rng.normal(size=200_000)
    idx = np.flatnonzero(rng.random(len(a)) < 0.7)
    hits = _core.pool_stats()["hits"]
    for _ in range(4):
        out = _gather(a, idx)
        np.testing.assert_array_equal(out, np.take(a, idx))
        out[:] = -1.0
        del out
    assert _core.pool_stats()["hits"] > hits


def test_take_rows_duplicate_labels_and_multiindex_columns():
    df = pd.DataFrame(np.arange(20.0).reshape(5, 4), columns=["a", "b", "a", "c"])
    mask = np.array([True, False, True, True, False])
    pd.testing.assert_frame_equal(take_rows(df, mask), df[mask])
    df.columns = pd.MultiIndex.from_tuples([("x", 1), ("x", 2), ("y", 1), ("y", 2)])
    pd.testing.assert_frame_equal(take_rows(df, mask), df[mask])


@pytest.mark.parametrize("bad", [np.ones(3, np.int64), np.ones(4, bool), [True, False]])
def test_take_rows_wants_a_bool_mask_of_the_frame_length(bad):
    df = pd.DataFrame({"a": [1.0, 2.0, 3.0]})
    with pytest.raises(ValueError, match="take_rows: expected a bool mask of 3 rows"):
        take_rows(df, bad)


@pytest.mark.parametrize("n", [0, 1, 5, 1000])
@pytest.mark.parametrize("mask_kind", list(MASKS))
def test_take_rows_range_index(n, mask_kind):
    """A block's index (the reader's global row numbers): a RangeIndex."""
    df = _frame(n, seed=n + 2).reset_index(drop=True)
    df.index = pd.RangeIndex(1000, 1000 + n)
    mask = MASKS[mask_kind](n, np.random.default_rng(n + 3))
    pd.testing.assert_frame_equal(take_rows(df, mask), df[mask], check_index_type="equiv")
