"""CSV reader sources: files given by path (memory-mapped one block at a time), byte ranges of
files (a Dask or Ray partition), file objects and pipes (read ahead into two reused buffers),
and the expansion of globs and lists into sources."""
from __future__ import annotations

import glob
import io
import logging
import mmap
import os
import stat

import numpy as np

log = logging.getLogger("blockops")


_BOM = b"\xef\xbb\xbf"


class _Source:
    __slots__ = ("name", "path", "fileobj", "size", "start", "end")

    def __init__(self, name, path=None, fileobj=None, size=None, start=0, end=None):
        self.name, self.path, self.fileobj, self.size = name, path, fileobj, size
        self.start, self.end = start, end

    def open(self):
        if self.fileobj is not None:
            return self.fileobj, False
        if self.start or self.end is not None:
            return _RangeFile(self.path, self.start, self.end), True
        return open(self.path, "rb", buffering=0), True


class _RangeFile:
    """Bytes [start, end) of a file, read like a file (a Dask partition's byte range)."""

    def __init__(self, path, start, end):
        self._f = open(path, "rb", buffering=0)
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

    def __init__(self, path, start: int, end, blocksize: int, max_len: int):
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

    def _map(self, off: int, hi: int):
        self.release()
        hi = max(off, min(self._end, hi))
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

    def close(self) -> None:
        self.release()
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


def _resolve_sources(source) -> list[_Source]:
    if hasattr(source, "readinto") or hasattr(source, "read"):
        if isinstance(source, io.TextIOBase):
            raise TypeError("source must be opened in binary mode ('rb'), not text mode")
        return [_Source(str(getattr(source, "name", "<file object>")), fileobj=source)]
    if isinstance(source, (str, os.PathLike)):
        s = os.fspath(source)
        if any(ch in s for ch in "*?[") and not os.path.exists(s):
            paths = sorted(glob.glob(s))
            if not paths:
                raise FileNotFoundError(f"no file matches {s!r}")
        else:
            paths = [s]
    elif isinstance(source, (list, tuple)):
        paths = [os.fspath(p) for p in source]
        if not paths:
            raise ValueError("source is an empty list")
    else:
        raise TypeError(f"source must be a path, a list of paths, a glob or a binary file object, "
                        f"not {type(source).__name__}")
    out = []
    for p in paths:
        if not os.path.exists(p):
            raise FileNotFoundError(f"{p}: no such file")
        out.append(_Source(p, path=p, size=os.path.getsize(p)))
    return out
