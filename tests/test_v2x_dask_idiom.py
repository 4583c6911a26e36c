"""``ddf.map_partitions(blockops.v2x.op)`` without ``meta=``, Dask's usual idiom: Dask infers
the meta by running the operator on two rows of made-up values, which the operators recognise
and answer with their real meta (their output on zero rows)."""
from __future__ import annotations

import pandas as pd
import pytest

import blockops.v2x as v2x
from blockops.v2x import ops as _ops

dd = pytest.importorskip("dask.dataframe")
from csv_util import BSM_SAMPLE  # noqa: E402  (after the importorskip)

CENTER = dict(center_lat=41.1, center_lon=-104.8, radius_m=200_000)
ORIGIN = dict(origin_lat=41.1, origin_lon=-104.8)


@pytest.fixture(scope="module")
def sample():
    return pd.read_csv(BSM_SAMPLE)


@pytest.fixture(autouse=True)
def keep_strings():
    """Dask would make the input's str columns string[pyarrow] (NA semantics): keep pandas' own,
    so the Dask result can be compared with the pandas one column for column."""
    import dask

    with dask.config.set({"dataframe.convert-string": False}):
        yield


def test_map_partitions_without_meta_equals_pandas(sample):
    ddf = dd.from_pandas(sample, npartitions=3)
    lazy = (ddf.map_partitions(v2x.clean)
               .map_partitions(v2x.filter_radius, **CENTER)
               .map_partitions(v2x.project_xy, **ORIGIN)
               .map_partitions(v2x.timestamp_parts))
    eager = v2x.timestamp_parts(v2x.project_xy(v2x.filter_radius(v2x.clean(sample), **CENTER),
                                               **ORIGIN))
    assert len(eager) > 100
    assert lazy.dtypes.to_dict() == eager.dtypes.to_dict()
    pd.testing.assert_frame_equal(lazy.compute(), eager)


def test_meta_is_the_operators_own(sample):
    ddf = dd.from_pandas(sample, npartitions=2)
    lazy = ddf.map_partitions(v2x.clean)
    assert len(lazy._meta) == 0
    pd.testing.assert_frame_equal(lazy._meta, v2x.meta(v2x.clean, sample.iloc[:0]))


def test_a_real_two_row_frame_is_not_mistaken_for_dasks(sample):
    two = sample.iloc[:2]
    assert not _ops._is_dask_fake(two)
    assert len(v2x.clean(two)) == len(two.dropna(subset=list(v2x.clean(two).columns[:-2])))
    bad = two.copy()
    bad["coreData_position"] = "a"  # Dask's fake string, in a real frame: still an error
    with pytest.raises(ValueError, match="POINT"):
        v2x.clean(bad)
