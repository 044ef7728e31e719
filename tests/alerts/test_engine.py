"""The alert engine's hysteresis, evidence and clearing, fed by the real rules."""

from __future__ import annotations

import time

import numpy as np

from skyshare.alerts.engine import AlertEngine, EngineConfig
from skyshare.alerts.rules import Rule, RulesConfig, SensorRangeCoverage, evaluate
from skyshare.model import SourceKind, TrackFlag, empty_tracks

T0 = 1_790_000_000.0


def picture(n: int, squawk: int = 1000) -> np.ndarray:
    t = empty_tracks(n)
    t["track_id"] = np.arange(1, n + 1)
    t["icao24"] = 0x400000 + np.arange(n)
    t["squawk"] = squawk
    t["lat"], t["lon"], t["alt"] = 48.0, 10.0, 30000
    t["vertical_rate"] = 0
    t["last_pos"] = T0
    t["sensors"] = np.uint64(1)
    t["sources"] = 1 << SourceKind.ADSB
    return t


def run(engine: AlertEngine, tracks: np.ndarray, now: float):  # type: ignore[no-untyped-def]
    return engine.update(evaluate(tracks, now, RulesConfig()), tracks, now)


def test_an_alert_needs_consecutive_evaluations_and_keeps_its_evidence() -> None:
    engine = AlertEngine("n1", EngineConfig(confirm_updates=2))
    t = picture(3)
    t["squawk"][1] = 7700
    assert run(engine, t, T0).raised == []  # once could be a corrupted reply
    t["alt"][1] = 29000
    raised = run(engine, t, T0 + 1).raised
    assert [(a.rule, a.track_id) for a in raised] == [(Rule.SQUAWK_7700, 2)]
    alert = raised[0]
    assert alert.id == "n1-1" and alert.evidence["alt"] == 29000 and alert.active
    assert not alert.verified  # one receiver, ADS-B only
    t["alt"][1] = 28000
    assert run(engine, t, T0 + 2).raised == []  # still the same alert
    assert alert.latest["alt"] == 28000 and alert.evidence["alt"] == 29000


def test_a_broken_streak_starts_again() -> None:
    engine = AlertEngine("n1", EngineConfig(confirm_updates=2))
    t = picture(1, squawk=7500)
    ok = picture(1)
    run(engine, t, T0)
    run(engine, ok, T0 + 1)
    assert run(engine, t, T0 + 2).raised == []
    assert len(run(engine, t, T0 + 3).raised) == 1


def test_cleared_after_the_condition_is_gone_long_enough_and_flapping_does_not_reraise() -> None:
    engine = AlertEngine("n1", EngineConfig(confirm_updates=1, clear_after_s=10))
    hijack, normal = picture(1, squawk=7500), picture(1)
    assert len(run(engine, hijack, T0).raised) == 1
    assert run(engine, normal, T0 + 5).cleared == []
    assert run(engine, hijack, T0 + 6).raised == []  # came back: the same alert
    assert run(engine, normal, T0 + 12).cleared == []
    cleared = run(engine, normal, T0 + 16.5).cleared
    assert len(cleared) == 1 and cleared[0].cleared_at == T0 + 16.5 and not engine.active


def test_transponder_loss_outlives_the_deleted_track() -> None:
    engine = AlertEngine("n1", EngineConfig(confirm_updates=1, clear_after_s=5))
    coverage = SensorRangeCoverage(((48.0, 10.0),), range_nm=200)
    t = picture(1)
    t["last_pos"] = T0 - 30
    changes = engine.update(evaluate(t, T0, RulesConfig(), coverage=coverage), t, T0)
    assert [a.rule for a in changes.raised] == [Rule.TRANSPONDER_LOSS]
    gone = picture(0)
    later = engine.update(evaluate(gone, T0 + 60, RulesConfig(), coverage=coverage), gone, T0 + 60)
    assert later.cleared == [] and len(engine.active) == 1
    back = picture(1)  # the aircraft is heard again
    back["last_pos"] = T0 + 70
    returned = engine.update(evaluate(back, T0 + 70, RulesConfig(), coverage=coverage), back,
                             T0 + 70)
    assert [a.rule for a in returned.cleared] == [Rule.TRANSPONDER_LOSS] and not engine.active


def test_exercise_tracks_raise_exercise_alerts_only() -> None:
    engine = AlertEngine("n1", EngineConfig(confirm_updates=1))
    t = picture(2, squawk=7700)
    t["flags"][1] |= TrackFlag.EXERCISE
    raised = {a.track_id: a for a in run(engine, t, T0).raised}
    assert not raised[1].exercise and raised[2].exercise


def test_an_alert_storm_is_raised_whole_and_fast() -> None:
    engine = AlertEngine("n1", EngineConfig(confirm_updates=1))
    t = picture(20_000)
    t["squawk"][:5000] = 7700
    started = time.perf_counter()
    raised = run(engine, t, T0).raised
    first = time.perf_counter() - started
    assert len(raised) == 5000 and len({a.id for a in raised}) == 5000
    started = time.perf_counter()
    assert run(engine, t, T0 + 1).raised == []
    steady = time.perf_counter() - started
    # not a timing test of the machine: a guard against per-update work growing with
    # the number of active alerts far beyond the one-off cost of raising them
    assert steady < max(first, 0.05) * 3
