"""A counting semaphore whose permit limit follows the memory the machine has left.

:class:`DynamicSemaphore` is re-exported from :mod:`blockops.resources`.

The limit is a function of the free fraction ``f = available / total`` of memory (by default
``effective_available / effective_limit`` from :func:`blockops.resources.system_memory`, so a
container's cgroup limit counts):

* ``f >= 1 - eta``: ``max_permits`` (no pressure);
* ``f <= 0``: 1 (one task may always run, so work cannot deadlock);
* in between, linear from 1 at ``f = 0`` to ``max_permits`` at ``f = 1 - eta``, rounded down:
  ``1 + floor((max_permits - 1) * f / (1 - eta))``.

``formula="oppnda"`` gives the original tool's limit instead (OppNDA's ``DynamicSemaphore``):
``max(1, int(max_permits * (1 - pressure)))`` with ``pressure = (1 - eta - f) / (1 - eta)``,
i.e. ``max(1, floor(max_permits * f / (1 - eta)))`` below the threshold. It is never larger
than the default and at most one permit smaller: its floor reaches 0 on the lowest step and
the clamp to 1 merges that step into the next, so one permit covers twice the free-memory range
of every other value; the default spreads ``max_permits - 1`` equal steps over ``[0, 1 - eta]``.

Holders are never pre-empted: when the limit drops below the number of permits in use, running
holders keep theirs and only new acquires wait. Waiters sleep on a condition variable and are
woken by :meth:`DynamicSemaphore.release`, by any probe that sees the limit grow, and at the
latest every ``recheck_interval`` seconds, when they probe memory again.

Probing costs ~70 us with the default probe (it reads ``/proc/meminfo`` and the cgroup files),
~30 times an uncontended acquire + release, so an acquire reuses the limit of a probe at most
``probe_interval`` seconds old (default 20 ms; memory pressure builds over seconds, not
milliseconds). A waiter whose re-check interval ran out always probes afresh, and
:meth:`DynamicSemaphore.current_limit` always probes.
"""
from __future__ import annotations

import math
import numbers
import threading
import time
from typing import Callable, Optional, Tuple

__all__ = ["DynamicSemaphore", "FORMULAS", "permit_limit"]

MemoryProbe = Callable[[], Tuple[float, float]]

# Slack for the floor in the linear part: (max - 1) * f / (1 - eta) that is mathematically an
# integer must not be floored to the integer below by float rounding (e.g. eta = 0.7).
_FLOOR_SLACK = 1e-9

#: Permit formulas: "linear" (blockops) and "oppnda" (the original tool's, see the module doc).
FORMULAS = ("linear", "oppnda")


def _check_formula(formula: object) -> str:
    if formula not in FORMULAS:
        raise ValueError(f"formula must be one of {FORMULAS}, got {formula!r}")
    return str(formula)


def _check_max_permits(max_permits: object) -> int:
    if isinstance(max_permits, bool) or not isinstance(max_permits, numbers.Integral):
        raise TypeError(
            f"max_permits must be an int >= 1, got {type(max_permits).__name__} {max_permits!r}"
        )
    if max_permits < 1:
        raise ValueError(f"max_permits must be >= 1, got {max_permits}")
    return int(max_permits)


def _check_eta(eta: object) -> float:
    if isinstance(eta, bool) or not isinstance(eta, numbers.Real):
        raise TypeError(f"eta must be a real number in (0, 1], got {type(eta).__name__} {eta!r}")
    eta = float(eta)
    if not (0.0 < eta <= 1.0):  # also rejects NaN
        raise ValueError(
            f"eta must be in (0, 1] (the fraction of memory that may be used before permits "
            f"shrink), got {eta!r}"
        )
    return eta


def permit_limit(available: float, total: float, *, max_permits: int, eta: float = 0.75,
                 formula: str = "linear") -> int:
    """Permit limit for ``available`` of ``total`` bytes free.

    Parameters
    ----------
    available, total : float
        Free and total memory (any unit, only the ratio counts). ``total <= 0`` (nothing known)
        gives ``max_permits``; ``available > total`` counts as ``available == total``.
    max_permits : int
        Limit with no memory pressure, >= 1.
    eta : float
        Fraction of memory that may be used before permits shrink, in (0, 1].
    formula : {"linear", "oppnda"}
        ``"oppnda"``: the original tool's ``max(1, int(max_permits * (1 - pressure)))``,
        evaluated as it did (see the module doc).

    Returns
    -------
    int
        ``max_permits`` when ``available / total >= 1 - eta``, 1 when it is ``<= 0``, else
        ``1 + floor((max_permits - 1) * f / (1 - eta))``; always in ``[1, max_permits]``.
    """
    max_permits = _check_max_permits(max_permits)
    eta = _check_eta(eta)
    formula = _check_formula(formula)
    available = float(available)
    total = float(total)
    if math.isnan(available) or math.isnan(total):
        raise ValueError(f"memory probe returned NaN: available={available}, total={total}")
    if total <= 0.0:
        return max_permits
    f = min(available / total, 1.0)
    threshold = 1.0 - eta
    if formula == "oppnda":
        if f >= threshold:  # the original compares available_ratio < (1 - eta)
            return max_permits
        pressure = (1.0 - eta - f) / (1.0 - eta)  # the original's arithmetic, rounding included
        return max(1, int(max_permits * (1.0 - pressure)))
    if f <= 0.0:
        return 1
    if f >= threshold:
        return max_permits
    limit = 1 + math.floor((max_permits - 1) * f / threshold + _FLOOR_SLACK)
    return max(1, min(max_permits, limit))


def _system_memory_probe() -> Tuple[int, int]:
    # Imported here so this module imports even where blockops.resources cannot.
    from .resources import system_memory

    mem = system_memory()
    return mem.effective_available, mem.effective_limit


class DynamicSemaphore:
    """Counting semaphore whose permit limit shrinks under memory pressure.

    Parameters
    ----------
    max_permits : int
        Permits when memory is plentiful, >= 1.
    eta : float, default 0.75
        Fraction of memory that may be in use before the limit starts to shrink, in (0, 1]:
        the limit is ``max_permits`` while at least ``1 - eta`` of memory is free and falls
        linearly to 1 as free memory falls to 0 (see :func:`permit_limit`).
    formula : {"linear", "oppnda"}, default "linear"
        The limit's formula (:func:`permit_limit`); ``"oppnda"`` is the original tool's.
    recheck_interval : float, default 0.05
        Longest time (seconds) a blocked :meth:`acquire` waits before probing memory again.
    probe_interval : float, default 0.02
        Longest time (seconds) an :meth:`acquire` attempt reuses the limit of an earlier probe
        instead of probing again; 0 probes on every attempt. While one thread probes, others
        use the previous limit rather than probing too.
    memory_probe : callable, optional
        ``memory_probe() -> (available, total)``. The default reads
        ``effective_available`` and ``effective_limit`` of
        :func:`blockops.resources.system_memory`. Inject one to make behaviour deterministic.
    clock : callable, optional
        Monotonic clock in seconds for the age of a probe, default :func:`time.monotonic`;
        injectable for tests.

    Notes
    -----
    Memory is probed (outside the lock) by an :meth:`acquire` attempt when the last probe is
    older than ``probe_interval``, by a waiter whose ``recheck_interval`` ran out, and by
    :meth:`current_limit`; so a change of memory is seen by new acquires within
    ``probe_interval`` and by waiters within ``recheck_interval``. Running holders are never
    pre-empted; a smaller limit only makes new acquires wait. There is no ownership: any thread
    may release a permit, but releasing more permits than were acquired raises
    :class:`ValueError`. Waiters are not served in FIFO order.

    Examples
    --------
    >>> sem = DynamicSemaphore(8, eta=0.75)
    >>> with sem:                                   # doctest: +SKIP
    ...     process_one_file(path)
    """

    def __init__(
        self,
        max_permits: int,
        *,
        eta: float = 0.75,
        recheck_interval: float = 0.05,
        probe_interval: float = 0.02,
        memory_probe: Optional[MemoryProbe] = None,
        clock: Optional[Callable[[], float]] = None,
        formula: str = "linear",
    ) -> None:
        self._max_permits = _check_max_permits(max_permits)
        self._eta = _check_eta(eta)
        self._formula = _check_formula(formula)
        if isinstance(recheck_interval, bool) or not isinstance(recheck_interval, numbers.Real):
            raise TypeError(
                f"recheck_interval must be a positive number of seconds, got "
                f"{type(recheck_interval).__name__} {recheck_interval!r}"
            )
        recheck_interval = float(recheck_interval)
        if not (0.0 < recheck_interval < math.inf):
            raise ValueError(
                f"recheck_interval must be a positive, finite number of seconds, "
                f"got {recheck_interval!r}"
            )
        self._recheck_interval = recheck_interval
        if isinstance(probe_interval, bool) or not isinstance(probe_interval, numbers.Real):
            raise TypeError(
                f"probe_interval must be a number of seconds >= 0, got "
                f"{type(probe_interval).__name__} {probe_interval!r}"
            )
        probe_interval = float(probe_interval)
        if not (0.0 <= probe_interval < math.inf):
            raise ValueError(
                f"probe_interval must be a finite number of seconds >= 0, got {probe_interval!r}"
            )
        self._probe_interval = probe_interval
        if clock is not None and not callable(clock):
            raise TypeError(f"clock must be callable, got {type(clock).__name__}")
        self._clock: Callable[[], float] = clock if clock is not None else time.monotonic
        if memory_probe is not None and not callable(memory_probe):
            raise TypeError(
                f"memory_probe must be a callable returning (available, total), "
                f"got {type(memory_probe).__name__}"
            )
        self._probe: MemoryProbe = memory_probe if memory_probe is not None else _system_memory_probe
        self._cond = threading.Condition(threading.Lock())
        self._in_use = 0
        self._waiting = 0
        self._limit = self._max_permits  # last probed limit (repr and waiters' bookkeeping)
        self._probed_at: Optional[float] = None  # clock() when _limit was probed; None: never
        self._probing = False  # a thread is probing for an acquire (the others reuse _limit)

    # -- properties ---------------------------------------------------------------------------
    @property
    def max_permits(self) -> int:
        """Limit with no memory pressure."""
        return self._max_permits

    @property
    def eta(self) -> float:
        """Fraction of memory that may be used before the limit shrinks."""
        return self._eta

    @property
    def formula(self) -> str:
        """The limit's formula, "linear" or "oppnda"."""
        return self._formula

    @property
    def recheck_interval(self) -> float:
        """Longest wait (seconds) of a blocked acquire between two memory probes."""
        return self._recheck_interval

    @property
    def probe_interval(self) -> float:
        """Longest age (seconds) of a probe an acquire reuses."""
        return self._probe_interval

    @property
    def in_use(self) -> int:
        """Permits currently held."""
        with self._cond:
            return self._in_use

    @property
    def waiting(self) -> int:
        """Threads currently blocked in :meth:`acquire`."""
        with self._cond:
            return self._waiting

    @property
    def last_limit(self) -> int:
        """Limit computed at the last memory probe (no new probe)."""
        with self._cond:
            return self._limit

    # -- limit --------------------------------------------------------------------------------
    def _probe_limit(self) -> int:
        """Probe memory (without the lock held) and return the limit it gives."""
        result = self._probe()
        try:
            available, total = result
        except (TypeError, ValueError):
            raise TypeError(
                f"memory_probe must return (available, total), got {result!r}"
            ) from None
        return permit_limit(available, total, max_permits=self._max_permits, eta=self._eta,
                            formula=self._formula)

    def _record_limit_locked(self, limit: int, probed_at: float) -> None:
        if self._probed_at is not None and probed_at < self._probed_at:
            return  # a slow probe that started before the last recorded one: already stale
        grew = limit > self._limit
        self._limit = limit
        self._probed_at = probed_at
        if grew and self._waiting:
            self._cond.notify_all()

    def _probe_and_record(self) -> int:
        probed_at = self._clock()
        limit = self._probe_limit()
        with self._cond:
            self._record_limit_locked(limit, probed_at)
        return limit

    def _limit_for_acquire(self, force: bool) -> int:
        """The limit an acquire attempt goes by: the last probe's while it is younger than
        probe_interval (or while another thread is probing), else a new probe."""
        if not force:
            with self._cond:
                if self._probed_at is not None and (
                    self._probing or self._clock() - self._probed_at < self._probe_interval
                ):
                    return self._limit
                self._probing = True
        try:
            return self._probe_and_record()
        finally:
            if not force:
                with self._cond:
                    self._probing = False

    def current_limit(self) -> int:
        """Probe memory now and return the permit limit.

        Blocked waiters are woken at once if the limit grew.
        """
        return self._probe_and_record()

    # -- acquire / release --------------------------------------------------------------------
    def acquire(self, blocking: bool = True, timeout: Optional[float] = None) -> bool:
        """Take a permit.

        Parameters
        ----------
        blocking : bool, default True
            If False, return at once.
        timeout : float, optional
            Longest time to wait in seconds (only with ``blocking=True``); None waits forever.

        Returns
        -------
        bool
            True if a permit was taken, False on timeout or when a non-blocking acquire finds
            ``in_use >= limit``.
        """
        if not blocking and timeout is not None:
            raise ValueError("can't specify a timeout for a non-blocking acquire")
        deadline = None
        if timeout is not None:
            timeout = float(timeout)
            if math.isnan(timeout) or timeout < 0:
                raise ValueError(f"timeout must be >= 0 or None, got {timeout!r}")
            deadline = time.monotonic() + timeout
        force = False
        while True:
            # Probing can read files; never hold the lock for it. State changes that happen
            # meanwhile are seen below, under the lock, so no wake-up is lost.
            limit = self._limit_for_acquire(force)
            with self._cond:
                if self._in_use < limit:
                    self._in_use += 1
                    return True
                if not blocking:
                    return False
                wait = self._recheck_interval
                if deadline is not None:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return False
                    wait = min(wait, remaining)
                self._waiting += 1
                try:
                    notified = self._cond.wait(wait)
                finally:
                    self._waiting -= 1
                # the re-check interval ran out: look at memory again, whatever the cache says
                force = not notified

    def release(self) -> None:
        """Return a permit; wakes one waiter.

        Raises
        ------
        ValueError
            If no permit is held (released more often than acquired).
        """
        with self._cond:
            if self._in_use <= 0:
                raise ValueError("DynamicSemaphore released more times than it was acquired")
            self._in_use -= 1
            self._cond.notify()

    def __enter__(self) -> "DynamicSemaphore":
        self.acquire()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.release()

    def __repr__(self) -> str:
        # No probe here: repr must be cheap and must not raise.
        with self._cond:
            in_use, limit, waiting = self._in_use, self._limit, self._waiting
        return (
            f"<DynamicSemaphore in_use={in_use} limit={limit}/{self._max_permits} "
            f"waiting={waiting} eta={self._eta:g} "
            f"{'' if self._formula == 'linear' else f'formula={self._formula} '}"
            f"recheck_interval={self._recheck_interval:g}s "
            f"probe_interval={self._probe_interval:g}s>"
        )
