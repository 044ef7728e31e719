"""The radar simulator: its plots checked against the traffic's truth with closed-form
geometry, its statistics against its parameters, and its datagrams read back by our
decoders from a real UDP socket and from a pcap file."""

from __future__ import annotations

import asyncio
import math
import socket
from dataclasses import fields, replace
from itertools import count, pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_geometry import range_azimuth

from skyshare.badinput import BadInput
from skyshare.decode.asterix.cat034 import NORTH_MARKER, decode_service
from skyshare.decode.asterix.cat048 import PLOT_DTYPE, PlotFlag, decode_plots
from skyshare.decode.asterix.records import split_records, unix_time_of_day
from skyshare.decode.asterix.write034 import encode_service
from skyshare.decode.asterix.write048 import encode_plots
from skyshare.errors import ConfigError
from skyshare.model import NO_ADDRESS, NO_SQUAWK
from skyshare.radar.geometry import geodetic_to_ecef, polar_to_geodetic
from skyshare.radar.sim import RadarSimulator, RadarSpec, SimPlots
from skyshare.radar.sim_output import serve_udp, write_recording
from skyshare.radar.sim_spec import MAX_RANGE_M
from skyshare.sources.asterix import read_pcap, split_blocks
from skyshare.synth.traffic import Traffic

T0 = 1_700_000_000.0
FT = 0.3048
SWISS = (46.0, 6.0, 47.8, 10.5)  # five airports: every flight stays near the radar
EARTH_R = 6_371_000.0


def spec(**changes: Any) -> RadarSpec:
    """A radar on a mountain in the middle of SWISS that sees all of it, perfectly."""
    base = RadarSpec(name="alps", lat=46.9, lon=8.2, alt_m=3000.0, range_m=MAX_RANGE_M,
                     min_elevation_deg=-10.0, pd_psr=1.0, pd_ssr=1.0, range_sigma_m=0.0,
                     azimuth_sigma_deg=0.0, clutter_per_scan=0.0)
    return replace(base, **changes)


def look(radar: RadarSpec, lat: np.ndarray, lon: np.ndarray,
         h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Slant range (m) and 4/3-earth apparent elevation (deg), by plain numpy."""
    x0 = np.array(geodetic_to_ecef(radar.lat, radar.lon, radar.alt_m))
    d = np.array([geodetic_to_ecef(a, b, c) for a, b, c in zip(lat, lon, h, strict=True)])
    d = d.reshape(-1, 3) - x0
    phi, lam = math.radians(radar.lat), math.radians(radar.lon)
    up = np.array([math.cos(phi) * math.cos(lam), math.cos(phi) * math.sin(lam),
                   math.sin(phi)])
    rho = np.linalg.norm(d, axis=1)
    return rho, np.degrees(np.arcsin(d @ up / rho) + rho / (8 * EARTH_R))


def ecef_distance(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray,
                  h: np.ndarray) -> np.ndarray:
    a = np.array([geodetic_to_ecef(*p) for p in zip(lat1, lon1, h, strict=True)])
    b = np.array([geodetic_to_ecef(*p) for p in zip(lat2, lon2, h, strict=True)])
    return np.asarray(np.linalg.norm(a - b, axis=1))


def same_plots(a: SimPlots, b: SimPlots) -> None:
    assert len(a) == len(b)
    for f in fields(SimPlots):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if f.name == "plots":
            for name in PLOT_DTYPE.names or ():
                np.testing.assert_array_equal(x[name], y[name], err_msg=name)
        else:
            np.testing.assert_array_equal(x, y, err_msg=f.name)


def decode(payloads: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """(plots, service messages) of datagrams, by our decoders."""
    data = np.frombuffer(b"".join(payloads), np.uint8)
    bounds = np.cumsum([0] + [len(p) for p in payloads]).astype(np.int64)
    bad = BadInput()
    framed = split_records(data, split_blocks(data, bad, bounds), bad)
    assert not bad.counts
    return decode_plots(data, framed), decode_service(data, framed)


def on_the_wire(plots: np.ndarray, service: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What our codec makes of rows: the values at the items' resolution."""
    return decode(encode_plots(plots)[0] + encode_service(service))


def equal_rows(got: np.ndarray, want: np.ndarray, prefix: bool = False) -> None:
    """The same rows (``prefix``: ``got`` is the start of ``want``)."""
    assert len(got) > 0 and (len(got) <= len(want) if prefix else len(got) == len(want))
    for name in got.dtype.names or ():
        if name != "record":
            np.testing.assert_array_equal(got[name], want[name][:len(got)], err_msg=name)


# ----------------------------------------------------------------------------- geometry
def test_a_noise_free_plot_converts_back_to_the_truth() -> None:
    radars = [spec(), spec(name="plain", sic=2, lat=47.5, lon=7.0, alt_m=500.0, mode_s=False)]
    sim = RadarSimulator(Traffic(40, seed=1, region=SWISS, start_time=T0), radars)
    got = sim.plots_between(T0, T0 + 30)
    assert len(got) > 300 and set(got.radar.tolist()) == {0, 1}
    assert np.all(got.plots["flags"] == 0)
    exercise = RadarSimulator(sim.traffic, radars, exercise=True).plots_between(T0, T0 + 30)
    assert np.all(exercise.plots["flags"] == PlotFlag.SIMULATED)
    for r, radar in enumerate(radars):
        p = got.take(got.radar == r)
        h = p.truth_alt_ft * FT
        lat, lon = polar_to_geodetic(p.plots["range_m"], p.plots["azimuth_deg"], h,
                                     radar.lat, radar.lon, radar.alt_m)
        assert ecef_distance(lat, lon, p.truth_lat, p.truth_lon, h).max() < 0.01
        for i in range(0, len(p), 17):  # and by the closed formulas of test_geometry
            rho, az = range_azimuth((radar.lat, radar.lon, radar.alt_m), p.truth_lat[i],
                                    p.truth_lon[i], h[i])
            assert p.plots["range_m"][i] == pytest.approx(rho, abs=1e-3)
            assert (p.plots["azimuth_deg"][i] - az + 180) % 360 - 180 == pytest.approx(
                0.0, abs=1e-7)


def test_detections_happen_when_the_beam_sweeps_the_target() -> None:
    radar = spec(rotation_s=5.0)
    sim = RadarSimulator(Traffic(150, seed=2, start_time=T0), [radar])  # all of Europe
    got = sim.plots_between(T0, T0 + 120)
    assert len(got) > 1000
    # the antenna turns at a constant rate: time and azimuth differ by a fixed phase
    phase = np.mod(got.time / radar.rotation_s - got.plots["azimuth_deg"] / 360.0, 1.0)
    assert np.abs((phase - phase[0] + 0.5) % 1.0 - 0.5).max() * 360.0 < 0.001
    slow = 0
    for s in np.unique(got.truth_slot):
        mine = got.take(got.truth_slot == s)
        if mine.plots["range_m"].min() > 100_000.0:  # far: turns slowly around the radar
            slow += 1
            np.testing.assert_allclose(np.diff(mine.time), radar.rotation_s, atol=0.02)
    assert slow > 10
    markers = sim.north_markers_between(T0, T0 + 120)
    assert len(markers) == 24
    np.testing.assert_allclose(np.diff(markers["tod"]), radar.rotation_s, atol=1e-6)
    beam_at_north = np.mod(unix_time_of_day(markers["tod"], T0) / radar.rotation_s
                           - phase[0], 1.0)
    assert np.abs((beam_at_north + 0.5) % 1.0 - 0.5).max() * 360.0 < 0.001


# ----------------------------------------------------------------------------- coverage
def moved(lat: float, lon: float, east_m: float) -> tuple[float, float]:
    """The point ``east_m`` east of (lat, lon) along the great circle heading east."""
    d = east_m / EARTH_R
    p = math.radians(lat)
    lat2 = math.asin(math.sin(p) * math.cos(d))
    lon2 = math.radians(lon) + math.atan2(math.sin(d) * math.cos(p), math.cos(d)
                                          - math.sin(p) * math.sin(lat2))
    return math.degrees(lat2), math.degrees(lon2)


def test_nothing_is_seen_beyond_range_or_below_the_horizon() -> None:
    traffic = Traffic(300, seed=3, start_time=T0)
    state = traffic.state(T0)
    low = np.flatnonzero((state.alt_baro > 1500) & (state.alt_baro < 5000)
                         & (state.vertical_rate <= 0))[0]
    # 250 km east of a low aircraft: its radar horizon (4/3 earth, 30 m mast) is ~210 km
    lat, lon = moved(float(state.lat[low]), float(state.lon[low]), 250_000.0)
    radar = RadarSpec(name="far", lat=lat, lon=lon, alt_m=30.0, range_m=400_000.0,
                      pd_psr=1.0, pd_ssr=1.0, clutter_per_scan=0.0)

    def seen(r: RadarSpec) -> SimPlots:
        got = RadarSimulator(traffic, [r]).plots_between(T0, T0 + 20)
        return got.take(got.truth_slot == low)

    assert len(seen(radar)) == 0
    assert len(seen(replace(radar, min_elevation_deg=-5.0))) >= 4  # the horizon hid it
    assert len(seen(replace(radar, min_elevation_deg=-5.0, range_m=240_000.0))) == 0
    got = RadarSimulator(traffic, [radar]).plots_between(T0, T0 + 20)
    assert len(got) > 50
    rho, elevation = look(radar, got.truth_lat, got.truth_lon, got.truth_alt_ft * FT)
    assert rho.max() <= radar.range_m and elevation.min() >= 0.0
    # and what is well inside the coverage is seen every scan
    rho, elevation = look(radar, state.lat, state.lon, state.alt_baro * FT)
    inside = np.flatnonzero((rho < radar.range_m - 20_000) & (elevation > 0.3))
    assert len(inside) > 10
    counts = np.bincount(got.truth_slot, minlength=traffic.n)[inside]
    assert counts.min() >= 4 and counts.max() <= 6


# ----------------------------------------------------------------------------- statistics
def test_detection_rates_approach_pd() -> None:
    radar = spec(rotation_s=0.5, pd_psr=0.6, pd_ssr=0.85)
    n, duration = 20, 200.0
    got = RadarSimulator(Traffic(n, seed=4, region=SWISS, start_time=T0), [radar],
                         seed=9).plots_between(T0, T0 + duration)
    trials = n * duration / radar.rotation_s
    typ = got.plots["typ"]
    assert set(typ.tolist()) <= {1, 5, 7}
    tol = 4 * math.sqrt(0.25 / trials)
    assert np.isin(typ, (5, 7)).sum() / trials == pytest.approx(0.85, abs=tol)
    assert np.isin(typ, (1, 7)).sum() / trials == pytest.approx(0.6, abs=tol)
    assert (typ == 7).sum() / trials == pytest.approx(0.6 * 0.85, abs=tol)  # independent
    for s in range(n):  # at most one plot a scan
        assert np.diff(got.time[got.truth_slot == s]).min() > 0.4 * radar.rotation_s
    ssr = np.isin(typ, (5, 7))
    assert np.array_equal(got.plots["icao24"][ssr], got.truth_icao24[ssr])
    assert np.all(got.plots["icao24"][~ssr] == NO_ADDRESS)


def test_noise_has_the_configured_spread() -> None:
    radar = spec(range_sigma_m=40.0, azimuth_sigma_deg=0.07)
    got = RadarSimulator(Traffic(20, seed=5, region=SWISS, start_time=T0), [radar],
                         seed=2).plots_between(T0, T0 + 200)
    truth = RadarSimulator(Traffic(20, seed=5, region=SWISS, start_time=T0),
                           [spec()], seed=2).plots_between(T0, T0 + 200)
    assert len(got) == len(truth) > 500
    np.testing.assert_array_equal(got.time, truth.time)
    d_range = got.plots["range_m"] - truth.plots["range_m"]
    d_az = (got.plots["azimuth_deg"] - truth.plots["azimuth_deg"] + 180) % 360 - 180
    assert abs(d_range.mean()) < 4 * 40 / math.sqrt(len(got))
    assert d_range.std() == pytest.approx(40.0, rel=0.1)
    assert d_az.std() == pytest.approx(0.07, rel=0.1)
    assert abs(np.corrcoef(d_range, d_az)[0, 1]) < 0.1


def test_clutter_averages_its_rate_within_the_coverage() -> None:
    radar = spec(rotation_s=0.5, clutter_per_scan=4.0, range_m=100_000.0)
    sim = RadarSimulator(Traffic(3, seed=6, region=SWISS, start_time=T0), [radar])
    got = sim.plots_between(T0, T0 + 300)
    clutter = got.take(got.truth_slot == -1)
    scans = len(sim.north_markers_between(T0, T0 + 300))
    assert scans == 600
    assert len(clutter) / scans == pytest.approx(4.0, abs=4 * math.sqrt(4.0 / scans))
    north = unix_time_of_day(sim.north_markers_between(T0, T0 + 300)["tod"], T0)
    per_scan = np.histogram(clutter.time, bins=north)[0]  # the whole scans
    assert per_scan.var() == pytest.approx(4.0, rel=0.25)  # Poisson: variance = mean
    assert np.all(clutter.plots["typ"] == 1) and np.all(clutter.plots["icao24"] == NO_ADDRESS)
    assert np.all(clutter.plots["squawk"] == NO_SQUAWK) and np.isnan(clutter.plots["fl"]).all()
    assert np.isnan(clutter.truth_lat).all()
    r = clutter.plots["range_m"]
    assert r.min() > 0 and r.max() <= radar.range_m and abs(r.mean() - 50_000) < 5_000
    assert abs(clutter.plots["azimuth_deg"].mean() - 180.0) < 15.0
    no_psr = RadarSimulator(sim.traffic, [replace(radar, psr=False)]).plots_between(T0, T0 + 30)
    assert np.all(no_psr.truth_slot >= 0) and np.all(no_psr.plots["typ"] == 5)


# ----------------------------------------------------------------------------- transponders
def test_an_aircraft_whose_transponder_stops_gives_primary_plots_only() -> None:
    traffic = Traffic(10, seed=7, region=SWISS, start_time=T0)
    quiet = traffic.state(T0).icao24[[1, 4, 7]]
    off = {int(quiet[0]): T0 + 20.0, int(quiet[1]): T0 + 20.0, int(quiet[2]): T0 - 5.0}
    radars = [spec(), spec(name="plain", sic=2, mode_s=False), spec(name="ssr", sic=3,
                                                                   psr=False)]
    got = RadarSimulator(traffic, radars, transponder_off=off).plots_between(T0, T0 + 60)
    before = RadarSimulator(traffic, radars).plots_between(T0, T0 + 60)
    silent = np.isin(got.truth_icao24, quiet) & (got.time >= np.vectorize(
        lambda a: off.get(int(a), np.inf))(got.truth_icao24))
    p = got.plots[silent]
    assert silent.sum() > 2 * 3 * 40 / 4  # every scan of the two radars with a PSR
    assert np.all(p["typ"] == 1) and np.all(p["icao24"] == NO_ADDRESS)
    assert np.all(p["squawk"] == NO_SQUAWK) and np.isnan(p["fl"]).all()
    assert set(got.radar[silent].tolist()) == {0, 1}  # the SSR-only radar lost them
    for a in quiet[:2]:  # before their time they were seen as usual
        early = got.take((got.truth_icao24 == a) & (got.time < T0 + 20.0))
        assert len(early) >= 14 and set(early.plots["typ"].tolist()) == {7, 3, 5}
    others = ~np.isin(before.truth_icao24, quiet)
    same_plots(got.take(~np.isin(got.truth_icao24, quiet)), before.take(others))
    assert set(before.plots["typ"][~others].tolist()) == {7, 3, 5}


# ----------------------------------------------------------------------------- determinism
def test_any_chunking_of_time_gives_the_same_plots() -> None:
    radars = [spec(clutter_per_scan=3.0, range_sigma_m=40.0, azimuth_sigma_deg=0.07,
                   pd_psr=0.8, pd_ssr=0.9),
              spec(name="plain", sic=2, lat=47.3, lon=8.6, alt_m=600.0, rotation_s=4.7,
                   mode_s=False, clutter_per_scan=2.0, pd_psr=0.7)]

    def fresh() -> RadarSimulator:
        return RadarSimulator(Traffic(30, seed=8, region=SWISS, start_time=T0), radars,
                              seed=5)

    whole = fresh().plots_between(T0, T0 + 40)
    assert len(whole) > 300 and (whole.truth_slot == -1).sum() > 20
    rng = np.random.default_rng(0)
    cuts = np.sort(np.concatenate([[T0, T0 + 40], T0 + rng.uniform(0, 40, 300),
                                   T0 + 4.0 * np.arange(1, 10)]))
    sim = fresh()
    chunked = SimPlots.concat([sim.plots_between(a, b) for a, b in pairwise(cuts)])
    same_plots(chunked, whole)
    same_plots(sim.plots_between(T0, T0 + 40), whole)  # asked again, after the chunks
    later = fresh()
    later.plots_between(T0 + 100, T0 + 110)
    same_plots(later.plots_between(T0, T0 + 40), whole)  # after a later span


def test_radar_settings_are_checked() -> None:
    with pytest.raises(ConfigError, match=r"radars\.alps\.pd_psr"):
        spec(pd_psr=1.5)
    with pytest.raises(ConfigError, match=r"radars\.alps\.range_m"):
        spec(range_m=300 * 1852.0)
    with pytest.raises(ConfigError, match=r"radars\.alps\.sic"):
        spec(sic=256)
    with pytest.raises(ConfigError, match=r"radars\.alps\.mode_s"):
        spec(mode_s="yes")
    with pytest.raises(ConfigError, match=r"radars\.alps\.rotation_s"):
        spec(rotation_s=0.0)
    with pytest.raises(ConfigError, match="name"):
        spec(name="")
    traffic = Traffic(2, seed=1, region=SWISS, start_time=T0)
    with pytest.raises(ConfigError, match="same SAC/SIC"):
        RadarSimulator(traffic, [spec(), spec(name="twin")])
    with pytest.raises(ConfigError, match="at least one radar"):
        RadarSimulator(traffic, [])
    default = RadarSpec(name="x", lat=1.0, lon=2.0)
    assert default.rotation_s == 4.0 and default.mode_s and default.psr


# ----------------------------------------------------------------------------- the wire
def two_radars() -> list[RadarSpec]:
    return [spec(clutter_per_scan=2.0, range_sigma_m=40.0, azimuth_sigma_deg=0.07),
            spec(name="plain", sac=7, sic=9, lat=47.3, lon=8.6, alt_m=600.0, rotation_s=5.0,
                 mode_s=False, pd_psr=0.8)]


def simulator() -> RadarSimulator:
    return RadarSimulator(Traffic(15, seed=11, region=SWISS, start_time=T0), two_radars(),
                          seed=1)


def expected_on_the_wire(r: int, t1: float) -> tuple[np.ndarray, np.ndarray]:
    sim = simulator()
    plots = sim.plots_between(T0, t1)
    markers = sim.north_markers_between(T0, t1)
    radar = sim.radars[r]
    return on_the_wire(plots.plots[plots.radar == r],
                       markers[(markers["sac"] == radar.sac) & (markers["sic"] == radar.sic)])


def test_plots_and_north_markers_over_udp() -> None:
    receivers = []
    for _ in range(2):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        s.setblocking(False)
        receivers.append(s)

    ticks = count()

    def clock() -> float:  # 100 ms a step, however long the steps take here
        return 5000.0 + 0.1 * next(ticks)

    async def run() -> int:
        stop = asyncio.Event()
        targets = {r: ("127.0.0.1", s.getsockname()[1]) for r, s in enumerate(receivers)}
        task = asyncio.create_task(serve_udp(simulator(), targets, stop, speed=20.0,
                                             clock=clock, start=T0))
        await asyncio.sleep(1.0)
        stop.set()
        return await task

    sent = asyncio.run(run())
    received = 0
    try:
        for r, s in enumerate(receivers):
            payloads = []
            while True:
                try:
                    payloads.append(s.recv(65536))
                except BlockingIOError:
                    break
            received += len(payloads)
            plots, service = decode(payloads)
            assert len(plots) > 20 and len(service) >= 2
            assert np.all(service["message_type"] == NORTH_MARKER)
            # sent: all of simulated time from T0 to when it stopped (about 20 s)
            want_plots, want_service = expected_on_the_wire(r, T0 + 60.0)
            equal_rows(plots, want_plots, prefix=True)
            equal_rows(service, want_service, prefix=True)
    finally:
        for s in receivers:
            s.close()
    assert received == sent


def test_a_recording_reads_back_as_the_simulated_plots(tmp_path: Path) -> None:
    path = tmp_path / "radars.pcap"
    written = write_recording(simulator(), path, T0, 25.0)
    bad = BadInput()
    grams = read_pcap(path, bad)
    assert not bad.counts and len(grams) == written > 20
    assert np.all(np.diff(grams.time) >= 0)
    assert grams.time[0] > T0 and grams.time[-1] <= T0 + 25.0 + 1e-6
    assert set(grams.port.tolist()) == {8600, 8601}
    for r, radar in enumerate(two_radars()):
        mine = np.flatnonzero(grams.port == 8600 + r)
        payloads = [grams.data[grams.bounds[d]:grams.bounds[d + 1]].tobytes() for d in mine]
        plots, service = decode(payloads)
        assert np.all(plots["sac"] == radar.sac) and np.all(plots["sic"] == radar.sic)
        want_plots, want_service = expected_on_the_wire(r, T0 + 25.0)
        equal_rows(plots, want_plots)
        equal_rows(service, want_service)
        assert np.all(service["rotation_s"] == radar.rotation_s)
        # each datagram is stamped when sent: at most one step after what it holds; the
        # records follow each other in time, north markers between two scans' plots
        sent, held = [], []
        for when, payload in zip(grams.time[mine], payloads, strict=True):
            p, m = decode([payload])
            tod = np.concatenate([p["tod"], m["tod"]])
            sent.append(np.full(len(tod), when))
            held.append(unix_time_of_day(tod, when))
        lag = np.concatenate(sent) - np.concatenate(held)
        assert lag.min() > -0.01 and lag.max() < 0.1 + 0.01
        assert np.all(np.diff(np.concatenate(held)) > -0.01)
