"""Run-time configuration: SIMD level selection and thread counts.

The C core keeps no global state: the level and thread count chosen here are passed to every
kernel call. The level is chosen once at import (``BLOCKOPS_SIMD`` or the best the CPU runs);
tests may switch it in-process with :func:`simd_level`.
"""
from __future__ import annotations

import contextlib
import os
import sys

#: How long idle OpenMP threads spin before they sleep (libgomp's ``GOMP_SPINCOUNT``). libgomp's
#: default, 300,000 spins (milliseconds), is meant for back-to-back parallel loops; blockops
#: runs short parallel regions between Python steps, next to its own read-ahead and writer
#: threads, and the spinning took a core from them: on the V2X pipeline (1 M rows, 2 vCPUs)
#: 10,000 spins used 25-35% less CPU time and less wall time, and 1,000 (a pause is ~140
#: cycles on recent Intel cores, so 10,000 were still ~0.5 ms per wait) another 10-15% less
#: of both (benchmarks/RESULTS.md, session 15). Applied only when the user set
#: neither ``OMP_WAIT_POLICY`` nor ``GOMP_SPINCOUNT``, and only if libgomp was not loaded yet
#: (it reads its environment once); :func:`show_config` says what is in effect.
OMP_SPINCOUNT_DEFAULT = "1000"
if "OMP_WAIT_POLICY" not in os.environ and "GOMP_SPINCOUNT" not in os.environ:
    os.environ["GOMP_SPINCOUNT"] = OMP_SPINCOUNT_DEFAULT
    _OMP_WAIT = f"GOMP_SPINCOUNT={OMP_SPINCOUNT_DEFAULT} (set by blockops)"
else:
    _OMP_WAIT = ", ".join(f"{k}={os.environ[k]}" for k in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")
                          if k in os.environ) + " (from the environment)"

from . import _core  # noqa: E402  (after the OpenMP environment above)
from ._errors import SimdConfigError

LEVELS = ("scalar", "avx2", "avx512")
_INFO = _core.build_info()


def compiled_simd_levels() -> list[str]:
    """SIMD levels compiled into this build."""
    return list(_INFO["simd_compiled"])


def supported_simd_levels() -> list[str]:
    """Compiled levels this CPU (and OS) can execute."""
    return list(_INFO["simd_supported"])


def _choose(env: str | None) -> tuple[str, str]:
    if env is None or env.strip() == "":
        best = _INFO["simd_best"]
        return best, f"best level supported by this CPU among compiled {compiled_simd_levels()}"
    name = env.strip().lower()
    if name not in LEVELS:
        raise SimdConfigError(
            f"BLOCKOPS_SIMD={env!r} is not a SIMD level; valid values are "
            f"{', '.join(LEVELS)} (this machine supports: {', '.join(supported_simd_levels())})"
        )
    if name not in compiled_simd_levels():
        raise SimdConfigError(
            f"BLOCKOPS_SIMD={env!r}: this build of blockops was compiled without {name}; "
            f"compiled levels: {', '.join(compiled_simd_levels())}"
        )
    if name not in supported_simd_levels():
        raise SimdConfigError(
            f"BLOCKOPS_SIMD={env!r}: this CPU does not support {name}; "
            f"supported levels: {', '.join(supported_simd_levels())}"
        )
    return name, "forced by BLOCKOPS_SIMD"


_level, _reason = _choose(os.environ.get("BLOCKOPS_SIMD"))
_num_threads: int | None = None


def simd() -> int:
    """Index of the active SIMD level, as the C core expects it."""
    return LEVELS.index(_level)


def get_simd_level() -> tuple[str, str]:
    """(active level, why it was chosen)."""
    return _level, _reason


@contextlib.contextmanager
def simd_level(name: str):
    """Force a SIMD level inside a ``with`` block (for tests and benchmarks)."""
    global _level, _reason
    if name not in supported_simd_levels():
        raise SimdConfigError(
            f"SIMD level {name!r} is not available; supported: {supported_simd_levels()}"
        )
    old = (_level, _reason)
    _level, _reason = name, "forced in-process"
    try:
        yield name
    finally:
        _level, _reason = old


def effective_cpus() -> int:
    """CPUs this process may use: affinity mask and cgroup CPU quota (see blockops.resources)."""
    from .resources import cpu_count

    return cpu_count()


def _env_threads() -> tuple[int | None, str]:
    for var in ("BLOCKOPS_NUM_THREADS", "OMP_NUM_THREADS"):
        raw = os.environ.get(var)
        if raw:
            try:
                n = int(raw.split(",")[0])
            except ValueError:
                continue
            if n >= 1:
                return n, var
    return None, ""


def default_threads() -> tuple[int, str]:
    """The thread count used when a call passes ``n_threads=None``, and where it came from.

    Read at call time, not cached at import: Dask and Ray set ``OMP_NUM_THREADS=1`` in their
    workers, possibly after blockops was imported.
    """
    if _num_threads is not None:
        return _num_threads, "set_num_threads"
    n, var = _env_threads()
    if n is not None:
        return n, var
    return effective_cpus(), "effective CPUs"


def _check_threads(n, name="n_threads") -> int:
    if isinstance(n, bool) or not isinstance(n, int):
        try:
            import numpy as np

            if isinstance(n, np.integer):
                n = int(n)
            else:
                raise TypeError
        except TypeError:
            raise TypeError(f"{name} must be a positive int or None, got {n!r}") from None
    if n < 1:
        raise ValueError(f"{name} must be >= 1, got {n}")
    return n


def set_num_threads(n: int | None) -> None:
    """Set the default thread count of blockops kernels (``None`` restores the default)."""
    global _num_threads
    _num_threads = None if n is None else _check_threads(n, "n")


def get_num_threads() -> int:
    """The thread count kernels use when called with ``n_threads=None``."""
    return default_threads()[0]


def resolve_threads(n_threads) -> int:
    return get_num_threads() if n_threads is None else _check_threads(n_threads)


#: What the output pool keeps by default: freed reader outputs (a block's column arrays, string
#: bytes and offsets) wait there for the next read instead of going back to the system, which
#: would fault and zero every page of them again; that was 29 % of the CPU of repeated reads of
#: a 30 MB table (benchmarks/RESULTS.md, session 16). Bounded like a cache: what would pass the
#: limit goes back to the system, least recently used first. ``BLOCKOPS_OUTPUT_POOL`` sets it
#: at import ("0" turns the pool off), :func:`set_output_pool_limit` later. The default is
#: 1/32 of the memory this process may use (cgroup limits included), at most 256 MiB: a 2 GiB
#: container keeps at most 64 MiB of freed buffers.
OUTPUT_POOL_DEFAULT = 256 * 2**20
_pool_source = "default"


def _default_pool_limit() -> int:
    if sys.platform.startswith("linux"):
        try:
            limit = _core.system_memory(None, None)["effective_limit"]
            return min(OUTPUT_POOL_DEFAULT, limit // 32)
        except (OSError, KeyError):
            pass
    return OUTPUT_POOL_DEFAULT


def set_output_pool_limit(limit) -> int:
    """Set the bytes the output pool may keep (an int or a size such as ``"512MiB"``; 0 turns
    it off and returns what it holds to the system). Returns the previous limit."""
    global _pool_source
    from ._sizes import parse_size

    n = parse_size(limit, "output pool limit", minimum=0)
    old = _core.pool_stats()["limit"]
    _core.pool_set_limit(n)
    _pool_source = "set_output_pool_limit"
    return old


def release_output_pool() -> int:
    """Return every buffer the output pool keeps to the system (the limit stays). Returns the
    bytes released."""
    st = _core.pool_stats()
    _core.pool_set_limit(0)
    _core.pool_set_limit(st["limit"])
    return st["held"]


def output_pool_info() -> dict:
    """The output pool: ``limit`` and ``held`` bytes, ``hits`` (requests it served),
    ``misses`` (requests that took new memory), ``bypassed`` (calls that found it busy and
    went to the system) and where the limit came from (``source``)."""
    return {**_core.pool_stats(), "source": _pool_source}


def _pool_from_env() -> None:
    global _pool_source
    raw = os.environ.get("BLOCKOPS_OUTPUT_POOL")
    if raw is None or raw.strip() == "":
        _core.pool_set_limit(_default_pool_limit())
        return
    from ._sizes import parse_size

    _core.pool_set_limit(parse_size(raw, "BLOCKOPS_OUTPUT_POOL", minimum=0))
    _pool_source = "BLOCKOPS_OUTPUT_POOL"


_pool_from_env()


def _mib(n: int) -> str:
    return f"{n / 2**20:,.0f} MiB" if n >= 2**20 or n == 0 else f"{n:,} B"


def config_info() -> dict:
    """Build and run-time configuration as a dict (see :func:`show_config`)."""
    from . import __version__

    threads, source = default_threads()
    return {
        "version": __version__,
        "python": sys.version.split()[0],
        "compiler": _INFO["compiler"],
        "c_flags": _INFO["c_flags"],
        "openmp": bool(_INFO["openmp"]),
        "openmp_wait": _OMP_WAIT,
        "simd_compiled": compiled_simd_levels(),
        "simd_supported": supported_simd_levels(),
        "simd_selected": _level,
        "simd_reason": _reason,
        "wkt_kernel": _INFO["v2x_wkt_kernels"][_level],
        "default_threads": threads,
        "default_threads_source": source,
        "effective_cpus": effective_cpus(),
        "output_pool": output_pool_info(),
    }


class _ConfigView:
    """What :func:`show_config` shows, as text and (in a notebook) as a table."""

    def __init__(self, info: dict, lines: list):
        self.info, self.lines = info, lines

    def __repr__(self) -> str:
        return "\n".join(self.lines)

    def _repr_html_(self) -> str:
        from . import _html

        rows = [tuple(part.strip() for part in ln.split(":", 1)) for ln in self.lines[1:]]
        return _html.table(rows, self.lines[0], align="left")  # text, not numbers


def _in_notebook() -> bool:
    shell = sys.modules.get("IPython")
    try:
        ip = shell.get_ipython() if shell is not None else None
    except Exception:  # an IPython without a shell
        return False
    return ip is not None and "IPKernelApp" in getattr(ip, "config", {})


def show_config(file=None) -> None:
    """Print version, compiler and flags, OpenMP, SIMD levels and thread defaults (in a
    notebook, with no ``file``, show them as a table)."""
    info = config_info()
    lines = [
        f"blockops {info['version']} (Python {info['python']})",
        f"  compiler        : {info['compiler']}",
        f"  flags           : {info['c_flags']}",
        f"  OpenMP          : {'on' if info['openmp'] else 'off'}",
        f"  OpenMP waiting  : {info['openmp_wait']}",
        f"  SIMD compiled   : {', '.join(info['simd_compiled'])}",
        f"  SIMD supported  : {', '.join(info['simd_supported'])}",
        f"  SIMD selected   : {info['simd_selected']} ({info['simd_reason']})",
        f"  WKT point kernel: {info['wkt_kernel']}",
        f"  default threads : {info['default_threads']} (from {info['default_threads_source']})",
        f"  effective CPUs  : {info['effective_cpus']}",
        f"  output pool     : {_mib(info['output_pool']['limit'])} limit (from "
        f"{info['output_pool']['source']}), {_mib(info['output_pool']['held'])} held",
    ]
    if file is None and _in_notebook():
        from IPython.display import display

        display(_ConfigView(info, lines))
        return
    print("\n".join(lines), file=file or sys.stdout)
