"""Staged parts written past the page cache (blockops.v2x._spill): what is read back is what
was written, bit for bit, with O_DIRECT and without it, at sizes that do not end on a block."""
import os

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from blockops.v2x import _spill


def _table(rows: int, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "f": rng.standard_normal(rows),
        "i": pd.array(rng.integers(-5, 5, rows), dtype="Int64"),
        "s": pd.array([None if k % 7 == 0 else "é" * (k % 5) for k in range(rows)],
                      dtype="string[pyarrow]"),
        "b": rng.integers(0, 2, rows).astype(np.int8),
    })
    if rows:
        df.loc[df.index[::11], "i"] = pd.NA
    return pa.Table.from_pandas(df, preserve_index=True)


@pytest.mark.parametrize("direct", [True, False])
@pytest.mark.parametrize("rows", [0, 1, 13, 4_099, 70_001])
def test_write_then_read_gives_the_table_back(tmp_path, monkeypatch, direct, rows):
    if not direct:
        monkeypatch.setattr(_spill, "_open_direct", lambda path: None)
    buffers = _spill.AlignedBuffers()
    t = _table(rows)
    path = str(tmp_path / "part.arrow")
    used = _spill.write_ipc(t, path, buffers)
    if not direct:
        assert used is False
    # the padding to a whole block is cut off: the file is exactly the IPC file
    mock = pa.MockOutputStream()
    with pa.ipc.new_file(mock, t.schema) as w:
        w.write_table(t)
    assert os.path.getsize(path) == mock.size()
    monkeypatch.setattr(_spill, "_PAGE_IN_WINDOW", 64 << 10)  # several windows, a short last
    assert _spill.page_in(path) == mock.size()
    back = _spill.read_ipc(path)
    assert back.equals(t) and back.schema.metadata == t.schema.metadata
    buffers.close()


def test_direct_writes_are_used_where_the_file_system_takes_them(tmp_path):
    """On a file system with O_DIRECT (ext4, xfs: this machine's disk) the direct path is
    taken; tmpfs refuses O_DIRECT at open, which falls back to plain writes."""
    fd = _spill._open_direct(str(tmp_path / "probe"))
    if fd is None:
        pytest.skip("no O_DIRECT on this file system")
    os.close(fd)
    assert _spill.write_ipc(_table(100), str(tmp_path / "p.arrow"), _spill.AlignedBuffers())


def test_buffers_are_reused_and_grown():
    b = _spill.AlignedBuffers()
    m = b.take(10)
    assert len(m) >= 10 and len(m) % _spill._ALIGN == 0
    b.give(m)
    assert b.take(5) is m  # reused, not mapped again
    b.give(m)
    small = len(m)
    big = b.take(small + 1)  # too small: replaced by a larger one
    assert big is not m and len(big) > small and m.closed
    b.give(big)
    b.close()
    assert big.closed and m.closed


def test_a_failed_write_leaves_the_buffers_closable(tmp_path, monkeypatch):
    """A write error (a full disk) propagates; the buffer goes back to the free list and
    closing the list afterwards does not raise, whatever still holds a view."""
    b = _spill.AlignedBuffers()

    def fail(fd, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_spill.os, "write", fail)
    fd = _spill._open_direct(str(tmp_path / "probe"))
    if fd is None:
        pytest.skip("no O_DIRECT on this file system")
    os.close(fd)
    with pytest.raises(OSError, match="No space"):
        _spill.write_ipc(_table(50), str(tmp_path / "p.arrow"), b)
    b.close()


def test_a_direct_write_refused_at_write_time_is_written_plainly(tmp_path, monkeypatch):
    """A file system can take O_DIRECT at open and refuse the write (EINVAL: blocks larger
    than a page): the part is then written with plain writes, whole."""
    fd = _spill._open_direct(str(tmp_path / "probe"))
    if fd is None:
        pytest.skip("no O_DIRECT on this file system")
    os.close(fd)
    real = os.write
    calls = []

    def refuse_once(fd, data):
        calls.append(len(data))
        if len(calls) == 1:
            raise OSError(22, "Invalid argument")
        return real(fd, data)

    monkeypatch.setattr(_spill.os, "write", refuse_once)
    t = _table(3_001)
    path = str(tmp_path / "p.arrow")
    assert _spill.write_ipc(t, path, _spill.AlignedBuffers()) is False
    assert _spill.read_ipc(path).equals(t)
