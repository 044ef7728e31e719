"""Schedules: window edges, weekly windows across midnight and the week, and the
vectorised table against a datetime oracle."""

from __future__ import annotations

import numpy as np
import pytest
from airspace_helpers import T0, oracle_active, schedules, utc, volume
from hypothesis import given, settings
from hypothesis import strategies as st

import skyshare.airspace as airspace
from skyshare.airspace import Schedule, active_mask
from skyshare.airspace.schedule import _parse_schedule


def test_schedule_windows_are_half_open() -> None:
    s = Schedule(False, ((T0, T0 + 3600.0),))
    assert s.active(T0) and s.active(T0 + 3599.999)
    assert not s.active(T0 - 0.001) and not s.active(T0 + 3600.0)
    vols = [volume(schedule=s), volume(), volume(schedule=Schedule(False))]
    assert active_mask(vols, T0).tolist() == [True, True, False]
    assert active_mask(vols, T0 + 3600).tolist() == [False, True, False]


def weekly_schedule(*windows: tuple[list[str], str, str]) -> Schedule:
    obj = {"weekly": [{"days": d, "from": a, "to": b} for d, a, b in windows]}
    return _parse_schedule(obj)


@pytest.mark.parametrize(("when", "active"), [
    ("2026-11-23T08:00:00", True), ("2026-11-23T07:59:59", False),  # Monday
    ("2026-11-23T15:59:59", True), ("2026-11-23T16:00:00", False),
    ("2026-11-25T12:00:00", True),
    ("2026-11-27T12:00:00", True), ("2026-11-28T12:00:00", False),  # Friday, Saturday
    ("2026-11-28T21:59:59", False), ("2026-11-28T22:00:00", True),  # Saturday night ...
    ("2026-11-29T01:59:59", True), ("2026-11-29T02:00:00", False),  # ... into Sunday
    ("2026-11-29T23:30:00", True), ("2026-11-30T00:59:59", True),  # Sunday into Monday
    ("2026-11-30T01:00:00", False), ("2026-11-29T12:00:00", False),
    ("2026-11-24T23:59:59", False), ("2026-11-25T00:00:00", True),  # Wednesday whole day
    ("2026-11-25T23:59:59", True), ("2026-11-26T00:00:00", False),
])
def test_weekly_schedule_boundaries(when: str, active: bool) -> None:
    s = weekly_schedule((["Mon", "tue", "Wed", "Thursday", "Fri"], "08:00", "16:00"),
                        (["Sat"], "22:00", "02:00"), (["Sun"], "23:00", "01:00"),
                        (["wednesday"], "00:00", "24:00"))
    t = utc(when)
    assert s.active(t) is active
    assert active_mask([volume(schedule=s)], t).tolist() == [active]


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_active_mask_and_next_activation_agree_with_oracle(seed: int) -> None:
    rng = np.random.default_rng(seed)
    sched = schedules(rng, 12)
    table = airspace.ScheduleTable(sched)
    for t in np.r_[T0 + rng.uniform(-900, 900, 10), T0 + rng.uniform(0, 14 * 86400, 10)]:
        t = float(np.round(t))  # whole seconds meet window edges exactly
        assert table.active(t).tolist() == [oracle_active(s, t) for s in sched]
        # the next activation within 5 minutes, against a 1-second scan
        owners = np.arange(len(sched))
        now, start = table.next_active(owners, np.full(len(sched), t))
        assert now.tolist() == [oracle_active(s, t) for s in sched]
        for i, s in enumerate(sched):
            scan = next((k for k in range(0, 301) if oracle_active(s, t + k)), None)
            if scan is None:
                assert start[i] - t > 299.0
            else:
                assert scan - 1.0 < start[i] - t <= scan + 1e-6
