"""blockops' CSV reader taken apart, one thread: the tokenizer alone and the converters alone
(issue 14's targets: tokenizer >= 2 GB/s per core, int64 <= 3 ns and float64 <= 8 ns per value).

Run by ``python -m blockops bench csv-suite`` (``--kernels``) in its own process, on a shape's
file, with the calls :class:`blockops.io.CsvBlockReader` makes, in the order and the pieces it
makes them:

* **tokenize**: ``_core.csv_tokenize`` over the memory-mapped file in ``SLICE_BYTES`` slices
  (the reader's slices), ``n_threads=1``: the structural scan that indexes rows and fields.
  GB/s = file bytes / the summed time of those calls.
* **convert**: ``_core.csv_convert`` of the same slices' indexes (tokenized again, untimed) into
  preallocated, already written arrays (``dest=``, as the reader converts into a block's
  arrays), for one group of columns at a time: each column kind, all columns, and each column
  alone when the shape has 20 columns or fewer. ns/value = summed call time / (rows x columns
  of the group). The conversion specs are the reader's own (taken from a reader opened with the
  shape's explicit dtypes), so exactly what ``read_csv(dtypes=...)`` converts is timed.
* **read_csv**: ``blockops.io.read_csv(path, dtypes=..., n_threads=1)``, the whole read, for
  scale: what is neither tokenizing nor converting (frame assembly, Python) is the difference.

Each number is the best of ``repeat`` passes over the whole file after one untimed pass.
"""
from __future__ import annotations

import mmap
import time
from typing import Any

from . import csv_shapes as _sh
from . import timing as _t

_PER_COLUMN_MAX = 20


def _reader_setup(path: str, dtypes: dict):
    """The reader's conversion specs, delimiter, quote, row limit and the extra arguments of
    its csv_convert calls (the SIMD level of the UTF-8 check, where the binding takes one)."""
    import blockops.io as bio

    r = bio.CsvBlockReader(path, dtypes=dtypes, n_threads=1, blocksize=1 << 20)
    try:
        next(iter(r))
        specs, cspecs = r._cspecs  # (the _Spec list, csv_convert's tuples), built once per reader
        # csv_convert's simd argument defaults to scalar: pass what the reader passes, or the
        # converters would be timed on another code path than read_csv's
        extra = (r._simd,) if hasattr(r, "_simd") else ()
        return specs, cspecs, r.delimiter, r.quotechar, r.max_row_bytes, extra
    finally:
        r.close()


def _slices(core, buf, start: int, delim, quote, nf: int, max_row: int, slice_bytes: int, tok,
            simd: int = -1):
    """Yield (piece, index, rows) slice by slice as the reader cuts them; ``tok`` collects the
    seconds spent in csv_tokenize; ``simd``: the structural scan's level (-1: the best, as
    the reader)."""
    n = len(buf)
    at = start
    want = slice_bytes
    while at < n:
        hi = min(n, at + want)
        last = hi == n
        piece = buf[at:hi]
        t0 = time.perf_counter()
        ix, rows, _nf, consumed, n_bad, err = core.csv_tokenize(
            piece, hi - at, delim, quote, nf, last, 0, max_row, 1, simd)
        tok[0] += time.perf_counter() - t0
        if err is not None:
            raise RuntimeError(f"csv_tokenize failed at byte {at + (err.byte_offset or 0)}: "
                               f"{err.reason}")
        if n_bad:
            raise RuntimeError(f"{n_bad} bad rows in the slice at byte {at}")
        if rows == 0 and not last:
            want *= 2  # a row longer than the slice (the reader does the same)
            continue
        yield piece, ix, rows
        at += consumed
        want = slice_bytes
        if last:
            break


def run(spec: dict) -> dict:
    import blockops.io as bio
    from blockops import _core
    from blockops.io._csv_assemble import _BlockColumns
    from blockops.io.csv import SLICE_BYTES

    from .csv_suite import _spell

    shape = _sh.SHAPES[spec["shape"]]
    path, repeat = spec["path"], spec["repeat"]
    schema = _sh.columns_of(shape)
    dtypes = {c: _spell(k, "blockops") for c, k in schema}
    specs, cspecs, delim, quote, max_row, extra = _reader_setup(path, dtypes)
    if len(specs) != len(schema):
        raise RuntimeError(f"the reader converts {len(specs)} columns, the schema has "
                           f"{len(schema)}")
    out: dict[str, Any] = {"slice_bytes": SLICE_BYTES, "rows_ns": [],
                           "convert_simd": extra[0] if extra else None}
    with open(path, "rb") as f:
        mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    buf = memoryview(mm)
    try:
        _, _, nf, hdr, _, err = _core.csv_tokenize(buf, len(buf), delim, quote, 0, False, 1,
                                                   max_row, 1)
        if err is not None:
            raise RuntimeError(f"header: {err.reason}")
        body = len(buf) - hdr
        out["bytes"] = body

        # tokenize alone, at the reader's SIMD level (the best) and at each other level this
        # CPU has (the structural scan's builds): best of repeat passes after one untimed
        # pass, the levels interleaved pass by pass so that a drift of the machine's speed
        # does not favour one
        from blockops._config import LEVELS, simd as reader_simd, supported_simd_levels

        levels = [LEVELS.index(lv) for lv in supported_simd_levels()]
        tok_times: dict = {lv: [] for lv in levels}
        tok_cpu: dict = {lv: [] for lv in levels}
        total_rows = 0
        for i in range(repeat + 1):
            for lv in levels:
                tok = [0.0]
                c0 = time.process_time()
                rows = 0
                for piece, ix, r in _slices(_core, buf, hdr, delim, quote, nf, max_row,
                                            SLICE_BYTES, tok, lv):
                    rows += r
                    del piece, ix
                c1 = time.process_time()
                total_rows = rows
                if i:
                    tok_times[lv].append(tok[0])
                    tok_cpu[lv].append(c1 - c0)
        out["rows"] = total_rows
        own = reader_simd()
        best = min(tok_times[own])
        out["tokenize_s"] = best
        out["tokenize_cpu_s"] = tok_cpu[own][tok_times[own].index(best)]
        out["tokenize_simd"] = own
        out["tokenize_levels"] = {LEVELS[lv]: min(tok_times[lv]) for lv in levels}

        kinds = dict(schema)
        names = [c for c, _ in schema]
        groups: list[tuple[str, list[int]]] = []
        for kind in _sh.KINDS:
            idx = [i for i, c in enumerate(names) if kinds[c] == kind]
            if idx:
                groups.append((f"{kind} columns ({len(idx)})", idx))
        groups.append((f"all columns ({len(names)})", list(range(len(names)))))
        if len(names) <= _PER_COLUMN_MAX:
            groups += [(f"{c} ({kinds[c]})", [i]) for i, c in enumerate(names)]

        for label, idx in groups:
            sub_specs = [specs[i] for i in idx]
            sub_c = [cspecs[i] for i in idx]
            acc = _BlockColumns(sub_specs, total_rows, 1, 1)  # room for every row of the file
            dest = acc.dest()
            times = []
            for i in range(repeat + 1):  # the first pass writes every page of dest (untimed)
                conv = 0.0
                r0 = 0
                for piece, ix, r in _slices(_core, buf, hdr, delim, quote, nf, max_row,
                                            SLICE_BYTES, [0.0]):
                    t0 = time.perf_counter()
                    outs, _bad, err = _core.csv_convert(piece, ix, sub_c, quote, 1, True, dest,
                                                        r0, False, *extra)
                    conv += time.perf_counter() - t0
                    if err is not None:
                        raise RuntimeError(f"csv_convert ({label}): {err}")
                    r0 += r
                    del outs, piece, ix
                if i:
                    times.append(conv)
            del acc, dest
            t = min(times)
            out["rows_ns"].append({"what": label, "columns": len(idx), "s": t,
                                   "ns_per_value": t * 1e9 / max(1, total_rows * len(idx))})
    finally:
        buf.release()
        mm.close()

    # the whole read, one thread, the same dtypes
    times = []
    for i in range(repeat + 1):
        t0 = time.perf_counter()
        df = bio.read_csv(path, dtypes=dtypes, n_threads=1)
        t = time.perf_counter() - t0
        if len(df) != total_rows:
            raise RuntimeError(f"read_csv returned {len(df)} rows, the tokenizer {total_rows}")
        del df
        if i:
            times.append(t)
    out["read_csv_s"] = min(times)
    return out


def render(kernels: list[dict]) -> list[str]:
    from blockops._config import LEVELS

    out = ["#### blockops alone, one thread: tokenizer and converters (the calls read_csv makes)",
           ""]
    rows = []
    for k in kernels:
        shape = _sh.SHAPES[k["shape"]].title
        size = f"{k['nbytes'] / 1e6:,.0f} MB"
        if not k["ok"]:
            rows.append([shape, size, "FAILED", "", "", "", k["error"][:200]])
            continue
        d = k["data"]
        mb = d["bytes"] / 1e6
        simd = d.get("convert_simd")
        if simd is not None:
            simd = LEVELS[simd] if 0 <= simd < len(LEVELS) else str(simd)
        own = LEVELS[d["tokenize_simd"]] if "tokenize_simd" in d else None
        rows.append([shape, size, "csv_tokenize (whole file, reader's slices"
                     + (f", simd={own})" if own else ")"),
                     _fmt(d["tokenize_s"]), f"{mb / d['tokenize_s'] / 1e3:,.2f} GB/s",
                     f"{d['bytes']:,} bytes, {d['rows']:,} rows",
                     f"{mb / d['tokenize_cpu_s'] / 1e3:,.2f} GB/s per CPU (process time)"
                     if d["tokenize_cpu_s"] else ""])
        for lv, t in (d.get("tokenize_levels") or {}).items():
            if lv != own:
                rows.append([shape, size, f"csv_tokenize, structural scan at simd={lv}",
                             _fmt(t), f"{mb / t / 1e3:,.2f} GB/s", f"{d['bytes']:,} bytes",
                             f"{t / d['tokenize_s']:.2f}x the time at simd={own} (the "
                             "reader's level)"])
        for g in d["rows_ns"]:
            rows.append([shape, size, "csv_convert " + g["what"], _fmt(g["s"]),
                         f"{g['ns_per_value']:.2f} ns/value",
                         f"{d['rows'] * g['columns']:,} values",
                         "" if simd is None else f"simd={simd} (as read_csv)"])
        conv_all = next((g["s"] for g in d["rows_ns"] if g["what"].startswith("all columns")),
                        None)
        rest = (d["read_csv_s"] - d["tokenize_s"] - conv_all) if conv_all else None
        rows.append([shape, size, "read_csv(dtypes=..., n_threads=1)", _fmt(d["read_csv_s"]),
                     f"{mb / d['read_csv_s']:,.0f} MB/s", "the whole file",
                     "" if rest is None else
                     f"tokenize {d['tokenize_s'] / d['read_csv_s']:.0%} + convert "
                     f"{conv_all / d['read_csv_s']:.0%} + rest {rest / d['read_csv_s']:.0%}"])
    out.append(_t.markdown_table(["shape", "file", "what", "best s", "speed", "of", "notes"], rows,
                                 ["<", ">", "<", ">", ">", ">", "<"]))
    out += ["", "The tokenizer and converter rows time `blockops._core.csv_tokenize` / "
            "`csv_convert` calls only (perf_counter around each call, summed over the file's "
            "slices); converters write into preallocated arrays already written once, with the "
            "reader's own specs for the shape's explicit dtypes; best of the passes after one "
            "untimed pass. 'rest' is what read_csv spends outside those calls (opening, "
            "mapping, inference is off with dtypes, frame assembly). GB/s uses the file's "
            "bytes after the header.", ""]
    return out


def _fmt(x: float) -> str:
    return f"{x:.2g}" if x < 0.01 else f"{x:.3f}" if x < 10 else f"{x:.2f}"
