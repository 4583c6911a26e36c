"""MemoryMonitor's memory manager: callbacks at fractions of a limit, the emergency level with
gc.collect(), re-arming, errors in callbacks. Driven by real allocations (pages touched, so
they are resident) against a limit set just above the process's RSS."""
from __future__ import annotations

import gc
import time

import numpy as np
import pytest

from blockops.resources import MemoryEvent, MemoryMonitor, rss, system_memory

MiB = 1 << 20


def base_rss() -> int:
    """RSS now, after a collection: the levels are set above it. Allocations below are at
    least twice the distance to a level, as the process may give back memory meanwhile."""
    gc.collect()
    return rss()


def wait_for(cond, timeout=10.0):
    t = time.monotonic() + timeout
    while time.monotonic() < t:
        if cond():
            return True
        time.sleep(0.01)
    return False


def test_threshold_fires_once_per_crossing_and_rearms():
    base = base_rss()
    limit = base + 400 * MiB
    level = (base + 100 * MiB) / limit
    seen = []
    mon = MemoryMonitor(interval=0.01, limit=limit, emergency=None)
    mon.on_threshold(level, seen.append)
    with mon:
        assert wait_for(lambda: mon.samples >= 3)
        assert seen == []  # below the level: nothing
        big = np.ones(250 * MiB // 8)  # touched: resident
        assert wait_for(lambda: len(seen) == 1), mon.report()
        time.sleep(0.1)
        assert len(seen) == 1  # stays above: not called again
        del big
        gc.collect()
        assert wait_for(lambda: rss() < level * limit - 0.05 * limit)
        time.sleep(0.1)  # a sample below the level re-arms it
        big = np.ones(250 * MiB // 8)
        assert wait_for(lambda: len(seen) == 2), mon.report()
        del big
    e = seen[0]
    assert isinstance(e, MemoryEvent) and e.level == level and not e.emergency
    assert e.limit == limit and e.rss >= level * limit and e.fraction == e.rss / limit
    assert e.collected is None
    assert [x.level for x in mon.events] == [level, level]


def test_emergency_runs_gc_then_callbacks_and_levels_in_order():
    base = base_rss()
    limit = base + 300 * MiB
    order = []
    mon = MemoryMonitor(interval=0.01, limit=limit, emergency=(base + 120 * MiB) / limit)
    mon.on_threshold((base + 60 * MiB) / limit, lambda e: order.append(("warn", e)))
    mon.on_emergency(lambda e: order.append(("emergency", e)))
    with mon:
        big = np.ones(240 * MiB // 8)
        assert wait_for(lambda: len(order) == 2), mon.report()
        del big
    kinds = [k for k, _ in order]
    assert set(kinds) == {"warn", "emergency"}
    em = dict(order)["emergency"]
    assert em.emergency and em.collected is not None and em.collected >= 0


def test_default_limit_is_the_enforced_one():
    mon = MemoryMonitor(interval=0.05)
    with mon:
        pass
    assert mon.limit == system_memory().effective_limit


def test_gc_collect_option_and_growth_rate():
    base = base_rss()
    limit = base + 200 * MiB
    got = []
    mon = MemoryMonitor(interval=0.01, limit=limit, emergency=None, gc_collect=True)
    mon.on_threshold((base + 40 * MiB) / limit, got.append)
    with mon:
        chunks = []
        for _ in range(8):
            chunks.append(np.ones(16 * MiB // 8))
            time.sleep(0.03)
        assert wait_for(lambda: got), mon.report()
        del chunks
    assert got[0].collected is not None
    assert got[0].growth_rate > 0  # RSS was growing when the level was crossed


def test_a_failing_callback_does_not_stop_sampling_and_is_raised_by_stop():
    base = base_rss()
    limit = base + 100 * MiB
    mon = MemoryMonitor(interval=0.01, limit=limit, emergency=None)

    def boom(e):
        raise KeyError("cache")

    mon.on_threshold((base + 30 * MiB) / limit, boom)
    mon.start()
    big = np.ones(60 * MiB // 8)
    assert wait_for(lambda: mon.events)
    n = mon.samples
    assert wait_for(lambda: mon.samples > n + 3)  # still sampling
    del big
    with pytest.raises(RuntimeError, match="callback failed") as ei:
        mon.stop()
    assert isinstance(ei.value.__cause__, KeyError)


@pytest.mark.parametrize("bad", [0, -0.1, 1.5, True, "0.5"])
def test_levels_are_fractions(bad):
    with pytest.raises(ValueError):
        MemoryMonitor().on_threshold(bad, print)
    with pytest.raises(ValueError):
        MemoryMonitor(emergency=bad)
    with pytest.raises(ValueError, match="no emergency"):
        MemoryMonitor(emergency=None).on_emergency(print)


def test_html_repr_shows_the_timeline_and_peak():
    import xml.etree.ElementTree as ET

    mon = MemoryMonitor(interval=0.01, limit=rss() + 500 * MiB)
    with mon:
        x = np.ones(30 * MiB // 8)
        time.sleep(0.1)
        del x
    h = mon._repr_html_()
    assert "<svg" in h and "peak" in h and f"{mon.peak / MiB:.1f} MiB" in h
    svg = h[h.index("<svg"):h.index("</svg>") + 6]
    ET.fromstring(svg)  # well-formed
    assert "MemoryMonitor stopped" in repr(mon)
