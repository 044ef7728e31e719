"""The association grid finds what comparing every pair finds: anywhere on the globe."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skyshare.fusion.geo import scales
from skyshare.fusion.partner_assoc import (
    GateParams,
    Points,
    empty_points,
    gate_distance,
    nearest_in_gate,
)
from skyshare.fusion.proximity import fill_grid, new_grid


def cloud(rng: np.random.Generator, n: int, lat0: float, lon0: float, spread_deg: float
          ) -> Points:
    p = empty_points(n)
    p.key[:] = 0
    p.ex[:] = rng.random(n) < 0.2
    p.lat[:] = np.clip(lat0 + rng.uniform(-spread_deg, spread_deg, n), -90.0, 90.0)
    lon_spread = min(spread_deg / max(math.cos(math.radians(lat0)), 1e-3), 180.0)
    p.lon[:] = (lon0 + rng.uniform(-lon_spread, lon_spread, n) + 180.0) % 360.0 - 180.0
    p.alt[:] = np.where(rng.random(n) < 0.2, np.nan, rng.uniform(0.0, 3000.0, n))
    p.slack[:] = rng.uniform(0.0, 1500.0, n)
    return p


@settings(max_examples=120, deadline=None)
@given(st.floats(-90.0, 90.0), st.sampled_from([-180.0, -179.99, 0.0, 179.99, 37.5]),
       st.floats(0.01, 0.3), st.floats(300.0, 5000.0), st.integers(0, 2**32 - 1))
def test_grid_search_equals_brute_force(lat0: float, lon0: float, spread: float,
                                        gate_m: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    q, t = cloud(rng, 40, lat0, lon0, spread), cloud(rng, 60, lat0, lon0, spread)
    p = GateParams(gate_m, 1000.0, 250.0, 10_000.0, 30.0)
    grid = new_grid(len(t.lat), gate_m + max(q.slack.max(), t.slack.max()))
    fill_grid(grid, t.lat, t.lon, np.arange(len(t.lat)))
    best, dist = nearest_in_gate(q, np.arange(len(q.lat)), t, grid, p)
    for i in range(len(q.lat)):
        m_lat, m_lon = scales(q.lat[i])
        brute = min(gate_distance(q, i, t, j, m_lat, m_lon, p) for j in range(len(t.lat)))
        assert dist[i] == brute
        assert (best[i] >= 0) == math.isfinite(brute)


def test_a_radius_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        new_grid(10, 0.0)


_LATITUDES = st.one_of(st.floats(-89.99, 89.99), st.floats(80.0, 89.99), st.floats(-89.99, -80.0))


@settings(max_examples=200, deadline=None)
@given(_LATITUDES, st.floats(-180.0, 179.99), st.floats(300.0, 5000.0),
       st.integers(0, 2**32 - 1))
def test_targets_just_inside_the_gate_are_found(lat0: float, lon0: float, gate_m: float,
                                                 seed: int) -> None:
    """Each query has one target at 97-100 % of the gate in a random direction: the
    search must find it whichever cell, band or side of the 180th meridian it lands in."""
    rng = np.random.default_rng(seed)
    n = 50
    q = cloud(rng, n, lat0, lon0, 0.05)
    q.alt[:], q.slack[:] = np.nan, 0.0
    t = empty_points(n)
    t.key[:], t.ex[:], t.alt[:], t.slack[:] = 0, q.ex, np.nan, 0.0
    angle = rng.uniform(0.0, 2.0 * math.pi, n)
    reach = gate_m * rng.uniform(0.97, 0.9999, n)
    for i in range(n):
        m_lat, m_lon = scales(q.lat[i])
        t.lat[i] = q.lat[i] + reach[i] * math.cos(angle[i]) / m_lat
        t.lon[i] = q.lon[i] + reach[i] * math.sin(angle[i]) / m_lon
    inside = np.abs(t.lat) <= 90.0  # a step over the pole is no target
    t.lon[:] = (t.lon + 180.0) % 360.0 - 180.0
    p = GateParams(gate_m, 1000.0, 250.0, 10_000.0, 30.0)
    grid = new_grid(n, gate_m)
    fill_grid(grid, t.lat, t.lon, np.flatnonzero(inside))
    _, dist = nearest_in_gate(q, np.arange(n), t, grid, p)
    assert np.all(dist[inside] <= reach[inside] * (1 + 1e-9))
