"""The pipeline's cadence: the interval asked for while the node has the CPU, stretched
while its steps wait for a core, back once they do not."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skyshare.cadence import CONTENDED, DUTY, RELAXED, WINDOW, Cadence


def steps(c: Cadence, wall: float, waiting: float, n: int = WINDOW) -> float:
    """``n`` steps of ``wall`` seconds that spent the fraction ``waiting`` without the
    CPU; the last rest."""
    rest = 0.0
    for _ in range(n):
        rest = c.rest(wall, wall * (1.0 - waiting))
    return rest


def test_quick_steps_keep_the_interval_asked_for() -> None:
    c = Cadence(0.05, 0.25)
    assert steps(c, 0.01, 0.0, 100) == pytest.approx(0.04)
    assert c.interval_s == 0.05 and not c.short


def test_long_steps_with_the_cpu_to_themselves_follow_each_other_at_once() -> None:
    c = Cadence(0.05, 0.25)  # a busy node alone on its machine: stretching only adds latency
    assert steps(c, 0.08, 0.1) == 0.0
    assert c.interval_s == 0.05 and not c.short


def test_steps_waiting_for_a_core_stretch_the_interval() -> None:
    c = Cadence(0.05, 0.25)
    rest = steps(c, 0.036, CONTENDED + 0.2)
    assert c.short
    assert c.interval_s == pytest.approx(0.036 / DUTY)
    assert rest == pytest.approx(0.036 / DUTY - 0.036)


def test_the_stretch_stops_at_the_longest_interval() -> None:
    c = Cadence(0.05, 0.25)
    assert steps(c, 1.0, 0.9) == 0.0
    assert c.interval_s == 0.25


def test_between_the_thresholds_the_cadence_holds() -> None:
    c = Cadence(0.05, 0.25)
    steps(c, 0.036, CONTENDED + 0.2)
    steps(c, 0.03, (CONTENDED + RELAXED) / 2)  # less waiting now that steps are spaced
    assert c.short and c.interval_s == pytest.approx(0.03 / DUTY)
    steps(c, 0.03, RELAXED - 0.1)  # the machine has CPU again
    assert not c.short and c.interval_s == 0.05


def test_one_stalled_step_does_not_shake_the_cadence() -> None:
    c = Cadence(0.05, 0.25)
    steps(c, 0.01, 0.0)
    c.rest(2.0, 0.01)  # a stall: swapping, a GC pause, a burst of partner data
    assert not c.short and c.interval_s == 0.05


@given(st.lists(st.tuples(st.floats(0.0, 10.0), st.floats(0.0, 1.0)), min_size=1,
                max_size=200))
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
