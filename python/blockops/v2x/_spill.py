"""Staged parts written past the page cache.

Pass 1 of a two-pass run spills most of its cleaned parts (about 60 % of the input's bytes at
150 M rows) and pass 2 reads each back once. Written with ``write()``, every byte is copied
into the page cache by the kernel, and on the machines measured that copy cost 1.2-2.2 CPU
seconds a GB, charged to the process as system time: at 150 M rows a third of a core for the
whole of pass 1 (benchmarks/RESULTS.md, session 18). With ``O_DIRECT`` the disk reads the
bytes from the process's memory itself (0.05 CPU seconds a GB measured), so the part is first
serialized into a page-aligned buffer of this process and written from there; pass 2 brings
the next part back into the page cache while it works on one (:func:`page_in`) and reads each
through a mapping.

``O_DIRECT`` is Linux's, and not every file system takes it (tmpfs refuses it at ``open``):
where it is missing or refused, the part is written with plain writes, as before.
"""
from __future__ import annotations

import mmap
import os
import threading

#: The alignment O_DIRECT needs of a write's buffer, offset and length: a page covers every
#: logical block size in use (512 or 4,096 bytes).
_ALIGN = mmap.PAGESIZE


def _round_up(n: int) -> int:
    return -(-n // _ALIGN) * _ALIGN


class AlignedBuffers:
    """Page-aligned anonymous mappings, reused: a fresh mapping for every part would fault in
    (and zero) every page of it again. At most as many live as writes run at once; ``close``
    gives them back to the system."""

    def __init__(self):
        self._lock = threading.Lock()
        self._free: list[mmap.mmap] = []

    def take(self, n: int) -> mmap.mmap:
        with self._lock:
            for i, m in enumerate(self._free):
                if len(m) >= n:
                    return self._free.pop(i)
            old = self._free.pop() if self._free else None
        if old is not None:  # too small for this part: replaced by a larger one
            old.close()
        return mmap.mmap(-1, _round_up(max(n, 1 << 20)))

    def give(self, m: mmap.mmap) -> None:
        with self._lock:
            self._free.append(m)

    def close(self) -> None:
        with self._lock:
            free, self._free = self._free, []
        for m in free:
            try:
                m.close()
            except BufferError:  # a failed write's traceback still holds a view: freed with it
                pass


def _open_direct(path: str) -> int | None:
    """``path`` opened for writing with O_DIRECT, or None where that is not available."""
    flag = getattr(os, "O_DIRECT", 0)
    if not flag:
        return None
    try:
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | flag, 0o666)
    except OSError as e:
        import errno

        if e.errno == errno.EINVAL:  # the file system does not do direct I/O
            return None
        raise


def _write_plain(table, path: str) -> None:
    import pyarrow as pa

    with pa.OSFile(path, "wb") as f, pa.ipc.new_file(f, table.schema) as w:
        w.write_table(table)


def write_ipc(table, path: str, buffers: AlignedBuffers) -> bool:
    """Write ``table`` to ``path`` as an uncompressed Arrow IPC file, past the page cache where
    the file system allows it. Returns True if it was written with O_DIRECT."""
    import errno

    import pyarrow as pa

    fd = _open_direct(path)
    if fd is None:
        _write_plain(table, path)
        return False
    direct = True
    try:
        mock = pa.MockOutputStream()  # the file's size, without writing it
        with pa.ipc.new_file(mock, table.schema) as w:
            w.write_table(table)
        n = mock.size()
        buf = buffers.take(n)
        try:
            with pa.ipc.new_file(pa.FixedSizeBufferWriter(pa.py_buffer(buf)), table.schema) as w:
                w.write_table(table)
            with memoryview(buf) as whole, whole[:_round_up(n)] as view:
                done = 0  # the tail past n is cut off below
                while done < len(view):  # a short direct write still ends on a block
                    with view[done:] as rest:
                        done += os.write(fd, rest)
        except OSError as e:
            if e.errno != errno.EINVAL:
                raise
            direct = False  # a device whose blocks are larger than a page: written plainly
        finally:
            buffers.give(buf)
        if direct:
            os.ftruncate(fd, n)
    finally:
        os.close(fd)
    if not direct:
        _write_plain(table, path)
    return direct


def read_ipc(path: str):
    """The Arrow IPC file at ``path`` as a table whose columns point into a mapping of the
    file (:func:`page_in` it first if it was written past the page cache)."""
    import pyarrow as pa

    return pa.ipc.open_file(pa.memory_map(path)).read_all()


#: Bytes mapped at a time by :func:`page_in`: what it adds to the process's RSS, briefly.
_PAGE_IN_WINDOW = 4 << 20


def page_in(path: str) -> int:
    """Bring the file at ``path`` into the page cache and return its size. Meant to run on a
    thread one part ahead: a part written past the page cache is only on the disk, and the
    code using its columns would otherwise wait on page faults that read it. All of the file
    is requested at once (``POSIX_FADV_WILLNEED``), then each page is touched through a small
    mapping that is dropped again, so the part is in memory without being in this process's
    RSS (reading it ahead as a table held one more part there, enough to lift the run's peak).
    (Reading it with O_DIRECT into fresh memory measured slower: the kernel zeroes every new
    page first.)"""
    import numpy as np

    with open(path, "rb") as f:
        fd = f.fileno()
        size = os.fstat(fd).st_size
        if hasattr(os, "posix_fadvise"):
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_WILLNEED)
        for off in range(0, size, _PAGE_IN_WINDOW):
            with mmap.mmap(fd, min(_PAGE_IN_WINDOW, size - off), access=mmap.ACCESS_READ,
                           offset=off) as m:
                np.frombuffer(m, np.uint8)[::mmap.PAGESIZE].max()
    return size
