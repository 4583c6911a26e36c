"""Sample this process's resident memory in a background thread.

:class:`MemoryMonitor` is re-exported from :mod:`blockops.resources`. The benchmarks use it for
their memory columns.

Sizes are in bytes; "MB" in reports, :attr:`MemoryMonitor.growth_rate_mb_per_min` and plots
means MiB (2**20 bytes).
"""
from __future__ import annotations

import math
import numbers
import os
import threading
import time
from typing import Callable, List, Optional, Tuple

__all__ = ["MemoryMonitor"]

_MB = float(1 << 20)


def _default_rss() -> int:
    from .resources import rss  # lazy: this module imports even where resources cannot

    return rss()


def _default_peak_rss() -> int:
    from .resources import peak_rss

    return peak_rss()


def _slope(points: List[Tuple[float, int]]) -> float:
    """Least-squares slope (bytes per second) of rss over t; 0.0 if undefined."""
    n = len(points)
    if n < 2:
        return 0.0
    mt = math.fsum(t for t, _ in points) / n
    mr = math.fsum(r for _, r in points) / n
    sxx = math.fsum((t - mt) ** 2 for t, _ in points)
    if sxx <= 0.0:
        return 0.0
    sxy = math.fsum((t - mt) * (r - mr) for t, r in points)
    return sxy / sxx


class MemoryMonitor:
    """Sample the resident set size (RSS) of this process while a block of code runs.

    Parameters
    ----------
    interval : float, default 0.05
        Seconds between two samples of the background thread.
    rss_probe : callable, optional
        ``rss_probe() -> int`` bytes. Default :func:`blockops.resources.rss`.
    peak_probe : callable, optional
        ``peak_probe() -> int`` bytes, the process's high-water mark. If it grew between
        :meth:`start` and :meth:`stop`, its final value also counts toward :attr:`peak` (this
        catches spikes between two samples). Default :func:`blockops.resources.peak_rss` when
        ``rss_probe`` is the default too, else none (a fake RSS must not mix with the real
        high-water mark).
    clock : callable, optional
        Monotonic clock in seconds, default :func:`time.perf_counter`; injectable for tests.

    Notes
    -----
    One sample is taken synchronously by :meth:`start` and one by :meth:`stop`, so the timeline
    holds the state at both ends whatever the interval. The sampler is a daemon thread that
    waits on an :class:`threading.Event`, so :meth:`stop` returns promptly. Each :meth:`start`
    begins a new recording. :attr:`peak`, :attr:`timeline` and friends may be read while the
    monitor runs.

    Examples
    --------
    >>> with MemoryMonitor(interval=0.02) as mon:      # doctest: +SKIP
    ...     df = read_big_file()
    >>> print(mon.report())                              # doctest: +SKIP
    >>> mon.plot("rss.png")                              # doctest: +SKIP
    """

    def __init__(
        self,
        interval: float = 0.05,
        *,
        rss_probe: Optional[Callable[[], int]] = None,
        peak_probe: Optional[Callable[[], int]] = None,
        clock: Optional[Callable[[], float]] = None,
    ) -> None:
        if isinstance(interval, bool) or not isinstance(interval, numbers.Real):
            raise TypeError(
                f"interval must be a positive number of seconds, got "
                f"{type(interval).__name__} {interval!r}"
            )
        interval = float(interval)
        if not (0.0 < interval < math.inf):
            raise ValueError(f"interval must be a positive, finite number of seconds, got {interval!r}")
        for name, fn in (("rss_probe", rss_probe), ("peak_probe", peak_probe), ("clock", clock)):
            if fn is not None and not callable(fn):
                raise TypeError(f"{name} must be callable, got {type(fn).__name__}")
        self._interval = interval
        if rss_probe is None:
            self._rss = _default_rss
            self._peak_probe = peak_probe if peak_probe is not None else _default_peak_rss
        else:
            self._rss = rss_probe
            self._peak_probe = peak_probe
        self._clock = clock if clock is not None else time.perf_counter

        self._lock = threading.Lock()
        self._stop_event = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._timeline: List[Tuple[float, int]] = []
        self._t0: Optional[float] = None
        self._t_end: Optional[float] = None
        self._max_sample: Optional[int] = None
        self._peak_start: Optional[int] = None
        self._peak_end: Optional[int] = None
        self._error: Optional[BaseException] = None

    # -- sampling -----------------------------------------------------------------------------
    def _sample(self) -> None:
        t = self._clock()
        value = int(self._rss())
        with self._lock:
            self._timeline.append((t - self._t0, value))
            if self._max_sample is None or value > self._max_sample:
                self._max_sample = value

    def _run(self) -> None:
        try:
            while not self._stop_event.wait(self._interval):
                self._sample()
        except BaseException as exc:  # surfaced by stop()
            self._error = exc

    @property
    def running(self) -> bool:
        """True between :meth:`start` and :meth:`stop`."""
        return self._thread is not None

    def start(self) -> "MemoryMonitor":
        """Start a new recording (takes a first sample, then starts the sampler thread)."""
        if self._thread is not None:
            raise RuntimeError("MemoryMonitor is already running; call stop() first")
        with self._lock:
            self._timeline = []
            self._max_sample = None
            self._peak_end = None
            self._t_end = None
            self._error = None
        self._peak_start = int(self._peak_probe()) if self._peak_probe is not None else None
        self._t0 = self._clock()
        self._sample()
        self._stop_event.clear()
        thread = threading.Thread(target=self._run, name="blockops-MemoryMonitor", daemon=True)
        self._thread = thread
        thread.start()
        return self

    def stop(self) -> "MemoryMonitor":
        """Stop the sampler thread and take a final sample. A no-op if not running.

        Raises
        ------
        RuntimeError
            If the probe failed in the background thread (chained to the original error).
        """
        thread = self._thread
        if thread is None:
            if self._t0 is None:
                raise RuntimeError("MemoryMonitor.stop() called before start()")
            return self
        self._stop_event.set()
        thread.join()
        self._thread = None
        error, self._error = self._error, None
        try:
            self._sample()
        except Exception as exc:
            error = error if error is not None else exc
        self._t_end = self._clock() - self._t0
        if self._peak_probe is not None:
            self._peak_end = int(self._peak_probe())
        if error is not None:
            raise RuntimeError(f"MemoryMonitor's RSS probe failed: {error!r}") from error
        return self

    def __enter__(self) -> "MemoryMonitor":
        return self.start()

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.stop()
        else:
            try:
                self.stop()
            except RuntimeError:
                pass  # do not mask the exception raised in the with-block

    # -- results ------------------------------------------------------------------------------
    @property
    def interval(self) -> float:
        """Seconds between two background samples."""
        return self._interval

    @property
    def timeline(self) -> List[Tuple[float, int]]:
        """Copy of the samples: ``(seconds since start, rss bytes)``, oldest first."""
        with self._lock:
            return list(self._timeline)

    @property
    def samples(self) -> int:
        """Number of samples taken."""
        with self._lock:
            return len(self._timeline)

    @property
    def start_rss(self) -> Optional[int]:
        """First sample in bytes (None before :meth:`start`)."""
        with self._lock:
            return self._timeline[0][1] if self._timeline else None

    @property
    def end_rss(self) -> Optional[int]:
        """Latest sample in bytes (None before :meth:`start`)."""
        with self._lock:
            return self._timeline[-1][1] if self._timeline else None

    @property
    def peak(self) -> Optional[int]:
        """Highest RSS seen, in bytes (None before :meth:`start`).

        The maximum of the samples and, if the process's high-water mark rose during the
        recording, of its final value (which catches spikes between two samples).
        """
        with self._lock:
            peak = self._max_sample
        ps, pe = self._peak_start, self._peak_end
        if peak is not None and ps is not None and pe is not None and pe > ps:
            peak = max(peak, pe)
        return peak

    @property
    def duration(self) -> float:
        """Seconds recorded (up to now while running)."""
        if self._t0 is None:
            return 0.0
        if self._t_end is not None and self._thread is None:
            return self._t_end
        return self._clock() - self._t0

    @property
    def growth_rate(self) -> float:
        """Least-squares slope of RSS over time, in bytes per second."""
        return _slope(self.timeline)

    @property
    def growth_rate_mb_per_min(self) -> float:
        """Least-squares slope of RSS over time, in MiB per minute (0.0 with < 2 samples)."""
        return self.growth_rate * 60.0 / _MB

    def report(self) -> str:
        """Readable summary: samples, duration, start, end, peak and growth rate."""
        tl = self.timeline
        if not tl:
            return "MemoryMonitor: no samples (not started)"
        start, end, peak = tl[0][1], tl[-1][1], self.peak
        state = "running" if self.running else "stopped"
        return "\n".join(
            [
                f"MemoryMonitor ({state}): {len(tl)} samples over {self.duration:.2f} s "
                f"(interval {self._interval:g} s)",
                f"  start  {start / _MB:10.1f} MB",
                f"  end    {end / _MB:10.1f} MB  ({(end - start) / _MB:+.1f} MB)",
                f"  peak   {peak / _MB:10.1f} MB  ({(peak - start) / _MB:+.1f} MB over start)",
                f"  growth {self.growth_rate_mb_per_min:+10.2f} MB/min",
            ]
        )

    def plot(self, path, *, title: Optional[str] = None):
        """Write a PNG of RSS (MB) over time to ``path`` and return ``path``.

        Needs matplotlib (``pip install 'blockops[plot]'``). Uses the Agg canvas directly, so no
        GUI backend and no pyplot global state is involved.
        """
        try:
            from matplotlib.backends.backend_agg import FigureCanvasAgg
            from matplotlib.figure import Figure
        except ImportError as exc:
            raise ImportError(
                "MemoryMonitor.plot() needs matplotlib; install it with "
                "pip install 'blockops[plot]' (or pip install matplotlib)"
            ) from exc
        tl = self.timeline
        if not tl:
            raise ValueError("MemoryMonitor has no samples to plot; start() it first")
        ts = [t for t, _ in tl]
        mb = [r / _MB for _, r in tl]
        fig = Figure(figsize=(8, 4.5), dpi=100)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot(1, 1, 1)
        ax.plot(ts, mb, marker="." if len(tl) <= 200 else None, linewidth=1.2, label="RSS")
        peak = self.peak
        if peak is not None:
            ax.axhline(peak / _MB, color="tab:red", linestyle="--", linewidth=0.8,
                       label=f"peak {peak / _MB:.1f} MB")
        ax.set_xlabel("time since start (s)")
        ax.set_ylabel("RSS (MB)")
        ax.set_title(title if title is not None else
                     f"RSS over time (growth {self.growth_rate_mb_per_min:+.2f} MB/min)")
        ax.grid(True, alpha=0.3)
        ax.legend(loc="best")
        fig.tight_layout()
        fig.savefig(os.fspath(path), format="png")
        return path

    def __repr__(self) -> str:
        tl = self.timeline
        if not tl:
            return f"<MemoryMonitor interval={self._interval:g}s not started>"
        state = "running" if self.running else "stopped"
        return (
            f"<MemoryMonitor {state} samples={len(tl)} peak={self.peak / _MB:.1f}MB "
            f"growth={self.growth_rate_mb_per_min:+.2f}MB/min>"
        )
