"""Detection rules against a per-track oracle written from the rules' definitions, on
random pictures (hypothesis) and on a real node's picture of synthetic traffic."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from skyshare.alerts.rules import (
    CONDITION_DTYPE,
    Rule,
    RulesConfig,
    SensorRangeCoverage,
    distance_nm,
    evaluate,
    verified,
)
from skyshare.model import NO_ADDRESS, NO_SQUAWK, Emergency, SourceKind, TrackFlag, empty_tracks

NOW = 1_790_000_000.0
CENTRE = (48.0, 10.0)


def random_picture(seed: int, n: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = empty_tracks(n)
    t["track_id"] = np.arange(1, n + 1)
    t["icao24"] = np.where(rng.random(n) < 0.1, NO_ADDRESS, rng.integers(0, 1 << 24, n))
    t["squawk"] = rng.choice([NO_SQUAWK, 1000, 7000, 7500, 7600, 7700, 2345], n,
                             p=[0.2, 0.3, 0.2, 0.05, 0.05, 0.05, 0.15])
    t["emergency"] = np.where(rng.random(n) < 0.15, rng.integers(1, 8, n), 0)
    t["flags"] = np.where(rng.random(n) < 0.1, TrackFlag.ON_GROUND, 0) | TrackFlag.CONFIRMED
    t["lat"] = CENTRE[0] + rng.uniform(-6, 6, n)
    t["lon"] = CENTRE[1] + rng.uniform(-9, 9, n)
    t["alt"] = np.where(rng.random(n) < 0.1, np.nan, rng.uniform(0, 40000, n))
    t["alt_geo"] = np.where(rng.random(n) < 0.5, np.nan, rng.uniform(0, 40000, n))
    t["vertical_rate"] = np.where(rng.random(n) < 0.1, np.nan, rng.uniform(-9000, 4000, n))
    t["last_pos"] = NOW - rng.uniform(0, 60, n)
    t["sensors"] = rng.choice([1, 2, 3, 5], n).astype(np.uint64)
    adsb = 1 << SourceKind.ADSB
    t["sources"] = rng.choice([adsb, adsb | (1 << SourceKind.MODES), 1 << SourceKind.MLAT,
                               1 << SourceKind.RADAR_PSR], n)
    return t


def oracle(t: np.ndarray, cfg: RulesConfig, coverage: SensorRangeCoverage) -> set[tuple[int, int]]:
    """(rule, track_id) of every condition, one track at a time from the definitions."""
    out = set()
    implied = {Emergency.UNLAWFUL_INTERFERENCE: 7500, Emergency.NO_COMMUNICATIONS: 7600,
               Emergency.GENERAL: 7700}
    for row in t:
        tid, squawk, emergency = int(row["track_id"]), int(row["squawk"]), int(row["emergency"])
        airborne = not row["flags"] & TrackFlag.ON_GROUND
        for code, rule in ((7500, Rule.SQUAWK_7500), (7600, Rule.SQUAWK_7600),
                           (7700, Rule.SQUAWK_7700)):
            if squawk == code:
                out.add((rule, tid))
        if emergency and implied.get(Emergency(emergency)) != squawk:
            out.add((Rule.ADSB_EMERGENCY, tid))
        anonymous = row["icao24"] == NO_ADDRESS and squawk == NO_SQUAWK
        if anonymous or squawk in cfg.unexpected_squawks:
            out.add((Rule.UNIDENTIFIED, tid))
        alt = row["alt"] if math.isfinite(row["alt"]) else row["alt_geo"]
        vr = row["vertical_rate"]
        fast = math.isfinite(vr) and vr <= -cfg.descent_fpm
        if airborne and fast and alt >= cfg.descent_min_alt_ft:
            out.add((Rule.ABNORMAL_DESCENT, tid))
        landing = alt < cfg.loss_min_alt_ft and not vr > 0
        if airborne and NOW - row["last_pos"] >= cfg.loss_after_s and not landing:
            lat, lon = float(row["lat"]), float(row["lon"])
            reach = (coverage.range_nm if not math.isfinite(alt) else
                     min(coverage.range_nm, 1.23 * math.sqrt(max(alt, 0.0))))
            heard = [p for i, p in enumerate(coverage.positions) if int(row["sensors"]) >> i & 1]
            depth = max((reach - haversine_nm(lat, lon, *p) for p in heard), default=-math.inf)
            if depth >= cfg.loss_depth_nm:
                out.add((Rule.TRANSPONDER_LOSS, tid))
    return out


def haversine_nm(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lon2 - lon1)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(math.sqrt(h)) / 1852


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**31), st.integers(0, 400),
       st.sampled_from([frozenset(), frozenset({7000})]))
def test_rules_match_the_per_track_oracle(seed: int, n: int, unexpected: frozenset[int]) -> None:
    tracks = random_picture(seed, n)
    cfg = RulesConfig(unexpected_squawks=unexpected)
    coverage = SensorRangeCoverage(((48.0, 10.0), (46.0, 4.0)), range_nm=250)
    got = evaluate(tracks, NOW, cfg, coverage=coverage)
    assert got.dtype == CONDITION_DTYPE
    pairs = {(int(r), int(i)) for r, i in zip(got["rule"], got["track_id"], strict=True)}
    assert len(pairs) == len(got), "a condition was reported twice"
    assert pairs == oracle(tracks, cfg, coverage)
    # each condition points at the row of its track: the evidence is that track's state
    assert (tracks["track_id"][got["row"]] == got["track_id"]).all()


def test_without_coverage_a_silent_track_raises_nothing() -> None:
    tracks = random_picture(3, 200)
    tracks["last_pos"] = NOW - 600
    got = evaluate(tracks, NOW, RulesConfig(), coverage=None)
    assert Rule.TRANSPONDER_LOSS not in set(got["rule"].tolist())


def test_leaving_coverage_is_not_transponder_loss() -> None:
    t = empty_tracks(2)
    t["track_id"] = [1, 2]
    t["squawk"] = 1000
    t["lat"], t["lon"] = [48.0, 48.0], [10.0, 10.0 + 190 / 60 / math.cos(math.radians(48))]
    t["alt"] = 30000
    t["last_pos"] = NOW - 30
    t["sensors"] = 1
    coverage = SensorRangeCoverage(((48.0, 10.0),), range_nm=200)
    got = evaluate(t, NOW, RulesConfig(), coverage=coverage)
    # the first went silent overhead the receiver; the second 190 NM out, near the edge
    assert got[got["rule"] == Rule.TRANSPONDER_LOSS]["track_id"].tolist() == [1]


def test_below_the_radio_horizon_is_not_transponder_loss() -> None:
    """At 3,500 ft a receiver on the ground hears an aircraft to about 73 NM (1.23
    sqrt(3500)); one falling silent 80 NM away went below its horizon."""
    t = empty_tracks(3)
    t["track_id"] = [1, 2, 3]
    t["squawk"] = 1000
    t["lat"] = 48.0
    t["lon"] = [10.0 + d / 60 / math.cos(math.radians(48)) for d in (20.0, 80.0, 80.0)]
    t["alt"] = [3500.0, 3500.0, np.nan]  # the last: altitude unknown, the whole range
    t["last_pos"] = NOW - 30
    t["sensors"] = 1
    got = evaluate(t, NOW, RulesConfig(), coverage=SensorRangeCoverage(((48.0, 10.0),)))
    assert got[got["rule"] == Rule.TRANSPONDER_LOSS]["track_id"].tolist() == [1, 3]
    high = SensorRangeCoverage(((48.0, 10.0),), antennas_ft=(5000.0,))  # on a mountain
    got = evaluate(t, NOW, RulesConfig(), coverage=high)
    assert got[got["rule"] == Rule.TRANSPONDER_LOSS]["track_id"].tolist() == [1, 2, 3]


def test_only_the_sensors_that_heard_it_and_where_they_saw_judge_a_silent_track() -> None:
    """Sensor 7 (at 48 N 10 E) and sensor 2 (at 46 N 4 E): a track above sensor 7 heard
    only by sensor 2 is not lost in sensor 7's circle; one no sensor of ours heard (a
    partner's) is not judged at all; a failed sensor covers nothing; and with observed
    outlines a sensor covers only as far as it has seen aircraft at that bearing."""
    t = empty_tracks(4)
    t["track_id"] = [1, 2, 3, 4]
    t["squawk"] = 1000
    t["lat"], t["lon"], t["alt"] = 48.0, 10.2, 30000.0
    t["last_pos"] = NOW - 30
    t["sensors"] = [1 << 7, 1 << 2, 0, (1 << 7) | (1 << 2)]
    positions = ((48.0, 10.0), (46.0, 4.0))
    plain = SensorRangeCoverage(positions, indices=(7, 2))
    lost = evaluate(t, NOW, RulesConfig(), coverage=plain)
    assert lost[lost["rule"] == Rule.TRANSPONDER_LOSS]["track_id"].tolist() == [1, 4]
    down = SensorRangeCoverage(positions, indices=(7, 2),
                               working=lambda: [index != 7 for index in range(8)])
    lost = evaluate(t, NOW, RulesConfig(), coverage=down)
    assert not (lost["rule"] == Rule.TRANSPONDER_LOSS).any()
    asked: list[int] = []

    def seen_to(index: int, lat: np.ndarray, lon: np.ndarray, alt: np.ndarray) -> np.ndarray:
        asked.append(index)
        return np.full(len(lat), 40.0 if index == 7 else 0.0, np.float32)

    near = SensorRangeCoverage(positions, indices=(7, 2), observed=seen_to)
    lost = evaluate(t, NOW, RulesConfig(), coverage=near)  # 8 NM inside a 40-NM outline
    assert lost[lost["rule"] == Rule.TRANSPONDER_LOSS]["track_id"].tolist() == [1, 4]
    assert set(asked) == {7, 2}
    short = SensorRangeCoverage(positions, indices=(7, 2),
                                observed=lambda i, lat, lon, alt: np.full(len(lat), 20.0))
    lost = evaluate(t, NOW, RulesConfig(), coverage=short)  # only 12 NM inside: too near
    assert not (lost["rule"] == Rule.TRANSPONDER_LOSS).any()


def test_low_and_not_climbing_is_a_landing_not_a_loss() -> None:
    t = empty_tracks(3)
    t["track_id"] = [1, 2, 3]
    t["squawk"] = 1000
    t["lat"], t["lon"], t["alt"] = 48.0, 10.1, 2000.0  # 4 NM from the receiver
    t["vertical_rate"] = [-700.0, np.nan, 1500.0]  # descending, unknown, climbing out
    t["last_pos"] = NOW - 30
    t["sensors"] = 1
    got = evaluate(t, NOW, RulesConfig(), coverage=SensorRangeCoverage(((48.0, 10.0),)))
    assert got[got["rule"] == Rule.TRANSPONDER_LOSS]["track_id"].tolist() == [3]


def test_distance_agrees_with_a_known_value() -> None:
    # Paris CDG to London Heathrow: 187.6 NM (347.5 km)
    d = distance_nm(np.array([49.0097]), np.array([2.5479]), 51.4700, -0.4543)
    assert abs(d[0] - 187.6) < 1.0


def test_verified_needs_two_sensors_or_an_independent_source() -> None:
    t = empty_tracks(4)
    t["sensors"] = np.array([1, 3, 1, 4], np.uint64)
    adsb = 1 << SourceKind.ADSB
    t["sources"] = [adsb, adsb, adsb | (1 << SourceKind.MLAT), adsb | (1 << SourceKind.MODES)]
    assert verified(t).tolist() == [False, True, True, False]
