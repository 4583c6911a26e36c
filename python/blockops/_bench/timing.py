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
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
