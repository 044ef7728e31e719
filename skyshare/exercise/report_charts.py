"""The report's time charts as inline SVG: the event timeline, detection latency and
sensor traffic.

Each function takes the typed :class:`~.report_check.Summary` and returns one
``<svg>`` string; sizes are in SVG units on a 960-wide canvas that the page scales.
"""

from __future__ import annotations

from collections.abc import Iterator

from skyshare.exercise.report_check import Event, Outage, Summary
from skyshare.exercise.report_svg import (
    DASH,
    MARKERS,
    OUTCOME_STYLE,
    Axis,
    clock,
    esc,
    kind_label,
    legend,
    marker,
    nice_step,
    num,
    outage_fill,
    polyline_points,
    secs,
    shorten,
    svg_open,
    time_axis,
)

WIDTH = 960.0
LEFT = 240.0  # the label column
RIGHT = WIDTH - 20.0
ROW = 28.0


def event_label(i: int, e: Event) -> str:
    return f"#{i + 1} {kind_label(e.kind)}: {e.subject}"


def time_span(s: Summary) -> float:
    """The end of the time axis: the exercise, or the last thing it shows if later
    (alerts may arrive while the network settles after the scripted traffic)."""
    ends = [s.duration_s, *(o.to_s for x in s.sensors for o in x.outages)]
    for e in s.events:
        ends += [e.at_s + t for _, t, _ in event_marks(e)]
    return max([1.0, *ends])


def event_marks(e: Event) -> Iterator[tuple[str, float, str]]:
    """(marker kind, seconds after the event, hover text) of everything that happened."""
    yield "scripted", 0.0, f"{kind_label(e.kind)} scripted at {clock(e.at_s)}"
    if e.detection_s is not None:
        yield "detected", e.detection_s, (f"detected after {secs(e.detection_s)} by "
                                          f"{e.detected_by or DASH} (alert {e.alert_id or DASH})")
    for partner, t in e.reached:
        if t is not None:
            yield f"reached:{partner}", t, f"on {partner}'s node after {secs(t)}"
    if e.acknowledged_s is not None:
        yield "acknowledged", e.acknowledged_s, (f"acknowledged after {secs(e.acknowledged_s)}"
                                                 f" by {e.acknowledged_by or DASH}")
    h = e.handover
    if h is not None and h.offered_s is not None:
        yield "offered", h.offered_s, (f"hand-over {h.source or DASH} \u2192 {h.target or DASH}"
                                       f" offered after {secs(h.offered_s)}")
    if h is not None and h.accepted_s is not None:
        yield "accepted", h.accepted_s, (f"hand-over accepted by {h.target or DASH} after "
                                         f"{secs(h.accepted_s)}")


def _outage_bands(s: Summary, axis: Axis, top: float, bottom: float, label: bool) -> str:
    bands = [(sensor.name, o) for sensor in s.sensors for o in sensor.outages]
    return "".join(_band(axis, o, top, bottom, name, label, level=n % 3)
                   for n, (name, o) in enumerate(bands))


def _band(axis: Axis, o: Outage, top: float, bottom: float, name: str, label: bool,
          level: int = 0) -> str:
    """An outage band; its label on one of three levels above, so neighbours' labels
    do not print over each other."""
    x0, x1 = axis.at(min(o.from_s, o.to_s)), axis.at(max(o.from_s, o.to_s))
    title = f"{name}: {o.kind or 'outage'} {clock(o.from_s)}\u2013{clock(o.to_s)}"
    text = (f'<text x="{num(x0 + 2)}" y="{num(top - 3 - 10 * level)}" class="band-label">'
            f"{esc(shorten(name, 18))}</text>") if label else ""
    return (f'<g class="outage"><rect x="{num(x0)}" y="{num(top)}" '
            f'width="{num(max(1.5, x1 - x0))}" height="{num(bottom - top)}" '
            f'fill="{outage_fill(o.kind)}" stroke="#888" stroke-dasharray="3 2">'
            f"<title>{esc(title)}</title></rect>{text}</g>")


def timeline(s: Summary, colours: dict[str, str]) -> str:
    """One row per event with its markers; missed events get a hatched band to the end;
    sensor outages are bands across every row."""
    top = 50.0
    bottom = top + ROW * max(1, len(s.events))
    axis = Axis(0.0, time_span(s), LEFT, RIGHT)
    height = bottom + 100
    parts = [svg_open(WIDTH, height, "Timeline of the scripted events and the network's "
                      "response", "timeline"), time_axis(axis, bottom + 6, top),
             _outage_bands(s, axis, top, bottom, label=True)]
    for i, e in enumerate(s.events):
        parts.append(_timeline_row(i, e, axis, top + ROW * i + ROW / 2, colours))
    if not s.events:
        parts.append(f'<text x="{num(LEFT)}" y="{num(top + 16)}">no scripted events</text>')
    items = [(shape, "#888" if fill == "partner" else fill, label)
             for shape, fill, label in MARKERS.values()]
    items += [("band", "url(#hatch-missed)", "missed (no alert)"),
              ("band", "url(#hatch-failure)", "sensor failure"),
              ("band", "url(#hatch-degraded)", "sensor degraded")]
    parts.append(legend(items, 20, bottom + 56, WIDTH - 40))
    parts.append("</svg>")
    return "".join(parts)


def _timeline_row(i: int, e: Event, axis: Axis, y: float, colours: dict[str, str]) -> str:
    colour, symbol, _ = OUTCOME_STYLE[e.outcome]
    parts = [f'<g class="tl-row" data-event="{esc(e.id)}" data-outcome="{esc(e.outcome)}">'
             f'<line x1="{num(LEFT)}" y1="{num(y)}" x2="{num(RIGHT)}" y2="{num(y)}" '
             'stroke="#eee"/>'
             f'<text x="{num(LEFT - 8)}" y="{num(y + 4)}" text-anchor="end">'
             f"<title>{esc(event_label(i, e))}</title>{esc(shorten(event_label(i, e), 34))} "
             f'<tspan fill="{colour}" font-weight="bold">{symbol}</tspan></text>']
    if e.outcome == "missed":
        x0 = axis.at(e.at_s)
        parts.append(f'<rect class="missed-band" x="{num(x0)}" y="{num(y - 8)}" '
                     f'width="{num(max(2.0, axis.x1 - x0))}" height="16" '
                     'fill="url(#hatch-missed)" stroke="#D55E00">'
                     f"<title>missed: no alert about {esc(e.subject)}</title></rect>"
                     f'<text x="{num(min(x0 + 14, axis.x1 - 40))}" y="{num(y + 4)}" '
                     'class="missed-label">missed</text>')
    for kind, dt, title in event_marks(e):
        key = kind.split(":", 1)[0]
        shape, fill, _ = MARKERS[key]
        y_mark = y
        if key == "reached":  # just under the line: a partner reached at once does not
            fill = colours.get(kind.split(":", 1)[1], "#888")  # hide the detection
            y_mark = y + 6
        parts.append(marker(shape, axis.at(e.at_s + dt), y_mark, fill, title,
                            f"marker marker-{key}", 4.0 if key == "reached" else 5.0))
    parts.append("</g>")
    return "".join(parts)


def latency(s: Summary, colours: dict[str, str]) -> str:
    """Per event, horizontal bars: time to detection and to each responsible partner
    (striped in the partner's pattern and labelled, so colour is never the only cue)."""
    rows = [(i, e, name) for i, e in enumerate(s.events) for name in
            ("detection", *(p for p, _ in e.reached))]
    values = [v for _, e, name in rows if (v := _latency(e, name)) is not None]
    hi = nice_step(max([10.0, *values]) / 6) * 6
    axis = Axis(0.0, hi, LEFT, RIGHT - 70)
    top, bar = 24.0, 12.0
    ys, y, prev = [], top, -1
    for i, _, _ in rows:
        y += 8.0 if i != prev and prev >= 0 else 0.0
        ys.append(y)
        y += bar + 2
        prev = i
    parts = [svg_open(WIDTH, y + 50, "Detection latency per event", "latency"),
             time_axis(axis, y + 4, top, "seconds after the scripted moment (m:ss)")]
    partner_ids = {p: n for n, p in enumerate(colours)}
    for (i, e, name), y_row in zip(rows, ys, strict=True):
        if name == "detection":
            parts.append(f'<text x="{num(LEFT - 8)}" y="{num(y_row + 10)}" text-anchor="end">'
                         f"{esc(shorten(event_label(i, e), 34))}</text>")
        fill = ("#0072B2" if name == "detection"
                else f"url(#pat-p{partner_ids[name]})" if name in partner_ids else "#888")
        parts.append(_bar(axis, y_row, bar, _latency(e, name), name, fill, e.outcome))
    if not rows:
        parts.append(f'<text x="{num(LEFT)}" y="{num(top + 12)}">no scripted events</text>')
    parts.append("</svg>")
    return "".join(parts)


def _latency(e: Event, name: str) -> float | None:
    return e.detection_s if name == "detection" else dict(e.reached).get(name)


def _bar(axis: Axis, y: float, h: float, value: float | None, name: str, fill: str,
         outcome: str) -> str:
    label = "detection" if name == "detection" else f"to {name}"
    if value is None:
        text = "missed" if name == "detection" and outcome == "missed" else "not reached"
        return (f'<text x="{num(axis.x0 + 4)}" y="{num(y + 10)}" class="bar-none">'
                f"{esc(label)}: {text}</text>")
    x1 = axis.at(value)
    return (f'<g class="bar"><rect x="{num(axis.x0)}" y="{num(y)}" '
            f'width="{num(max(1.0, x1 - axis.x0))}" height="{num(h)}" fill="{fill}" '
            f'stroke="#333" stroke-width="0.6"><title>{esc(label)}: {secs(value)}</title>'
            f'</rect><text x="{num(x1 + 4)}" y="{num(y + 10)}">{esc(shorten(label, 16))} '
            f"{secs(value)}</text></g>")


def traffic(s: Summary) -> str:
    """Small multiples: one strip of messages/s per sensor, each with its own scale
    (a radar's few plots/s and a busy receiver's thousands both stay readable), its
    outages shaded."""
    strip, gap, top = 46.0, 12.0, 20.0
    axis = Axis(0.0, time_span(s), LEFT, RIGHT)
    bottom = top + (strip + gap) * max(1, len(s.sensors))
    parts = [svg_open(WIDTH, bottom + 40, "Messages per second of each sensor", "traffic"),
             time_axis(axis, bottom, top)]
    for n, sensor in enumerate(s.sensors):
        y0 = top + (strip + gap) * n
        peak = max([v for _, v in sensor.series] or [0.0])
        parts.append(f'<g class="tr-row" data-sensor="{esc(sensor.name)}">'
                     f'<rect x="{num(LEFT)}" y="{num(y0)}" width="{num(RIGHT - LEFT)}" '
                     f'height="{num(strip)}" fill="#fafafa" stroke="#ccc"/>'
                     + "".join(_band(axis, o, y0, y0 + strip, sensor.name, False)
                               for o in sensor.outages)
                     + f'<text x="{num(LEFT - 8)}" y="{num(y0 + 18)}" text-anchor="end" '
                     f'font-weight="bold">{esc(shorten(sensor.name, 30))}</text>'
                     f'<text x="{num(LEFT - 8)}" y="{num(y0 + 34)}" text-anchor="end" '
                     f'class="small">{esc(sensor.partner)} \u00b7 {esc(sensor.kind)} \u00b7 '
                     f"peak {peak:,.0f}/s</text>")
        if sensor.series:
            scale = (strip - 4) / peak if peak > 0 else 0.0
            pts = [(axis.at(t), y0 + strip - 2 - max(0.0, v) * scale) for t, v in sensor.series]
            parts.append(f'<polyline points="{polyline_points(pts)}" fill="none" '
                         'stroke="#0072B2" stroke-width="1.4">'
                         f"<title>{esc(sensor.name)}: messages per second</title></polyline>")
        else:
            parts.append(f'<text x="{num(LEFT + 6)}" y="{num(y0 + 28)}">no data</text>')
        parts.append("</g>")
    if not s.sensors:
        parts.append(f'<text x="{num(LEFT)}" y="{num(top + 20)}">no sensors</text>')
    parts.append("</svg>")
    return "".join(parts)
