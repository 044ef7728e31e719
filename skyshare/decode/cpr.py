"""Compact Position Reporting (ICAO Doc 9871 C.2.6, DO-260B A.1.7): encode and decode.

Airborne positions use 17-bit CPR over 360 degree latitude zones (Nb = 17, even
dlat = 360/60, odd dlat = 360/59); surface positions transmit the 17 low bits of a
19-bit encoding (Nb = 19) over the same zones, which is 17-bit CPR over 90 degree
zones (dlat = 90/60 and 90/59): 1.25 m resolution, and a four-fold ambiguity that
a reference position resolves.

* :func:`nl` -- number of longitude zones at a latitude (Doc 9871 C.2.6.2), from the
  table of transition latitudes (1090-WP-9-14), as every reference decoder does.
* :func:`airborne_global` -- globally unambiguous decoding of an even/odd pair
  (DO-260B A.1.7.7); refuses pairs that straddle a longitude-zone boundary.
* :func:`airborne_local` / :func:`surface_local` -- locally unambiguous decoding of
  one message against a reference within half a zone (180 NM airborne, 45 NM
  surface; DO-260B A.1.7.5 and A.1.7.6).
* :func:`cpr_encode_airborne` / :func:`cpr_encode_surface` -- the inverse (DO-260B
  A.1.7.3), vectorised in numpy, for encoders and round-trip tests.

The scalar decoders are numba kernels so that the frame decoder can call them from
its hot loop; they are equally callable from Python.
"""

from __future__ import annotations

import math
from typing import Final

import numba as nb
import numpy as np
import numpy.typing as npt

NZ: Final = 15
"""Number of latitude zones between the equator and a pole."""
CPR_MAX: Final = 131072.0
"""2**17: CPR latitude/longitude fields are 17-bit fractions of a zone."""


def _transition_latitudes() -> npt.NDArray[np.float64]:
    """Latitudes (ascending, degrees) where NL drops from 59 -> 58, ..., 2 -> 1.

    NL(lat) >= n  iff  cos^2(lat) >= (1 - cos(pi / 2NZ)) / (1 - cos(2 pi / n)); the
    last boundary (2 -> 1) is exactly 87 degrees by definition.
    """
    a = 1.0 - math.cos(math.pi / (2 * NZ))
    lats = [math.degrees(math.acos(math.sqrt(a / (1.0 - math.cos(2.0 * math.pi / n)))))
            for n in range(59, 2, -1)]
    lats.append(87.0)
    return np.array(lats, dtype=np.float64)


NL_TRANSITIONS: Final = _transition_latitudes()


@nb.njit(cache=True, nogil=True)
def nl(lat: float) -> int:
    """Number of longitude zones (1..59) at latitude ``lat`` (degrees)."""
    return 59 - int(np.searchsorted(NL_TRANSITIONS, abs(lat), side="right"))


@nb.njit(cache=True, nogil=True)
def _mod(a: float, b: float) -> float:
    """Floored modulo (sign of the divisor), as CPR is specified."""
    return a - b * math.floor(a / b)


@nb.njit(cache=True, nogil=True)
def _pair_longitude(nl0: int, lon_even: int, lon_odd: int, latest_odd: bool,
                    span: float) -> float:
    """Longitude of the latest message of an even/odd pair whose latitudes share NL
    zone ``nl0``; ``span`` is 360 degrees airborne, 90 on the surface."""
    xz0 = lon_even / CPR_MAX
    xz1 = lon_odd / CPR_MAX
    m = math.floor(xz0 * (nl0 - 1) - xz1 * nl0 + 0.5)
    if latest_odd:
        ni = max(nl0 - 1, 1)
        return (span / ni) * (_mod(m, ni) + xz1)
    ni = max(nl0, 1)
    return (span / ni) * (_mod(m, ni) + xz0)


@nb.njit(cache=True, nogil=True)
def airborne_global(lat_even: int, lon_even: int, lat_odd: int, lon_odd: int,
                    latest_odd: bool) -> tuple[float, float]:
    """Position from an even/odd pair of airborne CPR fields (DO-260B A.1.7.7).

    The position is that of the most recent message (``latest_odd``).  Returns
    (NaN, NaN) when the pair is inconsistent: latitudes in different NL zones (the
    aircraft crossed a zone boundary between the two messages) or out of range.
    """
    yz0 = lat_even / CPR_MAX
    yz1 = lat_odd / CPR_MAX
    j = math.floor(59.0 * yz0 - 60.0 * yz1 + 0.5)
    rlat0 = 6.0 * (_mod(j, 60.0) + yz0)
    rlat1 = (360.0 / 59.0) * (_mod(j, 59.0) + yz1)
    if rlat0 >= 270.0:
        rlat0 -= 360.0
    if rlat1 >= 270.0:
        rlat1 -= 360.0
    if rlat0 < -90.0 or rlat0 > 90.0 or rlat1 < -90.0 or rlat1 > 90.0:
        return math.nan, math.nan
    nl0 = nl(rlat0)
    if nl0 != nl(rlat1):
        return math.nan, math.nan
    lat = rlat1 if latest_odd else rlat0
    lon = _pair_longitude(nl0, lon_even, lon_odd, latest_odd, 360.0)
    if lon >= 180.0:
        lon -= 360.0
    return lat, lon


@nb.njit(cache=True, nogil=True)
def surface_global(lat_even: int, lon_even: int, lat_odd: int, lon_odd: int, latest_odd: bool,
                   ref_lat: float, ref_lon: float) -> tuple[float, float]:
    """Position from an even/odd pair of surface CPR fields (DO-260B A.1.7.8).

    Surface zones span 90 degrees, so the pair leaves four candidate longitudes and
    two latitudes (north/south); the one nearest the reference is returned, which
    is right while the reference lies within 45 degrees of the target (a receiver
    thousands of kilometres away still disambiguates).  (NaN, NaN) if the pair
    straddles NL zones.
    """
    yz0 = lat_even / CPR_MAX
    yz1 = lat_odd / CPR_MAX
    j = math.floor(59.0 * yz0 - 60.0 * yz1 + 0.5)
    rlat0 = 1.5 * (_mod(j, 60.0) + yz0)
    rlat1 = (90.0 / 59.0) * (_mod(j, 59.0) + yz1)
    # Northern solutions are in [0, 90); the southern ones are 90 degrees lower.
    if abs(rlat0 - 90.0 - ref_lat) < abs(rlat0 - ref_lat):
        rlat0 -= 90.0
        rlat1 -= 90.0
    nl0 = nl(rlat0)
    if nl0 != nl(rlat1):
        return math.nan, math.nan
    lat = rlat1 if latest_odd else rlat0
    lon = _pair_longitude(nl0, lon_even, lon_odd, latest_odd, 90.0)
    # Of lon + k * 90, take the one nearest the reference (differences in [-180, 180)).
    lon += 90.0 * math.floor(_mod(ref_lon - lon + 45.0, 360.0) / 90.0)
    lon = _mod(lon + 180.0, 360.0) - 180.0
    return lat, lon


@nb.njit(cache=True, nogil=True)
def _local(lat_cpr: int, lon_cpr: int, odd: bool, ref_lat: float, ref_lon: float,
           span: float) -> tuple[float, float]:
    """Locally unambiguous decoding with zones of ``span`` degrees (360 or 90)."""
    yz = lat_cpr / CPR_MAX
    xz = lon_cpr / CPR_MAX
    dlat = span / (59.0 if odd else 60.0)
    j = math.floor(ref_lat / dlat) + math.floor(0.5 + _mod(ref_lat, dlat) / dlat - yz)
    lat = dlat * (j + yz)
    if lat < -90.0 or lat > 90.0:
        return math.nan, math.nan
    ni = nl(lat) - (1 if odd else 0)
    dlon = span / ni if ni > 0 else span
    m = math.floor(ref_lon / dlon) + math.floor(0.5 + _mod(ref_lon, dlon) / dlon - xz)
    lon = dlon * (m + xz)
    lon = _mod(lon + 180.0, 360.0) - 180.0
    return lat, lon


@nb.njit(cache=True, nogil=True)
def airborne_local(lat_cpr: int, lon_cpr: int, odd: bool, ref_lat: float,
                   ref_lon: float) -> tuple[float, float]:
    """Airborne position of one message near a reference < 180 NM away (A.1.7.5)."""
    return _local(lat_cpr, lon_cpr, odd, ref_lat, ref_lon, 360.0)


@nb.njit(cache=True, nogil=True)
def surface_local(lat_cpr: int, lon_cpr: int, odd: bool, ref_lat: float,
                  ref_lon: float) -> tuple[float, float]:
    """Surface position of one message near a reference < 45 NM away (A.1.7.6)."""
    return _local(lat_cpr, lon_cpr, odd, ref_lat, ref_lon, 90.0)


def _nl_array(lat: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    idx = np.searchsorted(NL_TRANSITIONS, np.abs(lat), side="right")
    return (59 - idx).astype(np.int64)


def _encode(lat: npt.ArrayLike, lon: npt.ArrayLike, odd: npt.ArrayLike, span: float,
            nbits: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    lat_a = np.asarray(lat, dtype=np.float64)
    lon_a = np.asarray(lon, dtype=np.float64)
    i = np.asarray(odd, dtype=np.int64)
    scale = float(1 << nbits)
    dlat = span / (60.0 - i)
    yz = np.floor(scale * np.mod(lat_a, dlat) / dlat + 0.5)
    rlat = dlat * (yz / scale + np.floor(lat_a / dlat))
    ni = np.maximum(_nl_array(rlat) - i, 1)
    dlon = span / ni
    xz = np.floor(scale * np.mod(lon_a, dlon) / dlon + 0.5)
    mask = (1 << 17) - 1
    return yz.astype(np.int64) & mask, xz.astype(np.int64) & mask


def cpr_encode_airborne(lat: npt.ArrayLike, lon: npt.ArrayLike, odd: npt.ArrayLike,
                        ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """17-bit airborne CPR fields (YZ, XZ) of positions (DO-260B A.1.7.3, Nb = 17).

    ``lat``/``lon`` in degrees and ``odd`` (0 even, 1 odd) broadcast together.
    """
    return _encode(lat, lon, odd, 360.0, 17)


def cpr_encode_surface(lat: npt.ArrayLike, lon: npt.ArrayLike, odd: npt.ArrayLike,
                       ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """17 transmitted bits of the surface CPR encoding (DO-260B A.1.7.3, Nb = 19).

    The 19-bit encoding over 360 degree zones keeps its 17 low bits: the same as a
    17-bit encoding over the 90 degree zones that :func:`surface_local` decodes.
    """
    return _encode(lat, lon, odd, 360.0, 19)
