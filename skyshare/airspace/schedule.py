"""When volumes are active: UTC windows and weekly windows, looked up for many volumes at
once (:class:`ScheduleTable`), and the schedule syntax of the files."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import numpy as np

from skyshare.airspace.common import BoolArray, FloatArray, IntArray, _Invalid

DAY_S: Final = 86_400
WEEK_S: Final = 7 * DAY_S
MONDAY0: Final = 4 * DAY_S  # 1970-01-05T00:00Z, the first Monday after the epoch (a Thursday)
T_SPAN: Final = 2.0**32  # UNIX times are clamped to [0, 2**32) s (until 2106) in indexes


@dataclass(frozen=True)
class WeeklyWindow:
    """Active on ``days`` (0 = Monday, UTC) from ``start_min`` to ``end_min`` minutes after
    midnight UTC; an end at or before the start runs past midnight into the next day."""

    days: frozenset[int]
    start_min: int
    end_min: int

    def intervals(self) -> list[tuple[int, int]]:
        """[start, end) in seconds after Monday 00:00 UTC (an end may pass the week)."""
        length = (self.end_min - self.start_min) % 1440 or 1440
        return [(d * DAY_S + self.start_min * 60, d * DAY_S + (self.start_min + length) * 60)
                for d in sorted(self.days)]


@dataclass(frozen=True)
class Schedule:
    """When a volume is active: always, or in any of the UTC ``windows`` ([start, end)
    UNIX seconds) or of the ``weekly`` windows.  ``always=False`` with neither is never."""

    always: bool = True
    windows: tuple[tuple[float, float], ...] = ()
    weekly: tuple[WeeklyWindow, ...] = ()

    def __post_init__(self) -> None:
        if self.always and (self.windows or self.weekly):
            raise ValueError("an always-active schedule has no windows")

    def active(self, t: float) -> bool:
        """Whether active at UNIX time ``t``."""
        if self.always or any(a <= t < b for a, b in self.windows):
            return True
        sow = (t - MONDAY0) % WEEK_S
        return any(a <= s < b for w in self.weekly for a, b in w.intervals()
                   for s in (sow, sow + WEEK_S))


ALWAYS: Final = Schedule()


class _IntervalIndex:
    """Disjoint [start, end) intervals of many owners, searched for many (owner, x) at once.

    Keys are ``owner * span + x`` so that one sorted array serves every owner (UNIX
    times keep 1 ms precision up to ~2,000 owners, 0.1 s up to ~200,000)."""

    def __init__(self, owner: IntArray, start: FloatArray, end: FloatArray, span: float) -> None:
        self._span = span
        keep = end > start
        a = owner[keep] * span + start[keep]
        b = owner[keep] * span + end[keep]
        order = np.argsort(a, kind="stable")
        a, b = a[order], b[order]
        reach = np.maximum.accumulate(b) if len(b) else b
        first = np.r_[True, a[1:] > reach[:-1]] if len(a) else np.zeros(0, bool)
        self._a = a[first]
        self._b = np.maximum.reduceat(b, np.flatnonzero(first)) if len(a) else b
        self._owner = (self._a // span).astype(np.intp)

    def next_start(self, owner: IntArray, x: FloatArray) -> tuple[BoolArray, FloatArray]:
        """(x inside an interval of its owner, the earliest y >= x in one: inf if none)."""
        n = len(self._a)
        if n == 0:
            return np.zeros(len(x), bool), np.full(len(x), np.inf)
        base = owner * self._span
        q = base + x
        i = np.searchsorted(self._a, q, side="right") - 1
        ic = np.clip(i, 0, n - 1)
        inside = (i >= 0) & (self._owner[ic] == owner) & (q < self._b[ic])
        j = np.clip(i + 1, 0, n - 1)
        later = (i + 1 < n) & (self._owner[j] == owner)
        return inside, np.where(inside, x, np.where(later, self._a[j] - base, np.inf))


class ScheduleTable:
    """The schedules of many volumes compiled for vectorised look-ups."""

    def __init__(self, schedules: Sequence[Schedule]) -> None:
        self._always = np.array([s.always for s in schedules], bool)
        rows = [(i, a, b) for i, s in enumerate(schedules) for a, b in s.windows]
        owner, start, end = _columns(rows)
        self._windows = _IntervalIndex(owner, np.clip(start, 0.0, T_SPAN - 1.0),
                                       np.clip(end, 0.0, T_SPAN - 1.0), T_SPAN)
        rows = []
        for i, s in enumerate(schedules):
            for w in s.weekly:
                for a, b in w.intervals():  # folded into one week, then repeated for look-ahead
                    parts = [(a, b)] if b <= WEEK_S else [(a, WEEK_S), (0, b - WEEK_S)]
                    rows += [(i, pa + k, pb + k) for pa, pb in parts for k in (0, WEEK_S)]
        self._weekly = _IntervalIndex(*_columns(rows), 3.0 * WEEK_S)

    def next_active(self, owner: IntArray, t: FloatArray) -> tuple[BoolArray, FloatArray]:
        """(active at ``t``, the earliest time >= ``t`` when active: inf if never) per pair."""
        in_window, window = self._windows.next_start(owner, np.clip(t, 0.0, T_SPAN - 1.0))
        window = np.where(in_window, t, window)
        sow = (t - MONDAY0) % WEEK_S
        in_week, week = self._weekly.next_start(owner, sow)
        always = self._always[owner]
        now = always | in_window | in_week
        return now, np.where(now, t, np.minimum(window, t + (week - sow)))

    def active(self, t: float) -> BoolArray:
        """Which schedules are active at UNIX time ``t``."""
        owners = np.arange(len(self._always), dtype=np.intp)
        return self.next_active(owners, np.full(len(owners), float(t)))[0]


def _columns(rows: list[tuple[int, float, float]]) -> tuple[IntArray, FloatArray, FloatArray]:
    table = np.array(rows, dtype=np.float64).reshape(-1, 3)
    return table[:, 0].astype(np.intp), table[:, 1], table[:, 2]


_DAYS: Final = {d: i for i, names in enumerate((
    ("mon", "monday"), ("tue", "tuesday"), ("wed", "wednesday"), ("thu", "thursday"),
    ("fri", "friday"), ("sat", "saturday"), ("sun", "sunday"))) for d in names}
_HHMM_RE = re.compile(r"(\d{1,2}):(\d{2})", re.A)


def _parse_utc(text: object) -> float:
    """UNIX seconds of an ISO 8601 time with a UTC offset ("2026-11-23T08:00Z")."""
    if not isinstance(text, str):
        raise _Invalid(f"time {text!r} is not an ISO 8601 string")
    s, extra = text.strip(), 0.0
    if m := re.search(r"T24:00(:00)?", s):  # ISO 8601 end of day
        s, extra = s[:m.start()] + "T00:00" + s[m.end():], float(DAY_S)
    try:
        dt = datetime.fromisoformat(s)
        if dt.tzinfo is None or dt.utcoffset() is None:
            raise _Invalid(f"time {text!r} has no UTC offset (write e.g. 2026-11-23T08:00:00Z)")
        return dt.timestamp() + extra
    except (ValueError, OverflowError) as exc:
        if isinstance(exc, _Invalid):
            raise
        raise _Invalid(f"bad ISO 8601 time {text!r}") from None


def _is_none(text: object) -> bool:
    return isinstance(text, str) and text.strip().upper() == "NONE"


def _window(start: object, end: object) -> tuple[float, float]:
    """[start, end) in UNIX seconds; "NONE" (OpenAir AA) leaves that side open."""
    a = -math.inf if _is_none(start) else _parse_utc(start)
    b = math.inf if _is_none(end) else _parse_utc(end)
    if b <= a:
        raise _Invalid(f"schedule window ends ({end}) before it starts ({start})")
    return a, b


def _minutes(text: object, *, end: bool) -> int:
    m = _HHMM_RE.fullmatch(text.strip()) if isinstance(text, str) else None
    if m is None or int(m[2]) >= 60 or int(m[1]) > 24 or (int(m[1]) == 24 and
                                                              (int(m[2]) or not end)):
        raise _Invalid(f"bad time of day {text!r} (expected HH:MM UTC, 24:00 only as 'to')")
    return int(m[1]) * 60 + int(m[2])


def _weekly(item: object) -> WeeklyWindow:
    if not isinstance(item, dict) or set(item) != {"days", "from", "to"}:
        raise _Invalid(f"weekly window {item!r} must have exactly 'days', 'from' and 'to'")
    days = item["days"]
    if not isinstance(days, list) or not days or not all(
            isinstance(d, str) and d.lower() in _DAYS for d in days):
        raise _Invalid(f"weekly 'days' {days!r} must be a list of Mon, Tue ... Sun")
    start, end = _minutes(item["from"], end=False), _minutes(item["to"], end=True)
    if start % 1440 == end % 1440 and not (start == 0 and end == 1440):
        raise _Invalid(f"weekly window from {item['from']} to {item['to']} is empty")
    return WeeklyWindow(frozenset(_DAYS[d.lower()] for d in days), start, end)


def _parse_schedule(obj: object) -> Schedule:
    """A GeoJSON ``schedule`` property (absent: always active)."""
    if obj is None:
        return ALWAYS
    if not isinstance(obj, dict) or not obj or set(obj) - {"windows", "weekly"}:
        raise _Invalid(f"schedule {obj!r} must be an object with 'windows' and/or 'weekly'")
    windows, weekly = obj.get("windows", []), obj.get("weekly", [])
    if not isinstance(windows, list) or not all(
            isinstance(w, list) and len(w) == 2 for w in windows):
        raise _Invalid("schedule 'windows' must be a list of [start, end] ISO 8601 pairs")
    if not isinstance(weekly, list):
        raise _Invalid("schedule 'weekly' must be a list of {days, from, to} objects")
    return Schedule(False, tuple(_window(a, b) for a, b in windows),
                    tuple(_weekly(w) for w in weekly))
