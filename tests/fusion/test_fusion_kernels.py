"""The stage kernels against references: a full 4x4 Kalman filter, a dict, geodesy."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skyshare.fusion import state as s
from skyshare.fusion.dedup import DedupTable, frame_key, is_copy, remember
from skyshare.fusion.geo import convergence, project, rotate, scales, unproject
from skyshare.fusion.kalman import (
    cv_init,
    cv_predict,
    cv_update_position,
    cv_update_velocity,
)
from skyshare.fusion.keymap import EMPTY_KEY, find, insert, remove, track_key
from skyshare.fusion.measurements import position_variance, velocity_variance
from skyshare.model import ReportFlag, SourceKind

F64 = npt.NDArray[np.float64]


# --------------------------------------------------------------------------- kalman
def _reference_predict(x: F64, p: F64, dt: float, q: float) -> tuple[F64, F64]:
    f = np.eye(4)
    f[0, 2] = f[1, 3] = dt
    qa = q * np.array([[dt**3 / 3, dt**2 / 2], [dt**2 / 2, dt]])
    qm = np.zeros((4, 4))
    qm[np.ix_([0, 2], [0, 2])] = qa
    qm[np.ix_([1, 3], [1, 3])] = qa
    return f @ x, f @ p @ f.T + qm


def _reference_update(x: F64, p: F64, z: F64, h: F64, r: float) -> tuple[F64, F64]:
    s_ = h @ p @ h.T + r * np.eye(2)
    k = p @ h.T @ np.linalg.inv(s_)
    return x + k @ (z - h @ x), (np.eye(4) - k @ h) @ p


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["pos", "vel"]), st.floats(0.0, 20.0),
                          st.floats(-500.0, 500.0), st.floats(-500.0, 500.0),
                          st.floats(1.0, 1e4)), min_size=1, max_size=30))
def test_shared_covariance_filter_equals_full_4x4_filter(
        steps: list[tuple[str, float, float, float, float]]) -> None:
    q = 9.0
    k = np.array(s.empty_kin(1)[0])
    cv_init(k, 48.0, 11.0, 0.0, 400.0, q, math.nan)
    x = np.zeros(4)
    p = np.diag([400.0, 400.0, k[s.PVV], k[s.PVV]])
    t = 0.0
    h_pos, h_vel = np.eye(4)[:2], np.eye(4)[2:]
    for kind, dt, z1, z2, r in steps:
        t += dt
        cv_predict(k, t, q)
        if dt > 0:
            x, p = _reference_predict(x, p, dt, q)
        z = np.array([z1, z2]) if kind == "pos" else np.array([z1, z2]) / 10.0
        if kind == "pos":
            cv_update_position(k, z[0], z[1], r)
            x, p = _reference_update(x, p, z, h_pos, r)
        else:
            cv_update_velocity(k, z[0], z[1], r)
            x, p = _reference_update(x, p, z, h_vel, r)
    mine = np.array([k[s.XE], k[s.XN], k[s.VE], k[s.VN]])
    np.testing.assert_allclose(mine, x, rtol=1e-7, atol=1e-6)
    np.testing.assert_allclose([p[0, 0], p[1, 1]], k[s.PPP], rtol=1e-7)
    np.testing.assert_allclose([p[0, 2], p[1, 3]], k[s.PPV], rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose([p[2, 2], p[3, 3]], k[s.PVV], rtol=1e-7)
    assert abs(p[0, 1]) + abs(p[0, 3]) + abs(p[1, 2]) < 1e-9  # axes stay uncorrelated


def test_accuracy_categories_map_to_do260b_bounds() -> None:
    def sigma_p(nacp: int, source: int) -> float:
        return math.sqrt(position_variance(nacp, source, 50.0, math.nan))

    assert sigma_p(9, SourceKind.ADSB) == pytest.approx(30.0 / 2.4477)  # EPU < 30 m
    assert sigma_p(7, SourceKind.ADSB) == pytest.approx(185.2 / 2.4477)  # < 0.1 NM
    assert sigma_p(11, SourceKind.ADSB) == pytest.approx(3.0)  # floor
    assert sigma_p(0, SourceKind.ADSB) == pytest.approx(50.0)  # unknown: the default
    assert sigma_p(0xFF, SourceKind.MLAT) == pytest.approx(100.0)
    assert sigma_p(0xFF, 200) == pytest.approx(50.0)
    assert math.sqrt(velocity_variance(2, 2.0)) == pytest.approx(3.0 / 2.4477)
    assert math.sqrt(velocity_variance(0xFF, 2.0)) == pytest.approx(2.0)


# --------------------------------------------------------------------------- geo
def test_scales_match_the_wgs84_ellipsoid() -> None:
    m_lat, m_lon = scales(0.0)
    assert abs(m_lat - 110574.0) < 2.0 and abs(m_lon - 111320.0) < 2.0
    m_lat, m_lon = scales(45.0)
    assert abs(m_lat - 111132.0) < 2.0 and abs(m_lon - 78847.0) < 2.0
    assert scales(90.0)[1] >= 1.0


@settings(max_examples=100, deadline=None)
@given(st.floats(-89.0, 89.0), st.floats(-180.0, 179.999), st.floats(-0.2, 0.2),
       st.floats(-0.2, 0.2))
def test_project_unproject_round_trip(lat0: float, lon0: float, dlat: float,
                                      dlon: float) -> None:
    m_lat, m_lon = scales(lat0)
    lat = min(max(lat0 + dlat, -90.0), 90.0)
    lon = (lon0 + dlon + 180.0) % 360.0 - 180.0
    e, n = project(lat, lon, lat0, lon0, m_lat, m_lon)
    lat2, lon2 = unproject(e, n, lat0, lon0, m_lat, m_lon)
    assert abs(lat2 - lat) < 1e-9
    assert abs(((lon2 - lon + 180.0) % 360.0) - 180.0) < 1e-9


def test_convergence_follows_a_great_circle() -> None:
    # flying due east from 60N, 0E to 60N-ish 2E, a great circle's track angle grows
    gamma = convergence(60.0, 0.0, 60.0, 2.0)
    assert math.degrees(gamma) == math.degrees(math.radians(2.0) * math.sin(math.radians(60)))
    ve, vn = rotate(100.0, 0.0, gamma)
    assert vn < 0 < ve and abs(math.hypot(ve, vn) - 100.0) < 1e-9


# --------------------------------------------------------------------------- keymap
@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 40)), max_size=200))
def test_keymap_behaves_like_a_dict(ops: list[tuple[bool, int]]) -> None:
    key_map = np.full((64, 2), EMPTY_KEY, np.uint64)
    ref: dict[int, int] = {}
    for add, k in ops:
        key = np.uint64(k * 64)  # crowd a few home buckets: long probe runs, wrap-around
        if add and k not in ref and len(ref) < 32:
            insert(key_map, key, k)
            ref[k] = k
        elif not add:
            remove(key_map, key)
            ref.pop(k, None)
        for probe in range(41):
            assert find(key_map, np.uint64(probe * 64)) == ref.get(probe, -1)


def test_track_key_separates_exercise_and_non_icao() -> None:
    base = track_key(np.uint32(0xABCDEF), np.uint16(0))
    ex = track_key(np.uint32(0xABCDEF), np.uint16(ReportFlag.EXERCISE | ReportFlag.ON_GROUND))
    anon = track_key(np.uint32(0xABCDEF), np.uint16(ReportFlag.NON_ICAO))
    assert len({int(base), int(ex), int(anon)}) == 3
    assert base == track_key(np.uint32(0xABCDEF), np.uint16(ReportFlag.ON_GROUND))


# --------------------------------------------------------------------------- dedup
def test_dedup_window_sensor_and_exercise_rules() -> None:
    table = DedupTable()
    d = table.arrays
    key = np.uint64(frame_key(np.uint64(42), np.uint16(0)))
    assert not is_copy(d, key, 0, 100.0, 1.0)
    remember(d, key, 0, 100.0, 1.0)
    assert is_copy(d, key, 1, 100.5, 1.0)  # another receiver, in the window
    assert not is_copy(d, key, 0, 100.5, 1.0)  # same receiver: a new transmission
    assert not is_copy(d, key, 1, 101.5, 1.0)  # after the window
    assert is_copy(d, key, 1, 99.5, 1.0)  # late copy from a slower feed
    ex = np.uint64(frame_key(np.uint64(42), np.uint16(ReportFlag.EXERCISE)))
    assert ex != key and not is_copy(d, ex, 1, 100.0, 1.0)
    assert frame_key(np.uint64(0), np.uint16(0)) == 0 and not is_copy(d, np.uint64(0), 1,
                                                                         100.0, 1.0)


def test_dedup_generations_rotate_and_grow() -> None:
    table = DedupTable()
    for second in range(5):
        table.reserve(20000)
        d = table.arrays
        for h in range(1, 20001):
            t = 1000.0 + second * 2.0 + h * 1e-5
            key = np.uint64(second * 1_000_000 + h)
            assert not is_copy(d, key, 0, t, 1.0)
            remember(d, key, 0, t, 1.0)
        assert is_copy(d, np.uint64(second * 1_000_000 + 7), 3, 1000.0 + second * 2.0, 1.0)
        if second:  # the previous second's entries are beyond the window now
            assert not is_copy(d, np.uint64((second - 1) * 1_000_000 + 7), 3,
                               1000.0 + second * 2.0 + 0.2, 1.0)
    counts = table.arrays.counts
    assert max(counts[1], counts[2]) <= table.arrays.entries.shape[1] // 2
