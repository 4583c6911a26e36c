"""Barrier labels and sample weights for trading models on time-ordered OHLC bars.

For every bar and every *mode* (a direction with a stop and a target distance in ticks) this
computes an ``int8`` label (1: the target is reached strictly before the stop within the
horizon, else 0) and a ``float32`` sample weight, in C, all modes in one pass, in memory
bounded by the inputs and outputs (see ``docs/labels.md`` for the exact rules, the engine and
how it differs from the engine it replaces).

Three entry points give identical results:

* :func:`barrier_labels` on a whole DataFrame (or a mapping of arrays);
* :class:`BarrierLabeler` ``.label_blocks(blocks)`` streaming over an iterator of DataFrames,
  keeping only ``horizon + 6`` rows of overlap;
* :func:`blockops.dask.barrier_labels` on a Dask DataFrame.

Rules (signal bar ``i``, entry bar ``e = i + 1``, entry price ``P = open[e]``):

* long: target ``T = P + target_ticks * tick_size``, stop ``S = P - stop_ticks * tick_size``,
  target hit when ``high[j] >= T``, stop hit when ``low[j] <= S``; short mirrors it
  (``T = P - target_ticks * tick_size`` hit by ``low[j] <= T``, ``S = P + stop_ticks *
  tick_size`` hit by ``high[j] >= S``). Thresholds are computed in float64 exactly as
  written and compared with ``>=`` / ``<=``: no tolerance, so prices on the tick grid behave
  as a user computing the same expressions in Python would expect, bit for bit.
* scan ``j = e .. min(i + horizon, last bar)``; label 1 when the first target bar comes
  strictly before the first stop bar (or no stop is hit); the stop first, both in one bar or
  no hit give 0. The last bar is 0.
* roll-overs: ``|close[k] - close[k-1]| > roll_threshold`` is an event, bars ``k-1 .. k+5``
  are affected; label 0 when an affected bar lies in ``[i, target bar]`` (the signal bar
  itself, or any bar the scan meets up to and including its outcome).
* winners: ``mae_ticks = max(0, P - min(low[e..jt])) / tick_size`` (short: ``max(0,
  max(high[e..jt]) - P) / tick_size``), ``seconds_to_target = ts[jt] - ts[e]``; weight =
  quality x velocity x time_decay with quality ``clip(2 - 1.5 * mae_ticks / stop_ticks, 0.5,
  2)``, velocity ``clip(2 - 1.5 * (seconds_to_target - 300) / 600, 0.5, 2)``, time_decay
  ``exp(-decay_rate * months_ago)``; losers get time_decay. ``months_ago = 12 * (ref.year -
  ts.year) + (ref.month - ts.month)`` of the signal bar, in UTC, with ``ref`` the latest
  timestamp of the whole dataset or ``reference_time``.

Timestamps: a ``timestamp`` column (else a DatetimeIndex) of any ``datetime64`` unit (read
from the dtype: pandas 3 defaults to microseconds) or tz-aware; tz-aware values are converted
to UTC and naive values are taken as UTC.
"""
from __future__ import annotations

import collections.abc as _abc
import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

import numpy as np

from . import _config, _core
from ._errors import BlockopsDomainError

__all__ = [
    "MODES",
    "Mode",
    "RollStats",
    "LabelDiagnostics",
    "OutsideRTHWarning",
    "barrier_labels",
    "BarrierLabeler",
    "output_columns",
]

#: Context rows a piece needs before its first bar (roll events reach 5 bars back and an
#: event compares with the previous close); mirrors BO_LABEL_CONTEXT_BEFORE in bo_label.h.
CONTEXT_BEFORE = 6
#: Bars per C call in the one-pass path: Ctrl-C is seen between calls.
_SEGMENT = 1 << 21
_TPS = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}
_COLUMNS = ("open", "high", "low", "close")
_RTH_START_S = 7 * 3600 + 30 * 60
_RTH_END_S = 15 * 3600


@dataclass(frozen=True)
class Mode:
    """One trading mode: a direction with stop and target distances in ticks.

    Parameters
    ----------
    name : str
        Used in the output column names (``label_<name>``, ``weight_<name>``...).
    direction : {"long", "short"}
        ``+1`` / ``-1`` are accepted and normalized.
    stop_ticks, target_ticks : float
        Distances from the entry price in ticks, finite and > 0.
    """

    name: str
    direction: str
    stop_ticks: float
    target_ticks: float

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"Mode: name must be a non-empty string, got {self.name!r}")
        d = self.direction
        if isinstance(d, str) and d.lower() in ("long", "short"):
            d = d.lower()
        elif not isinstance(d, bool) and d in (1, -1):
            d = "long" if d == 1 else "short"
        else:
            raise ValueError(f"Mode {self.name!r}: direction must be 'long' or 'short', got {d!r}")
        object.__setattr__(self, "direction", d)
        for attr in ("stop_ticks", "target_ticks"):
            v = getattr(self, attr)
            try:
                fv = float(v)
            except (TypeError, ValueError):
                raise TypeError(f"Mode {self.name!r}: {attr} must be a number, got {v!r}") from None
            if not math.isfinite(fv) or fv <= 0:
                raise ValueError(f"Mode {self.name!r}: {attr} must be finite and > 0, got {v!r}")
            object.__setattr__(self, attr, fv)

    @property
    def sign(self) -> int:
        return 1 if self.direction == "long" else -1


#: The six modes of the engine this replaces (tick size 0.25).
MODES: tuple[Mode, ...] = (
    Mode("low_vol_long", "long", 6, 12),
    Mode("normal_vol_long", "long", 8, 16),
    Mode("high_vol_long", "long", 10, 20),
    Mode("low_vol_short", "short", 6, 12),
    Mode("normal_vol_short", "short", 8, 16),
    Mode("high_vol_short", "short", 10, 20),
)


class OutsideRTHWarning(UserWarning):
    """Bars fall outside regular trading hours (07:30-15:00 US/Central)."""


@dataclass
class RollStats:
    """Roll-over statistics.

    Attributes
    ----------
    events : int
        Bars ``k`` with ``|close[k] - close[k-1]| > roll_threshold``.
    bars_affected : int
        Distinct bars in ``k-1 .. k+5`` of some event.
    max_price_change, mean_price_change : float
        Over the events (NaN when there is none). The mean is summed per piece in row order
        and the pieces' sums added, so it may differ in the last bit between block sizes.
    """

    events: int = 0
    bars_affected: int = 0
    max_price_change: float = math.nan
    mean_price_change: float = math.nan
    _sum: float = field(default=0.0, repr=False, compare=False)

    def _repr_html_(self) -> str:
        from . import _html

        return _html.table([("roll events", self.events), ("bars affected", self.bars_affected),
                            ("max price change", f"{self.max_price_change:.6g}"),
                            ("mean price change", f"{self.mean_price_change:.6g}")],
                           "roll statistics")

    def _add(self, events, bars, max_change, sum_change) -> None:
        if events:
            self.max_price_change = (max_change if self.events == 0
                                     else max(self.max_price_change, max_change))
        self.events += int(events)
        self.bars_affected += int(bars)
        self._sum += float(sum_change)
        self.mean_price_change = self._sum / self.events if self.events else math.nan


@dataclass
class LabelDiagnostics:
    """What :func:`barrier_labels` (``diagnostics=True``) and :class:`BarrierLabeler` report.

    Attributes
    ----------
    rows : int
        Bars labelled.
    reference_time : pandas.Timestamp
        The time the decay is measured from (UTC, naive).
    roll : RollStats
    winners : dict
        Mode name -> number of bars labelled 1.
    outside_rth : int or None
        Bars outside 07:30-15:00 US/Central (None when the check was off).
    """

    rows: int = 0
    reference_time: Any = None
    roll: RollStats = field(default_factory=RollStats)
    winners: dict = field(default_factory=dict)
    outside_rth: int | None = None

    @property
    def win_rate(self) -> dict:
        """Mode name -> share of bars labelled 1 (NaN without rows)."""
        return {k: (v / self.rows if self.rows else math.nan) for k, v in self.winners.items()}

    @property
    def quality_flags(self) -> list[str]:
        """Modes whose win rate lies outside 5-50 % (the original engine's quality check)."""
        return [k for k, r in self.win_rate.items() if not (0.05 <= r <= 0.50)]

    def _repr_html_(self) -> str:
        """Rows, reference time, win rate per mode as bars (quality flags marked), rolls."""
        from . import _html

        flags = set(self.quality_flags)
        head = _html.table([("bars labelled", f"{self.rows:,}"),
                            ("reference time", self.reference_time),
                            ("outside RTH", "not checked" if self.outside_rth is None
                             else f"{self.outside_rth:,}"),
                            ("modes outside 5-50 % wins", ", ".join(sorted(flags)) or "none")],
                           "label diagnostics")
        rates = [(k + (" (!)" if k in flags else ""), 100.0 * r)
                 for k, r in self.win_rate.items()]
        return head + _html.bars(rates, "%", "win rate per mode") + self.roll._repr_html_()

    def _merge_piece(self, rows, winners, stats, outside) -> None:
        self.rows += int(rows)
        for k, v in winners.items():
            self.winners[k] = self.winners.get(k, 0) + int(v)
        self.roll._add(*stats)
        if outside is not None:
            self.outside_rth = (self.outside_rth or 0) + int(outside)


# --------------------------------------------------------------------------- options


@dataclass(frozen=True)
class _Options:
    modes: tuple
    tick_size: float
    horizon: int
    decay_rate: float
    roll_threshold: float
    details: bool
    rth: str
    mode_array: Any

    @classmethod
    def make(cls, func, *, modes, tick_size, horizon, decay_rate, roll_threshold, details, rth):
        if isinstance(modes, (Mode, str)) or not isinstance(modes, Iterable):
            raise TypeError(f"{func}: modes must be a sequence of Mode (or (name, direction, "
                            f"stop_ticks, target_ticks) tuples), got {modes!r}")
        ms = []
        for m in modes:
            if isinstance(m, Mode):
                ms.append(m)
            elif isinstance(m, Mapping):
                ms.append(Mode(**m))
            elif isinstance(m, Sequence) and not isinstance(m, str) and len(m) == 4:
                ms.append(Mode(*m))
            else:
                raise TypeError(f"{func}: each mode must be a Mode, a mapping or a 4-tuple "
                                f"(name, direction, stop_ticks, target_ticks), got {m!r}")
        if not ms:
            raise ValueError(f"{func}: modes is empty")
        if len(ms) > 64:
            raise ValueError(f"{func}: at most 64 modes per call, got {len(ms)}")
        names = [m.name for m in ms]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"{func}: mode names must be unique, repeated: {dup}")
        tick = _number(func, "tick_size", tick_size)
        if not math.isfinite(tick) or tick <= 0:
            raise ValueError(f"{func}: tick_size must be finite and > 0, got {tick_size!r}")
        if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)):
            raise TypeError(f"{func}: horizon must be an int, got {horizon!r}")
        if horizon < 1:
            raise ValueError(f"{func}: horizon must be >= 1, got {horizon}")
        dr = _number(func, "decay_rate", decay_rate)
        if not math.isfinite(dr):
            raise ValueError(f"{func}: decay_rate must be finite, got {decay_rate!r}")
        rt = math.inf if roll_threshold is None else _number(func, "roll_threshold", roll_threshold)
        if math.isnan(rt) or rt < 0:
            raise ValueError(f"{func}: roll_threshold must be >= 0 (or None to disable roll-over "
                             f"detection), got {roll_threshold!r}")
        if rth not in ("ignore", "warn", "raise"):
            raise ValueError(f"{func}: rth must be 'ignore', 'warn' or 'raise', got {rth!r}")
        arr = np.array([[m.sign, m.stop_ticks, m.target_ticks] for m in ms], dtype=np.float64)
        return cls(tuple(ms), tick, int(horizon), dr, rt, bool(details), rth, arr)

    def columns(self) -> list[tuple[str, np.dtype]]:
        return output_columns(self.modes, details=self.details)


def _number(func, name, v) -> float:
    if isinstance(v, bool):
        raise TypeError(f"{func}: {name} must be a number, got {v!r}")
    try:
        return float(v)
    except (TypeError, ValueError):
        raise TypeError(f"{func}: {name} must be a number, got {v!r}") from None


def output_columns(modes=MODES, *, details=False) -> list[tuple[str, np.dtype]]:
    """(name, dtype) of the columns :func:`barrier_labels` produces, in order.

    ``label_<mode>`` int8 and ``weight_<mode>`` float32 for every mode, then with
    ``details=True`` ``mae_ticks_<mode>`` and ``seconds_to_target_<mode>`` (float32, NaN for
    bars that are not winners).
    """
    names = [m.name if isinstance(m, Mode) else Mode(*m).name for m in modes]
    cols = [(f"label_{n}", np.dtype(np.int8)) for n in names]
    cols += [(f"weight_{n}", np.dtype(np.float32)) for n in names]
    if details:
        cols += [(f"mae_ticks_{n}", np.dtype(np.float32)) for n in names]
        cols += [(f"seconds_to_target_{n}", np.dtype(np.float32)) for n in names]
    return cols


# --------------------------------------------------------------------------- inputs


@dataclass
class _Arrays:
    ts: np.ndarray        # int64 in units of tps per second since the epoch (UTC)
    tps: int
    unit: str
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray | None
    index: Any            # pandas Index or None

    @property
    def n(self) -> int:
        return int(self.ts.shape[0])


def _is_frame(x) -> bool:
    return type(x).__name__ == "DataFrame" and hasattr(x, "columns") and hasattr(x, "iloc")


def _timestamps(func, x) -> tuple[np.ndarray, int, str]:
    """Any datetime-like 1-D input -> (int64 values, units per second, unit), UTC."""
    dt = getattr(x, "dtype", None)
    if dt is not None and getattr(dt, "tz", None) is not None:  # tz-aware pandas
        if hasattr(x, "dt"):
            x = x.dt.tz_convert(None)
        else:
            x = x.tz_convert(None)
    if hasattr(x, "to_numpy"):
        x = x.to_numpy()
    a = np.asarray(x)
    if a.ndim != 1:
        raise ValueError(f"{func}: timestamp must be 1-D, got shape {a.shape}")
    if a.dtype.kind != "M":
        raise TypeError(
            f"{func}: timestamp must be datetime64 (any unit) or tz-aware, got dtype {a.dtype}; "
            "convert it with pandas.to_datetime first"
        )
    unit, count = np.datetime_data(a.dtype)
    if count != 1 or unit not in _TPS:
        coarse = unit in ("Y", "M", "W", "D", "h", "m")
        target = "s" if coarse else "ns"
        a = a.astype(f"datetime64[{target}]")
        unit = target
    return np.ascontiguousarray(a).view(np.int64), _TPS[unit], unit


def _float_col(func, name, x) -> np.ndarray:
    if hasattr(x, "dtype") and not isinstance(x.dtype, np.dtype) and hasattr(x, "to_numpy"):
        # pandas extension dtypes (Float64, Int64, ...): NA becomes NaN and is reported
        try:
            return np.ascontiguousarray(x.to_numpy(dtype=np.float64, na_value=np.nan))
        except (TypeError, ValueError):
            raise TypeError(f"{func}: {name} must be numeric, got dtype {x.dtype}") from None
    a = np.asarray(x.to_numpy() if hasattr(x, "to_numpy") else x)
    if a.dtype.kind not in "fiu":
        raise TypeError(f"{func}: {name} must be numeric, got dtype {a.dtype}")
    if a.ndim != 1:
        raise ValueError(f"{func}: {name} must be 1-D, got shape {a.shape}")
    return np.ascontiguousarray(a, dtype=np.float64)


def _timestamp_source(func, data):
    if _is_frame(data):
        if "timestamp" in data.columns:
            return data["timestamp"]
        idx = data.index
        if getattr(idx.dtype, "kind", "") == "M" or getattr(idx.dtype, "tz", None) is not None:
            return idx
        raise ValueError(f"{func}: no 'timestamp' column and the index is not a DatetimeIndex")
    if isinstance(data, Mapping):
        if "timestamp" not in data:
            raise ValueError(f"{func}: the mapping has no 'timestamp' entry")
        return data["timestamp"]
    raise TypeError(f"{func}: expected a pandas DataFrame or a mapping of arrays, got "
                    f"{type(data).__name__}")


def _extract(func, data) -> _Arrays:
    ts, tps, unit = _timestamps(func, _timestamp_source(func, data))
    n = ts.shape[0]
    cols = {}
    for name in _COLUMNS:
        if name not in (data.columns if _is_frame(data) else data):
            raise ValueError(f"{func}: missing column {name!r}")
        a = _float_col(func, name, data[name])
        if a.shape[0] != n:
            raise ValueError(f"{func}: {name} has length {a.shape[0]} but timestamp has {n}")
        cols[name] = a
    vol = None
    if "volume" in (data.columns if _is_frame(data) else data):
        vol = _float_col(func, "volume", data["volume"])
        if vol.shape[0] != n:
            raise ValueError(f"{func}: volume has length {vol.shape[0]} but timestamp has {n}")
    index = data.index if _is_frame(data) else None
    return _Arrays(ts, tps, unit, cols["open"], cols["high"], cols["low"], cols["close"], vol,
                   index)


def _to_timestamp(func, t):
    """A reference time -> naive UTC pandas Timestamp."""
    import pandas as pd

    try:
        ts = pd.Timestamp(t)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{func}: reference_time {t!r} is not a time: {exc}") from None
    if ts is pd.NaT:
        raise ValueError(f"{func}: reference_time is NaT")
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts


def _month_index(ts) -> int:
    return int(ts.year) * 12 + int(ts.month) - 1


def _ts_of(value: int, unit: str):
    import pandas as pd

    return pd.Timestamp(np.datetime64(int(value), unit))


# --------------------------------------------------------------------------- kernel


def _alloc(opts: _Options, n: int) -> dict:
    m = len(opts.modes)
    outs = {
        "label": np.empty((m, n), np.int8),
        "weight": np.empty((m, n), np.float32),
        "mae": np.empty((m, n), np.float32) if opts.details else None,
        "secs": np.empty((m, n), np.float32) if opts.details else None,
    }
    return outs


def _run(func, a: _Arrays, out_begin: int, out_end: int, at_end: bool, opts: _Options,
         ref_month: int, outs: dict, n_threads: int, row_offset: int) -> tuple:
    """Fill outs[:, 0 : out_end - out_begin] for bars [out_begin, out_end) of a.

    Returns (events, bars_affected, max_change, sum_change). Validation errors are re-raised
    with the global row (row_offset + array index) and the index label.
    """
    events = bars = 0
    mx = 0.0
    total = 0.0
    seg = out_begin
    while True:
        hi = min(out_end, seg + _SEGMENT)
        lo_o, hi_o = seg - out_begin, hi - out_begin

        def sl(x):
            return None if x is None else x[:, lo_o:hi_o]

        try:
            ev, ba, m, s = _core.barrier_labels(
                a.ts, a.open, a.high, a.low, a.close, a.volume, opts.mode_array,
                sl(outs["label"]), sl(outs["weight"]), sl(outs["mae"]), sl(outs["secs"]),
                seg, bool(at_end), opts.tick_size, opts.horizon, opts.decay_rate,
                opts.roll_threshold, ref_month, a.tps, n_threads)
        except BlockopsDomainError as exc:
            raise _row_error(func, exc, a, row_offset) from None
        if ev:
            mx = m if events == 0 else max(mx, m)
        events += ev
        bars += ba
        total += s
        if hi >= out_end:
            break
        seg = hi  # between two calls Python runs signal handlers: Ctrl-C stops here
    return events, bars, mx, total


def _row_error(func, exc, a: _Arrays, row_offset: int) -> BlockopsDomainError:
    i = exc.index
    col = ("timestamp", "open", "high", "low", "close", "volume")[exc.column]
    label = ""
    if a.index is not None and i is not None and 0 <= i < len(a.index):
        label = f" (index {a.index[i]!r})"
    when = ""
    if i is not None and a.ts[i] != np.iinfo(np.int64).min:
        when = f" at {_ts_of(a.ts[i], a.unit)}"
    msg = str(exc).split(": ", 1)[-1]
    row = row_offset + i
    return BlockopsDomainError(
        f"{func}: row {row}{label}{when}: {msg}", row=row, index=row, column=col,
        value=exc.value, label=None if a.index is None else a.index[i],
    )


def _rth_outside(a: _Arrays, begin: int, end: int) -> tuple[int, int]:
    """(bars of [begin, end) outside 07:30-15:00 US/Central, first such array index or -1)."""
    import pandas as pd

    count, first = 0, -1
    step = 1 << 20
    for s in range(begin, end, step):
        e = min(end, s + step)
        idx = pd.DatetimeIndex(a.ts[s:e].view(f"datetime64[{a.unit}]")).tz_localize("UTC")
        wall = idx.tz_convert("America/Chicago").tz_localize(None)
        w = wall.as_unit(a.unit).asi8
        day = 86400 * a.tps
        tod = w - (w // day) * day
        out = (tod < _RTH_START_S * a.tps) | (tod > _RTH_END_S * a.tps)
        c = int(np.count_nonzero(out))
        if c and first < 0:
            first = s + int(np.argmax(out))
        count += c
    return count, first


def _check_rth(func, a: _Arrays, begin: int, end: int, opts: _Options, row_offset: int,
               warn: bool = True):
    """Returns the count outside RTH (None when off); raises or warns as configured."""
    if opts.rth == "ignore" or end <= begin:
        return None if opts.rth == "ignore" else 0
    count, first = _rth_outside(a, begin, end)
    if count:
        where = f"first at row {row_offset + first} ({_ts_of(a.ts[first], a.unit)} UTC)"
        text = (f"{func}: {count} of {end - begin} bars fall outside regular trading hours "
                f"07:30-15:00 US/Central (naive timestamps taken as UTC); {where}")
        if opts.rth == "raise":
            raise BlockopsDomainError(text, row=row_offset + first, index=row_offset + first,
                                      column="timestamp", count=count)
        if warn:
            warnings.warn(text, OutsideRTHWarning, stacklevel=3)
    return count


def _frame(opts: _Options, outs: dict, index, n: int):
    """DataFrame of the outputs on index without copying them (each output is one block)."""
    import pandas as pd

    names = [m.name for m in opts.modes]
    parts = [("label_", outs["label"]), ("weight_", outs["weight"])]
    if opts.details:
        parts += [("mae_ticks_", outs["mae"]), ("seconds_to_target_", outs["secs"])]
    if index is None:
        index = pd.RangeIndex(n)
    frames = [pd.DataFrame(arr.T, index=index, columns=[p + nm for nm in names], copy=False)
              for p, arr in parts]
    return pd.concat(frames, axis=1)


def _winners(opts: _Options, outs: dict, k: int) -> dict:
    lab = outs["label"][:, :k]
    return {m.name: int(np.count_nonzero(lab[i])) for i, m in enumerate(opts.modes)}


# --------------------------------------------------------------------------- one pass


def barrier_labels(data, *, modes=MODES, tick_size: float = 0.25, horizon: int = 900,
                   decay_rate: float = 0.05, roll_threshold: float | None = 20.0,
                   reference_time=None, details: bool = False, rth: str = "ignore",
                   diagnostics: bool = False, n_threads: int | None = None):
    """Barrier labels and weights of every bar for every mode.

    Parameters
    ----------
    data : pandas.DataFrame or mapping of arrays
        ``timestamp`` (a column, or the DatetimeIndex), ``open``, ``high``, ``low``, ``close``
        and optionally ``volume``, one row per bar in time order. Timestamps may have any
        ``datetime64`` unit (read from the dtype) or be tz-aware (converted to UTC; naive
        timestamps are taken as UTC).
    modes : sequence of Mode
        Default :data:`MODES`. Tuples ``(name, direction, stop_ticks, target_ticks)`` work too.
    tick_size : float
        Price of one tick.
    horizon : int
        Bars scanned after the signal bar (the scan is clipped at the end of the data).
    decay_rate : float
        Per month, in ``exp(-decay_rate * months_ago)``.
    roll_threshold : float or None
        Absolute close-to-close change that marks a contract roll; None disables it.
    reference_time : datetime-like, optional
        The time ``months_ago`` is measured from; default the latest timestamp of ``data``.
    details : bool
        Also return ``mae_ticks_<mode>`` and ``seconds_to_target_<mode>`` (float32, NaN for
        non-winners).
    rth : {"ignore", "warn", "raise"}
        Check that bars lie in regular trading hours, 07:30-15:00 US/Central (inclusive).
        "warn" emits :class:`OutsideRTHWarning`; "raise" raises
        :class:`blockops.BlockopsDomainError` naming the first row.
    diagnostics : bool
        Return ``(frame, LabelDiagnostics)`` instead of the frame.
    n_threads : int, optional
        Threads (default :func:`blockops.get_num_threads`); results do not depend on it.

    Returns
    -------
    pandas.DataFrame
        Only the new columns (see :func:`output_columns`), on the input's index (a
        RangeIndex for a mapping). With ``diagnostics=True``, ``(frame, diagnostics)``.

    Raises
    ------
    blockops.BlockopsDomainError
        A row fails validation (NaN or infinite price, price <= 0, high < low, high below
        open/close, low above open/close, NaN or negative volume, NaT or decreasing timestamp);
        the message names the row (position and index label) and the exception has ``.row``,
        ``.column``, ``.value`` and ``.label``.
    ValueError, TypeError
        A bad argument, named in the message.
    """
    func = "barrier_labels"
    opts = _Options.make(func, modes=modes, tick_size=tick_size, horizon=horizon,
                         decay_rate=decay_rate, roll_threshold=roll_threshold, details=details,
                         rth=rth)
    nt = _config.resolve_threads(n_threads)
    a = _extract(func, data)
    n = a.n
    if reference_time is not None:
        ref = _to_timestamp(func, reference_time)
    elif n:
        if a.ts[-1] == np.iinfo(np.int64).min:
            ref = None  # the kernel reports the NaT row
        else:
            ref = _ts_of(a.ts[-1], a.unit)
    else:
        ref = None
    ref_month = _month_index(ref) if ref is not None else 0
    outs = _alloc(opts, n)
    stats = _run(func, a, 0, n, True, opts, ref_month, outs, nt, 0)
    outside = _check_rth(func, a, 0, n, opts, 0)
    frame = _frame(opts, outs, a.index, n)
    if not diagnostics:
        return frame
    diag = LabelDiagnostics(reference_time=ref)
    diag._merge_piece(n, _winners(opts, outs, n), stats, outside)
    return frame, diag


# --------------------------------------------------------------------------- streaming


def _block_max_time(func, block):
    ts, tps, unit = _timestamps(func, _timestamp_source(func, block))
    if ts.shape[0] == 0:
        return None
    valid = ts[ts != np.iinfo(np.int64).min]
    if valid.shape[0] == 0:
        return None
    return _ts_of(valid.max(), unit)


def _counted(bar):
    """Yield the blocks of a tqdm bar, showing the rows seen so far."""
    rows = 0
    try:
        for b in bar:
            rows += len(b)
            bar.set_postfix(rows=f"{rows:,}", refresh=False)
            yield b
    finally:
        bar.close()


def _reiterable(source) -> Callable[[], Iterator] | None:
    """A function returning a fresh iterator over the source, when it can be read twice."""
    if callable(source) and not isinstance(source, Iterable):
        return source
    if isinstance(source, Iterable) and not isinstance(source, _abc.Iterator):
        return lambda: iter(source)
    return None


class BarrierLabeler:
    """Streaming barrier labels over blocks of bars, in memory bounded by block + horizon.

    Parameters
    ----------
    reference_time : datetime-like, optional
        The time the decay is measured from. Without it the latest timestamp of the whole
        source is found by a pre-pass, which needs a source that can be read twice (see
        :meth:`label_blocks`).
    **options
        ``modes``, ``tick_size``, ``horizon``, ``decay_rate``, ``roll_threshold``,
        ``details``, ``rth``, ``n_threads``: as in :func:`barrier_labels`.

    Attributes
    ----------
    diagnostics : LabelDiagnostics or None
        Roll-over statistics, winners and the RTH count of the blocks labelled so far; final
        once the iterator of :meth:`label_blocks` is exhausted.

    Examples
    --------
    >>> lab = BarrierLabeler(reference_time="2024-06-28")           # doctest: +SKIP
    >>> for frame in lab.label_blocks(reader):                      # doctest: +SKIP
    ...     frame.to_parquet(...)
    >>> lab.diagnostics.roll                                         # doctest: +SKIP
    """

    def __init__(self, *, reference_time=None, modes=MODES, tick_size: float = 0.25,
                 horizon: int = 900, decay_rate: float = 0.05,
                 roll_threshold: float | None = 20.0, details: bool = False,
                 rth: str = "ignore", n_threads: int | None = None):
        self._func = "BarrierLabeler"
        self._opts = _Options.make(self._func, modes=modes, tick_size=tick_size,
                                   horizon=horizon, decay_rate=decay_rate,
                                   roll_threshold=roll_threshold, details=details, rth=rth)
        self.reference_time = (None if reference_time is None
                               else _to_timestamp(self._func, reference_time))
        self.n_threads = n_threads if n_threads is None else _config.resolve_threads(n_threads)
        self.diagnostics: LabelDiagnostics | None = None

    @property
    def modes(self) -> tuple:
        return self._opts.modes

    def label_blocks(self, blocks, *, progress: bool = False) -> Iterator:
        """Label a stream of DataFrame blocks; yield labelled frames in input order.

        Parameters
        ----------
        blocks : iterable of DataFrame, or a callable returning one
            Consecutive pieces of one time-ordered dataset (e.g. from
            ``blockops.io.CsvBlockReader`` or Parquet row groups). Without a
            ``reference_time``, the source is read twice (a pre-pass takes the latest
            timestamp): that works for a callable returning a fresh iterator (called twice)
            and for any iterable that is not itself an iterator (a list, a tuple, a reader
            object whose ``iter()`` starts over). A generator or other one-shot iterator is
            refused with a ValueError at once: pass ``reference_time`` or a callable.
        progress : bool, default False
            A ``tqdm.auto`` bar of the blocks labelled (a widget in a notebook), with the rows
            labelled so far.

        Yields
        ------
        pandas.DataFrame
            The input rows (all their columns, their index) with the label columns appended.
            Frame boundaries differ from the input blocks' (the last ``horizon + 1`` rows of
            a block wait for the next one); concatenated they equal the input with
            :func:`barrier_labels` joined on.
        """
        func = self._func
        if _is_frame(blocks):
            raise TypeError(f"{func}.label_blocks: expected an iterable of DataFrame blocks, got "
                            "one DataFrame (use barrier_labels(df), or pass [df])")
        ref = self.reference_time
        again = None
        if ref is None:
            again = _reiterable(blocks)
            if again is None:
                raise ValueError(
                    f"{func}.label_blocks: the time decay needs the dataset's latest timestamp, "
                    "and this source is a one-shot iterator that cannot be read twice for a "
                    "pre-pass: pass reference_time=..., or a callable returning a fresh "
                    "iterator, or a re-iterable such as a list"
                )
        elif callable(blocks) and not isinstance(blocks, Iterable):
            again = blocks
        return self._generate(blocks, again, ref, progress)

    def _generate(self, blocks, again, ref, progress=False):
        import pandas as pd

        func, opts = self._func, self._opts
        nt = _config.resolve_threads(self.n_threads)
        if ref is None:
            latest = None
            for b in again():
                t = _block_max_time(func, _check_block(func, b))
                if t is not None and (latest is None or t > latest):
                    latest = t
            ref = latest
        source = again() if again is not None else iter(blocks)
        if progress:
            from tqdm.auto import tqdm

            total = len(blocks) if hasattr(blocks, "__len__") else None
            source = _counted(tqdm(source, total=total, unit="block", desc="labels"))
        ref_month = _month_index(ref) if ref is not None else 0
        diag = LabelDiagnostics(reference_time=ref)
        self.diagnostics = diag
        H = opts.horizon
        buf = None      # pending rows plus up to CONTEXT_BEFORE context rows in front
        ctx = 0         # context rows at the start of buf
        offset = 0      # global row of buf's first row
        outside_total = 0 if opts.rth != "ignore" else None

        def emit(frame, begin, end, at_end):
            nonlocal outside_total
            a = _extract(func, frame)
            k = end - begin
            outs = _alloc(opts, k)
            stats = _run(func, a, begin, end, at_end, opts, ref_month, outs, nt, offset)
            out = _check_rth(func, a, begin, end, opts, offset, warn=False)
            if out is not None:
                outside_total += out
            diag._merge_piece(k, _winners(opts, outs, k), stats, out)
            piece = frame.iloc[begin:end].copy(deep=False)
            names = [m.name for m in opts.modes]
            groups = [("label_", outs["label"]), ("weight_", outs["weight"])]
            if opts.details:
                groups += [("mae_ticks_", outs["mae"]), ("seconds_to_target_", outs["secs"])]
            new = {}
            for p, arr in groups:
                for i, nm in enumerate(names):
                    new[p + nm] = arr[i]
            clash = [c for c in new if c in piece.columns]
            if clash:
                raise ValueError(f"{func}: the blocks already have columns {clash}")
            return pd.concat([piece, pd.DataFrame(new, index=piece.index, copy=False)], axis=1)

        for block in source:
            block = _check_block(func, block)
            if len(block) == 0:
                continue
            if buf is None:
                buf = block
            else:
                if list(block.columns) != list(buf.columns):
                    raise ValueError(f"{func}: block columns {list(block.columns)} differ from "
                                     f"the first block's {list(buf.columns)}")
                buf = pd.concat([buf, block])
            ready = len(buf) - (H + 1) - ctx
            if ready <= 0:
                continue
            yield emit(buf, ctx, ctx + ready, False)
            start = ctx + ready
            keep = max(0, start - CONTEXT_BEFORE)
            buf = buf.iloc[keep:]
            offset += keep
            ctx = start - keep
        if buf is not None and len(buf) > ctx:
            yield emit(buf, ctx, len(buf), True)
        if opts.rth == "warn" and outside_total:
            warnings.warn(
                f"{func}: {outside_total} of {diag.rows} bars fall outside regular trading "
                "hours 07:30-15:00 US/Central (naive timestamps taken as UTC)",
                OutsideRTHWarning, stacklevel=2)


def _check_block(func, block):
    if not _is_frame(block):
        raise TypeError(f"{func}: blocks must be pandas DataFrames, got {type(block).__name__}")
    return block
