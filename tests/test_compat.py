"""The fallbacks that make blockops work on its oldest declared versions (Python 3.10, pandas
2.1, pyarrow 14), forced in-process on whatever versions run the tests, so that the newest-deps
run checks them too. CI's matrix runs the whole package on the oldest versions as well."""
from __future__ import annotations

import io
import sys

import numpy as np
import pandas as pd
import pytest

from csv_util import csv_api, write

from blockops import _compat
from blockops.synth import BLOCK_ROWS, _csv_rows_writer, write_bsm_csv

pa = pytest.importorskip("pyarrow")
pcsv = pytest.importorskip("pyarrow.csv")

TOML = ('[input]\npath = "in.csv"\nblocksize = "1MB"\n[output]\ndir = "o"\n'
        '[attackers]\nmethod = "hash"\nratio = 0.25\n')


# ------------------------------------------------------------------ TOML without tomllib (3.10)

@pytest.fixture
def no_tomllib(monkeypatch):
    """Python 3.10: ``import tomllib`` fails (None in sys.modules makes the import fail)."""
    pytest.importorskip("tomli", reason="tomli is installed with blockops[test]")
    monkeypatch.setitem(sys.modules, "tomllib", None)
    with pytest.raises(ModuleNotFoundError):
        import tomllib  # noqa: F401


def test_toml_module_falls_back_to_tomli(no_tomllib):
    import tomli

    assert _compat.toml_module() is tomli


def test_pipeline_config_reads_toml_through_tomli(tmp_path, no_tomllib):
    from blockops.v2x.pipeline import PipelineConfig

    (tmp_path / "in.csv").write_bytes(b"")
    (tmp_path / "run.toml").write_text(TOML)
    cfg = PipelineConfig.from_toml(tmp_path / "run.toml")
    assert cfg["input"]["path"] == str(tmp_path / "in.csv")
    assert cfg["input"]["blocksize"] == "1MB"
    assert cfg["attackers"]["ratio"] == 0.25
    (tmp_path / "bad.toml").write_text("[input\n")
    with pytest.raises(ValueError, match="invalid TOML"):
        PipelineConfig.from_toml(tmp_path / "bad.toml")


# --------------------------------------------------- CSV line terminator without eol= (pyarrow < 22)

def _no_eol(monkeypatch):
    """pyarrow < 22: ``WriteOptions`` has no ``eol=`` and every line ends with "\\n"."""
    real = pcsv.WriteOptions

    def write_options(*args, eol=None, **kw):
        if eol is not None:
            raise TypeError("__init__() got an unexpected keyword argument 'eol'")
        return real(*args, **kw)

    monkeypatch.setattr(pcsv, "WriteOptions", write_options)


def _has_eol() -> bool:
    try:
        pcsv.WriteOptions(eol="\r\n")
    except TypeError:
        return False
    return True


@pytest.mark.parametrize("fallback", [False, True], ids=["this-pyarrow", "no-eol"])
@pytest.mark.parametrize("eol", ["\r\n", "\n"])
def test_rows_writer_bytes(monkeypatch, fallback, eol):
    if fallback:
        _no_eol(monkeypatch)
    elif not _has_eol():
        pytest.skip(f"pyarrow {pa.__version__} has no WriteOptions(eol=)")
    n = 2 * BLOCK_ROWS + 3  # three record batches, the last one short
    s = [f"v{i}" if i % 5 else None for i in range(n)]
    t = pa.table({"s": pa.array(s, pa.string()), "i": pa.array(range(n), pa.int64())})
    f = io.BytesIO()
    _csv_rows_writer(eol, pa, pcsv)(t, f)
    want = "".join(f"{'' if v is None else v},{i}{eol}" for i, v in enumerate(s)).encode()
    assert f.getvalue() == want


@pytest.mark.skipif(not _has_eol(), reason="this pyarrow has no WriteOptions(eol=) to compare with")
@pytest.mark.parametrize("eol", ["\r\n", "\n"])
def test_synth_file_same_bytes_without_eol(tmp_path, monkeypatch, eol):
    kw = dict(rows=BLOCK_ROWS + 77, seed=5, null_fraction=0.02, line_terminator=eol,
              batch_rows=BLOCK_ROWS)
    native = write_bsm_csv(tmp_path / "native.csv", **kw)
    _no_eol(monkeypatch)
    fallback = write_bsm_csv(tmp_path / "fallback.csv", **kw)
    assert (tmp_path / "native.csv").read_bytes() == (tmp_path / "fallback.csv").read_bytes()
    assert native.nbytes == fallback.nbytes and native.rows == fallback.rows == BLOCK_ROWS + 77


def test_synth_crlf_without_eol(tmp_path, monkeypatch):
    """Every line of the default (CRLF) file ends in CRLF through the fallback too."""
    _no_eol(monkeypatch)
    p = tmp_path / "bsm.csv"
    res = write_bsm_csv(p, rows=1000, seed=2)
    data = p.read_bytes()
    assert res.nbytes == len(data)
    assert data.count(b"\n") == data.count(b"\r\n") == 1001 and data.endswith(b"\r\n")


# ------------------------------------------------------- string dtype (pandas 2.1 and 2.2 spelling)

def test_str_dtype_is_arrow_strings_with_nan():
    dt = _compat.str_dtype()
    assert isinstance(dt, pd.StringDtype)
    assert dt.storage in ("pyarrow", "pyarrow_numpy")
    assert dt.na_value is np.nan
    s = pd.Series(["a", None, "c"], dtype=dt)
    assert s.isna().tolist() == [False, True, False]
    assert s[1] is np.nan


def test_str_dtype_spelling_before_pandas_2_3(monkeypatch):
    """pandas 2.1 / 2.2 reject na_value=; the same dtype is then StringDtype("pyarrow_numpy")."""
    asked = []

    class OldStringDtype:
        def __init__(self, storage=None):  # no na_value= before pandas 2.3
            asked.append(storage)

    monkeypatch.setattr(pd, "StringDtype", OldStringDtype)
    _compat.str_dtype.cache_clear()
    try:
        assert isinstance(_compat.str_dtype(), OldStringDtype)
        assert asked == ["pyarrow_numpy"]
    finally:
        monkeypatch.undo()
        _compat.str_dtype.cache_clear()


@pytest.mark.parametrize("blocksize", [16, None])
def test_read_csv_string_columns(tmp_path, blocksize):
    """String columns (with missing values, and empty files) come back in the str dtype."""
    bio = csv_api()
    kw = {} if blocksize is None else {"blocksize": blocksize}
    path = write(tmp_path, b"s,t,x\nab,,1\n,q,2\nc\xc3\xa9,r,3\n")
    df = bio.read_csv(path, dtypes={"s": "str", "t": "str", "x": "int64"}, **kw)
    assert df["s"].dtype == df["t"].dtype == _compat.str_dtype()
    assert df["s"].tolist()[0] == "ab" and df["s"].tolist()[2] == "cé"
    assert df["s"].isna().tolist() == [False, True, False]
    assert df["t"].isna().tolist() == [True, False, False]
    assert df["x"].tolist() == [1, 2, 3]
    empty = bio.read_csv(write(tmp_path, b"s,x\n", "empty.csv"), dtypes={"s": "str"}, **kw)
    assert len(empty) == 0 and empty["s"].dtype == _compat.str_dtype()
    cat = bio.read_csv(path, dtypes={"s": "category"}, **kw)
    assert cat["s"].dtype == "category" and cat["s"].isna().tolist() == [False, True, False]
