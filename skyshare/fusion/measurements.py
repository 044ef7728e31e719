"""Measurements read from one report: validated values and their noise.

Every reader returns ``(ok, values...)``: a field that is missing (NaN), out of its
physical range or garbage gives ``ok = False`` and is not used, so a bad field never
reaches a filter.  Noise comes from the accuracy categories of DO-260B when the report
has them (NACp -> estimated position uncertainty, NACv -> velocity error), otherwise
from the tracker's defaults.
"""

from __future__ import annotations

import math
from typing import Final, Protocol

import numba as nb
import numpy as np

from skyshare.model import ReportFlag, SourceKind

KNOT: Final = 1852.0 / 3600.0  # m/s
FT: Final = 0.3048  # m
# 95 % radius of a circular 2-D Gaussian, in per-axis sigmas: sqrt(-2 ln 0.05)
R95_SIGMAS: Final = 2.4477

# DO-260B Table 2-70: NACp -> EPU (95 % horizontal), m.  0 = unknown.
NACP_EPU_M: Final = np.array([np.nan, 18520.0, 7408.0, 3704.0, 1852.0, 926.0, 555.6, 185.2,
                              92.6, 30.0, 10.0, 3.0])
# DO-260B Table 2-73: NACv -> horizontal velocity error (95 %), m/s.  0 = unknown/>= 10.
NACV_95_MPS: Final = np.array([np.nan, 10.0, 3.0, 1.0, 0.3])
MIN_POSITION_SIGMA_M: Final = 3.0  # CPR quantisation and decoding rounding
MIN_VELOCITY_SIGMA_MPS: Final = 0.3  # 1 kt quantisation of each component
# default position sigma by source kind, as multiples of the configured default
_SOURCE_SIGMA_SCALE: Final = np.array([1.0, 1.0, 1.0, 4.0, 4.0, 2.0, 1.0, 1.0])

ALT_SIGMA_FT: Final = 25.0  # 25 ft altitude quantisation plus baro noise
VRATE_SIGMA_FPS: Final = 100.0 / 60.0  # 64 ft/min quantisation plus noise
MIN_ALT_FT: Final = -2000.0
MAX_ALT_FT: Final = 100000.0
MAX_VRATE_FPM: Final = 20000.0



class ReportRow(Protocol):
    """One :data:`~skyshare.model.REPORT_DTYPE` row as a numba kernel reads it."""

    time: float
    sensor: int
    source: int
    flags: int
    icao24: int
    typecode: int
    category: int
    squawk: int
    lat: float
    lon: float
    alt_baro: float
    alt_geo: float
    groundspeed: float
    track: float
    vertical_rate: float
    emergency: int
    nic: int
    nacp: int
    nacv: int
    sil: int
    rssi: float
    pos_sigma: float
    frame_hash: int


SURFACE: Final = int(ReportFlag.ON_GROUND | ReportFlag.POSITION_SURFACE)
_SOURCES: Final = len(SourceKind)


@nb.njit(cache=True, nogil=True)
def position_of(lat: float, lon: float) -> tuple[bool, float, float]:
    """(ok, lat, lon): a WGS84 position in range (longitude folded to [-180, 180))."""
    if not (abs(lat) <= 90.0 and abs(lon) <= 360.0):  # also False for NaN
        return False, 0.0, 0.0
    return True, lat, (lon + 180.0) % 360.0 - 180.0


@nb.njit(cache=True, nogil=True)
def position_variance(nacp: int, source: int, default_sigma_m: float,
                      pos_sigma: float) -> float:
    """Per-axis variance (m^2) of a reported position: the sensor's own sigma (radar
    plots), else from NACp, else the default scaled for the source kind."""
    sigma = default_sigma_m
    if pos_sigma > 0.0:  # False for NaN
        sigma = pos_sigma
    elif 1 <= nacp <= 11:
        sigma = float(NACP_EPU_M[nacp]) / R95_SIGMAS
    elif source < len(_SOURCE_SIGMA_SCALE):
        sigma *= float(_SOURCE_SIGMA_SCALE[source])
    sigma = max(sigma, MIN_POSITION_SIGMA_M)
    return sigma * sigma


@nb.njit(cache=True, nogil=True)
def velocity_of(groundspeed_kt: float, track_deg: float,
                max_speed_mps: float) -> tuple[bool, float, float]:
    """(ok, east, north) in m/s from ground speed and track angle."""
    speed = groundspeed_kt * KNOT
    if not (0.0 <= speed <= max_speed_mps):
        return False, 0.0, 0.0
    if speed == 0.0:
        return True, 0.0, 0.0  # stationary: the track angle may be absent
    if not math.isfinite(track_deg):
        return False, 0.0, 0.0
    a = math.radians(track_deg)
    return True, speed * math.sin(a), speed * math.cos(a)


@nb.njit(cache=True, nogil=True)
def velocity_variance(nacv: int, default_sigma_mps: float) -> float:
    """Per-axis variance (m^2/s^2) of a reported velocity."""
    sigma = float(NACV_95_MPS[nacv]) / R95_SIGMAS if 1 <= nacv <= 4 else default_sigma_mps
    sigma = max(sigma, MIN_VELOCITY_SIGMA_MPS)
    return sigma * sigma


@nb.njit(cache=True, nogil=True)
def altitude_of(alt_ft: float) -> tuple[bool, float]:
    """(ok, ft) for a barometric altitude in the range Mode S can encode."""
    return bool(MIN_ALT_FT <= alt_ft <= MAX_ALT_FT), float(alt_ft)


@nb.njit(cache=True, nogil=True)
def vertical_rate_of(rate_fpm: float) -> tuple[bool, float]:
    """(ok, ft/s) for a vertical rate."""
    return bool(abs(rate_fpm) <= MAX_VRATE_FPM), float(rate_fpm) / 60.0


@nb.njit(cache=True, nogil=True)
def source_bit(source: int) -> int:
    """Bit of ``TRACK_DTYPE['sources']`` for a SourceKind (unknown kinds: bit 0)."""
    return 1 << source if source < _SOURCES else 1


@nb.njit(cache=True, nogil=True)
def sensor_bit(sensor: int) -> np.uint64:
    """Bit of ``TRACK_DTYPE['sensors']``: sensor indices >= 63 share bit 63."""
    return np.uint64(1) << np.uint64(min(sensor, 63))
