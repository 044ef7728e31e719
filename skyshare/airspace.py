"""Airspace volumes and responsibility regions: loading, and checks over every track.

Two questions of civil airspace security are answered here for the whole picture at
once (numpy arrays of every track, no Python loop per track): which tracks are inside
an active restricted volume, or will enter one soon (:class:`VolumeSet`); and which
partner (air navigation service) is responsible for a position (:class:`Regions`).

Files (:func:`load_airspace`, :func:`load_regions`) are configuration: all or
nothing.  The first bad record stops loading with an :class:`AirspaceFileError` whose
``where`` is ``file:line`` (OpenAir, JSON syntax) or ``file:feature N`` (GeoJSON; N
indexes the ``features`` array from 0, as ``jq '.features[N]'`` does).

Conventions and known approximations:

* Geometry is planar in lon/lat degrees (shapely), edges are straight in lon/lat, and
  OpenAir arcs and circles are sampled every :data:`ARC_STEP_DEG` degrees on a sphere.
  Volumes crossing the antimeridian are not supported.
* Vertical limits: FL limits compare with the barometric altitude ``alt`` (``alt_geo``
  when ``alt`` is unknown); AMSL limits with ``alt_geo`` (``alt`` when unknown).  AGL
  limits are compared as if AMSL (there is no terrain model): over high ground an AGL
  volume is too low by the terrain height.  A lower limit at or below 0 ft (GND, SFC,
  0 ft AGL) is no lower bound; UNL is no upper bound; limits are inclusive.
* A track whose altitude is unknown (NaN in both) counts as vertically inside by
  default (``unknown_alt_inside=True``): a security alert must not miss a target that
  does not report altitude.  With ``False`` it is inside only volumes that span every
  altitude (no lower and no upper bound).
* Arcs and circles are inscribed polygons: at most r(1 - cos 1 deg), 3 m at 10 NM,
  inside the true curve.
* Dead reckoning (:func:`dead_reckon`) is a straight line in lon/lat at constant ground
  speed and track, scaled at the start latitude on a sphere; altitude changes at the
  constant vertical rate.  It departs from a great circle by about d^2 tan(lat) / 2R
  (85 m after 30 km at 50 N: well under a second of flight); entry times are exact for
  this model (no time sampling).
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any, Final, TypeAlias, TypeVar

import numba as nb
import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import MultiPolygon, Polygon

from skyshare.errors import ConfigError

__all__ = [
    "ALWAYS",
    "ARC_STEP_DEG",
    "AirspaceFileError",
    "Limit",
    "LimitRef",
    "Region",
    "Regions",
    "Schedule",
    "ScheduleTable",
    "Volume",
    "VolumeSet",
    "WeeklyWindow",
    "active_mask",
    "dead_reckon",
    "load_airspace",
    "load_geojson",
    "load_openair",
    "load_regions",
    "parse_geojson",
    "parse_limit",
    "parse_openair",
    "parse_regions",
]

log = logging.getLogger("skyshare.airspace")

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
BoolArray = npt.NDArray[np.bool_]
Area: TypeAlias = Polygon | MultiPolygon
T = TypeVar("T")

EARTH_RADIUS_M: Final = 6_371_008.8  # mean radius (IUGG)
NM_M: Final = 1852.0
FT_PER_M: Final = 1.0 / 0.3048
KT_MPS: Final = NM_M / 3600.0
ARC_STEP_DEG: Final = 2.0
MAX_RADIUS_NM: Final = 1000.0
MAX_GROUNDSPEED_KT: Final = 10_000.0  # beyond this a reported speed is taken as unknown
DAY_S: Final = 86_400
WEEK_S: Final = 7 * DAY_S
MONDAY0: Final = 4 * DAY_S  # 1970-01-05T00:00Z, the first Monday after the epoch (a Thursday)
T_SPAN: Final = 2.0**32  # UNIX times are clamped to [0, 2**32) s (until 2106) in indexes


class AirspaceFileError(ConfigError):
    """A bad airspace or region file: ``where`` names ``file:line`` or ``file:feature N``."""

    def __init__(self, message: str, *, path: str, line: int | None = None,
                 feature: int | None = None, feature_id: str | None = None) -> None:
        self.path, self.line, self.feature = path, line, feature
        where = path
        if line is not None:
            where = f"{path}:{line}"
        elif feature is not None:
            where = f"{path}:feature {feature}" + (f" (id {feature_id!r})" if feature_id else "")
        super().__init__(message, where=where)


class _Invalid(ValueError):
    """A bad value; the loader adds where it was (file and line or feature)."""


# --------------------------------------------------------------------------- limits
class LimitRef(Enum):
    """What a vertical limit is measured from."""

    GND = "GND"  # the surface (lower limits only): no lower bound
    AMSL = "AMSL"  # feet above mean sea level
    AGL = "AGL"  # feet above ground, compared as AMSL (no terrain model)
    FL = "FL"  # flight level: pressure altitude / 100 ft
    UNL = "UNL"  # unlimited (upper limits only): no upper bound


@dataclass(frozen=True)
class Limit:
    """A vertical limit as written: ``value`` is the FL number for FL, else feet."""

    value: float
    ref: LimitRef
    text: str = ""

    @property
    def feet(self) -> float:
        """Feet (FL x 100); -inf for GND, +inf for UNL."""
        if self.ref is LimitRef.GND:
            return -math.inf
        if self.ref is LimitRef.UNL:
            return math.inf
        return self.value * 100.0 if self.ref is LimitRef.FL else self.value

    @property
    def barometric(self) -> bool:
        """Compared with the barometric altitude (FL) rather than the geometric one."""
        return self.ref is LimitRef.FL

    def lower_bound(self) -> float:
        """As a lower limit: feet, or -inf at or below the surface."""
        return -math.inf if self.feet <= 0.0 else self.feet


_FL_RE = re.compile(r"FL\s*(\d+(?:\.\d*)?)", re.A)
_ALT_RE = re.compile(r"(\d+(?:\.\d*)?)\s*(FT|F|M)?\s*(AMSL|MSL|ALT|AGL|AGND|ASFC|SFC|GND|STD)?",
                     re.A)
_AGL_WORDS: Final = frozenset({"AGL", "AGND", "ASFC", "SFC", "GND"})


def parse_limit(text: object) -> Limit:
    """A limit from "FL95", "2500 ft AMSL", "1000ft AGL", "600m", "GND", "UNL" or a number
    (feet AMSL).  Raises ``ValueError`` naming the text when it is none of these."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        return Limit(_finite(text, "altitude"), LimitRef.AMSL, str(text))
    if not isinstance(text, str):
        raise _Invalid(f"altitude {text!r} is neither a string nor a number")
    s = " ".join(text.upper().split())
    if s in ("GND", "SFC", "SURFACE"):
        return Limit(0.0, LimitRef.GND, text)
    if s in ("UNL", "UNLIM", "UNLIMITED", "UNLTD"):
        return Limit(math.inf, LimitRef.UNL, text)
    if m := _FL_RE.fullmatch(s):
        return Limit(float(m[1]), LimitRef.FL, text)
    if m := _ALT_RE.fullmatch(s):
        feet = float(m[1]) * (FT_PER_M if m[2] == "M" else 1.0)
        if m[3] == "STD":
            return Limit(feet / 100.0, LimitRef.FL, text)
        return Limit(feet, LimitRef.AGL if m[3] in _AGL_WORDS else LimitRef.AMSL, text)
    raise _Invalid(f"unknown altitude syntax {text!r} (expected e.g. FL95, 2500 ft AMSL, "
                   "1000ft AGL, 600m, GND, SFC or UNL)")


def _check_limits(lower: Limit, upper: Limit) -> None:
    if lower.ref is LimitRef.UNL:
        raise _Invalid(f"lower limit {lower.text!r}: UNL can only be an upper limit")
    if upper.ref is LimitRef.GND:
        raise _Invalid(f"upper limit {upper.text!r}: GND/SFC can only be a lower limit")
    if lower.feet >= upper.feet:  # FL compared as FL x 100 ft (standard atmosphere)
        raise _Invalid(f"lower limit {lower.text!r} is not below upper limit {upper.text!r}")


# --------------------------------------------------------------------------- schedules
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


def active_mask(volumes: Sequence[Volume], t: float) -> BoolArray:
    """Which ``volumes`` are active at UNIX time ``t``."""
    return ScheduleTable([v.schedule for v in volumes]).active(t)


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


# --------------------------------------------------------------------------- volumes
@dataclass(frozen=True)
class Volume:
    """An airspace volume; ``geometry`` in lon/lat degrees; ``source`` says where it was
    defined (``file:line`` or ``file:feature N``) for messages."""

    id: str
    name: str
    kind: str  # restricted, prohibited, danger, ctr, tma, tra, class-d ... (lower case)
    geometry: Area
    lower: Limit
    upper: Limit
    schedule: Schedule = ALWAYS
    source: str = ""


@dataclass(frozen=True)
class Region:
    """The area a partner (air navigation service) is responsible for."""

    partner: str
    name: str
    geometry: Area
    source: str = ""


_KINDS: Final = {"R": "restricted", "P": "prohibited", "Q": "danger", "GP": "glider-prohibited",
                 "W": "wave", "UNC": "unclassified", **{c: f"class-{c.lower()}" for c in "ABCDEFG"}}


def _kind(text: str) -> str:
    s = text.strip().upper()
    return _KINDS.get(s, s.lower())


def _valid(geometry: Area) -> Area:
    try:
        reason = shapely.is_valid_reason(geometry)
    except shapely.errors.GEOSException as exc:
        raise _Invalid(f"invalid polygon: {exc}") from None
    if reason != "Valid Geometry":
        raise _Invalid(f"invalid polygon: {reason}")
    return geometry


# --------------------------------------------------------------------------- spherical helpers
def _destination(lat: float, lon: float, bearing: float, dist_m: float) -> tuple[float, float]:
    """(lon, lat) reached from ``lat, lon`` along ``bearing`` (deg) after ``dist_m``."""
    p1, l1, b = math.radians(lat), math.radians(lon), math.radians(bearing)
    d = dist_m / EARTH_RADIUS_M
    p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(b))
    l2 = l1 + math.atan2(math.sin(b) * math.sin(d) * math.cos(p1),
                         math.cos(d) - math.sin(p1) * math.sin(p2))
    return (math.degrees(l2) + 540.0) % 360.0 - 180.0, math.degrees(p2)


def _bearing_distance(lat1: float, lon1: float, lat2: float, lon2: float) -> tuple[float, float]:
    """(initial bearing deg, great-circle distance m) from point 1 to point 2."""
    p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lon2 - lon1)
    h = (math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2)
    dist = 2.0 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))
    bearing = math.atan2(math.sin(dl) * math.cos(p2),
                         math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl))
    return math.degrees(bearing) % 360.0, dist


def _arc(centre: tuple[float, float], r0: float, r1: float, b0: float, b1: float,
         clockwise: bool) -> list[tuple[float, float]]:
    """(lon, lat) points of an arc around ``centre`` (lat, lon) from bearing ``b0`` to
    ``b1``, the radius (m) going linearly from ``r0`` to ``r1``; both ends included."""
    sweep = (b1 - b0) % 360.0 if clockwise else -((b0 - b1) % 360.0)
    n = max(1, math.ceil(abs(sweep) / ARC_STEP_DEG))
    return [_destination(*centre, b0 + sweep * k / n, r0 + (r1 - r0) * k / n)
            for k in range(n + 1)]


def dead_reckon(lat: npt.ArrayLike, lon: npt.ArrayLike, groundspeed_kt: npt.ArrayLike,
                track_deg: npt.ArrayLike, dt_s: float) -> tuple[FloatArray, FloatArray]:
    """(lat, lon) after ``dt_s`` seconds of straight flight: a straight line in lon/lat,
    scaled at the start latitude on a sphere of radius :data:`EARTH_RADIUS_M`."""
    lat_, lon_ = np.asarray(lat, np.float64), np.asarray(lon, np.float64)
    dist = np.asarray(groundspeed_kt, np.float64) * (KT_MPS * dt_s)
    trk = np.radians(np.asarray(track_deg, np.float64))
    m_lat = EARTH_RADIUS_M * math.pi / 180.0
    m_lon = m_lat * np.maximum(np.cos(np.radians(lat_)), 1e-6)
    return lat_ + dist * np.cos(trk) / m_lat, lon_ + dist * np.sin(trk) / m_lon


# --------------------------------------------------------------------------- OpenAir
_DMS_RE = re.compile(r"(\d{1,3}):(\d{1,2}(?:\.\d+)?)(?::(\d{1,2}(?:\.\d+)?))?\s*([NSEW])",
                     re.I | re.A)
_NUMBER_RE = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)", re.A)
_KEY_RE = re.compile(r"([A-Za-z]+)\s*(.*)")
_IGNORED_VARS: Final = frozenset({"W", "Z"})  # airway width (with DY), label zoom


def _coordinates(text: str, count: int) -> list[tuple[float, float]]:
    """``count`` (lat, lon) points from "DD:MM:SS N DDD:MM:SS E, ..." (or DD:MM.mmm)."""
    found = list(_DMS_RE.finditer(text))
    leftover = _DMS_RE.sub("", text).replace(",", "").strip()
    if len(found) != 2 * count or leftover:
        raise _Invalid(f"bad coordinate {text.strip()!r} (expected {count} point(s) like "
                       "'53:47:06 N 008:21:41 E' or '53:47.100N 008:21.700E')")
    values = []
    for m in found:
        minutes, seconds = float(m[2]), float(m[3] or 0.0)
        if minutes >= 60.0 or seconds >= 60.0:
            raise _Invalid(f"bad coordinate {m[0]!r}: minutes and seconds must be below 60")
        values.append((int(m[1]) + minutes / 60.0 + seconds / 3600.0, m[4].upper()))
    points = []
    for (lat, ns), (lon, ew) in zip(values[::2], values[1::2], strict=True):
        if ns not in "NS" or ew not in "EW" or lat > 90.0 or lon > 180.0:
            raise _Invalid(f"bad coordinate {text.strip()!r}: expected latitude N/S <= 90 "
                           "then longitude E/W <= 180")
        points.append((-lat if ns == "S" else lat, -lon if ew == "W" else lon))
    return points


def _numbers(text: str, count: int, what: str) -> list[float]:
    parts = [p for p in re.split(r"[\s,]+", text.strip()) if p]
    if len(parts) != count or not all(_NUMBER_RE.fullmatch(p) for p in parts):
        raise _Invalid(f"bad {what} {text.strip()!r}")
    values = [float(p) for p in parts]
    if not all(math.isfinite(v) for v in values):
        raise _Invalid(f"bad {what} {text.strip()!r}: number out of range")
    return values


def _radius_m(nm: float) -> float:
    if not 0.0 < nm <= MAX_RADIUS_NM:
        raise _Invalid(f"radius {nm:g} NM is not in (0, {MAX_RADIUS_NM:g}]")
    return nm * NM_M


@dataclass
class _OpenAirRecord:
    """One airspace being read: from its AC line to the next AC or the end."""

    line: int
    ac: str
    name: str = ""
    ident: str = ""
    ay: str = ""
    lower: Limit | None = None
    upper: Limit | None = None
    points: list[tuple[float, float]] = field(default_factory=list)  # (lon, lat)
    circle: list[tuple[float, float]] | None = None
    windows: list[tuple[float, float]] = field(default_factory=list)
    never: bool = False  # AA NONE
    centre: tuple[float, float] | None = None  # (lat, lon) from V X=
    clockwise: bool = True


class _OpenAirReader:
    """Reads records line by line; each ``_do_XX`` handles one directive."""

    def __init__(self, source: str, ignored: Counter[str]) -> None:
        self.source, self.ignored = source, ignored
        self.volumes: list[Volume] = []
        self.rec: _OpenAirRecord | None = None

    def line(self, lineno: int, key: str, arg: str) -> None:
        if key != "AN":  # names may hold a '*'; elsewhere it starts a trailing comment
            arg = arg.split("*", 1)[0].strip()
        if key == "AC":
            self.finish()
            if not arg:
                raise _Invalid("AC without an airspace class")
            self.rec = _OpenAirRecord(lineno, arg)
            return
        handler: Callable[[_OpenAirRecord, str], None] | None = getattr(self, f"_do_{key}", None)
        if handler is None and (key in ("SP", "SB") or (len(key) == 2 and key[0] == "A")):
            self.ignored[key] += 1  # styles and newer attributes (AF, AG, AT, AX ...)
            return
        if handler is None:
            raise _Invalid(f"unknown directive {key!r}")
        if self.rec is None:
            raise _Invalid(f"{key} before the first AC record")
        handler(self.rec, arg)

    def _do_AN(self, rec: _OpenAirRecord, arg: str) -> None:
        rec.name = arg

    def _do_AI(self, rec: _OpenAirRecord, arg: str) -> None:
        rec.ident = arg

    def _do_AY(self, rec: _OpenAirRecord, arg: str) -> None:
        rec.ay = arg

    def _do_AL(self, rec: _OpenAirRecord, arg: str) -> None:
        if rec.lower is not None:
            raise _Invalid("second AL (lower limit) in one airspace")
        rec.lower = parse_limit(arg)

    def _do_AH(self, rec: _OpenAirRecord, arg: str) -> None:
        if rec.upper is not None:
            raise _Invalid("second AH (upper limit) in one airspace")
        rec.upper = parse_limit(arg)

    def _do_AA(self, rec: _OpenAirRecord, arg: str) -> None:
        if arg.upper() == "NONE":
            rec.never = True
            return
        start, sep, end = arg.partition("/")
        if not sep:
            raise _Invalid(f"bad activation {arg!r} (expected START/END in ISO 8601 UTC)")
        rec.windows.append(_window(start, end))

    def _do_V(self, rec: _OpenAirRecord, arg: str) -> None:
        name, sep, value = (s.strip() for s in arg.partition("="))
        name = name.upper()
        if not sep:
            raise _Invalid(f"bad variable assignment {arg!r} (expected V X=..., V D=+ or V D=-)")
        if name == "X":
            rec.centre = _coordinates(value, 1)[0]
        elif name == "D" and value in ("+", "-"):
            rec.clockwise = value == "+"
        elif name in _IGNORED_VARS:
            self.ignored[f"V {name}"] += 1
        else:
            raise _Invalid(f"bad variable assignment {arg!r} (expected V X=..., V D=+ or V D=-)")

    def _do_DP(self, rec: _OpenAirRecord, arg: str) -> None:
        lat, lon = _coordinates(arg, 1)[0]
        rec.points.append((lon, lat))

    def _do_DA(self, rec: _OpenAirRecord, arg: str) -> None:
        radius, start, end = _numbers(arg, 3, "arc 'radius, start angle, end angle'")
        r = _radius_m(radius)
        rec.points += _arc(self._centre(rec, "DA"), r, r, start, end, rec.clockwise)

    def _do_DB(self, rec: _OpenAirRecord, arg: str) -> None:
        centre = self._centre(rec, "DB")
        (lat0, lon0), (lat1, lon1) = _coordinates(arg, 2)
        b0, r0 = _bearing_distance(*centre, lat0, lon0)
        b1, r1 = _bearing_distance(*centre, lat1, lon1)
        _radius_m(max(r0, r1) / NM_M)
        points = _arc(centre, r0, r1, b0, b1, rec.clockwise)
        rec.points += [(lon0, lat0), *points[1:-1], (lon1, lat1)]  # the ends exactly as given

    def _do_DC(self, rec: _OpenAirRecord, arg: str) -> None:
        r = _radius_m(_numbers(arg, 1, "circle radius")[0])
        if rec.circle is not None:
            raise _Invalid("second DC circle in one airspace")
        rec.circle = _arc(self._centre(rec, "DC"), r, r, 0.0, 360.0 - ARC_STEP_DEG, True)

    def _do_DY(self, rec: _OpenAirRecord, arg: str) -> None:
        raise _Invalid("DY airway segments are not supported; describe the area with DP")

    @staticmethod
    def _centre(rec: _OpenAirRecord, key: str) -> tuple[float, float]:
        if rec.centre is None:
            raise _Invalid(f"{key} without a preceding V X= centre")
        return rec.centre

    def finish(self) -> None:
        """Turn the current record into a :class:`Volume` (errors name its AC line)."""
        rec, self.rec = self.rec, None
        if rec is None:
            return
        try:
            self.volumes.append(self._volume(rec))
        except _Invalid as exc:
            label = f"airspace {rec.name!r}" if rec.name else "airspace"
            raise AirspaceFileError(f"{label} starting here: {exc}", path=self.source,
                                    line=rec.line) from None

    def _volume(self, rec: _OpenAirRecord) -> Volume:
        if rec.lower is None or rec.upper is None:
            raise _Invalid("missing limits: " + " and ".join(
                k for k, v in (("AL", rec.lower), ("AH", rec.upper)) if v is None))
        _check_limits(rec.lower, rec.upper)
        if rec.circle is not None and rec.points:
            raise _Invalid("mixes a DC circle with DP/DA/DB points")
        pts = rec.points
        ring = rec.circle or [p for i, p in enumerate(pts) if i == 0 or p != pts[i - 1]]
        if ring and len(ring) > 1 and ring[0] == ring[-1]:
            ring = ring[:-1]  # closed explicitly; shapely closes it otherwise
        if not ring:
            raise _Invalid("no geometry (no DP, DA, DB or DC)")
        if len(set(ring)) < 3:
            raise _Invalid(f"polygon needs at least 3 distinct points, got {len(set(ring))}")
        kind = rec.ay if rec.ay.upper() not in ("", "NONE", "UNC", "UNCLASSIFIED") else rec.ac
        schedule = ALWAYS
        if rec.windows or rec.never:  # AA NONE overrides every window: never active
            schedule = Schedule(False, () if rec.never else tuple(rec.windows))
        where = f"{self.source}:{rec.line}"
        return Volume(rec.ident or rec.name or where, rec.name, _kind(kind),
                      _valid(Polygon(ring)), rec.lower, rec.upper, schedule, where)


def parse_openair(data: str | bytes, source: str = "<openair>", *,
                  ignored: Counter[str] | None = None) -> list[Volume]:
    """Volumes of an OpenAir text (UTF-8, else Latin-1).

    Handled: AC, AN, AL, AH, AY (kind, when given), AI (id), AA (activation windows),
    V X=/D=, DP, DA, DB, DC and ``*`` comments.  Other A* attributes, SP/SB styles and
    V W=/Z= are ignored and counted in ``ignored``.  DP polygons are closed implicitly;
    the arc direction (V D=) and centre (V X=) are reset by each AC.
    The first bad record raises :class:`AirspaceFileError` naming ``source:line``.
    """
    text = data if isinstance(data, str) else _decode(data)
    reader = _OpenAirReader(source, ignored if ignored is not None else Counter())
    for lineno, raw in enumerate(re.split(r"\r\n?|\n", text), start=1):
        line = raw.strip()
        if not line or line.startswith("*"):
            continue
        m = _KEY_RE.fullmatch(line)
        try:
            if m is None:
                raise _Invalid(f"unknown directive in {line[:40]!r}")
            reader.line(lineno, m[1].upper(), m[2].strip())
        except _Invalid as exc:
            raise AirspaceFileError(str(exc), path=source, line=lineno) from None
    reader.finish()
    if reader.ignored:
        log.debug("%s: ignored OpenAir records %s", source, dict(reader.ignored))
    return reader.volumes


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


# --------------------------------------------------------------------------- GeoJSON
def _finite(x: int | float, what: str) -> float:
    try:
        value = float(x)
    except OverflowError:
        value = math.inf
    if not math.isfinite(value):
        raise _Invalid(f"{what} {x!r} is not a finite number")
    return value


def _number(x: object) -> float:
    if isinstance(x, bool) or not isinstance(x, int | float):
        raise _Invalid(f"bad coordinate value {x!r}")
    return _finite(x, "bad coordinate value")


def _ring(obj: object, k: int) -> list[tuple[float, float]]:
    if not isinstance(obj, list) or len(obj) < 4:
        raise _Invalid(f"ring {k} must be a list of at least 4 positions")
    ring = []
    for pos in obj:
        if not isinstance(pos, list) or len(pos) < 2:
            raise _Invalid(f"bad position {pos!r} in ring {k} (expected [lon, lat])")
        lon, lat = _number(pos[0]), _number(pos[1])
        if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
            raise _Invalid(f"bad coordinate [{lon}, {lat}] in ring {k}: out of range")
        ring.append((lon, lat))
    if ring[0] != ring[-1]:
        raise _Invalid(f"ring {k} is not closed (its first and last positions differ)")
    return ring


def _polygon(obj: object) -> Polygon:
    if not isinstance(obj, list) or not obj:
        raise _Invalid("polygon coordinates must be a non-empty list of rings")
    rings = [_ring(r, k) for k, r in enumerate(obj)]
    return Polygon(rings[0], rings[1:])


def _geometry(obj: object) -> Area:
    if not isinstance(obj, dict):
        raise _Invalid("missing geometry")
    kind, coords = obj.get("type"), obj.get("coordinates")
    if kind == "Polygon":
        return _valid(_polygon(coords))
    if kind == "MultiPolygon" and isinstance(coords, list) and coords:
        return _valid(MultiPolygon([_polygon(p) for p in coords]))
    raise _Invalid(f"geometry type {kind!r} is not supported (Polygon or MultiPolygon)")


def _text(props: dict[str, Any], *keys: str, required: bool = True) -> str:
    for key in keys:
        value = props.get(key)
        if value is not None and value != "":
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                raise _Invalid(f"property {key!r} must be a string, not {value!r}")
            return str(value)
    if required:
        raise _Invalid("missing " + " or ".join(repr(k) for k in keys) + " property")
    return ""


def _features(data: str | bytes, source: str,
              build: Callable[[int, dict[str, Any], dict[str, Any]], T]) -> list[T]:
    """``build(index, feature, properties)`` for each feature of a FeatureCollection."""
    try:
        doc = json.loads(data)
    except json.JSONDecodeError as exc:
        raise AirspaceFileError(f"not valid JSON: {exc.msg}", path=source,
                                line=exc.lineno) from None
    except (UnicodeDecodeError, RecursionError) as exc:
        raise AirspaceFileError(f"not readable JSON: {exc}", path=source) from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(
            doc.get("features"), list):
        raise AirspaceFileError("not a GeoJSON FeatureCollection", path=source)
    out = []
    for i, feature in enumerate(doc["features"]):
        props = feature.get("properties") if isinstance(feature, dict) else None
        fid = props.get("id") if isinstance(props, dict) else None
        try:
            if not isinstance(feature, dict) or feature.get("type") != "Feature":
                raise _Invalid("not a GeoJSON Feature")
            if not isinstance(props, dict):
                raise _Invalid("missing 'properties' object")
            out.append(build(i, feature, props))
        except _Invalid as exc:
            raise AirspaceFileError(str(exc), path=source, feature=i,
                                    feature_id=str(fid) if fid is not None else None) from None
    return out


def parse_geojson(data: str | bytes, source: str = "<geojson>") -> list[Volume]:
    """Volumes of a GeoJSON FeatureCollection of Polygon/MultiPolygon features with
    properties ``id`` (else the feature's ``id``, else ``name``), ``name``, ``class``
    (or ``type``), ``lower``, ``upper`` (see :func:`parse_limit`) and optional
    ``schedule`` ({"windows": [[start, end], ...]} and/or {"weekly": [{"days": [...],
    "from": "HH:MM", "to": "HH:MM"}]}, UTC; absent: always active)."""
    def build(i: int, feature: dict[str, Any], props: dict[str, Any]) -> Volume:
        ident = _text(props, "id", required=False) or _text(feature, "id", required=False)
        name = _text(props, "name", required=False)
        if not (ident or name):
            raise _Invalid("missing 'id' (or 'name') property")
        lower, upper = (parse_limit(_need(props, k)) for k in ("lower", "upper"))
        _check_limits(lower, upper)
        return Volume(ident or name, name, _kind(_text(props, "class", "type")),
                      _geometry(feature.get("geometry")), lower, upper,
                      _parse_schedule(props.get("schedule")), f"{source}:feature {i}")
    return _features(data, source, build)


def _need(props: dict[str, Any], key: str) -> object:
    if props.get(key) is None:
        raise _Invalid(f"missing limits: no {key!r} property")
    return props[key]


def parse_regions(data: str | bytes, source: str = "<geojson>") -> list[Region]:
    """Regions of a GeoJSON FeatureCollection with properties ``partner`` and ``name``."""
    def build(i: int, feature: dict[str, Any], props: dict[str, Any]) -> Region:
        return Region(_text(props, "partner"), _text(props, "name", required=False),
                      _geometry(feature.get("geometry")), f"{source}:feature {i}")
    return _features(data, source, build)


def _read(path: str | Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise AirspaceFileError(f"cannot read: {exc.strerror or exc}", path=str(path)) from None


def load_openair(path: str | Path, *, ignored: Counter[str] | None = None) -> list[Volume]:
    """Volumes of an OpenAir file (see :func:`parse_openair`)."""
    return parse_openair(_read(path), str(path), ignored=ignored)


def load_geojson(path: str | Path) -> list[Volume]:
    """Volumes of a GeoJSON file (see :func:`parse_geojson`)."""
    return parse_geojson(_read(path), str(path))


def load_airspace(path: str | Path) -> list[Volume]:
    """Volumes of a .geojson/.json or .txt/.openair file."""
    suffix = Path(path).suffix.lower()
    if suffix in (".geojson", ".json"):
        return load_geojson(path)
    if suffix in (".txt", ".openair"):
        return load_openair(path)
    raise AirspaceFileError(f"unknown airspace file type {suffix!r} "
                            "(expected .geojson, .json, .txt or .openair)", path=str(path))


def load_regions(path: str | Path, *, overlap_tolerance_km2: float = 1.0) -> Regions:
    """Responsibility regions of a GeoJSON file (see :class:`Regions` for overlaps)."""
    return Regions(parse_regions(_read(path), str(path)),
                   overlap_tolerance_km2=overlap_tolerance_km2)


# --------------------------------------------------------------------------- spatial index
def _expand(starts: IntArray, counts: IntArray) -> tuple[IntArray, IntArray]:
    """(owner i, value) for each value in range(starts[i], starts[i] + counts[i])."""
    owner = np.repeat(np.arange(len(counts), dtype=np.intp), counts)
    first = np.cumsum(counts) - counts
    return owner, np.arange(len(owner), dtype=np.intp) - np.repeat(first - starts, counts)


class _BoxGrid:
    """Bounding boxes binned on a uniform lon/lat grid: candidate pairs in numpy.

    Measured faster than a shapely STRtree here because the queries (20,000 points or
    segments per update) need no GEOS geometry to be built."""

    def __init__(self, bounds: FloatArray) -> None:
        b = bounds.reshape(-1, 4)
        self.x0, self.y0, self.x1, self.y1 = (np.ascontiguousarray(b[:, k]) for k in range(4))
        self.usable = np.flatnonzero(np.isfinite(b).all(axis=1))  # empty geometries: NaN
        b = b[self.usable]
        self.cell, self.ox, self.oy, self.nx, self.ny = 1.0, 0.0, 0.0, 1, 1
        self.start = self.count = np.zeros(1, np.intp)
        self.boxes = np.zeros(0, np.intp)
        if len(b) == 0:
            return
        side = np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])
        self.cell = max(float(np.median(side)), 1e-3)
        self.ox, self.oy = float(b[:, 0].min()), float(b[:, 1].min())
        while True:
            self.nx = int((b[:, 2].max() - self.ox) // self.cell) + 1
            self.ny = int((b[:, 3].max() - self.oy) // self.cell) + 1
            if self.nx * self.ny <= 1 << 20:
                break
            self.cell *= 2.0
        box, cells, _ = self._cells(b[:, 0], b[:, 1], b[:, 2], b[:, 3], limit=1 << 62)
        order = np.argsort(cells, kind="stable")
        self.boxes = self.usable[box[order]]
        self.count = np.bincount(cells, minlength=self.nx * self.ny).astype(np.intp)
        self.start = np.cumsum(self.count) - self.count

    def _ix(self, x: FloatArray, y: FloatArray) -> tuple[IntArray, IntArray]:
        with np.errstate(over="ignore"):  # absurd coordinates land in the edge cells
            ix = np.clip(np.floor((x - self.ox) / self.cell), 0, self.nx - 1).astype(np.intp)
            iy = np.clip(np.floor((y - self.oy) / self.cell), 0, self.ny - 1).astype(np.intp)
        return ix, iy

    def _cells(self, x0: FloatArray, y0: FloatArray, x1: FloatArray, y1: FloatArray,
               limit: int) -> tuple[IntArray, IntArray, BoolArray]:
        """(box, cell id) for every cell each box touches, and which boxes were left out
        for touching more than ``limit`` cells."""
        ix0, iy0 = self._ix(x0, y0)
        ix1, iy1 = self._ix(x1, y1)
        wide = ix1 - ix0 + 1
        n = wide * (iy1 - iy0 + 1)
        over = n > limit
        row, k = _expand(np.zeros(len(x0), np.intp), np.where(over, 0, n))
        return row, (iy0[row] + k // wide[row]) * self.nx + ix0[row] + k % wide[row], over

    def _overlap(self, qi: IntArray, bi: IntArray, x0: FloatArray, y0: FloatArray,
                 x1: FloatArray, y1: FloatArray) -> BoolArray:
        return ((x0[qi] <= self.x1[bi]) & (self.x0[bi] <= x1[qi]) & (y0[qi] <= self.y1[bi])
                & (self.y0[bi] <= y1[qi]))

    def query(self, x0: FloatArray, y0: FloatArray, x1: FloatArray,
              y1: FloatArray) -> tuple[IntArray, IntArray]:
        """(query, box) of every query box [x0, x1] x [y0, y1] overlapping a box, each pair
        once: it is kept only in the cell holding its overlap's lower corner.  A query
        with a NaN matches nothing; one over more than 64 cells (a bogus speed) is
        compared with every box instead."""
        rows = np.flatnonzero(~(np.isnan(x0) | np.isnan(y0) | np.isnan(x1) | np.isnan(y1)))
        x0, y0, x1, y1 = x0[rows], y0[rows], x1[rows], y1[rows]
        row, cell, over = self._cells(x0, y0, x1, y1, limit=64)
        hit, k = _expand(self.start[cell], self.count[cell])
        bi, cell, qi = self.boxes[k], cell[hit], row[hit]
        cx, cy = self._ix(np.maximum(x0[qi], self.x0[bi]), np.maximum(y0[qi], self.y0[bi]))
        keep = (cy * self.nx + cx == cell) & self._overlap(qi, bi, x0, y0, x1, y1)
        qi, bi = qi[keep], bi[keep]
        huge = np.flatnonzero(over)
        if len(huge) and len(self.usable):
            qh, bh = _expand(np.zeros(len(huge), np.intp), np.full(len(huge), len(self.usable)))
            qh, bh = huge[qh], self.usable[bh]
            keep = self._overlap(qh, bh, x0, y0, x1, y1)
            qi, bi = np.r_[qi, qh[keep]], np.r_[bi, bh[keep]]
        return rows[qi], bi


def _edge_table(geoms: npt.NDArray[np.object_]) -> tuple[FloatArray, IntArray, IntArray]:
    """Every ring edge (ax, ay, bx, by) of every geometry, grouped by geometry: (edges,
    first edge, edge count) per geometry."""
    parts, part_owner = shapely.get_parts(geoms, return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    coords, ring = shapely.get_coordinates(rings, return_index=True)
    same = ring[1:] == ring[:-1]
    edges = np.hstack([coords[:-1][same], coords[1:][same]]).astype(np.float64)
    owner = np.asarray(part_owner, np.intp)[np.asarray(ring_part, np.intp)[ring[:-1][same]]]
    count = np.bincount(owner, minlength=len(geoms)).astype(np.intp)
    return edges, np.cumsum(count) - count, count


@nb.njit(cache=True, nogil=True)
def _crossing(px: float, py: float, dx: float, dy: float, edge: FloatArray) -> float:
    """Fraction s in [0, 1] of the path p + s * d where it crosses ``edge`` (ax, ay, bx, by),
    or -1.  The edge is half-open (its end excluded) so a vertex is crossed once."""
    ax, ay, bx, by = edge[0], edge[1], edge[2], edge[3]
    if (max(px, px + dx) < min(ax, bx) or min(px, px + dx) > max(ax, bx)
            or max(py, py + dy) < min(ay, by) or min(py, py + dy) > max(ay, by)):
        return -1.0
    ex, ey, wx, wy = bx - ax, by - ay, ax - px, ay - py
    den = dx * ey - dy * ex
    if den == 0.0:
        return -1.0  # parallel (a collinear overlap is not a crossing)
    s, u = (wx * ey - wy * ex) / den, (wx * dy - wy * dx) / den
    return s if 0.0 <= s <= 1.0 and 0.0 <= u < 1.0 else -1.0


@nb.njit(cache=True, nogil=True)
def _crossings(px: FloatArray, py: FloatArray, dx: FloatArray, dy: FloatArray,
               first: IntArray, count: IntArray, edges: FloatArray) -> tuple[IntArray, FloatArray]:
    """(pair, s) of every crossing of pair i's path with the edges first[i] ... of its
    polygon (a compiled loop: a numpy version spent 15 ms expanding 200,000 pair-edges)."""
    n = 0
    for i in range(len(px)):
        for e in range(first[i], first[i] + count[i]):
            n += _crossing(px[i], py[i], dx[i], dy[i], edges[e]) >= 0.0
    pair, frac = np.empty(n, np.intp), np.empty(n, np.float64)
    n = 0
    for i in range(len(px)):
        for e in range(first[i], first[i] + count[i]):
            s = _crossing(px[i], py[i], dx[i], dy[i], edges[e])
            if s >= 0.0:
                pair[n], frac[n] = i, s
                n += 1
    return pair, frac


# --------------------------------------------------------------------------- checks
def _bound_window(a0: FloatArray, rate: FloatArray, bound: FloatArray, *, above: bool,
                  unknown_inside: bool) -> tuple[FloatArray, FloatArray]:
    """Times (lo, hi) at which ``a0 + rate * t`` is at or ``above`` (else below) ``bound``;
    lo > hi when never."""
    unknown = np.isnan(a0)
    free = np.isinf(bound) | (unknown & unknown_inside)
    with np.errstate(divide="ignore", invalid="ignore"):
        cross = (bound - a0) / rate
    toward = rate if above else -rate
    now = (a0 >= bound) if above else (a0 <= bound)
    lo = np.where(toward > 0, cross, np.where((toward < 0) | now, -np.inf, np.inf))
    hi = np.where(toward < 0, cross, np.where((toward > 0) | now, np.inf, -np.inf))
    lo = np.where(free, -np.inf, np.where(unknown, np.inf, lo))
    return lo, np.where(free, np.inf, np.where(unknown, -np.inf, hi))


def _as_f8(x: npt.ArrayLike) -> FloatArray:
    return np.atleast_1d(np.asarray(x, np.float64))


def _position(lat: npt.ArrayLike, lon: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Latitudes and longitudes, NaN where either is not a finite number."""
    lat_, lon_ = _as_f8(lat), _as_f8(lon)
    bad = ~(np.isfinite(lat_) & np.isfinite(lon_))
    return np.where(bad, np.nan, lat_), np.where(bad, np.nan, lon_)


class VolumeSet:
    """Volumes indexed for checks over every track at once (see the module doc for the
    vertical rules and ``unknown_alt_inside``)."""

    def __init__(self, volumes: Iterable[Volume], *, unknown_alt_inside: bool = True) -> None:
        self.volumes = tuple(volumes)
        self.unknown_alt_inside = unknown_alt_inside
        self._geoms = np.array([v.geometry for v in self.volumes] or [], dtype=object)
        shapely.prepare(self._geoms)
        self._grid = _BoxGrid(np.asarray(shapely.bounds(self._geoms), np.float64))
        self.schedules = ScheduleTable([v.schedule for v in self.volumes])
        self._lower = np.array([v.lower.lower_bound() for v in self.volumes], np.float64)
        self._upper = np.array([v.upper.feet for v in self.volumes], np.float64)
        self._lower_baro = np.array([v.lower.barometric for v in self.volumes], bool)
        self._upper_baro = np.array([v.upper.barometric for v in self.volumes], bool)
        self._edges, self._edge_start, self._edge_count = _edge_table(self._geoms)
        none = np.zeros(0, np.intp)  # compile (or load) the kernel now, not on a live update
        _crossings(*(np.zeros(0),) * 4, none, none, np.zeros((0, 4)))

    def __len__(self) -> int:
        return len(self.volumes)

    def inside(self, lat: npt.ArrayLike, lon: npt.ArrayLike, alt: npt.ArrayLike,
               alt_geo: npt.ArrayLike, t: float) -> tuple[IntArray, IntArray]:
        """(track index, volume index) of every track inside an active volume at ``t``,
        sorted by track then volume."""
        lat_, lon_ = _position(lat, lon)
        ti, vi = self._candidates(lon_, lat_, lon_, lat_)
        keep = self.schedules.active(t)[vi]
        ti, vi = ti[keep], vi[keep]
        keep = shapely.contains_xy(self._geoms[vi], lon_[ti], lat_[ti])
        ti, vi = ti[keep], vi[keep]
        zero = np.zeros(len(lat_))
        lo, hi = self._vertical_window(ti, vi, _as_f8(alt), _as_f8(alt_geo), zero)
        keep = (lo <= 0.0) & (hi >= 0.0)
        return _sorted(ti[keep], vi[keep])

    def entering(self, lat: npt.ArrayLike, lon: npt.ArrayLike, alt: npt.ArrayLike,
                 alt_geo: npt.ArrayLike, groundspeed_kt: npt.ArrayLike,
                 track_deg: npt.ArrayLike, vertical_rate_fpm: npt.ArrayLike, t: float,
                 horizon_s: float) -> tuple[IntArray, IntArray, FloatArray]:
        """(track, volume, seconds to entry) for each track not inside an active volume at
        ``t`` whose dead-reckoned path (:func:`dead_reckon`, constant vertical rate) is
        inside it while it is active within ``horizon_s``; entry times are exact for the
        polygon as stored.  A track without ground speed or track (or with a speed outside
        [0, :data:`MAX_GROUNDSPEED_KT`]) is taken as stationary: it may still climb into
        a volume, or be in one when it activates.  An unknown vertical rate is level."""
        if not horizon_s >= 0.0:
            raise ValueError(f"horizon_s must be >= 0, not {horizon_s!r}")
        (lat_, lon_), alt_, geo_ = _position(lat, lon), _as_f8(alt), _as_f8(alt_geo)
        gs, trk = _as_f8(groundspeed_kt), _as_f8(track_deg)
        moving = np.isfinite(trk) & (gs >= 0.0) & (gs <= MAX_GROUNDSPEED_KT)  # False for NaN
        lat1, lon1 = dead_reckon(lat_, lon_, np.where(moving, gs, 0.0),
                                 np.where(moving, trk, 0.0), horizon_s)
        rate = np.nan_to_num(_as_f8(vertical_rate_fpm) / 60.0, nan=0.0, posinf=0.0, neginf=0.0)
        ti, vi = self._candidates(lon_, lat_, lon1, lat1)
        in0 = shapely.contains_xy(self._geoms[vi], lon_[ti], lat_[ti])
        lo, hi = self._vertical_window(ti, vi, alt_, geo_, np.zeros(len(lat_)))
        active0, _ = self.schedules.next_active(vi, np.full(len(vi), float(t)))
        outside = ~(in0 & (lo <= 0.0) & (hi >= 0.0) & active0)
        ti, vi, in0 = ti[outside], vi[outside], in0[outside]
        pair, a, b = self._path_intervals(ti, vi, in0, lon_, lat_, lon1, lat1)
        vlo, vhi = self._vertical_window(ti[pair], vi[pair], alt_, geo_, rate)
        lo = np.maximum(np.maximum(a * horizon_s, vlo), 0.0)
        hi = np.minimum(np.minimum(b * horizon_s, vhi), float(horizon_s))
        ok = lo <= hi
        pair, lo, hi = pair[ok], lo[ok], hi[ok]
        _, start = self.schedules.next_active(vi[pair], t + lo)
        ok = start - t <= hi
        best = np.full(len(ti), np.inf)
        np.minimum.at(best, pair[ok], start[ok] - t)
        found = np.isfinite(best)
        ti, vi, best = ti[found], vi[found], best[found]
        order = np.lexsort((vi, ti))
        return ti[order], vi[order], np.maximum(best[order], 0.0)

    def _candidates(self, x0: FloatArray, y0: FloatArray, x1: FloatArray,
                    y1: FloatArray) -> tuple[IntArray, IntArray]:
        """(track, volume) pairs whose boxes overlap; tracks without a position skipped."""
        return self._grid.query(np.minimum(x0, x1), np.minimum(y0, y1), np.maximum(x0, x1),
                                np.maximum(y0, y1))

    def _vertical_window(self, ti: IntArray, vi: IntArray, alt: FloatArray, alt_geo: FloatArray,
                         rate: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Seconds (lo, hi) from now during which each pair's track is within the limits."""
        baro = np.where(np.isfinite(alt), alt, alt_geo)[ti]
        geo = np.where(np.isfinite(alt_geo), alt_geo, alt)[ti]
        r = rate[ti]
        lo1, hi1 = _bound_window(np.where(self._lower_baro[vi], baro, geo), r,
                                 self._lower[vi], above=True,
                                 unknown_inside=self.unknown_alt_inside)
        lo2, hi2 = _bound_window(np.where(self._upper_baro[vi], baro, geo), r,
                                 self._upper[vi], above=False,
                                 unknown_inside=self.unknown_alt_inside)
        return np.maximum(lo1, lo2), np.minimum(hi1, hi2)

    def _path_intervals(self, ti: IntArray, vi: IntArray, in0: BoolArray, x0: FloatArray,
                        y0: FloatArray, x1: FloatArray, y1: FloatArray
                        ) -> tuple[IntArray, FloatArray, FloatArray]:
        """(pair, a, b): the fractions [a, b] of each pair's path inside its polygon, from
        the path's crossings of every ring edge (even-odd) and whether it starts inside."""
        px, py = x0[ti], y0[ti]
        cp, cs = _crossings(px, py, x1[ti] - px, y1[ti] - py, self._edge_start[vi],
                            self._edge_count[vi], self._edges)
        order = np.lexsort((cs, cp))
        cp, cs = cp[order], cs[order]
        first = np.searchsorted(cp, cp, side="left")
        entry = in0[cp] ^ ((np.arange(len(cp)) - first) % 2 == 0)  # inside after it
        end = np.ones(len(cp))
        same = cp[1:] == cp[:-1]
        end[:-1][same] = cs[1:][same]
        starts_in = np.flatnonzero(in0)  # inside from the start to the first crossing
        first_end = np.ones(len(starts_in))
        if len(cp):
            k = np.minimum(np.searchsorted(cp, starts_in), len(cp) - 1)
            first_end = np.where(cp[k] == starts_in, cs[k], 1.0)
        return (np.concatenate([cp[entry], starts_in]),
                np.concatenate([cs[entry], np.zeros(len(starts_in))]),
                np.concatenate([end[entry], first_end]))


def _sorted(ti: IntArray, vi: IntArray) -> tuple[IntArray, IntArray]:
    order = np.lexsort((vi, ti))
    return ti[order], vi[order]


# --------------------------------------------------------------------------- regions
class Regions:
    """Responsibility regions; :meth:`owner` says which partner a position belongs to.

    Responsibility must be unambiguous: regions of different partners overlapping by
    more than ``overlap_tolerance_km2`` (a sliver where borders were digitised twice) are
    a :class:`~skyshare.errors.ConfigError`.  Where a position is in several regions
    anyway (same partner, or a tolerated sliver) the first region in order wins."""

    def __init__(self, regions: Iterable[Region], *, overlap_tolerance_km2: float = 1.0) -> None:
        self.regions = tuple(regions)
        self.partners = tuple(dict.fromkeys(r.partner for r in self.regions))
        self._partner = np.array([self.partners.index(r.partner) for r in self.regions],
                                 np.intp)
        self._geoms = np.array([r.geometry for r in self.regions] or [], dtype=object)
        shapely.prepare(self._geoms)
        self._grid = _BoxGrid(np.asarray(shapely.bounds(self._geoms), np.float64))
        self._check_overlaps(overlap_tolerance_km2)

    def _check_overlaps(self, tolerance_km2: float) -> None:
        g = self._grid
        i, j = g.query(g.x0, g.y0, g.x1, g.y1)
        keep = (i < j) & (self._partner[i] != self._partner[j])
        i, j = i[keep], j[keep]
        common = shapely.intersection(self._geoms[i], self._geoms[j])
        km_per_deg = EARTH_RADIUS_M * math.pi / 180.0 / 1000.0
        lat = shapely.get_y(shapely.centroid(common))
        area = (np.asarray(shapely.area(common), np.float64) * km_per_deg**2
                * np.cos(np.radians(np.nan_to_num(lat))))
        for k in np.flatnonzero(area > tolerance_km2)[:1]:
            a, b = self.regions[i[k]], self.regions[j[k]]
            raise ConfigError(f"regions of partners {a.partner!r} and {b.partner!r} overlap by "
                              f"{area[k]:.1f} km2 (more than {tolerance_km2:g} km2): "
                              f"responsibility would be ambiguous", where=f"{a.source} and "
                              f"{b.source}")

    def owner(self, lat: npt.ArrayLike, lon: npt.ArrayLike) -> IntArray:
        """Index into :attr:`partners` of the partner responsible for each position (-1:
        nobody, or no position)."""
        lat_, lon_ = _position(lat, lon)
        ti, ri = self._grid.query(lon_, lat_, lon_, lat_)
        keep = shapely.contains_xy(self._geoms[ri], lon_[ti], lat_[ti])
        first = np.full(len(lat_), len(self.regions), np.intp)
        np.minimum.at(first, ti[keep], ri[keep])
        partner: IntArray = np.r_[self._partner, -1]
        return partner[first]
