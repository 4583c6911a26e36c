"""DynamicSemaphore: limit formula, shrink/recover under a scripted memory probe, no pre-emption,
concurrency bound, wake-ups, errors.

Every memory reading comes from an injected probe, so nothing depends on the machine's memory.
Timing is only used in the safe direction: waits for something that must happen use events with
generous bounds; "still blocked" checks can only miss a bug, never fail a correct semaphore.
"""
from __future__ import annotations

import threading
import time

import pytest

from blockops._semaphore import DynamicSemaphore, permit_limit

GENEROUS = 5.0  # seconds: upper bound for things that should take milliseconds


class FakeMemory:
    """Scripted memory probe: ``set(available, total)``; counts calls."""

    def __init__(self, available=1000, total=1000):
        self._lock = threading.Lock()
        self.available = available
        self.total = total
        self.calls = 0

    def set(self, available, total=None):
        with self._lock:
            self.available = available
            if total is not None:
                self.total = total

    def __call__(self):
        with self._lock:
            self.calls += 1
            return self.available, self.total


def start_waiter(sem, **kwargs):
    """Thread that acquires ``sem``; returns (thread, acquired_event, result_list)."""
    acquired = threading.Event()
    result = []

    def run():
        result.append(sem.acquire(**kwargs))
        acquired.set()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, acquired, result


def wait_until(pred, timeout=GENEROUS):
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.002)
    return True


# --------------------------------------------------------------------------------------------
# formula
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "available,total,expected",
    [
        (1000, 1000, 9),   # f = 1
        (500, 1000, 9),    # well above 1 - eta
        (250, 1000, 9),    # exactly 1 - eta = 0.25 -> max
        (249, 1000, 8),    # just below: 1 + floor(8 * 0.996) = 8
        (125, 1000, 5),    # f = 0.125 -> 1 + 8 * 0.5
        (100, 1600, 3),    # f = 0.0625 -> 1 + 8 * 0.25
        (10, 1000, 1),     # f = 0.01 -> 1 + floor(0.32)
        (0, 1000, 1),      # nothing free
        (-5, 1000, 1),     # nonsense reading: still at least 1
        (2000, 1000, 9),   # available > total counts as all free
        (123, 0, 9),       # total unknown: no pressure assumed
    ],
)
def test_limit_formula_eta_075(available, total, expected):
    probe = FakeMemory(available, total)
    sem = DynamicSemaphore(9, eta=0.75, memory_probe=probe)
    assert sem.current_limit() == expected
    assert permit_limit(available, total, max_permits=9, eta=0.75) == expected


def test_limit_formula_is_linear_and_monotone():
    # eta = 0.5: threshold 0.5; limit = 1 + floor(10 * f / 0.5) = 1 + floor(20 f) for f < 0.5.
    prev = 0
    for k in range(0, 1001):
        f = k / 1000
        lim = permit_limit(k, 1000, max_permits=11, eta=0.5)
        expected = 11 if f >= 0.5 else 1 + int(20 * k // 1000)
        assert lim == expected, (k, lim, expected)
        assert 1 <= lim <= 11
        assert lim >= prev
        prev = lim


def test_limit_floor_is_not_fooled_by_float_rounding():
    # eta = 0.7 -> threshold 0.30000000000000004; f = 0.15 is exactly half-way -> 1 + 8/2 = 5.
    assert permit_limit(150, 1000, max_permits=9, eta=0.7) == 5
    # eta = 0.9 -> threshold 0.09999999999999998; f = 0.05 -> 1 + 10 * 0.5 = 6.
    assert permit_limit(50, 1000, max_permits=11, eta=0.9) == 6


def test_eta_one_and_single_permit():
    assert permit_limit(1, 1000, max_permits=8, eta=1.0) == 8   # any free memory: full
    assert permit_limit(0, 1000, max_permits=8, eta=1.0) == 1   # none free: one
    for avail in (0, 10, 500, 1000):
        assert permit_limit(avail, 1000, max_permits=1, eta=0.75) == 1


def _oppnda(available, total, max_permits, eta):
    """OppNDA's DynamicSemaphore._adjust_permits, transcribed (ratio of the probe's numbers)."""
    available_ratio = available / total
    if available_ratio < (1 - eta):
        pressure = (1 - eta - available_ratio) / (1 - eta)
        return max(1, int(max_permits * (1 - pressure)))
    return max_permits


def test_oppnda_formula_is_the_original():
    for m in range(1, 17):
        for eta in (0.5, 0.7, 0.75, 0.85, 0.9):
            for k in range(0, 1001):
                assert permit_limit(k, 1000, max_permits=m, eta=eta, formula="oppnda") == \
                    _oppnda(k, 1000, m, eta), (m, eta, k)
    # where the two differ (max 9, eta 0.75, threshold 0.25): the linear map of [0, 0.25] onto
    # [1, 9] against the original's floor(9 f / 0.25) clamped to 1
    for avail, linear, original in ((0, 1, 1), (10, 1, 1), (55, 2, 1), (60, 2, 2), (100, 4, 3),
                                    (125, 5, 4), (249, 8, 8), (250, 9, 9)):
        assert permit_limit(avail, 1000, max_permits=9) == linear
        assert permit_limit(avail, 1000, max_permits=9, formula="oppnda") == original


def test_linear_is_at_most_one_permit_above_oppnda():
    for m in range(1, 33):
        for k in range(0, 2001):
            lin = permit_limit(k, 2000, max_permits=m, eta=0.75)
            opp = permit_limit(k, 2000, max_permits=m, eta=0.75, formula="oppnda")
            assert 0 <= lin - opp <= 1, (m, k, lin, opp)


def test_semaphore_with_the_oppnda_formula():
    probe = FakeMemory(100, 1000)
    sem = DynamicSemaphore(9, eta=0.75, memory_probe=probe, formula="oppnda")
    assert sem.formula == "oppnda" and "formula=oppnda" in repr(sem)
    assert sem.current_limit() == 3
    assert all(sem.acquire(blocking=False) for _ in range(3))
    assert not sem.acquire(blocking=False)
    for _ in range(3):
        sem.release()
    assert DynamicSemaphore(9, eta=0.75, memory_probe=probe).current_limit() == 4
    with pytest.raises(ValueError, match="formula"):
        DynamicSemaphore(9, formula="OppNDA")
    with pytest.raises(ValueError, match="formula"):
        permit_limit(1, 2, max_permits=3, formula="log")


# --------------------------------------------------------------------------------------------
# basic acquire / release
# --------------------------------------------------------------------------------------------
def test_acquire_release_counts_and_context_manager():
    sem = DynamicSemaphore(3, memory_probe=FakeMemory())
    assert sem.in_use == 0
    assert sem.acquire() is True
    assert sem.acquire(blocking=False) is True
    assert sem.in_use == 2
    with sem as s:
        assert s is sem
        assert sem.in_use == 3
        assert sem.acquire(blocking=False) is False  # full
    assert sem.in_use == 2
    sem.release()
    sem.release()
    assert sem.in_use == 0


def test_context_manager_releases_on_exception():
    sem = DynamicSemaphore(2, memory_probe=FakeMemory())
    with pytest.raises(KeyError):
        with sem:
            assert sem.in_use == 1
            raise KeyError("boom")
    assert sem.in_use == 0


def test_release_more_than_acquired_raises():
    sem = DynamicSemaphore(2, memory_probe=FakeMemory())
    with pytest.raises(ValueError, match="released more times"):
        sem.release()
    sem.acquire()
    sem.release()
    with pytest.raises(ValueError, match="released more times"):
        sem.release()
    assert sem.in_use == 0


def test_timeout_returns_false_after_waiting():
    sem = DynamicSemaphore(1, recheck_interval=0.01, memory_probe=FakeMemory())
    assert sem.acquire()
    t0 = time.monotonic()
    assert sem.acquire(timeout=0.15) is False
    elapsed = time.monotonic() - t0
    assert 0.1 <= elapsed < GENEROUS
    assert sem.acquire(timeout=0) is False
    assert sem.acquire(blocking=False) is False
    assert sem.in_use == 1
    assert sem.waiting == 0


def test_timeout_under_memory_pressure_returns_false():
    probe = FakeMemory(0, 1000)  # limit 1
    sem = DynamicSemaphore(4, memory_probe=probe, recheck_interval=0.01)
    assert sem.acquire(blocking=False)
    assert sem.acquire(timeout=0.05) is False
    assert sem.in_use == 1


# --------------------------------------------------------------------------------------------
# memory pressure: shrink, no pre-emption, recovery
# --------------------------------------------------------------------------------------------
def test_shrink_does_not_preempt_and_recovery_wakes_waiter():
    probe = FakeMemory(1000, 1000)
    sem = DynamicSemaphore(4, eta=0.75, recheck_interval=0.01, memory_probe=probe)
    for _ in range(4):
        assert sem.acquire(blocking=False)
    assert sem.in_use == 4

    probe.set(0)  # memory gone: limit 1
    assert sem.current_limit() == 1
    assert sem.in_use == 4  # holders keep their permits
    assert sem.acquire(blocking=False) is False

    t, acquired, result = start_waiter(sem)
    assert wait_until(lambda: sem.waiting == 1)
    # Releases down to the (shrunk) limit do not let the waiter in.
    for _ in range(3):
        sem.release()
    assert sem.in_use == 1
    assert not acquired.wait(0.2)  # still blocked (limit 1, one holder)
    assert sem.in_use == 1

    # Memory eases with no further release: the waiter must notice on its own re-check.
    probe.set(1000)
    assert acquired.wait(GENEROUS), "waiter did not wake after memory eased"
    t.join(GENEROUS)
    assert result == [True]
    assert sem.in_use == 2
    assert sem.current_limit() == 4


def test_probe_goes_down_then_up_limit_follows():
    probe = FakeMemory(1000, 1000)
    sem = DynamicSemaphore(9, eta=0.75, memory_probe=probe)
    # (available, total, expected limit): memory drains, then comes back.
    script = [(1000, 1000, 9), (250, 1000, 9), (125, 1000, 5), (100, 1600, 3), (0, 1000, 1),
              (100, 1600, 3), (125, 1000, 5), (250, 1000, 9), (900, 1000, 9)]
    seen = []
    for avail, total, _ in script:
        probe.set(avail, total)
        seen.append(sem.current_limit())
    assert seen == [lim for _, _, lim in script]
    assert sem.last_limit == 9


def test_waiter_under_pressure_wakes_within_bounded_time():
    probe = FakeMemory(0, 1000)  # limit 1
    sem = DynamicSemaphore(4, recheck_interval=0.02, memory_probe=probe)
    assert sem.acquire()
    waiters = [start_waiter(sem) for _ in range(3)]
    assert wait_until(lambda: sem.waiting == 3)
    calls_before = probe.calls
    assert not any(ev.wait(0.1) for _, ev, _ in waiters)
    # Waiters re-probe while waiting (bounded re-check interval), not only on release.
    assert probe.calls > calls_before
    probe.set(1000)  # limit 4: all three fit next to the holder
    t0 = time.monotonic()
    for t, ev, res in waiters:
        assert ev.wait(GENEROUS)
        t.join(GENEROUS)
        assert res == [True]
    assert time.monotonic() - t0 < GENEROUS
    assert sem.in_use == 4


def test_limit_growth_seen_by_any_probe_wakes_waiters_at_once():
    # With a re-check interval of a minute, only the notify from current_limit() can wake it.
    probe = FakeMemory(0, 1000)
    sem = DynamicSemaphore(2, recheck_interval=60.0, memory_probe=probe)
    assert sem.acquire()
    t, acquired, result = start_waiter(sem)
    assert wait_until(lambda: sem.waiting == 1)
    probe.set(1000)
    assert sem.current_limit() == 2
    assert acquired.wait(GENEROUS)
    t.join(GENEROUS)
    assert result == [True]


def test_release_wakes_waiter_without_waiting_for_recheck():
    sem = DynamicSemaphore(1, recheck_interval=60.0, memory_probe=FakeMemory())
    assert sem.acquire()
    t, acquired, result = start_waiter(sem)
    assert wait_until(lambda: sem.waiting == 1)
    sem.release()
    assert acquired.wait(GENEROUS), "release() did not notify the waiter"
    t.join(GENEROUS)
    assert result == [True]
    assert sem.in_use == 1


def test_many_threads_never_exceed_limit():
    probe = FakeMemory(100, 1600)  # f = 0.0625, eta 0.75, max 9 -> limit 3
    sem = DynamicSemaphore(9, eta=0.75, recheck_interval=0.01, memory_probe=probe)
    assert sem.current_limit() == 3
    lock = threading.Lock()
    state = {"now": 0, "max": 0, "done": 0}
    start = threading.Barrier(16)

    def worker():
        start.wait()
        for _ in range(25):
            with sem:
                with lock:
                    state["now"] += 1
                    state["max"] = max(state["max"], state["now"])
                time.sleep(0.0005)
                with lock:
                    state["now"] -= 1
                    state["done"] += 1

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads)
    assert state["done"] == 16 * 25
    assert 1 <= state["max"] <= 3
    assert sem.in_use == 0
    assert sem.waiting == 0


def test_fluctuating_memory_no_deadlock_and_bounded_by_max():
    """Memory swinging between limits 1 and 8 while 12 threads contend: all work finishes
    (no lost wake-up), concurrency never exceeds max_permits, every permit comes back."""
    lock = threading.Lock()
    calls = {"n": 0}

    def probe():  # cycles through f = 0 (limit 1), 0.1 (limit 3), 1.0 (limit 8)
        with lock:
            calls["n"] += 1
            phase = (calls["n"] // 5) % 3
        return (0, 100, 1000)[phase], 1000

    sem = DynamicSemaphore(8, eta=0.75, recheck_interval=0.005, memory_probe=probe)
    state = {"now": 0, "max": 0, "done": 0}

    def worker():
        for _ in range(20):
            with sem:
                with lock:
                    state["now"] += 1
                    state["max"] = max(state["max"], state["now"])
                time.sleep(0.0005)
                with lock:
                    state["now"] -= 1
                    state["done"] += 1

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads)
    assert state["done"] == 12 * 20
    assert 1 <= state["max"] <= 8
    assert sem.in_use == 0 and sem.waiting == 0


# --------------------------------------------------------------------------------------------
# probe cache (probe_interval), with a fake clock: no sleeps, no timing assertions
# --------------------------------------------------------------------------------------------
class FakeClock:
    def __init__(self, now=100.0):
        self.now = now

    def __call__(self):
        return self.now


def test_acquire_reuses_a_probe_younger_than_probe_interval():
    probe, clock = FakeMemory(1000, 1000), FakeClock()
    sem = DynamicSemaphore(4, probe_interval=0.02, memory_probe=probe, clock=clock)
    assert sem.probe_interval == 0.02
    assert sem.acquire()
    assert probe.calls == 1  # the first acquire always probes
    for _ in range(5):
        sem.release()
        assert sem.acquire()
    assert probe.calls == 1
    # memory runs out: acquires go by the cached limit (4) until it is probe_interval old
    probe.set(0)
    clock.now += 0.019
    assert sem.acquire(blocking=False) and sem.in_use == 2
    assert probe.calls == 1
    clock.now += 0.001  # exactly probe_interval old: probe again
    assert sem.acquire(blocking=False) is False
    assert probe.calls == 2 and sem.last_limit == 1
    assert sem.in_use == 2  # holders keep their permits
    # memory comes back: seen by the first acquire after the next interval
    probe.set(1000)
    assert sem.acquire(blocking=False) is False and probe.calls == 2
    clock.now += 0.05
    assert sem.acquire(blocking=False) is True and probe.calls == 3
    assert sem.in_use == 3


def test_probe_interval_zero_probes_every_attempt():
    probe, clock = FakeMemory(), FakeClock()
    sem = DynamicSemaphore(4, probe_interval=0, memory_probe=probe, clock=clock)
    for k in range(1, 6):
        assert sem.acquire()
        sem.release()
        assert probe.calls == k


def test_current_limit_always_probes_and_refreshes_the_cache():
    probe, clock = FakeMemory(1000, 1000), FakeClock()
    sem = DynamicSemaphore(9, probe_interval=60.0, memory_probe=probe, clock=clock)
    assert sem.acquire() and probe.calls == 1
    probe.set(125)
    assert sem.current_limit() == 5 and probe.calls == 2
    probe.set(1000)  # not probed: acquires keep using the limit current_limit() found
    for _ in range(4):
        assert sem.acquire(blocking=False)
    assert sem.acquire(blocking=False) is False
    assert probe.calls == 2 and sem.in_use == 5


def test_waiter_reprobes_when_recheck_runs_out_even_if_the_cache_is_fresh():
    # the fake clock never moves, so only the re-check rule can make the waiter probe again
    probe, clock = FakeMemory(0, 1000), FakeClock()
    sem = DynamicSemaphore(2, recheck_interval=0.01, probe_interval=60.0, memory_probe=probe,
                           clock=clock)
    assert sem.acquire()
    t, acquired, result = start_waiter(sem)
    assert wait_until(lambda: sem.waiting == 1)
    probe.set(1000)
    assert acquired.wait(GENEROUS), "waiter did not re-probe after its re-check interval"
    t.join(GENEROUS)
    assert result == [True] and sem.in_use == 2


def test_one_thread_probes_while_the_others_reuse_the_last_limit():
    entered, release_probe = threading.Event(), threading.Event()
    calls = []

    def probe():
        calls.append(threading.current_thread().name)
        if threading.current_thread().name == "slow":
            entered.set()
            assert release_probe.wait(GENEROUS)
            return 0, 1000  # limit 1, read before the main thread's reading below
        return 1000, 1000

    clock = FakeClock()
    sem = DynamicSemaphore(3, probe_interval=0.02, memory_probe=probe, clock=clock)
    assert sem.current_limit() == 3
    clock.now += 1.0  # the cache is stale: the next acquire probes
    out = []
    slow = threading.Thread(target=lambda: out.append(sem.acquire(blocking=False)), name="slow",
                            daemon=True)
    slow.start()
    assert entered.wait(GENEROUS)
    # while "slow" probes, acquires here use the last limit (3) and do not probe
    assert sem.acquire(blocking=False) and sem.acquire(blocking=False)
    assert calls == ["MainThread", "slow"]
    # a newer reading recorded meanwhile is not overwritten by the slow, older one
    clock.now += 1.0
    assert sem.current_limit() == 3
    release_probe.set()
    slow.join(GENEROUS)
    assert out == [False]  # its own reading (limit 1, two permits held) decides for it
    assert sem.in_use == 2
    assert sem.last_limit == 3  # ... but the shared limit keeps the newer reading


# --------------------------------------------------------------------------------------------
# validation, repr, probe errors, default probe
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [0, -3])
def test_max_permits_value_errors(bad):
    with pytest.raises(ValueError, match="max_permits"):
        DynamicSemaphore(bad)


@pytest.mark.parametrize("bad", [1.5, "3", True, None])
def test_max_permits_type_errors(bad):
    with pytest.raises(TypeError, match="max_permits"):
        DynamicSemaphore(bad)


@pytest.mark.parametrize("bad", [0, 0.0, -0.5, 1.01, float("nan")])
def test_eta_value_errors(bad):
    with pytest.raises(ValueError, match="eta"):
        DynamicSemaphore(2, eta=bad)


def test_other_argument_errors():
    with pytest.raises(TypeError, match="eta"):
        DynamicSemaphore(2, eta="0.5")
    with pytest.raises(ValueError, match="recheck_interval"):
        DynamicSemaphore(2, recheck_interval=0)
    with pytest.raises(ValueError, match="recheck_interval"):
        DynamicSemaphore(2, recheck_interval=float("inf"))
    with pytest.raises(TypeError, match="memory_probe"):
        DynamicSemaphore(2, memory_probe=(1, 2))
    for bad in (-0.001, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="probe_interval"):
            DynamicSemaphore(2, probe_interval=bad)
    for bad in (True, "0.02", None):
        with pytest.raises(TypeError, match="probe_interval"):
            DynamicSemaphore(2, probe_interval=bad)
    with pytest.raises(TypeError, match="clock"):
        DynamicSemaphore(2, clock=1.0)
    sem = DynamicSemaphore(2, memory_probe=FakeMemory())
    with pytest.raises(ValueError, match="non-blocking"):
        sem.acquire(blocking=False, timeout=1)
    with pytest.raises(ValueError, match="timeout"):
        sem.acquire(timeout=-1)
    assert sem.in_use == 0


def test_bad_probe_result_is_reported_and_state_unchanged():
    sem = DynamicSemaphore(2, memory_probe=lambda: 42)
    with pytest.raises(TypeError, match=r"\(available, total\)"):
        sem.acquire()
    assert sem.in_use == 0

    def failing():
        raise OSError("no /proc")

    sem = DynamicSemaphore(2, memory_probe=failing)
    with pytest.raises(OSError, match="no /proc"):
        sem.acquire()
    assert sem.in_use == 0 and sem.waiting == 0


def test_repr_is_readable_and_does_not_probe():
    probe = FakeMemory(125, 1000)
    sem = DynamicSemaphore(9, eta=0.75, memory_probe=probe)
    sem.acquire()
    calls = probe.calls
    r = repr(sem)
    assert probe.calls == calls
    assert r.startswith("<DynamicSemaphore ")
    assert "in_use=1" in r
    assert "limit=5/9" in r
    assert "eta=0.75" in r and "probe_interval=0.02s" in r
    assert sem.max_permits == 9 and sem.eta == 0.75


def test_default_probe_uses_system_memory():
    resources = pytest.importorskip(
        "blockops.resources", reason="blockops.resources (C discovery) not built yet"
    )
    if not hasattr(resources, "system_memory"):
        pytest.skip("blockops.resources.system_memory not available yet")
    mem = resources.system_memory()
    sem = DynamicSemaphore(8)
    lim = sem.current_limit()
    expected = permit_limit(mem.effective_available, mem.effective_limit, max_permits=8, eta=0.75)
    # Memory moves between the two readings; allow one step either way.
    assert 1 <= lim <= 8
    assert abs(lim - expected) <= 1
    with sem:
        assert sem.in_use == 1
    assert sem.in_use == 0
