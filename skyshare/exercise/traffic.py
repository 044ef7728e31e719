"""A scenario's traffic: background flights plus scripted aircraft, a function of time.

:class:`ScenarioTraffic` has the interface the simulated sensors read
(:class:`skyshare.synth.feed.SyntheticFeed`, :class:`skyshare.radar.sim.RadarSimulator`):
``n`` slots, ``sample(slots, times)``, ``transponder_silent``.  Slots below
``background.n`` are the background :class:`~skyshare.synth.traffic.Traffic`; the
others are the scenario's scripted aircraft, whose flights are flown once, on loading,
at one-second steps (:func:`fly`) and then interpolated, so every sensor sees the same
aircraft at the same time whatever it asks.

Scripted flight: great-circle legs between the waypoints at the aircraft's level and
speed, turning at the standard rate (3°/s) toward each new course; after the last
waypoint it flies on straight.  Events change it from their time: ``deviate`` (a new
heading, or direct to a point and on through it), ``descend`` (at a rate down to a
level), ``squawk`` (a new code), ``transponder`` (off: it transmits nothing, so only
primary radar sees it; on again).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from skyshare.exercise.scenario import AircraftEvent, Scenario, ScriptedAircraft
from skyshare.synth.traffic import EARTH_RADIUS_NM, Traffic, TrafficState

F8 = npt.NDArray[np.float64]
STEP_S: Final = 1.0
TURN_RATE_DEG_S: Final = 3.0
MARGIN_S: Final = 120.0  # flown past the end, so that late samples stay defined


@dataclass(frozen=True)
class Flown:
    """The scripted aircraft's flights on one time grid: ``t[j]`` (s from the exercise
    start) by aircraft ``i`` in rows; ``present`` is False before an aircraft starts."""

    t: F8
    lat: F8
    lon: F8
    alt: F8
    groundspeed: F8
    track: F8
    vertical_rate: F8
    present: npt.NDArray[np.bool_]


def _bearing(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lon2 - lon1)
    y = math.sin(dl) * math.cos(p2)
    x = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl)
    return math.degrees(math.atan2(y, x)) % 360.0


def _distance_nm(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (math.sin((p2 - p1) / 2) ** 2
         + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 2 * EARTH_RADIUS_NM * math.asin(math.sqrt(min(1.0, a)))


def _move(lat: float, lon: float, course: float, nm: float) -> tuple[float, float]:
    d, b = nm / EARTH_RADIUS_NM, math.radians(course)
    p1, l1 = math.radians(lat), math.radians(lon)
    p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(b))
    l2 = l1 + math.atan2(math.sin(b) * math.sin(d) * math.cos(p1),
                         math.cos(d) - math.sin(p1) * math.sin(p2))
    return math.degrees(p2), (math.degrees(l2) + 540.0) % 360.0 - 180.0


def _turn(course: float, wanted: float, max_deg: float) -> float:
    diff = (wanted - course + 540.0) % 360.0 - 180.0
    return (course + max(-max_deg, min(max_deg, diff))) % 360.0


def fly_one(aircraft: ScriptedAircraft, events: list[AircraftEvent], t: F8
            ) -> tuple[F8, F8, F8, F8, F8, F8]:
    """One scripted flight at the times ``t`` (regular steps): lat, lon, alt, ground
    speed, track, vertical rate."""
    n = len(t)
    out = np.full((6, n), np.nan)
    lat, lon = aircraft.route[0]
    waypoint = 1
    course = _bearing(lat, lon, *aircraft.route[1])
    alt, floor, rate = aircraft.altitude_ft, aircraft.altitude_ft, 0.0
    heading: float | None = None  # a deviate: heading_deg in force
    direct: tuple[float, float] | None = None  # a deviate: to in force
    pending = sorted(events, key=lambda e: e.at_s)
    speed = aircraft.speed_kt
    for j in range(n):
        if t[j] < aircraft.start_s:
            continue
        while pending and pending[0].at_s <= t[j]:
            e = pending.pop(0)
            if e.kind == "deviate":
                heading, direct = e.heading_deg, e.to
            elif e.kind == "descend":
                floor, rate = e.to_ft, e.value
        wanted = course
        if heading is not None:
            wanted = heading
        elif direct is not None:
            if _distance_nm(lat, lon, *direct) > 2.0:
                wanted = _bearing(lat, lon, *direct)
            else:  # through the point: straight on
                heading = course
        elif waypoint < len(aircraft.route):
            target = aircraft.route[waypoint]
            if _distance_nm(lat, lon, *target) <= max(speed * STEP_S / 3600.0 * 1.5, 0.5):
                waypoint += 1
            if waypoint < len(aircraft.route):
                wanted = _bearing(lat, lon, *aircraft.route[waypoint])
        vrate = -rate if alt > floor else 0.0
        out[:, j] = lat, lon, alt, speed, course, vrate
        course = _turn(course, wanted, TURN_RATE_DEG_S * STEP_S)
        lat, lon = _move(lat, lon, course, speed * STEP_S / 3600.0)
        alt = max(floor, alt + vrate * STEP_S / 60.0)
    return out[0], out[1], out[2], out[3], out[4], out[5]


def fly(scenario: Scenario) -> Flown:
    """Every scripted aircraft of ``scenario`` flown on one grid of :data:`STEP_S`."""
    first = min([0.0, *(a.start_s for a in scenario.aircraft)])
    t = np.arange(first, scenario.duration_s + MARGIN_S + STEP_S, STEP_S)
    k = len(scenario.aircraft)
    cols = np.full((6, k, len(t)), np.nan)
    for i, a in enumerate(scenario.aircraft):
        mine = [e for e in scenario.aircraft_events if e.aircraft == a.name]
        cols[:, i] = fly_one(a, mine, t)
    present = np.isfinite(cols[0])
    for i, a in enumerate(scenario.aircraft):  # before its start: parked at its first point
        cols[0, i, ~present[i]], cols[1, i, ~present[i]] = a.route[0]
        cols[2:, i, ~present[i]] = 0.0
    return Flown(t, cols[0], cols[1], cols[2], cols[3], cols[4], cols[5], present)


class ScenarioTraffic:
    """Background traffic and the scripted aircraft of a scenario, from ``start_time``
    (UNIX s of exercise time 0)."""

    def __init__(self, scenario: Scenario, start_time: float) -> None:
        bg = scenario.background
        self.background = (Traffic(bg.aircraft, seed=scenario.seed, region=bg.region,
                                   start_time=start_time) if bg.aircraft > 0 else None)
        self.scripted = scenario.aircraft
        self.nb = bg.aircraft
        self.n = self.nb + len(self.scripted)
        self.seed = scenario.seed
        self.start_time = float(start_time)
        self.flown = fly(scenario)
        self._squawks = [self._schedule(scenario, a, "squawk", float(a.squawk))
                         for a in self.scripted]
        self._silent = [self._schedule(scenario, a, "transponder", 1.0) for a in self.scripted]

    @staticmethod
    def _schedule(scenario: Scenario, a: ScriptedAircraft, kind: str, initial: float
                  ) -> tuple[F8, F8]:
        """(from times in s, values) of one scripted quantity, starting at -inf."""
        events = [e for e in scenario.aircraft_events if e.aircraft == a.name and e.kind == kind]
        return (np.array([-np.inf, *(e.at_s for e in events)]),
                np.array([initial, *(e.value for e in events)]))

    @property
    def has_squawk_overrides(self) -> bool:
        """Always: scripted codes may be emergencies (the feeds then send TC 28)."""
        return True

    def state(self, t: float) -> TrafficState:
        return self.sample(np.arange(self.n), np.full(self.n, float(t)))

    def sample(self, slots: npt.ArrayLike, times: npt.ArrayLike) -> TrafficState:
        s, t = np.broadcast_arrays(np.asarray(slots, np.int64), np.asarray(times, np.float64))
        s, t = s.ravel(), t.ravel()
        scripted = s >= self.nb
        if not scripted.any() and self.background is not None:
            return self.background.sample(s, t)
        parts = [(np.flatnonzero(scripted), self._scripted(s[scripted] - self.nb, t[scripted]))]
        if self.background is not None and not scripted.all():
            rows = np.flatnonzero(~scripted)
            parts.append((rows, self.background.sample(s[rows], t[rows])))
        return _merge(parts, len(s))

    def _scripted(self, k: npt.NDArray[np.int64], t: F8) -> TrafficState:
        f = self.flown
        x = np.clip((t - self.start_time - f.t[0]) / STEP_S, 0.0, len(f.t) - 1.0)
        j = np.minimum(np.floor(x).astype(np.int64), len(f.t) - 2)
        w = x - j

        def lerp(col: F8) -> F8:
            return np.asarray(col[k, j] * (1 - w) + col[k, j + 1] * w)
        squawk = np.zeros(len(k), np.int16)
        for i, (since, codes) in enumerate(self._squawks):
            mine = k == i
            at = np.searchsorted(since, t[mine] - self.start_time, side="right") - 1
            squawk[mine] = codes[at]
        a = self.scripted
        return TrafficState(
            time=t, icao24=np.array([x.icao24 for x in a], np.uint32)[k],
            callsign=np.array([x.callsign.encode() for x in a], "S8")[k],
            category=np.array([x.category for x in a], np.uint8)[k], squawk=squawk,
            lat=lerp(f.lat), lon=lerp(f.lon), alt_baro=lerp(f.alt),
            groundspeed=f.groundspeed[k, j], track=f.track[k, j],
            vertical_rate=f.vertical_rate[k, j], on_ground=~f.present[k, j],
            origin=np.full(len(k), "", "U4"), destination=np.full(len(k), "", "U4"))

    def transponder_silent(self, icao24: npt.ArrayLike, t: npt.ArrayLike
                           ) -> npt.NDArray[np.bool_]:
        address, when = np.broadcast_arrays(np.asarray(icao24, np.int64),
                                            np.asarray(t, np.float64))
        out = (self.background.transponder_silent(address, when) if self.background is not None
               else np.zeros(address.shape, np.bool_))
        for a, (since, on) in zip(self.scripted, self._silent, strict=True):
            if len(since) < 2:
                continue
            mine = address == a.icao24
            if mine.any():
                at = np.searchsorted(since, when[mine] - self.start_time, side="right") - 1
                out[mine] = on[at] == 0.0
        return out

    def truth(self, name: str) -> tuple[F8, F8, F8, F8]:
        """(t s from start, lat, lon, alt ft) of a scripted aircraft while present."""
        i = next(k for k, a in enumerate(self.scripted) if a.name == name)
        f = self.flown
        keep = f.present[i] & (f.t >= 0)
        return f.t[keep], f.lat[i, keep], f.lon[i, keep], f.alt[i, keep]


def _merge(parts: list[tuple[npt.NDArray[np.intp], TrafficState]], n: int) -> TrafficState:
    """One state from the states of disjoint rows (columns of equal dtype kinds)."""
    names = list(TrafficState.__dataclass_fields__)
    columns = {}
    for name in names:
        arrays = [getattr(p, name) for _, p in parts]
        dtype = np.result_type(*arrays) if arrays[0].dtype.kind not in "SU" else max(
            (a.dtype for a in arrays), key=lambda d: d.itemsize)
        out = np.empty(n, dtype)
        for (rows, _), a in zip(parts, arrays, strict=True):
            out[rows] = a
        columns[name] = out
    return TrafficState(**columns)
