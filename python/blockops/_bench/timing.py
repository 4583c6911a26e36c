"""Timing and reporting helpers shared by the blockops benchmarks.

Best-of-k wall-clock timing with ``time.perf_counter`` after warm-up calls,
with the garbage collector off while timing (as ``timeit`` does), plus the
machine description, the command line and peak RSS used by every report.
"""

from __future__ import annotations

import datetime as _dt
import gc
import os
import platform
import resource
import shlex
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

__all__ = [
    "Timing",
    "best_of",
    "cpu_model",
    "effective_cpus",
    "peak_rss_bytes",
    "command_line",
    "utc_now",
    "format_bytes",
    "format_table",
    "markdown_table",
    "child_main",
    "run_child",
    "self_peak_rss",
    "self_rss",
    "warm_page_cache",
    "mem_total_gib",
]


@dataclass
class Timing:
    """Result of :func:`best_of`: best and all timed wall-clock seconds."""

    best: float
    times: list[float] = field(default_factory=list)
    warmup: int = 0

    @property
    def median(self) -> float:
        s = sorted(self.times)
        m = len(s) // 2
        return s[m] if len(s) % 2 else 0.5 * (s[m - 1] + s[m])


def best_of(fn: Callable[[], Any], *, k: int = 5, warmup: int = 1) -> Timing:
    """Call ``fn`` ``warmup`` times untimed, then ``k`` times; return the best.

    The garbage collector is collected once and disabled during the timed
    calls so that a collection triggered by an unrelated allocation does not
    land in one sample. The return value of ``fn`` is dropped after each call
    (before the next call starts), so freeing a large result is timed with the
    call that produced it, as it would be in a loop in user code.
    """
    if k < 1:
        raise ValueError("k must be >= 1")
    for _ in range(max(0, warmup)):
        r = fn()
        del r
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    times: list[float] = []
    try:
        for _ in range(k):
            t0 = time.perf_counter()
            r = fn()
            del r
            times.append(time.perf_counter() - t0)
    finally:
        if was_enabled:
            gc.enable()
    return Timing(best=min(times), times=times, warmup=warmup)


def cpu_model() -> str:
    """CPU model name from /proc/cpuinfo (Linux) or platform as a fallback."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def effective_cpus() -> int:
    """CPUs this process may run on (affinity mask), else os.cpu_count()."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def peak_rss_bytes() -> int:
    """Peak resident set size of this process (resource.getrusage)."""
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return int(r) if sys.platform == "darwin" else int(r) * 1024


def _proc_status_kib(field_name: str) -> int:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    return 0


def self_peak_rss() -> int:
    """Peak RSS of this process in bytes: VmHWM of /proc/self/status (Linux), else ru_maxrss.

    Read inside the process that did the work: ru_maxrss of RUSAGE_CHILDREN seen from a
    parent is the largest of all its children, not the one that ran the reader."""
    try:
        return _proc_status_kib("VmHWM") * 1024
    except OSError:  # not Linux
        return peak_rss_bytes()


def self_rss() -> int:
    """Current RSS of this process in bytes (VmRSS), 0 where /proc is missing."""
    try:
        return _proc_status_kib("VmRSS") * 1024
    except OSError:
        return 0


def warm_page_cache(path: str) -> float:
    """Read a file once so that every reader finds it in the page cache; returns seconds."""
    t0 = time.perf_counter()
    buf = bytearray(16 << 20)
    with open(path, "rb", buffering=0) as f:
        while f.readinto(buf):
            pass
    return time.perf_counter() - t0


def evict_page_cache(path: str) -> None:
    """Drop a file's clean pages from the page cache (``POSIX_FADV_DONTNEED``; needs no
    privileges, unlike ``/proc/sys/vm/drop_caches``), so that the next reader reads it from
    the disk. Dirty pages are written first (``fsync``): the kernel keeps those."""
    with open(path, "rb") as f:
        os.fsync(f.fileno())
        os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)


def cached_bytes(path: str) -> int | None:
    """Bytes of a file now in the page cache (util-linux ``fincore``), or None when it cannot
    be told: the check that :func:`evict_page_cache` did its work."""
    import shutil
    import subprocess

    exe = shutil.which("fincore")
    if exe is None:
        return None
    try:
        out = subprocess.run([exe, "--bytes", "--noheadings", "--raw", "--output", "RES", path],
                             capture_output=True, text=True, timeout=60, check=True).stdout
        return int(out.split()[0])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return None


def cold_read_seconds(path: str) -> float:
    """The disk's sequential read time of a file: evicted from the page cache, then read
    once in 16 MiB reads (the floor of any reader of it); evicted again afterwards."""
    evict_page_cache(path)
    s = warm_page_cache(path)
    evict_page_cache(path)
    return s


def mem_total_gib() -> float:
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return float("nan")


def run_child(module: str, spec: dict, env_extra: dict, timeout: float
              ) -> tuple[bool, dict, str]:
    """Run ``python -m module --child <spec as JSON>`` in a fresh interpreter (the other side
    of :func:`child_main`) with ``env_extra`` added to the environment; returns
    ``(ok, result, error)``, the error being the child's last line on stderr."""
    import json
    import subprocess

    env = dict(os.environ)
    env.update(env_extra)
    cmd = [sys.executable, "-m", module, "--child", json.dumps(spec)]
    try:
        cp = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        return False, {}, f"timed out after {timeout:.0f} s"
    lines = [ln for ln in cp.stdout.splitlines() if ln.startswith("{")]
    if cp.returncode != 0 or not lines:
        err = (cp.stderr.strip().splitlines() or [f"exit code {cp.returncode}"])[-1]
        return False, {"stderr": cp.stderr[-4000:]}, err
    return True, json.loads(lines[-1]), ""


def format_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024.0
    return f"{n:.1f} GiB"  # pragma: no cover


def command_line(argv: Sequence[str], default_prefix: str) -> str:
    """Reconstruct the command that ran this benchmark.

    ``argv`` are the benchmark's own arguments. The prefix is taken from how
    the interpreter was started: ``python -m blockops bench geo``,
    ``python -m blockops._bench.geo`` or ``python path/to/script.py``; when
    that cannot be told, ``default_prefix`` is used. ``BLOCKOPS_*`` variables
    in the environment are shown in front, since they change what runs.
    """
    prefix = default_prefix
    arg0 = sys.argv[0] if sys.argv else ""
    base = os.path.basename(arg0)
    if base == "__main__.py" and os.path.basename(os.path.dirname(arg0)) == "blockops":
        # python -m blockops bench geo ...: the sub-command words precede argv
        words = list(sys.argv[1:])
        n_own = len(argv)
        head = words[: len(words) - n_own] if n_own and words[len(words) - n_own:] == list(argv) else words[:2]
        prefix = "python -m blockops " + " ".join(shlex.quote(w) for w in head)
    elif base == "geo.py" and os.path.basename(os.path.dirname(arg0)) == "_bench":
        prefix = "python -m blockops._bench.geo"
    elif arg0.endswith(".py") and base != "__main__.py":
        try:
            shown = os.path.relpath(arg0)
        except ValueError:
            shown = arg0
        prefix = "python " + shlex.quote(shown)
    env = " ".join(
        f"{k}={shlex.quote(v)}" for k, v in sorted(os.environ.items())
        if k.startswith("BLOCKOPS_") or k in ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS")
    )
    cmd = prefix + ("" if not argv else " " + shlex.join(list(argv)))
    return (env + " " + cmd) if env else cmd


def utc_now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]],
                 align: Sequence[str] | None = None) -> str:
    """Plain-text table; ``align`` is a sequence of '<' / '>' per column."""
    cols = len(header)
    align = list(align) if align else ["<"] * cols
    widths = [len(h) for h in header]
    for r in rows:
        for i, c in enumerate(r):
            widths[i] = max(widths[i], len(c))
    def line(cells: Sequence[str]) -> str:
        return "  ".join(f"{c:{a}{w}}" for c, a, w in zip(cells, align, widths)).rstrip()
    out = [line(header), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in rows]
    return "\n".join(out)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]],
                   align: Sequence[str] | None = None) -> str:
    align = list(align) if align else ["<"] * len(header)
    def esc(s: str) -> str:
        return s.replace("|", "\\|")
    out = ["| " + " | ".join(esc(h) for h in header) + " |",
           "|" + "|".join(("---:" if a == ">" else ":---") for a in align) + "|"]
    out += ["| " + " | ".join(esc(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def child_main(argv: Sequence[str], run: Callable[[dict], dict]) -> int | None:
    """The child side of a benchmark that runs each contender in a fresh interpreter.

    When ``argv`` is ``["--child", <json spec>, ...]``, runs ``run(spec)``, prints its result
    as one JSON line on stdout and returns the exit code (1 with the traceback and a one-line
    reason on stderr when it raised); otherwise returns None and the caller parses its own
    arguments.
    """
    import json
    import traceback

    if list(argv[:1]) != ["--child"]:
        return None
    try:
        print(json.dumps(run(json.loads(argv[1]))), flush=True)
        return 0
    except Exception as exc:  # reported by the parent, with the traceback on stderr
        traceback.print_exc()
        # one line, the parent reports the last one (Dask's messages end in a hint, not the
        # reason)
        print(" ".join(f"{type(exc).__name__}: {exc}".split())[:600], file=sys.stderr)
        return 1


def timed_call(fn: Callable[[], Any]) -> tuple:
    """``(result, wall s, CPU s)`` of ``fn()`` after a ``gc.collect()``: CPU is this process's
    own user + system time (getrusage(RUSAGE_SELF)), the reader children's per-CPU measure."""
    gc.collect()
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    w0 = time.perf_counter()
    res = fn()
    w1 = time.perf_counter()
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    return res, w1 - w0, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
