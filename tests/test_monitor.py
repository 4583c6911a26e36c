"""MemoryMonitor: timeline, peak, growth rate, report, plot, lifecycle.

Most tests inject the RSS probe and the clock, so the numbers are exact. One test allocates a
real ~200 MB array and needs blockops.resources (the C discovery code).
"""
from __future__ import annotations

import sys
import threading
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blockops._monitor import MemoryMonitor

MB = 1 << 20
GENEROUS = 5.0
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class FakeClock:
    """Clock that advances ``step`` seconds per call; ``now`` reads without advancing."""

    def __init__(self, step=1.0):
        self._lock = threading.Lock()
        self.step = step
        self.now = 0.0

    def __call__(self):
        with self._lock:
            self.now += self.step
            return self.now


class RampRss:
    """RSS = base + slope * clock.now, in bytes: an exact linear ramp in the fake time."""

    def __init__(self, clock, base=100 * MB, slope_bytes_per_s=2 * MB):
        self.clock = clock
        self.base = base
        self.slope = slope_bytes_per_s
        self.calls = 0

    def __call__(self):
        self.calls += 1
        return int(self.base + self.slope * self.clock.now)


def wait_for_samples(mon, n, timeout=GENEROUS):
    deadline = time.monotonic() + timeout
    while mon.samples < n:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.002)
    return True


def test_growth_rate_matches_ramp_slope():
    clock = FakeClock(step=1.0)
    rss = RampRss(clock, base=100 * MB, slope_bytes_per_s=2 * MB)  # 2 MiB/s = 120 MiB/min
    with MemoryMonitor(interval=0.001, rss_probe=rss, clock=clock) as mon:
        assert wait_for_samples(mon, 10)
    tl = mon.timeline
    assert len(tl) >= 10
    assert mon.growth_rate_mb_per_min == pytest.approx(120.0, rel=1e-6)
    assert mon.growth_rate == pytest.approx(2 * MB, rel=1e-6)
    # timeline: increasing times since start, rss on the ramp
    times = [t for t, _ in tl]
    assert times == sorted(times) and times[0] >= 0
    assert mon.peak == max(r for _, r in tl) == tl[-1][1]
    assert mon.start_rss == tl[0][1] and mon.end_rss == tl[-1][1]


def test_flat_and_falling_rss():
    clock = FakeClock()
    flat = MemoryMonitor(interval=0.001, rss_probe=lambda: 50 * MB, clock=clock)
    with flat:
        assert wait_for_samples(flat, 5)
    assert flat.growth_rate_mb_per_min == 0.0
    assert flat.peak == 50 * MB

    clock = FakeClock()
    falling = RampRss(clock, base=500 * MB, slope_bytes_per_s=-1 * MB)
    mon = MemoryMonitor(interval=0.001, rss_probe=falling, clock=clock)
    with mon:
        assert wait_for_samples(mon, 5)
    assert mon.growth_rate_mb_per_min == pytest.approx(-60.0, rel=1e-6)
    assert mon.peak == mon.timeline[0][1]


def test_peak_catches_spike_between_samples():
    values = iter([10 * MB, 300 * MB, 20 * MB])
    last = {"v": 10 * MB}

    def scripted():
        last["v"] = next(values, 20 * MB)
        return last["v"]

    mon = MemoryMonitor(interval=0.001, rss_probe=scripted)
    with mon:
        assert wait_for_samples(mon, 4)
    assert mon.peak == 300 * MB
    assert mon.end_rss == 20 * MB


def test_peak_includes_high_water_mark_growth():
    rss_values = {"v": 10 * MB}
    hwm = {"v": 40 * MB}
    mon = MemoryMonitor(60.0, rss_probe=lambda: rss_values["v"], peak_probe=lambda: hwm["v"])
    mon.start()
    hwm["v"] = 90 * MB  # spike never seen by a sample, but the high-water mark rose
    mon.stop()
    assert max(r for _, r in mon.timeline) == 10 * MB
    assert mon.peak == 90 * MB

    # High-water mark unchanged (set before the recording): it must not count.
    hwm["v"] = 500 * MB
    mon2 = MemoryMonitor(60.0, rss_probe=lambda: rss_values["v"], peak_probe=lambda: hwm["v"])
    with mon2:
        pass
    assert mon2.peak == 10 * MB


def test_start_stop_lifecycle_and_prompt_exit():
    clock = FakeClock()
    mon = MemoryMonitor(interval=30.0, rss_probe=RampRss(clock), clock=clock)
    with pytest.raises(RuntimeError, match="before start"):
        mon.stop()
    assert mon.peak is None and mon.timeline == [] and not mon.running
    assert "not started" in repr(mon) and "no samples" in mon.report()
    assert mon.start() is mon
    assert mon.running
    with pytest.raises(RuntimeError, match="already running"):
        mon.start()
    t0 = time.monotonic()
    assert mon.stop() is mon
    # The sampler waits on an Event, not a 30 s sleep: stop is prompt.
    assert time.monotonic() - t0 < GENEROUS
    assert not mon.running
    assert mon.samples == 2  # one at start, one at stop
    mon.stop()  # no-op once stopped
    assert mon.samples == 2
    thread_names = [t.name for t in threading.enumerate()]
    assert "blockops-MemoryMonitor" not in thread_names

    # A second start begins a new recording.
    mon.start()
    mon.stop()
    assert mon.samples == 2


def test_sampler_thread_is_daemon_and_samples_in_background():
    mon = MemoryMonitor(interval=0.001, rss_probe=lambda: 5 * MB)
    mon.start()
    try:
        sampler = [t for t in threading.enumerate() if t.name == "blockops-MemoryMonitor"]
        assert len(sampler) == 1 and sampler[0].daemon
        assert wait_for_samples(mon, 20)  # background samples, no stop() needed
    finally:
        mon.stop()


def test_probe_error_in_background_is_raised_by_stop():
    calls = {"n": 0}

    def flaky():
        calls["n"] += 1
        if calls["n"] >= 3:
            raise OSError("rss unavailable")
        return 1 * MB

    mon = MemoryMonitor(interval=0.001, rss_probe=flaky)
    mon.start()
    deadline = time.monotonic() + GENEROUS
    while calls["n"] < 3 and time.monotonic() < deadline:
        time.sleep(0.002)
    with pytest.raises(RuntimeError, match="rss unavailable") as info:
        mon.stop()
    assert isinstance(info.value.__cause__, OSError)
    assert not mon.running
    assert mon.samples == 2  # the two good samples are kept


def test_exception_in_with_block_is_not_masked():
    mon = MemoryMonitor(interval=0.001, rss_probe=lambda: 1 * MB)
    with pytest.raises(KeyError):
        with mon:
            raise KeyError("body")
    assert not mon.running


def test_report_and_repr_contents():
    clock = FakeClock(step=1.0)
    rss = RampRss(clock, base=100 * MB, slope_bytes_per_s=1 * MB)
    with MemoryMonitor(interval=0.001, rss_probe=rss, clock=clock) as mon:
        assert wait_for_samples(mon, 5)
    text = mon.report()
    tl = mon.timeline
    assert f"{len(tl)} samples" in text
    for label in ("start", "end", "peak", "growth"):
        assert label in text
    assert f"{tl[0][1] / MB:.1f} MB" in text
    assert f"{mon.peak / MB:.1f} MB" in text
    assert "+60.00 MB/min" in text
    r = repr(mon)
    assert r.startswith("<MemoryMonitor stopped") and "+60.00MB/min" in r


def test_argument_validation():
    with pytest.raises(ValueError, match="interval"):
        MemoryMonitor(0)
    with pytest.raises(ValueError, match="interval"):
        MemoryMonitor(float("nan"))
    with pytest.raises(TypeError, match="interval"):
        MemoryMonitor("0.1")
    with pytest.raises(TypeError, match="rss_probe"):
        MemoryMonitor(rss_probe=123)


def test_plot_writes_png(tmp_path):
    pytest.importorskip("matplotlib", reason="matplotlib not installed (blockops[plot] extra)")
    clock = FakeClock(step=0.5)
    with MemoryMonitor(interval=0.001, rss_probe=RampRss(clock), clock=clock) as mon:
        assert wait_for_samples(mon, 10)
    out = tmp_path / "rss.png"
    assert mon.plot(out) == out
    data = out.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert len(data) > 1000
    out2 = tmp_path / "titled.png"
    mon.plot(str(out2), title="custom")
    assert out2.read_bytes()[:8] == PNG_SIGNATURE


def test_plot_without_matplotlib_names_the_extra(monkeypatch, tmp_path):
    mon = MemoryMonitor(interval=0.001, rss_probe=lambda: 1 * MB)
    with mon:
        pass
    for name in list(sys.modules):
        if name == "matplotlib" or name.startswith("matplotlib."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib...` fail
    with pytest.raises(ImportError, match=r"blockops\[plot\]"):
        mon.plot(tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


def test_plot_before_start_raises(tmp_path):
    pytest.importorskip("matplotlib", reason="matplotlib not installed (blockops[plot] extra)")
    with pytest.raises(ValueError, match="no samples"):
        MemoryMonitor(rss_probe=lambda: 1).plot(tmp_path / "x.png")


def _real_resources():
    try:
        from blockops import resources
    except ImportError as exc:
        pytest.skip(f"blockops.resources (C discovery) not available yet: {exc}")
    if not (hasattr(resources, "rss") and hasattr(resources, "peak_rss")):
        pytest.skip("blockops.resources.rss/peak_rss not available yet")
    return resources


def test_real_allocation_raises_peak():
    resources = _real_resources()
    before = resources.rss()
    n = 200 * MB // 8
    with MemoryMonitor(interval=0.01) as mon:
        arr = np.ones(n, dtype=np.float64)  # writes every page: really resident
        seen = mon.samples
        # Let the background thread sample while the array is alive, then free it inside.
        assert wait_for_samples(mon, seen + 2)
        checksum = float(arr[:: 4096].sum())
        del arr
    assert checksum == float(len(range(0, n, 4096)))
    sampled_peak = max(r for _, r in mon.timeline)
    assert sampled_peak - before >= 150 * MB, mon.report()
    assert mon.peak - before >= 150 * MB
    assert mon.peak >= sampled_peak


# -- bounded memory on long runs ----------------------------------------------------------------
def _drive(values, max_points, check_every=None):
    """Record ``values`` as the samples of one run, synchronously (start and stop take the
    first and last, the middle ones go through the sampler's own _sample). The background
    thread waits an hour, so it never samples. Returns the stopped monitor."""
    feed = iter(values)
    kw = {} if max_points is None else {"max_points": max_points}
    mon = MemoryMonitor(3600.0, rss_probe=lambda: next(feed), clock=FakeClock(step=1.0), **kw)
    mon.start()
    for i in range(len(values) - 2):
        mon._sample()
        if check_every and i % check_every == 0:
            assert len(mon.timeline) <= max_points
    mon.stop()
    return mon


def test_long_run_stays_bounded_and_keeps_the_exact_peak():
    rng = np.random.default_rng(7)
    n = 200_000
    values = (500 * MB + np.cumsum(rng.integers(-MB, MB + 1, n))).astype(np.int64)
    spike = int(rng.integers(1000, n - 1000))
    values[spike] = values.max() + 123  # one sample, never repeated: must survive the merges
    mon = _drive(values.tolist(), 64, check_every=997)
    tl = mon.timeline
    assert len(tl) <= 64
    assert mon.samples == n and mon.resolution > 1
    assert mon.peak == int(values.max()) == max(r for _, r in tl)
    assert (float(spike + 1), int(values[spike])) in tl  # the peak keeps its own time
    assert mon.start_rss == values[0] and mon.end_rss == values[-1]
    assert tl[0] == (1.0, int(values[0])) and tl[-1] == (float(n), int(values[-1]))
    times = [t for t, _ in tl]
    assert times == sorted(set(times))
    # the growth rate is the least-squares slope over every sample, not over the kept points
    exact = np.polyfit(np.arange(1, n + 1, dtype=np.float64), values.astype(np.float64), 1)[0]
    assert mon.growth_rate == pytest.approx(exact, rel=1e-9)
    assert f"{n} samples" in mon.report()
    assert f"timeline {len(tl)} points, max of each {mon.resolution}" in mon.report()


def test_default_bound_holds_on_a_long_run():
    n = 3 * 4096
    mon = _drive(list(range(n)), None)  # the default bound, 4096 points
    assert mon.samples == n
    assert len(mon.timeline) <= 4096
    assert mon.peak == n - 1 == mon.end_rss
    assert mon.max_points == 4096


@settings(max_examples=150, deadline=None, database=None)
@given(values=st.lists(st.integers(0, 1 << 40), min_size=2, max_size=1500),
       max_points=st.integers(8, 40))
def test_property_timeline_bounded_peak_exact(values, max_points):
    mon = _drive(values, max_points)
    tl = mon.timeline
    assert len(tl) <= max_points
    assert len(tl) == len(values) or len(values) > max_points - 3
    assert mon.samples == len(values)
    assert mon.peak == max(values) == max(r for _, r in tl)
    assert tl[0] == (1.0, values[0]) and tl[-1] == (float(len(values)), values[-1])
    # every point is a real sample, in time order
    assert all(values[int(t) - 1] == r for t, r in tl)
    assert all(a[0] < b[0] for a, b in zip(tl, tl[1:]))


def test_max_points_validation():
    with pytest.raises(ValueError, match="max_points"):
        MemoryMonitor(max_points=7)
    with pytest.raises(TypeError, match="max_points"):
        MemoryMonitor(max_points=100.0)
