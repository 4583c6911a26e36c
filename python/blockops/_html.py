"""Small HTML for notebook reprs (``_repr_html_``): a table, horizontal bars and an SVG line
of RSS over time. Plain strings, no dependencies; every text is escaped."""
from __future__ import annotations

import html
from typing import Iterable, Optional, Sequence, Tuple

_MB = float(1 << 20)
_CSS = ("font-family:var(--jp-ui-font-family,system-ui,sans-serif);font-size:12px;"
        "border-collapse:collapse")


def table(rows: Iterable[Tuple[str, object]], caption: Optional[str] = None,
          align: str = "right") -> str:
    """A two-column table of ``(label, value)`` rows. Labels never wrap (a long value, such as
    show_config's compiler flags, made them break into two lines in the rendered docs);
    ``align="left"`` for text values, right (the default) for numbers."""
    cap = f"<caption style='text-align:left;font-weight:bold'>{html.escape(caption)}</caption>" \
        if caption else ""
    body = "".join(
        f"<tr><th style='text-align:left;white-space:nowrap;padding:1px 12px 1px 0;"
        f"vertical-align:top'>{html.escape(str(k))}</th>"
        f"<td style='text-align:{align};padding:1px 0'>{html.escape(str(v))}</td></tr>"
        for k, v in rows)
    return f"<table style='{_CSS}'>{cap}{body}</table>"


def bars(items: Sequence[Tuple[str, float]], unit: str = "s", caption: Optional[str] = None,
         width: int = 240) -> str:
    """Horizontal bars, one per ``(label, value)``, scaled to the largest value."""
    top = max((v for _, v in items), default=0.0) or 1.0
    rows = "".join(
        f"<tr><th style='text-align:left;padding:1px 8px 1px 0'>{html.escape(str(k))}</th>"
        f"<td><div style='background:#4c78a8;height:10px;width:{max(1, int(width * v / top))}px'>"
        f"</div></td><td style='padding-left:6px;text-align:right'>{v:.3g} {html.escape(unit)}"
        "</td></tr>" for k, v in items)
    cap = f"<caption style='text-align:left;font-weight:bold'>{html.escape(caption)}</caption>" \
        if caption else ""
    return f"<table style='{_CSS}'>{cap}{rows}</table>"


def rss_svg(points: Sequence[Tuple[float, int]], peak: Optional[int],
            limit: Optional[int] = None, width: int = 480, height: int = 150) -> str:
    """An inline SVG of RSS (MiB) over time: the line, the peak as a dashed line with its
    value, the limit (when given and within 4x the peak) as a red line."""
    if not points:
        return "<p><i>no samples</i></p>"
    pad_l, pad_b, pad_t, pad_r = 52, 18, 10, 8
    t1 = max(points[-1][0], 1e-9)
    ymax = max(max(r for _, r in points), peak or 0)
    if limit and limit <= 4 * ymax:
        ymax = max(ymax, limit)
    ymax = ymax * 1.05 or 1.0
    w, h = width - pad_l - pad_r, height - pad_t - pad_b

    def xy(t, r):
        return pad_l + w * t / t1, pad_t + h * (1 - r / ymax)

    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(t, r) for t, r in points))
    parts = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
             f"style='font:10px sans-serif'>",
             f"<rect x='{pad_l}' y='{pad_t}' width='{w}' height='{h}' fill='none' stroke='#ccc'/>",
             f"<polyline fill='none' stroke='#4c78a8' stroke-width='1.5' points='{path}'/>"]
    for value, colour, label in ((peak, "#e45756", "peak"), (limit, "#b00", "limit")):
        if value and value <= ymax:
            y = xy(0, value)[1]
            parts.append(f"<line x1='{pad_l}' x2='{pad_l + w}' y1='{y:.1f}' y2='{y:.1f}' "
                         f"stroke='{colour}' stroke-dasharray='4 3'/>")
            parts.append(f"<text x='{pad_l + w - 2}' y='{y - 3:.1f}' text-anchor='end' "
                         f"fill='{colour}'>{label} {value / _MB:.1f} MiB</text>")
    parts.append(f"<text x='{pad_l - 4}' y='{pad_t + 8}' text-anchor='end'>"
                 f"{ymax / _MB:.0f} MiB</text>")
    parts.append(f"<text x='{pad_l - 4}' y='{pad_t + h}' text-anchor='end'>0</text>")
    parts.append(f"<text x='{pad_l + w}' y='{height - 4}' text-anchor='end'>{t1:.2f} s</text>")
    parts.append("</svg>")
    return "".join(parts)
