"""Geodesy on a sphere (arcs, dead reckoning), polygon validity and position cleaning."""

from __future__ import annotations

import math
from typing import Final

import numpy as np
import numpy.typing as npt
import shapely

from skyshare.airspace.common import Area, FloatArray, _Invalid

EARTH_RADIUS_M: Final = 6_371_008.8  # mean radius (IUGG)
NM_M: Final = 1852.0
KT_MPS: Final = NM_M / 3600.0
ARC_STEP_DEG: Final = 2.0


def _valid(geometry: Area) -> Area:
    try:
        reason = shapely.is_valid_reason(geometry)
    except shapely.errors.GEOSException as exc:
        raise _Invalid(f"invalid polygon: {exc}") from None
    if reason != "Valid Geometry":
        raise _Invalid(f"invalid polygon: {reason}")
    return geometry


def _destination(lat: float, lon: float, bearing: float, dist_m: float) -> tuple[float, float]:
    """(lon, lat) reached from ``lat, lon`` along ``bearing`` (deg) after ``dist_m``."""
    p1, l1, b = math.radians(lat), math.radians(lon), math.radians(bearing)
    d = dist_m / EARTH_RADIUS_M
    p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(b))
    l2 = l1 + math.atan2(math.sin(b) * math.sin(d) * math.cos(p1),
                         math.cos(d) - math.sin(p1) * math.sin(p2))
    return (math.degrees(l2) + 540.0) % 360.0 - 180.0, math.degrees(p2)


def _bearing_distance(lat1: float, lon1: float, lat2: float, lon2: float) -> tuple[float, float]:
    """(initial bearing deg, great-circle distance m) from point 1 to point 2."""
    p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lon2 - lon1)
    h = (math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2)
    dist = 2.0 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))
    bearing = math.atan2(math.sin(dl) * math.cos(p2),
                         math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl))
    return math.degrees(bearing) % 360.0, dist


def _arc(centre: tuple[float, float], r0: float, r1: float, b0: float, b1: float,
         clockwise: bool) -> list[tuple[float, float]]:
    """(lon, lat) points of an arc around ``centre`` (lat, lon) from bearing ``b0`` to
    ``b1``, the radius (m) going linearly from ``r0`` to ``r1``; both ends included."""
    sweep = (b1 - b0) % 360.0 if clockwise else -((b0 - b1) % 360.0)
    n = max(1, math.ceil(abs(sweep) / ARC_STEP_DEG))
    return [_destination(*centre, b0 + sweep * k / n, r0 + (r1 - r0) * k / n)
            for k in range(n + 1)]


def dead_reckon(lat: npt.ArrayLike, lon: npt.ArrayLike, groundspeed_kt: npt.ArrayLike,
                track_deg: npt.ArrayLike, dt_s: float) -> tuple[FloatArray, FloatArray]:
    """(lat, lon) after ``dt_s`` seconds of straight flight: a straight line in lon/lat,
    scaled at the start latitude on a sphere of radius :data:`EARTH_RADIUS_M`."""
    lat_, lon_ = np.asarray(lat, np.float64), np.asarray(lon, np.float64)
    dist = np.asarray(groundspeed_kt, np.float64) * (KT_MPS * dt_s)
    trk = np.radians(np.asarray(track_deg, np.float64))
    m_lat = EARTH_RADIUS_M * math.pi / 180.0
    m_lon = m_lat * np.maximum(np.cos(np.radians(lat_)), 1e-6)
    return lat_ + dist * np.cos(trk) / m_lat, lon_ + dist * np.sin(trk) / m_lon


def _as_f8(x: npt.ArrayLike) -> FloatArray:
    return np.atleast_1d(np.asarray(x, np.float64))


def _position(lat: npt.ArrayLike, lon: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Latitudes and longitudes, NaN where either is not a finite number."""
    lat_, lon_ = _as_f8(lat), _as_f8(lon)
    bad = ~(np.isfinite(lat_) & np.isfinite(lon_))
    return np.where(bad, np.nan, lat_), np.where(bad, np.nan, lon_)
