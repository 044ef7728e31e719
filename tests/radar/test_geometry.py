"""Radar plots to WGS-84: the position found must lie at the measured slant range and
azimuth from the radar and at the given height, checked the other way round with
closed formulas (geodetic to ECEF, then range and azimuth in the radar's local frame)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skyshare.radar.geometry import ecef_to_geodetic, geodetic_to_ecef, polar_to_geodetic


def range_azimuth(radar: tuple[float, float, float], lat: float, lon: float,
                  h: float) -> tuple[float, float]:
    """Slant range (m) and azimuth (deg) of a point seen from ``radar`` (lat, lon, h)."""
    x0 = np.array(geodetic_to_ecef(*radar))
    d = np.array(geodetic_to_ecef(lat, lon, h)) - x0
    phi, lam = math.radians(radar[0]), math.radians(radar[1])
    east = np.array([-math.sin(lam), math.cos(lam), 0.0])
    north = np.array([-math.sin(phi) * math.cos(lam), -math.sin(phi) * math.sin(lam),
                      math.cos(phi)])
    return float(np.linalg.norm(d)), math.degrees(math.atan2(d @ east, d @ north)) % 360.0


radars = st.tuples(st.floats(-80.0, 80.0), st.floats(-180.0, 180.0), st.floats(0.0, 3000.0))


@settings(max_examples=300, deadline=None)
@given(radars, st.floats(0.0, 359.999), st.floats(2_000.0, 460_000.0),
       st.floats(0.0, 15_000.0))
def test_the_plot_lies_at_the_measured_range_azimuth_and_height(
        radar: tuple[float, float, float], azimuth: float, rho: float, height: float) -> None:
    if abs(height - radar[2]) > 0.9 * rho:  # overhead: the azimuth means little there
        return
    lat, lon = polar_to_geodetic(rho, azimuth, height, *radar)
    assert np.isfinite(lat) and np.isfinite(lon)
    got_rho, got_azimuth = range_azimuth(radar, float(lat), float(lon), height)
    assert got_rho == pytest.approx(rho, abs=0.01)
    assert (got_azimuth - azimuth + 180.0) % 360.0 - 180.0 == pytest.approx(0.0, abs=1e-6)


def test_far_plots_sit_below_the_straight_line_by_the_earth_s_curvature() -> None:
    # 400 km due north of a radar at sea level, at 10 km height: the ground distance is
    # a little less than the slant range, by the textbook radar formula's amount
    lat, _ = polar_to_geodetic(400_000.0, 0.0, 10_000.0, 45.0, 5.0, 0.0)
    ground = (float(lat) - 45.0) * 111_132.0
    assert 395_000.0 < ground < 400_000.0


def test_unreachable_heights_and_bad_values_give_nan() -> None:
    lat, lon = polar_to_geodetic([1_000.0, 0.0, np.nan, 5_000.0], [10.0, 10.0, 10.0, np.inf],
                                 [5_000.0, 100.0, 100.0, 100.0], 45.0, 5.0, 0.0)
    assert np.isnan(lat).all() and np.isnan(lon).all()


@settings(max_examples=200, deadline=None)
@given(st.floats(-89.9, 89.9), st.floats(-180.0, 180.0), st.floats(-500.0, 20_000.0))
def test_geodetic_and_ecef_round_trip(lat: float, lon: float, h: float) -> None:
    back = ecef_to_geodetic(*geodetic_to_ecef(lat, lon, h))
    assert back[0] == pytest.approx(lat, abs=1e-9)
    assert (back[1] - lon + 180.0) % 360.0 - 180.0 == pytest.approx(0.0, abs=1e-9)
    assert back[2] == pytest.approx(h, abs=1e-4)
