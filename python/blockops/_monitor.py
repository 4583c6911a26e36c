"""Sample this process's resident memory in a background thread.

:class:`MemoryMonitor` is re-exported from :mod:`blockops.resources`. The benchmarks use it for
their memory columns.

Sizes are in bytes; "MB" in reports, :attr:`MemoryMonitor.growth_rate_mb_per_min` and plots
means MiB (2**20 bytes).

Memory is bounded on runs of any length: the timeline keeps at most ``max_points`` points by
halving its resolution when full, each point the *largest* sample of its bucket (an average
would shave the peak off the plot), while the peak, the first and last samples, the sample
count and the growth rate are kept exactly over every sample.
"""
from __future__ import annotations

import dataclasses
import gc
import math
import numbers
import os
import threading
import time
from typing import Callable, List, Optional, Tuple

__all__ = ["MemoryMonitor", "MemoryEvent"]

_MB = float(1 << 20)


def _default_rss() -> int:
    from .resources import rss  # lazy: this module imports even where resources cannot

    return rss()


def _default_peak_rss() -> int:
    from .resources import peak_rss

    return peak_rss()


#: Default bound of the timeline: ~0.5 MB of points; at the default 0.05 s interval the first
#: halving comes after 3.4 minutes.
DEFAULT_MAX_POINTS = 4096
#: A level fires again only after RSS fell this far (a fraction of the limit) below it, so a
#: process hovering at a level does not call its callback at every sample.
REARM_MARGIN = 0.02
_MAX_EVENTS = 1000


@dataclasses.dataclass(frozen=True)
class MemoryEvent:
    """RSS crossed a level of :class:`MemoryMonitor` (what its callbacks receive).

    ``level`` is the fraction of ``limit`` that was crossed, ``fraction`` where RSS is now,
    ``growth_rate`` the least-squares slope of RSS so far (bytes per second), ``emergency``
    whether it is the monitor's emergency level, ``collected`` the objects ``gc.collect()``
    freed before the callbacks ran (None when the monitor does not collect)."""

    time: float
    rss: int
    limit: int
    level: float
    fraction: float
    growth_rate: float
    emergency: bool
    collected: Optional[int] = None


def _default_limit() -> int:
    from .resources import system_memory

    return int(system_memory().effective_limit)


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
    max_points : int, default 4096
        Most points :attr:`timeline` holds (>= 8). When it is full, neighbouring points are
        merged in pairs keeping the larger RSS, and later samples are bucketed at the new
        resolution (:attr:`resolution` samples a point), so memory stays bounded on runs of
        any length and the timeline's maximum stays the true peak of the samples.
    limit : int, optional
        Bytes the levels are fractions of. Default: the memory this process may use, as the
        kernel enforces it (the container's cgroup limit, else physical memory; see
        :func:`blockops.resources.system_memory`), read at :meth:`start`.
    emergency : float or None, default 0.95
        The emergency level, a fraction of ``limit``: crossing it runs ``gc.collect()`` and
        the :meth:`on_emergency` callbacks. None: no emergency level.
    gc_collect : bool, default False
        Also run ``gc.collect()`` before the callbacks of every :meth:`on_threshold` level.

    Levels (the memory manager): :meth:`on_threshold` registers ``callback(event)`` for a
    fraction of ``limit``. It runs on the sampler thread (keep it short: free caches, flush,
    lower a concurrency limit) when a sample reaches the level, once until RSS falls
    ``REARM_MARGIN`` of the limit below the level again. :attr:`events` lists the crossings.
    An exception in a callback does not stop the sampling; :meth:`stop` raises it.

    Notes
    -----
    One sample is taken synchronously by :meth:`start` and one by :meth:`stop`, so the timeline
    holds the state at both ends whatever the interval (the first and the latest sample are
    always points of their own). The sampler is a daemon thread that
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
        max_points: int = DEFAULT_MAX_POINTS,
        limit: Optional[int] = None,
        emergency: Optional[float] = 0.95,
        gc_collect: bool = False,
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
        if isinstance(max_points, bool) or not isinstance(max_points, numbers.Integral):
            raise TypeError(f"max_points must be an int >= 8, got {type(max_points).__name__} "
                            f"{max_points!r}")
        if max_points < 8:
            raise ValueError(f"max_points must be >= 8, got {max_points!r}")
        self._max_points = int(max_points)
        # Middle buckets held before a halving: even, so that pairs merge with no odd one out;
        # with the first point, the bucket being filled and the latest point the timeline
        # never exceeds max_points.
        self._cap = (self._max_points - 3) & ~1
        self._interval = interval
        if rss_probe is None:
            self._rss = _default_rss
            self._peak_probe = peak_probe if peak_probe is not None else _default_peak_rss
        else:
            self._rss = rss_probe
            self._peak_probe = peak_probe
        self._clock = clock if clock is not None else time.perf_counter

        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, numbers.Integral)
                                  or limit <= 0):
            raise ValueError(f"limit must be a positive number of bytes, got {limit!r}")
        if emergency is not None:
            _check_fraction("emergency", emergency)
        self._limit_arg = None if limit is None else int(limit)
        self._limit: Optional[int] = self._limit_arg
        self._emergency = None if emergency is None else float(emergency)
        self._gc_collect = bool(gc_collect)
        # [level, callbacks, armed, emergency]; the emergency level is one of them
        self._levels: list = []
        if self._emergency is not None:
            self._levels.append([self._emergency, [], True, True])
        self._events: List[MemoryEvent] = []
        self._callback_error: Optional[BaseException] = None

        self._lock = threading.Lock()
        self._stop_event = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._t0: Optional[float] = None
        self._t_end: Optional[float] = None
        self._peak_start: Optional[int] = None
        self._peak_end: Optional[int] = None
        self._error: Optional[BaseException] = None
        self._reset()

    # -- sampling -----------------------------------------------------------------------------
    def _reset(self) -> None:
        """Forget the recording (caller holds the lock, or no thread runs yet)."""
        self._first: Optional[Tuple[float, int]] = None  # the first sample, always a point
        self._last: Optional[Tuple[float, int]] = None   # the latest sample after the first
        self._mid: List[Tuple[float, int]] = []          # full buckets: (t, rss) of their max
        self._cur: Optional[list] = None                 # bucket being filled: [t, rss, count]
        self._stride = 1                                  # samples per full bucket
        self._max_sample: Optional[int] = None
        # Welford running moments of (t, rss): the least-squares slope over every sample in
        # O(1) memory, without the cancellation of raw sums (rss ~1e10 bytes, t up to days).
        self._n = 0
        self._mean_t = 0.0
        self._mean_r = 0.0
        self._m2_t = 0.0
        self._c_tr = 0.0

    def _push_mid(self, point: Tuple[float, int]) -> None:
        """Add a sample that is neither the first nor the latest to the bucketed middle."""
        cur = self._cur
        if cur is None:
            cur = self._cur = [point[0], point[1], 0]
        elif point[1] > cur[1]:
            cur[0], cur[1] = point
        cur[2] += 1
        if cur[2] >= self._stride:
            self._mid.append((cur[0], cur[1]))
            self._cur = None
            if len(self._mid) >= self._cap:
                # halve the resolution: each pair becomes its larger point (the peak survives)
                m = self._mid
                self._mid = [a if a[1] >= b[1] else b for a, b in zip(m[0::2], m[1::2])]
                self._stride *= 2

    def _record(self, t: float, value: int) -> None:
        """Account for one sample (caller holds the lock)."""
        self._n += 1
        dt = t - self._mean_t
        self._mean_t += dt / self._n
        self._mean_r += (value - self._mean_r) / self._n
        self._m2_t += dt * (t - self._mean_t)
        self._c_tr += dt * (value - self._mean_r)
        if self._max_sample is None or value > self._max_sample:
            self._max_sample = value
        if self._first is None:
            self._first = (t, value)
            return
        if self._last is not None:
            self._push_mid(self._last)
        self._last = (t, value)

    def _sample(self) -> None:
        t = self._clock()
        value = int(self._rss())
        with self._lock:
            self._record(t - self._t0, value)
        if self._levels and self._limit:
            self._check_levels(t - self._t0, value)

    # -- memory manager -----------------------------------------------------------------------
    def on_threshold(self, fraction: float, callback: Callable[[MemoryEvent], object]
                     ) -> "MemoryMonitor":
        """Call ``callback(event)`` when RSS reaches ``fraction`` of :attr:`limit` (see the
        class notes). Returns the monitor, so calls chain."""
        _check_fraction("fraction", fraction)
        if not callable(callback):
            raise TypeError(f"callback must be callable, got {type(callback).__name__}")
        with self._lock:
            for lv in self._levels:
                if lv[0] == float(fraction) and not lv[3]:
                    lv[1].append(callback)
                    break
            else:
                self._levels.append([float(fraction), [callback], True, False])
                self._levels.sort(key=lambda lv: lv[0])
        return self

    def on_emergency(self, callback: Callable[[MemoryEvent], object]) -> "MemoryMonitor":
        """Call ``callback(event)`` at the emergency level (after ``gc.collect()``)."""
        if not callable(callback):
            raise TypeError(f"callback must be callable, got {type(callback).__name__}")
        with self._lock:
            for lv in self._levels:
                if lv[3]:
                    lv[1].append(callback)
                    return self
        raise ValueError("this monitor has no emergency level (emergency=None)")

    @property
    def limit(self) -> Optional[int]:
        """Bytes the levels are fractions of (known after :meth:`start` when not given)."""
        return self._limit

    @property
    def events(self) -> List[MemoryEvent]:
        """The level crossings so far (the latest 1000), oldest first."""
        with self._lock:
            return list(self._events)

    def _check_levels(self, t: float, value: int) -> None:
        limit = self._limit
        frac = value / limit
        fire = []
        with self._lock:
            for lv in self._levels:
                level, callbacks, armed, emergency = lv
                if armed and frac >= level:
                    lv[2] = False
                    fire.append((level, list(callbacks), emergency))
                elif not armed and frac < level - REARM_MARGIN:
                    lv[2] = True
        for level, callbacks, emergency in fire:
            collected = gc.collect() if (emergency or self._gc_collect) else None
            event = MemoryEvent(t, value, limit, level, frac, self.growth_rate, emergency,
                                collected)
            with self._lock:
                self._events.append(event)
                del self._events[:-_MAX_EVENTS]
            for cb in callbacks:
                try:
                    cb(event)
                except Exception as exc:  # raised by stop(); the sampling goes on
                    if self._callback_error is None:
                        self._callback_error = exc

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
            self._reset()
            self._peak_end = None
            self._t_end = None
            self._error = None
            self._events = []
            self._callback_error = None
            for lv in self._levels:
                lv[2] = True
        if self._levels and self._limit_arg is None:
            self._limit = _default_limit()
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
        cb_error, self._callback_error = self._callback_error, None
        if cb_error is not None:
            raise RuntimeError(f"a MemoryMonitor callback failed: {cb_error!r}") from cb_error
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
    def max_points(self) -> int:
        """Most points :attr:`timeline` holds."""
        return self._max_points

    def _timeline_locked(self) -> List[Tuple[float, int]]:
        if self._first is None:
            return []
        tl = [self._first, *self._mid]
        if self._cur is not None:
            tl.append((self._cur[0], self._cur[1]))
        if self._last is not None:
            tl.append(self._last)
        return tl

    @property
    def timeline(self) -> List[Tuple[float, int]]:
        """Copy of the timeline: ``(seconds since start, rss bytes)``, oldest first.

        Every sample while fewer than ``max_points`` were taken. Beyond, the first and the
        latest sample and, between them, one point per :attr:`resolution` samples: the
        largest of them (with its time), so ``max(rss)`` over the timeline is the peak sample.
        """
        with self._lock:
            return self._timeline_locked()

    @property
    def resolution(self) -> int:
        """Samples per timeline point between the first and the latest (1 until the first
        halving, then 2, 4, ...)."""
        with self._lock:
            return self._stride

    @property
    def samples(self) -> int:
        """Number of samples taken (all of them, not only the timeline's points)."""
        with self._lock:
            return self._n

    @property
    def start_rss(self) -> Optional[int]:
        """First sample in bytes (None before :meth:`start`)."""
        with self._lock:
            return self._first[1] if self._first is not None else None

    @property
    def end_rss(self) -> Optional[int]:
        """Latest sample in bytes (None before :meth:`start`)."""
        with self._lock:
            p = self._last if self._last is not None else self._first
            return p[1] if p is not None else None

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
        """Least-squares slope of RSS over time, in bytes per second, over every sample
        (0.0 with fewer than 2 samples or no time between them)."""
        with self._lock:
            if self._n < 2 or not self._m2_t > 0.0:
                return 0.0
            return self._c_tr / self._m2_t

    @property
    def growth_rate_mb_per_min(self) -> float:
        """Least-squares slope of RSS over time, in MiB per minute (0.0 with < 2 samples)."""
        return self.growth_rate * 60.0 / _MB

    def report(self) -> str:
        """Readable summary: samples, duration, start, end, peak and growth rate."""
        with self._lock:
            n, points, stride = self._n, len(self._timeline_locked()), self._stride
        if not n:
            return "MemoryMonitor: no samples (not started)"
        start, end, peak = self.start_rss, self.end_rss, self.peak
        state = "running" if self.running else "stopped"
        kept = "" if points == n else f"; timeline {points} points, max of each {stride}"
        return "\n".join(
            [
                f"MemoryMonitor ({state}): {n} samples over {self.duration:.2f} s "
                f"(interval {self._interval:g} s{kept})",
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

    def _repr_html_(self) -> str:
        from . import _html

        n = self.samples
        if not n:
            return _html.table([("state", "not started")], "MemoryMonitor")
        start, end, peak = self.start_rss, self.end_rss, self.peak
        rows = [("state", "running" if self.running else "stopped"),
                ("samples", f"{n} over {self.duration:.2f} s"),
                ("start", f"{start / _MB:.1f} MiB"), ("end", f"{end / _MB:.1f} MiB"),
                ("peak", f"{peak / _MB:.1f} MiB ({(peak - start) / _MB:+.1f})"),
                ("growth", f"{self.growth_rate_mb_per_min:+.2f} MiB/min")]
        if self._limit:
            rows.append(("limit", f"{self._limit / _MB:.0f} MiB (peak "
                         f"{100 * peak / self._limit:.1f}%)"))
        events = self.events
        if events:
            rows.append(("levels crossed", ", ".join(
                f"{e.level:.0%}{' (emergency)' if e.emergency else ''} at {e.time:.2f} s"
                for e in events[-5:])))
        return _html.table(rows, "MemoryMonitor") + _html.rss_svg(self.timeline, peak,
                                                                  self._limit)

    def __repr__(self) -> str:
        n = self.samples
        if not n:
            return f"<MemoryMonitor interval={self._interval:g}s not started>"
        state = "running" if self.running else "stopped"
        return (
            f"<MemoryMonitor {state} samples={n} peak={self.peak / _MB:.1f}MB "
            f"growth={self.growth_rate_mb_per_min:+.2f}MB/min>"
        )


def _check_fraction(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 < value <= 1.0:
        raise ValueError(f"{name} must be a fraction of the limit in (0, 1], got {value!r}")
