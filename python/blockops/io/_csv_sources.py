"""CSV reader sources: files given by path (memory-mapped one block at a time), byte ranges of
files (a Dask or Ray partition), file objects and pipes (read ahead into two reused buffers),
compressed files (decompressed as a stream into the same read-ahead buffers), fsspec URLs
(``s3://``, ``gs://``, ``https://``, ``memory://``: read as fsspec file objects), and the
expansion of globs and lists into sources."""
from __future__ import annotations

import glob
import io
import logging
import mmap
import os
import stat

import numpy as np

from .._errors import BlockopsIOError

log = logging.getLogger("blockops")


_BOM = b"\xef\xbb\xbf"

#: compression= values and the file name endings "infer" maps to them (pandas' spelling).
COMPRESSIONS = {"gzip": (".gz",), "bz2": (".bz2",), "xz": (".xz",), "zstd": (".zst",)}


def compression_of(name: str, compression) -> "str | None":
    """The codec of a source named ``name`` for ``compression=`` (``"infer"``: from the file
    name's ending, as pandas infers it)."""
    if isinstance(compression, dict):  # pandas' {"method": "gzip", ...} (options ignored)
        compression = compression.get("method")
    if compression is None:
        return None
    if compression == "infer":
        low = str(name).lower()
        for method, ends in COMPRESSIONS.items():
            if low.endswith(ends):
                return method
        return None
    if compression not in COMPRESSIONS:
        raise ValueError(f"compression must be 'infer', None or one of {sorted(COMPRESSIONS)}, "
                         f"not {compression!r}")
    return compression


class _Source:
    __slots__ = ("name", "path", "fileobj", "size", "start", "end", "fs", "compression")

    def __init__(self, name, path=None, fileobj=None, size=None, start=0, end=None, fs=None,
                 compression=None):
        self.name, self.path, self.fileobj, self.size = name, path, fileobj, size
        self.start, self.end = start, end
        self.fs = fs  # an fsspec file system (remote or in-memory files); None: a local path
        self.compression = compression  # codec name, or None

    @property
    def local(self) -> bool:
        """A local file read as it is: it can be mapped, sampled (inference) and scanned."""
        return self.fileobj is None and self.fs is None and self.compression is None

    def open_raw(self):
        """The file's bytes as stored (before decompression), unbuffered when local."""
        if self.fs is not None:
            return self.fs.open(self.path, "rb")
        return open(self.path, "rb", buffering=0)

    def open(self):
        if self.fileobj is not None:
            f, owned = self.fileobj, False
        elif self.fs is not None and self.compression is None and self.end is not None:
            # a byte range of a remote file (a Dask or Ray partition, the planner's probe):
            # fetched exactly, not through the file system's read-ahead cache, which reads
            # whole blocks (s3fs 50 MiB) past the range's end
            f, owned = _FsRange(self.fs, self.path, self.name, self.start, self.end,
                                 prev_cr=True), True
        elif self.start or self.end is not None:
            f, owned = _RangeFile(self.open_raw(), self.start, self.end), True
        else:
            f, owned = self.open_raw(), True
        if self.compression is None:
            return f, owned
        try:
            return _Decompressed(f, self.compression, self.name, owned), True
        except BaseException:
            if owned:
                f.close()
            raise


def _zstd_reader(raw):
    """A zstd stream through pyarrow's ``CompressedInputStream`` (pyarrow is a dependency
    already and its wheels carry zstd). Not ``zstandard``'s ``stream_reader``: it ends a
    truncated stream silently, as if the file ended there (0.25), so a cut file would lose its
    last rows without an error; pyarrow raises "Truncated compressed stream". Both bound the
    memory (pyarrow decompresses into 64 KiB pieces: 62 MB peak RSS, imports included, on a
    44 KB frame holding 480 MB) and read every frame of a multi-frame file."""
    import pyarrow as pa

    if not pa.Codec.is_available("zstd"):  # pragma: no cover - a pyarrow built without zstd
        raise ImportError("compression='zstd' needs a pyarrow built with zstd (the PyPI wheels "
                          "are)")
    return pa.CompressedInputStream(pa.PythonFile(raw, mode="r"), "zstd")


class _GzipStream:
    """gzip members, decompressed by ``zlib.decompressobj(wbits=31)`` (zlib reads the header
    and checks the CRC-32 and length itself) straight into the caller's buffer. ``GzipFile``
    decompresses into its own buffers through a Python-level reader and computes the CRC in a
    second pass (``zlib.crc32``). Like ``GzipFile``: members one after the other, zero bytes
    between them skipped, a stream cut before a member's end is an ``EOFError``."""

    CHUNK = 256 << 10

    def __init__(self, raw):
        import zlib

        self._zlib = zlib
        self._raw = raw
        self._d = zlib.decompressobj(31)
        self._started = False  # some input went into the current member
        self._eof = False
        self._pend, self._pos = b"", 0  # decoded bytes not handed out yet

    def readinto(self, mv) -> int:
        n = len(mv)
        while n:
            if self._pos < len(self._pend):  # output decoded by an earlier call
                k = min(n, len(self._pend) - self._pos)
                mv[:k] = memoryview(self._pend)[self._pos:self._pos + k]
                self._pos += k
                return k
            if self._eof:
                return 0
            d = self._d
            if d.eof:  # a member ended: the next one, after any zero padding (its bytes are
                # in unused_data; zlib leaves them in unconsumed_tail too, so test eof first)
                data = d.unused_data.lstrip(b"\0")
                while not data:
                    more = self._raw.read(self.CHUNK)
                    if not more:
                        self._eof = True
                        return 0
                    data = more.lstrip(b"\0")
                d = self._d = self._zlib.decompressobj(31)
                self._started = False
            elif d.unconsumed_tail:
                data = d.unconsumed_tail
            else:
                data = self._raw.read(self.CHUNK)
                if not data:
                    if not self._started:  # an empty file: no member at all
                        self._eof = True
                        return 0
                    raise EOFError("Compressed file ended before the end-of-stream marker "
                                   "was reached")
            self._started = True
            # at least CHUNK bytes a call: zlib copies the unconsumed input into a new
            # unconsumed_tail on every call, so small reads would copy it over and over
            out = d.decompress(data, max(n, self.CHUNK))
            if len(out) <= n:
                if out:
                    mv[:len(out)] = out
                    return len(out)
            else:
                self._pend, self._pos = out, 0
        return 0

    def close(self):
        pass


class _KeepOpen:
    """A file object whose ``close`` leaves the file open (it belongs to the caller)."""

    def __init__(self, f):
        self._f = f
        self.closed = False

    def read(self, n=-1):
        return self._f.read(n)

    def tell(self):
        return self._f.tell()

    def close(self):
        self.closed = True


class _Decompressed(io.RawIOBase):
    """A compressed file's decompressed bytes, read as a stream: the reader's read-ahead thread
    calls :meth:`readinto` with its own buffer, so decompression runs beside the parsing and
    memory does not grow with the file (the codecs keep a window of at most a few MiB).

    The codecs (zlib, Python's bz2 and lzma; pyarrow's zstd) release the GIL while they
    decompress.
    A corrupt or truncated stream, or a file that is not in this format, raises
    :class:`blockops.BlockopsIOError` naming the file, the codec, and how far it got in
    compressed (``.byte_offset``) and decompressed (``.decompressed_bytes``) bytes.
    """

    def __init__(self, raw, method: str, name: str, owned: bool):
        super().__init__()
        self._raw, self._method, self._name, self._owned = raw, method, name, owned
        self._out = 0
        if method == "gzip":
            self._d = _GzipStream(raw)
        elif method == "bz2":
            import bz2
            self._d = bz2.BZ2File(raw, mode="rb")
        elif method == "xz":
            import lzma
            self._d = lzma.LZMAFile(raw, mode="rb")
        elif method == "zstd":
            # pyarrow closes the file it reads when its stream is closed or collected: a
            # caller's file object is handed over behind a close that does nothing
            self._d = _zstd_reader(raw if owned else _KeepOpen(raw))
        else:  # compression_of checked it
            raise ValueError(f"unknown compression {method!r}")

    def readable(self) -> bool:
        return True

    def _raw_pos(self):
        try:
            return int(self._raw.tell())
        except Exception:  # a pipe or a minimal stream
            return None

    #: Most bytes decompressed per call: a stream that breaks off loses at most this much
    #: of what it decoded before (the caller's buffer is filled by several calls), and
    #: ``decompressed_bytes`` in the error is as close as that to where it broke.
    PIECE = 256 << 10

    def readinto(self, mv) -> int:
        mv = memoryview(mv).cast("B")
        if len(mv) > self.PIECE:
            mv = mv[:self.PIECE]
        try:
            k = self._d.readinto(mv)
        except Exception as e:
            if isinstance(e, (BlockopsIOError, MemoryError)):
                raise
            raise self._error(e) from e
        k = k or 0
        self._out += k
        return k

    def _error(self, e: BaseException) -> BlockopsIOError:
        pos = self._raw_pos()
        where = f"at compressed byte {pos:,}, " if pos is not None else ""
        cut = isinstance(e, EOFError) or "Truncated" in str(e)
        what = ("ends before its end-of-stream marker (truncated?)" if cut
                else f"cannot be decompressed ({type(e).__name__}: {e})")
        hint = ("" if self._out or cut else
                f"; is it {self._method}-compressed? compression= says which codec, "
                "or None for plain CSV")
        return BlockopsIOError(
            f"{self._name}: the {self._method} stream {what} {where}after "
            f"{self._out:,} decompressed bytes{hint}",
            path=self._name, compression=self._method, byte_offset=pos,
            decompressed_bytes=self._out)

    def read(self, n=-1) -> bytes:
        if n is None or n < 0:
            parts = []
            while True:
                b = self.read(1 << 20)
                if not b:
                    return b"".join(parts)
                parts.append(b)
        buf = bytearray(n)
        k = self.readinto(buf)
        return bytes(buf[:k])

    def close(self) -> None:
        if self.closed:
            return
        try:
            self._d.close()
        finally:
            if self._owned:
                self._raw.close()
            super().close()


class _RangeFile:
    """Bytes [start, end) of a file, read like a file (a Dask partition's byte range). ``f``
    is the open file (local, unbuffered; or an fsspec file, which reads ranges)."""

    def __init__(self, f, start, end):
        self._f = f
        self.prev_cr = False  # the byte before the range ends a line with CR (line counting)
        if start:
            self._f.seek(start - 1)
            self.prev_cr = self._f.read(1) == b"\r"
        self._f.seek(start)
        self._left = (end - start) if end is not None else None

    def read(self, n=-1):
        if self._left is not None:
            n = self._left if n < 0 else min(n, self._left)
            if n <= 0:
                return b""
        b = self._f.read(n)
        if self._left is not None:
            self._left -= len(b)
        return b

    def readinto(self, mv) -> int:
        mv = memoryview(mv).cast("B")
        if self._left is not None:
            if self._left <= 0:
                return 0
            mv = mv[:self._left]
        k = self._f.readinto(mv) or 0
        if self._left is not None:
            self._left -= k
        return k

    def close(self):
        self._f.close()


class _FsRange:
    """Bytes [start, end) of a file on an fsspec file system, each read one ranged request for
    exactly the bytes asked (at most ``PIECE``): the file is opened with fsspec's ``"none"``
    cache, so nothing before ``start`` or after ``end`` is fetched (the default caches read
    whole blocks ahead: 50 MiB for s3fs, 5 MiB for HTTP). A server that answers a range with
    other bytes than asked (no Range support, or a file that changed since it was planned)
    raises :class:`blockops.BlockopsIOError` naming the file and the range."""

    #: Most bytes fetched per request: each request's bytes are a temporary copy beside the
    #: reader's buffers, so this bounds the memory a read adds (object stores serve 8-16 MiB
    #: requests at full speed).
    PIECE = 8 << 20

    def __init__(self, fs, path, name, start: int, end: int, prev_cr: bool = False):
        self._name = name
        self._pos, self._end = start, end
        self._f = fs.open(path, "rb", block_size=self.PIECE, cache_type="none")
        try:
            # with prev_cr: whether the byte before the range ends a line with CR (the reader's
            # line counting, as _RangeFile), one more 1-byte request
            self.prev_cr = prev_cr and start > 0 and self._get(start - 1, 1) == b"\r"
        except BaseException:
            self._f.close()
            raise

    def _get(self, at: int, n: int) -> bytes:
        try:
            self._f.seek(at)
            data = self._f.read(n)
        except (ValueError, OSError) as e:  # fsspec's HTTP file: "doesn't appear to support
            if isinstance(e, BlockopsIOError):  # range requests"
                raise
            raise self._error(at, n, f"{type(e).__name__}: {e}") from e
        if len(data) != n:
            raise self._error(at, n, f"got {len(data):,} bytes")
        return data

    def _error(self, at: int, n: int, what: str) -> BlockopsIOError:
        return BlockopsIOError(
            f"{self._name}: a ranged read of bytes {at:,}-{at + n - 1:,} failed ({what}): the "
            "server does not serve byte ranges, or the file changed after it was planned "
            "(blockops.dask.read_csv(..., blocksize=None) reads each file whole, in one "
            "stream; an HTTP server without ranges also needs storage_options="
            "{'block_size': 0})",
            path=self._name, byte_offset=at)

    def pread(self, n: int, at: int) -> bytes:
        """``n`` bytes at offset ``at`` (anywhere in the file, as ``os.pread``), in requests of
        at most ``PIECE``."""
        if n <= 0:
            return b""
        parts = [self._get(a, min(self.PIECE, at + n - a)) for a in range(at, at + n, self.PIECE)]
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def readinto(self, mv) -> int:
        n = min(len(mv), self._end - self._pos, self.PIECE)
        if n <= 0:
            return 0
        mv = memoryview(mv).cast("B")
        mv[:n] = self._get(self._pos, n)
        self._pos += n
        return n

    def read(self, n=-1) -> bytes:
        """Up to ``n`` bytes (at most ``PIECE``: a short read, as from a pipe)."""
        left = min(self._end - self._pos, self.PIECE)
        n = left if n is None or n < 0 else min(n, left)
        if n <= 0:
            return b""
        data = self._get(self._pos, n)
        self._pos += n
        return data

    def close(self) -> None:
        self._f.close()


def _is_regular_file(path, nonempty: bool = False) -> bool:
    try:
        st = os.stat(path)
    except OSError:
        return False
    return stat.S_ISREG(st.st_mode) and (st.st_size > 0 or not nonempty)


class _MappedFile:
    """Bytes [start, end) of a regular file, served block by block as read-only views into
    memory-mapped windows: no read buffer, no copy, no read-ahead thread.

    Each block is one mapping of the bytes from its first unconsumed byte (the mapping starts
    at that offset rounded down to ``mmap.ALLOCATIONGRANULARITY``), so the partial row at the
    end of a block is simply mapped again at the start of the next window, and a row longer
    than the block just gets a longer window. :meth:`release` unmaps the window as soon as its
    block is converted, and the reader takes each parsed slice's pages out of RSS before (see
    ``maps``): file pages are only in this process's RSS while their slice is being tokenized
    and converted, whatever the file size. Reading ahead is left to the kernel: when a window
    is mapped, the next block's bytes are requested with ``POSIX_FADV_WILLNEED`` (what
    ``MADV_WILLNEED`` does for a file mapping, without mapping the next window yet), so the disk
    reads them while this block is parsed (the first block's bytes are requested before its
    window is touched). Not ``MADV_SEQUENTIAL``: Linux does not mark pages accessed through such
    a mapping when it is unmapped (``vma_has_recency``), so a file read this way would look
    unused to reclaim (LRU aging, DAMON) and leave the page cache sooner than one read with
    ``read()``, making the next read of the same file go to the disk.
    ``MAP_POPULATE`` (the whole window's page tables in the ``mmap`` call) measured no faster
    than the tokenizer's threads faulting the pages in (about 0.07 s per GB either way on a
    cached file, against 0.22 s per GB for ``readinto`` copies) and blocks on a cold file.

    The file is not copied, so truncating it while it is read is undefined (the process can
    get SIGBUS), as with pandas' and pyarrow's ``memory_map``; the size is taken when the file
    is opened, and bytes appended later are not read.
    """

    #: Blocks are views of a read-only file mapping: once a slice is parsed, its pages can be
    #: taken out of RSS (``MADV_DONTNEED``, see ``bo_csv_count_lines_par``) and come back from
    #: the page cache if read again.
    maps = True

    def __init__(self, path, start: int, end, blocksize: int, max_len: int,
                 drop_over: int | None = None):
        self._f = open(path, "rb", buffering=0)
        try:
            fd = self._f.fileno()
            size = os.fstat(fd).st_size
            self._end = size if end is None else min(end, size)
            self._start = min(start, self._end)
            self.prev_cr = False  # the byte before a range ends a line with CR (as _RangeFile)
            if start:
                self._f.seek(start - 1)
                self.prev_cr = self._f.read(1) == b"\r"
            if hasattr(os, "posix_fadvise") and self._end > self._start:
                os.posix_fadvise(fd, self._start, self._end - self._start,
                                 os.POSIX_FADV_SEQUENTIAL)
        except BaseException:
            self._f.close()
            raise
        self.blocksize = blocksize
        self.max_len = max_len
        self._mm = None
        self._off = self._hi = self._start  # the current view is file bytes [_off, _hi)
        self.eof = True
        # pages behind the reader leave the page cache when the file is larger than drop_over
        # (None: never); file bytes [_start, _dropped) have left it
        self._drop = drop_over is not None and size > drop_over and hasattr(os, "posix_fadvise")
        self._dropped = self._start

    def _map(self, off: int, hi: int):
        self.release()
        hi = max(off, min(self._end, hi))
        self._drop_to(off)  # bytes before off are never mapped again
        self._off, self._hi = off, hi
        self.eof = hi >= self._end
        if hi == off:
            return memoryview(b"")
        fd = self._f.fileno()
        base = off - off % mmap.ALLOCATIONGRANULARITY
        mm = mmap.mmap(fd, hi - base, access=mmap.ACCESS_READ, offset=base)
        self._mm = mm
        self._willneed(hi, self.blocksize)  # the next block's new bytes
        with memoryview(mm) as whole:
            return whole[off - base:]

    # The same bytes as _ReadAhead hands out (the unconsumed tail, then the next blocksize
    # bytes of the file), so both sources cut a file into the same blocks.
    def start(self, first: int):
        """The first ``first`` bytes."""
        self._willneed(self._start, first)
        return self._map(self._start, self._start + first)

    def _willneed(self, off: int, n: int) -> None:
        """Ask the kernel to start reading file bytes [off, off + n) (asynchronous; about
        2 ms per GB when they are cached already)."""
        n = min(n, self._end - off)
        if n > 0 and hasattr(os, "posix_fadvise"):
            os.posix_fadvise(self._f.fileno(), off, n, os.POSIX_FADV_WILLNEED)

    def next(self, consumed: int):
        """The next block: the bytes of the current one the caller did not consume, then the
        next ``blocksize`` bytes of the file."""
        return self._map(self._off + consumed, self._hi + self.blocksize)

    def grow(self, consumed: int):
        """The unconsumed bytes followed by (at least) as many more again, for a row or a
        header longer than the window: geometric growth, so a long row costs O(row) and not
        O(row^2 / blocksize); never beyond ``max_len`` (``blocksize + max_row_bytes``: the
        tokenizer stops a longer row first)."""
        off = self._off + consumed
        rest = self._hi - off
        return self._map(off, min(self._hi + self.blocksize + max(0, rest - self.blocksize),
                                  off + self.max_len))

    def release(self) -> None:
        """Unmap the current window. The caller has dropped its views of it; should one still
        be alive (a traceback holding a frame), the mapping lives until that view dies, so
        nothing ever points into unmapped memory."""
        mm, self._mm = self._mm, None
        if mm is not None:
            try:
                mm.close()
            except BufferError:
                log.debug("csv: a view of a mapped block is still alive; unmapped when it dies")

    def _drop_to(self, off: int) -> None:
        """Drop the file's pages before ``off`` from the page cache (``drop_over``), whole
        pages only: the page holding ``off`` is still being read. Only unmapped pages leave
        (the kernel skips mapped ones), so a view kept alive keeps its bytes."""
        off -= off % mmap.PAGESIZE
        if self._drop and off > self._dropped:
            os.posix_fadvise(self._f.fileno(), self._dropped, off - self._dropped,
                             os.POSIX_FADV_DONTNEED)
            self._dropped = off

    def close(self) -> None:
        self.release()
        self._drop_to(self._end + mmap.PAGESIZE - 1)  # and the pages read ahead (WILLNEED)
        self._f.close()


class _ReadAhead:
    """Double-buffered reading of one reader's files, one block ahead, without copying blocks:
    the source for file objects, pipes and other non-regular files (and ``memory_map=False``).

    Two buffers of ``headroom + blocksize`` bytes are allocated once per reader (NumPy, so pages
    are only touched when read into) and reused for every block of every file: while the
    caller parses the block in one buffer, the pool's thread reads the next one into the
    other, at offset ``headroom``. The caller's unconsumed tail (the partial row at the end of
    a block) is copied into the headroom just in front of the new bytes, so a block is one
    contiguous view and nothing is concatenated. A tail longer than the headroom (a row longer
    than ``headroom``), and the geometric growth for rows longer than a block, fall back to
    building a ``bytes`` object. At most ``MAX_BLOCKS_IN_FLIGHT`` raw blocks exist at once.

    Same interface as :class:`_MappedFile`: ``start``, then ``next``/``grow`` with the number of
    bytes of the last block the caller consumed.
    """

    maps = False  # blocks live in our buffers: never drop their pages (that would zero them)

    def __init__(self, pool, blocksize: int, first: int, max_len: int):
        self.blocksize = blocksize
        self.max_len = max_len
        self.headroom = min(max(blocksize // 8, 1 << 16), 8 << 20)
        cap = self.headroom + max(blocksize, first)
        self._bufs = [np.empty(cap, np.uint8), None]  # the second one when a file needs it
        self._pool = pool
        self._f = None
        self._pending = None  # (buffer index, future of the byte count, bytes asked for)
        self._data = None  # the last block handed out
        self.eof = True
        self.prev_cr = False

    def _buf(self, k: int) -> memoryview:
        if self._bufs[k] is None:
            self._bufs[k] = np.empty(len(self._bufs[0]), np.uint8)
        return memoryview(self._bufs[k])

    def _submit(self, k: int) -> None:
        dst = self._buf(k)[self.headroom:self.headroom + self.blocksize]
        self._pending = (k, self._pool.submit(_fill_from, self._f, dst), self.blocksize)

    def start(self, f, first: int) -> memoryview:
        """Read the first ``first`` bytes of file ``f`` (synchronously) and start reading ahead."""
        self.cancel()
        self._f = f
        self.prev_cr = getattr(f, "prev_cr", False)
        mv = self._buf(0)
        if first > len(mv) - self.headroom:
            raise ValueError("first read larger than the buffers")
        got = _fill_from(f, mv[self.headroom:self.headroom + first])
        self.eof = got < first
        if not self.eof:
            self._submit(1)
        self._data = mv[self.headroom:self.headroom + got]
        return self._data

    def next(self, consumed: int) -> "memoryview | bytes":
        """The next block: the bytes of the last one the caller did not consume + the bytes
        read ahead."""
        tail = self._data[consumed:]
        k, fut, asked = self._pending
        self._pending = None
        got = fut.result()
        self.eof = got < asked
        h = self.headroom
        mv = self._buf(k)
        rest = len(tail)
        if rest <= h:
            if rest:
                mv[h - rest:h] = tail  # tail lives in the other buffer (or is bytes): no overlap
            data = mv[h - rest:h + got]
        else:
            data = bytes(tail) + bytes(mv[h:h + got])
        if not self.eof:
            self._submit(1 - k)
        self._data = data
        return data

    def grow(self, consumed: int) -> bytes:
        """The unconsumed bytes followed by (at least) as many more again: for rows (or a
        header) longer than what is buffered; the caller's max_row_bytes bounds how far this
        goes."""
        data = self._data[consumed:]
        k, fut, asked = self._pending
        self._pending = None
        got = fut.result()
        self.eof = got < asked
        parts = [bytes(data), bytes(self._buf(k)[self.headroom:self.headroom + got])]
        want = min(len(data) - self.blocksize, self.max_len - len(data) - got)
        if not self.eof and want > 0:
            extra = _read_full_from(self._f.read, want)
            self.eof = len(extra) < want
            parts.append(extra)
        if not self.eof:
            self._submit(1 - k)
        self._data = b"".join(parts)
        return self._data

    def release(self) -> None:
        """Nothing to give back: the buffers are reused (the tail stays where it is)."""

    def cancel(self) -> None:
        """Wait for (and drop) a read still in flight, e.g. before its file is closed."""
        self._data = None
        if self._pending is not None:
            try:
                self._pending[1].result()
            except Exception:  # the error belongs to a read nobody wants any more
                pass
            self._pending = None


def _fill_from(f, mv: memoryview) -> int:
    """Read from ``f`` into ``mv`` until it is full or the file ends; returns the byte count."""
    readinto = getattr(f, "readinto", None)
    n = len(mv)
    got = 0
    while got < n:
        if readinto is not None:
            k = readinto(mv[got:]) or 0
        else:
            b = f.read(n - got)
            k = len(b)
            mv[got:got + k] = b
        if not k:
            break
        got += k
    return got


def _read_full_from(read, n):
    parts = []
    got = 0
    while got < n:
        b = read(n - got)
        if not b:
            break
        parts.append(b)
        got += len(b)
    if not parts:
        return b""
    return parts[0] if len(parts) == 1 else b"".join(parts)


def is_url(s: str) -> bool:
    """An fsspec URL (``s3://bucket/key``, ``https://...``, ``memory://...``, chained
    ``simplecache::s3://...``), not a local path."""
    return "://" in s or "::" in s


def url_fs(url: str, storage_options):
    """(fsspec file system, path inside it) of a URL; ``file://`` URLs give (None, local path),
    so local files keep memory mapping and sampled inference."""
    try:
        import fsspec.core
    except ImportError:  # pragma: no cover - fsspec is a dependency
        raise ImportError("URLs need fsspec: pip install fsspec (and s3fs, gcsfs, aiohttp for "
                          "s3://, gs://, https://)") from None
    fs, path = fsspec.core.url_to_fs(url, **(storage_options or {}))
    if type(fs).__name__ == "LocalFileSystem":
        return None, path
    return fs, path


def _expand(s: str, storage_options) -> list:
    """(display name, fs, path) of every file a path, URL or glob names."""
    magic = any(ch in s for ch in "*?[")
    if not is_url(s):
        # storage_options mean nothing to a local path (a file:// URL resolves to one, and a
        # Dask task re-opens it by that path with the same options): ignored, as fsspec's
        # local file system ignores them
        if magic and not os.path.exists(s):
            paths = sorted(glob.glob(s))
            if not paths:
                raise FileNotFoundError(f"no file matches {s!r}")
            return [(p, None, p) for p in paths]
        return [(s, None, s)]
    fs, path = url_fs(s, storage_options)
    if fs is None:
        return _expand(path, None)
    if magic and not (s.startswith(("http://", "https://")) and "?" in s and "*" not in s
                      and "[" not in s) and not fs.exists(path):
        paths = sorted(fs.glob(path))
        if not paths:
            raise FileNotFoundError(f"no file matches {s!r}")
        return [(fs.unstrip_protocol(p), fs, p) for p in paths]
    return [(s, fs, path)]


def _resolve_sources(source, compression="infer", storage_options=None) -> list[_Source]:
    if hasattr(source, "readinto") or hasattr(source, "read"):
        if isinstance(source, io.TextIOBase):
            raise TypeError("source must be opened in binary mode ('rb'), not text mode")
        if storage_options:
            raise ValueError("storage_options are for fsspec URLs, not file objects")
        name = str(getattr(source, "name", "<file object>"))
        # "infer" looks at a path only, as pandas does: a file object is read as it is unless
        # compression= names its codec
        codec = None if compression == "infer" else compression_of(name, compression)
        return [_Source(name, fileobj=source, compression=codec)]
    compression_of("", compression)  # check the argument before touching any file
    if isinstance(source, (str, os.PathLike)):
        found = _expand(os.fspath(source), storage_options)
    elif isinstance(source, (list, tuple)):
        if not source:
            raise ValueError("source is an empty list")
        found = [f for p in source for f in _expand(os.fspath(p), storage_options)]
    else:
        raise TypeError(f"source must be a path, a URL, a list of them, a glob or a binary file "
                        f"object, not {type(source).__name__}")
    out = []
    for name, fs, p in found:
        if fs is None:
            if not os.path.exists(p):
                raise FileNotFoundError(f"{p}: no such file")
            size = os.path.getsize(p)
        else:
            try:
                size = fs.size(p)
            except FileNotFoundError:
                raise FileNotFoundError(f"{name}: no such file") from None
            except Exception as e:  # a server that gives no size still serves the bytes
                if not fs.exists(p):
                    raise FileNotFoundError(f"{name}: no such file") from None
                log.debug("csv: no size for %s (%s)", name, e)
                size = None
        out.append(_Source(name, path=p, size=size, fs=fs, compression=compression_of(name, compression)))
    return out
