"""Radar plots of given aircraft positions, for the radar tracker's tests."""

from __future__ import annotations

import math

import numpy as np

from skyshare.model import NO_ADDRESS, NO_SQUAWK, SourceKind, empty_plots
from skyshare.radar.geometry import geodetic_to_ecef

RADAR = (50.0, 8.0, 100.0)  # lat, lon, antenna height (m)
FT = 0.3048


def slant(lat: float, lon: float, height_m: float,
          radar: tuple[float, float, float] = RADAR) -> tuple[float, float]:
    """(slant range m, azimuth deg) of a point seen from the radar (ECEF geometry)."""
    x0, y0, z0 = geodetic_to_ecef(*radar)
    x, y, z = geodetic_to_ecef(lat, lon, height_m)
    d = np.array([x - x0, y - y0, z - z0])
    p, lam = math.radians(radar[0]), math.radians(radar[1])
    east = np.array([-math.sin(lam), math.cos(lam), 0.0])
    north = np.array([-math.sin(p) * math.cos(lam), -math.sin(p) * math.sin(lam), math.cos(p)])
    return float(np.linalg.norm(d)), math.degrees(math.atan2(d @ east, d @ north)) % 360.0


def plots(times: np.ndarray, lat: np.ndarray, lon: np.ndarray, alt_ft: np.ndarray, *,
          rng: np.random.Generator | None = None, sensor: int = 0,
          radar: tuple[float, float, float] = RADAR, sigma_range: float = 40.0,
          sigma_azimuth: float = 0.07, scan_s: float = 4.0, mode_c: bool = False,
          icao24: int = int(NO_ADDRESS), squawk: int = int(NO_SQUAWK),
          flags: int = 0) -> np.ndarray:
    """Plots of one aircraft at each (time, lat, lon, alt); Mode C altitude and
    squawk only when ``mode_c``; noise drawn from ``rng`` (None: exact)."""
    n = len(times)
    out = empty_plots(n)
    for i in range(n):
        rho, az = slant(float(lat[i]), float(lon[i]), float(alt_ft[i]) * FT, radar)
        if rng is not None:
            rho += rng.normal(0.0, sigma_range)
            az += rng.normal(0.0, sigma_azimuth)
        out["range_m"][i], out["azimuth_deg"][i] = rho, az % 360.0
    out["time"] = times
    out["sensor"] = sensor
    ssr = mode_c or icao24 != NO_ADDRESS
    out["source"] = SourceKind.RADAR_SSR if ssr else SourceKind.RADAR_PSR
    out["flags"] = flags
    out["icao24"] = icao24
    out["squawk"] = squawk if mode_c else NO_SQUAWK
    out["alt"] = alt_ft if mode_c else np.nan
    out["radar_lat"], out["radar_lon"], out["radar_h"] = radar
    out["sigma_range_m"] = sigma_range
    out["sigma_azimuth_deg"] = sigma_azimuth
    out["scan_s"] = scan_s
    return out


def straight(t: np.ndarray, lat0: float, lon0: float, ve: float, vn: float
             ) -> tuple[np.ndarray, np.ndarray]:
    """Positions of a constant-velocity flight (m/s east, north) at times ``t``."""
    dt = t - t[0]
    lat = lat0 + vn * dt / 111_200.0
    lon = lon0 + ve * dt / (111_320.0 * math.cos(math.radians(lat0)))
    return lat, lon
