"""Where a radar plot is, for a tracker: its height, position and noise (numba).

A radar reports slant range and azimuth; where that puts the aircraft depends on its
height (:mod:`skyshare.radar.geometry`).  A plot therefore stays polar until a tracker
uses it: :func:`plot_position` places it at the plot's own Mode C height when it has
one, else at the height of the track it is compared with, else at an assumed height
(``nominal_height_m``, for a primary-only plot that starts a track).  Its noise is the
radar's: ``sigma_range_m`` along the line of sight and ``range * sigma_azimuth`` across
it, as a full 2x2 east/north covariance (:func:`plot_noise`), plus, for a plot placed
at an assumed height, what a wrong height does along the line of sight.
"""

from __future__ import annotations

import math

import numba as nb

from skyshare.radar.geometry import polar_point
from skyshare.radar.plots import FT, PlotRow

__all__ = ["FT", "plot_height", "plot_noise", "plot_position"]


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
def plot_noise(r: PlotRow, height_spread_m2: float = 0.0) -> tuple[float, float, float]:
    """(var_ee, cov_en, var_nn), m^2: the plot's noise in east/north at the plot.

    ``height_spread_m2`` > 0: the plot was placed at an assumed height; a height wrong
    by ``sigma_h`` moves it along the line of sight by about ``(h + sigma_h) sigma_h /
    range`` (the argument), which is added to the range noise."""
    a = math.radians(r.azimuth_deg)
    ue, un = math.sin(a), math.cos(a)  # along the line of sight
    along = float(r.sigma_range_m) ** 2 + (height_spread_m2 / r.range_m) ** 2
    across = (r.range_m * math.radians(float(r.sigma_azimuth_deg))) ** 2
    return (along * ue * ue + across * un * un, (along - across) * ue * un,
            along * un * un + across * ue * ue)
