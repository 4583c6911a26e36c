"""Resource discovery and planning.

Discovery reads the limits the kernel actually enforces (``/proc/meminfo``, cgroup v1 and v2
``memory.max`` / ``memory.high`` / ``memory.limit_in_bytes`` and CPU quotas, the affinity mask)
in C; planners turn them into worker counts, block sizes and Dask / Ray settings.

The two worker formulas
-----------------------
:meth:`ResourceManager.optimal_workers` uses the *batch rule*: the largest P such that the P
largest files, processed at once, fit::

    sum_{k < P} (gamma * S_(k) + overhead) <= eta * M_avail

It applies whenever the file sizes are known (it is exact for "P workers each holding one file").
The *closed form*::

    P = floor((eta * M - M_base) / (gamma * S_max + overhead))

is the same rule with every file assumed as large as the largest, and with the memory already in
use (``M_base``) subtracted from the total ``M`` instead of reading the available memory. Use it
(:func:`closed_form_workers`) when only the largest size is known, e.g. to plan before listing
files; it never gives more workers than the batch rule.
"""
from __future__ import annotations

import heapq
import html
import logging
import math
import numbers
import os
import sys
from dataclasses import asdict, dataclass, field
from typing import Iterable, Sequence

import numpy as np

from . import _core
from ._errors import BlockopsError

__all__ = [
    "CpuInfo",
    "DynamicSemaphore",
    "MemoryEstimator",
    "MemoryEvent",
    "MemoryInfo",
    "MemoryMonitor",
    "Plan",
    "ResourceManager",
    "ResourceStatus",
    "closed_form_workers",
    "cpu_count",
    "cpu_info",
    "peak_rss",
    "plan",
    "rss",
    "system_memory",
]

log = logging.getLogger("blockops")
MiB = 1024 * 1024


def _none_if_neg(v: int):
    return None if v is None or v < 0 else int(v)


@dataclass(frozen=True)
class MemoryInfo:
    """Memory as seen by this process, in bytes (``None``: no such limit)."""

    total: int
    available: int
    cgroup_limit: int | None
    cgroup_high: int | None
    cgroup_usage: int | None
    effective_limit: int
    effective_available: int
    cgroup_version: int
    cgroup_path: str


@dataclass(frozen=True)
class CpuInfo:
    online: int
    affinity: int | None
    quota: float | None
    quota_cpus: int | None
    effective: int
    cgroup_version: int


def system_memory(*, proc_root: str | None = None, cgroup_root: str | None = None) -> MemoryInfo:
    """Total, available (MemAvailable), cgroup limits and the effective limit (the smallest)."""
    if sys.platform.startswith("linux") or proc_root is not None:
        d = _core.system_memory(proc_root, cgroup_root)
        return MemoryInfo(
            total=d["total"], available=d["available"],
            cgroup_limit=_none_if_neg(d["cgroup_max"]), cgroup_high=_none_if_neg(d["cgroup_high"]),
            cgroup_usage=_none_if_neg(d["cgroup_usage"]), effective_limit=d["effective_limit"],
            effective_available=d["effective_available"], cgroup_version=d["cgroup_version"],
            cgroup_path=d["cgroup_path"],
        )
    import psutil  # off Linux only

    vm = psutil.virtual_memory()
    return MemoryInfo(vm.total, vm.available, None, None, None, vm.total, vm.available, 0, "")


def cpu_info(*, proc_root: str | None = None, cgroup_root: str | None = None) -> CpuInfo:
    """Online CPUs, the affinity mask, the cgroup CPU quota and the effective count."""
    if sys.platform.startswith("linux") or proc_root is not None:
        d = _core.cpu_info(proc_root, cgroup_root)
        return CpuInfo(d["online"], _none_if_neg(d["affinity"]),
                       None if d["quota"] < 0 else d["quota"], _none_if_neg(d["quota_cpus"]),
                       d["effective"], d["cgroup_version"])
    n = os.cpu_count() or 1
    return CpuInfo(n, None, None, None, n, 0)


def cpu_count() -> int:
    """Effective CPUs: affinity mask, cgroup quota (rounded up), never more than are online."""
    return cpu_info().effective


def _rss_pair() -> tuple[int, int]:
    if sys.platform.startswith("linux"):
        return _core.rss()
    import psutil  # fallback off Linux

    mi = psutil.Process().memory_info()
    peak = getattr(mi, "peak_wset", None) or getattr(mi, "rss")
    return mi.rss, max(peak, mi.rss)


def rss() -> int:
    """Resident set size of this process, bytes (/proc/self/status VmRSS)."""
    return _rss_pair()[0]


def peak_rss() -> int:
    """Peak resident set size of this process, bytes (VmHWM)."""
    return _rss_pair()[1]


class MemoryEstimator:
    """Peak memory of processing one file: ``gamma * size + overhead``.

    ``gamma`` is the expansion of the parsed data over its size on disk (3 for text parsed into
    Python objects is the simulator tool's measured default); ``overhead_mb`` the fixed cost of a
    worker (interpreter, imports, buffers).
    """

    def __init__(self, gamma: float = 3.0, overhead_mb: float = 50):
        if not (gamma > 0 and math.isfinite(gamma)):
            raise ValueError(f"gamma must be a positive number, got {gamma!r}")
        if not (overhead_mb >= 0 and math.isfinite(overhead_mb)):
            raise ValueError(f"overhead_mb must be >= 0, got {overhead_mb!r}")
        self.gamma = float(gamma)
        self.overhead_mb = float(overhead_mb)

    @property
    def overhead_bytes(self) -> int:
        return int(self.overhead_mb * MiB)

    def estimate_file(self, size_bytes: int) -> int:
        """Estimated peak bytes for one file of ``size_bytes``."""
        if size_bytes < 0:
            raise ValueError(f"size_bytes must be >= 0, got {size_bytes}")
        return int(self.gamma * size_bytes) + self.overhead_bytes

    def estimate_batch(self, sizes: Iterable[int], workers: int) -> int:
        """Estimated peak of ``workers`` files at once: the sum over the ``workers`` largest."""
        if workers < 0:
            raise ValueError(f"workers must be >= 0, got {workers}")
        largest = sorted((int(s) for s in sizes), reverse=True)[:workers]
        return sum(self.estimate_file(s) for s in largest)

    def __repr__(self):
        return f"MemoryEstimator(gamma={self.gamma:g}, overhead_mb={self.overhead_mb:g})"


def _largest(sizes, k: int) -> list[int]:
    """The k largest of ``int(s) for s in sizes``, largest first.

    int() is monotone, so selecting on the raw values and converting the k chosen gives the
    same numbers as converting all and sorting. Anything that is not plain numbers (e.g.
    strings, which int() would accept but which compare as text) takes the full path."""
    if isinstance(sizes, np.ndarray) and sizes.dtype.kind in "iuf" and sizes.ndim == 1:
        arr = sizes
        if len(arr) > k:
            arr = np.partition(arr, len(arr) - k)[len(arr) - k:]
        return [int(s) for s in sorted(arr.tolist(), reverse=True)]
    try:
        top = heapq.nlargest(k, sizes)
    except TypeError:  # values that do not compare with each other
        top = None
    if top is not None and all(isinstance(s, numbers.Real) and not isinstance(s, bool)
                               for s in top):
        return [int(s) for s in top]
    return sorted((int(s) for s in sizes), reverse=True)[:k]


def closed_form_workers(*, memory: int, base: int, max_size: int, gamma: float = 3.0,
                        overhead_mb: float = 50, eta: float = 0.75) -> int:
    """``floor((eta * memory - base) / (gamma * max_size + overhead))``, at least 0."""
    denom = gamma * max_size + overhead_mb * MiB
    if denom <= 0:
        raise ValueError("gamma * max_size + overhead must be > 0")
    return max(0, math.floor((eta * memory - base) / denom))


@dataclass
class ResourceStatus:
    """A snapshot of what the manager sees and decides (readable repr, HTML in notebooks)."""

    total: int
    available: int
    effective_limit: int
    cgroup_limit: int | None
    cpus: int
    eta: float
    budget: int
    rss: int
    workers: int | None = None
    notes: list[str] = field(default_factory=list)

    def _rows(self):
        gb = lambda b: "-" if b is None else f"{b / 2**30:.2f} GiB"  # noqa: E731
        rows = [
            ("memory total", gb(self.total)),
            ("memory available", gb(self.available)),
            ("effective limit", gb(self.effective_limit)),
            ("cgroup limit", gb(self.cgroup_limit)),
            (f"budget (eta={self.eta:g})", gb(self.budget)),
            ("this process RSS", gb(self.rss)),
            ("effective CPUs", str(self.cpus)),
        ]
        if self.workers is not None:
            rows.append(("optimal workers", str(self.workers)))
        return rows

    def __repr__(self):
        w = max(len(k) for k, _ in self._rows())
        body = "\n".join(f"  {k:<{w}} : {v}" for k, v in self._rows())
        notes = "".join(f"\n  note: {n}" for n in self.notes)
        return f"ResourceStatus\n{body}{notes}"

    def _repr_html_(self):
        rows = "".join(f"<tr><th style='text-align:left'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
                       for k, v in self._rows())
        notes = "".join(f"<tr><td colspan=2><i>{html.escape(n)}</i></td></tr>" for n in self.notes)
        return f"<table><caption>blockops ResourceStatus</caption>{rows}{notes}</table>"

    def to_dict(self):
        return asdict(self)


class ResourceManager:
    """Pick how many files to process at once so the batch fits in ``eta`` of available memory.

    Parameters
    ----------
    eta : float
        Fraction of available memory the batch may use (0 < eta <= 1).
    gamma, overhead_mb : float
        :class:`MemoryEstimator` parameters.
    min_workers, max_workers : int
        Clamp of the result.
    safety : bool
        ``False`` skips the memory rule and returns ``min(4, CPUs)`` (the original tool's
        unsafe mode).
    memory, cpus : optional
        Overrides (a :class:`MemoryInfo` or a zero-argument callable returning one, and an int)
        for tests and what-if planning.
    """

    def __init__(self, eta: float = 0.75, gamma: float = 3.0, overhead_mb: float = 50,
                 min_workers: int = 1, max_workers: int = 16, safety: bool = True, *,
                 memory=None, cpus: int | None = None):
        if not (0 < eta <= 1):
            raise ValueError(f"eta must be in (0, 1], got {eta!r}")
        if int(min_workers) < 1 or int(max_workers) < int(min_workers):
            raise ValueError(f"need 1 <= min_workers <= max_workers, got {min_workers}, {max_workers}")
        self.eta = float(eta)
        self.estimator = MemoryEstimator(gamma, overhead_mb)
        self.min_workers = int(min_workers)
        self.max_workers = int(max_workers)
        self.safety = bool(safety)
        self._memory = memory
        self._cpus = cpus

    def memory(self) -> MemoryInfo:
        if self._memory is None:
            return system_memory()
        return self._memory() if callable(self._memory) else self._memory

    def cpus(self) -> int:
        return int(self._cpus) if self._cpus is not None else cpu_count()

    def budget(self, mem: MemoryInfo | None = None) -> int:
        mem = mem or self.memory()
        return int(self.eta * mem.effective_available)

    def optimal_workers(self, file_paths: Sequence[str] | None = None, *,
                        sizes: Sequence[int] | None = None, n_tasks: int | None = None,
                        cap_to_tasks: bool = True) -> int:
        """The largest worker count whose batch estimate fits ``eta`` x available memory.

        With no files or sizes: ``budget // estimate_file(10 MiB)``. Always clamped to the
        effective CPUs and ``min_workers``/``max_workers``; and to ``n_tasks`` (or the number
        of files), unless ``cap_to_tasks=False``: the original tool did not cap there, so with
        fewer files than CPUs it returned up to ``min(CPUs, max_workers)`` workers, the extra
        ones idle (its batch of P > n files is the n files). ``cap_to_tasks=False`` gives that
        count; blockops' readers never start more threads than files either way.
        """
        cpus = self.cpus()
        if not self.safety:
            return min(4, cpus)
        if file_paths is not None and sizes is not None:
            raise TypeError("pass file_paths or sizes, not both")
        if file_paths is not None:
            sizes = [os.path.getsize(p) for p in file_paths]
        budget = self.budget()
        if sizes is None or len(sizes) == 0:
            p = budget // self.estimator.estimate_file(10 * MiB)
            n = n_tasks
        else:
            n = len(sizes) if n_tasks is None else min(n_tasks, len(sizes))
            # The answer is clamped to `cap` below and the batch rule counts a prefix of the
            # sizes in descending order, so only the `cap` largest matter: select them (one
            # pass) rather than sorting all (214,500 sizes: 2.5 ms instead of 18 ms).
            cap = min(cpus, self.max_workers, max(1, int(n)) if cap_to_tasks else len(sizes))
            p, total = 0, 0
            largest = _largest(sizes, cap)
            for s in largest:
                total += self.estimator.estimate_file(s)
                if total > budget:
                    break
                p += 1
            if not cap_to_tasks and p == len(largest):
                p = min(cpus, self.max_workers)  # more workers add no file to the batch
        p = min(p, cpus, self.max_workers)
        if n is not None and cap_to_tasks:
            p = min(p, max(1, int(n)))
        return max(p, self.min_workers)

    def status(self, **kwargs) -> ResourceStatus:
        """Snapshot of memory, CPUs, budget and (given files/sizes) the chosen worker count."""
        mem = self.memory()
        st = ResourceStatus(
            total=mem.total, available=mem.effective_available, effective_limit=mem.effective_limit,
            cgroup_limit=mem.cgroup_limit, cpus=self.cpus(), eta=self.eta,
            budget=self.budget(mem), rss=rss(),
        )
        st.workers = self.optimal_workers(**kwargs)
        if st.workers == self.min_workers and self.safety:
            need = self.estimator.estimate_file(10 * MiB)
            if st.budget < need:
                st.notes.append("memory budget below one task's estimate: running at min_workers")
        if mem.cgroup_limit is not None and mem.cgroup_limit < mem.total:
            st.notes.append("a cgroup (container) memory limit is tighter than the machine")
        return st

    def log_status(self, level=logging.INFO, **kwargs) -> ResourceStatus:
        st = self.status(**kwargs)
        log.log(level, "%r", st)
        return st

    def __repr__(self):
        return (f"ResourceManager(eta={self.eta:g}, gamma={self.estimator.gamma:g}, "
                f"overhead_mb={self.estimator.overhead_mb:g}, min_workers={self.min_workers}, "
                f"max_workers={self.max_workers}, safety={self.safety})")


#: Dask's own defaults for the worker memory fractions; ``plan`` keeps them but sizes blocks so
#: that a worker's planned heap stays below the ``target`` fraction.
DASK_FRACTIONS = {"target": 0.60, "spill": 0.70, "pause": 0.80, "terminate": 0.95}
#: Default in-memory expansion of a block over its bytes (CSV text -> typed columns plus the
#: tokenizer's intermediate buffers). The CSV reader documents its own measured factor.
DEFAULT_EXPANSION = 4.0


@dataclass(frozen=True)
class Plan:
    """How to run: block size, processes x threads, memory per worker, framework settings.

    Follows heap = execution slots x block size x expansion (Ray Data's rule), with the heap
    kept under Dask's ``target`` fraction of each worker's memory limit.
    """

    memory_budget: int
    n_cpus: int
    expansion: float
    block_size: int
    n_workers: int
    threads_per_worker: int
    memory_limit_per_worker: int
    row_bytes: int | None = None

    @property
    def slots(self) -> int:
        return self.n_workers * self.threads_per_worker

    @property
    def planned_heap(self) -> int:
        return int(self.slots * self.block_size * self.expansion)

    def _repr_html_(self) -> str:
        from . import _html

        mib = float(MiB)
        return _html.table([
            ("memory budget", f"{self.memory_budget / mib:,.0f} MiB"),
            ("CPUs", self.n_cpus),
            ("workers x threads", f"{self.n_workers} x {self.threads_per_worker}"),
            ("block size", f"{self.block_size / mib:,.0f} MiB"),
            ("expansion", f"{self.expansion:g}"),
            ("planned heap", f"{self.planned_heap / mib:,.0f} MiB "
             f"({100 * self.planned_heap / self.memory_budget:.0f}% of the budget)"),
            ("memory per worker", f"{self.memory_limit_per_worker / mib:,.0f} MiB"),
        ], "blockops plan")

    def dask_config(self) -> dict:
        """Settings for ``dask.config.set``."""
        return {f"distributed.worker.memory.{k}": v for k, v in DASK_FRACTIONS.items()}

    def local_cluster_kwargs(self, *, n_workers: int | None = None,
                             threads_per_worker: int | None = None) -> dict:
        """Arguments for ``distributed.LocalCluster``.

        ``memory_limit`` is per worker, as ``LocalCluster`` reads it: the budget split evenly
        over the workers. ``n_workers`` / ``threads_per_worker`` override the plan's; the
        budget is then split over that many workers (never divide the result again).
        """
        n = self.n_workers if n_workers is None else int(n_workers)
        if n < 1:
            raise ValueError(f"n_workers must be >= 1, got {n_workers!r}")
        t = self.threads_per_worker if threads_per_worker is None else int(threads_per_worker)
        return {"n_workers": n, "threads_per_worker": t,
                "memory_limit": self.memory_budget // n, "processes": True}

    def ray_context(self) -> dict:
        """Attributes to set on ``ray.data.DataContext.get_current()``."""
        return {"target_max_block_size": self.block_size}

    def __str__(self):
        mb = lambda b: f"{b / MiB:,.0f} MiB"  # noqa: E731
        lines = [
            "blockops plan",
            f"  memory budget          : {mb(self.memory_budget)}",
            f"  CPUs                   : {self.n_cpus}",
            f"  block size             : {mb(self.block_size)}",
            f"  expansion              : {self.expansion:g}x",
            f"  workers x threads      : {self.n_workers} x {self.threads_per_worker}",
            f"  memory limit / worker  : {mb(self.memory_limit_per_worker)}",
            f"  planned heap           : {mb(self.planned_heap)} "
            f"(slots {self.slots} x block x expansion)",
            f"  dask config            : {self.dask_config()}",
            f"  LocalCluster kwargs    : {self.local_cluster_kwargs()}",
            f"  ray DataContext        : {self.ray_context()}",
        ]
        return "\n".join(lines)


def plan(*, memory_budget: int | None = None, n_cpus: int | None = None,
         row_bytes: int | None = None, expansion: float | None = None,
         min_block: int = 1 * MiB, max_block: int = 256 * MiB) -> Plan:
    """Plan block size and workers so that slots x block size x expansion fits the budget.

    ``memory_budget`` defaults to 0.75 of the effective available memory; ``n_cpus`` to
    :func:`cpu_count`. One execution slot per CPU. Blocks are whole MiB, at least ``min_block``
    and at most ``max_block``; with ``row_bytes`` they also hold at least 1000 rows, which may
    take a block past ``max_block`` but never past the budget. The planned heap (slots x block
    x expansion) always stays within Dask's ``target`` fraction of the budget: a budget too
    small for the smallest allowed block raises :class:`BlockopsError` rather than
    over-committing. Workers: one process per 2 CPUs from 4 CPUs up (the C kernels release the
    GIL, so threads share a process well), else a single process; each gets an equal share of
    the budget.
    """
    if memory_budget is None:
        memory_budget = int(0.75 * system_memory().effective_available)
    n_cpus = cpu_count() if n_cpus is None else int(n_cpus)
    expansion = DEFAULT_EXPANSION if expansion is None else float(expansion)
    if memory_budget <= 0 or n_cpus < 1 or not (expansion >= 1):
        raise ValueError("need memory_budget > 0, n_cpus >= 1 and expansion >= 1")
    if row_bytes is not None and int(row_bytes) < 0:
        raise ValueError(f"row_bytes must be >= 0, got {row_bytes!r}")
    if not (0 < min_block and -(-min_block // MiB) * MiB <= max_block):
        raise ValueError(f"need a whole-MiB block size in [min_block, max_block], got "
                         f"min_block={min_block!r}, max_block={max_block!r}")
    n_workers = n_cpus // 2 if n_cpus >= 4 else 1
    threads = max(1, n_cpus // n_workers)
    slots = n_workers * threads
    # keep the heap under Dask's target fraction of each worker's limit
    usable = memory_budget * DASK_FRACTIONS["target"]
    fits = int(usable // (slots * expansion)) // MiB * MiB  # the largest block the budget holds
    block = min(fits, max_block // MiB * MiB)
    need, why = min_block, f"{min_block / MiB:g} MiB blocks"
    if row_bytes:
        # 1000 rows a block is a floor that wins over max_block, never over the budget: raising
        # the block to it after the budget check let 1 MiB rows plan 1000 MiB blocks, a 31 GiB
        # heap on 8 CPUs for an 8 GiB budget.
        rows_block = -(-1000 * int(row_bytes) // MiB) * MiB
        if rows_block > need:
            need, why = rows_block, f"blocks of 1000 rows of {int(row_bytes):,} bytes"
        block = max(block, rows_block)
    if need > fits:
        raise BlockopsError(
            f"memory budget {memory_budget / MiB:.0f} MiB is too small for {slots} slots of "
            f"{why} at {expansion:g}x expansion (the heap must stay within "
            f"{DASK_FRACTIONS['target']:g} of the budget); lower n_cpus or raise the budget"
        )
    return Plan(memory_budget=int(memory_budget), n_cpus=n_cpus, expansion=expansion,
                block_size=int(block), n_workers=n_workers, threads_per_worker=threads,
                memory_limit_per_worker=int(memory_budget // n_workers),
                row_bytes=None if row_bytes is None else int(row_bytes))


def __getattr__(name):  # lazy re-exports of the thread-based helpers
    if name == "DynamicSemaphore":
        from ._semaphore import DynamicSemaphore

        return DynamicSemaphore
    if name in ("MemoryMonitor", "MemoryEvent"):
        from . import _monitor

        return getattr(_monitor, name)
    raise AttributeError(name)
