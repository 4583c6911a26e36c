"""The shared Basic Safety Message sample (../shared/data/bsm/sample_10k.csv, 19 columns):
all columns against pandas, projection, and the BSM converters (wkt_point, hex, datetime)
against plain-Python parsing of the same text."""
from __future__ import annotations

import io
import os
import re

import numpy as np
import pandas as pd
import pytest

from csv_util import BSM_SAMPLE, assert_frames_identical, bs_kw, csv_api, write
from reference import csv_ref as R

pytestmark = pytest.mark.skipif(
    not os.path.exists(BSM_SAMPLE),
    reason=f"shared BSM sample not found at {BSM_SAMPLE} (../shared/data/bsm/ from the repo root)")

DT_FMT = "%m/%d/%Y %I:%M:%S %p"
POINT_RE = re.compile(r"^\s*POINT\s*\(\s*(\S+)\s+(\S+)\s*\)\s*$", re.I)
BSM_DTYPES = {
    "metadata_generatedAt": f"datetime:{DT_FMT}",
    "metadata_receivedAt": f"datetime:{DT_FMT}",
    "metadata_recordType": "category",
    "metadata_serialId_streamId": "hex",
    "coreData_id": "hex",
    "coreData_position": "wkt_point:pos_lon,pos_lat",  # default names clash with the file's
    "coreData_heading": "int32",
    "coreData_speed": "float32",
}


@pytest.fixture(scope="module")
def raw():
    with open(BSM_SAMPLE, "rb") as fh:
        return fh.read()


@pytest.fixture(scope="module")
def text(raw):
    """Every column as text, by pandas."""
    return pd.read_csv(io.BytesIO(raw), dtype=str, keep_default_na=False)


def test_all_columns_inferred_match_pandas(raw):
    bio = csv_api()
    want = R.pandas_read_csv(io.BytesIO(raw))
    got = bio.read_csv(BSM_SAMPLE)  # default blocksize: the whole sample is the first block
    assert list(got.columns) == list(want.columns)
    assert_frames_identical(got, want)


@pytest.mark.parametrize("bs,nt", [(None, 1), (None, 2), ("64KB", 1), ("64KB", 2),
                                   ("64KB", 3), (100_003, 3), ("1MiB", 2)])
def test_all_columns_typed_identical_for_every_blocksize(raw, bs, nt):
    bio = csv_api()
    dt = dict(BSM_DTYPES)
    dt.update({c: "str" for c in ("metadata_serialId_bundleId",)})
    base = bio.read_csv(BSM_SAMPLE, dtypes=dt, n_threads=1)
    got = bio.read_csv(BSM_SAMPLE, dtypes=dt, n_threads=nt, **bs_kw(bs))
    assert_frames_identical(got, base, msg=f"blocksize={bs} n_threads={nt}")
    assert isinstance(got.index, pd.RangeIndex) and len(got) == 10_000


def test_converters_against_python(text):
    bio = csv_api()
    got = bio.read_csv(BSM_SAMPLE, dtypes=BSM_DTYPES, n_threads=2, blocksize="256KB")
    # wkt_point -> <col>_lon, <col>_lat at the position of the column
    cols = list(got.columns)
    i = list(text.columns).index("coreData_position")
    assert cols[i:i + 2] == ["pos_lon", "pos_lat"]
    assert "coreData_position" not in cols
    m = text["coreData_position"].str.extract(POINT_RE)
    lon = np.array([float(s) for s in m[0]])
    lat = np.array([float(s) for s in m[1]])
    np.testing.assert_array_equal(R.float_bits(got["pos_lon"].to_numpy()), R.float_bits(lon))
    np.testing.assert_array_equal(R.float_bits(got["pos_lat"].to_numpy()), R.float_bits(lat))
    # the WKT point and the separate lat/long columns hold the same doubles in this sample
    np.testing.assert_array_equal(got["pos_lat"].to_numpy(),
                                  np.array([float(s) for s in text["coreData_position_lat"]]))
    # hex -> uint64
    for c in ("coreData_id", "metadata_serialId_streamId"):
        assert got[c].dtype == np.uint64
        assert got[c].tolist() == [int(s, 16) for s in text[c]]
    # datetime:%m/%d/%Y %I:%M:%S %p -> datetime64[ns]
    for c in ("metadata_generatedAt", "metadata_receivedAt"):
        want = pd.to_datetime(text[c], format=DT_FMT)
        assert got[c].dtype == np.dtype("datetime64[ns]")
        np.testing.assert_array_equal(got[c].to_numpy(), want.to_numpy().astype("datetime64[ns]"))
    assert got["coreData_heading"].dtype == np.int32
    assert got["coreData_heading"].tolist() == [int(s) for s in text["coreData_heading"]]
    np.testing.assert_array_equal(got["coreData_speed"].to_numpy(),
                                  np.array([float(s) for s in text["coreData_speed"]],
                                           dtype=np.float64).astype(np.float32))
    assert isinstance(got["metadata_recordType"].dtype, pd.CategoricalDtype)
    assert set(got["metadata_recordType"].astype(str)) == set(text["metadata_recordType"])


def test_projection_by_name_and_position_and_rename(text):
    bio = csv_api()
    names = list(text.columns)
    full = bio.read_csv(BSM_SAMPLE, dtypes=BSM_DTYPES)
    by_name = bio.read_csv(BSM_SAMPLE, columns=["coreData_speed", "coreData_id",
                                                "coreData_position"], dtypes=BSM_DTYPES,
                           blocksize="100KB", n_threads=2)
    assert list(by_name.columns) == ["coreData_speed", "coreData_id", "pos_lon", "pos_lat"]
    assert_frames_identical(by_name, full[list(by_name.columns)])
    pos = [names.index("coreData_heading"), names.index("metadata_generatedAt"), 10]
    by_pos = bio.read_csv(BSM_SAMPLE, columns=pos, dtypes=BSM_DTYPES, blocksize="100KB")
    assert list(by_pos.columns) == ["coreData_heading", "metadata_generatedAt", names[10]]
    assert_frames_identical(by_pos, full[list(by_pos.columns)])
    ren = bio.read_csv(BSM_SAMPLE, columns=["coreData_position"],
                       dtypes={"coreData_position": "wkt_point"},
                       rename={"coreData_position_lon": "x_pos", "coreData_position_lat": "y_pos"})
    assert list(ren.columns) == ["x_pos", "y_pos"]
    np.testing.assert_array_equal(ren["x_pos"].to_numpy(), full["pos_lon"].to_numpy())


def test_wkt_default_names_clash_with_existing_column():
    bio = csv_api()
    with pytest.raises(ValueError, match="coreData_position_lat.*wkt_point:LON,LAT"):
        bio.read_csv(BSM_SAMPLE, dtypes={"coreData_position": "wkt_point"})


def test_converter_edge_cases(tmp_path):
    """wkt_point spacing/case/EMPTY/NA, hex with 0x and trailing .0, datetime 12 AM/PM, ISO."""
    bio = csv_api()
    bo = __import__("blockops")
    data = (b"p,h,t,iso\n"
            b"POINT (1.5 -2.25),CB950124,04/06/2021 12:00:00 AM,2021-04-06T10:00:00\n"
            b"point(-105.9 41.2),0xff,04/06/2021 12:30:15 PM,2021-04-06 10:00\n"
            b"\"POINT  (  3e1   4E-1 )\",12.0,12/31/1999 11:59:59 PM,2021-04-06T10:00:00.5Z\n"
            b"POINT EMPTY,0,01/01/2000 01:02:03 AM,2021-04-06T10:00:00+05:30\n"
            b",FFFFFFFFFFFFFFFF,,\n")
    path = write(tmp_path, data)
    dt = {"p": "wkt_point", "h": "hex", "t": f"datetime:{DT_FMT}", "iso": "datetime:iso"}
    for bs in (1, None):
        got = bio.read_csv(path, dtypes=dt, **bs_kw(bs))
        assert list(got.columns) == ["p_lon", "p_lat", "h", "t", "iso"]
        np.testing.assert_array_equal(got["p_lon"].to_numpy(), [1.5, -105.9, 30.0, np.nan, np.nan])
        np.testing.assert_array_equal(got["p_lat"].to_numpy(), [-2.25, 41.2, 0.4, np.nan, np.nan])
        assert got["h"].dtype == np.uint64
        assert got["h"].tolist() == [0xCB950124, 255, 0x12, 0, 2**64 - 1]
        want_t = pd.to_datetime(pd.Series(["2021-04-06 00:00:00", "2021-04-06 12:30:15",
                                           "1999-12-31 23:59:59", "2000-01-01 01:02:03", None]), format="ISO8601")
        np.testing.assert_array_equal(got["t"].to_numpy(), want_t.to_numpy())
        want_iso = pd.to_datetime(pd.Series(["2021-04-06 10:00:00", "2021-04-06 10:00:00",
                                             "2021-04-06 10:00:00.5", "2021-04-06 04:30:00",
                                             None]), format="ISO8601")
        np.testing.assert_array_equal(got["iso"].to_numpy(), want_iso.to_numpy())
    for col, dtype, bad in (("h", "hex", "xyz"), ("h", "hex", "12.5"), ("t", f"datetime:{DT_FMT}",
                            "13/01/2021 01:00:00 AM"), ("t", f"datetime:{DT_FMT}",
                            "04/06/2021 13:00:00 PM"), ("p", "wkt_point", "POINT (1)"),
                            ("p", "wkt_point", '"LINESTRING (1 2, 3 4)"')):
        p = write(tmp_path, f"{col}\nNA\n{bad}\n".encode() if col != "h"
                  else f"{col}\n1\n{bad}\n".encode(), "bad.csv")
        with pytest.raises(bo.CsvParseError) as ei:
            bio.read_csv(p, dtypes={col: dtype})
        assert ei.value.line == 3 and ei.value.column == col, (bad, str(ei.value))
        assert bad.strip('"') in str(ei.value), (bad, str(ei.value))
    # NA in a hex column is an error (uint64 has no NA)
    with pytest.raises(bo.CsvParseError):
        bio.read_csv(write(tmp_path, b"h\n1\nNA\n", "na.csv"), dtypes={"h": "hex"})


def test_sample_prefix_at_tiny_blocksizes(raw, tmp_path):
    """The first 40 rows of the sample at blocksizes down to one byte."""
    bio = csv_api()
    head = b"".join(raw.splitlines(keepends=True)[:41])
    path = write(tmp_path, head)
    base = bio.read_csv(path, dtypes=BSM_DTYPES)
    assert len(base) == 40
    for bs in (1, 2, 3, 7, 64, 1000):
        for nt in (1, 3):
            assert_frames_identical(bio.read_csv(path, dtypes=BSM_DTYPES, blocksize=bs,
                                                 n_threads=nt), base, msg=f"bs={bs} nt={nt}")
