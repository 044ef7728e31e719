"""Radar plots as the trackers take them: polar measurements with their radar and noise.

A radar reports slant range and azimuth; where that puts the aircraft depends on its
height (:mod:`skyshare.radar.geometry`).  A plot therefore stays polar until a tracker
uses it: :func:`plot_position` places it at the plot's own Mode C height when it has
one, else at the height of the track it is compared with, else at an assumed height
(``nominal_height_m``, for a primary-only plot that starts a track).  Its noise is the
radar's: ``sigma_range_m`` along the line of sight and ``range * sigma_azimuth`` across
it, as a full 2x2 east/north covariance (:func:`plot_noise`).

:data:`RADAR_PLOT_DTYPE` rows carry their radar's position and noise, so the kernels
need no sensor table; :func:`radar_plots` builds them from decoded CAT048 plots.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final, Protocol

import numba as nb
import numpy as np
import numpy.typing as npt

from skyshare.decode.asterix.cat048 import PlotFlag
from skyshare.decode.asterix.records import unix_time_of_day
from skyshare.errors import ConfigError
from skyshare.model import NO_ADDRESS, NO_SQUAWK, ReportFlag, SourceKind
from skyshare.radar.geometry import polar_point

FT: Final = 0.3048
RADAR_PLOT_DTYPE: Final = np.dtype([
    ("time", "<f8"),  # UNIX s of the detection
    ("sensor", "<u2"),
    ("source", "u1"),  # SourceKind: RADAR_PSR (primary only), RADAR_SSR (Mode A/C, S)
    ("flags", "<u2"),  # ReportFlag (EXERCISE, SPI)
    ("icao24", "<u4"),  # Mode S address; NO_ADDRESS
    ("squawk", "<i2"),  # NO_SQUAWK
    ("callsign", "S8"),
    ("alt", "<f4"),  # ft, Mode C / S flight level x 100; NaN
    ("range_m", "<f8"),  # slant range
    ("azimuth_deg", "<f8"),
    ("radar_lat", "<f8"), ("radar_lon", "<f8"),
    ("radar_h", "<f8"),  # m above the WGS-84 ellipsoid
    ("sigma_range_m", "<f4"),
    ("sigma_azimuth_deg", "<f4"),
    ("scan_s", "<f4"),  # antenna rotation period
])

# I048/020 TYP -> what the plot holds
_TYP_PSR: Final = np.array([False, True, False, True, False, False, True, True])
_TYP_SSR: Final = np.array([False, False, True, True, True, True, True, True])


@dataclass(frozen=True)
class RadarSite:
    """Where a radar is and how well it measures (YAML ``radar:`` of a sensor)."""

    lat: float
    lon: float
    alt_m: float = 0.0
    """Antenna height above the WGS-84 ellipsoid."""
    sigma_range_m: float = 40.0
    sigma_azimuth_deg: float = 0.07
    rotation_s: float = 4.0
    """Antenna rotation period (scan time); CAT034 north markers tell it too."""

    def __post_init__(self) -> None:
        if not (-90.0 <= self.lat <= 90.0 and -180.0 <= self.lon <= 180.0):
            raise ConfigError(f"radar position ({self.lat}, {self.lon}) is not a WGS-84 "
                              "latitude and longitude", where="radar")
        for name in ("sigma_range_m", "sigma_azimuth_deg", "rotation_s"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ConfigError(f"must be a positive number, not {value!r}",
                                  where=f"radar.{name}")


def radar_plots(plots: npt.NDArray[np.void], sensor: int, site: RadarSite,
                around: float | npt.NDArray[np.float64]) -> npt.NDArray[np.void]:
    """:data:`RADAR_PLOT_DTYPE` rows of decoded CAT048 ``plots`` (PLOT_DTYPE) from the
    radar at ``site``; ``around`` (UNIX s, when they arrived) dates their time of day.

    Plots without a usable range and azimuth, field-monitor and test plots are left
    out; an invalid or garbled Mode 3/A or flight level is left unknown.
    """
    typ = plots["typ"].astype(np.int64)
    flags = plots["flags"].astype(np.int64)
    bad = PlotFlag.FIXED_TRANSPONDER | PlotFlag.TEST
    keep = ((typ >= 1) & (typ <= 7) & np.isfinite(plots["range_m"])
            & np.isfinite(plots["azimuth_deg"]) & (plots["range_m"] > 0) & (flags & bad == 0))
    p = plots[keep]
    typ, flags = typ[keep], flags[keep]
    out = np.zeros(len(p), RADAR_PLOT_DTYPE)
    tod = p["tod"]
    out["time"] = np.where(np.isfinite(tod), unix_time_of_day(tod, around), around)
    out["sensor"] = sensor
    ssr = _TYP_SSR[typ]
    out["source"] = np.where(ssr, SourceKind.RADAR_SSR, SourceKind.RADAR_PSR)
    out["flags"] = np.where(flags & PlotFlag.SPI, ReportFlag.SPI, 0)
    out["icao24"] = np.where(ssr, p["icao24"], NO_ADDRESS)
    squawk_bad = PlotFlag.MODE3A_INVALID | PlotFlag.MODE3A_GARBLED
    out["squawk"] = np.where(ssr & (flags & squawk_bad == 0), p["squawk"], NO_SQUAWK)
    out["callsign"] = p["callsign"]
    fl_bad = PlotFlag.FL_INVALID | PlotFlag.FL_GARBLED
    out["alt"] = np.where(ssr & (flags & fl_bad == 0), p["fl"] * 100.0, np.nan)
    out["range_m"] = p["range_m"]
    out["azimuth_deg"] = p["azimuth_deg"]
    out["radar_lat"], out["radar_lon"], out["radar_h"] = site.lat, site.lon, site.alt_m
    out["sigma_range_m"] = site.sigma_range_m
    out["sigma_azimuth_deg"] = site.sigma_azimuth_deg
    out["scan_s"] = site.rotation_s
    return out


class PlotRow(Protocol):
    """One :data:`RADAR_PLOT_DTYPE` row as a kernel reads it."""

    time: float
    sensor: int
    source: int
    flags: int
    icao24: int
    squawk: int
    alt: float
    range_m: float
    azimuth_deg: float
    radar_lat: float
    radar_lon: float
    radar_h: float
    sigma_range_m: float
    sigma_azimuth_deg: float
    scan_s: float


@nb.njit(cache=True, nogil=True)
def plot_height(r: PlotRow, track_alt_ft: float, nominal_height_m: float) -> float:
    """The height (m) to place a plot at: its own, else its track's, else nominal."""
    if math.isfinite(r.alt):
        return float(r.alt) * FT
    if math.isfinite(track_alt_ft):
        return track_alt_ft * FT
    return nominal_height_m


@nb.njit(cache=True, nogil=True)
def plot_position(r: PlotRow, height_m: float) -> tuple[float, float]:
    """(lat, lon) of a plot at ``height_m``; NaN when the range cannot reach it (then
    at the radar's own height, the nearest the range allows)."""
    lat, lon = polar_point(r.range_m, r.azimuth_deg, height_m, r.radar_lat, r.radar_lon,
                           r.radar_h)
    if math.isnan(lat):
        lat, lon = polar_point(r.range_m, r.azimuth_deg, r.radar_h, r.radar_lat,
                               r.radar_lon, r.radar_h)
    return lat, lon


@nb.njit(cache=True, nogil=True)
def plot_noise(r: PlotRow) -> tuple[float, float, float]:
    """(var_ee, cov_en, var_nn), m^2: the plot's noise in east/north at the plot."""
    a = math.radians(r.azimuth_deg)
    ue, un = math.sin(a), math.cos(a)  # along the line of sight
    along = float(r.sigma_range_m) ** 2
    across = (r.range_m * math.radians(float(r.sigma_azimuth_deg))) ** 2
    return (along * ue * ue + across * un * un, (along - across) * ue * un,
            along * un * un + across * ue * ue)


def plot_noise_columns(plots: npt.NDArray[np.void]
                       ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64],
                                  npt.NDArray[np.float64]]:
    """:func:`plot_noise` of every row (var_ee, cov_en, var_nn)."""
    a = np.radians(plots["azimuth_deg"])
    ue, un = np.sin(a), np.cos(a)
    along = plots["sigma_range_m"].astype(np.float64) ** 2
    across = (plots["range_m"] * np.radians(plots["sigma_azimuth_deg"].astype(np.float64))) ** 2
    return (along * ue * ue + across * un * un, (along - across) * ue * un,
            along * un * un + across * ue * ue)
