"""Scripted flights and the sensors that watch them.

The flight model is checked against spherical geometry written independently here
(haversine distance, initial bearing); the feeds are checked by decoding what they send
with the real decoders (Mode S for ADS-B, the radar simulator's own truth columns)."""

from __future__ import annotations

import math

import numpy as np

from exercise.scenes import scene
from skyshare.badinput import BadInput
from skyshare.decode.modes import ModeSDecoder
from skyshare.exercise.traffic import ScenarioTraffic
from skyshare.radar.sim import RadarSimulator
from skyshare.synth.feed import SyntheticFeed
from skyshare.synth.traffic import Traffic

T0 = 1_800_000_000.0


def haversine_nm(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = (math.sin((p2 - p1) / 2) ** 2
         + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 2 * 3440.065 * math.asin(math.sqrt(h))


def at(traffic: ScenarioTraffic, t: float) -> tuple[float, ...]:
    s = traffic.sample([traffic.nb], [T0 + t])
    return (float(s.lat[0]), float(s.lon[0]), float(s.alt_baro[0]), float(s.track[0]),
            float(s.vertical_rate[0]), int(s.squawk[0]), bool(s.on_ground[0]))


def test_a_scripted_aircraft_flies_its_route_at_its_speed() -> None:
    traffic = ScenarioTraffic(scene(), T0)
    lat0, lon0, alt, *_ = at(traffic, 0)
    assert (round(lat0, 6), round(lon0, 6), alt) == (49.6, 6.5, 35000.0)
    for t in (30.0, 90.0, 150.0):
        lat, lon, alt, track, vrate, squawk, ground = at(traffic, t)
        flown = haversine_nm(lat0, lon0, lat, lon)
        assert abs(flown - 450 * t / 3600) < 0.05, (t, flown)
        assert haversine_nm(lat, lon, 49.6, 9.0) < haversine_nm(lat0, lon0, 49.6, 9.0)
        assert abs(lat - 49.6) < 0.01  # a great circle between two points of one parallel
        assert alt == 35000.0 and vrate == 0.0 and squawk == 2000 and not ground
        assert 85 < track < 92


def test_deviation_turns_at_the_standard_rate_onto_the_new_heading() -> None:
    traffic = ScenarioTraffic(scene(events=[
        {"at_s": 60, "aircraft": "A", "deviate": {"heading_deg": 180}}]), T0)
    before = at(traffic, 60)[3]
    assert abs(at(traffic, 70)[3] - (before + 30)) < 3.5  # 3 deg/s, clockwise is shorter
    assert abs(at(traffic, 120)[3] - 180) < 0.5
    lat1, lon1 = at(traffic, 120)[:2]
    lat2, lon2 = at(traffic, 180)[:2]
    assert lat2 < lat1 - 0.1 and abs(lon2 - lon1) < 0.01  # flying south now


def test_direct_to_a_volume_ends_inside_it() -> None:
    sc = scene(duration_s=900,
               events=[{"at_s": 10, "aircraft": "A", "deviate": {"volume": "R-EX-ODENWALD"}}])
    traffic = ScenarioTraffic(sc, T0)
    lat, lon = sc.aircraft_events[0].to  # type: ignore[misc]
    _, la, lo, _ = traffic.truth("A")
    nearest = min(haversine_nm(float(a), float(b), lat, lon)
                  for a, b in zip(la, lo, strict=True))
    assert nearest < 2.5


def test_descent_squawk_and_transponder_follow_the_script() -> None:
    traffic = ScenarioTraffic(scene(events=[
        {"at_s": 20, "aircraft": "A", "squawk": 7700},
        {"at_s": 40, "aircraft": "A", "descend": {"rate_fpm": 6000, "to_ft": 30000}},
        {"at_s": 50, "aircraft": "A", "transponder": "off"},
        {"at_s": 90, "aircraft": "A", "transponder": "on"}]), T0)
    assert at(traffic, 19)[5] == 2000 and at(traffic, 21)[5] == 7700
    assert at(traffic, 39)[2] == 35000.0
    assert abs(at(traffic, 70)[2] - (35000 - 6000 * 30 / 60)) < 110
    assert at(traffic, 70)[4] == -6000.0
    assert at(traffic, 120)[2] == 30000.0 and at(traffic, 120)[4] == 0.0
    address = 0xABC123
    silent = traffic.transponder_silent([address] * 4, T0 + np.array([49.0, 51.0, 89.0, 91.0]))
    assert silent.tolist() == [False, True, True, False]


def test_background_rows_are_the_plain_traffic() -> None:
    sc = scene(traffic={"aircraft": 25, "region": [46.0, 2.0, 53.0, 13.0]})
    mixed = ScenarioTraffic(sc, T0)
    plain = Traffic(25, seed=sc.seed, region=(46.0, 2.0, 53.0, 13.0), start_time=T0)
    slots = np.array([0, 25, 3, 24, 25, 7])
    times = T0 + np.array([5.0, 5.0, 400.0, 9.0, 700.0, 700.0])
    got = mixed.sample(slots, times)
    bg = slots < 25
    want = plain.sample(slots[bg], times[bg])
    np.testing.assert_array_equal(got.icao24[bg], want.icao24)
    np.testing.assert_array_equal(got.lat[bg], want.lat)
    np.testing.assert_array_equal(got.squawk[bg], want.squawk)
    assert (got.icao24[~bg] == 0xABC123).all()


def test_the_adsb_feed_and_the_radar_see_the_scripted_aircraft() -> None:
    sc = scene(events=[{"at_s": 20, "aircraft": "A", "squawk": 7500},
                       {"at_s": 60, "aircraft": "A", "transponder": "off"}])
    traffic = ScenarioTraffic(sc, T0)
    feed = SyntheticFeed(traffic, receiver=(49.3, 5.2))  # type: ignore[arg-type]
    decoder = ModeSDecoder(bad_for=lambda _: BadInput(quiet=True))
    reports = decoder.decode(feed.frames_between(T0 + 10, T0 + 40))
    mine = reports[reports["icao24"] == 0xABC123]
    positioned = mine[np.isfinite(mine["lat"])]
    assert len(positioned) > 20
    for r in positioned[::5]:
        lat, lon = at(traffic, float(r["time"]) - T0)[:2]
        assert haversine_nm(float(r["lat"]), float(r["lon"]), lat, lon) < 0.05
    assert 7500 in mine["squawk"][mine["time"] > T0 + 21].tolist()
    late = decoder.decode(feed.frames_between(T0 + 60, T0 + 80))
    assert 0xABC123 not in late["icao24"].tolist()
    radar = RadarSimulator(traffic, [sc.sensor("r").radar], seed=1)  # type: ignore[arg-type, list-item]
    plots = radar.plots_between(T0 + 60, T0 + 100)
    ours = plots.truth_icao24 == 0xABC123
    assert ours.any() and (plots.plots["typ"][ours] == 1).all()  # primary returns only
