"""Tracker behaviour on synthetic aircraft built directly as report batches."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pytest

from skyshare.errors import ConfigError
from skyshare.fusion import Tracker, TrackerConfig
from skyshare.fusion.geo import scales
from skyshare.model import (
    NO_ADDRESS,
    TRACK_DTYPE,
    ReportBatch,
    ReportFlag,
    SourceKind,
    TrackFlag,
    empty_reports,
)

T0 = 1_700_000_000.0
KT = 1852.0 / 3600.0
F64 = npt.NDArray[np.float64]


@dataclass
class Flight:
    """Truth of one aircraft sampled at ``t``: lat/lon and east/north velocity."""

    t: F64
    lat: F64
    lon: F64
    ve: F64
    vn: F64


def fly(seconds: float, rate_hz: float = 2.0, lat0: float = 48.0, lon0: float = 11.0,
        speed_mps: float = 250.0, heading_deg: float = 60.0, turn_dps: float = 0.0,
        t0: float = T0) -> Flight:
    """A constant-speed flight (straight or turning), integrated step by step."""
    t = t0 + np.arange(0.0, seconds, 1.0 / rate_hz)
    heading = np.radians(heading_deg + turn_dps * (t - t0))
    ve, vn = speed_mps * np.sin(heading), speed_mps * np.cos(heading)
    dt = np.diff(t, prepend=t[0])
    lat, lon = np.empty_like(t), np.empty_like(t)
    lat[0], lon[0] = lat0, lon0
    for i in range(1, len(t)):  # midpoint rule with the local scales
        m_lat, m_lon = scales(lat[i - 1])
        h = 0.5 * (heading[i - 1] + heading[i])
        lat[i] = lat[i - 1] + speed_mps * math.cos(h) * dt[i] / m_lat
        lon[i] = lon[i - 1] + speed_mps * math.sin(h) * dt[i] / m_lon
    return Flight(t, lat, lon, ve, vn)


def reports_of(f: Flight, rng: np.random.Generator, pos_sigma: float = 50.0,
               vel_sigma: float = 2.0, icao24: int = 0x3C6444,
               flags: int = 0) -> tuple[ReportBatch, F64, F64]:
    """Position+velocity reports with Gaussian noise; returns (reports, true e, true n)."""
    n = len(f.t)
    r = empty_reports(n)
    r["time"], r["icao24"], r["flags"] = f.t, icao24, flags
    r["source"], r["df"], r["sensor"] = SourceKind.ADSB, 17, 0
    m_lat, m_lon = scales(float(f.lat[0]))
    r["lat"] = f.lat + rng.normal(0, pos_sigma, n) / m_lat
    r["lon"] = f.lon + rng.normal(0, pos_sigma, n) / m_lon
    ve = f.ve + rng.normal(0, vel_sigma, n)
    vn = f.vn + rng.normal(0, vel_sigma, n)
    r["groundspeed"] = np.hypot(ve, vn) / KT
    r["track"] = np.degrees(np.arctan2(ve, vn)) % 360
    r["alt_baro"] = 35000.0
    r["callsign"] = b"AFR1234"
    r["frame_hash"] = np.arange(1, n + 1, dtype=np.uint64) * 7919 + icao24
    return r, f.lat, f.lon


def horizontal_error_m(lat: F64, lon: F64, lat_true: F64, lon_true: F64) -> F64:
    m_lat, m_lon = scales(float(np.mean(lat_true)))
    return np.asarray(np.hypot((lat - lat_true) * m_lat, (lon - lon_true) * m_lon))


def flagged(rows: npt.NDArray[np.void], flag: TrackFlag) -> npt.NDArray[np.bool_]:
    return np.asarray(rows["flags"] & np.uint16(flag) != 0)


# --------------------------------------------------------------------------- accuracy
@pytest.mark.parametrize(("speed_mps", "turn_dps"), [(250.0, 0.0), (120.0, 3.0), (250.0, 3.0)])
def test_fused_position_beats_measurement_noise(speed_mps: float, turn_dps: float) -> None:
    rng = np.random.default_rng(1)
    f = fly(300.0, speed_mps=speed_mps, turn_dps=turn_dps)
    reports, lat_true, lon_true = reports_of(f, rng)
    rows = Tracker().update(reports)
    assert len(rows) == len(reports) - 1  # every report but the first (tentative) one
    settled = rows["last_seen"] > T0 + 20
    truth = np.searchsorted(f.t, rows["last_seen"][settled])
    fused = horizontal_error_m(rows["lat"][settled], rows["lon"][settled], lat_true[truth],
                               lon_true[truth])
    raw_idx = np.flatnonzero(f.t > T0 + 20)
    raw = horizontal_error_m(reports["lat"][raw_idx], reports["lon"][raw_idx],
                             lat_true[raw_idx], lon_true[raw_idx])
    fused_rmse, raw_rmse = np.sqrt(np.mean(fused**2)), np.sqrt(np.mean(raw**2))
    assert raw_rmse == pytest.approx(50 * math.sqrt(2), rel=0.1)
    assert fused_rmse < 0.25 * raw_rmse, (fused_rmse, raw_rmse)
    # the reported 1-sigma is honest: per-axis RMS error within a factor 2 of it
    per_axis = fused_rmse / math.sqrt(2)
    sigma = float(np.mean(rows["pos_sigma"][settled]))
    assert 0.5 * sigma < per_axis < 2.0 * sigma, (per_axis, sigma)
    speed_err = rows["groundspeed"][settled] * KT - speed_mps
    assert np.sqrt(np.mean(speed_err**2)) < 2.0


def test_nacp_sets_measurement_noise_and_pos_sigma() -> None:
    rng = np.random.default_rng(2)
    reports, *_ = reports_of(fly(60.0), rng, pos_sigma=5.0)
    reports["nacp"] = 10  # EPU < 10 m
    good = Tracker().update(reports)
    reports["nacp"] = 5  # EPU < 926 m
    poor = Tracker().update(reports)
    assert good["pos_sigma"][-1] < 5.0 < poor["pos_sigma"][-1]


def test_snapshot_predicts_position_to_now() -> None:
    rng = np.random.default_rng(3)
    f = fly(30.0, heading_deg=90.0)
    tracker = Tracker()
    last = tracker.update(reports_of(f, rng, pos_sigma=5.0, vel_sigma=0.5)[0])[-1]
    ahead = tracker.snapshot(float(last["last_seen"]) + 10.0)
    assert len(ahead) == 1
    moved = horizontal_error_m(ahead["lat"], ahead["lon"], np.array([last["lat"]]),
                               np.array([last["lon"]]))
    assert moved[0] == pytest.approx(2500.0, rel=0.02)
    assert ahead["lon"][0] > last["lon"]  # flying east
    assert ahead["pos_sigma"][0] > last["pos_sigma"]
    at_update = tracker.snapshot()
    assert at_update["lat"][0] == last["lat"] and at_update["lon"][0] == last["lon"]


def test_altitude_filter_estimates_vertical_rate_and_rejects_jumps() -> None:
    rng = np.random.default_rng(4)
    f = fly(120.0)
    reports, *_ = reports_of(f, rng)
    true_alt = 10000.0 + 1500.0 / 60.0 * (f.t - T0)
    reports["alt_baro"] = np.round(true_alt / 25.0) * 25.0
    reports["alt_baro"][150] += 5000.0  # a corrupted altitude
    tracker = Tracker()
    rows = tracker.update(reports)
    assert tracker.counts["rejected-altitude"] == 1
    tail = rows[rows["last_seen"] > T0 + 60]
    assert np.all(np.abs(tail["alt"] - np.interp(tail["last_seen"], f.t, true_alt)) < 60)
    assert np.all(np.abs(tail["vertical_rate"] - 1500.0) < 250.0)


# --------------------------------------------------------------------------- dedup
def _three_receiver_copies(reports: ReportBatch) -> ReportBatch:
    copies = []
    for k, (sensor, source) in enumerate([(0, SourceKind.ADSB), (1, SourceKind.ADSB),
                                          (70, SourceKind.PARTNER)]):
        c = reports.copy()
        c["time"] += 0.001 * k
        c["sensor"], c["source"] = sensor, source
        c["rssi"] = -10.0 * (k + 1)
        copies.append(c)
    out = np.concatenate(copies)
    return out[np.argsort(out["time"], kind="stable")]


def test_duplicates_from_three_receivers_are_one_measurement_with_three_sensor_bits() -> None:
    rng = np.random.default_rng(5)
    single, *_ = reports_of(fly(20.0), rng)
    tracker, reference = Tracker(), Tracker()
    rows = tracker.update(_three_receiver_copies(single))
    expected = reference.update(single)
    assert tracker.counts["duplicates"] == 2 * len(single)
    assert len(rows) == len(expected) == len(single) - 1
    np.testing.assert_array_equal(rows["lat"], expected["lat"])
    np.testing.assert_array_equal(rows["messages"], expected["messages"])
    snap = tracker.snapshot()
    assert snap["messages"][0] == len(single)
    assert snap["sensors"][0] == (1 << 0) | (1 << 1) | (1 << 63)  # sensor 70 folds into 63
    assert snap["sources"][0] == (1 << SourceKind.ADSB) | (1 << SourceKind.PARTNER)
    assert snap["rssi"][0] == -10.0  # from the measured (first) copy


def test_one_message_heard_by_many_receivers_never_confirms() -> None:
    rng = np.random.default_rng(6)
    single, *_ = reports_of(fly(1.0, rate_hz=1.0), rng)
    tracker = Tracker()
    assert len(tracker.update(_three_receiver_copies(single))) == 0
    assert len(tracker.snapshot()) == 0 and tracker.live_tracks == 1
    assert tracker.counts["tracks-created"] == 1 and tracker.counts["tracks-confirmed"] == 0


def test_same_frame_from_the_same_sensor_is_a_new_transmission() -> None:
    r = empty_reports(2)
    r["time"] = [T0, T0 + 0.9]
    r["icao24"], r["frame_hash"], r["sensor"] = 0x400001, 1234, 3  # e.g. repeated DF11
    tracker = Tracker()
    assert len(tracker.update(r)) == 1
    assert tracker.counts["duplicates"] == 0


def test_same_frame_after_the_window_is_a_new_transmission() -> None:
    r = empty_reports(2)
    r["time"] = [T0, T0 + 1.5]
    r["icao24"], r["frame_hash"], r["sensor"] = 0x400001, 1234, [0, 1]
    tracker = Tracker()
    assert len(tracker.update(r)) == 1 and tracker.counts["duplicates"] == 0


def test_confirm_messages_is_configurable_but_at_least_two() -> None:
    r = empty_reports(3)
    r["time"], r["icao24"] = T0 + np.arange(3), 0x400001
    rows = Tracker(TrackerConfig(confirm_messages=3)).update(r)
    assert len(rows) == 1 and rows["messages"][0] == 3
    with pytest.raises(ConfigError):
        TrackerConfig(confirm_messages=1)
    with pytest.raises(ConfigError):
        TrackerConfig(coast_after_s=math.nan)


# --------------------------------------------------------------------------- gating
def test_implausible_jump_is_rejected_and_state_stays() -> None:
    rng = np.random.default_rng(7)
    reports, *_ = reports_of(fly(60.0), rng, pos_sigma=10.0)
    reports["groundspeed"] = np.nan  # positions only: the state moves only with them
    jump = 60
    reports["lat"][jump] += 1.0  # 111 km in 0.5 s
    tracker = Tracker()
    rows = tracker.update(reports)
    assert tracker.counts["rejected-implausible"] == 1
    at_jump = rows[rows["last_seen"] == reports["time"][jump]][0]
    before = rows[rows["last_seen"] == reports["time"][jump - 1]][0]
    assert at_jump["lat"] == before["lat"] and at_jump["lon"] == before["lon"]
    assert at_jump["last_pos"] == before["last_seen"]
    err = horizontal_error_m(rows["lat"][-10:], rows["lon"][-10:],
                             reports["lat"][-10:], reports["lon"][-10:])
    assert np.all(err < 100.0)


def test_scattered_garbage_positions_never_reinitialise() -> None:
    rng = np.random.default_rng(8)
    reports, *_ = reports_of(fly(60.0), rng, pos_sigma=10.0)
    bad = np.arange(40, 100, 2)  # every other report, each far away in a new direction
    reports["lat"][bad] += rng.choice([-1.0, 1.0], len(bad)) * rng.uniform(0.5, 2.0, len(bad))
    tracker = Tracker()
    rows = tracker.update(reports)
    assert tracker.counts["rejected-implausible"] == len(bad)
    assert tracker.counts["tracks-reinitialised"] == 0
    err = horizontal_error_m(rows["lat"][-5:], rows["lon"][-5:], reports["lat"][-5:],
                             reports["lon"][-5:])
    assert np.all(err < 100.0)


def test_wrong_first_fix_is_recovered_after_consistent_rejections() -> None:
    rng = np.random.default_rng(9)
    f = fly(30.0)
    reports, lat_true, lon_true = reports_of(f, rng, pos_sigma=10.0)
    reports["lat"][0] += 2.0  # e.g. a wrong CPR decode, 222 km north
    tracker = Tracker()
    rows = tracker.update(reports)
    assert tracker.counts["rejected-implausible"] == 3
    assert tracker.counts["tracks-reinitialised"] == 1
    err = horizontal_error_m(rows["lat"][-20:], rows["lon"][-20:], lat_true[-20:],
                             lon_true[-20:])
    assert np.all(err < 50.0)


def test_surface_positions_use_the_surface_speed_limit() -> None:
    rng = np.random.default_rng(10)
    reports, *_ = reports_of(fly(20.0, speed_mps=10.0), rng, pos_sigma=3.0)
    reports["flags"] = ReportFlag.POSITION_SURFACE
    reports["alt_baro"] = np.nan
    reports["lat"][30] += 0.01  # 1.1 km in 0.5 s: fine airborne (1000 kt), not on ground
    tracker = Tracker()
    rows = tracker.update(reports)
    assert tracker.counts["rejected-implausible"] == 1
    assert np.all(flagged(rows, TrackFlag.ON_GROUND))


def test_out_of_order_report_counts_but_leaves_the_state() -> None:
    rng = np.random.default_rng(11)
    reports, *_ = reports_of(fly(20.0), rng)
    tracker = Tracker()
    tracker.update(reports)
    before = tracker.snapshot()
    late = reports[:1].copy()
    late["sensor"], late["frame_hash"], late["lat"] = 5, 999, 10.0
    assert len(tracker.update(late)) == 0
    after = tracker.snapshot()
    assert tracker.counts["out-of-order"] == 1
    assert after["messages"][0] == before["messages"][0] + 1
    assert after["sensors"][0] == before["sensors"][0] | (1 << 5)
    for name in ("lat", "lon", "last_seen", "pos_sigma", "groundspeed"):
        assert after[name][0] == before[name][0]


def test_unsorted_batches_are_processed_in_time_order() -> None:
    rng = np.random.default_rng(12)
    reports, *_ = reports_of(fly(30.0), rng)
    shuffled = reports[rng.permutation(len(reports))]
    a, b = Tracker(), Tracker()
    assert a.update(shuffled).tobytes() == b.update(reports).tobytes()
    assert a.counts["out-of-order"] == 0


# --------------------------------------------------------------------------- lifecycle
def test_coasting_after_15_s_and_deletion_after_timeout() -> None:
    rng = np.random.default_rng(13)
    f = fly(10.0)
    tracker = Tracker()
    rows = tracker.update(reports_of(f, rng)[0])
    last = float(rows["last_seen"][-1])
    track_id = rows["track_id"][-1]
    assert len(tracker.expire(last + 14.0)) == 0
    assert not flagged(tracker.snapshot(), TrackFlag.COASTING)[0]
    assert len(tracker.expire(last + 16.0)) == 0
    assert flagged(tracker.snapshot(), TrackFlag.COASTING)[0]
    assert flagged(tracker.snapshot(last + 16.0), TrackFlag.COASTING)[0]
    assert len(tracker.expire(last + 59.0)) == 0
    deleted = tracker.expire(last + 61.0)
    assert deleted.tolist() == [track_id]
    assert len(tracker.snapshot()) == 0 and tracker.live_tracks == 0
    assert tracker.counts["tracks-deleted"] == 1


def test_a_new_report_clears_coasting() -> None:
    r = empty_reports(3)
    r["time"], r["icao24"] = [T0, T0 + 1, T0 + 30], 0x400001
    r["lat"], r["lon"] = [48.0, 48.0, 48.01], 11.0
    tracker = Tracker()
    tracker.update(r[:2])
    tracker.expire(T0 + 20)
    assert flagged(tracker.snapshot(), TrackFlag.COASTING)[0]
    row = tracker.update(r[2:])
    assert not flagged(row, TrackFlag.COASTING)[0]


def test_surface_tracks_live_longer() -> None:
    r = empty_reports(2)
    r["time"], r["icao24"], r["flags"] = [T0, T0 + 1], 0x400001, ReportFlag.ON_GROUND
    r["lat"], r["lon"] = 48.0, 11.0
    tracker = Tracker()
    tracker.update(r)
    assert flagged(tracker.snapshot(), TrackFlag.ON_GROUND)[0]
    assert len(tracker.expire(T0 + 200)) == 0
    assert len(tracker.expire(T0 + 302)) == 1


def test_stale_track_restarts_with_a_new_id_even_without_expire() -> None:
    r = empty_reports(4)
    r["time"], r["icao24"] = [T0, T0 + 1, T0 + 100, T0 + 101], 0x400001
    tracker = Tracker()
    rows = tracker.update(r)
    assert rows["track_id"].tolist() == [1, 2]
    assert tracker.counts["tracks-deleted"] == 1 and tracker.counts["tracks-created"] == 2


def test_position_older_than_timeout_is_dropped() -> None:
    r = empty_reports(4)
    r["time"], r["icao24"] = T0 + np.array([0.0, 1.0, 40.0, 70.0]), 0x400001
    r["lat"][:2], r["lon"][:2] = 48.0, 11.0  # then identity/altitude replies only
    r["alt_baro"] = 5000.0
    tracker = Tracker()
    rows = tracker.update(r)
    assert flagged(rows, TrackFlag.HAS_POSITION).tolist() == [True, True, False]
    assert np.isnan(rows["lat"][-1]) and tracker.counts["positions-dropped"] == 1


def test_stale_altitude_is_dropped_not_extrapolated() -> None:
    r = empty_reports(200)
    r["time"], r["icao24"] = T0 + np.arange(200) * 0.5, 0x400001
    r["alt_baro"][:2] = 30000.0  # then velocity messages with a vertical rate only
    r["groundspeed"][2:], r["track"][2:], r["vertical_rate"][2:] = 400.0, 90.0, -2000.0
    rows = Tracker().update(r)
    fresh = rows["last_seen"] - (T0 + 0.5) <= 60.0  # last altitude at T0 + 0.5
    assert np.all(np.abs(rows["alt"][fresh] - 30000.0) < 2100.0)
    assert np.all(np.isnan(rows["alt"][~fresh])) and (~fresh).any()


def test_empty_and_strided_batches() -> None:
    tracker = Tracker()
    assert len(tracker.update(empty_reports(0))) == 0
    r = empty_reports(8)
    r["time"], r["icao24"] = T0 + np.arange(8), 0x400001
    assert len(tracker.update(r[::2])) == 3
    with pytest.raises(TypeError):
        tracker.update(np.zeros(3, TRACK_DTYPE))


def test_track_ids_unique_increasing_and_never_reused() -> None:
    tracker = Tracker(capacity=4)  # forces growth
    seen: list[int] = []
    for round_ in range(3):
        r = empty_reports(40)
        t = T0 + 200.0 * round_
        r["time"] = t + np.repeat([0.0, 1.0], 20)
        r["icao24"] = np.tile(0x400000 + np.arange(20), 2)
        rows = tracker.update(r)
        assert len(rows) == 20 and len(set(rows["track_id"].tolist())) == 20
        seen += rows["track_id"].tolist()
        assert len(tracker.expire(t + 100.0)) == 20
    assert seen == sorted(seen) and len(set(seen)) == 60


def test_a_future_timestamp_cannot_freeze_a_track() -> None:
    r = empty_reports(4)
    r["time"], r["icao24"] = [T0, T0 + 1, T0 + 1e9, T0 + 2], 0x400001  # one corrupt time
    tracker = Tracker()
    rows = tracker.update(r)
    assert rows["last_seen"].tolist() == [T0 + 1, T0 + 2]
    assert tracker.counts["bad-time"] == 1 and tracker.counts["out-of-order"] == 0


def test_no_address_reports_are_ignored_and_counted() -> None:
    r = empty_reports(3)
    r["time"], r["icao24"], r["lat"], r["lon"] = T0 + np.arange(3), NO_ADDRESS, 48.0, 11.0
    tracker = Tracker()
    assert len(tracker.update(r)) == 0 and tracker.live_tracks == 0
    assert tracker.counts["no-address"] == 3 and tracker.counts["reports"] == 3


# --------------------------------------------------------------------------- identity
def test_exercise_and_real_reports_of_one_address_are_separate_tracks() -> None:
    rng = np.random.default_rng(14)
    real, *_ = reports_of(fly(10.0), rng)
    exercise, *_ = reports_of(fly(10.0, lat0=45.0), rng, flags=int(ReportFlag.EXERCISE))
    exercise["frame_hash"] = real["frame_hash"]  # identical frames must not dedup across
    exercise["sensor"] = 9
    both = np.concatenate([real, exercise])
    tracker = Tracker()
    rows = tracker.update(both)
    assert tracker.counts["duplicates"] == 0 and tracker.counts["rejected-implausible"] == 0
    snap = tracker.snapshot()
    assert len(snap) == 2 and len(set(snap["track_id"].tolist())) == 2
    is_ex = flagged(snap, TrackFlag.EXERCISE)
    assert is_ex.sum() == 1
    assert snap["lat"][is_ex][0] < 46.0 < snap["lat"][~is_ex][0]
    real_rows = rows[rows["track_id"] == snap["track_id"][~is_ex][0]]
    assert not flagged(real_rows, TrackFlag.EXERCISE).any()
    assert snap["sensors"][~is_ex][0] == 1  # the exercise sensor never touched it


def test_non_icao_addresses_are_separate_from_icao() -> None:
    r = empty_reports(4)
    r["time"], r["icao24"] = T0 + np.arange(4), 0x400001
    r["flags"][2:] = ReportFlag.NON_ICAO
    tracker = Tracker()
    tracker.update(r)
    snap = tracker.snapshot()
    assert len(snap) == 2 and flagged(snap, TrackFlag.NON_ICAO).sum() == 1


def test_identity_fields_follow_the_latest_report_that_has_them() -> None:
    r = empty_reports(4)
    r["time"], r["icao24"] = T0 + np.arange(4), 0xABCDEF
    r["callsign"][1], r["squawk"][1], r["category"][1] = b"BAW12", 7700, 0xA3
    r["emergency"][1], r["nacp"][1], r["nic"][1], r["sil"][1] = 1, 9, 8, 3
    r["flags"][2] = ReportFlag.SPI
    rows = Tracker().update(r)
    last = rows[-1]
    assert last["callsign"] == b"BAW12" and last["squawk"] == 7700
    assert last["category"] == 0xA3 and last["emergency"] == 1
    assert (last["nacp"], last["nic"], last["sil"]) == (9, 8, 3)
    assert flagged(rows, TrackFlag.SPI).tolist() == [False, True, True]
    assert rows.dtype == TRACK_DTYPE and last["first_seen"] == T0
    assert np.isnan(last["lat"]) and not flagged(rows, TrackFlag.HAS_POSITION).any()


def test_velocity_before_position_is_kept_as_prior() -> None:
    r = empty_reports(3)
    r["time"], r["icao24"] = T0 + np.array([0.0, 0.5, 1.0]), 0x400001
    r["groundspeed"][0], r["track"][0] = 400.0, 90.0
    r["lat"][1:], r["lon"][1:] = 48.0, [11.0, 11.0 + 100.0 / scales(48.0)[1]]
    rows = Tracker().update(r)
    assert rows["groundspeed"][0] == pytest.approx(400.0, rel=0.01)
    assert rows["track"][-1] == pytest.approx(90.0, abs=1.0)


def test_public_api_is_frozen() -> None:
    import skyshare.fusion as fusion
    import skyshare.fusion.tracker as tracker_module

    assert fusion.__all__ == ["Tracker", "TrackerConfig"]
    assert tracker_module.__all__ == ["Tracker", "TrackerConfig"]
    assert set(Tracker().counts) >= {"reports", "duplicates", "rejected-implausible",
                                     "tracks-created", "tracks-deleted"}
