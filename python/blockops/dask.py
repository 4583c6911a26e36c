"""Dask integration: :func:`barrier_labels` on a Dask DataFrame.

Dask is imported lazily, when a function here is called.
"""
from __future__ import annotations


from . import labels as _labels

__all__ = ["barrier_labels"]


def _needed(columns, ts_col) -> list:
    cols = [c for c in ("open", "high", "low", "close", "volume") if c in columns]
    return ([ts_col] if ts_col is not None else []) + cols


def _len_max(ts):
    """(rows, latest timestamp or None) of one partition's timestamp column or index."""
    t = _labels._block_max_time("blockops.dask.barrier_labels", _as_frame(ts))
    return len(ts), t


def _as_frame(ts):
    import pandas as pd

    if isinstance(ts, pd.Series):
        return ts.rename("timestamp").to_frame()
    return pd.DataFrame(index=ts)  # an Index: the frame's DatetimeIndex


def _head(part, k, cols):
    return part[cols].iloc[:k]


def _tail(part, k, cols):
    return part[cols].iloc[len(part) - k:]


def _label_piece(part, befores, afters, offset, at_end, opts, ref_month, n_threads, cols):
    import pandas as pd

    from . import _config

    func = "blockops.dask.barrier_labels"
    nt = _config.resolve_threads(n_threads)
    frames = [*befores, part[cols], *afters]
    whole = pd.concat(frames) if len(frames) > 1 else frames[0]
    nb = sum(len(b) for b in befores)
    k = len(part)
    a = _labels._extract(func, whole)
    outs = _labels._alloc(opts, k)
    stats = _labels._run(func, a, nb, nb + k, at_end, opts, ref_month, outs, nt, offset - nb)
    outside = _labels._check_rth(func, a, nb, nb + k, opts, offset - nb)
    frame = _labels._frame(opts, outs, part.index, k)
    return frame, (k, _labels._winners(opts, outs, k), stats, outside)


def _combine(pieces, ref):
    diag = _labels.LabelDiagnostics(reference_time=ref)
    for p in pieces:
        diag._merge_piece(*p)
    return diag


def barrier_labels(ddf, *, modes=_labels.MODES, tick_size: float = 0.25, horizon: int = 900,
                   decay_rate: float = 0.05, roll_threshold: float | None = 20.0,
                   reference_time=None, details: bool = False, rth: str = "ignore",
                   diagnostics: bool = False, n_threads: int | None = None):
    """:func:`blockops.labels.barrier_labels` on a Dask DataFrame, identical to the one pass.

    Each partition is labelled with the last 6 rows before it and the first ``horizon + 1``
    rows after it as context (taken from as many neighbouring partitions as needed, so
    partitions may be smaller than the horizon). Planning that needs each partition's length:
    one cheap pass over the timestamp column (``ddf["timestamp"]``, or the index) computes the
    lengths and, when ``reference_time`` is not given, the latest timestamp. Sources that
    project columns (Parquet, CSV with ``usecols``) read only that column in this pass.

    Parameters
    ----------
    ddf : dask.dataframe.DataFrame
        ``timestamp`` (column or index), ``open``, ``high``, ``low``, ``close`` (``volume``
        optional), in time order across partitions.
    diagnostics : bool
        Also return a ``dask.delayed`` :class:`blockops.labels.LabelDiagnostics` (compute it
        together with the frame, e.g. ``dask.compute(frame, diag)``, to read the data once).
    **options
        As in :func:`blockops.labels.barrier_labels`. ``n_threads=None`` is resolved in each
        worker at run time (Dask sets ``OMP_NUM_THREADS=1`` there).

    Returns
    -------
    dask.dataframe.DataFrame
        The label columns on the partitions' index and divisions (``meta`` from
        :func:`blockops.labels.output_columns`); with ``diagnostics=True``,
        ``(frame, delayed diagnostics)``.
    """
    import dask
    import dask.dataframe as dd
    import numpy as np
    import pandas as pd

    func = "blockops.dask.barrier_labels"
    opts = _labels._Options.make(func, modes=modes, tick_size=tick_size, horizon=horizon,
                                 decay_rate=decay_rate, roll_threshold=roll_threshold,
                                 details=details, rth=rth)
    if n_threads is not None:
        from . import _config

        _config.resolve_threads(n_threads)  # check it here, not in every task
    if not isinstance(ddf, dd.DataFrame):
        raise TypeError(f"{func}: expected a dask DataFrame, got {type(ddf).__name__}")
    ts_col = "timestamp" if "timestamp" in ddf.columns else None
    if ts_col is None:
        kind = getattr(ddf.index.dtype, "kind", "")
        if kind != "M" and getattr(ddf.index.dtype, "tz", None) is None:
            raise ValueError(f"{func}: no 'timestamp' column and the index is not datetime")
    for c in ("open", "high", "low", "close"):
        if c not in ddf.columns:
            raise ValueError(f"{func}: missing column {c!r}")
    cols = _needed(ddf.columns, ts_col)

    ts_parts = (ddf[ts_col] if ts_col is not None else ddf.index).to_delayed()
    info = dask.compute(*[dask.delayed(_len_max, pure=True)(p) for p in ts_parts])
    lens = [int(n) for n, _ in info]
    if reference_time is not None:
        ref = _labels._to_timestamp(func, reference_time)
    else:
        latest = [t for _, t in info if t is not None]
        ref = max(latest) if latest else None
    ref_month = _labels._month_index(ref) if ref is not None else 0

    parts = ddf.to_delayed()
    offsets = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
    P = len(parts)
    H = opts.horizon
    label_piece = dask.delayed(_label_piece, pure=True, nout=2)
    head = dask.delayed(_head, pure=True)
    tail = dask.delayed(_tail, pure=True)
    frames, stats = [], []
    for p in range(P):
        befores, need, q = [], _labels.CONTEXT_BEFORE, p - 1
        while need > 0 and q >= 0:
            k = min(need, lens[q])
            if k:
                befores.insert(0, tail(parts[q], k, cols))
            need -= k
            q -= 1
        afters, need, q = [], H + 1, p + 1
        while need > 0 and q < P:
            k = min(need, lens[q])
            if k:
                afters.append(head(parts[q], k, cols))
            need -= k
            q += 1
        fr, st = label_piece(parts[p], befores, afters, int(offsets[p]), need > 0, opts,
                             ref_month, n_threads, cols)
        frames.append(fr)
        stats.append(st)

    meta_index = ddf._meta.index[:0]
    meta = pd.DataFrame({name: np.empty(0, dt) for name, dt in opts.columns()},
                        index=meta_index)
    divisions = ddf.divisions if ddf.known_divisions else None
    out = dd.from_delayed(frames, meta=meta, divisions=divisions, verify_meta=False)
    if not diagnostics:
        return out
    return out, dask.delayed(_combine, pure=True)(stats, ref)
