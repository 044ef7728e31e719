"""Local tangent planes: WGS84 lat/lon <-> east/north metres around a reference point.

Each track keeps its horizontal state in metres in a plane tangent to the ellipsoid at
its own reference point (an equirectangular projection scaled by the local radii of
curvature).  The tracker moves the reference to the track's position once it is 5 km
away (:func:`~skyshare.fusion.kalman.reanchor`), so the plane is only used within a few
km of its reference (or over a coast of at most ``delete_after_s``), where its
distortion is far below the measurement noise.  Re-anchoring rotates the velocity by
the meridian convergence, so a coasting track follows a great circle, not a rhumb line.
"""

from __future__ import annotations

import math
from typing import Final

import numba as nb

WGS84_A: Final = 6378137.0  # m, semi-major axis
WGS84_E2: Final = 6.69437999014e-3  # first eccentricity squared
MIN_EAST_SCALE: Final = 1.0  # m/deg of longitude: keeps the plane finite at the poles


@nb.njit(cache=True, nogil=True)
def scales(lat: float) -> tuple[float, float]:
    """(m per degree of latitude, m per degree of longitude) at ``lat``."""
    s = math.sin(math.radians(lat))
    w = 1.0 - WGS84_E2 * s * s
    meridian = WGS84_A * (1.0 - WGS84_E2) / (w * math.sqrt(w))
    normal = WGS84_A / math.sqrt(w)
    east = max(normal * math.cos(math.radians(lat)), MIN_EAST_SCALE / (math.pi / 180.0))
    return meridian * math.pi / 180.0, east * math.pi / 180.0


@nb.njit(cache=True, nogil=True)
def wrap_lon(lon: float) -> float:
    """Longitude folded into [-180, 180)."""
    if -180.0 <= lon < 180.0:  # the common case, without a (slow) float modulo
        return lon
    return (lon + 180.0) % 360.0 - 180.0


@nb.njit(cache=True, nogil=True)
def project(lat: float, lon: float, lat0: float, lon0: float,
            m_per_deg_lat: float, m_per_deg_lon: float) -> tuple[float, float]:
    """(east, north) in metres of ``lat, lon`` in the plane around ``lat0, lon0``."""
    return wrap_lon(lon - lon0) * m_per_deg_lon, (lat - lat0) * m_per_deg_lat


@nb.njit(cache=True, nogil=True)
def unproject(east: float, north: float, lat0: float, lon0: float,
              m_per_deg_lat: float, m_per_deg_lon: float) -> tuple[float, float]:
    """(lat, lon) of a point of the plane around ``lat0, lon0``."""
    lat = min(max(lat0 + north / m_per_deg_lat, -90.0), 90.0)
    return lat, wrap_lon(lon0 + east / m_per_deg_lon)


@nb.njit(cache=True, nogil=True)
def convergence(lat0: float, lon0: float, lat1: float, lon1: float) -> float:
    """Radians by which north at ``lat1, lon1`` is turned from north at ``lat0, lon0``.

    A great circle's track angle grows by ``dlon * sin(lat)`` (Clairaut), so a constant
    velocity carried from one plane to the next must turn by this angle.
    """
    return math.radians(wrap_lon(lon1 - lon0)) * math.sin(math.radians(0.5 * (lat0 + lat1)))


@nb.njit(cache=True, nogil=True)
def rotate(ve: float, vn: float, angle: float) -> tuple[float, float]:
    """(east, north) vector turned clockwise (as a track angle grows) by ``angle`` rad."""
    c, s = math.cos(angle), math.sin(angle)
    return ve * c + vn * s, vn * c - ve * s
