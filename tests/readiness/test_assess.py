"""Judging a sensor: each state and each reason from a history built second by second."""

from __future__ import annotations

from skyshare.readiness.assess import assess
from skyshare.readiness.clock import ClockEstimate
from skyshare.readiness.series import CounterSeries
from skyshare.readiness.settings import ReadinessConfig
from skyshare.sources.base import SensorStatus

T0 = 1_800_000_000.0
CONFIG = ReadinessConfig(silent_after_s=30, window_s=60, baseline_s=1800)


def status() -> SensorStatus:
    return SensorStatus(name="rx", index=0, format="beast", mode="connect",
                        address="127.0.0.1:30005", connected=True)


def history(rates: list[tuple[int, int, int]]) -> CounterSeries:
    """``rates``: (seconds, messages/s, errors/s) stretches, one sample a second."""
    series = CounterSeries(3600)
    t = T0
    for seconds, messages, errors in rates:
        for _ in range(seconds):
            series.add(t, [messages * 20, messages, errors, messages, messages * 20])
            t += 1
    return series


def test_a_sensor_never_heard_waits_then_is_silent() -> None:
    series = CounterSeries(3600)
    assert assess(status(), series, None, CONFIG, T0 + 10, T0).state == "waiting"
    later = assess(status(), series, None, CONFIG, T0 + 31, T0)
    assert later.state == "silent" and "since the node started 31 s ago" in later.reasons[0]


def test_a_sensor_that_stops_is_silent_after_the_threshold() -> None:
    series = history([(120, 50, 0)])
    last = T0 + 119
    assert assess(status(), series, None, CONFIG, last + 29, T0).state == "ok"
    judged = assess(status(), series, None, CONFIG, last + 31, T0)
    assert judged.state == "silent" and judged.measure == judged.silent_s == 31
    assert judged.gaps.count == 1 and judged.gaps.recent[0][1] == last + 31


def test_errors_over_the_threshold_degrade_it() -> None:
    series = history([(120, 50, 2), (60, 50, 10)])
    judged = assess(status(), series, None, CONFIG, T0 + 179, T0)
    assert judged.state == "degraded" and judged.reasons[0].startswith("errors: 17%")
    assert abs(judged.measure - 10 / 60) < 1e-9
    calm = assess(status(), history([(120, 50, 2)]), None, CONFIG, T0 + 119, T0)
    assert calm.state == "ok"  # 4 % erroneous is within 10 %


def test_a_rate_fallen_below_half_its_baseline_degrades_it() -> None:
    series = history([(600, 40, 0), (60, 15, 0)])
    judged = assess(status(), series, None, CONFIG, T0 + 659, T0)
    assert judged.state == "degraded" and judged.reasons[0].startswith("rate: 15.0")
    assert judged.baseline_rate == 40 and abs(judged.measure - 15 / 40) < 1e-9
    quiet = history([(600, 1, 0), (60, 0, 0)])  # a quiet receiver: no baseline to judge
    still = assess(status(), quiet, None, CONFIG, T0 + 659, T0)
    assert "rate" not in " ".join(still.reasons)


def test_a_drifting_clock_degrades_it_and_zero_turns_the_check_off() -> None:
    series = history([(120, 50, 0)])
    clock = ClockEstimate(-2500.0, 0.5, 1.0, 0, 100, 100.0)
    judged = assess(status(), series, clock, CONFIG, T0 + 119, T0)
    assert judged.state == "degraded" and "runs slow by 2,500 ppm" in judged.reasons[0]
    off = ReadinessConfig(max_clock_drift_ppm=0)
    assert assess(status(), series, clock, off, T0 + 119, T0).state == "ok"
