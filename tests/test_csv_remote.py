"""Compressed sources and fsspec URLs: the same rows and values, bit for bit, from a plain local
file, its gzip/bz2/xz/zstd versions, and the same files served over HTTP (a Range-serving
``http.server`` on 127.0.0.1) and S3 (moto's server on 127.0.0.1, read through s3fs), through
``read_csv``, ``CsvBlockReader`` at several block sizes and ``blockops.dask.read_csv``; corrupt,
truncated and mislabelled streams; the memory bound of a compressed read.

No file system call is mocked: the servers are real and listen on the loopback interface.
"""
from __future__ import annotations

import bz2
import gzip
import http.server
import json
import lzma
import os
import random
import re
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pandas as pd
import pytest

from csv_util import HERE, assert_frames_identical, csv_api

CODECS = {"gzip": ".gz", "bz2": ".bz2", "xz": ".xz", "zstd": ".zst"}
DTYPES = {"id": "int64", "x": "float64", "name": "str", "flag": "bool", "count": "int64"}


def _compress(codec: str, data: bytes) -> bytes:
    if codec == "gzip":
        # two members, as `cat a.gz b.gz` makes: one stream for every gzip reader
        k = len(data) // 3
        return gzip.compress(data[:k]) + gzip.compress(data[k:])
    if codec == "bz2":
        return bz2.compress(data, 1)  # 100 kB blocks: a cut file still decodes its first ones
    if codec == "xz":
        return lzma.compress(data)
    zstandard = pytest.importorskip("zstandard")
    k = len(data) // 2  # two frames
    c = zstandard.ZstdCompressor(level=3)
    return c.compress(data[:k]) + c.compress(data[k:])


def _make_csv(n_rows: int, seed: int = 5) -> bytes:
    """Mixed columns: ints, floats (negative zero, exponents, many digits), text with quoted
    commas and newlines, missing values, booleans; CRLF line ends in places."""
    rnd = random.Random(seed)
    out = ["id,x,name,flag,count\n"]
    for i in range(n_rows):
        x = rnd.choice([repr(rnd.uniform(-1e6, 1e6)), "-0.0", f"{rnd.random():.17f}e-3", ""])
        name = rnd.choice(["plain", '"a, b"', '"line\nbreak"', '"say ""hi"""', "", "é ü"])
        flag = rnd.choice(["True", "False"])
        cnt = str(rnd.randrange(-2**40, 2**40))
        end = "\r\n" if i % 97 == 0 else "\n"
        out.append(f"{i},{x},{name},{flag},{cnt}{end}")
    return "".join(out).encode()


SPLIT_KINDS = ("quoted", "crlf", "bad")
SPLIT_DTYPES = {"id": "int64", "x": "float64", "note": "str", "flag": "bool"}


def _split_csv(kind: str, n_rows: int = 1500, seed: int = 7) -> bytes:
    """Inputs for splitting remote files into ranges (~100 KB). Quoted fields hold LF, CRLF,
    delimiters and doubled quotes, some over 1 KB with dozens of line breaks (so with small
    ranges several cuts fall inside one field, and a cut's quote state is "inside" for
    several ranges in a row); a quote inside an unquoted field is data. ``quoted``: LF and
    CRLF row ends mixed, no final newline. ``crlf``: CRLF everywhere, a final CRLF. ``bad``:
    as ``quoted`` with bad rows for :data:`SPLIT_DTYPES` (an id that is no int64, one field
    too many, one too few) and an unterminated quote at the end (a bad row holding the last
    lines)."""
    rnd = random.Random(seed)
    out = ["id,x,note,flag" + ("\r\n" if kind == "crlf" else "\n")]
    for i in range(n_rows):
        r = rnd.random()
        if r < 0.03:
            note = '"' + "".join(rnd.choice(["ab", "\n", "\r\n", '""', ",", " "])
                                 for _ in range(500)) + '"'
        elif r < 0.35:
            note = rnd.choice(['"a\nb"', '"x,""y""\r\nz"', '"\n"', '"line\n\nbreak,"', '""'])
        else:
            note = rnd.choice(["plain", "", "é ü", 'in"side'])
        x = rnd.choice([repr(rnd.uniform(-1e3, 1e3)), ""])
        fields = [str(i), x, note, rnd.choice(["True", "False"])]
        if kind == "bad":
            b = rnd.random()
            if b < 0.01:
                fields[0] = f"x{i}"  # not an int64
            elif b < 0.02:
                fields.append("extra")
            elif b < 0.03:
                fields.pop()
        end = "\r\n" if kind == "crlf" else rnd.choice(["\n", "\n", "\r\n"])
        out.append(",".join(fields) + end)
    text = "".join(out)
    if kind == "quoted":
        text = text.rstrip("\r\n")
    elif kind == "bad":
        text += '99999,1.5,"never closed\nmore\nlines'
    return text.encode()


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """{"plain": path, "gzip": path, ...} of one ~1.3 MB CSV."""
    d = tmp_path_factory.mktemp("comp")
    data = _make_csv(30_000)
    paths = {"plain": str(d / "data.csv")}
    with open(paths["plain"], "wb") as f:
        f.write(data)
    for codec, ext in CODECS.items():
        p = str(d / f"data.csv{ext}")
        with open(p, "wb") as f:
            f.write(_compress(codec, data))
        paths[codec] = p
    for kind in SPLIT_KINDS:  # inputs of the remote splitting tests, served beside the others
        p = str(d / f"split_{kind}.csv")
        with open(p, "wb") as f:
            f.write(_split_csv(kind))
        paths[f"split_{kind}"] = p
    return paths


@pytest.fixture(scope="module")
def want(files):
    return csv_api().read_csv(files["plain"])


def _blocks(source, **kw):
    bio = csv_api()
    with bio.CsvBlockReader(source, **kw) as r:
        blocks = [b for b in r]
        stats = r.stats
    frames = [b for b in blocks if len(b)]
    return pd.concat(frames), stats, len(frames)


# ------------------------------------------------------------------------- compression

@pytest.mark.parametrize("codec", list(CODECS))
def test_compressed_file_reads_as_the_plain_one(files, want, codec):
    bio = csv_api()
    assert len(want) == 30_000 and want["x"].dtype == np.float64
    assert_frames_identical(bio.read_csv(files[codec]), want, msg=f"{codec} inferred")
    assert_frames_identical(bio.read_csv(files[codec], compression=codec), want,
                            msg=f"{codec} named")
    for bs in (1 << 16, 200_001, 1 << 22):
        got, stats, n_blocks = _blocks(files[codec], blocksize=bs, n_threads=2)
        assert_frames_identical(got, want, msg=f"{codec} blocksize={bs}")
        assert stats.rows_out == len(want)
        # the decompressed bytes, as for the plain file
        assert stats.bytes_read == os.path.getsize(files["plain"])
        if bs == 1 << 16:
            assert n_blocks > 3  # the first block holds the 1 MiB inference reads
    # a file object with the codec named (infer does not look inside file objects)
    with open(files[codec], "rb") as f:
        assert_frames_identical(bio.read_csv(f, compression=codec), want, msg=f"{codec} fileobj")
        assert not f.closed  # the caller's file stays open
    assert_frames_identical(bio.read_csv(files[codec], compression={"method": codec}), want,
                            msg=f"{codec} pandas-style dict")


def test_compression_none_reads_the_bytes_as_they_are(files):
    bio = csv_api()
    from blockops import CsvParseError

    with pytest.raises(CsvParseError, match="not UTF-8"):  # the gzip header, read as CSV
        bio.read_csv(files["gzip"], compression=None)


@pytest.mark.parametrize("codec", list(CODECS))
def test_truncated_stream_names_file_and_position(tmp_path, files, codec):
    bio = csv_api()
    from blockops import BlockopsError

    blob = open(files[codec], "rb").read()
    cut = str(tmp_path / os.path.basename(files[codec]))
    with open(cut, "wb") as f:
        f.write(blob[:len(blob) * 2 // 3])
    # types given: no 1 MiB inference read, so the first blocks are handed out before the cut
    r = bio.CsvBlockReader(cut, blocksize=1 << 16, n_threads=1, dtypes=DTYPES,
                           columns=list(DTYPES))
    rows = 0
    with pytest.raises(BlockopsError) as ei:
        for b in r:
            rows += len(b)
    e = ei.value
    assert isinstance(e, OSError)  # BlockopsIOError
    msg = str(e)
    assert cut in msg and codec in msg and "truncated" in msg, msg
    assert e.path == cut and 0 < e.byte_offset <= len(blob) * 2 // 3
    assert e.decompressed_bytes > 0 and f"{e.decompressed_bytes:,}" in msg
    # blocks handed out before the error stay counted
    assert rows > 0 and r.stats.rows_out == rows


def test_corrupt_stream(tmp_path, files):
    bio = csv_api()
    from blockops import BlockopsError

    # A flipped bit in the deflate data decodes to other bytes until the member's CRC is
    # checked (the parser may meet them first and say so); a wrong CRC is the codec's error.
    blob = bytearray(open(files["gzip"], "rb").read())
    blob[-8] ^= 0xFF  # the last member's CRC32
    p = str(tmp_path / "bad.csv.gz")
    open(p, "wb").write(bytes(blob))
    # zlib's words for it ("incorrect data check"; GzipFile said "CRC check failed")
    with pytest.raises(BlockopsError, match=re.escape(p) + ".*incorrect data check") as ei:
        bio.read_csv(p, blocksize=1 << 16)
    assert isinstance(ei.value, OSError)
    # at most one piece short of the whole: the bytes decoded before the check failed
    left = os.path.getsize(files["plain"]) - ei.value.decompressed_bytes
    assert 0 <= left <= 256 << 10


@pytest.mark.parametrize("codec,path_of", [("gzip", "plain"), ("zstd", "gzip"), ("bz2", "xz"),
                                           ("xz", "zstd")])
def test_wrong_compression(files, codec, path_of):
    bio = csv_api()
    from blockops import BlockopsError

    p = files[path_of]
    with pytest.raises(BlockopsError) as ei:
        bio.read_csv(p, compression=codec)
    msg = str(ei.value)
    assert p in msg and codec in msg and "compression=" in msg, msg
    assert ei.value.decompressed_bytes == 0


def test_bad_compression_argument(files):
    bio = csv_api()
    for bad in ("zip", "gz", "GZIP", 1):
        with pytest.raises(ValueError, match="compression must be"):
            bio.read_csv(files["plain"], compression=bad)
    with pytest.raises(ValueError, match="memory_map=True"):
        bio.CsvBlockReader(files["gzip"], memory_map=True)


def test_glob_of_compressed_files(tmp_path, files, want):
    bio = csv_api()
    data = open(files["plain"], "rb").read()
    for i, codec in enumerate(CODECS):
        open(tmp_path / f"p{i}.csv{CODECS[codec]}", "wb").write(_compress(codec, data))
    got = bio.read_csv(str(tmp_path / "p*.csv.*"))
    assert len(got) == 4 * len(want)
    assert_frames_identical(got.iloc[-len(want):].reset_index(drop=True), want, msg="4th file")


# ------------------------------------------------------------------------- Dask

def test_dask_compressed_one_partition_per_file(tmp_path, files, want):
    pytest.importorskip("dask.dataframe")
    import dask

    from blockops import dask as bdask

    bio = csv_api()
    d = bdask.read_csv(files["gzip"], blocksize=1 << 16)
    # one partition, counted on the driver (a decompressing scan): known divisions
    assert d.npartitions == 1 and d.divisions == (0, len(want) - 1)
    with dask.config.set(scheduler="sync"):
        assert_frames_identical(d.compute(), want, msg="dask gzip")
    paths = [files[c] for c in CODECS] + [files["plain"]]
    d = bdask.read_csv(paths, blocksize=1 << 16)
    # one partition per compressed file, byte ranges of the plain one; global row numbers
    assert d.npartitions > 4 + 10 and d.known_divisions
    assert d.divisions[:5] == tuple(k * len(want) for k in range(5))
    with dask.config.set(scheduler="sync"):
        assert_frames_identical(d.compute(), bio.read_csv(paths), msg="dask mixed list")
    d = bdask.read_csv(files["plain"], blocksize=1 << 16)
    assert d.npartitions > 10 and d.known_divisions


# ------------------------------------------------------------------------- servers

class _RangeHandler(http.server.SimpleHTTPRequestHandler):
    """http.server with single-range ``Range: bytes=a-b`` requests (206), as object stores and
    CDNs serve them; fsspec's HTTP file system reads files by ranges. A subclass with a list
    as ``requests`` records ``(method, path, Range header)`` of every request."""

    requests = None

    def log_message(self, *args):  # quiet
        pass

    def send_head(self):
        rng = self.headers.get("Range")
        if self.requests is not None:
            self.requests.append((self.command, self.path, rng))
        path = self.translate_path(self.path)
        if rng is None or not os.path.isfile(path):
            return super().send_head()
        m = re.fullmatch(r"bytes=(\d*)-(\d*)", rng.strip())
        size = os.path.getsize(path)
        if not m:
            self.send_error(416)
            return None
        a = int(m.group(1)) if m.group(1) else max(0, size - int(m.group(2)))
        b = int(m.group(2)) if m.group(1) and m.group(2) else size - 1
        b = min(b, size - 1)
        if a >= size:
            self.send_response(416)
            self.send_header("Content-Range", f"bytes */{size}")
            self.end_headers()
            return None
        f = open(path, "rb")
        f.seek(a)
        import io

        body = io.BytesIO(f.read(b - a + 1))
        f.close()
        self.send_response(206)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Range", f"bytes {a}-{b}/{size}")
        self.send_header("Content-Length", str(b - a + 1))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        return body

    def end_headers(self):
        self.send_header("Accept-Ranges", "bytes")
        super().end_headers()


@pytest.fixture(scope="module")
def http_url(files):
    pytest.importorskip("aiohttp")
    root = os.path.dirname(files["plain"])

    class Handler(_RangeHandler):
        requests = HTTP_REQUESTS

        def __init__(self, *a, **kw):
            super().__init__(*a, directory=root, **kw)

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


#: (method, path, Range header) of every request the http_url server answered
HTTP_REQUESTS: list = []


@pytest.fixture(scope="module")
def s3(files):
    """(bucket URL, storage_options) of a moto S3 server on 127.0.0.1 holding the files."""
    pytest.importorskip("moto.server")
    s3fs = pytest.importorskip("s3fs")
    from moto.server import ThreadedMotoServer

    srv = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    srv.start()
    port = srv._server.server_port
    opts = {"key": "testing", "secret": "testing", "skip_instance_cache": True,
            "client_kwargs": {"endpoint_url": f"http://127.0.0.1:{port}",
                              "region_name": "us-east-1"}}
    import boto3

    # (us-east-1 takes no location constraint, which s3fs' mkdir sends)
    boto3.client("s3", endpoint_url=opts["client_kwargs"]["endpoint_url"],
                 aws_access_key_id="testing", aws_secret_access_key="testing",
                 region_name="us-east-1").create_bucket(Bucket="blockops-test")
    fs = s3fs.S3FileSystem(**opts)
    for k, p in files.items():
        fs.put_file(p, "blockops-test/data/" + os.path.basename(p))
    yield "s3://blockops-test/data", opts
    srv.stop()


@pytest.mark.parametrize("codec", ["plain", "gzip", "zstd"])
def test_http(http_url, files, want, codec):
    bio = csv_api()
    url = f"{http_url}/{os.path.basename(files[codec])}"
    assert_frames_identical(bio.read_csv(url), want, msg=f"http {codec}")
    for bs in (1 << 16, 300_007):
        got, stats, _ = _blocks(url, blocksize=bs)
        assert_frames_identical(got, want, msg=f"http {codec} blocksize={bs}")
        assert stats.rows_out == len(want)


@pytest.mark.parametrize("codec", ["plain"] + list(CODECS))
def test_s3(s3, files, want, codec):
    bio = csv_api()
    base, opts = s3
    url = f"{base}/{os.path.basename(files[codec])}"
    assert_frames_identical(bio.read_csv(url, storage_options=opts), want, msg=f"s3 {codec}")
    got, stats, n = _blocks(url, blocksize=1 << 16, storage_options=opts)
    assert_frames_identical(got, want, msg=f"s3 {codec} blocks")
    assert n > 3


def test_s3_glob_dask_and_errors(s3, files, want):
    pytest.importorskip("dask.dataframe")
    import dask

    from blockops import dask as bdask

    bio = csv_api()
    base, opts = s3
    got = bio.read_csv(f"{base}/data.csv.*", storage_options=opts)  # fsspec's glob, 4 files
    assert len(got) == 4 * len(want)
    # the plain file in ranges, each compressed one whole; rows counted by the planning tasks,
    # so the index is global and the divisions known, as for the same files on disk
    d = bdask.read_csv(f"{base}/data.csv*", storage_options=opts, blocksize=1 << 16)
    local = [files["plain"]] + [files[c] for c in ("bz2", "gzip", "xz", "zstd")]  # glob order
    assert d.npartitions == 4 + bdask.read_csv(files["plain"], blocksize=1 << 16).npartitions
    assert d.known_divisions and d.divisions[-1] == 5 * len(want) - 1
    with dask.config.set(scheduler="sync"):
        assert_frames_identical(d.compute(), bio.read_csv(local), msg="dask s3 glob")
    with pytest.raises(FileNotFoundError, match="missing.csv"):
        bio.read_csv(f"{base}/missing.csv", storage_options=opts)
    with pytest.raises(FileNotFoundError, match="no file matches"):
        bio.read_csv(f"{base}/nothing*.csv", storage_options=opts)


def test_memory_url_and_file_url(files, want):
    fsspec = pytest.importorskip("fsspec")
    bio = csv_api()
    fs = fsspec.filesystem("memory")
    fs.pipe("/blockops-t/data.csv.xz", open(files["xz"], "rb").read())
    assert_frames_identical(bio.read_csv("memory://blockops-t/data.csv.xz"), want, msg="memory")
    # file:// is the local file: mapped and sampled as a path is
    with bio.CsvBlockReader("file://" + files["plain"]) as r:
        assert r._sources[0].local
    assert_frames_identical(bio.read_csv("file://" + files["plain"]), want, msg="file://")


# ------------------------------------------------------------------------- memory

_MEASURE = textwrap.dedent(r"""
    import json, sys
    path, warm = sys.argv[1], sys.argv[2]

    def status(key):
        with open("/proc/self/status") as fh:
            for ln in fh:
                if ln.startswith(key + ":"):
                    return int(ln.split()[1]) * 1024

    from blockops.io import CsvBlockReader
    for b in CsvBlockReader(warm, blocksize=1_000_000, n_threads=2):
        pass
    del b
    base = status("VmRSS")
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        reset = True
    except OSError:
        reset = False
    base_hwm = status("VmHWM")
    rows = 0
    with CsvBlockReader(path, blocksize=1_000_000, n_threads=2) as r:
        for block in r:
            rows += len(block)
            del block
    peak = status("VmHWM")
    print(json.dumps({"growth": peak - (base if reset else base_hwm), "rows": rows}))
""")


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs /proc (VmHWM)")
@pytest.mark.parametrize("codec", ["gzip", "zstd"])
def test_compressed_read_memory_does_not_grow_with_file_size(tmp_path, codec):
    pytest.importorskip("zstandard")
    from test_csv_memory import make_bsm_file

    paths = {}
    for name, size in (("warm", 2_000_000), ("small", 10_000_000), ("big", 50_000_000)):
        plain = str(tmp_path / f"{name}.csv")
        make_bsm_file(plain, size)
        paths[name] = plain + CODECS[codec]
        with open(plain, "rb") as f, open(paths[name], "wb") as g:
            g.write(_compress(codec, f.read()))
        os.remove(plain)
    res = {}
    for name in ("small", "big"):
        out = subprocess.run([sys.executable, "-c", _MEASURE, paths[name], paths["warm"]],
                             capture_output=True, text=True, timeout=300, cwd=HERE)
        assert out.returncode == 0, out.stderr[-3000:]
        res[name] = json.loads(out.stdout.strip().splitlines()[-1])
    assert res["big"]["rows"] > 4 * res["small"]["rows"]
    # (n_threads + 2 raw blocks) * blocksize * EXPANSION, as for a plain file that is read
    bound = (2 + 2) * 1_000_000 * 4
    assert res["big"]["growth"] < bound, res
    assert res["big"]["growth"] <= res["small"]["growth"] + bound // 4, res


# ------------------------------------------------------------------------- remote splitting

def _remote(server, http_url, s3, name):
    """(URL, storage_options) of a served test file."""
    if server == "http":
        return f"{http_url}/{name}", None
    base, opts = s3
    return f"{base}/{name}", opts


def _split_kw(kind):
    return dict(dtypes=SPLIT_DTYPES, on_bad_lines="skip") if kind == "bad" else {}


def _check_partitions(d, want, skips: bool):
    """Known divisions; each partition's rows inside its division, starting at it (unless
    rows are skipped: a skipped first row, or only bad rows, in a partition)."""
    import dask

    assert d.known_divisions
    parts = dask.compute(*d.to_delayed(), scheduler="sync")
    for i, part in enumerate(parts):
        if not skips:
            assert len(part) and d.divisions[i] == part.index[0], i
        elif len(part):
            assert d.divisions[i] <= part.index[0]
        if len(part) and i + 1 < d.npartitions:
            assert part.index[-1] < d.divisions[i + 1]
    assert d.divisions[0] == want.index[0] and d.divisions[-1] >= want.index[-1]
    return parts


# (moto answers slowly: many ranges over HTTP, a dozen over S3)
@pytest.mark.parametrize("server,blocksize", [("http", 1000), ("http", 7919), ("http", 1 << 20),
                                              ("s3", 7919)])
@pytest.mark.parametrize("kind", SPLIT_KINDS)
def test_dask_splits_remote_file_like_local(http_url, s3, files, server, kind, blocksize):
    """A remote uncompressed file is split into row-aligned ranges (quoted newlines, CRLF, no
    final newline, a quoted field over several ranges, bad rows) and reads to the local
    file's frame, index and skipped count, whatever the number of ranges."""
    pytest.importorskip("dask.dataframe")
    from blockops import dask as bdask

    bio = csv_api()
    kw = _split_kw(kind)
    want = bio.read_csv(files[f"split_{kind}"], **kw)
    url, opts = _remote(server, http_url, s3, f"split_{kind}.csv")
    d = bdask.read_csv(url, blocksize=blocksize, storage_options=opts, **kw)
    size = os.path.getsize(files[f"split_{kind}"])
    if blocksize < size:
        assert d.npartitions > size // blocksize // 2, d.npartitions
    else:
        assert d.npartitions == 1
    parts = _check_partitions(d, want, kind == "bad")
    got = pd.concat(parts)
    assert_frames_identical(got, want, msg=f"{server} {kind} blocksize={blocksize}")
    # rows in = out + skipped: the planning scan counts every row, the last division is the
    # last row number
    skipped = want.attrs["blockops_stats"]["rows_skipped"]
    assert d.divisions[-1] + 1 - len(got) == skipped
    assert (skipped > 10) == (kind == "bad")


@pytest.mark.parametrize("blocksize", [1000, 7919, 1 << 20])
@pytest.mark.parametrize("kind", SPLIT_KINDS)
def test_large_local_file_planned_by_tasks_like_the_driver(monkeypatch, files, kind, blocksize):
    """A local file of at least LOCAL_TASK_BYTES is planned by scan tasks (by its path), not by
    the driver's serial scan: the same partitions (path, byte range, first row, first line)
    as the driver's plan, and the same frame, index and skipped count when read."""
    pytest.importorskip("dask.dataframe")
    from blockops import dask as bdask
    from blockops.io import _csv_split as split

    kw = _split_kw(kind)
    path = files[f"split_{kind}"]
    calls_seen = []

    def run(calls):  # in-process, recording what the driver hands out
        calls_seen.extend(f.__name__ for f, _ in calls)
        return [f(*a) for f, a in calls]

    plans = {}
    for label, limit in (("driver", 1 << 62), ("tasks", 0)):
        monkeypatch.setattr(split, "LOCAL_TASK_BYTES", limit)
        calls_seen.clear()
        plans[label] = bdask._plan_read(path, blocksize, None, kw.get("dtypes"),
                                        {k: v for k, v in kw.items() if k != "dtypes"}, run=run)
        assert set(calls_seen) == (set() if label == "driver" else {"scan_range"})
    assert plans["tasks"][4] == plans["driver"][4]  # rows
    # The cuts may differ from the driver's (a task's range starts after its first LF, the
    # driver's at the first row start past a multiple of blocksize: after a lone CR they
    # differ), but each is a row start of the whole file, with its first row and line
    # numbers, and the ranges tile the file from its first data row.
    parts = plans["tasks"][3]
    with open(path, "rb") as f:
        data = f.read()
    size = len(data)
    assert len(parts) >= min(size // blocksize // 2, 1)
    assert parts[0][1] == plans["driver"][3][0][1] and parts[-1][2] == size
    found, rb, lb, _ = _local_scan(data, [p[1] for p in parts], '"')
    for p, fo, r, ln in zip(parts, found, rb, lb):
        assert p[0] == path and fo == p[1], p
        assert (p[3], p[4]) == (r - 1, ln + 1), (p, r, ln)  # minus the header row
    assert all(a[2] == b[1] for a, b in zip(parts, parts[1:]))
    want = csv_api().read_csv(path, **kw)
    d = bdask.read_csv(path, blocksize=blocksize, **kw)  # LOCAL_TASK_BYTES is 0 here
    got = pd.concat(_check_partitions(d, want, kind == "bad"))
    assert_frames_identical(got, want, msg=f"local tasks {kind} blocksize={blocksize}")


@pytest.mark.parametrize("server", ["http", "s3"])
def test_dask_remote_bad_row_errors_name_the_lines(http_url, s3, files, server):
    """on_bad_lines="error": each partition holding a bad row raises for its first one, with
    the URL and the line the local read gives that row (its skipped lines), so the global
    line numbers come from the plan; the first is the local read's error, column and value
    included."""
    pytest.importorskip("dask.dataframe")
    import dask

    from blockops import CsvParseError
    from blockops import dask as bdask

    bio = csv_api()
    with pytest.raises(CsvParseError) as local:
        bio.read_csv(files["split_bad"], dtypes=SPLIT_DTYPES)
    skipped = bio.read_csv(files["split_bad"], dtypes=SPLIT_DTYPES, on_bad_lines="skip")
    bad_lines = [ln for _, ln in skipped.attrs["blockops_stats"]["skipped_lines"]]
    url, opts = _remote(server, http_url, s3, "split_bad.csv")
    d = bdask.read_csv(url, blocksize=2000 if server == "http" else 9000,
                       storage_options=opts, dtypes=SPLIT_DTYPES)
    assert d.known_divisions and d.npartitions > 5
    errors = []
    for p in d.to_delayed():
        try:
            dask.compute(p, scheduler="sync")
        except CsvParseError as e:
            errors.append(e)
    assert len(errors) > 3
    lines = [e.line for e in errors]
    assert lines == sorted(lines) and set(lines) <= set(bad_lines), (lines, bad_lines)
    first, lo = errors[0], local.value
    assert (first.path, first.line, first.column, first.value) == \
        (url, lo.line, lo.column, lo.value)
    assert all(str(e).startswith(f"{url}, line {e.line}") for e in errors)


def test_http_dask_fetches_ranges_only(http_url, files):
    """Ranged reads really happen: every GET of the file carries a Range header; the
    partitions together fetch each byte after the header once (plus the one byte before
    each range, for CRLF line counting), none more than its range; the planning scan tasks
    fetch about the file once, not once per task."""
    pytest.importorskip("dask.dataframe")
    import dask

    from blockops import dask as bdask

    name = "split_quoted.csv"
    url, size = f"{http_url}/{name}", os.path.getsize(files["split_quoted"])

    def gets():
        out = []
        for method, path, rng in list(HTTP_REQUESTS):
            if path.endswith(name) and method == "GET":
                m = re.fullmatch(r"bytes=(\d+)-(\d+)", rng or "")
                assert m, f"a GET without a byte range: {rng!r}"
                out.append((int(m.group(1)), int(m.group(2)) + 1))
        HTTP_REQUESTS.clear()
        return out

    HTTP_REQUESTS.clear()
    d = bdask.read_csv(url, blocksize=4096)
    plan = gets()
    # The driver reads from the start (the header; the first MiB, twice: the probe and the
    # inference head window, here the whole file). The scan tasks of the other 16 ranges read
    # from 4096 on: about the file once (each its range and a little of the next for the
    # line it ends in), where each task reading the file would be 16x.
    tasks = sum(b - a for a, b in plan if a >= 4096)
    assert size - 4096 <= tasks < 1.3 * size, sorted(plan)
    assert sum(b - a for a, b in plan) < 4 * size, sorted(plan)
    assert d.npartitions > 15
    with dask.config.set(scheduler="sync"):
        d.compute()
    got = gets()
    big = sorted((a, b) for a, b in got if b - a > 1)
    assert big[-1][1] == size and len(big) >= d.npartitions
    assert all(b0 == a1 for (_, b0), (a1, _) in zip(big, big[1:])), "ranges overlap or miss"
    assert sum(b - a for a, b in big) == size - big[0][0]  # every byte once after the header
    assert max(b - a for a, b in big) < 3 * 4096  # a partition's range, not the file
    assert len(got) - len(big) <= d.npartitions  # the 1-byte reads before each range


def test_dask_http_server_without_ranges(tmp_path, files):
    """A server that ignores Range headers cannot be split: a clear error naming the file;
    blocksize=None reads each file whole (fsspec's streaming HTTP file), counted."""
    pytest.importorskip("dask.dataframe")
    pytest.importorskip("aiohttp")
    import dask

    from blockops import BlockopsError
    from blockops import dask as bdask

    root = os.path.dirname(files["plain"])

    class Handler(http.server.SimpleHTTPRequestHandler):  # 200 and the whole file, always
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=root, **kw)

        def log_message(self, *args):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{srv.server_address[1]}/split_quoted.csv"
        with pytest.raises(BlockopsError, match="byte ranges") as ei:
            bdask.read_csv(url, blocksize=4096)
        assert isinstance(ei.value, OSError) and str(ei.value).startswith(url), ei.value
        d = bdask.read_csv(url, blocksize=None, storage_options={"block_size": 0})
        want = csv_api().read_csv(files["split_quoted"])
        assert d.npartitions == 1 and d.divisions == (0, len(want) - 1)
        with dask.config.set(scheduler="sync"):
            assert_frames_identical(d.compute(), want, msg="whole file, no ranges")
    finally:
        srv.shutdown()
        srv.server_close()


def _local_scan(data: bytes, offsets, quotechar):
    """The local planner's C scan over the whole file: (found, rows before, lines before) of
    the first row start at or after each offset, and the rows."""
    from blockops import _core

    s = _core.csv_scan_new(",", quotechar)
    t = np.array(offsets, dtype=np.uint64)
    found = np.full(len(t), -1, np.int64)
    rb, lb = np.zeros(len(t), np.int64), np.zeros(len(t), np.int64)
    _core.csv_scan_feed(s, data, len(data), t, found, rb, lb)
    return found, rb, lb, _core.csv_scan_finish(s)[0]


_split_runs = 0


def _check_remote_scan(data: bytes, blocksize: int, quotechar):
    """Range scans of a memory:// file, chained, against the scan of the whole file."""
    global _split_runs
    fsspec = pytest.importorskip("fsspec")
    from blockops.io import _csv_split as split

    _split_runs += 1
    path = f"/bo-split/{_split_runs}.csv"
    fsspec.filesystem("memory").pipe(path, data)
    n = len(data)
    units = [split.scan_range(f"memory://{path}", None, n, lo, min(lo + blocksize, n), ",",
                              quotechar) for lo in range(0, n, blocksize)]
    cuts, rows = split.chain_units(path, n, units)
    found, rb, lb, total = _local_scan(data, [c[0] for c in cuts], quotechar)
    assert rows == total
    # every cut is a row start of the whole file, with its rows and lines before
    assert [tuple(c) for c in cuts] == list(zip(found.tolist(), rb.tolist(), lb.tolist()))
    # and each unit's cut is the first row start at or after the unit's start
    cut_at = {c[0] for c in cuts}
    for u in units:
        if u["start"]:
            f = int(_local_scan(data, [u["start"]], quotechar)[0][0])
            if 0 <= f < u["end"]:
                assert f in cut_at, (u, f, cuts)
    fsspec.filesystem("memory").rm(path)


try:
    from hypothesis import given, settings
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover
    given = None

if given is not None:
    @settings(max_examples=400, deadline=None)
    @given(data=st.text(alphabet='a,"\n\r ', max_size=400), blocksize=st.integers(1, 60),
           quoted=st.booleans())
    def test_remote_range_scans_chain_to_the_whole_file_scan(data, blocksize, quoted):
        """Property: on any text of quotes, delimiters, LF, CR and blanks, the per-range scans
        (from both start states) chained in file order find exactly the row starts, row and
        line counts of one scan over the whole file."""
        _check_remote_scan(data.encode(), blocksize, '"' if quoted else None)
