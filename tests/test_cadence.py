"""The pipeline's cadence: the interval asked for while the node has the CPU, stretched
step by step while its steps wait for a core, back once they do not."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skyshare.cadence import CONTENDED, GROWTH, RELAXED, WINDOW, Cadence


def steps(c: Cadence, wall: float, waiting: float, n: int = WINDOW) -> float:
    """``n`` steps of ``wall`` seconds that spent the fraction ``waiting`` without the
    CPU; the last rest."""
    rest = 0.0
    for _ in range(n):
        rest = c.rest(wall, wall * (1.0 - waiting))
    return rest


def test_quick_steps_keep_the_interval_asked_for() -> None:
    c = Cadence(0.05, 0.25)
    assert steps(c, 0.01, 0.0, 10 * WINDOW) == pytest.approx(0.04)
    assert c.interval_s == 0.05


def test_long_steps_with_the_cpu_to_themselves_follow_each_other_at_once() -> None:
    c = Cadence(0.05, 0.25)  # a busy node alone on its machine: stretching only adds latency
    assert steps(c, 0.08, RELAXED / 2, 10 * WINDOW) == 0.0
    assert c.interval_s == 0.05


def test_steps_waiting_for_a_core_stretch_the_interval_a_step_per_window() -> None:
    c = Cadence(0.05, 0.25)
    steps(c, 0.03, CONTENDED + 0.2, WINDOW - 1)
    assert c.interval_s == 0.05  # steady within a window
    rest = steps(c, 0.03, CONTENDED + 0.2, 1)
    assert c.interval_s == pytest.approx(0.05 * GROWTH)
    assert rest == pytest.approx(0.05 * GROWTH - 0.03)
    steps(c, 0.03, CONTENDED + 0.2)
    assert c.interval_s == pytest.approx(0.05 * GROWTH**2)


def test_the_stretch_stops_at_the_longest_interval() -> None:
    c = Cadence(0.05, 0.25)
    assert steps(c, 1.0, 0.9, 30 * WINDOW) == 0.0
    assert c.interval_s == 0.25


def test_between_the_thresholds_the_cadence_holds_then_comes_back() -> None:
    c = Cadence(0.05, 0.25)
    steps(c, 0.03, CONTENDED + 0.2, 3 * WINDOW)
    stretched = c.interval_s
    steps(c, 0.03, (CONTENDED + RELAXED) / 2, 5 * WINDOW)  # less waiting, spaced out
    assert c.interval_s == stretched
    steps(c, 0.03, RELAXED / 2)  # the machine has CPU again
    assert c.interval_s == pytest.approx(stretched / GROWTH)
    steps(c, 0.03, RELAXED / 2, 5 * WINDOW)
    assert c.interval_s == 0.05


def test_a_few_stalled_steps_do_not_shake_the_cadence() -> None:
    c = Cadence(0.05, 0.25)
    steps(c, 0.01, 0.0, WINDOW - 5)
    steps(c, 2.0, 0.99, 5)  # stalls: swapping, a GC pause, a burst of partner data
    assert c.interval_s == 0.05


@given(st.lists(st.tuples(st.floats(0.0, 10.0), st.floats(0.0, 1.0)), min_size=1,
                max_size=400))
def test_the_interval_stays_between_its_bounds(history: list[tuple[float, float]]) -> None:
    c = Cadence(0.05, 0.25)
    for wall, share in history:
        rest = c.rest(wall, wall * share)
        assert 0.05 <= c.interval_s <= 0.25
        assert rest == pytest.approx(max(0.0, c.interval_s - wall))


@pytest.mark.parametrize(("interval", "longest"), [(0.0, 1.0), (-1.0, 1.0), (0.1, 0.05),
                                                   (float("nan"), 1.0), (0.05, float("inf"))])
def test_bad_bounds_are_refused(interval: float, longest: float) -> None:
    with pytest.raises(ValueError, match="must be"):
        Cadence(interval, longest)
