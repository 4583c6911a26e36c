"""blockops.resources: discovery on fixture trees and the real machine, estimator, manager, plan."""
import logging
import math
import re
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from blockops import BlockopsError, resources as R

MiB = 2**20
GiB = 2**30


def tree(tmp_path, files):
    for rel, text in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return str(tmp_path / "proc"), str(tmp_path / "cg")


MEMINFO = "MemTotal: 16000000 kB\nMemFree: 100 kB\nMemAvailable: 8000000 kB\n"


def test_v2_nested_limits(tmp_path):
    proc, cg = tree(tmp_path, {
        "proc/meminfo": MEMINFO,
        "proc/self/cgroup": "0::/user.slice/job\n",
        "cg/cgroup.controllers": "cpu memory\n",
        "cg/user.slice/memory.max": f"{6 * GiB}\n",
        "cg/user.slice/job/memory.max": "max\n",
        "cg/user.slice/job/memory.high": f"{5 * GiB}\n",
        "cg/user.slice/job/memory.current": f"{2 * GiB}\n",
        "cg/user.slice/job/cpu.max": "250000 100000\n",
    })
    m = R.system_memory(proc_root=proc, cgroup_root=cg)
    assert m.total == 16000000 * 1024 and m.available == 8000000 * 1024
    assert m.cgroup_version == 2 and m.cgroup_path == "/user.slice/job"
    assert m.cgroup_limit == 6 * GiB and m.cgroup_high == 5 * GiB
    assert m.effective_limit == 5 * GiB
    assert m.effective_available == 3 * GiB
    c = R.cpu_info(proc_root=proc, cgroup_root=cg)
    assert c.quota == pytest.approx(2.5) and c.quota_cpus == 3
    assert c.effective == min(3, c.online, c.affinity)


@pytest.mark.parametrize("value", ["max\n", "0\n", "", "garbage\n"])
def test_v2_no_usable_limit(tmp_path, value):
    proc, cg = tree(tmp_path, {
        "proc/meminfo": MEMINFO, "proc/self/cgroup": "0::/a\n",
        "cg/cgroup.controllers": "memory\n", "cg/a/memory.max": value,
    })
    m = R.system_memory(proc_root=proc, cgroup_root=cg)
    assert m.cgroup_limit is None and m.effective_limit == m.total


def test_v1_sentinel_and_parent_limit(tmp_path):
    proc, cg = tree(tmp_path, {
        "proc/meminfo": MEMINFO,
        "proc/self/cgroup": "3:cpu,cpuacct:/docker/x\n2:memory:/docker/x\n0::/\n",
        "cg/memory/docker/memory.limit_in_bytes": f"{3 * GiB}\n",
        "cg/memory/docker/x/memory.limit_in_bytes": "9223372036854771712\n",
        "cg/memory/docker/x/memory.usage_in_bytes": f"{1 * GiB}\n",
        "cg/cpu,cpuacct/docker/x/cpu.cfs_quota_us": "50000\n",
        "cg/cpu,cpuacct/docker/x/cpu.cfs_period_us": "100000\n",
    })
    m = R.system_memory(proc_root=proc, cgroup_root=cg)
    assert m.cgroup_version == 1 and m.cgroup_limit == 3 * GiB and m.effective_available == 2 * GiB
    assert R.cpu_info(proc_root=proc, cgroup_root=cg).effective == 1


def test_missing_meminfo_is_a_clear_error(tmp_path):
    proc, cg = tree(tmp_path, {"proc/self/cgroup": "0::/\n"})
    with pytest.raises(BlockopsError, match="meminfo"):
        R.system_memory(proc_root=proc, cgroup_root=cg)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_real_machine():
    m = R.system_memory()
    assert 0 < m.effective_available <= m.effective_limit <= m.total
    c = R.cpu_info()
    assert 1 <= c.effective <= c.online
    assert c.effective <= len(os.sched_getaffinity(0))
    import gc

    import numpy as np

    gc.collect()  # the process may give memory back while we measure: a wide margin below
    before = R.rss()
    block = np.ones(128 * MiB // 8)  # touch 128 MiB
    assert R.rss() >= before + 48 * MiB
    assert R.peak_rss() >= R.rss()
    del block


def test_cpu_count_follows_affinity():
    code = "import blockops.resources as r; print(r.cpu_count())"
    out = subprocess.run(["taskset", "-c", "0", sys.executable, "-c", code],
                         capture_output=True, text=True)
    if out.returncode != 0 and "taskset" in (out.stderr or ""):
        pytest.skip("taskset not available")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "1"


def test_estimator():
    e = R.MemoryEstimator(gamma=3.0, overhead_mb=50)
    assert e.estimate_file(10 * MiB) == 30 * MiB + 50 * MiB
    assert e.estimate_batch([1 * MiB, 5 * MiB, 3 * MiB], 2) == (15 + 50 + 9 + 50) * MiB
    assert e.estimate_batch([1, 2], 5) == e.estimate_file(1) + e.estimate_file(2)
    with pytest.raises(ValueError):
        R.MemoryEstimator(gamma=0)
    with pytest.raises(ValueError):
        e.estimate_file(-1)


def fake_mem(avail):
    return R.MemoryInfo(total=64 * GiB, available=avail, cgroup_limit=None, cgroup_high=None,
                        cgroup_usage=None, effective_limit=64 * GiB, effective_available=avail,
                        cgroup_version=0, cgroup_path="")


def brute_force(sizes, budget, est):
    best = 0
    for p in range(1, len(sizes) + 1):
        if est.estimate_batch(sizes, p) <= budget:
            best = p
    return best


@settings(max_examples=60, deadline=None, database=None)
@given(sizes=st.lists(st.integers(0, 2 * GiB), min_size=1, max_size=40),
       avail=st.integers(0, 64 * GiB), cpus=st.integers(1, 64), eta=st.floats(0.05, 1.0))
def test_optimal_workers_is_largest_fitting_batch(sizes, avail, cpus, eta):
    m = R.ResourceManager(eta=eta, memory=fake_mem(avail), cpus=cpus, max_workers=16)
    got = m.optimal_workers(sizes=sizes)
    want = brute_force(sizes, int(eta * avail), m.estimator)
    want = max(1, min(want, cpus, 16, len(sizes)))
    assert got == want
    # the closed form (every file as big as the largest, no base) never exceeds the batch rule
    cf = R.closed_form_workers(memory=avail, base=0, max_size=max(sizes), eta=eta)
    assert min(cf, len(sizes)) <= brute_force(sizes, int(eta * avail), m.estimator)


def full_sort_workers(m, sizes, n_tasks=None):
    """optimal_workers as it was before the partial selection: sort everything."""
    cpus, budget = m.cpus(), m.budget()
    ordered = sorted((int(s) for s in sizes), reverse=True)
    p, total = 0, 0
    for s in ordered:
        total += m.estimator.estimate_file(s)
        if total > budget:
            break
        p += 1
    n = len(ordered) if n_tasks is None else min(n_tasks, len(ordered))
    p = min(p, cpus, m.max_workers)
    p = min(p, max(1, int(n)))
    return max(p, m.min_workers)


@settings(max_examples=150, deadline=None, database=None)
@given(sizes=st.lists(st.one_of(st.integers(0, 2 * GiB), st.integers(0, 40).map(lambda k: k * 50 * MiB)),
                     min_size=1, max_size=300),
       # budgets of the order of a few files, so that the batch rule (not a clamp) decides
       avail=st.one_of(st.integers(0, 64 * GiB), st.integers(0, 40).map(lambda k: k * 200 * MiB)),
       cpus=st.integers(1, 64), max_workers=st.integers(1, 40),
       min_workers=st.integers(1, 4), n_tasks=st.one_of(st.none(), st.integers(-2, 400)),
       kind=st.sampled_from(["list", "tuple", "int64", "uint32", "float64", "floats",
                             "numpy scalars"]))
def test_partial_selection_gives_what_the_full_sort_gave(sizes, avail, cpus, max_workers,
                                                         min_workers, n_tasks, kind):
    max_workers = max(max_workers, min_workers)
    m = R.ResourceManager(memory=fake_mem(avail), cpus=cpus, max_workers=max_workers,
                          min_workers=min_workers)
    if kind == "uint32":
        sizes = [s % 2**32 for s in sizes]
    given_sizes = {
        "list": sizes, "tuple": tuple(sizes), "int64": np.array(sizes, dtype=np.int64),
        "uint32": np.array(sizes, dtype=np.uint32), "float64": np.array(sizes, dtype=float) + 0.75,
        "floats": [s + 0.5 for s in sizes], "numpy scalars": [np.int64(s) for s in sizes],
    }[kind]
    assert m.optimal_workers(sizes=given_sizes, n_tasks=n_tasks) == \
        full_sort_workers(m, given_sizes, n_tasks)


def test_partial_selection_on_many_sizes_and_odd_inputs():
    rng = np.random.default_rng(6)
    sizes = rng.integers(0, 50 * MiB, 214_500).tolist()
    for avail in (0, 300 * MiB, 2 * GiB, 64 * GiB):
        m = R.ResourceManager(memory=fake_mem(avail), cpus=64, max_workers=16)
        assert m.optimal_workers(sizes=sizes) == full_sort_workers(m, sizes)
        assert m.optimal_workers(sizes=np.asarray(sizes)) == full_sort_workers(m, sizes)
    # descending order matters: the 2 GiB file (6 GiB + 50 MiB estimated) does not fit a 6 GiB
    # budget, so no batch fits (-> min_workers); the two 512 MiB files alone would have fit
    m = R.ResourceManager(memory=fake_mem(8 * GiB), cpus=64, max_workers=16)
    for given_sizes in ([512 * MiB, 2 * GiB, 512 * MiB], np.array([512 * MiB, 2 * GiB, 512 * MiB])):
        assert m.optimal_workers(sizes=given_sizes) == full_sort_workers(m, given_sizes) == 1
    m = R.ResourceManager(memory=fake_mem(64 * GiB), cpus=64, max_workers=16)
    # strings: int() reads them but they compare as text, so they take the full-sort path
    text = ["9", "10", "200000000", "3"]
    assert m.optimal_workers(sizes=text) == full_sort_workers(m, text)
    with pytest.raises(ValueError, match="size_bytes"):
        m.optimal_workers(sizes=[-1, -2])


def test_optimal_workers_defaults_and_clamps(tmp_path):
    m = R.ResourceManager(memory=fake_mem(8 * GiB), cpus=64, max_workers=16)
    # no files: budget // estimate(10 MiB) = 6 GiB // 80 MiB = 76, clamped to max_workers
    assert m.optimal_workers() == 16
    assert m.optimal_workers(n_tasks=3) == 3
    small = R.ResourceManager(memory=fake_mem(400 * MiB), cpus=64)
    assert small.optimal_workers() == (300 * MiB) // (80 * MiB)
    none = R.ResourceManager(memory=fake_mem(10 * MiB), cpus=64, min_workers=1)
    assert none.optimal_workers() == 1  # min_workers floor
    assert R.ResourceManager(safety=False, cpus=2).optimal_workers() == 2
    assert R.ResourceManager(safety=False, cpus=32).optimal_workers() == 4
    files = []
    for i in range(3):
        p = tmp_path / f"f{i}.txt"
        p.write_bytes(b"x" * 1000)
        files.append(str(p))
    assert m.optimal_workers(files) == 3  # clamped to the number of files
    with pytest.raises(TypeError):
        m.optimal_workers(files, sizes=[1])
    with pytest.raises(ValueError):
        R.ResourceManager(eta=0)
    with pytest.raises(ValueError):
        R.ResourceManager(min_workers=5, max_workers=2)


def test_closed_form():
    assert R.closed_form_workers(memory=16 * GiB, base=1 * GiB, max_size=100 * MiB) == \
        math.floor((0.75 * 16 * GiB - GiB) / (350 * MiB))
    assert R.closed_form_workers(memory=GiB, base=2 * GiB, max_size=1) == 0


def test_status_repr_html_and_log(caplog):
    m = R.ResourceManager(memory=fake_mem(50 * MiB), cpus=4)
    s = m.status()
    text = repr(s)
    assert "budget (eta=0.75)" in text
    assert re.search(r"optimal workers\s+: 1\n", text)
    assert "below one task" in text
    assert s._repr_html_().startswith("<table>") and "optimal workers" in s._repr_html_()
    with caplog.at_level(logging.INFO, logger="blockops"):
        m.log_status()
    assert "ResourceStatus" in caplog.text


@pytest.mark.parametrize("cpus", [1, 2, 4, 16])
def test_plan_heap_fits_budget(cpus):
    budget = 8 * GiB
    p = R.plan(memory_budget=budget, n_cpus=cpus, expansion=3.0)
    assert p.slots == cpus
    assert p.block_size % MiB == 0 and MiB <= p.block_size <= 256 * MiB
    assert p.planned_heap <= budget * R.DASK_FRACTIONS["target"]
    assert p.local_cluster_kwargs()["n_workers"] * p.memory_limit_per_worker <= budget
    assert p.ray_context() == {"target_max_block_size": p.block_size}
    assert p.dask_config()["distributed.worker.memory.target"] == 0.6
    assert "block size" in str(p)


def test_local_cluster_kwargs_split_the_budget_per_worker():
    p = R.plan(memory_budget=8 * GiB, n_cpus=8)
    assert p.local_cluster_kwargs() == {"n_workers": 4, "threads_per_worker": 2,
                                        "memory_limit": 2 * GiB, "processes": True}
    assert p.local_cluster_kwargs(n_workers=2, threads_per_worker=1) == {
        "n_workers": 2, "threads_per_worker": 1, "memory_limit": 4 * GiB, "processes": True}
    with pytest.raises(ValueError, match="n_workers"):
        p.local_cluster_kwargs(n_workers=0)


def test_plan_rejects_impossible_budget_and_respects_rows():
    with pytest.raises(BlockopsError, match="too small"):
        R.plan(memory_budget=4 * MiB, n_cpus=8)
    p = R.plan(memory_budget=64 * GiB, n_cpus=2, row_bytes=300)
    assert p.block_size >= 1000 * 300


def test_cli_plan():
    out = subprocess.run([sys.executable, "-m", "blockops", "plan", "--memory-budget-mb", "4096",
                          "--n-cpus", "4"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "workers x threads      : 2 x 2" in out.stdout
    assert "ResourceStatus" in out.stdout


def test_plan_row_floor_never_takes_the_heap_past_the_budget():
    # the reported case: 1 MiB rows on 8 CPUs planned 1000 MiB blocks, a 31 GiB heap for 8 GiB
    with pytest.raises(BlockopsError, match="1000 rows"):
        R.plan(memory_budget=8 * GiB, n_cpus=8, row_bytes=MiB)
    # the same rows where the budget holds them: the row floor wins over max_block
    p = R.plan(memory_budget=64 * GiB, n_cpus=2, row_bytes=MiB)
    assert p.block_size == 1000 * MiB > 256 * MiB
    assert p.planned_heap <= 64 * GiB * R.DASK_FRACTIONS["target"]


def test_plan_argument_errors():
    with pytest.raises(ValueError, match="row_bytes"):
        R.plan(memory_budget=GiB, n_cpus=2, row_bytes=-1)
    with pytest.raises(ValueError, match="min_block"):
        R.plan(memory_budget=GiB, n_cpus=2, min_block=8 * MiB, max_block=4 * MiB)
    with pytest.raises(ValueError, match="min_block"):
        R.plan(memory_budget=GiB, n_cpus=2, min_block=0)


@settings(max_examples=300, deadline=None, database=None)
@given(budget=st.integers(1, 2**42), cpus=st.integers(1, 512),
       row_bytes=st.one_of(st.none(), st.integers(0, 64 * MiB)),
       expansion=st.floats(1.0, 16.0), min_mib=st.integers(1, 8),
       max_mib=st.integers(8, 1024))
def test_plan_property_heap_within_budget_or_raises(budget, cpus, row_bytes, expansion,
                                                    min_mib, max_mib):
    """Any budget, CPU count and row size: the planned heap fits the budget (and each worker's
    heap its memory limit), or plan raises BlockopsError, and only when nothing fits."""
    target = R.DASK_FRACTIONS["target"]
    kw = dict(memory_budget=budget, n_cpus=cpus, row_bytes=row_bytes, expansion=expansion,
              min_block=min_mib * MiB, max_block=max_mib * MiB)
    rows_block = -(-1000 * (row_bytes or 0) // MiB) * MiB
    smallest = max(min_mib * MiB, rows_block)  # the smallest block plan may choose
    try:
        p = R.plan(**kw)
    except BlockopsError:
        n_workers = cpus // 2 if cpus >= 4 else 1
        slots = n_workers * (cpus // n_workers)
        assert smallest * slots * expansion > budget * target
        return
    assert p.planned_heap <= budget * target <= budget
    assert p.block_size % MiB == 0 and p.block_size >= smallest
    assert p.block_size <= max(max_mib * MiB, rows_block)
    assert p.n_workers * p.memory_limit_per_worker <= budget
    assert p.threads_per_worker * p.block_size * p.expansion <= \
        p.memory_limit_per_worker * target + 1  # per worker, within its own limit
    assert p.slots <= cpus


def oppnda_workers(sizes, available, cpus, eta, gamma=3.0, overhead_mb=50, max_workers=16):
    """OppNDA's ResourceManager.get_optimal_workers, transcribed (memory and CPUs injected)."""
    est = R.MemoryEstimator(gamma, overhead_mb)
    budget = int(eta * available)
    if not sizes:
        by_memory = max(1, budget // est.estimate_file(10 * MiB))
    else:
        by_memory = 1
        for p in range(1, max_workers + 1):
            if est.estimate_batch(sizes, p) <= budget:
                by_memory = p
            else:
                break
    return max(1, min(by_memory, cpus, max_workers))


@settings(max_examples=200, deadline=None, database=None)
@given(sizes=st.lists(st.integers(0, 2 * GiB), min_size=0, max_size=40),
       avail=st.integers(0, 64 * GiB), cpus=st.integers(1, 64), eta=st.floats(0.05, 1.0))
def test_optimal_workers_without_the_task_cap_is_the_original_count(sizes, avail, cpus, eta):
    m = R.ResourceManager(eta=eta, memory=fake_mem(avail), cpus=cpus, max_workers=16)
    want = oppnda_workers(sizes, avail, cpus, eta)
    assert m.optimal_workers(sizes=sizes, cap_to_tasks=False) == want
    assert m.optimal_workers(sizes=sizes, n_tasks=1, cap_to_tasks=False) == want
    # the default differs only by the cap at the number of files
    capped = m.optimal_workers(sizes=sizes)
    assert capped == (min(want, len(sizes)) if sizes else want)


def test_task_cap_example():
    m = R.ResourceManager(memory=fake_mem(64 * GiB), cpus=8)
    assert m.optimal_workers(sizes=[MiB] * 3) == 3
    assert m.optimal_workers(sizes=[MiB] * 3, cap_to_tasks=False) == 8
