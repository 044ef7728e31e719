"""The vectorised volume checks (inside, entering) against slow per-point oracles."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pytest
import shapely
from airspace_helpers import F64, NM, OPENAIR, T0, R, offset, oracle_active, schedules, volume
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, Polygon, box

from skyshare.airspace import LimitRef, Schedule, Volume, VolumeSet, load_openair, parse_limit


# --------------------------------------------------------------------------- inside
def test_inside_on_fixture_with_altitude_references(openair: dict[str, Volume]) -> None:
    vols = list(openair.values())
    vs = VolumeSet(vols)
    r1 = vols.index(openair["R-TEST POLYGON"])
    lat = np.full(6, 43.3)
    lon = np.full(6, 1.2)
    alt = np.array([9000, 9600, np.nan, np.nan, 1000, 9000], np.float32)
    geo = np.array([9800, 9000, 9000, np.nan, 1400, 1000], np.float32)
    ti, vi = vs.inside(lat, lon, alt, geo, T0)
    # FL95 against baro, 1500 ft AMSL against geo (falling back to the other when unknown)
    assert ti.tolist() == [0, 2, 3] and vi.tolist() == [r1] * 3
    strict = VolumeSet(vols, unknown_alt_inside=False)
    assert strict.inside(lat, lon, alt, geo, T0)[0].tolist() == [0, 2]
    # without altitude only a surface-to-unlimited volume is certain
    pie, circle = vols.index(openair["P-TEST DA"]), vols.index(openair["D-TEST CIRCLE"])
    p = offset(43, 3, 315, 5 * NM)
    c = offset(44, 2, 0, 1 * NM)
    ti, vi = strict.inside([p[0], c[0]], [p[1], c[1]], [np.nan] * 2, [np.nan] * 2, T0)
    assert (ti.tolist(), vi.tolist()) == ([0], [pie])
    assert vs.inside([p[0], c[0]], [p[1], c[1]], [np.nan] * 2, [np.nan] * 2, T0)[1].tolist() \
        == [pie, circle]


def test_inside_respects_activation_and_empty_inputs(openair: dict[str, Volume]) -> None:
    vs = VolumeSet([openair["R-TEST DB"]])
    west = offset(46, 7, 270, 5 * NM)
    args = ([west[0]], [west[1]], [8000.0], [8200.0])
    assert vs.inside(*args, T0 + 60)[0].tolist() == [0]
    assert vs.inside(*args, T0 - 60)[0].tolist() == []
    assert vs.inside(*args, T0 + 4 * 3600)[0].tolist() == []
    assert vs.inside([np.nan], [np.nan], [0.0], [0.0], T0)[0].tolist() == []
    empty = VolumeSet([])
    assert empty.inside(*args, T0)[0].tolist() == []
    assert empty.entering(*args, [100.0], [0.0], [0.0], T0, 120)[0].tolist() == []


def random_volumes(rng: np.random.Generator, n: int, area: tuple[float, float, float, float]
                   ) -> list[Volume]:
    lat0, lon0, lat1, lon1 = area
    limits = [("GND", "UNL"), ("GND", "FL95"), ("1500 ft AMSL", "FL245"), ("FL100", "UNL"),
              ("1000ft AGL", "5000 ft AMSL"), ("SFC", "600m"), ("FL50", "FL150")]
    sched = schedules(rng, n)
    out = []
    for i in range(n):
        lat, lon = rng.uniform(lat0, lat1), rng.uniform(lon0, lon1)
        k = int(rng.integers(3, 40))
        angles = np.sort(rng.uniform(0, 2 * np.pi, k))
        radius = rng.uniform(0.03, 0.3) * rng.uniform(0.3, 1.0, k)
        poly = Polygon(np.column_stack([lon + radius * np.sin(angles) / math.cos(math.radians(lat)),
                                        lat + radius * np.cos(angles)]))
        if not poly.is_valid or poly.area == 0:
            poly = shapely.convex_hull(poly)
        holed = poly.difference(Point(lon, lat).buffer(float(radius.min()) * 0.3))
        if rng.random() < 0.2 and holed.is_valid and not holed.is_empty:  # a hole or notch
            poly = holed
        lower, upper = limits[int(rng.integers(len(limits)))]
        out.append(Volume(f"v{i}", f"v{i}", "restricted", poly, parse_limit(lower),
                          parse_limit(upper), sched[i], "rand"))
    return out


def oracle_vertical(v: Volume, alt: float, geo: float, unknown_inside: bool) -> bool:
    baro = alt if math.isfinite(alt) else geo
    gps = geo if math.isfinite(geo) else alt
    if math.isnan(baro):
        no_floor = v.lower.ref is LimitRef.GND or v.lower.feet <= 0
        return unknown_inside or (no_floor and v.upper.ref is LimitRef.UNL)
    low_alt = baro if v.lower.ref is LimitRef.FL else gps
    high_alt = baro if v.upper.ref is LimitRef.FL else gps
    floor_ok = v.lower.ref is LimitRef.GND or v.lower.feet <= 0 or low_alt >= v.lower.feet
    ceiling_ok = v.upper.ref is LimitRef.UNL or high_alt <= v.upper.feet
    return floor_ok and ceiling_ok


def oracle_inside(v: Volume, lat: float, lon: float, alt: float, geo: float, t: float,
                  unknown_inside: bool = True) -> bool:
    return (oracle_active(v.schedule, t) and v.geometry.contains(Point(lon, lat))
            and oracle_vertical(v, alt, geo, unknown_inside))


def random_tracks(rng: np.random.Generator, n: int, area: tuple[float, float, float, float]
                  ) -> dict[str, F64]:
    lat0, lon0, lat1, lon1 = area
    alt = rng.uniform(-100.0, 30_000.0, n)
    alt[rng.random(n) < 0.15] = np.nan
    geo = alt + rng.normal(0.0, 300.0, n)
    geo[rng.random(n) < 0.3] = np.nan
    gs = rng.uniform(0.0, 500.0, n)
    gs[rng.random(n) < 0.1] = np.nan
    lat = rng.uniform(lat0 - 0.2, lat1 + 0.2, n)
    lat[rng.random(n) < 0.03] = np.nan
    return {"lat": lat, "lon": rng.uniform(lon0 - 0.2, lon1 + 0.2, n), "alt": alt,
            "geo": geo, "gs": gs, "track": rng.uniform(0.0, 360.0, n),
            "vrate": rng.normal(0.0, 2000.0, n) * (rng.random(n) < 0.7)}


AREAS = st.sampled_from([(45.0, 5.0, 46.0, 6.5), (36.0, -10.0, 60.0, 30.0), (-1.0, -1.0, 1.0, 1.0)])


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), AREAS, st.booleans())
def test_inside_agrees_with_per_point_oracle(seed: int, area: tuple[float, float, float, float],
                                             unknown_inside: bool) -> None:
    rng = np.random.default_rng(seed)
    vols = random_volumes(rng, int(rng.integers(1, 15)), area)
    tr = random_tracks(rng, 300, area)
    t = float(T0 + rng.integers(-300, 600))
    vs = VolumeSet(vols, unknown_alt_inside=unknown_inside)
    ti, vi = vs.inside(tr["lat"], tr["lon"], tr["alt"], tr["geo"], t)
    got = set(zip(ti.tolist(), vi.tolist(), strict=True))
    assert len(got) == len(ti)  # each pair once
    want = {(i, j) for i in range(300) for j, v in enumerate(vols)
            if oracle_inside(v, tr["lat"][i], tr["lon"][i], tr["alt"][i], tr["geo"][i], t,
                             unknown_inside)}
    assert got == want
    assert list(zip(ti, vi, strict=True)) == sorted(zip(ti, vi, strict=True))


# --------------------------------------------------------------------------- entering
def reckon(lat: float, lon: float, gs: float, trk: float, dt: F64) -> tuple[F64, F64]:
    """The documented dead reckoning, written out: a straight line in lon/lat scaled at the
    start latitude on the module's sphere."""
    d = gs * NM / 3600.0 * dt
    m_lat = R * math.pi / 180
    return (lat + d * math.cos(math.radians(trk)) / m_lat,
            lon + d * math.sin(math.radians(trk)) / (m_lat * math.cos(math.radians(lat))))


def oracle_path(v: Volume, tr: dict[str, F64], i: int, t: float,
                taus: F64) -> npt.NDArray[np.bool_]:
    """Inside ``v`` at each ``t + tau`` along track i's dead-reckoned path (per point)."""
    moving = math.isfinite(tr["gs"][i]) and math.isfinite(tr["track"][i])
    gs, trk = (tr["gs"][i], tr["track"][i]) if moving else (0.0, 0.0)
    lat, lon = reckon(tr["lat"][i], tr["lon"][i], gs, trk, taus)
    rate = tr["vrate"][i] / 60.0 if math.isfinite(tr["vrate"][i]) else 0.0
    return np.array([oracle_inside(v, la, lo, tr["alt"][i] + rate * tau,
                                   tr["geo"][i] + rate * tau, t + tau)
                     for la, lo, tau in zip(lat, lon, taus, strict=True)])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1), st.sampled_from([30.0, 120.0, 300.0]))
def test_entering_confirmed_by_stepping_tracks_forward(seed: int, horizon: float) -> None:
    rng = np.random.default_rng(seed)
    area = (45.0, 5.0, 45.6, 5.8)
    vols = random_volumes(rng, int(rng.integers(1, 16)), area)
    n = 200
    tr = random_tracks(rng, n, area)
    t = float(T0 + rng.integers(-300, 600))
    vs = VolumeSet(vols)
    ti, vi, eta = vs.entering(tr["lat"], tr["lon"], tr["alt"], tr["geo"], tr["gs"],
                              tr["track"], tr["vrate"], t, horizon)
    got = {(a, b): e for a, b, e in zip(ti.tolist(), vi.tolist(), eta.tolist(), strict=True)}
    assert len(got) == len(ti) and ((eta >= 0) & (eta <= horizon)).all()
    taus = np.arange(0.0, horizon + 0.5, 1.0)
    want = {}
    for i in range(n):
        if not math.isfinite(tr["lat"][i]):
            continue
        for j, v in enumerate(vols):
            lat, lon = reckon(tr["lat"][i], tr["lon"][i], np.nan_to_num(tr["gs"][i]),
                              tr["track"][i], np.array([0.0, horizon]))
            reach = box(min(lon), min(lat), max(lon), max(lat)).buffer(1e-9)
            if not reach.intersects(v.geometry):  # the path cannot meet the volume
                continue
            path = oracle_path(v, tr, i, t, taus)
            if not path[0] and path.any():
                want[(i, j)] = float(taus[np.argmax(path)])
    def confirmed_finely(pair: tuple[int, int]) -> bool:
        """Inside within a second after the reported entry (stepping every 0.5 ms)."""
        fine = np.linspace(got[pair], min(got[pair] + 1.0, horizon), 2001)
        return bool(oracle_path(vols[pair[1]], tr, pair[0], t, fine).any())

    for pair, first in want.items():
        assert pair in got, f"missed entry of track {pair[0]} into volume {pair[1]} at {first}"
        assert got[pair] <= first + 1e-6  # never later than the first step found inside
        if first - got[pair] > 1.0 + 1e-6:  # earlier: a clip between steps, checked finely
            assert confirmed_finely(pair), f"{pair}: entry {got[pair]}, oracle {first}"
    for pair in set(got) - set(want):  # entries shorter than a step: check finely
        i, j = pair
        assert not oracle_inside(vols[j], tr["lat"][i], tr["lon"][i], tr["alt"][i],
                                 tr["geo"][i], t)
        assert confirmed_finely(pair), f"no entry for {pair} near {got[pair]}"


def test_entering_scenarios() -> None:
    square = box(6.0, 45.0, 6.5, 45.5)
    m_lon = R * math.pi / 180 * math.cos(math.radians(45.2))
    vols = [volume(square, "FL50", "FL150", vid="sq"),
            volume(square.buffer(-0.1), "GND", "UNL", Schedule(False, ((T0 + 45, T0 + 99),)),
                   vid="later")]
    vs = VolumeSet(vols)
    lat = np.array([45.2, 45.2, 45.2, 45.2, 45.3, 45.3])
    lon = np.array([6.0 - 18_520 / m_lon, 6.2, 6.2, 5.0, 6.25, 6.25])
    alt = np.array([8000, 4000, 8000, 8000, 20000, 20000], float)
    gs = np.array([360, 0, 100, 360, np.nan, 100], float)  # 360 kt = 185.2 m/s
    trk = np.array([90, 0, 0, 270, np.nan, 180], float)
    vrate = np.array([0, 1000, 0, 0, np.nan, 0], float)
    ti, vi, eta = vs.entering(lat, lon, alt, alt, gs, trk, vrate, T0, 120.0)
    got = {(a, b): e for a, b, e in zip(ti.tolist(), vi.tolist(), eta.tolist(), strict=True)}
    assert got.keys() == {(0, 0), (1, 0), (1, 1), (2, 1), (4, 1), (5, 1)}
    assert got[(0, 0)] == pytest.approx(100.0, abs=1e-3)  # 10 NM at 360 kt
    assert got[(1, 0)] == pytest.approx(60.0, abs=1e-3)  # climbing 1000 ft/min to FL50
    for track in (1, 2, 4, 5):  # inside its area when it activates
        assert got[(track, 1)] == pytest.approx(45.0, abs=1e-3)
    # already inside: not entering, but inside
    assert vs.inside(lat, lon, alt, alt, T0)[0].tolist() == [2]
    assert vs.entering(lat, lon, alt, alt, gs, trk, vrate, T0, 40.0)[0].tolist() == []
    assert vs.entering(lat, lon, alt, alt, gs, trk, vrate, T0, 70.0)[0].tolist() == [1, 1, 2, 4, 5]
    with pytest.raises(ValueError, match="horizon_s"):
        vs.entering(lat, lon, alt, alt, gs, trk, vrate, T0, -1.0)


def test_checks_survive_hostile_tracks() -> None:
    vs = VolumeSet(load_openair(OPENAIR))
    inf, nan = math.inf, math.nan
    lat = [43.3, nan, inf, 1e10, 43.3, 43.3, 43.3, -95.0, 44.0, 43.0]
    lon = [0.9, 1.2, 1.2, 1.2, nan, 1.2, 1.2, 1.2, 1.9, -inf]
    gs = [9999.0, 100, 100, 100, 100, inf, -50, 100, 1e300, 100]
    trk = [90.0, nan, 0, 0, 0, 0, 1e9, 0, 45, 0]
    vrate = [0.0, nan, 0, 0, 0, 0, 0, inf, -inf, 0]
    alt = [5000.0, nan, 0, 0, 0, inf, -inf, 0, 5000, 0]
    ti, vi = vs.inside(lat, lon, alt, alt, T0)
    assert set(ti.tolist()) <= {0, 5, 6, 8} and (vi < len(vs)).all()
    ti, vi, eta = vs.entering(lat, lon, alt, alt, gs, trk, vrate, T0, 120.0)
    assert np.isfinite(eta).all() and (eta >= 0).all() and (eta <= 120).all()
    assert set(ti.tolist()) <= {0, 5, 6, 8}
    got = {(a, b): e for a, b, e in zip(ti.tolist(), vi.tolist(), eta.tolist(), strict=True)}
    assert got[(0, 0)] == pytest.approx(1.58, abs=0.05)  # 0.1 deg of longitude at 9999 kt


ANY = st.floats(allow_nan=True, allow_infinity=True)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(*(st.one_of(ANY, st.floats(-90, 90)) for _ in range(7))),
                min_size=1, max_size=20), st.floats(0, 600))
def test_checks_never_raise_or_warn_on_any_numbers(rows: list[tuple[float, ...]],
                                                   horizon: float) -> None:
    vs = VolumeSet(load_openair(OPENAIR))
    lat, lon, alt, geo, gs, trk, vrate = (np.array(c) for c in zip(*rows, strict=True))
    ti, vi = vs.inside(lat, lon, alt, geo, T0)
    assert ((ti >= 0) & (ti < len(rows)) & (vi >= 0) & (vi < len(vs))).all()
    ti, vi, eta = vs.entering(lat, lon + 2.0, alt, geo, gs, trk, vrate, T0, horizon)
    assert ((eta >= 0) & (eta <= horizon)).all() and (ti < len(rows)).all()


def test_entering_openair_circle_head_on() -> None:
    circle = load_openair(OPENAIR)[1]  # 5 NM around 44N 2E, GND to 3000 m
    lat, lon = offset(44.0, 2.0, 180.0, 20 * NM)
    vs = VolumeSet([circle])
    ti, vi, eta = vs.entering([lat], [lon], [5000.0], [5000.0], [600.0], [0.0], [0.0], T0, 120)
    assert (ti.tolist(), vi.tolist()) == ([0], [0])
    assert eta[0] == pytest.approx(90.0, abs=0.2)  # 15 NM at 600 kt
