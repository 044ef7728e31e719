"""The traffic model: plausible, consistent, deterministic, constant in number, fast."""

from __future__ import annotations

import re
import time

import numpy as np
import numpy.typing as npt
import pytest

from skyshare.errors import ConfigError
from skyshare.model import format_category
from skyshare.synth.airports import load_airports
from skyshare.synth.traffic import Traffic, TrafficState

T0 = 1.7e9
NM = 1852.0


def gc_nm(lat1: npt.ArrayLike, lon1: npt.ArrayLike, lat2: npt.ArrayLike,
          lon2: npt.ArrayLike) -> npt.NDArray[np.float64]:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dl = np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return np.asarray(2 * 3440.065 * np.arcsin(np.sqrt(a)))


def bearing_deg(lat1: npt.ArrayLike, lon1: npt.ArrayLike, lat2: npt.ArrayLike,
                lon2: npt.ArrayLike) -> npt.NDArray[np.float64]:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dl = np.radians(np.asarray(lon2) - np.asarray(lon1))
    b = np.arctan2(np.sin(dl) * np.cos(p2), np.cos(p1) * np.sin(p2)
                   - np.sin(p1) * np.cos(p2) * np.cos(dl))
    return np.asarray(np.degrees(b) % 360.0)


def same(a: TrafficState, b: TrafficState) -> bool:
    return all(np.array_equal(getattr(a, f), getattr(b, f))
               for f in ("icao24", "callsign", "category", "squawk", "lat", "lon", "alt_baro",
                         "groundspeed", "track", "vertical_rate", "on_ground"))


def test_airport_table_is_plausible() -> None:
    ap = load_airports()
    assert 55 <= len(ap) <= 90
    assert len(set(ap.icao.tolist())) == len(ap)
    assert all(re.fullmatch(r"[A-Z]{4}", c) for c in ap.icao)
    europe = (ap.lat > 35) & (ap.lat < 72) & (ap.lon > -25) & (ap.lon < 45)
    assert europe.mean() > 0.9
    assert ((ap.elevation_ft > -50) & (ap.elevation_ft < 2500)).all()
    for code, lat, lon in (("LFPG", 49.0097, 2.5479), ("EDDF", 50.0379, 8.5622),
                           ("LSZH", 47.4647, 8.5492), ("LFBO", 43.6291, 1.3638)):
        i = ap.index(code)
        assert abs(ap.lat[i] - lat) < 1e-3 and abs(ap.lon[i] - lon) < 1e-3
    # no two airports closer than 5 NM (a typo'd coordinate would likely collide)
    d = gc_nm(ap.lat[:, None], ap.lon[:, None], ap.lat[None, :], ap.lon[None, :])
    assert (d + np.eye(len(ap)) * 1e9).min() > 5


def test_state_is_plausible() -> None:
    traffic = Traffic(2000, seed=3, start_time=T0)
    s = traffic.state(T0 + 10)
    assert len(s) == 2000 and not s.on_ground.any()
    assert len(np.unique(s.icao24)) == 2000
    assert not np.isin(s.icao24, [0, 0xFFFFFF]).any() and (s.icao24 <= 0xFFFFFF).all()
    assert ((s.alt_baro > -100) & (s.alt_baro <= 40_000)).all()
    assert ((s.groundspeed >= 120) & (s.groundspeed <= 480)).all()
    assert ((s.vertical_rate >= -2000) & (s.vertical_rate <= 2800)).all()
    assert ((s.track >= 0) & (s.track < 360)).all()
    cruising = s.vertical_rate == 0
    assert 0.4 < cruising.mean() < 0.95
    assert (s.alt_baro[cruising] % 1000 == 0).all()
    high = s.groundspeed[cruising & (s.alt_baro >= 28_000)]  # cruise, or 2 min accelerating
    assert (high >= 275).all() and (high >= 420).mean() > 0.9
    # long routes cruise at FL280-FL400
    ap = load_airports()
    o = np.array([ap.index(c) for c in s.origin])
    d = np.array([ap.index(c) for c in s.destination])
    route = gc_nm(ap.lat[o], ap.lon[o], ap.lat[d], ap.lon[d])
    long_cruise = cruising & (route > 500)
    assert long_cruise.sum() > 100
    assert ((s.alt_baro[long_cruise] >= 28_000) & (s.alt_baro[long_cruise] <= 40_000)).all()
    assert (route >= 100).all() and (o != d).all()
    # identities
    assert all(re.fullmatch(rb"[A-Z]{3}[0-9]{2,4}[A-Z]?", c) for c in s.callsign)
    assert set(format_category(s.category).tolist()) == {"A1", "A2", "A3", "A5"}
    assert (s.category == 0xA3).mean() > 0.7
    squawks = [f"{q:04d}" for q in s.squawk]
    assert all(re.fullmatch("[0-7]{4}", q) for q in squawks)
    assert not set(squawks) & {"7500", "7600", "7700"}


def test_motion_matches_speed_track_and_rate() -> None:
    traffic = Traffic(1000, seed=4, start_time=T0)
    a, b = traffic.state(T0 + 100.0), traffic.state(T0 + 101.0)
    same_flight = a.icao24 == b.icao24
    assert same_flight.mean() > 0.99
    moved = gc_nm(a.lat, a.lon, b.lat, b.lon)[same_flight] * 3600.0  # kt over 1 s
    mean_gs = ((a.groundspeed + b.groundspeed) / 2)[same_flight]
    assert np.abs(moved - mean_gs).max() < 0.5
    course = bearing_deg(a.lat, a.lon, b.lat, b.lon)[same_flight]
    mean_track = a.track[same_flight] + ((b.track - a.track + 180) % 360 - 180)[same_flight] / 2
    assert np.abs((course - mean_track + 180) % 360 - 180).max() < 0.05
    climbed = (b.alt_baro - a.alt_baro)[same_flight] * 60.0
    rate = ((a.vertical_rate + b.vertical_rate) / 2)[same_flight]
    assert np.abs(climbed - rate)[(a.vertical_rate == b.vertical_rate)[same_flight]].max() < 1e-6
    assert np.abs(climbed - rate).max() < 3000  # only where a segment ends within the second


def test_flights_land_at_their_destination_and_are_replaced() -> None:
    n = 300
    traffic = Traffic(n, seed=5, start_time=T0)
    ap = load_airports()
    step = 10.0
    prev = traffic.state(T0)
    replaced = 0
    seen = {int(a) for a in prev.icao24}
    for k in range(1, 1080):  # three hours
        cur = traffic.state(T0 + k * step)
        assert len(cur) == n and len(np.unique(cur.icao24)) == n
        new = np.flatnonzero(cur.icao24 != prev.icao24)
        for i in new:
            dest = ap.index(str(prev.destination[i]))
            # landed within the last step: 10 s before it was on short final
            assert gc_nm(prev.lat[i], prev.lon[i], ap.lat[dest], ap.lon[dest]) < 0.5
            assert prev.alt_baro[i] - ap.elevation_ft[dest] < 150
            assert prev.vertical_rate[i] < 0 and prev.groundspeed[i] < 160
            # the new aircraft left from there, climbing
            assert cur.origin[i] == prev.destination[i]
            assert gc_nm(cur.lat[i], cur.lon[i], ap.lat[dest], ap.lon[dest]) < 0.6
            assert cur.vertical_rate[i] > 0 and cur.callsign[i] != b""
            assert int(cur.icao24[i]) not in seen  # a new address, never used before
            seen.add(int(cur.icao24[i]))
            replaced += 1
        prev = cur
    assert replaced > n  # flights last 0.5-3.5 h


def test_deterministic_for_a_seed_whatever_was_asked_before() -> None:
    a = Traffic(400, seed=6, start_time=T0)
    for k in range(0, 4 * 3600, 600):  # a walked through four hours
        a.state(T0 + k)
    b = Traffic(400, seed=6, start_time=T0)
    assert same(a.state(T0 + 4 * 3600), b.state(T0 + 4 * 3600))  # b jumped there
    assert same(a.state(T0 + 30), Traffic(400, seed=6, start_time=T0).state(T0 + 30))  # back
    assert not same(b.state(T0), Traffic(400, seed=7, start_time=T0).state(T0))
    # sampling pairs is the same as whole states
    slots = np.array([5, 9, 5, 100])
    times = np.array([T0 + 1, T0 + 2, T0 + 7200, T0 + 3])
    s = b.sample(slots, times)
    for j in range(4):
        whole = b.state(float(times[j]))
        assert s.icao24[j] == whole.icao24[slots[j]] and s.lat[j] == whole.lat[slots[j]]


def test_region_limits_airports() -> None:
    region = (45.0, 2.0, 51.0, 10.0)  # FR east, CH, BE/LU, DE south-west
    traffic = Traffic(200, seed=8, region=region, start_time=T0)
    assert set(traffic.airports.icao.tolist()) >= {"LSZH", "LSGG", "EDDF", "ELLX", "EBBR"}
    s = traffic.state(T0 + 3 * 3600)
    inside = set(traffic.airports.icao.tolist())
    assert set(s.origin.tolist()) <= inside and set(s.destination.tolist()) <= inside
    pad = 1.0
    assert ((s.lat > 45 - pad) & (s.lat < 51 + pad) & (s.lon > 2 - pad) & (s.lon < 10 + pad)).all()
    # a tiny region: the short hops still fly a complete, slower profile
    small = Traffic(20, seed=1, region=(47.3, 7.4, 47.7, 8.7), start_time=T0)  # LSZH, LFSB
    assert len(small.airports) == 2
    st = small.state(T0 + 5000)
    assert ((st.alt_baro >= 0) & (st.alt_baro <= 8000)).all()
    with pytest.raises(ConfigError, match="airport"):
        Traffic(10, region=(0.0, 0.0, 1.0, 1.0))


def test_squawk_override_lasts_for_the_flight() -> None:
    traffic = Traffic(50, seed=9, start_time=T0)
    s = traffic.state(T0)
    target = int(s.icao24[7])
    traffic.set_squawk(target, 7700)
    assert traffic.state(T0 + 1).squawk[7] == 7700
    assert (np.delete(traffic.state(T0 + 1).squawk, 7) != 7700).all()
    traffic.set_squawk(target, None)
    assert traffic.state(T0 + 1).squawk[7] == s.squawk[7]
    with pytest.raises(ValueError, match="octal"):
        traffic.set_squawk(target, 7800)


def test_state_of_20000_aircraft_takes_under_20_ms() -> None:
    traffic = Traffic(20_000, seed=10, start_time=T0)
    traffic.state(T0)  # compile / load the kernel
    best = min(_timed(traffic, T0 + 0.1 * k) for k in range(1, 8))
    assert best < 0.020, best


def _timed(traffic: Traffic, t: float) -> float:
    started = time.perf_counter()
    traffic.state(t)
    return time.perf_counter() - started
