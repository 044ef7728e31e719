"""GeoJSON airspace volumes and responsibility regions: text in, objects out (no file
access here)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from shapely.geometry import MultiPolygon, Polygon

from skyshare.airspace.common import Area, _finite, _Invalid
from skyshare.airspace.geometry import _valid
from skyshare.airspace.limits import _check_limits, parse_limit
from skyshare.airspace.regions import Region
from skyshare.airspace.schedule import _parse_schedule
from skyshare.airspace.volumes import Volume, _claim_id, _kind
from skyshare.errors import AirspaceFileError

T = TypeVar("T")


def _number(x: object) -> float:
    if isinstance(x, bool) or not isinstance(x, int | float):
        raise _Invalid(f"bad coordinate value {x!r}")
    return _finite(x, "bad coordinate value")


def _ring(obj: object, k: int) -> list[tuple[float, float]]:
    if not isinstance(obj, list) or len(obj) < 4:
        raise _Invalid(f"ring {k} must be a list of at least 4 positions")
    ring = []
    for pos in obj:
        if not isinstance(pos, list) or len(pos) < 2:
            raise _Invalid(f"bad position {pos!r} in ring {k} (expected [lon, lat])")
        lon, lat = _number(pos[0]), _number(pos[1])
        if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
            raise _Invalid(f"bad coordinate [{lon}, {lat}] in ring {k}: out of range")
        ring.append((lon, lat))
    if ring[0] != ring[-1]:
        raise _Invalid(f"ring {k} is not closed (its first and last positions differ)")
    return ring


def _polygon(obj: object) -> Polygon:
    if not isinstance(obj, list) or not obj:
        raise _Invalid("polygon coordinates must be a non-empty list of rings")
    rings = [_ring(r, k) for k, r in enumerate(obj)]
    return Polygon(rings[0], rings[1:])


def _geometry(obj: object) -> Area:
    if not isinstance(obj, dict):
        raise _Invalid("missing geometry")
    kind, coords = obj.get("type"), obj.get("coordinates")
    if kind == "Polygon":
        return _valid(_polygon(coords))
    if kind == "MultiPolygon" and isinstance(coords, list) and coords:
        return _valid(MultiPolygon([_polygon(p) for p in coords]))
    raise _Invalid(f"geometry type {kind!r} is not supported (Polygon or MultiPolygon)")


def _text(props: dict[str, Any], *keys: str, required: bool = True) -> str:
    for key in keys:
        value = props.get(key)
        if value is not None and value != "":
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                raise _Invalid(f"property {key!r} must be a string, not {value!r}")
            return str(value)
    if required:
        raise _Invalid("missing " + " or ".join(repr(k) for k in keys) + " property")
    return ""


def _features(data: str | bytes, source: str,
              build: Callable[[int, dict[str, Any], dict[str, Any]], T]) -> list[T]:
    """``build(index, feature, properties)`` for each feature of a FeatureCollection."""
    try:
        doc = json.loads(data)
    except json.JSONDecodeError as exc:
        raise AirspaceFileError(f"not valid JSON: {exc.msg}", path=source,
                                line=exc.lineno) from None
    except (UnicodeDecodeError, RecursionError) as exc:
        raise AirspaceFileError(f"not readable JSON: {exc}", path=source) from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(
            doc.get("features"), list):
        raise AirspaceFileError("not a GeoJSON FeatureCollection", path=source)
    out = []
    for i, feature in enumerate(doc["features"]):
        props = feature.get("properties") if isinstance(feature, dict) else None
        fid = props.get("id") if isinstance(props, dict) else None
        try:
            if not isinstance(feature, dict) or feature.get("type") != "Feature":
                raise _Invalid("not a GeoJSON Feature")
            if not isinstance(props, dict):
                raise _Invalid("missing 'properties' object")
            out.append(build(i, feature, props))
        except _Invalid as exc:
            raise AirspaceFileError(str(exc), path=source, feature=i,
                                    feature_id=str(fid) if fid is not None else None) from None
    return out


def parse_geojson(data: str | bytes, source: str = "<geojson>", *,
                  ids: dict[str, Volume] | None = None) -> list[Volume]:
    """Volumes of a GeoJSON FeatureCollection of Polygon/MultiPolygon features with
    properties ``id`` (else the feature's ``id``, else ``name``), ``name``, ``class``
    (or ``type``), ``lower``, ``upper`` (see :func:`parse_limit`) and optional
    ``schedule`` ({"windows": [[start, end], ...]} and/or {"weekly": [{"days": [...],
    "from": "HH:MM", "to": "HH:MM"}]}, UTC; absent: always active).  Ids must differ
    between features, and from the keys of ``ids`` (as in :func:`parse_openair`)."""
    seen = ids if ids is not None else {}

    def build(i: int, feature: dict[str, Any], props: dict[str, Any]) -> Volume:
        ident = _text(props, "id", required=False) or _text(feature, "id", required=False)
        name = _text(props, "name", required=False)
        if not (ident or name):
            raise _Invalid("missing 'id' (or 'name') property")
        lower, upper = (parse_limit(_need(props, k)) for k in ("lower", "upper"))
        _check_limits(lower, upper)
        volume = Volume(ident or name, name, _kind(_text(props, "class", "type")),
                        _geometry(feature.get("geometry")), lower, upper,
                        _parse_schedule(props.get("schedule")), f"{source}:feature {i}")
        return _claim_id(seen, volume, "the id is the 'id' property, else the feature's id, "
                         "else 'name': give each feature its own 'id'")
    return _features(data, source, build)


def _need(props: dict[str, Any], key: str) -> object:
    if props.get(key) is None:
        raise _Invalid(f"missing limits: no {key!r} property")
    return props[key]


def parse_regions(data: str | bytes, source: str = "<geojson>") -> list[Region]:
    """Regions of a GeoJSON FeatureCollection with properties ``partner`` and ``name``."""
    def build(i: int, feature: dict[str, Any], props: dict[str, Any]) -> Region:
        return Region(_text(props, "partner"), _text(props, "name", required=False),
                      _geometry(feature.get("geometry")), f"{source}:feature {i}")
    return _features(data, source, build)
