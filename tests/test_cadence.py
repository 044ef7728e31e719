"""The pipeline's cadence: the interval asked for while steps are quick, stretched when
they take long, back again when they are quick again."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skyshare.cadence import DUTY, WINDOW, Cadence


def test_quick_steps_keep_the_interval_asked_for() -> None:
    c = Cadence(0.05, 0.25)
    rests = [c.rest(0.01) for _ in range(100)]
    assert c.interval_s == 0.05
    assert rests == [pytest.approx(0.04)] * 100


def test_slow_steps_stretch_the_interval_to_keep_the_duty() -> None:
    c = Cadence(0.05, 0.25)
    for _ in range(WINDOW):
        c.rest(0.036)
    assert c.interval_s == pytest.approx(0.036 / DUTY)
    assert c.rest(0.036) == pytest.approx(0.036 / DUTY - 0.036)


def test_the_stretch_stops_at_the_longest_interval() -> None:
    c = Cadence(0.05, 0.25)
    for _ in range(WINDOW):
        c.rest(1.0)
    assert c.interval_s == 0.25
    assert c.rest(1.0) == 0.0  # a step longer than the interval: the next starts at once


def test_one_slow_step_does_not_shake_the_cadence() -> None:
    c = Cadence(0.05, 0.25)
    for _ in range(WINDOW):
        c.rest(0.01)
    c.rest(2.0)  # a stall: a swap, a GC pause, a burst of partner data
    assert c.interval_s == 0.05


def test_the_interval_comes_back_once_steps_are_quick_again() -> None:
    c = Cadence(0.05, 0.25)
    for _ in range(WINDOW):
        c.rest(0.08)
    assert c.interval_s > 0.15
    for _ in range(WINDOW):
        c.rest(0.01)
    assert c.interval_s == 0.05


@given(st.lists(st.floats(0.0, 10.0), min_size=1, max_size=200))
def test_the_interval_stays_between_the_bounds(steps: list[float]) -> None:
    c = Cadence(0.05, 0.25)
    for s in steps:
        rest = c.rest(s)
        assert 0.05 <= c.interval_s <= 0.25
        assert rest == pytest.approx(max(0.0, c.interval_s - s))


@pytest.mark.parametrize(("interval", "longest"), [(0.0, 1.0), (-1.0, 1.0), (0.1, 0.05),
                                                   (float("nan"), 1.0), (0.05, float("inf"))])
def test_bad_bounds_are_refused(interval: float, longest: float) -> None:
    with pytest.raises(ValueError, match="must be"):
        Cadence(interval, longest)
