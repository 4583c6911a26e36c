# Type stubs of the internal C extension. Public API: blockops.geo.
from typing import Any, Callable

import numpy as np
import numpy.typing as npt

def haversine(lat1: npt.NDArray[Any], lon1: npt.NDArray[Any], lat2: npt.NDArray[Any],
              lon2: npt.NDArray[Any], radius_m: float, out: npt.NDArray[Any] | None, simd: int,
              n_threads: int, validate: bool, /) -> npt.NDArray[np.floating[Any]]: ...
def within_radius(lat: npt.NDArray[Any], lon: npt.NDArray[Any], center_lat: float,
                  center_lon: float, radius_m: float, earth_radius_m: float, simd: int,
                  n_threads: int, validate: bool, /) -> npt.NDArray[np.bool_]: ...
def within_bbox(lat: npt.NDArray[Any], lon: npt.NDArray[Any], min_lat: float, max_lat: float,
                min_lon: float, max_lon: float, simd: int, n_threads: int, /) -> npt.NDArray[np.bool_]: ...
def radius_bbox(center_lat: float, center_lon: float, radius_m: float, earth_radius_m: float, /
                ) -> tuple[float, float, float, float]: ...
def to_local_xy(lat: npt.NDArray[Any], lon: npt.NDArray[Any], origin_lat: float, origin_lon: float,
                radius_m: float, n_threads: int, validate: bool, /
                ) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]: ...
def destination(lat: npt.NDArray[Any], lon: npt.NDArray[Any], bearing_deg: npt.NDArray[Any],
                distance_m: npt.NDArray[Any], radius_m: float, n_threads: int, validate: bool, /
                ) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]: ...
def build_info() -> dict[str, Any]: ...
def status_codes() -> dict[str, int]: ...
def parse_one_report(data: bytes, path: str, /) -> tuple[str, list[str], list[float]]: ...
def read_one_reports(paths: list[bytes], n_threads: int, max_file_bytes: int,
                     files_per_task: int, progress: Callable[[int], object] | None = None,
                     /) -> dict[str, Any]:
    """The batch reader (bo_report_read_files): keys "pair_start" (uintp, files + 1),
    "key_id" (uint32), "value" (float64), "keys" (list[str]), "errors" (list of (file, status
    name, errno, line, column, byte offset, message)), "n_dup_pairs". ``progress(k)`` is
    called with the GIL held after each block of files read (k files)."""
    ...
def system_memory(proc_root: str | None = None, cgroup_root: str | None = None, /) -> dict[str, Any]: ...
def cpu_info(proc_root: str | None = None, cgroup_root: str | None = None, online: int = -1,
             affinity: int = -1, /) -> dict[str, Any]: ...
def rss(proc_root: str | None = None, /) -> tuple[int, int]: ...
def barrier_labels(timestamp: npt.NDArray[np.int64], open: npt.NDArray[np.float64],
                   high: npt.NDArray[np.float64], low: npt.NDArray[np.float64],
                   close: npt.NDArray[np.float64], volume: npt.NDArray[np.float64] | None,
                   modes: npt.NDArray[np.float64], labels: npt.NDArray[np.int8],
                   weights: npt.NDArray[np.float32], mae_ticks: npt.NDArray[np.float32] | None,
                   seconds: npt.NDArray[np.float32] | None, out_begin: int, at_end: bool,
                   tick_size: float, horizon: int, decay_rate: float, roll_threshold: float,
                   ref_month: int, ts_per_second: int, n_threads: int, /
                   ) -> tuple[int, int, float, float]: ...

# keyed Philox4x32-10 random numbers (csrc/include/blockops/bo_rng.h)
def rng_u64(keys: npt.ArrayLike, *, seed: int, stream: int, counter: int = 0,
            n_threads: int = 1) -> npt.NDArray[np.uint64]: ...
def rng_uniform(keys: npt.ArrayLike, *, seed: int, stream: int, counter: int = 0,
                low: float = 0.0, high: float = 1.0,
                n_threads: int = 1) -> npt.NDArray[np.float64]: ...

# v2x string-column converters (csrc/include/blockops/bo_v2x.h); status: 0 ok, 1 null, 2 invalid
def v2x_parse_hex(offsets: npt.NDArray[np.int64], data: npt.NDArray[np.uint8],
                  valid_bits: npt.NDArray[np.uint8] | None, bit_offset: int, *,
                  n_threads: int = 1
                  ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.uint8]]: ...
def v2x_parse_wkt(offsets: npt.NDArray[np.int64], data: npt.NDArray[np.uint8],
                  valid_bits: npt.NDArray[np.uint8] | None, bit_offset: int, *,
                  n_threads: int = 1, simd: int = 0
                  ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64],
                             npt.NDArray[np.uint8]]: ...
def v2x_parse_datetime(offsets: npt.NDArray[np.int64], data: npt.NDArray[np.uint8],
                       valid_bits: npt.NDArray[np.uint8] | None, bit_offset: int,
                       fmt: str | None = None, *, n_threads: int = 1
                       ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.uint8]]: ...
def v2x_timestamp_parts(ns: npt.NDArray[np.int64] | npt.NDArray[np.datetime64], *,
                        n_threads: int = 1) -> dict[str, npt.NDArray[Any]]: ...
def v2x_datetime_parts(offsets: npt.NDArray[np.int64], data: npt.NDArray[np.uint8],
                       valid_bits: npt.NDArray[np.uint8] | None, bit_offset: int,
                       fmt: str | None = None, *, n_threads: int = 1
                       ) -> dict[str, npt.NDArray[Any]]: ...
