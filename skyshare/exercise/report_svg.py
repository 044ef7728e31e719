"""Text and SVG primitives of the exercise report: formats, palette, marker shapes,
fill patterns, a time axis and path simplification.

Every chart draws with these, so a marker means the same thing everywhere and every
user-supplied string goes through :func:`esc` on its way into the document.  Colours
are the Okabe-Ito palette (distinguishable with the common colour-vision deficiencies)
and every colour-coded thing also differs in shape, pattern or text.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

import numpy as np

DASH: Final = "\u2014"  # what every missing value shows

PALETTE: Final = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00",
                  "#8C6D00", "#000000")
"""Okabe-Ito (yellow darkened to stay readable on white); partners take them in turn."""

OUTCOME_STYLE: Final = {  # outcome: (colour, symbol, marker shape)
    "detected": ("#009E73", "\u2713", "circle"),
    "late": ("#8C6D00", "\u25f7", "triangle"),
    "missed": ("#D55E00", "\u2717", "cross"),
}

MARKERS: Final = {  # timeline marker kind: (shape, fill, label in the legend)
    "scripted": ("diamond", "#000000", "scripted moment"),
    "detected": ("circle", "#0072B2", "detected (first alert)"),
    "reached": ("triangle", "partner", "case on a partner's node"),
    "acknowledged": ("square", "#009E73", "acknowledged"),
    "offered": ("chevron", "#CC79A7", "hand-over offered"),
    "accepted": ("star", "#CC79A7", "hand-over accepted"),
}
"""Marker shapes as data: one shape per kind, so the legend and charts agree."""

KIND_LABELS: Final = {
    "transponder_off": "Transponder off", "squawk": "Squawk", "deviation": "Deviation",
    "descent": "Descent", "restricted_entry": "Restricted entry",
    "border_crossing": "Border crossing", "sensor_failure": "Sensor failure",
    "sensor_degraded": "Sensor degraded",
}


def esc(text: object) -> str:
    """``text`` safe as HTML/SVG text or attribute value; None is the dash."""
    return DASH if text is None else html.escape(str(text), quote=True)


def num(x: float) -> str:
    """A coordinate with at most one decimal (keeps the file small)."""
    text = f"{x:.1f}"
    text = text[:-2] if text.endswith(".0") else text
    return "0" if text == "-0" else text


def clock(seconds: float | None) -> str:
    """Seconds from the start as m:ss (h:mm:ss past an hour); the dash for None."""
    if seconds is None:
        return DASH
    sign, s = ("-" if seconds < 0 else ""), round(abs(seconds))
    h, rest = divmod(s, 3600)
    return f"{sign}{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{sign}{s // 60}:{s % 60:02d}"


def secs(seconds: float | None) -> str:
    return DASH if seconds is None else f"{seconds:.1f}\u00a0s"


def utc(at: float | None) -> str:
    if at is None:
        return DASH
    try:
        return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, OSError, ValueError):
        return DASH


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, kind.replace("_", " ").capitalize() or DASH)


def shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "\u2026"


def partner_colours(names: Iterable[str]) -> dict[str, str]:
    """One palette colour per partner, in sorted order so every chart agrees."""
    return {n: PALETTE[i % len(PALETTE)] for i, n in enumerate(sorted(set(names)))}


def _x_shape(k: float = 0.32, reach: float = 1.25) -> list[tuple[float, float]]:
    """A plus of arm half-width ``k`` turned 45 degrees: the "missed" cross."""
    plus = [(-k, -reach), (k, -reach), (k, -k), (reach, -k), (reach, k), (k, k), (k, reach),
            (-k, reach), (-k, k), (-reach, k), (-reach, -k), (-k, -k)]
    return [((a - b) / math.sqrt(2), (a + b) / math.sqrt(2)) for a, b in plus]


_SHAPES: Final[dict[str, list[tuple[float, float]]]] = {
    "square": [(-1, -1), (1, -1), (1, 1), (-1, 1)],
    "diamond": [(0, -1.25), (1.25, 0), (0, 1.25), (-1.25, 0)],
    "triangle": [(0, -1.2), (1.1, 0.9), (-1.1, 0.9)],
    "chevron": [(-1, -1.1), (1.2, 0), (-1, 1.1), (-0.3, 0)],
    "cross": _x_shape(),
}
"""Polygon shapes in units of the marker radius (circle and star are drawn apart)."""


def shape_path(shape: str, x: float, y: float, r: float) -> str:
    """The SVG path ``d`` of a marker ``shape`` of radius ``r`` centred on (x, y)."""
    if shape == "circle":
        return (f"M{num(x - r)} {num(y)}a{num(r)} {num(r)} 0 1 0 {num(2 * r)} 0"
                f"a{num(r)} {num(r)} 0 1 0 {num(-2 * r)} 0Z")
    if shape == "star":
        pts = [(x + (r if i % 2 == 0 else r * 0.45) * math.sin(i * math.pi / 5),
                y - (r if i % 2 == 0 else r * 0.45) * math.cos(i * math.pi / 5))
               for i in range(10)]
        return "M" + "L".join(f"{num(a)} {num(b)}" for a, b in pts) + "Z"
    offsets = _SHAPES[shape]
    return "M" + "L".join(f"{num(x + a * r)} {num(y + b * r)}" for a, b in offsets) + "Z"


def marker(shape: str, x: float, y: float, fill: str, title: str, cls: str,
           r: float = 5.0) -> str:
    """A marker with its hover text (an SVG ``<title>``)."""
    return (f'<path class="{cls}" d="{shape_path(shape, x, y, r)}" fill="{fill}" '
            f'stroke="#222" stroke-width="0.8"><title>{esc(title)}</title></path>')


def defs(partners: dict[str, str]) -> str:
    """Shared patterns (one hidden SVG, referenced by every chart): hatches for a
    missed band, a failed or degraded sensor and a restricted volume, and one stripe
    pattern per partner for the latency bars."""
    def hatch(pid: str, colour: str, angle: int, gap: int, width: float, bg: str = "none",
              cross: bool = False) -> str:
        second = (f'<path d="M0 0H{gap}" stroke="{colour}" stroke-width="{width}"/>'
                  if cross else "")
        return (f'<pattern id="{pid}" width="{gap}" height="{gap}" '
                f'patternUnits="userSpaceOnUse" patternTransform="rotate({angle})">'
                f'<rect width="{gap}" height="{gap}" fill="{bg}"/>'
                f'<path d="M0 0V{gap}" stroke="{colour}" stroke-width="{width}"/>{second}'
                "</pattern>")
    stripes = "".join(hatch(f"pat-p{i}", colour, 45 + 45 * (i % 3), 5, 2.2, "#fff")
                      for i, colour in enumerate(partners.values()))
    return ('<svg class="defs" width="0" height="0" aria-hidden="true" focusable="false">'
            "<defs>"
            + hatch("hatch-missed", "#D55E00", 45, 7, 2.5, "rgba(213,94,0,0.08)")
            + hatch("hatch-failure", "#555", 45, 6, 1.2, "rgba(0,0,0,0.10)", cross=True)
            + hatch("hatch-degraded", "#777", -45, 9, 1, "rgba(0,0,0,0.05)")
            + hatch("hatch-volume", "#C0392B", 45, 8, 1.4, "rgba(192,57,43,0.08)")
            + stripes + "</defs></svg>")


def outage_fill(kind: str | None) -> str:
    return "url(#hatch-failure)" if kind == "failure" else "url(#hatch-degraded)"


@dataclass(frozen=True)
class Axis:
    """A linear scale from ``lo..hi`` (data) onto ``x0..x1`` (SVG units)."""

    lo: float
    hi: float
    x0: float
    x1: float

    def at(self, v: float) -> float:
        span = self.hi - self.lo or 1.0
        return self.x0 + (min(max(v, self.lo), self.hi) - self.lo) / span * (self.x1 - self.x0)

    def ticks(self, target: int = 8) -> list[float]:
        step = nice_step((self.hi - self.lo) / max(1, target))
        first = math.ceil(self.lo / step) * step
        return [first + i * step for i in range(int((self.hi - first) / step + 1e-9) + 1)]


def nice_step(raw: float) -> float:
    """The smallest 1/2/5/10/15/30 x 10^k step (mm:ss-friendly above 10 s) >= raw."""
    if raw <= 0 or not math.isfinite(raw):
        return 1.0
    steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600]
    for s in steps:
        if s >= raw:
            return float(s)
    return 3600.0 * math.ceil(raw / 3600.0)


def time_axis(axis: Axis, y: float, y_grid_top: float, label: str = "time from start (m:ss)"
              ) -> str:
    """Ticks with m:ss labels at ``y``, faint grid lines up to ``y_grid_top``."""
    parts = [f'<line x1="{num(axis.x0)}" y1="{num(y)}" x2="{num(axis.x1)}" y2="{num(y)}" '
             'stroke="#444"/>']
    for t in axis.ticks():
        x = num(axis.at(t))
        parts.append(f'<line x1="{x}" y1="{num(y_grid_top)}" x2="{x}" y2="{num(y)}" '
                     'stroke="#ddd"/>'
                     f'<line x1="{x}" y1="{num(y)}" x2="{x}" y2="{num(y + 4)}" stroke="#444"/>'
                     f'<text x="{x}" y="{num(y + 15)}" text-anchor="middle">{clock(t)}</text>')
    parts.append(f'<text x="{num((axis.x0 + axis.x1) / 2)}" y="{num(y + 30)}" '
                 f'text-anchor="middle" class="axis-label">{esc(label)}</text>')
    return "".join(parts)


def polyline_points(points: Sequence[tuple[float, float]], tolerance: float = 0.5) -> str:
    """``points`` (SVG units) simplified to within ``tolerance`` units, as the
    ``points`` attribute: a 1,000-point path draws the same in a few dozen."""
    return " ".join(f"{num(x)},{num(y)}" for x, y in simplify(points, tolerance))


def simplify(points: Sequence[tuple[float, float]], tolerance: float
             ) -> list[tuple[float, float]]:
    """Douglas-Peucker with numpy (an explicit stack: no recursion limit)."""
    if len(points) < 3:
        return list(points)
    xy = np.asarray(points, dtype=float)
    keep = np.zeros(len(xy), dtype=bool)
    keep[0] = keep[-1] = True
    stack = [(0, len(xy) - 1)]
    while stack:
        a, b = stack.pop()
        if b - a < 2:
            continue
        seg = xy[b] - xy[a]
        rel = xy[a + 1:b] - xy[a]
        length = float(np.hypot(*seg))
        dist = (np.abs(seg[0] * rel[:, 1] - seg[1] * rel[:, 0]) / length if length > 0
                else np.hypot(rel[:, 0], rel[:, 1]))
        i = int(np.argmax(dist))
        if dist[i] > tolerance:
            keep[a + 1 + i] = True
            stack += [(a, a + 1 + i), (a + 1 + i, b)]
    return [(float(x), float(y)) for x, y in xy[keep]]


def svg_open(width: float, height: float, label: str, cls: str) -> str:
    """An ``<svg>`` that scales to its container, named for screen readers."""
    return (f'<svg class="chart {cls}" viewBox="0 0 {num(width)} {num(height)}" '
            f'role="img" aria-label="{esc(label)}" xmlns="http://www.w3.org/2000/svg">'
            f"<title>{esc(label)}</title>")


def legend(items: Sequence[tuple[str, str, str]], x: float, y: float, width: float) -> str:
    """A row-wrapped legend of (shape, fill, label); fill may be a ``url(#...)``."""
    parts, cx, cy = [], x, y
    for shape, fill, label in items:
        w = 24 + 6.5 * len(label)
        if cx + w > x + width:
            cx, cy = x, cy + 18
        if shape == "band":
            parts.append(f'<rect x="{num(cx)}" y="{num(cy - 6)}" width="14" height="12" '
                         f'fill="{fill}" stroke="#555"/>')
        else:
            parts.append(f'<path class="legend-marker" d="{shape_path(shape, cx + 7, cy, 5)}" '
                         f'fill="{fill}" stroke="#222" stroke-width="0.8"/>')
        parts.append(f'<text x="{num(cx + 18)}" y="{num(cy + 4)}">{esc(label)}</text>')
        cx += w
    return "".join(parts)
