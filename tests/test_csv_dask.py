"""``blockops.dask.read_csv``: equal to ``blockops.io.read_csv`` for every blocksize (including
ones that cut inside quoted newlines), meta, projection, known divisions, and one run on a
``distributed.LocalCluster`` with worker processes (everything handed to workers pickles)."""
from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from csv_util import assert_frames_identical, csv_api, write

dask = pytest.importorskip("dask")
pytest.importorskip("dask.dataframe")


def _bdask():
    import blockops.dask as bdask

    assert hasattr(bdask, "read_csv"), "blockops.dask.read_csv is missing"
    return bdask


def _quoted_newline_file(n=400):
    """Rows whose quoted fields hold newlines, CRLF, delimiters and doubled quotes; every
    blocksize below cuts through some of them."""
    rows = []
    for i in range(n):
        note = f'"line {i}\nnext, ""quoted""\r\nend"' if i % 3 == 0 else f"plain{i}"
        rows.append(f"{i},{i * 0.25!r},{note},{'True' if i % 2 else 'False'}")
    return ("id,x,note,flag\n" + "\n".join(rows) + "\n").encode()


DTYPES = {"id": "int64", "x": "float64", "note": "str", "flag": "bool"}


@pytest.fixture(scope="module")
def qfile(tmp_path_factory):
    return write(tmp_path_factory.mktemp("dask"), _quoted_newline_file())


@pytest.mark.parametrize("blocksize", [37, 101, 1000, 4096, "64MB"])
def test_dask_equals_eager_reader(qfile, blocksize):
    bio = csv_api()
    bdask = _bdask()
    want = bio.read_csv(qfile, dtypes=DTYPES)
    ddf = bdask.read_csv(qfile, blocksize=blocksize, dtypes=DTYPES)
    assert ddf.npartitions >= (1 if blocksize == "64MB" else 2)
    got = ddf.compute(scheduler="sync")
    assert_frames_identical(got, want, msg=f"blocksize={blocksize}")
    # meta: the same columns and dtypes as the computed frame, zero rows
    meta = ddf._meta
    assert len(meta) == 0 and list(meta.columns) == list(want.columns)
    assert meta.dtypes.to_dict() == want.dtypes.to_dict()
    # known divisions: the global row numbers where each partition starts (last = last row)
    assert ddf.known_divisions
    divs = ddf.divisions
    parts = dask.compute(*ddf.to_delayed(), scheduler="sync")
    for i, part in enumerate(parts):
        if len(part):
            assert divs[i] <= part.index.min() and part.index.max() <= divs[i + 1]
            if i + 1 < ddf.npartitions:
                assert part.index.max() < divs[i + 1]
    assert divs[0] == 0 and divs[-1] == len(want) - 1
    assert sum(len(p) for p in parts) == len(want)


def test_dask_meta_without_dtypes_and_projection(qfile):
    bio = csv_api()
    bdask = _bdask()
    for cols in (["note", "id"], [3, 1], ["x"]):
        want = bio.read_csv(qfile, columns=cols, dtypes=DTYPES)
        ddf = bdask.read_csv(qfile, blocksize=500, columns=cols, dtypes=DTYPES)
        assert list(ddf.columns) == list(want.columns)
        assert_frames_identical(ddf.compute(scheduler="sync"), want, msg=str(cols))
        # selecting a column after the fact gives the same data as columns=
        assert_frames_identical(
            bdask.read_csv(qfile, blocksize=500, dtypes=DTYPES)[list(want.columns)]
            .compute(scheduler="sync"), want)
    # inferred types: meta comes from the first block and matches the result
    ddf = bdask.read_csv(qfile, blocksize=100_000)
    got = ddf.compute(scheduler="sync")
    assert ddf._meta.dtypes.to_dict() == got.dtypes.to_dict()


def test_dask_multiple_files_and_wkt(tmp_path):
    bio = csv_api()
    bdask = _bdask()
    paths = [write(tmp_path, b"p,v\n" + b"".join(b'"POINT (%d.5 %d.25)",%d\n' % (i, -i, i)
                                               for i in range(k, k + 50)), f"f{k}.csv")
             for k in (0, 50, 100)]
    dt = {"p": "wkt_point", "v": "int32"}
    for src in (paths, os.path.join(str(tmp_path), "f*.csv")):  # a glob is sorted: f0, f100, f50
        want = bio.read_csv(src, dtypes=dt)
        ddf = bdask.read_csv(src, blocksize=200, dtypes=dt)
        assert list(ddf._meta.columns) == ["p_lon", "p_lat", "v"]
        assert_frames_identical(ddf.compute(scheduler="sync"), want)
        assert ddf.known_divisions and ddf.divisions[-1] == 149


def test_dask_on_local_cluster_with_processes(qfile):
    distributed = pytest.importorskip("distributed")
    bio = csv_api()
    bdask = _bdask()
    want = bio.read_csv(qfile, dtypes=DTYPES)
    with distributed.LocalCluster(processes=True, n_workers=2, threads_per_worker=1,
                                  dashboard_address=None, memory_limit="1GB") as cluster, \
            distributed.Client(cluster) as client:
        ddf = bdask.read_csv(qfile, blocksize=997, dtypes=DTYPES)
        got = client.compute(ddf).result()
        assert_frames_identical(got.sort_index(), want)
        # a map over partitions runs on both workers' processes and sees the same rows
        n = client.compute(ddf.map_partitions(len)).result()
        assert int(np.sum(n)) == len(want)
