"""Where a radar plot is: slant range and azimuth to WGS-84, on the ellipsoid.

A radar measures the straight-line (slant) range ``rho`` to the target and its azimuth
``theta`` (from true north, clockwise, in the plane tangent to the ellipsoid at the
radar), not the target's elevation.  The target's height comes from elsewhere: its
Mode C flight level, or, for a primary-only plot, a height the operator assumes.  Given
that height, :func:`polar_to_geodetic` finds the elevation at which the point at slant
range ``rho`` along ``theta`` has exactly that ellipsoidal height, and returns its
latitude and longitude.

Exact on the WGS-84 ellipsoid (no flat-earth or spherical approximation): the radar and
the line of sight are in Earth-centred Earth-fixed (ECEF) coordinates, the elevation is
found by a few secant steps on the height error (millimetres after 4-6 steps), and the
point goes back to geodetic coordinates.  The checks run the other way (geodetic to
ECEF, then range and azimuth from the radar), with closed formulas.

What it does not model: refraction (the line of sight bends a little, most near the
horizon; radars correct the range they report for it, if at all, themselves); and the
difference between a flight level (pressure altitude) and a height above the ellipsoid
(up to a few hundred metres with the weather and the geoid): the caller passes the best
height it has.  A plot whose range cannot reach the height (``rho`` shorter than the
height difference) gets NaN.
"""

from __future__ import annotations

import math
from typing import Final

import numba as nb
import numpy as np
import numpy.typing as npt

from skyshare.fusion.geo import WGS84_A, WGS84_E2

F64 = npt.NDArray[np.float64]
TOLERANCE_M: Final = 1e-4  # height error at which the elevation search stops
MAX_STEPS: Final = 30


@nb.njit(cache=True, nogil=True)
def geodetic_to_ecef(lat: float, lon: float, h: float) -> tuple[float, float, float]:
    """ECEF metres of a point at ``lat``, ``lon`` (degrees) and ellipsoidal height ``h``."""
    phi, lam = math.radians(lat), math.radians(lon)
    s = math.sin(phi)
    n = WGS84_A / math.sqrt(1.0 - WGS84_E2 * s * s)
    return ((n + h) * math.cos(phi) * math.cos(lam), (n + h) * math.cos(phi) * math.sin(lam),
            (n * (1.0 - WGS84_E2) + h) * s)


@nb.njit(cache=True, nogil=True)
def ecef_to_geodetic(x: float, y: float, z: float) -> tuple[float, float, float]:
    """(lat, lon in degrees, ellipsoidal height in metres) of an ECEF point (iterated to
    well under a millimetre; stable at the poles)."""
    p = math.hypot(x, y)
    lon = math.atan2(y, x)
    phi = math.atan2(z, p * (1.0 - WGS84_E2))
    h = 0.0
    for _ in range(6):
        s = math.sin(phi)
        n = WGS84_A / math.sqrt(1.0 - WGS84_E2 * s * s)
        h = p * math.cos(phi) + z * s - WGS84_A * math.sqrt(1.0 - WGS84_E2 * s * s)
        phi = math.atan2(z, p * (1.0 - WGS84_E2 * n / (n + h)))
    s = math.sin(phi)
    h = p * math.cos(phi) + z * s - WGS84_A * math.sqrt(1.0 - WGS84_E2 * s * s)
    return math.degrees(phi), math.degrees(lon), h


@nb.njit(cache=True, nogil=True)
def _enu(lat: float, lon: float) -> tuple[float, float, float, float, float, float,
                                          float, float, float]:
    """East, north and up unit vectors (ECEF) at a geodetic position."""
    phi, lam = math.radians(lat), math.radians(lon)
    sp, cp, sl, cl = math.sin(phi), math.cos(phi), math.sin(lam), math.cos(lam)
    return -sl, cl, 0.0, -sp * cl, -sp * sl, cp, cp * cl, cp * sl, sp


@nb.njit(cache=True, nogil=True)
def polar_point(rho: float, theta_deg: float, height: float, lat0: float, lon0: float,
           h0: float) -> tuple[float, float]:
    if not (rho > 0.0 and abs(height - h0) <= rho and math.isfinite(theta_deg)):
        return math.nan, math.nan
    x0, y0, z0 = geodetic_to_ecef(lat0, lon0, h0)
    ex, ey, ez, nx, ny, nz, ux, uy, uz = _enu(lat0, lon0)
    th = math.radians(theta_deg)
    hx = math.sin(th) * ex + math.cos(th) * nx  # the horizontal direction of the azimuth
    hy = math.sin(th) * ey + math.cos(th) * ny
    hz = math.sin(th) * ez + math.cos(th) * nz

    def height_at(eps: float) -> tuple[float, float, float]:
        c, s = math.cos(eps), math.sin(eps)
        return ecef_to_geodetic(x0 + rho * (c * hx + s * ux), y0 + rho * (c * hy + s * uy),
                                z0 + rho * (c * hz + s * uz))

    # first guess: a sphere of the local radius (the textbook radar formula)
    r = WGS84_A
    guess = (height - h0) / rho - rho / (2.0 * (r + h0))
    e0 = math.asin(min(max(guess, -1.0), 1.0))
    e1 = e0 + 1e-4
    f0 = height_at(e0)[2] - height
    lat, lon, h = height_at(e1)
    f1 = h - height
    for _ in range(MAX_STEPS):
        if abs(f1) < TOLERANCE_M or f1 == f0:
            break
        e2 = min(max(e1 - f1 * (e1 - e0) / (f1 - f0), -math.pi / 2), math.pi / 2)
        e0, f0 = e1, f1
        e1 = e2
        lat, lon, h = height_at(e1)
        f1 = h - height
    if abs(f1) > 1.0:  # not found (cannot happen for reachable heights): say so
        return math.nan, math.nan
    return lat, lon


@nb.njit(cache=True, nogil=True)
def _polar_many(rho: F64, theta: F64, height: F64, lat0: float, lon0: float, h0: float,
                lat: F64, lon: F64) -> None:
    for i in range(len(rho)):
        lat[i], lon[i] = polar_point(rho[i], theta[i], height[i], lat0, lon0, h0)


def polar_to_geodetic(range_m: npt.ArrayLike, azimuth_deg: npt.ArrayLike,
                      height_m: npt.ArrayLike, radar_lat: float, radar_lon: float,
                      radar_height_m: float) -> tuple[F64, F64]:
    """(lat, lon) degrees of plots at slant ``range_m`` and ``azimuth_deg`` from a radar,
    whose ellipsoidal heights are ``height_m``; NaN where the range cannot reach that
    height (or a value is not finite)."""
    rho, theta, height = (np.asarray(v, np.float64) for v in np.broadcast_arrays(
        range_m, azimuth_deg, height_m))
    lat, lon = np.empty(rho.shape), np.empty(rho.shape)
    _polar_many(rho.ravel(), theta.ravel(), height.ravel(), float(radar_lat),
                float(radar_lon), float(radar_height_m), lat.reshape(-1), lon.reshape(-1))
    return lat, lon
