"""Synthetic air traffic: flights between real airports, as columns, deterministic.

Each of ``n_aircraft`` *slots* flies a chain of flights: flight ``g + 1`` of a slot
leaves the airport where flight ``g`` landed, at the moment it landed, as a new
aircraft (new address, callsign, squawk).  So the number of aircraft stays constant
and :meth:`Traffic.state` is a pure function of time: a twin built with the same
arguments gives the same state at the same time, whatever was asked of either before.

Every random quantity is a counter-based hash of (seed, slot, flight, what), so that
flights can be made one at a time or all at once with the same result.

Flight profile (take-off roll skipped; piecewise-linear speed and altitude in time,
so the distance flown is exact and the path is a great circle):

==========  =========================  =======================  ==================
segment     altitude                   rate                     ground speed
==========  =========================  =======================  ==================
climb 1     airport -> FL100           2200-2800 ft/min         ~160 -> 250 kt
climb 2     FL100 -> cruise level      1700-2300 ft/min         250 -> ~290 kt
accelerate  cruise level, 2 min                                 ~290 -> cruise
cruise      FL280-FL400 (lower when    0                        420-480 kt
            the route is short)
descent 1   cruise -> FL100            ~1800 ft/min (~3 deg)    cruise -> ~280 kt
descent 2   FL100 -> 3000 ft AAL       ~1400 ft/min             ~280 -> ~210 kt
final       3000 ft AAL -> touchdown   ~750 ft/min (3 deg)      ~210 -> ~140 kt
==========  =========================  =======================  ==================

Cruise levels follow the semicircular rule (odd flight levels eastbound, even
westbound).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from enum import IntEnum
from typing import Final

import numba as nb
import numpy as np
import numpy.typing as npt

from skyshare.errors import ConfigError
from skyshare.synth.airports import Airports, Region, load_airports

__all__ = ["AIRLINES", "DEFAULT_START", "EMERGENCY_SQUAWKS", "Traffic", "TrafficState",
           "hash_u64", "hash_uniform"]

F8 = npt.NDArray[np.float64]
I8 = npt.NDArray[np.int64]

DEFAULT_START: Final = 1_700_000_000.0
"""Default ``start_time``: a fixed instant, so that default traffic is reproducible."""
EARTH_RADIUS_NM: Final = 3440.065
N_KNOTS: Final = 8
"""Knots of the piecewise-linear profile (touchdown is the last)."""
MIN_ROUTE_NM: Final = 100.0
"""Shortest route chosen when the airports allow it."""
LONG_ROUTE_NM: Final = 900.0
"""Routes longer than this are chosen less often."""
RESAMPLE_WINDOW_S: Final = 300.0
""":meth:`Traffic.sample` handles times in windows this long (shorter than any flight)."""

AIRLINES: Final = (
    "AFR", "DLH", "SWR", "BAW", "KLM", "IBE", "ITY", "AUA", "BEL", "LGL", "EZY", "RYR",
    "EWG", "VLG", "TAP", "SAS", "FIN", "LOT", "EIN", "TRA", "EDW", "CFG", "AEA", "HOP",
    "TVF", "WZZ", "DAH", "RAM", "THY", "CSA", "AEE", "NAX", "BCS", "DHK", "NJE", "VJT",
)
_SQUAWKS_AVOIDED: Final = frozenset({0o0000, 0o7500, 0o7600, 0o7700, 0o7777, 0o1200, 0o7000,
                                     0o2000})
EMERGENCY_SQUAWKS: Final = (7500, 7600, 7700)

_FLIGHT_DTYPE: Final = np.dtype([
    ("gen", "i8"),  # flight number within the slot (0: the first)
    ("dep", "f8"),  # s, departure (UNIX)
    ("arr", "f8"),  # s, touchdown (UNIX)
    ("origin", "i4"),
    ("dest", "i4"),
    ("icao24", "u4"),
    ("callsign", "S8"),
    ("category", "u1"),
    ("squawk", "i2"),
    ("lat0", "f8"),  # deg, origin
    ("lon0", "f8"),
    ("bearing0", "f8"),  # rad, initial great-circle course
    ("kt", "f8", (N_KNOTS,)),  # s since departure
    ("kalt", "f8", (N_KNOTS,)),  # ft
    ("kv", "f8", (N_KNOTS,)),  # kt
    ("ks", "f8", (N_KNOTS,)),  # nm flown
])


class _Stream(IntEnum):
    """What a hashed random number is for."""

    ORIGIN = 1
    PHASE = 2
    DEST = 3
    LEVEL = 4
    V_CRUISE = 5
    V_ROTATE = 6
    V_CLIMB = 7
    V_DESCENT = 8
    V_APPROACH = 9
    V_TOUCHDOWN = 10
    CLIMB_1 = 11
    CLIMB_2 = 12
    DESCENT_1 = 13
    DESCENT_2 = 14
    DESCENT_3 = 15
    AIRLINE = 16
    DIGITS = 17
    NUMBER = 18
    LETTER = 19
    CATEGORY = 20
    SQUAWK = 21
    ADDRESS = 22


# ----------------------------------------------------------------------------- hashing
_GOLDEN: Final = 0x9E3779B97F4A7C15
_U64: Final = (1 << 64) - 1


def _mix64(x: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """The splitmix64 finaliser (array in, array out; wraps modulo 2**64)."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _as_u64(a: npt.ArrayLike) -> npt.NDArray[np.uint64]:
    return np.atleast_1d(np.asarray(a, dtype=np.int64)).astype(np.uint64)


def hash_u64(seed: int, a: npt.ArrayLike, b: npt.ArrayLike, stream: int) -> npt.NDArray[np.uint64]:
    """A 64-bit hash of (seed, a, b, stream), elementwise over broadcast ``a``, ``b``."""
    h = _mix64(np.full(1, (seed * _GOLDEN) & _U64, dtype=np.uint64))
    h = _mix64(h ^ (_as_u64(a) + np.uint64(_GOLDEN)))
    h = _mix64(h ^ (_as_u64(b) + np.uint64((2 * _GOLDEN) & _U64)))
    return _mix64(h ^ np.uint64((stream * 0xD1B54A32D192ED03 + 1) & _U64))


def hash_uniform(seed: int, a: npt.ArrayLike, b: npt.ArrayLike, stream: int) -> F8:
    """Uniform in [0, 1) from :func:`hash_u64` (53 bits)."""
    return (hash_u64(seed, a, b, stream) >> np.uint64(11)).astype(np.float64) * 2.0 ** -53


def _address(seed: int, index: I8) -> npt.NDArray[np.uint32]:
    """A keyed permutation of the 24-bit space (4-round Feistel on 12-bit halves),
    cycle-walked off 000000 and FFFFFF: distinct indices give distinct addresses."""
    x = index.astype(np.uint64) & np.uint64(0xFFFFFF)
    mask12 = np.uint64(0xFFF)

    def permute(v: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
        left, right = v >> np.uint64(12), v & mask12
        for r in range(4):
            f = hash_u64(seed, right.astype(np.int64), r, _Stream.ADDRESS) & mask12
            left, right = right, left ^ f
        return (left << np.uint64(12)) | right

    x = permute(x)
    bad = (x == 0) | (x == 0xFFFFFF)
    while bad.any():
        x[bad] = permute(x[bad])
        bad = (x == 0) | (x == 0xFFFFFF)
    return x.astype(np.uint32)


# ----------------------------------------------------------------------------- geometry
def _gc_distance_bearing(lat1: F8, lon1: F8, lat2: F8, lon2: F8) -> tuple[F8, F8]:
    """Great-circle distance (nm) and initial course (rad) between points (deg)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dl = np.radians(lon2 - lon1)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    dist = 2 * EARTH_RADIUS_NM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
    bearing = np.arctan2(np.sin(dl) * np.cos(p2),
                         np.cos(p1) * np.sin(p2) - np.sin(p1) * np.cos(p2) * np.cos(dl))
    return dist, np.mod(bearing, 2 * np.pi)


@nb.njit(cache=True, nogil=True)
def _fly(rows: I8, t: F8, dep: F8, kt: F8, kalt: F8, kv: F8, ks: F8, lat0: F8, lon0: F8,
         bearing0: F8, out: F8, parked: npt.NDArray[np.bool_]) -> None:
    """Flight ``rows[i]`` at ``t[i]``: ``out[:, i]`` = lat, lon (deg), altitude (ft),
    ground speed (kt), course (deg), vertical rate (ft/min) along the profile's knots
    and the great circle leaving the origin on ``bearing0`` (rad)."""
    last = kt.shape[1] - 1
    for i in range(rows.shape[0]):
        r = rows[i]
        tau = t[i] - dep[r]
        parked[i] = tau < 0.0
        tau = min(max(tau, 0.0), kt[r, last])
        k = 0
        while k < last - 1 and tau >= kt[r, k + 1]:
            k += 1
        dt = kt[r, k + 1] - kt[r, k]
        since = tau - kt[r, k]
        frac = since / dt if dt > 0.0 else 0.0
        speed = kv[r, k] + (kv[r, k + 1] - kv[r, k]) * frac
        flown = ks[r, k] + (kv[r, k] + speed) / 2.0 * since / 3600.0
        # destination point and final course on a sphere, from the initial course
        p1 = math.radians(lat0[r])
        d = flown / EARTH_RADIUS_NM
        sin_b, cos_b = math.sin(bearing0[r]), math.cos(bearing0[r])
        sin_p2 = math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * cos_b
        sin_p2 = min(max(sin_p2, -1.0), 1.0)
        dlon = math.atan2(sin_b * math.sin(d) * math.cos(p1), math.cos(d) - math.sin(p1) * sin_p2)
        course = math.atan2(sin_b * math.cos(p1),
                            math.cos(p1) * cos_b * math.cos(d) - math.sin(p1) * math.sin(d))
        out[0, i] = math.degrees(math.asin(sin_p2))
        lon = lon0[r] + math.degrees(dlon) + 180.0
        out[1, i] = lon - 360.0 * math.floor(lon / 360.0) - 180.0
        course = math.degrees(course)
        out[4, i] = course - 360.0 * math.floor(course / 360.0)
        if parked[i]:
            out[2, i], out[3, i], out[5, i] = kalt[r, 0], 0.0, 0.0
        else:
            out[2, i] = kalt[r, k] + (kalt[r, k + 1] - kalt[r, k]) * frac
            out[3, i] = speed
            out[5, i] = (kalt[r, k + 1] - kalt[r, k]) / dt * 60.0 if dt > 0.0 else 0.0


# ----------------------------------------------------------------------------- profile
@dataclass(frozen=True)
class _Performance:
    """Per-flight speeds (kt) and rates (ft/min), columns of shape (m, 1)."""

    v_rotate: F8
    v_climb: F8
    v_cruise: F8
    v_descent: F8
    v_approach: F8
    v_touchdown: F8
    climb_1: F8
    climb_2: F8
    descent_1: F8
    descent_2: F8
    descent_3: F8

    @staticmethod
    def draw(seed: int, slot: I8, gen: I8) -> _Performance:
        def u(stream: _Stream, lo: float, hi: float) -> F8:
            return (lo + (hi - lo) * hash_uniform(seed, slot, gen, stream))[:, None]

        return _Performance(
            v_rotate=u(_Stream.V_ROTATE, 150, 170), v_climb=u(_Stream.V_CLIMB, 275, 305),
            v_cruise=u(_Stream.V_CRUISE, 420, 480), v_descent=u(_Stream.V_DESCENT, 270, 290),
            v_approach=u(_Stream.V_APPROACH, 200, 220),
            v_touchdown=u(_Stream.V_TOUCHDOWN, 130, 150),
            climb_1=u(_Stream.CLIMB_1, 2200, 2800), climb_2=u(_Stream.CLIMB_2, 1700, 2300),
            descent_1=u(_Stream.DESCENT_1, 1650, 1950), descent_2=u(_Stream.DESCENT_2, 1250, 1550),
            descent_3=u(_Stream.DESCENT_3, 700, 800))


def _knots(level: F8, e0: F8, e1: F8, p: _Performance) -> tuple[F8, F8, F8]:
    """Altitudes (ft) and speeds (kt) at the knots, and segment durations (s) with
    no cruise, for cruise ``level`` (ft); arrays broadcast to (m, levels)."""
    fl100 = np.minimum(10_000.0, level)
    a1 = np.maximum(fl100, e0)
    a5 = np.maximum(fl100, np.minimum(e1 + 3000.0, level))
    a6 = np.minimum(e1 + 3000.0, a5)
    alt = np.stack([e0 + 0 * level, a1, level, level, level, a5, a6, e1 + 0 * level], axis=-1)
    v_cruise = p.v_cruise - 0.005 * np.maximum(0.0, 28_000.0 - level)
    speed = np.stack(np.broadcast_arrays(p.v_rotate, 250.0, p.v_climb, v_cruise, v_cruise,
                                         p.v_descent, p.v_approach, p.v_touchdown), axis=-1)
    rates = np.stack(np.broadcast_arrays(p.climb_1, p.climb_2, 1.0, 1.0, p.descent_1,
                                         p.descent_2, p.descent_3), axis=-1)
    dur = np.abs(np.diff(alt, axis=-1)) / rates * 60.0
    dur[..., 2] = 120.0  # accelerate to cruise speed
    dur[..., 3] = 0.0  # cruise: fitted to the route
    return alt, speed, dur


def _profile(dist: F8, e0: F8, e1: F8, eastbound: npt.NDArray[np.bool_], pref: F8,
             p: _Performance) -> tuple[F8, F8, F8, F8]:
    """Knot times (s), altitudes (ft), speeds (kt) and distances (nm) of flights of
    ``dist`` nm: the cruise level is ``pref`` or the highest one the route leaves room
    for (with at least 10 % of it in cruise)."""
    grid = np.where(eastbound, 7_000.0, 6_000.0)[:, None] + 2_000.0 * np.arange(18)
    alt, speed, dur = _knots(grid, e0[:, None], e1[:, None], p)
    other = (((speed[..., 1:] + speed[..., :-1]) / 2) * dur / 3600.0).sum(axis=-1)
    fits = other <= 0.9 * dist[:, None]
    highest = np.where(fits, grid, grid[:, :1]).max(axis=1)
    level = np.minimum(pref, highest)
    alt, speed, dur = _knots(level[:, None], e0[:, None], e1[:, None], p)
    alt, speed, dur = alt[:, 0], speed[:, 0], dur[:, 0]
    seg = (speed[:, 1:] + speed[:, :-1]) / 2 * dur / 3600.0
    remaining = dist - seg.sum(axis=1)
    dur[:, 3] = np.maximum(remaining, 0.0) / speed[:, 3] * 3600.0
    # a route too short for even the lowest level: fly the profile slower to fit it
    speed *= np.minimum(1.0, dist / seg.sum(axis=1))[:, None]
    seg = (speed[:, 1:] + speed[:, :-1]) / 2 * dur / 3600.0
    zero = np.zeros((len(dist), 1))
    return (np.hstack([zero, np.cumsum(dur, axis=1)]), alt, speed,
            np.hstack([zero, np.cumsum(seg, axis=1)]))


# ----------------------------------------------------------------------------- identity
def _squawks(seed: int, slot: I8, gen: I8) -> npt.NDArray[np.int16]:
    code = (hash_u64(seed, slot, gen, _Stream.SQUAWK) % np.uint64(4096)).astype(np.int64)
    avoided = np.array(sorted(_SQUAWKS_AVOIDED))
    while (bad := np.isin(code, avoided)).any():
        code[bad] = (code[bad] + 0o1010) % 4096
    decimal = np.zeros(len(code), dtype=np.int16)
    for shift in (9, 6, 3, 0):  # each octal digit becomes a decimal digit: 0o7654 -> 7654
        decimal = decimal * 10 + ((code >> shift) & 7).astype(np.int16)
    return decimal


def _callsigns(seed: int, slot: I8, gen: I8) -> npt.NDArray[np.bytes_]:
    airline = (hash_uniform(seed, slot, gen, _Stream.AIRLINE) * len(AIRLINES)).astype(np.int64)
    u_digits = hash_uniform(seed, slot, gen, _Stream.DIGITS)
    n_digits = np.where(u_digits < 0.15, 2, np.where(u_digits < 0.55, 3, 4))
    low = 10 ** (n_digits - 1)
    number = low + (hash_uniform(seed, slot, gen, _Stream.NUMBER) * 9 * low).astype(np.int64)
    u_letter = hash_uniform(seed, slot, gen, _Stream.LETTER)
    letter = np.where((u_letter < 0.2) & (n_digits < 4),
                      np.array(list("ABCDEFGHJKLMNPRSTUVWXYZ"))[(u_letter * 115).astype(int) % 23],
                      "")
    text = np.char.add(np.char.add(np.array(AIRLINES)[airline], number.astype(str)), letter)
    return text.astype("S8")


def _categories(seed: int, slot: I8, gen: I8) -> npt.NDArray[np.uint8]:
    u = hash_uniform(seed, slot, gen, _Stream.CATEGORY)
    return np.select([u < 0.05, u < 0.14, u < 0.92], [0xA1, 0xA2, 0xA3], 0xA5).astype(np.uint8)


# ----------------------------------------------------------------------------- state
@dataclass(frozen=True)
class TrafficState:
    """The aircraft at given times, one row per sample (per slot for :meth:`Traffic.state`)."""

    time: F8  # s
    icao24: npt.NDArray[np.uint32]
    callsign: npt.NDArray[np.bytes_]  # S8, no padding
    category: npt.NDArray[np.uint8]  # 0xA3 means "A3"
    squawk: npt.NDArray[np.int16]  # octal digits read as decimal (7700)
    lat: F8  # deg
    lon: F8  # deg
    alt_baro: F8  # ft
    groundspeed: F8  # kt
    track: F8  # deg
    vertical_rate: F8  # ft/min
    on_ground: npt.NDArray[np.bool_]  # parked at the origin, before the first departure
    origin: npt.NDArray[np.str_]  # ICAO airport code
    destination: npt.NDArray[np.str_]

    def __len__(self) -> int:
        return len(self.icao24)


def _scatter(parts: list[tuple[I8, TrafficState]], n: int) -> TrafficState:
    """One state from states of disjoint row subsets."""
    columns: dict[str, npt.NDArray[np.generic]] = {}
    for f in fields(TrafficState):
        first = getattr(parts[0][1], f.name)
        out = np.empty(n, dtype=first.dtype)
        for rows, st in parts:
            out[rows] = getattr(st, f.name)
        columns[f.name] = out
    return TrafficState(**columns)  # type: ignore[arg-type]


class Traffic:
    """``n_aircraft`` aircraft flying between the airports of ``region`` (all when None).

    At ``start_time`` every aircraft is in flight at a random phase of its first flight.
    """

    def __init__(self, n_aircraft: int, seed: int = 0, region: Region | None = None,
                 start_time: float = DEFAULT_START, airports: Airports | None = None) -> None:
        if n_aircraft < 1:
            raise ConfigError(f"n_aircraft must be at least 1, got {n_aircraft}",
                              where="synthetic.aircraft")
        table = airports if airports is not None else load_airports()
        if region is not None:
            table = table.within(region)
        if len(table) < 2:
            raise ConfigError(f"region {region} holds {len(table)} airport(s); flights need 2",
                              where="synthetic.region")
        self.n = int(n_aircraft)
        self.seed = int(seed)
        self.region = region
        self.start_time = float(start_time)
        self.airports = table
        self._slots = np.arange(self.n, dtype=np.int64)
        self._routes(table)
        self._squawk_override: dict[int, int] = {}
        self._silent: dict[int, float] = {}  # address -> transponder off from this time
        self._silent_columns = (np.zeros(0, np.int64), np.zeros(0))
        self._flights = np.zeros(2 * self.n, dtype=_FLIGHT_DTYPE)
        self._half = np.zeros(self.n, dtype=np.int64)  # which half holds the current flight
        self._reset()

    # -- public
    def state(self, t: float) -> TrafficState:
        """Every aircraft at time ``t`` (UNIX s), one row per slot."""
        return self.sample(self._slots, np.full(self.n, float(t)))

    def sample(self, slots: npt.ArrayLike, times: npt.ArrayLike) -> TrafficState:
        """The aircraft of ``slots`` at ``times`` (broadcast together), one row per pair."""
        s, t = np.broadcast_arrays(np.asarray(slots, dtype=np.int64),
                                   np.asarray(times, dtype=np.float64))
        s, t = s.ravel(), t.ravel()
        if len(t) and t.max() - t.min() > RESAMPLE_WINDOW_S:
            order = np.argsort(t, kind="stable")
            window = ((t[order] - t[order[0]]) // RESAMPLE_WINDOW_S).astype(np.int64)
            parts = np.split(order, np.flatnonzero(np.diff(window)) + 1)
            # evaluated window by window: a later window may overwrite a kept flight
            return _scatter([(part, self._evaluate(self._rows(s[part], t[part]), t[part]))
                             for part in parts], len(t))
        return self._evaluate(self._rows(s, t), t)

    def set_squawk(self, icao24: int, squawk: int | None) -> None:
        """Make the aircraft ``icao24`` squawk ``squawk`` (e.g. 7700) from now on; None
        restores its own code.  The override ends with the flight."""
        if squawk is None:
            self._squawk_override.pop(int(icao24), None)
            return
        if not 0 <= squawk <= 7777 or any(c in "89" for c in f"{squawk:04d}"):
            raise ValueError(f"squawk {squawk!r} is not four octal digits")
        self._squawk_override[int(icao24)] = int(squawk)

    @property
    def has_squawk_overrides(self) -> bool:
        return bool(self._squawk_override)

    def set_transponder_off(self, icao24: int, since: float | None) -> None:
        """From UNIX time ``since`` the aircraft ``icao24`` transmits nothing (no ADS-B,
        no Mode S or SSR replies: only primary radar sees it); None switches it on
        again.  Every feed and radar simulated on this traffic obeys."""
        if since is None:
            self._silent.pop(int(icao24), None)
        else:
            self._silent[int(icao24)] = float(since)
        order = sorted(self._silent)
        self._silent_columns = (np.array(order, np.int64),
                                np.array([self._silent[a] for a in order], np.float64))

    def transponder_silent(self, icao24: npt.ArrayLike, t: npt.ArrayLike
                           ) -> npt.NDArray[np.bool_]:
        """Whether each aircraft's transponder is off at each time (broadcast)."""
        address, when = np.broadcast_arrays(np.asarray(icao24, np.int64),
                                            np.asarray(t, np.float64))
        silent, since = self._silent_columns
        if not len(silent):
            return np.zeros(address.shape, np.bool_)
        at = np.minimum(np.searchsorted(silent, address), len(silent) - 1)
        out: npt.NDArray[np.bool_] = (silent[at] == address) & (when >= since[at])
        return out

    # -- flights
    def _routes(self, table: Airports) -> None:
        lat, lon = table.lat, table.lon
        dist, bearing = _gc_distance_bearing(lat[:, None], lon[:, None], lat[None, :],
                                             lon[None, :])
        self._dist, self._bearing = dist, bearing
        weight = np.where(dist >= MIN_ROUTE_NM, np.where(dist <= LONG_ROUTE_NM, 1.0, 0.3), 0.0)
        lonely = weight.sum(axis=1) == 0  # no airport far enough: take any other one
        weight[lonely] = np.where(dist[lonely] > 0, dist[lonely], 0.0)
        if (weight.sum(axis=1) == 0).any():  # airports at the same place
            weight = np.ones_like(dist) - np.eye(len(dist))
        cum = np.cumsum(weight, axis=1)
        self._dest_cdf = cum / cum[:, -1:]

    def _make_flights(self, slot: I8, gen: I8, origin: I8, dep: F8 | None) -> npt.NDArray[np.void]:
        """New flights (``dep`` None: first flights, caught at a random phase)."""
        seed, table = self.seed, self.airports
        u_dest = hash_uniform(seed, slot, gen, _Stream.DEST)
        dest = (self._dest_cdf[origin] <= u_dest[:, None]).sum(axis=1)
        dest = np.minimum(dest, len(table) - 1)
        dist, bearing = self._dist[origin, dest], self._bearing[origin, dest]
        eastbound = bearing < np.pi
        u_level = hash_uniform(seed, slot, gen, _Stream.LEVEL)
        pref = np.where(eastbound, 29_000.0 + 2_000.0 * np.floor(u_level * 6),
                        28_000.0 + 2_000.0 * np.floor(u_level * 7))
        kt, kalt, kv, ks = _profile(dist, table.elevation_ft[origin], table.elevation_ft[dest],
                                    eastbound, pref, _Performance.draw(seed, slot, gen))
        if dep is None:
            phase = 0.02 + 0.96 * hash_uniform(seed, slot, gen, _Stream.PHASE)
            dep = self.start_time - phase * kt[:, -1]
        out = np.zeros(len(slot), dtype=_FLIGHT_DTYPE)
        out["gen"], out["dep"], out["origin"], out["dest"] = gen, dep, origin, dest
        out["arr"] = dep + kt[:, -1]
        out["icao24"] = _address(seed, gen * self.n + slot)
        out["callsign"] = _callsigns(seed, slot, gen)
        out["category"] = _categories(seed, slot, gen)
        out["squawk"] = _squawks(seed, slot, gen)
        out["lat0"], out["lon0"], out["bearing0"] = table.lat[origin], table.lon[origin], bearing
        out["kt"], out["kalt"], out["kv"], out["ks"] = kt, kalt, kv, ks
        return out

    def _reset(self) -> None:
        """Every slot back to its first flight."""
        gen = np.zeros(self.n, dtype=np.int64)
        u = hash_uniform(self.seed, self._slots, gen, _Stream.ORIGIN)
        origin = np.minimum((u * len(self.airports)).astype(np.int64), len(self.airports) - 1)
        self._half[:] = 0
        self._flights[: self.n] = self._make_flights(self._slots, gen, origin, None)
        self._flights[self.n:] = self._flights[: self.n]
        self._flights["gen"][self.n:] = -1  # no previous flight

    def _advance(self, slots: I8, times: F8) -> None:
        """Replace landed flights until each of ``slots`` is flying (or parked) at its time."""
        arr = self._flights["arr"]
        while True:
            landed = np.unique(slots[times >= arr[slots + self.n * self._half[slots]]])
            if not len(landed):
                return
            old = self._flights[landed + self.n * self._half[landed]]
            new = self._make_flights(landed, old["gen"] + 1, old["dest"].astype(np.int64),
                                     old["arr"])
            self._half[landed] ^= 1
            self._flights[landed + self.n * self._half[landed]] = new

    def _rows(self, slots: I8, times: F8) -> I8:
        """Rows of ``_flights`` holding the flight of each slot at each time."""
        if ((slots < 0) | (slots >= self.n)).any():
            raise IndexError(f"slots must be in [0, {self.n})")
        for attempt in range(2):
            self._advance(slots, times)
            cur = slots + self.n * self._half[slots]
            prev = slots + self.n * (1 - self._half[slots])
            fl = self._flights
            use_prev = (times < fl["dep"][cur]) & (fl["gen"][cur] > 0)
            too_old = use_prev & (times < fl["dep"][prev]) & (fl["gen"][prev] > 0)
            if not too_old.any():
                return np.where(use_prev, prev, cur)
            if attempt == 0:
                self._reset()  # a time before what is kept: replay from the first flights
        raise RuntimeError("times within one window span more than one flight of a slot")

    def _evaluate(self, rows: I8, t: F8) -> TrafficState:
        fl = self._flights
        out = np.empty((6, len(rows)))
        parked = np.empty(len(rows), dtype=np.bool_)
        _fly(rows, t, fl["dep"], fl["kt"], fl["kalt"], fl["kv"], fl["ks"], fl["lat0"],
             fl["lon0"], fl["bearing0"], out, parked)
        squawk = fl["squawk"][rows]
        icao24 = fl["icao24"][rows]
        if self._squawk_override:  # one pass for any number of overrides (alert storms)
            addresses = np.fromiter(self._squawk_override, np.int64, len(self._squawk_override))
            codes = np.fromiter(self._squawk_override.values(), np.int16, len(addresses))
            order = np.argsort(addresses)
            addresses, codes = addresses[order], codes[order]
            at = np.minimum(np.searchsorted(addresses, icao24), len(addresses) - 1)
            squawk = np.where(addresses[at] == icao24, codes[at], squawk)
        icao = self.airports.icao
        return TrafficState(
            time=t, icao24=icao24, callsign=fl["callsign"][rows], category=fl["category"][rows],
            squawk=squawk, lat=out[0], lon=out[1], alt_baro=out[2], groundspeed=out[3],
            track=out[4], vertical_rate=out[5], on_ground=parked,
            origin=icao[fl["origin"][rows]], destination=icao[fl["dest"][rows]])
