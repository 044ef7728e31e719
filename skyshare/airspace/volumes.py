"""Airspace volumes and the checks over every track at once: which tracks are inside an
active volume (:meth:`VolumeSet.inside`), and which will enter one soon
(:meth:`VolumeSet.entering`); the vertical rules are in :mod:`skyshare.airspace`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
import shapely

from skyshare.airspace.common import Area, BoolArray, FloatArray, IntArray, _Invalid
from skyshare.airspace.geometry import _as_f8, _position, dead_reckon
from skyshare.airspace.index import _BoxGrid, _crossings, _edge_table
from skyshare.airspace.limits import Limit
from skyshare.airspace.schedule import ALWAYS, Schedule, ScheduleTable

MAX_GROUNDSPEED_KT: Final = 10_000.0  # beyond this a reported speed is taken as unknown


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


_KINDS: Final = {"R": "restricted", "P": "prohibited", "Q": "danger", "GP": "glider-prohibited",
                 "W": "wave", "UNC": "unclassified", **{c: f"class-{c.lower()}" for c in "ABCDEFG"}}


def _kind(text: str) -> str:
    s = text.strip().upper()
    return _KINDS.get(s, s.lower())


def _claim_id(seen: dict[str, Volume], volume: Volume, fix: str) -> Volume:
    """``volume``, its id noted in ``seen`` (the ids of one file so far).  An id names one
    volume: people and messages tell volumes apart by it, so a second volume with the
    same id is an error naming both places; ``fix`` says how to give each its own."""
    first = seen.setdefault(volume.id, volume)
    if first is not volume:
        raise _Invalid(f"id {volume.id!r} is already used by the airspace at {first.source}; "
                       f"{fix}")
    return volume


def active_mask(volumes: Sequence[Volume], t: float) -> BoolArray:
    """Which ``volumes`` are active at UNIX time ``t``."""
    return ScheduleTable([v.schedule for v in volumes]).active(t)


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


class VolumeSet:
    """Volumes indexed for checks over every track at once (see :mod:`skyshare.airspace` for the
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
