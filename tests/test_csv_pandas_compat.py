"""pandas compatibility where users rely on it: header names, header-only and empty files, the
field-count error. pandas is the reference, run on the same bytes."""
from __future__ import annotations

import io

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
