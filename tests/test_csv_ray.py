"""``blockops.ray.read_csv``: a Ray Dataset (custom Datasource) equal to ``blockops.io.read_csv``
for byte ranges that cut through quoted newlines, any number of read tasks, projections and the
BSM converters; bad rows raise with file and line; on a local Ray instance (worker processes, so
the datasource and its read tasks pickle)."""
from __future__ import annotations

import importlib.util

import numpy as np
import pandas as pd
import pytest

from csv_util import BSM_SAMPLE, assert_frames_identical, write

# skipped where Ray is not installed (it is in blockops[test]); an installed Ray whose import
# fails (e.g. a dependency Ray does not declare) is an error, not a skip
if importlib.util.find_spec("ray") is None:
    pytest.skip("ray is not installed (pip install \"blockops[ray]\")", allow_module_level=True)
import ray  # noqa: E402
import ray.data  # noqa: E402


@pytest.fixture(scope="module")
def ray_local():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             ignore_reinit_error=True)
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    yield
    ray.shutdown()


def _quoted_newline_file(n=300):
    rows = []
    for i in range(n):
        note = f'"line {i}\nnext, ""quoted""\r\nend"' if i % 3 == 0 else f"plain{i}"
        rows.append(f"{i},{i * 0.25!r},{note}")
    return ("id,x,note\n" + "\n".join(rows) + "\n").encode()


def _as_eager(ds, want: pd.DataFrame, row_column="__row__") -> pd.DataFrame:
    """Ray's pandas conversion in file order, with the eager reader's index and dtypes (Ray
    hands strings back as ``large_string[pyarrow]``; the values are what is compared)."""
    got = ds.to_pandas().sort_values(row_column)
    got.index = pd.Index(got.pop(row_column).to_numpy(np.int64))
    assert list(got.columns) == list(want.columns)
    return got.astype(want.dtypes.to_dict())


def test_equals_eager_reader_across_ranges_and_task_counts(ray_local, tmp_path):
    import blockops.io as bio
    import blockops.ray as bray

    path = write(tmp_path, _quoted_newline_file())
    dtypes = {"id": "int64", "x": "float64", "note": "str"}
    want = bio.read_csv(path, dtypes=dtypes)
    for blocksize, tasks in ((700, None), (700, 1), (2000, 3)):
        ds = bray.read_csv(path, blocksize=blocksize, dtypes=dtypes, override_num_blocks=tasks)
        assert_frames_identical(_as_eager(ds, want), want, msg=f"bs={blocksize} tasks={tasks}")


def test_bsm_sample_with_converters_and_projection(ray_local):
    import blockops.io as bio
    import blockops.ray as bray

    cols = ["coreData_id", "coreData_position", "metadata_generatedAt", "coreData_speed"]
    dtypes = {"coreData_id": "hex", "coreData_position": "wkt_point:x_pos,y_pos",
              "metadata_generatedAt": "datetime:%m/%d/%Y %I:%M:%S %p"}
    want = bio.read_csv(BSM_SAMPLE, columns=cols, dtypes=dtypes, on_bad_lines="skip")
    ds = bray.read_csv(BSM_SAMPLE, blocksize="200KB", columns=cols, dtypes=dtypes,
                       on_bad_lines="skip")
    assert ds.schema().names == list(want.columns) + ["__row__"]
    assert_frames_identical(_as_eager(ds, want), want)
    assert ds.count() == len(want)
    plain = bray.read_csv(BSM_SAMPLE, columns=cols, dtypes=dtypes, on_bad_lines="skip",
                          row_column=None)
    assert "__row__" not in plain.schema().names


def test_bad_row_raises_with_file_and_line(ray_local, tmp_path):
    import blockops.ray as bray

    rows = "".join(f"{i},{i}.5\n" for i in range(200))
    path = write(tmp_path, ("a,b\n" + rows + "7,not-a-number\n" + rows).encode())
    ds = bray.read_csv(path, blocksize=512, dtypes={"a": "int64", "b": "float64"})
    with pytest.raises(Exception) as ei:
        ds.to_pandas()
    text = str(ei.value)
    assert "line 202" in text and "not-a-number" in text and path in text
    ok = bray.read_csv(path, blocksize=512, dtypes={"a": "int64", "b": "float64"},
                       on_bad_lines="skip")
    assert ok.count() == 400


def test_paths_only(ray_local):
    import io

    import blockops.ray as bray

    with pytest.raises(TypeError, match="paths"):
        bray.read_csv(io.BytesIO(b"a\n1\n"))


def test_compressed_files_one_range_each(ray_local, tmp_path):
    import gzip
    import lzma

    import blockops.io as bio
    import blockops.ray as bray

    data = _quoted_newline_file()
    dtypes = {"id": "int64", "x": "float64", "note": "str"}
    want = bio.read_csv(write(tmp_path, data), dtypes=dtypes)
    (tmp_path / "a.csv.gz").write_bytes(gzip.compress(data))
    (tmp_path / "b.csv.xz").write_bytes(lzma.compress(data))
    ds = bray.read_csv([str(tmp_path / "a.csv.gz"), str(tmp_path / "b.csv.xz")], blocksize=700,
                       dtypes=dtypes)
    got = ds.to_pandas().sort_values("__row__")
    got.index = pd.Index(got.pop("__row__").to_numpy(np.int64))
    # each file is one range; the rows are counted on the driver, so row_column is global
    both = bio.read_csv([str(tmp_path / "a.csv.gz"), str(tmp_path / "b.csv.xz")], dtypes=dtypes)
    assert len(both) == 2 * len(want)
    assert_frames_identical(got.astype(want.dtypes.to_dict()), both, msg="ray compressed")


def test_remote_file_split_by_ray_tasks(ray_local, tmp_path):
    """A file over HTTP (a Range-serving server on 127.0.0.1): its scan tasks and read tasks
    run on Ray's worker processes by ranged reads; the rows, values and global row numbers
    are the local file's."""
    pytest.importorskip("aiohttp")
    import http.server
    import threading

    import blockops.io as bio
    import blockops.ray as bray
    from test_csv_remote import _RangeHandler

    path = write(tmp_path, _quoted_newline_file(2000))
    dtypes = {"id": "int64", "x": "float64", "note": "str"}
    want = bio.read_csv(path, dtypes=dtypes)

    class Handler(_RangeHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(tmp_path), **kw)

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{srv.server_address[1]}/{path.rsplit('/', 1)[-1]}"
        ds = bray.read_csv(url, blocksize=3000, dtypes=dtypes, override_num_blocks=3)
        assert_frames_identical(_as_eager(ds, want), want, msg="ray over http")
        # the plan it read: many ranges (the file is ~60 KB), numbered globally
        from blockops.dask import _plan_read

        *_, parts, total = _plan_read(url, 3000, None, dtypes, {}, run=bray._run_on_ray)
        assert len(parts) > 10 and total == len(want)
        assert [p[3] for p in parts] == sorted({p[3] for p in parts}) and parts[0][3] == 0
    finally:
        srv.shutdown()
        srv.server_close()
