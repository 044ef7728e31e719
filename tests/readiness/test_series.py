"""The per-second history against a plain list of every sample (the oracle): window
totals, rates, gaps and the baseline, whatever the sampling times."""

from __future__ import annotations

import math
import statistics

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from skyshare.readiness.series import BYTES, GOOD_BYTES, MESSAGES, CounterSeries, error_count

T0 = 1_800_000_000.0

samples = st.lists(st.tuples(st.floats(0.0, 3.0), st.integers(0, 50), st.integers(0, 5)),
                   min_size=1, max_size=120)


def fill(series: CounterSeries, steps: list[tuple[float, int, int]]
         ) -> list[tuple[float, int, int]]:
    """Sample at the cumulative times of ``steps``; returns (time, messages, errors)."""
    t, out = T0, []
    for dt, messages, errors in steps:
        t += dt
        series.add(t, [messages * 20, messages, errors, messages, messages * 19])
        out.append((t, messages, errors))
    return out


@settings(max_examples=150, deadline=None)
@given(samples, st.floats(1.0, 200.0))
def test_window_totals_are_the_sums_of_the_samples_in_it(steps: list[tuple[float, int, int]],
                                                         span: float) -> None:
    series = CounterSeries(300)
    seen = fill(series, steps)
    now = seen[-1][0]
    n = math.ceil(span)
    first = math.floor(now) - n + 1  # whole seconds counted
    expected_m = sum(m for t, m, _ in seen if math.floor(t) >= first)
    expected_e = sum(e for t, _, e in seen if math.floor(t) >= first)
    totals = series.totals(now, span)
    assert totals[MESSAGES] == expected_m and totals[1] == expected_m
    assert totals[2] == expected_e and totals[BYTES] == 20 * expected_m
    assert totals[GOOD_BYTES] == 19 * expected_m


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 30), st.booleans()), min_size=1, max_size=40),
       st.integers(2, 15))
def test_gaps_are_the_runs_of_silent_seconds(runs: list[tuple[int, bool]], gap_s: int) -> None:
    """One sample a second; ``runs`` alternate heard and silent stretches."""
    series = CounterSeries(3600)
    heard: list[bool] = [True]  # the first second is heard: gaps count after it
    for length, talking in runs:
        heard += [talking] * length
    for k, on in enumerate(heard):
        series.add(T0 + k + 0.5, [100 if on else 0, 5 if on else 0, 0, 0, 100 if on else 0])
    now = T0 + len(heard) - 0.5
    oracle, k = [], 0
    while k < len(heard):
        if heard[k]:
            k += 1
            continue
        j = k
        while j < len(heard) and not heard[j]:
            j += 1
        if j - k >= gap_s:
            oracle.append((T0 + k, min(T0 + j, now)))
        k = j
    gaps = series.gaps(now, gap_s, keep=1000)
    assert gaps.count == len(oracle)
    assert list(gaps.recent) == oracle
    longest = max((b - a for a, b in oracle), default=0.0)
    assert math.isclose(gaps.longest_s, math.ceil(longest) if oracle else 0.0)


def test_rate_of_a_young_feed_divides_by_how_long_it_has_run() -> None:
    series = CounterSeries(600)
    for k in range(5):
        series.add(T0 + k, [10, 10, 0, 10, 10])
    assert math.isclose(series.rate(T0 + 4, 60), 50 / 5)
    for k in range(5, 120):
        series.add(T0 + k, [10, 10, 0, 10, 10])
    assert math.isclose(series.rate(T0 + 119, 60), 10.0)


def test_baseline_is_the_median_window_rate_before_the_current_window() -> None:
    series = CounterSeries(3600)
    rates = [5, 20, 7, 9, 30, 11, 8]  # per 60-s window, oldest first
    for w, rate in enumerate(rates):
        for k in range(60):
            series.add(T0 + 60 * w + k, [rate, rate, 0, 0, rate])
    now = T0 + 60 * len(rates) - 0.5  # the last window is the current one
    assert series.baseline(now, 60, 1800) == statistics.median(rates[:-1])
    assert series.baseline(now, 60, 1800, min_windows=7) is None  # only six before it
    assert CounterSeries(3600).baseline(now, 60, 1800) is None  # never heard


def test_counter_resets_do_not_count_backwards() -> None:
    series = CounterSeries(60)
    series.add(T0, [-50, -3, -1, -3, -50])
    assert (series.totals(T0, 10) == 0).all() and math.isnan(series.first_heard)


def test_errors_are_the_bad_input_kinds_that_are_not_normal_receiver_output() -> None:
    counts = {"beast-garbage": 40, "crc-fail": 3, "unknown-address": 500, "mode-ac": 90,
              "df-unsupported": 7, "avr-bad-hex": 1}
    assert error_count(counts) == 44
    assert error_count({}) == 0


def test_binned_series_adds_up_to_the_window() -> None:
    series = CounterSeries(600)
    rng = np.random.default_rng(3)
    for k in range(300):
        series.add(T0 + k, [0, int(rng.integers(0, 9)), int(rng.integers(0, 3)), 0, 0])
    bins = series.binned(T0 + 299, 300, 10)
    assert len(bins) == 30
    assert math.isclose(sum(m for _, m, _ in bins) * 10, series.totals(T0 + 299, 300)[MESSAGES])


def test_the_error_share_is_the_worse_of_items_and_bytes() -> None:
    from skyshare.readiness.assess import error_share

    assert error_share(90, 10, 2000, 2000) == 0.1  # bad frames, the stream itself clean
    assert error_share(100, 2, 2000, 1000) == 0.5  # two stretches, half the bytes garbage
    assert error_share(0, 0, 0, 0) is None
    assert error_share(0, 0, 500, 0) == 1.0  # bytes, nothing good in them
    assert error_share(10, 0, 100, 120) == 0.0  # a tail framed late counts as good
