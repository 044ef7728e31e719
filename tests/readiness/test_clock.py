"""Receiver clocks: frames stamped by a simulated 12 MHz counter that runs fast or slow
by a known amount, read at arrival times with random network delays; the estimate must
find the drift it was given, count restarts, and keep sensors apart."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from skyshare.model import FrameFlag, empty_frames
from skyshare.readiness.clock import TICKS_PER_S, ClockWatch

T0 = 1_800_000_000.0


def reads(watch: ClockWatch, *, sensor: int, drift_ppm: float, seconds: float, epoch: float,
          seed: int, per_read: int = 20, every_s: float = 0.05, start: float = T0,
          tick_rate: float = TICKS_PER_S) -> None:
    """A receiver whose counter starts at ``epoch`` and counts ``tick_rate`` * (1 + drift)
    per second; frames leave it at random, each read arrives 1-30 ms after its last."""
    rng = np.random.default_rng(seed)
    t = start
    while t < start + seconds:
        sent = np.sort(t - rng.uniform(0, every_s, per_read))
        f = empty_frames(per_read)
        f["sensor"] = sensor
        f["flags"] = FrameFlag.CLOCK_VALID
        f["clock"] = ((sent - epoch) * tick_rate * (1 + drift_ppm * 1e-6)).astype(np.uint64)
        f["time"] = t + rng.exponential(0.005) + 0.001  # one read: one arrival time
        watch.observe(f)
        t += every_s


@settings(max_examples=10, deadline=None)
@given(st.floats(-300, 300), st.integers(0, 10_000))
def test_drift_is_found_to_within_a_few_ppm(drift: float, seed: int) -> None:
    watch = ClockWatch(600)
    reads(watch, sensor=2, drift_ppm=drift, seconds=400, epoch=T0 - 5000, seed=seed)
    est = watch.estimate(2)
    assert est is not None and est.drift_ppm is not None
    assert abs(est.drift_ppm - drift) < 3.0, est
    assert est.resets == 0 and est.samples >= 390
    assert est.jitter_ms is not None and est.jitter_ms < 20


def test_a_clock_that_is_not_12_mhz_shows_as_a_huge_drift() -> None:
    """A GPS stamp in nanoseconds read as 12 MHz ticks runs 83 times too fast."""
    watch = ClockWatch(600)
    reads(watch, sensor=0, drift_ppm=0, seconds=60, epoch=T0 - 100, seed=1, tick_rate=1e9)
    est = watch.estimate(0)
    assert est is not None and est.drift_ppm is not None
    assert math.isclose(est.drift_ppm, (1e9 / TICKS_PER_S - 1) * 1e6, rel_tol=1e-3)


def test_a_counter_that_starts_again_is_a_reset_and_the_fit_starts_afresh() -> None:
    watch = ClockWatch(600)
    reads(watch, sensor=0, drift_ppm=80, seconds=60, epoch=T0 - 9000, seed=2)
    reads(watch, sensor=0, drift_ppm=-400, seconds=300, epoch=T0 + 59, seed=3, start=T0 + 60)
    est = watch.estimate(0)
    assert est is not None and est.resets == 1
    assert est.drift_ppm is not None and abs(est.drift_ppm + 400) < 3  # only the new clock
    assert est.span_s < 301


def test_sensors_are_kept_apart_and_unstamped_frames_ignored() -> None:
    watch = ClockWatch(600)
    reads(watch, sensor=0, drift_ppm=100, seconds=300, epoch=T0 - 10, seed=4)
    reads(watch, sensor=1, drift_ppm=-100, seconds=300, epoch=T0 - 99999, seed=5)
    plain = empty_frames(5)
    plain["sensor"] = 3
    plain["time"] = T0
    watch.observe(plain)  # no CLOCK_VALID: nothing to learn
    first, second = watch.estimate(0), watch.estimate(1)
    assert first is not None and second is not None
    assert first.drift_ppm is not None and abs(first.drift_ppm - 100) < 3
    assert second.drift_ppm is not None and abs(second.drift_ppm + 100) < 3
    assert watch.estimate(3) is None


def test_mixed_sensors_in_one_batch_are_split() -> None:
    watch = ClockWatch(600)
    for k in range(40):
        f = empty_frames(2)
        f["sensor"] = [0, 1]
        f["flags"] = FrameFlag.CLOCK_VALID
        t = T0 + k
        f["clock"] = [int((t - 0.01 - (T0 - 50)) * TICKS_PER_S),
                      int((t - 0.01 - (T0 - 7)) * TICKS_PER_S * (1 + 500e-6))]
        f["time"] = t
        watch.observe(f)
    a, b = watch.estimate(0), watch.estimate(1)
    assert a is not None and b is not None
    assert math.isclose(a.offset_s, T0 - 50 + 0.01, abs_tol=1e-3)
    assert a.drift_ppm is not None and abs(a.drift_ppm) < 1
    assert b.drift_ppm is not None and abs(b.drift_ppm - 500) < 2


def test_few_samples_give_no_drift_yet() -> None:
    watch = ClockWatch(600)
    reads(watch, sensor=0, drift_ppm=10, seconds=3, epoch=T0 - 10, seed=6)
    est = watch.estimate(0)
    assert est is not None and est.drift_ppm is None and est.samples <= 4
