"""The radar tracker: primary-only targets, clutter, and plots joining transponder tracks."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from radar_scene import plots, straight

from skyshare.alerts.rules import Rule, RulesConfig, transponder_loss_conditions
from skyshare.badinput import BadInput
from skyshare.fusion.radar_tracker import FIRST_RADAR_ID, RadarTracker, RadarTrackerConfig
from skyshare.model import (
    NO_ADDRESS,
    RADAR_PLOT_DTYPE,
    ReportFlag,
    SourceKind,
    TrackFlag,
    empty_frames,
    empty_reports,
    empty_tracks,
)
from skyshare.pipeline import Pipeline
from skyshare.sources.base import SourceOutput

T0 = 1.75e9


def metres(lat1: np.ndarray | float, lon1: np.ndarray | float, lat2: np.ndarray | float,
           lon2: np.ndarray | float) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    h = (np.sin((p2 - p1) / 2) ** 2
         + np.cos(p1) * np.cos(p2) * np.sin(np.radians(np.subtract(lon2, lon1)) / 2) ** 2)
    return 2 * 6_371_000.0 * np.arcsin(np.sqrt(h))  # type: ignore[no-any-return]


def run(tracker: RadarTracker, batch: np.ndarray, scan_s: float = 4.0) -> list[np.ndarray]:
    """Feed ``batch`` scan by scan; the snapshot after each scan."""
    out = []
    t_end = float(batch["time"].max())
    t = float(batch["time"].min())
    while t <= t_end:
        part = batch[(batch["time"] >= t) & (batch["time"] < t + scan_s)]
        tracker.update(np.sort(part, order="time"), empty_tracks())
        tracker.expire(t + scan_s)
        out.append(tracker.snapshot(t + scan_s))
        t += scan_s
    return out


def test_a_primary_only_target_is_tracked_with_its_speed_and_course() -> None:
    rng = np.random.default_rng(1)
    t = T0 + 4.0 * np.arange(60)
    lat, lon = straight(t, 50.4, 8.3, ve=150.0, vn=-80.0)  # 170 m/s, course 118 deg
    tracker = RadarTracker()
    rows, _ = tracker.update(plots(t, lat, lon, np.full(60, 25000.0), rng=rng),
                             empty_tracks())
    assert len(set(rows["track_id"].tolist())) == 1
    assert rows["track_id"][0] >= FIRST_RADAR_ID
    assert (rows["icao24"] == NO_ADDRESS).all()
    assert rows["messages"][0] == RadarTrackerConfig().confirm_hits  # M-of-N
    late = rows[rows["last_seen"] >= t[20]]
    truth = np.searchsorted(t, late["last_seen"])
    # placed at the nominal 10,000 ft: the range to a 25,000 ft aircraft 60 km away is
    # a few hundred metres longer, so the error is mostly that bias
    err = metres(late["lat"], late["lon"], lat[truth], lon[truth])
    assert np.median(err) < 800.0
    assert late["groundspeed"].mean() == pytest.approx(170.0 / 0.514444, rel=0.05)
    assert late["track"].mean() == pytest.approx(118.07, abs=3.0)


def test_mode_c_altitude_places_the_plot_exactly() -> None:
    rng = np.random.default_rng(2)
    t = T0 + 4.0 * np.arange(40)
    lat, lon = straight(t, 50.6, 7.5, ve=-120.0, vn=120.0)
    tracker = RadarTracker()
    rows, _ = tracker.update(plots(t, lat, lon, np.full(40, 31000.0), rng=rng, mode_c=True,
                                   squawk=4521), empty_tracks())
    late = rows[rows["last_seen"] >= t[10]]
    truth = np.searchsorted(t, late["last_seen"])
    err = metres(late["lat"], late["lon"], lat[truth], lon[truth])
    # 40 m in range, 0.07 deg in azimuth (about 90 m across at 75 km), filtered
    assert np.sqrt(np.mean(err**2)) < 80.0
    assert (late["squawk"] == 4521).all()
    assert late["alt"][-1] == 31000.0


def test_clutter_alone_confirms_no_track() -> None:
    rng = np.random.default_rng(3)
    scans, per_scan = 40, 25
    t = np.repeat(T0 + 4.0 * np.arange(scans), per_scan) + rng.uniform(0, 4, scans * per_scan)
    batch = plots(np.sort(t), np.zeros(len(t)), np.zeros(len(t)), np.zeros(len(t)))
    batch["range_m"] = rng.uniform(5_000, 150_000, len(t))  # uniform in range, azimuth
    batch["azimuth_deg"] = rng.uniform(0, 360, len(t))
    tracker = RadarTracker()
    snapshots = run(tracker, batch)
    assert sum(len(s) for s in snapshots) == 0
    counts = tracker.counts
    assert counts["radar-tracks-confirmed"] == 0
    assert counts["radar-tracks-started"] > 0.8 * len(t)  # each died a tentative track
    assert counts["radar-tentative-dropped"] + tracker.live_tracks == counts[
        "radar-tracks-started"]


def test_two_crossing_aircraft_keep_their_own_tracks() -> None:
    rng = np.random.default_rng(4)
    t = T0 + 4.0 * np.arange(50)
    lat_a, lon_a = straight(t, 50.5, 8.0, ve=0.0, vn=-200.0)
    lat_b, lon_b = straight(t, 50.05, 7.2, ve=220.0, vn=0.0)  # crosses A's path
    a = plots(t, lat_a, lon_a, np.full(50, 24000.0), rng=rng, mode_c=True, squawk=1000)
    b = plots(t + 0.01, lat_b, lon_b, np.full(50, 26000.0), rng=rng, mode_c=True,
              squawk=2000)
    tracker = RadarTracker()
    rows, _ = tracker.update(np.sort(np.concatenate([a, b]), order="time"), empty_tracks())
    ids_a = set(rows["track_id"][rows["squawk"] == 1000].tolist())
    ids_b = set(rows["track_id"][rows["squawk"] == 2000].tolist())
    assert len(ids_a) == 1 and len(ids_b) == 1 and ids_a != ids_b


def test_exercise_plots_never_update_a_real_track() -> None:
    t = T0 + 4.0 * np.arange(20)
    lat, lon = straight(t, 50.3, 8.3, ve=100.0, vn=0.0)
    real = plots(t, lat, lon, np.full(20, 20000.0))
    drill = plots(t + 0.02, lat, lon, np.full(20, 20000.0), flags=int(ReportFlag.EXERCISE))
    tracker = RadarTracker()
    rows, _ = tracker.update(np.sort(np.concatenate([real, drill]), order="time"),
                             empty_tracks())
    exercise = (rows["flags"] & TrackFlag.EXERCISE) != 0
    assert exercise.any() and (~exercise).any()
    assert not set(rows["track_id"][exercise].tolist()) & set(rows["track_id"][~exercise].tolist())


def adsb(t: np.ndarray, lat: np.ndarray, lon: np.ndarray, alt_ft: float, icao24: int,
         ve: float, vn: float) -> np.ndarray:
    out = empty_reports(len(t))
    out["time"], out["lat"], out["lon"] = t, lat, lon
    out["sensor"] = 1
    out["source"] = SourceKind.ADSB
    out["icao24"] = icao24
    out["alt_baro"] = alt_ft
    out["groundspeed"] = math.hypot(ve, vn) / 0.514444
    out["track"] = math.degrees(math.atan2(ve, vn)) % 360
    out["nacp"] = 9
    out["frame_hash"] = np.arange(1, len(t) + 1, dtype=np.uint64) * 7919
    return out


def test_transponder_loss_continues_the_same_track_on_primary_radar() -> None:
    """ADS-B for a minute, then the transponder goes silent and only primary radar sees
    the aircraft: one track throughout, flagged PRIMARY_ONLY, raising the alert."""
    rng = np.random.default_rng(5)
    icao, ve, vn = 0x3C6DD0, 160.0, 60.0
    fine = T0 + np.arange(0.0, 60.0, 1.0)
    radar_t = T0 + 0.5 + 4.0 * np.arange(30)
    lat, lon = straight(np.concatenate([[T0], fine]), 50.3, 7.6, ve, vn)
    rlat, rlon = straight(np.concatenate([[T0], radar_t]), 50.3, 7.6, ve, vn)
    reports = adsb(fine, lat[1:], lon[1:], 11000.0, icao, ve, vn)
    primary = plots(radar_t, rlat[1:], rlon[1:], np.full(30, 11000.0), rng=rng, sensor=2)
    pipeline = Pipeline([], [BadInput(quiet=True)] * 3)
    ids = set()
    for start in np.arange(T0, T0 + 120.0, 2.0):
        r = reports[(reports["time"] >= start) & (reports["time"] < start + 2)]
        p = primary[(primary["time"] >= start) & (primary["time"] < start + 2)]
        pipeline.process([SourceOutput(empty_frames(), r, p)])
        pipeline.expire(start + 2)
        snap = pipeline.snapshot(start + 2)
        ids |= set(snap["track_id"].tolist())
    assert len(snap) == 1 and len(ids) == 1  # one aircraft, one track
    row = snap[0]
    assert row["icao24"] == icao
    assert row["flags"] & TrackFlag.PRIMARY_ONLY
    assert not row["flags"] & TrackFlag.COASTING
    assert row["sources"] & (1 << SourceKind.RADAR_PSR)
    now = T0 + 120.0
    lat_now, lon_now = straight(np.array([T0, now]), 50.3, 7.6, ve, vn)
    assert metres(row["lat"], row["lon"], lat_now[1], lon_now[1]) < 300.0
    assert pipeline.radar.counts["radar-plots-to-cooperative"] == 30
    lost = transponder_loss_conditions(snap, now, RulesConfig(), None)
    assert lost["rule"].tolist() == [Rule.TRANSPONDER_LOSS]


@settings(max_examples=100, deadline=None)
@given(arrays(RADAR_PLOT_DTYPE, st.integers(0, 30)))
def test_any_plots_never_crash_the_tracker(batch: np.ndarray) -> None:
    tracker = RadarTracker()
    batch = batch[~np.isnan(batch["time"])] if len(batch) else batch
    rows, _ = tracker.update(batch, empty_tracks())
    tracker.expire(T0)
    snap = tracker.snapshot(T0)
    for r in (rows, snap):
        assert np.isfinite(r["lat"]).all() or not len(r)
    assert tracker.counts["radar-plots"] == len(batch)
