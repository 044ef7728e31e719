"""Track-to-track association: which partner rows describe which aircraft (numba kernels).

Every partner row ends in a *group*, one per aircraft of the merged picture.  Groups
``0 .. n_own-1`` are the node's own tracks (group = own row index); higher groups are
aircraft seen only by partners.  Stages, each a kernel over whole batches:

1. :func:`associate_by_address` -- rows with an address join the own track, or else
   the partner-only group, with the same key (address, EXERCISE, NON_ICAO), found
   through the hash maps of :mod:`~skyshare.fusion.keymap`.
2. :func:`nearest_in_gate` + :func:`accept_pairs` -- rows without an address (and a
   position) look for the nearest own track within the gate and the nearest
   partner-only group that has an address (represented by its freshest position); the
   nearer of the two is tried first (the own track on a tie), the other if that group
   cannot take the row.  Pairs are accepted nearest first.  (Taking any own track in
   the gate before a partner's addressed one would fold an aircraft a partner knows
   by address into whichever own aircraft flies within the gate of it.)
3. :func:`cluster_anonymous` -- rows still alone join the nearest row of another
   partner already leading an anonymous group, or lead a new one.

A group never takes two rows of the same partner (``masks``: bit i = partner i is in
the group): a partner's tracker already decided those are two aircraft, so the second
row goes on to the next stage or stays a track of its own.  EXERCISE rows only ever
meet EXERCISE rows (the key holds the flag, the gate compares it).

The gate: horizontal distance within ``gate_m`` plus the distance the staler of the
two could have flown since its position (``slack``: ``slack_mps`` x age, at most
``slack_cap_m``), and altitudes within ``gate_ft`` when both are known (horizontal
only otherwise).  Distances are equirectangular at the query's latitude: exact to far
below the gate at gate distances, and the grid (:mod:`~skyshare.fusion.proximity`)
keeps the search near-linear.
"""

from __future__ import annotations

import math
from typing import Final, NamedTuple

import numba as nb
import numpy as np
import numpy.typing as npt

from skyshare.fusion.geo import scales, wrap_lon
from skyshare.fusion.keymap import EMPTY_KEY, find, insert
from skyshare.fusion.measurements import KNOT
from skyshare.fusion.proximity import MAX_NEIGHBOUR_CELLS, Grid, add, neighbour_heads
from skyshare.model import NO_ADDRESS, TrackBatch, TrackFlag

_EXERCISE: Final = int(TrackFlag.EXERCISE)
_NON_ICAO: Final = int(TrackFlag.NON_ICAO)
_HAS_POSITION: Final = int(TrackFlag.HAS_POSITION)
_EXERCISE_KEY: Final = np.uint64(1) << np.uint64(32)
_NON_ICAO_KEY: Final = np.uint64(1) << np.uint64(33)

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


class GateParams(NamedTuple):
    gate_m: float
    gate_ft: float
    slack_mps: float
    slack_cap_m: float
    dead_reckon_max_s: float  # partner positions are moved forward over gaps shorter than this


class Points(NamedTuple):
    """What association needs of each row, on the local clock, positions at ``now``."""

    key: npt.NDArray[np.uint64]  # (address, EXERCISE, NON_ICAO); EMPTY_KEY: no address
    ex: npt.NDArray[np.bool_]
    lat: F64  # NaN: no position
    lon: F64
    alt: F64  # NaN: unknown
    slack: F64  # m the aircraft may have flown since its position
    lp: F64  # last_pos, local clock
    ls: F64  # last_seen, local clock
    fs: F64  # first_seen, local clock


def empty_points(n: int) -> Points:
    return Points(np.empty(n, np.uint64), np.empty(n, np.bool_), *(np.empty(n) for _ in range(7)))


@nb.njit(cache=True, nogil=True)
def new_key_map(n: int) -> npt.NDArray[np.uint64]:
    """An empty key map (:mod:`~skyshare.fusion.keymap`) for ``n`` keys, at most half full."""
    size = 16
    while size < 2 * n:
        size *= 2
    return np.full((size, 2), EMPTY_KEY, np.uint64)


@nb.njit(cache=True, nogil=True)
def _key(icao24: np.uint32, flags: int) -> np.uint64:
    if icao24 == NO_ADDRESS:
        return EMPTY_KEY
    key = np.uint64(icao24)
    if flags & _EXERCISE:
        key |= _EXERCISE_KEY
    if flags & _NON_ICAO:
        key |= _NON_ICAO_KEY
    return key


@nb.njit(cache=True, nogil=True)
def fill_points(rows: TrackBatch, offset: F64, now: float, p: GateParams, out: Points) -> None:
    """``out[i]`` from ``rows[i]``: times + ``offset[i]``; positions dead reckoned if asked.

    Dead reckoning (``p.dead_reckon_max_s > 0``) moves a position along its ground speed
    and track from its time to ``now`` when both are known and the gap is shorter than
    that, as :func:`skyshare.fusion.output.predict_rows` does for the node's own tracks.
    """
    for i in range(len(rows)):
        r = rows[i]
        out.key[i] = _key(r.icao24, r.flags)
        out.ex[i] = bool(r.flags & _EXERCISE)
        lp = r.last_pos + offset[i]
        out.lp[i], out.ls[i], out.fs[i] = lp, r.last_seen + offset[i], r.first_seen + offset[i]
        out.alt[i] = r.alt
        lat, lon = r.lat, r.lon
        if not (r.flags & _HAS_POSITION and math.isfinite(lat) and math.isfinite(lon)):
            out.lat[i] = out.lon[i] = out.slack[i] = math.nan
            continue
        gap = now - lp
        if (0.0 < gap < p.dead_reckon_max_s and math.isfinite(r.groundspeed)
                and math.isfinite(r.track)):
            m_lat, m_lon = scales(lat)
            dist = r.groundspeed * KNOT * gap
            angle = math.radians(r.track)
            lat = min(max(lat + dist * math.cos(angle) / m_lat, -90.0), 90.0)
            lon = wrap_lon(lon + dist * math.sin(angle) / m_lon)
        out.lat[i], out.lon[i] = lat, lon
        out.slack[i] = min(max(gap, 0.0) * p.slack_mps, p.slack_cap_m)


@nb.njit(cache=True, nogil=True)
def associate_by_address(own: Points, prt: Points, part: I64, live: npt.NDArray[np.bool_]
                         ) -> tuple[I64, npt.NDArray[np.uint16], I64, int]:
    """Stage 1: (group per partner row (-1: none yet), masks, freshest row per group, n).

    ``masks`` and the freshest-position row (``rep``, -1: none) are indexed by group;
    ``rep`` is only filled for partner-only groups.
    """
    n_own, n_prt = len(own.key), len(prt.key)
    own_map = new_key_map(n_own)
    for i in range(n_own):
        if own.key[i] != EMPTY_KEY and find(own_map, own.key[i]) < 0:
            insert(own_map, own.key[i], i)
    po_map = new_key_map(n_prt)
    group = np.full(n_prt, -1, np.int64)
    masks = np.zeros(n_own + n_prt, np.uint16)
    rep = np.full(n_own + n_prt, -1, np.int64)
    n_groups = n_own
    for r in range(n_prt):
        key = prt.key[r]
        if not live[r] or key == EMPTY_KEY:
            continue
        g = find(own_map, key)
        if g < 0:
            g = find(po_map, key)
            if g < 0:
                g = n_groups
                n_groups += 1
                insert(po_map, key, g)
        group[r] = g
        masks[g] |= np.uint16(1 << part[r])
        if g >= n_own and math.isfinite(prt.lat[r]) and (rep[g] < 0 or prt.lp[r] > prt.lp[rep[g]]):
            rep[g] = r
    return group, masks, rep, n_groups


@nb.njit(cache=True, nogil=True, inline="always")
def gate_distance(q: Points, i: int, t: Points, j: int, m_lat: float, m_lon: float,
                  p: GateParams) -> float:
    """Horizontal metres from ``q[i]`` to ``t[j]`` if the pair is within the gate, else inf."""
    if q.ex[i] != t.ex[j]:
        return math.inf
    if abs(q.alt[i] - t.alt[j]) > p.gate_ft:  # False when either is NaN: horizontal only
        return math.inf
    d = math.hypot(wrap_lon(t.lon[j] - q.lon[i]) * m_lon, (t.lat[j] - q.lat[i]) * m_lat)
    return d if d <= p.gate_m + max(q.slack[i], t.slack[j]) else math.inf


@nb.njit(cache=True, nogil=True)
def nearest_in_gate(q: Points, queries: I64, t: Points, grid: Grid, p: GateParams
                    ) -> tuple[I64, F64]:
    """For each query row: the nearest target in ``grid`` within the gate (-1) and metres."""
    best = np.full(len(queries), -1, np.int64)
    dist = np.full(len(queries), math.inf)
    heads = np.empty(MAX_NEIGHBOUR_CELLS, np.int64)
    for k in range(len(queries)):
        i = queries[k]
        m_lat = m_lon = 0.0  # scales at the query, computed at its first candidate (slow)
        for c in range(neighbour_heads(grid, q.lat[i], q.lon[i], heads)):
            j = heads[c]
            while j >= 0:
                if m_lat == 0.0:
                    m_lat, m_lon = scales(q.lat[i])
                d = gate_distance(q, i, t, j, m_lat, m_lon, p)
                if d < dist[k]:
                    best[k], dist[k] = j, d
                j = grid.nxt[j]
    return best, dist


@nb.njit(cache=True, nogil=True)
def accept_pairs(rows: I64, candidates: I64, part: I64, group: I64,
                 masks: npt.NDArray[np.uint16]) -> None:
    """Stage 2: put ``rows[k]`` in group ``candidates[k]``, in this order, unless that
    group already has a row of the same partner (or the row a group)."""
    for k in range(len(rows)):
        r, g = rows[k], candidates[k]
        bit = np.uint16(1 << part[r])
        if group[r] >= 0 or masks[g] & bit:
            continue
        masks[g] |= bit
        group[r] = g


@nb.njit(cache=True, nogil=True)
def cluster_anonymous(prt: Points, part: I64, rows: I64, group: I64,
                      masks: npt.NDArray[np.uint16], n_groups: int, grid: Grid,
                      p: GateParams) -> int:
    """Stage 3: ``rows`` (in partner order) join the nearest head of another partner's
    anonymous group within the gate, or lead a new group; returns the group count."""
    heads = np.empty(MAX_NEIGHBOUR_CELLS, np.int64)
    for r in rows:
        bit = np.uint16(1 << part[r])
        best, best_d = -1, math.inf
        if math.isfinite(prt.lat[r]):
            m_lat = m_lon = 0.0  # computed at the first candidate
            for c in range(neighbour_heads(grid, prt.lat[r], prt.lon[r], heads)):
                h = heads[c]
                while h >= 0:
                    if not masks[group[h]] & bit:
                        if m_lat == 0.0:
                            m_lat, m_lon = scales(prt.lat[r])
                        d = gate_distance(prt, r, prt, h, m_lat, m_lon, p)
                        if d < best_d:
                            best, best_d = h, d
                    h = grid.nxt[h]
        if best >= 0:
            group[r] = group[best]
        else:
            group[r] = n_groups
            n_groups += 1
            if math.isfinite(prt.lat[r]):
                add(grid, r, prt.lat[r], prt.lon[r])
        masks[group[r]] |= bit
    return n_groups
