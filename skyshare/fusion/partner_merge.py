"""Track-to-track fusion: one picture row per group of associated rows (numba kernels).

Groups come from :mod:`~skyshare.fusion.partner_assoc`: ``0 .. n_own-1`` are the node's
own tracks, already copied into ``out``; the others start as empty rows.  The policy
(why it is track-level, not a Kalman update: partner rows are estimates that may share
measurements with ours, so fusing them as measurements would count those twice):

* **position/velocity**: an own track keeps its own state unless a partner row of the
  same aircraft has a position newer by more than ``margin_s``; then lat, lon, altitudes,
  ground speed, track, vertical rate, pos_sigma and last_pos come from the freshest such
  row (an altitude or rate the row lacks stays the own one).  A partner-only aircraft
  takes them from its freshest row with a position (or, with none, its freshest row).
  COASTING is recomputed from the new last_pos with ``coast_after_s``;
* **identity, squawk, quality** (address, callsign, squawk, category, emergency, NIC,
  NACp, SIL): only where the own value is unknown, from the freshest partner row that
  knows it;
* **provenance**: ``sources`` gains the PARTNER bit and ``partners`` bit i per partner i;
  a partner-only aircraft has ``sources`` = PARTNER only, no sensors, ``messages`` the
  sum of its rows', CONFIRMED set, first/last seen the extremes of its rows'.
"""

from __future__ import annotations

import math
from typing import Final, Protocol

import numba as nb
import numpy as np
import numpy.typing as npt

from skyshare.fusion.keymap import EMPTY_KEY, find, insert
from skyshare.fusion.partner_assoc import Points, new_key_map
from skyshare.model import NO_ADDRESS, NO_SQUAWK, SourceKind, TrackBatch, TrackFlag

PARTNER_SOURCE: Final = 1 << int(SourceKind.PARTNER)
_HAS_POSITION: Final = int(TrackFlag.HAS_POSITION)
_ON_GROUND: Final = int(TrackFlag.ON_GROUND)
_COASTING: Final = int(TrackFlag.COASTING)
_CONFIRMED: Final = int(TrackFlag.CONFIRMED)
_EXERCISE: Final = int(TrackFlag.EXERCISE)
_NON_ICAO: Final = int(TrackFlag.NON_ICAO)
_SPI: Final = int(TrackFlag.SPI)
_STATE_FLAGS: Final = _HAS_POSITION | _ON_GROUND | _COASTING
_UNKNOWN_U8: Final = 0xFF
_N_FILL: Final = 8  # icao24, callsign, squawk, category, emergency, nic, nacp, sil
_ANON_KEY: Final = np.uint64(1) << np.uint64(40)  # id-registry keys of anonymous rows

I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]


class TrackRow(Protocol):
    """One :data:`~skyshare.model.TRACK_DTYPE` row as a numba kernel reads and writes it."""

    icao24: int
    flags: int
    squawk: int
    category: int
    emergency: int
    nic: int
    nacp: int
    sil: int
    lat: float
    lon: float
    alt: float
    alt_geo: float
    groundspeed: float
    track: float
    vertical_rate: float
    pos_sigma: float
    last_pos: float


@nb.njit(cache=True, nogil=True)
def combine(out: TrackBatch, out_cs: U64, n_own: int, rows: TrackBatch, rows_cs: U64,
            pts: Points, part: I64, group: I64, now: float, margin_s: float,
            coast_after_s: float) -> None:
    """Write every group's row of ``out`` from its own row (if any) and its partner rows."""
    state_row = _contributions(out, n_own, rows, pts, part, group, margin_s)
    _fill_identity(out, out_cs, n_own, rows, rows_cs, pts, group)
    for g in range(len(out)):
        r = state_row[g]
        if r >= 0:
            _take_state(out[g], rows[r], pts, r, g >= n_own)
        if g >= n_own or r >= 0:
            o = out[g]
            t = o.last_pos if o.flags & _HAS_POSITION else o.last_seen
            coasting = now - t > coast_after_s
            o.flags = (o.flags & ~np.uint16(_COASTING)) | (_COASTING if coasting else 0)


@nb.njit(cache=True, nogil=True)
def _contributions(out: TrackBatch, n_own: int, rows: TrackBatch, pts: Points, part: I64,
                   group: I64, margin_s: float) -> I64:
    """Provenance bits, times, counts; returns the row whose state each group takes (-1)."""
    state_row = np.full(len(out), -1, np.int64)
    best_t = np.full(len(out), -math.inf)
    for g in range(n_own):
        if out[g].flags & _HAS_POSITION and math.isfinite(out[g].last_pos):
            best_t[g] = out[g].last_pos + margin_s
    for g in range(n_own, len(out)):
        out[g].flags = _CONFIRMED
        out[g].first_seen = math.inf
        out[g].last_seen = -math.inf
    for r in range(len(group)):
        g = group[r]
        if g < 0:
            continue
        o, row = out[g], rows[r]
        o.partners = o.partners | np.uint16(1 << part[r])
        o.sources = o.sources | np.uint8(PARTNER_SOURCE)
        o.flags = o.flags | (row.flags & _SPI)
        o.last_seen = max(o.last_seen, pts.ls[r])
        if g >= n_own:
            o.flags = o.flags | (row.flags & _EXERCISE)
            o.first_seen = min(o.first_seen, pts.fs[r])
            o.messages = o.messages + row.messages
        if math.isfinite(pts.lat[r]):
            if pts.lp[r] > best_t[g]:
                best_t[g], state_row[g] = pts.lp[r], r
        elif g >= n_own and best_t[g] == -math.inf and (
                state_row[g] < 0 or pts.ls[r] > pts.ls[state_row[g]]):
            state_row[g] = r  # no position yet in this group: the freshest row
    return state_row


@nb.njit(cache=True, nogil=True)
def _take_state(o: TrackRow, row: TrackRow, pts: Points, r: int, partner_only: bool) -> None:
    """Kinematic state of ``o`` from partner row ``row`` (positions as dead reckoned)."""
    if math.isfinite(pts.lat[r]):
        o.lat, o.lon, o.last_pos = pts.lat[r], pts.lon[r], pts.lp[r]
        o.pos_sigma = row.pos_sigma
        o.flags = o.flags | _HAS_POSITION
    o.groundspeed, o.track = row.groundspeed, row.track
    if partner_only or math.isfinite(row.alt):
        o.alt = row.alt
    if partner_only or math.isfinite(row.vertical_rate):
        o.vertical_rate = row.vertical_rate
    if partner_only or math.isfinite(row.alt_geo):
        o.alt_geo = row.alt_geo
    o.flags = (o.flags & (0xFFFF ^ _ON_GROUND)) | (row.flags & _ON_GROUND)


@nb.njit(cache=True, nogil=True)
def _known(o: TrackRow, cs: np.uint64, field: int) -> bool:
    """Whether ``o`` knows identity field number ``field`` (see _N_FILL)."""
    if field == 0:
        return o.icao24 != NO_ADDRESS
    if field == 1:
        return bool(cs != 0)
    if field == 2:
        return o.squawk != NO_SQUAWK
    if field == 3:
        return o.category != 0
    if field == 4:
        return o.emergency != 0
    if field == 5:
        return o.nic != _UNKNOWN_U8
    if field == 6:
        return o.nacp != _UNKNOWN_U8
    return o.sil != _UNKNOWN_U8


@nb.njit(cache=True, nogil=True)
def _copy_field(o: TrackRow, out_cs: U64, g: int, row: TrackRow, cs: np.uint64,
                field: int) -> None:
    if field == 0:
        o.icao24 = row.icao24
        o.flags = (o.flags & (0xFFFF ^ _NON_ICAO)) | (row.flags & _NON_ICAO)
    elif field == 1:
        out_cs[g] = cs
    elif field == 2:
        o.squawk = row.squawk
    elif field == 3:
        o.category = row.category
    elif field == 4:
        o.emergency = row.emergency
    elif field == 5:
        o.nic = row.nic
    elif field == 6:
        o.nacp = row.nacp
    else:
        o.sil = row.sil


@nb.njit(cache=True, nogil=True)
def _fill_identity(out: TrackBatch, out_cs: U64, n_own: int, rows: TrackBatch, rows_cs: U64,
                   pts: Points, group: I64) -> None:
    """Identity fields the own row lacks, from the freshest partner row that has them."""
    filled_t = np.empty((len(out), _N_FILL))  # +inf: the own row knows it
    seen = np.zeros(len(out), np.bool_)
    for r in range(len(group)):
        g = group[r]
        if g < 0:
            continue
        if not seen[g]:  # first row of the group: note what the own row knows
            seen[g] = True
            for f in range(_N_FILL):
                own_knows = g < n_own and _known(out[g], out_cs[g], f)
                filled_t[g, f] = math.inf if own_knows else -math.inf
        for f in range(_N_FILL):
            if pts.ls[r] > filled_t[g, f] and _known(rows[r], rows_cs[r], f):
                filled_t[g, f] = pts.ls[r]
                _copy_field(out[g], out_cs, g, rows[r], rows_cs[r], f)


@nb.njit(cache=True, nogil=True)
def assign_ids(group: I64, keys: U64, part: I64, remote_id: npt.NDArray[np.uint32],
               n_own: int, n_groups: int, registry: U64, next_id: int
               ) -> tuple[npt.NDArray[np.uint32], U64, int]:
    """Picture ids of the partner-only groups, stable while their members stay.

    Each member row has a registry key (its address key, or for a row without an
    address its partner and remote id); a group keeps the smallest id any of its members
    had in ``registry`` (the last merge's), unless an earlier group took it; other groups
    get ``next_id``, ``next_id + 1`` ...  Returns (ids by group - n_own, the new
    registry of every member key, the next id).
    """
    n_po = n_groups - n_own
    claim = np.full(n_po, -1, np.int64)
    member = np.full(len(group), EMPTY_KEY, np.uint64)
    for r in range(len(group)):
        g = group[r] - n_own
        if g < 0:
            continue
        k = keys[r]
        if k == EMPTY_KEY:
            k = _ANON_KEY | (np.uint64(part[r]) << np.uint64(32)) | np.uint64(remote_id[r])
        member[r] = k
        v = find(registry, k)
        if v >= 0 and (claim[g] < 0 or v < claim[g]):
            claim[g] = v
    taken = new_key_map(n_po)
    ids = np.zeros(n_po, np.uint32)
    for g in range(n_po):
        v = claim[g]
        if v < 0 or find(taken, np.uint64(v)) >= 0:
            v = next_id
            next_id += 1
        insert(taken, np.uint64(v), g)
        ids[g] = v
    new_registry = new_key_map(len(group))
    for r in range(len(group)):
        if member[r] != EMPTY_KEY and find(new_registry, member[r]) < 0:
            insert(new_registry, member[r], ids[group[r] - n_own])
    return ids, new_registry, next_id
