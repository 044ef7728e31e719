"""Radar plots as the node takes them: decoded CAT048 plots with their radar.

A :class:`RadarSite` says where a radar is and how well it measures (the ``radar:``
settings of an ASTERIX sensor).  :func:`radar_plots` turns decoded CAT048 plots
(:data:`~skyshare.decode.asterix.cat048.PLOT_DTYPE`) into
:data:`~skyshare.model.RADAR_PLOT_DTYPE` rows that carry their radar's position and
noise, so the tracking kernels need no sensor table.  A plot stays polar (slant range,
azimuth): where it is depends on a height the tracker chooses
(:mod:`skyshare.fusion.plots`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Protocol

import numpy as np
import numpy.typing as npt

from skyshare.config_fields import require_positive
from skyshare.decode.asterix.cat048 import PlotFlag
from skyshare.decode.asterix.records import unix_time_of_day
from skyshare.errors import ConfigError
from skyshare.model import NO_ADDRESS, NO_SQUAWK, RADAR_PLOT_DTYPE, ReportFlag, SourceKind

FT: Final = 0.3048

# I048/020 TYP -> whether the plot holds a transponder's reply (SSR or Mode S)
_TYP_SSR: Final = np.array([False, False, True, True, True, True, True, True])


@dataclass(frozen=True)
class RadarSite:
    """Where a radar is and how well it measures (YAML ``radar:`` of a sensor)."""

    lat: float = 0.0  # set from the sensor's position:
    lon: float = 0.0
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
        require_positive(self, "radar", ("sigma_range_m", "sigma_azimuth_deg", "rotation_s"))


def radar_plots(plots: npt.NDArray[np.void], sensor: int, site: RadarSite,
                around: float | npt.NDArray[np.float64]) -> npt.NDArray[np.void]:
    """:data:`RADAR_PLOT_DTYPE` rows of decoded CAT048 ``plots`` (PLOT_DTYPE) from the
    radar at ``site``; ``around`` (UNIX s, when they arrived) dates their time of day.

    Plots without a usable range and azimuth, field-monitor and test plots are left
    out; an invalid or garbled Mode 3/A or flight level is left unknown; a simulated
    plot (I048/020 SIM) is marked EXERCISE.
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
    out["flags"] = (np.where(flags & PlotFlag.SPI, ReportFlag.SPI, 0)
                    | np.where(flags & PlotFlag.SIMULATED, ReportFlag.EXERCISE, 0))
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


def plot_noise_columns(plots: npt.NDArray[np.void], height_spread_m2: float = 0.0
                       ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64],
                                  npt.NDArray[np.float64]]:
    """:func:`skyshare.fusion.plots.plot_noise` of every row (var_ee, cov_en, var_nn),
    ``height_spread_m2`` applied to the rows without a height of their own."""
    a = np.radians(plots["azimuth_deg"])
    ue, un = np.sin(a), np.cos(a)
    spread = np.where(np.isfinite(plots["alt"]), 0.0, height_spread_m2 / plots["range_m"])
    along = plots["sigma_range_m"].astype(np.float64) ** 2 + spread**2
    across = (plots["range_m"] * np.radians(plots["sigma_azimuth_deg"].astype(np.float64))) ** 2
    return (along * ue * ue + across * un * un, (along - across) * ue * un,
            along * un * un + across * ue * ue)
