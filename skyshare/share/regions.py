"""Shared regions of an agreement: their geometry, and the point-in-region test that the
egress filter runs over every track of every update.

Geometry is kept as shapely polygons in **(lon, lat) order** (x = longitude, y =
latitude, as GeoJSON and shapely expect), planar in degrees: edges are straight in
lon/lat, as in :mod:`skyshare.airspace`.  The YAML ``polygon:`` key lists ``[lat, lon]``
vertices (the order people read coordinates in); :func:`polygon_from_vertices` swaps
them.  Regions crossing the antimeridian are not supported.

The point test (:class:`RegionIndex`) is a compiled even-odd ray cast.  Each region's
edges are binned into horizontal slabs of its bounding box, so a point is tested only
against the few edges crossing its latitude: 20,000 points against two polygons of 60
and 180 vertices take about 0.7 ms, 2-3x less than shapely 2's ``contains_xy`` on
prepared polygons (``bench/bench_egress.py`` measures both in the same run).  Even-odd
over every ring of a valid polygon or multipolygon is exactly "inside the interior":
holes and the parts of a multipolygon are handled alike.  A point exactly on an edge may
fall either way (shapely says outside): the border line itself has no area.

Altitude bands are inclusive.  The altitude compared is the barometric ``alt``, else
``alt_geo`` when ``alt`` is unknown; a track with neither is inside only regions
without any band (privacy: when in doubt, do not share).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, TypeAlias

import numba as nb
import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import MultiPolygon, Polygon

Area: TypeAlias = Polygon | MultiPolygon
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.intp]

EARTH_RADIUS_KM: Final = 6371.0088
MAX_SLABS: Final = 1024


class _Invalid(ValueError):
    """A bad value; the agreement loader adds the file, agreement and key."""


@dataclass(frozen=True)
class SharedRegion:
    """An area inside which tracks may be shared, with an optional altitude band (ft).

    ``geometry`` is in (lon, lat) order (see the module docstring); ``lower_ft`` and
    ``upper_ft`` are inclusive, None meaning no bound."""

    name: str
    geometry: Area
    lower_ft: float | None = None
    upper_ft: float | None = None

    @property
    def has_band(self) -> bool:
        return self.lower_ft is not None or self.upper_ft is not None

    def area_km2(self) -> float:
        """Area on a sphere, through the sinusoidal (equal-area) projection of the
        polygon densified every 0.1 degree."""
        dense = shapely.segmentize(self.geometry, 0.1)

        def project(xy: FloatArray) -> FloatArray:
            lon, lat = np.radians(xy[:, 0]), np.radians(xy[:, 1])
            return np.column_stack([EARTH_RADIUS_KM * lon * np.cos(lat), EARTH_RADIUS_KM * lat])

        return float(shapely.area(shapely.transform(dense, project)))


# --------------------------------------------------------------------------- parsing
def _coordinate(value: object, low: float, high: float, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Invalid(f"{what} {value!r} is not a number")
    x = float(value)
    if not (math.isfinite(x) and low <= x <= high):
        raise _Invalid(f"{what} {value!r} is outside {low:g}..{high:g}")
    return x


def _check_valid(geometry: Area) -> Area:
    """``geometry`` if shapely finds it valid, else an error saying where (lat, lon)."""
    reason = shapely.is_valid_reason(geometry)
    if reason != "Valid Geometry":
        where = re.search(r"\[(\S+) (\S+)\]", reason)
        at = f" at lat {where[2]}, lon {where[1]}" if where else ""
        raise _Invalid(f"invalid polygon: {reason.split('[')[0]}{at}: edges must not cross or "
                       "touch; reorder or move the vertices")
    if geometry.area <= 0.0:
        raise _Invalid("the polygon has no area: its vertices are on one line")
    return geometry


def polygon_from_vertices(vertices: object) -> Polygon:
    """A polygon of ``[[lat, lon], ...]`` (at least 3 distinct vertices, closed
    implicitly: a repeated first vertex at the end is accepted)."""
    if not isinstance(vertices, list):
        raise _Invalid("must be a list of [lat, lon] vertices, e.g. [[43.0, 0.0], [44.0, 0.0], "
                       "[44.0, 2.0]]")
    points: list[tuple[float, float]] = []
    for k, vertex in enumerate(vertices):  # counted from 1 in messages
        if not isinstance(vertex, list) or len(vertex) != 2:
            raise _Invalid(f"vertex {k + 1} is {vertex!r}; write [lat, lon]")
        lat = _coordinate(vertex[0], -90.0, 90.0, f"vertex {k + 1}: latitude")
        lon = _coordinate(vertex[1], -180.0, 180.0, f"vertex {k + 1}: longitude")
        points.append((lon, lat))
    if len(points) > 1 and points[0] == points[-1]:
        points.pop()
    if len(set(points)) < 3:
        raise _Invalid(f"needs at least 3 distinct [lat, lon] vertices, not {len(set(points))}")
    polygon = Polygon(points)
    _check_valid(polygon)
    return polygon


def _ring(obj: object, k: int) -> list[tuple[float, float]]:
    if not isinstance(obj, list) or len(obj) < 4:
        raise _Invalid(f"ring {k} must be a list of at least 4 [lon, lat] positions")
    ring = []
    for pos in obj:
        if not isinstance(pos, list) or len(pos) < 2:
            raise _Invalid(f"bad position {pos!r} in ring {k} (GeoJSON is [lon, lat])")
        ring.append((_coordinate(pos[0], -180.0, 180.0, f"ring {k}: longitude"),
                     _coordinate(pos[1], -90.0, 90.0, f"ring {k}: latitude")))
    if ring[0] != ring[-1]:
        raise _Invalid(f"ring {k} is not closed (its first and last positions differ)")
    return ring


def _rings(obj: object) -> Polygon:
    if not isinstance(obj, list) or not obj:
        raise _Invalid("Polygon coordinates must be a non-empty list of rings")
    rings = [_ring(r, k) for k, r in enumerate(obj)]
    return Polygon(rings[0], rings[1:])


def _geojson_geometry(obj: object) -> Area:
    if not isinstance(obj, dict):
        raise _Invalid("a feature has no geometry")
    kind, coords = obj.get("type"), obj.get("coordinates")
    if kind == "Polygon":
        return _check_valid(_rings(coords))
    if kind == "MultiPolygon" and isinstance(coords, list) and coords:
        return _check_valid(MultiPolygon([_rings(p) for p in coords]))
    raise _Invalid(f"geometry type {kind!r} is not supported (Polygon or MultiPolygon)")


def _matches(props: object, match: Mapping[str, str]) -> bool:
    if not match:
        return True
    if not isinstance(props, dict):
        return False
    return all(str(props.get(k)) == v for k, v in match.items())


def area_from_geojson(data: bytes, match: Mapping[str, str] | None = None) -> Area:
    """The union of the Polygon/MultiPolygon features of a GeoJSON document (a
    FeatureCollection, a Feature or a bare geometry) whose properties equal ``match``."""
    try:
        doc = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise _Invalid(f"not valid GeoJSON: {exc}") from None
    match = match or {}
    if isinstance(doc, dict) and doc.get("type") == "FeatureCollection":
        features = doc.get("features")
        if not isinstance(features, list):
            raise _Invalid("the FeatureCollection has no 'features' list")
    elif isinstance(doc, dict) and doc.get("type") == "Feature":
        features = [doc]
    else:
        features = [{"type": "Feature", "properties": {}, "geometry": doc}]
    parts: list[Area] = []
    for i, feature in enumerate(features):
        if not isinstance(feature, dict) or not _matches(feature.get("properties"), match):
            continue
        try:
            parts.append(_geojson_geometry(feature.get("geometry")))
        except _Invalid as exc:
            raise _Invalid(f"feature {i}: {exc}") from None
    if not parts:
        wanted = f" with properties {dict(match)}" if match else ""
        raise _Invalid(f"no Polygon or MultiPolygon feature{wanted}")
    union = shapely.union_all(parts)
    if not isinstance(union, Polygon | MultiPolygon):  # pragma: no cover - union of areas
        raise _Invalid("the features do not form an area")
    return union


# --------------------------------------------------------------------------- YAML
REGION_KEYS: Final = ("name", "polygon", "geojson", "match", "lower_ft", "upper_ft")


class _Nested(_Invalid):
    """A bad value below a key: ``sub`` is its path from the agreement (``region 2
    (strip).polygon``)."""

    def __init__(self, sub: str, message: str) -> None:
        self.sub = sub
        super().__init__(message)


def _unknown(raw: dict[Any, Any], known: tuple[str, ...]) -> None:
    unknown = [str(k) for k in raw if k not in known]
    if unknown:
        raise _Invalid(f"unknown key {unknown[0]!r}; expected one of {', '.join(known)} "
                       "(a misspelt key would silently change what is shared)")


def _number(value: object, low: float, high: float, *, low_open: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Invalid(f"must be a number, not {value!r}")
    x = float(value)
    if not (math.isfinite(x) and (low < x if low_open else low <= x) and x <= high):
        bound = f"more than {low:g}" if low_open else f"from {low:g}"
        raise _Invalid(f"{value!r} is out of range: write a number {bound} to {high:g}")
    return x


def _match(value: object) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
            isinstance(v, str | int | float) and not isinstance(v, bool) for v in value.values()):
        raise _Invalid("write match: {property: value, ...} (e.g. {partner: west})")
    return {str(k): str(v) for k, v in value.items()}


def _region_area(raw: dict[Any, Any], base: Path) -> Area:
    if ("polygon" in raw) == ("geojson" in raw):
        raise _Invalid("give exactly one of polygon: [[lat, lon], ...] or geojson: FILE")
    if "polygon" in raw:
        if "match" in raw:
            raise _Nested("match", "only a geojson region has 'match'")
        try:
            return polygon_from_vertices(raw["polygon"])
        except _Invalid as exc:
            raise _Nested("polygon", str(exc)) from None
    try:
        match = _match(raw["match"]) if "match" in raw else None
    except _Invalid as exc:
        raise _Nested("match", str(exc)) from None
    name = raw["geojson"]
    try:
        if not isinstance(name, str) or not name:
            raise _Invalid("write the GeoJSON file's path, relative to this YAML file")
        file = base / name
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise _Invalid(f"cannot read {file}: {exc.strerror or exc}") from None
        return area_from_geojson(data, match)
    except _Invalid as exc:
        raise _Nested("geojson", str(exc)) from None


def _band(raw: dict[Any, Any]) -> tuple[float | None, float | None]:
    band: list[float | None] = []
    for key in ("lower_ft", "upper_ft"):
        try:
            band.append(None if raw.get(key) is None else _number(raw[key], -2000.0, 1e6))
        except _Invalid as exc:
            raise _Nested(key, str(exc)) from None
    lower, upper = band
    if lower is not None and upper is not None and not lower < upper:
        raise _Nested("upper_ft", f"the band is empty: upper_ft ({upper:g}) must be above "
                                  f"lower_ft ({lower:g})")
    return lower, upper


def _region(raw: object, base: Path) -> SharedRegion:
    if not isinstance(raw, dict):
        raise _Invalid("write {name: NAME, polygon: [[lat, lon], ...]} or "
                       "{name: NAME, geojson: FILE}")
    _unknown(raw, REGION_KEYS)
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise _Nested("name", "every region needs a name (text)")
    lower, upper = _band(raw)
    return SharedRegion(name, _region_area(raw, base), lower, upper)


def parse_regions(value: object, base: Path) -> tuple[SharedRegion, ...]:
    """The ``regions:`` list of an agreement (``geojson:`` paths relative to ``base``)."""
    if not isinstance(value, list) or not value:
        raise _Invalid("needs a list of at least one region: {name, polygon: [[lat, lon], "
                       "...]} or {name, geojson: FILE}")
    out: list[SharedRegion] = []
    for k, raw in enumerate(value, 1):
        label = f"region {k}"
        if isinstance(raw, dict) and isinstance(raw.get("name"), str):
            label += f" ({raw['name']})"
        try:
            region = _region(raw, base)
        except _Nested as exc:
            raise _Nested(f"{label}.{exc.sub}", str(exc)) from None
        except _Invalid as exc:
            raise _Nested(label, str(exc)) from None
        if any(r.name == region.name for r in out):
            raise _Nested(f"{label}.name", "another region of this agreement has this name")
        out.append(region)
    return tuple(out)


# --------------------------------------------------------------------------- point test
@nb.njit(cache=True, nogil=True)
def _inside_kernel(x: FloatArray, y: FloatArray, box: FloatArray, inv_h: float,
                   slab_start: IntArray, slab_edge: IntArray, edges: FloatArray,
                   out: BoolArray) -> None:
    """Even-odd ray cast (towards +x) of each point against the edges of its slab; sets
    ``out[i]`` for points inside (never clears).  NaN coordinates fail the box test."""
    nslab = len(slab_start) - 1
    for i in range(len(x)):
        px, py = x[i], y[i]
        if not (box[0] <= px <= box[2] and box[1] <= py <= box[3]):
            continue
        s = min(max(int((py - box[1]) * inv_h), 0), nslab - 1)
        inside = False
        for k in range(slab_start[s], slab_start[s + 1]):
            e = slab_edge[k]
            ay, by = edges[e, 1], edges[e, 3]
            if (ay > py) != (by > py):
                ax, bx = edges[e, 0], edges[e, 2]
                if px < ax + (py - ay) * (bx - ax) / (by - ay):
                    inside = not inside
        if inside:
            out[i] = True


@dataclass(frozen=True, eq=False)
class _SlabTable:
    """One region's edges (ax, ay, bx, by rows) binned by the latitude slabs they span."""

    box: FloatArray  # lon0, lat0, lon1, lat1
    inv_h: float
    slab_start: IntArray
    slab_edge: IntArray
    edges: FloatArray

    @classmethod
    def build(cls, geometry: Area) -> _SlabTable:
        rings = shapely.get_rings(shapely.get_parts(geometry))
        coords, ring = shapely.get_coordinates(rings, return_index=True)
        same = ring[1:] == ring[:-1]
        edges = np.ascontiguousarray(np.hstack([coords[:-1][same], coords[1:][same]]),
                                     dtype=np.float64)
        box = np.asarray(shapely.bounds(geometry), np.float64)
        nslab = int(min(max(len(edges) // 2, 1), MAX_SLABS))
        height = box[3] - box[1]
        inv_h = nslab / height if height > 0 else 0.0
        # the kernel's own formula, so that an edge is in every slab a point of its
        # latitude span can fall in (floor is monotone)
        ymin = np.minimum(edges[:, 1], edges[:, 3])
        ymax = np.maximum(edges[:, 1], edges[:, 3])
        lo = np.clip(((ymin - box[1]) * inv_h).astype(np.intp), 0, nslab - 1)
        hi = np.clip(((ymax - box[1]) * inv_h).astype(np.intp), 0, nslab - 1)
        count = hi - lo + 1
        owner = np.repeat(np.arange(len(edges), dtype=np.intp), count)
        slab = np.repeat(lo, count) + (np.arange(len(owner)) - np.repeat(np.cumsum(count) - count,
                                                                          count))
        order = np.argsort(slab, kind="stable")
        per_slab = np.bincount(slab, minlength=nslab)
        start = np.zeros(nslab + 1, np.intp)
        np.cumsum(per_slab, out=start[1:])
        return cls(box, float(inv_h), start, np.ascontiguousarray(owner[order]), edges)

    def mark_inside(self, lon: FloatArray, lat: FloatArray, out: BoolArray) -> None:
        _inside_kernel(lon, lat, self.box, self.inv_h, self.slab_start, self.slab_edge,
                       self.edges, out)


class RegionIndex:
    """Which positions are inside at least one of a set of regions and its band.

    Built once per agreement; :meth:`inside` is vectorised over a batch (the compiled
    kernel loads from numba's cache, or compiles, on the first call)."""

    def __init__(self, regions: Sequence[SharedRegion]) -> None:
        self.regions = tuple(regions)
        self._tables = [_SlabTable.build(r.geometry) for r in self.regions]
        self._bands = [(-math.inf if r.lower_ft is None else r.lower_ft,
                        math.inf if r.upper_ft is None else r.upper_ft, r.has_band)
                       for r in self.regions]

    def inside(self, lat: npt.ArrayLike, lon: npt.ArrayLike, alt: npt.ArrayLike,
               alt_geo: npt.ArrayLike) -> BoolArray:
        """True where (lat, lon) is inside a region whose band holds the altitude (alt,
        else alt_geo; both NaN: only regions without a band)."""
        lat_ = np.ascontiguousarray(lat, np.float64)
        lon_ = np.ascontiguousarray(lon, np.float64)
        baro = np.asarray(alt, np.float64)
        height = np.where(np.isnan(baro), np.asarray(alt_geo, np.float64), baro)
        known = ~np.isnan(height)
        result = np.zeros(len(lat_), np.bool_)
        hit = np.zeros(len(lat_), np.bool_)
        for table, (lower, upper, banded) in zip(self._tables, self._bands, strict=True):
            hit[:] = False
            table.mark_inside(lon_, lat_, hit)
            if banded:
                hit &= known & (height >= lower) & (height <= upper)
            result |= hit
        return result
