"""The report's map as inline SVG: partner regions, restricted volumes, sensors,
scripted aircraft paths and event positions, with a scale bar in nautical miles.
The map is fitted to the sensors, paths, events and volumes; regions are cut at its
edge.

Equirectangular with the longitude scaled by cos(mid latitude): over the few hundred
kilometres of an exercise that keeps shapes and the scale bar honest to a few percent,
with no map library and no tiles to fetch.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from skyshare.exercise.report_check import LatLon, Summary
from skyshare.exercise.report_svg import (
    OUTCOME_STYLE,
    clock,
    esc,
    kind_label,
    legend,
    marker,
    num,
    polyline_points,
    shorten,
    svg_open,
)

WIDTH = 960.0
MAX_HEIGHT = 720.0
MARGIN = 40.0
SENSOR_SHAPES = {"adsb": "triangle", "radar": "square"}


@dataclass(frozen=True)
class Projection:
    """lat/lon to SVG units, fitted to a bounding box."""

    lat0: float
    lon0: float
    k: float  # cos(mid latitude)
    scale: float  # SVG units per degree of latitude
    height: float

    def xy(self, p: LatLon) -> tuple[float, float]:
        return (MARGIN + (p[1] - self.lon0) * self.k * self.scale,
                self.height - MARGIN - (p[0] - self.lat0) * self.scale)


def fit(points: Iterable[LatLon], pad_deg: float = 0.05) -> Projection | None:
    """The projection that fits ``points`` in the map with margins; None if none."""
    pts = list(points)
    if not pts:
        return None
    lats, lons = [p[0] for p in pts], [p[1] for p in pts]
    lat0, lat1, lon0, lon1 = min(lats), max(lats), min(lons), max(lons)
    pad_lat = max(pad_deg, (lat1 - lat0) * 0.08)
    pad_lon = max(pad_deg, (lon1 - lon0) * 0.08)
    lat0, lat1, lon0, lon1 = lat0 - pad_lat, lat1 + pad_lat, lon0 - pad_lon, lon1 + pad_lon
    k = max(0.05, math.cos(math.radians((lat0 + lat1) / 2)))
    inner_w = WIDTH - 2 * MARGIN
    scale = min(inner_w / ((lon1 - lon0) * k), (MAX_HEIGHT - 2 * MARGIN) / (lat1 - lat0))
    height = (lat1 - lat0) * scale + 2 * MARGIN
    return Projection(lat0, lon0, k, scale, height)


def _region_points(s: Summary) -> Iterable[LatLon]:
    for _, rings in s.regions:
        for ring in rings:
            yield from ring


def _action_points(s: Summary) -> Iterable[LatLon]:
    """Where things happen; the map fits these (a partner's region may be a whole
    country, and fitted to it the scripted traffic would be a speck)."""
    for v in s.volumes:
        yield from v.polygon
    for sensor in s.sensors:
        if sensor.position is not None:
            yield sensor.position
    for a in s.aircraft:
        yield from ((lat, lon) for _, lat, lon in a.path)
    for e in s.events:
        if e.position is not None:
            yield e.position


def _polygon(proj: Projection, ring: tuple[LatLon, ...]) -> str:
    return polyline_points([proj.xy(p) for p in ring], 0.4)


def _centre(proj: Projection, ring: tuple[LatLon, ...]) -> tuple[float, float] | None:
    """The middle of the part of ``ring``'s bounding box on the map (None: off it)."""
    xs, ys = zip(*(proj.xy(p) for p in ring), strict=True)
    x0, x1 = max(min(xs), MARGIN / 2), min(max(xs), WIDTH - MARGIN / 2)
    y0, y1 = max(min(ys), MARGIN / 2), min(max(ys), proj.height - MARGIN / 2)
    return ((x0 + x1) / 2, (y0 + y1) / 2) if x0 < x1 and y0 < y1 else None


def exercise_map(s: Summary, colours: dict[str, str]) -> str:
    """The map, or a short note when the summary has nothing with a position."""
    proj = fit(_action_points(s), 0.3) or fit(_region_points(s))
    if proj is None:
        return '<p class="empty">Nothing with a position to draw.</p>'
    parts = [svg_open(WIDTH, proj.height + 40, "Map of the exercise area", "map"),
             f'<clipPath id="map-clip"><rect width="{num(WIDTH)}" height="{num(proj.height)}"/>'
             '</clipPath>'
             f'<rect width="{num(WIDTH)}" height="{num(proj.height)}" fill="#f4f8fb"/>'
             '<g clip-path="url(#map-clip)">',
             _regions(s, proj, colours), _volumes(s, proj), _aircraft(s, proj),
             _sensors(s, proj, colours), _events(s, proj), "</g>", scale_bar(proj)]
    items = [("square", "#fff", "radar"), ("triangle", "#fff", "ADS-B receiver"),
             ("band", "url(#hatch-volume)", "restricted volume")]
    items += [(shape, colour, f"event {outcome}")
              for outcome, (colour, _, shape) in OUTCOME_STYLE.items()]
    parts.append(legend(items, 20, proj.height + 20, WIDTH - 40))
    parts.append("</svg>")
    return "".join(parts)


def _regions(s: Summary, proj: Projection, colours: dict[str, str]) -> str:
    parts = []
    for partner, rings in s.regions:
        colour = colours.get(partner, "#888")
        for ring in rings:
            centre = _centre(proj, ring) if len(ring) >= 3 else None
            if centre is None:
                continue
            x, y = centre
            parts.append(f'<g class="region"><polygon points="{_polygon(proj, ring)}" '
                         f'fill="{colour}" fill-opacity="0.12" stroke="{colour}" '
                         f'stroke-width="1.5"><title>{esc(partner)}: responsibility region'
                         f'</title></polygon><text x="{num(x)}" y="{num(y)}" '
                         f'text-anchor="middle" class="region-label" fill="{colour}">'
                         f"{esc(shorten(partner, 24))}</text></g>")
    return "".join(parts)


def _volumes(s: Summary, proj: Projection) -> str:
    parts = []
    for v in s.volumes:
        centre = _centre(proj, v.polygon) if len(v.polygon) >= 3 else None
        if centre is None:
            continue
        x, y = centre
        name = v.name or v.id
        parts.append(f'<g class="volume"><polygon points="{_polygon(proj, v.polygon)}" '
                     'fill="url(#hatch-volume)" stroke="#C0392B" stroke-width="1.2" '
                     f'stroke-dasharray="5 3"><title>restricted: {esc(name)} ({esc(v.id)})'
                     f'</title></polygon><text x="{num(x)}" y="{num(y + 4)}" '
                     f'text-anchor="middle" class="small" fill="#8B1A10">'
                     f"{esc(shorten(name, 28))}</text></g>")
    return "".join(parts)


def _sensors(s: Summary, proj: Projection, colours: dict[str, str]) -> str:
    parts = []
    for sensor in s.sensors:
        if sensor.position is None:
            continue
        x, y = proj.xy(sensor.position)
        shape = SENSOR_SHAPES.get(sensor.kind or "", "diamond")
        title = (f"{sensor.name} ({sensor.kind or 'sensor'}, {sensor.format or '?'}) "
                 f"of {sensor.partner or '?'}")
        parts.append('<g class="sensor">'
                     + marker(shape, x, y, colours.get(sensor.partner or "", "#fff"), title,
                              "map-sensor", 6)
                     + f'<text x="{num(x + 9)}" y="{num(y + 4)}" class="small">'
                     f"{esc(shorten(sensor.name, 20))}</text></g>")
    return "".join(parts)


def _aircraft(s: Summary, proj: Projection) -> str:
    parts = []
    for a in s.aircraft:
        if not a.path:
            continue
        pts = [proj.xy((lat, lon)) for _, lat, lon in a.path]
        label = a.callsign or a.label
        x, y = pts[-1]
        x0, y0 = pts[0]
        parts.append(f'<g class="aircraft"><polyline points="{polyline_points(pts)}" '
                     'fill="none" stroke="#333" stroke-width="1.6" stroke-dasharray="6 2">'
                     f"<title>{esc(a.label)} {esc(a.callsign)} ({esc(a.icao24)}), "
                     f"{clock(a.path[0][0])}\u2013{clock(a.path[-1][0])}</title></polyline>"
                     f'<circle cx="{num(x0)}" cy="{num(y0)}" r="2.5" fill="#333"/>'
                     f'<text x="{num(x + 5)}" y="{num(y - 5)}" class="ac-label">'
                     f"{esc(shorten(label, 20))}</text></g>")
    return "".join(parts)


def _events(s: Summary, proj: Projection) -> str:
    parts = []
    for i, e in enumerate(s.events):
        if e.position is None:
            continue
        colour, _, shape = OUTCOME_STYLE[e.outcome]
        x, y = proj.xy(e.position)
        title = f"#{i + 1} {kind_label(e.kind)}: {e.subject} at {clock(e.at_s)}, {e.outcome}"
        parts.append('<g class="map-event">'
                     + marker(shape, x, y, colour, title, "map-event-marker", 7)
                     + f'<text x="{num(x + 9)}" y="{num(y - 7)}" class="ev-label">#{i + 1}'
                     "</text></g>")
    return "".join(parts)


def scale_bar(proj: Projection) -> str:
    """A bar of a round number of nautical miles, about a fifth of the map wide."""
    per_nm = proj.scale / 60.0  # one NM is one minute of latitude
    target = (WIDTH - 2 * MARGIN) / 5 / per_nm
    nm = next((n for n in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000)
               if n >= target), 5000)
    w, x, y = nm * per_nm, MARGIN, proj.height - 14
    return (f'<g class="scale-bar"><rect x="{num(x - 4)}" y="{num(y - 16)}" '
            f'width="{num(w + 8)}" height="24" fill="#fff" fill-opacity="0.8"/>'
            f'<path d="M{num(x)} {num(y - 5)}V{num(y)}H{num(x + w)}V{num(y - 5)}" '
            'fill="none" stroke="#000" stroke-width="1.5"/>'
            f'<text x="{num(x + w / 2)}" y="{num(y - 4)}" text-anchor="middle" '
            f'class="small">{nm} NM</text></g>')
