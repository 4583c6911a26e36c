"""Sources and the reader object: lists of files, globs, binary file objects, read-only inputs,
header checks across files, the iterator/context manager, stats, progress bars."""
from __future__ import annotations

import io
import os
import stat

import numpy as np
import pandas as pd
import pytest

from csv_util import (assert_blocks_well_formed, assert_frames_identical, bs_kw, csv_api,
                      read_blocks, write)
from reference import csv_ref as R

PARTS = [b"a,b\n1,x\n2,\"y\nz\"\n", b"a,b\r\n3,w\r\n\r\n", b"a,b\n", b"", b"a,b\n4,v\n5,u"]


def _concat_expected(parts):
    frames = [R.expected_str_frame(p).frame for p in parts if p]
    df = pd.concat([f for f in frames if len(f)] or frames[:1], ignore_index=True)
    df.index = pd.RangeIndex(len(df))
    return df


def _write_parts(tmp_path, parts, prefix="part"):
    return [write(tmp_path, p, f"{prefix}{i:02d}.csv") for i, p in enumerate(parts)]


def test_list_of_files_and_glob(tmp_path):
    bio = csv_api()
    parts = [p for p in PARTS if p]  # (a 0-byte member is tested below)
    paths = _write_parts(tmp_path, parts)
    want = _concat_expected(parts)
    assert len(want) == 5
    for bs, nt in ((None, 1), (1, 2), (7, 3)):
        kw = dict(dtypes="str", n_threads=nt, **bs_kw(bs))
        assert_frames_identical(bio.read_csv(paths, **kw), want, msg=f"list bs={bs}")
        assert_frames_identical(bio.read_csv(os.path.join(str(tmp_path), "part*.csv"), **kw),
                                want, msg=f"glob bs={bs}")
        blocks, st = read_blocks(paths, **kw)
        assert_blocks_well_formed(blocks, st)
        assert st.files == len(paths) and st.rows_in == 5 == st.rows_out
        assert st.bytes_read == sum(len(p) for p in parts)
    # a glob is sorted: reversed list order gives a different row order
    rev = bio.read_csv(paths[::-1], dtypes="str")
    assert rev["a"].tolist() == ["4", "5", "3", "1", "2"]
    assert isinstance(rev.index, pd.RangeIndex)


def test_pathlike_and_zero_byte_member(tmp_path):
    bio = csv_api()
    paths = _write_parts(tmp_path, [PARTS[0], b"", PARTS[4]], "z")
    got = bio.read_csv([os.fspath(paths[0]), paths[1], __import__("pathlib").Path(paths[2])],
                       dtypes="str")
    assert got["a"].tolist() == ["1", "2", "4", "5"] and got.index.tolist() == [0, 1, 2, 3]


def test_header_mismatch_between_files_is_an_error(tmp_path):
    bio = csv_api()
    bo = __import__("blockops")
    paths = _write_parts(tmp_path, [b"a,b\n1,2\n", b"a,c\n3,4\n"], "m")
    with pytest.raises(bo.CsvParseError) as ei:
        bio.read_csv(paths)
    assert os.fspath(ei.value.path) == paths[1] and ei.value.line == 1


def test_bad_row_line_and_index_in_second_file(tmp_path):
    bio = csv_api()
    bo = __import__("blockops")
    paths = _write_parts(tmp_path, [b"a,b\n1,x\n2,y\n", b"a,b\n3,z\n4\n5,w\n"], "e")
    with pytest.raises(bo.CsvParseError) as ei:
        bio.read_csv(paths, blocksize=3)
    assert os.fspath(ei.value.path) == paths[1] and ei.value.line == 3  # line within that file
    got = bio.read_csv(paths, on_bad_lines="skip", blocksize=3)
    assert got.index.tolist() == [0, 1, 2, 4]  # global row numbers, gap at the skipped one


def test_glob_without_matches(tmp_path):
    bio = csv_api()
    with pytest.raises((FileNotFoundError, ValueError)) as ei:
        bio.read_csv(os.path.join(str(tmp_path), "nothing*.csv"))
    assert "nothing" in str(ei.value)
    with pytest.raises(FileNotFoundError):
        bio.read_csv(os.path.join(str(tmp_path), "missing.csv"))


class ReadOnlyStream:
    """Only ``.read(n)``, returning at most 5 bytes at a time (short reads)."""

    def __init__(self, data):
        self._b = io.BytesIO(data)

    def read(self, n=-1):
        return self._b.read(5 if n is None or n < 0 else min(n, 5))


@pytest.mark.parametrize("name", ["quoted_newline", "crlf", "bom_crlf_no_final_newline",
                                  "bad_too_many_fields", "long_field", "empty_lines"])
def test_binary_file_objects(tmp_path, name):
    bio = csv_api()
    data = R.NASTY[name]
    want = R.expected_str_frame(data).frame
    for make in (io.BytesIO, ReadOnlyStream, lambda d: open(write(tmp_path, d), "rb")):
        for bs in (1, 64, None):
            src = make(data)
            got = bio.read_csv(src, dtypes="str", on_bad_lines="skip", **bs_kw(bs))
            assert_frames_identical(got, want, msg=f"{make} bs={bs}")
            if hasattr(src, "close"):
                src.close()


def test_text_file_object_is_rejected(tmp_path):
    bio = csv_api()
    with pytest.raises((TypeError, ValueError)) as ei:
        bio.read_csv(io.StringIO("a,b\n1,2\n"))
    assert "source" in str(ei.value) or "binary" in str(ei.value) or "bytes" in str(ei.value)


def test_inputs_are_not_modified(tmp_path):
    """Read-only files are readable; no input file, stream or argument is changed."""
    bio = csv_api()
    data = R.NASTY["quoted_newline"]
    path = write(tmp_path, data)
    os.chmod(path, stat.S_IRUSR | stat.S_IRGRP)
    st0 = os.stat(path)
    cols = ["b", "a"]
    dtypes = {"a": "str", "b": "str"}
    na = {"a": ["zz"]}
    ren = {"b": "B"}
    got = bio.read_csv(path, columns=cols, dtypes=dtypes, na_values=na, rename=ren, blocksize=4)
    assert list(got.columns) == ["B", "a"]
    assert cols == ["b", "a"] and dtypes == {"a": "str", "b": "str"} and na == {"a": ["zz"]}
    assert ren == {"b": "B"}
    st1 = os.stat(path)
    assert (st1.st_size, st1.st_mtime_ns, st1.st_mode) == (st0.st_size, st0.st_mtime_ns,
                                                            st0.st_mode)
    with open(path, "rb") as fh:
        assert fh.read() == data
    assert sorted(os.listdir(tmp_path)) == ["in.csv"]  # no temp/index files left behind
    buf = bytearray(data)
    src = io.BytesIO(bytes(buf))
    bio.read_csv(src, dtypes="str")
    assert bytes(buf) == data


def test_reader_object_iteration_and_stats(tmp_path):
    bio = csv_api()
    data = R.NASTY["many_short_rows"]
    path = write(tmp_path, data)
    # dtypes given: without them the reader reads its first MiB in one block to infer types
    r = bio.CsvBlockReader(path, blocksize=100, n_threads=2, dtypes="int64")
    it = iter(r)
    first = next(it)
    assert isinstance(first, pd.DataFrame) and 0 < len(first) < 300
    rest = list(it)
    blocks = [first] + rest
    assert_blocks_well_formed(blocks, r.stats)
    st = r.stats
    assert isinstance(st, bio.CsvStats)
    assert st.blocks == len(blocks) and st.blocks >= len(data) // 200
    assert st.rows_in == st.rows_out == 300 and st.rows_skipped == 0
    assert st.bytes_read == len(data) and st.files == 1
    full = pd.concat(blocks)
    assert full["a"].tolist() == list(range(300)) and full["b"].tolist() == [7 * i for i in range(300)]
    assert_frames_identical(full, bio.read_csv(path, dtypes="int64"))
    # the default blocksize gives one block for a small file
    with bio.CsvBlockReader(path) as r2:
        assert len(list(r2)) == 1


def test_blocksize_strings(tmp_path):
    bio = csv_api()
    data = b"a\n" + b"".join(b"%06d\n" % i for i in range(20000))  # 140002 bytes
    path = write(tmp_path, data)
    for spec, nbytes in (("64KB", 64_000), ("64KiB", 65_536), (100_000, 100_000),
                         ("0.1MB", 100_000)):
        _, st = read_blocks(path, blocksize=spec, dtypes="int64")
        assert st.blocks == -(-len(data) // nbytes) or abs(st.blocks - len(data) / nbytes) <= 1, \
            (spec, st.blocks)
    _, st = read_blocks(path, blocksize="1GB", dtypes="int64")
    assert st.blocks == 1


def test_progress_bar_in_bytes(tmp_path, capsys):
    pytest.importorskip("tqdm")
    bio = csv_api()
    data = R.NASTY["many_short_rows"] * 1
    path = write(tmp_path, data)
    plain = bio.read_csv(path, blocksize=200)
    capsys.readouterr()
    with_bar = bio.read_csv(path, blocksize=200, progress=True)
    err = capsys.readouterr().err
    assert_frames_identical(with_bar, plain)
    assert "100%" in err and "B/s" in err, err[-500:]
    blocks, _ = read_blocks(path, blocksize=200, progress=True)
    assert_frames_identical(pd.concat(blocks), plain)
    assert "100%" in capsys.readouterr().err
    bio.read_csv(path)  # off by default
    assert capsys.readouterr().err == ""


def test_tails_longer_and_shorter_than_the_read_ahead_headroom(tmp_path):
    """Rows of very different lengths, so the partial row carried to the next block sometimes
    fits the read-ahead buffer's headroom (copied in place) and sometimes does not (joined into a
    new buffer), and some rows are longer than a block (grown); over two files sharing the
    reader's buffers, from paths and from a stream without ``readinto``."""
    bio = csv_api()
    rng = np.random.default_rng(7)
    lengths = rng.choice([3, 900, 70_000, 150_000, 300_000], size=60)
    text = "".join(f"{i},{'x' * int(n)},{i * 0.5}\n" for i, n in enumerate(lengths))
    data = ("a,b,c\n" + text).encode()
    paths = [write(tmp_path, data, "one.csv"), write(tmp_path, data, "two.csv")]
    want = pd.read_csv(io.BytesIO(data), dtype={"b": R.STR})
    want = pd.concat([want, want], ignore_index=True)
    for bs in ("256KB", "600KB"):
        got = bio.read_csv(paths, blocksize=bs, dtypes={"b": "str"})
        assert_frames_identical(got, want, msg=f"paths bs={bs}")
        got = bio.read_csv(ReadOnlyStream(data), blocksize=bs, dtypes={"b": "str"})
        assert_frames_identical(got, want.iloc[:len(lengths)], msg=f"stream bs={bs}")


def test_gzip_stream_members_padding_and_every_read_size():
    """The gzip reader (zlib.decompressobj per member): two members with zero padding between
    them, a single member and an empty file, read in pieces of 1 byte to 1 MiB, give the bytes
    gzip.decompress gives; a cut stream is an EOFError."""
    import gzip
    import io

    from blockops.io._csv_sources import _GzipStream

    data = b"a,b\n" + b"".join(b"%d,%d\n" % (i, i * i) for i in range(60_000))
    k = len(data) // 3
    for z in (gzip.compress(data[:k]) + b"\0\0\0" + gzip.compress(data[k:]),
              gzip.compress(data), b""):
        for piece in (1, 7, 4096, 1 << 20):
            s = _GzipStream(io.BytesIO(z))
            out, buf = bytearray(), bytearray(piece)
            while True:
                r = s.readinto(memoryview(buf))
                if not r:
                    break
                out += buf[:r]
            assert bytes(out) == gzip.decompress(z), (len(z), piece)
    s = _GzipStream(io.BytesIO(gzip.compress(data)[:-20]))
    buf = bytearray(1 << 16)
    with pytest.raises(EOFError):
        while s.readinto(memoryview(buf)):
            pass
