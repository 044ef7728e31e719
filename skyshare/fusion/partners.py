"""Partner tracks in the fused picture: track-to-track fusion of what partners share.

Partners send their tracks (TRACK_DTYPE rows already cut down by the sender's
agreement: identity may be blanked, ``icao24 = NO_ADDRESS``).  Those rows are
*estimates*, possibly built from the very messages our own receivers heard, so they are
not fed to our Kalman filters as measurements (that would count those messages twice);
instead :class:`PartnerTracks` keeps each partner's latest rows and merges them with the
own picture at the track level: one row per aircraft, the freshest state, provenance
bits saying who contributed.

Stages (one module each): :mod:`.partner_table` (per-partner rows, ordering, clock
offset, hostile input), :mod:`.partner_assoc` (which rows are which aircraft),
:mod:`.partner_merge` (the merged rows, ids of partner-only aircraft),
:mod:`.proximity` (the grid behind association by position).

Times: partner times are moved to the local clock with the partner's estimated offset
(see :mod:`.partner_table`: data may look fresher than it is by at most the minimum
network latency, never by the partner's clock error).  Positions of partner rows are
dead reckoned to ``now`` over gaps under ``DEAD_RECKON_MAX_S``; the own rows given to
:meth:`PartnerTracks.merge` should be predicted to ``now`` already
(``Tracker.snapshot(now)``).

Aircraft seen only by partners get picture ids from ``FIRST_PARTNER_ONLY_ID`` up, kept
while the aircraft stays partner-only (keyed by address, or by partner and remote id
when anonymous) and never reused.  Exercise rows only ever merge with exercise tracks.

Not thread-safe: one caller at a time (the node's fusion worker).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from skyshare.errors import ConfigError
from skyshare.fusion.keymap import EMPTY_KEY, map_capacity
from skyshare.fusion.partner_assoc import (
    GateParams,
    Points,
    accept_pairs,
    associate_by_address,
    cluster_anonymous,
    empty_points,
    fill_points,
    nearest_in_gate,
)
from skyshare.fusion.partner_merge import assign_ids, combine
from skyshare.fusion.partner_table import IngestResult, PartnerTable
from skyshare.fusion.proximity import fill_grid, new_grid
from skyshare.model import (
    SOURCE_KIND_NAMES,
    TRACK_DTYPE,
    TrackBatch,
    TrackFlag,
    concat_tracks,
    empty_tracks,
    take_tracks,
    track_bytes,
)

__all__ = ["IngestResult", "PartnerContribution", "PartnerStats", "PartnerTracks", "warm_up"]

MAX_PARTNERS: Final = 16  # bits of TRACK_DTYPE['partners']
FIRST_PARTNER_ONLY_ID: Final = 0x8000_0000
"""Aircraft seen only by partners get picture ids from here up (own ids start at 1)."""
NEWER_MARGIN_S: Final = 1.0
"""A partner position must be this much newer than the own one to replace it."""
DEAD_RECKON_MAX_S: Final = 30.0
SLACK_MPS: Final = 250.0
"""Speed (~490 kt, jet cruise) at which a position's age widens the association gate."""
SLACK_CAP_M: Final = 10_000.0
OFFSET_WINDOW: Final = 32
"""Messages over which the minimum of (received - sent) estimates a partner's clock."""
_NAME: Final = re.compile(r"^[a-z][a-z0-9-]{0,31}$")
_CONFIRMED: Final = np.uint16(TrackFlag.CONFIRMED)


@dataclass(frozen=True)
class PartnerContribution:
    """One partner row behind a picture track (for the API's provenance)."""

    partner: str
    partner_index: int
    remote_track_id: int  # the partner's own track id
    sources: int  # the partner's SourceKind bits (which kinds of its sensors contributed)
    last_seen: float  # s, local clock (corrected for the partner's clock offset)
    last_position: float  # s, local clock; NaN: the row has no position

    @property
    def source_kinds(self) -> tuple[str, ...]:
        return tuple(name for k, name in enumerate(SOURCE_KIND_NAMES) if self.sources >> k & 1)


@dataclass(frozen=True)
class PartnerStats:
    """Counters of one partner since start."""

    partner: str
    tracks_held: int
    messages: int
    rows_received: int
    updates_accepted: int  # rows stored (new or newer)
    new_tracks: int
    stale_dropped: int  # not newer than held (reordered, duplicated or after removal)
    removed: int  # dropped because the partner removed them
    expired: int  # dropped by expire(): no update for timeout_s
    bad_input: int  # rows or messages skipped or values blanked as garbage
    clock_offset_s: float  # local minus partner clock, + minimum latency; NaN: no message
    last_received: float  # s, local clock; NaN: never


@dataclass(frozen=True)
class _Provenance:
    """Who contributed to the last merge, one entry per partner row used."""

    track_id: npt.NDArray[np.uint32]  # picture track of the row
    part: npt.NDArray[np.int64]
    remote_id: npt.NDArray[np.uint32]
    sources: npt.NDArray[np.uint8]
    last_seen: npt.NDArray[np.float64]
    last_pos: npt.NDArray[np.float64]


class PartnerTracks:
    """Each partner's latest tracks, merged with the own picture on demand."""

    def __init__(self, partners: Sequence[str], *, timeout_s: float = 60.0,
                 gate_m: float = 2000.0, gate_ft: float = 1000.0,
                 coast_after_s: float = 15.0) -> None:
        names = list(partners)
        _check_partners(names)
        for key, value in (("timeout_s", timeout_s), ("gate_m", gate_m), ("gate_ft", gate_ft),
                           ("coast_after_s", coast_after_s)):
            if not (math.isfinite(value) and value > 0):
                raise ConfigError(f"must be a positive number, not {value!r}",
                                  where=f"federation.{key}")
        self.partners: tuple[str, ...] = tuple(names)
        self.timeout_s = float(timeout_s)
        self.coast_after_s = float(coast_after_s)
        self._gate = GateParams(float(gate_m), float(gate_ft), SLACK_MPS, SLACK_CAP_M,
                                DEAD_RECKON_MAX_S)
        self._tables = [PartnerTable(name, window=OFFSET_WINDOW) for name in names]
        self._cat_versions: tuple[int, ...] = ()
        self._cat: tuple[TrackBatch, npt.NDArray[np.int64]] = (empty_tracks(0),
                                                                np.zeros(0, np.int64))
        self._registry = np.full((map_capacity(1), 2), EMPTY_KEY, np.uint64)
        self._next_id = FIRST_PARTNER_ONLY_ID
        self._provenance = _Provenance(np.zeros(0, np.uint32), np.zeros(0, np.int64),
                                       np.zeros(0, np.uint32), np.zeros(0, np.uint8),
                                       np.zeros(0), np.zeros(0))

    # ------------------------------------------------------------------ input
    def ingest(self, partner: int, tracks: TrackBatch, removed: npt.NDArray[np.uint32],
               sent: float, received: float) -> IngestResult:
        """Take one message of partner number ``partner``.

        ``sent`` is the partner's clock when it sent the message, ``received`` ours when
        it arrived; ``removed`` are the partner's ids of tracks it no longer shares (they
        go at once; a removal wins over a row of the same id in the same message).
        Rows not newer than the one held are dropped as stale; garbage rows are counted
        and skipped (:class:`IngestResult`).
        """
        if tracks.dtype != TRACK_DTYPE:
            raise TypeError(f"expected TRACK_DTYPE rows, got {tracks.dtype}")
        if not 0 <= partner < len(self._tables):
            raise IndexError(f"partner {partner} is not in the federation table "
                             f"(0..{len(self._tables) - 1})")
        return self._tables[partner].ingest(tracks, removed, float(sent), float(received))

    def expire(self, now: float) -> None:
        """Drop partner rows whose last_seen (local clock) is older than ``timeout_s``."""
        for table in self._tables:
            if not math.isnan(table.offset):
                table.expire(now - self.timeout_s - table.offset)

    # ------------------------------------------------------------------ output
    def merge(self, own: TrackBatch, now: float) -> TrackBatch:
        """The picture at ``now``: own CONFIRMED tracks and partner rows, one per aircraft.

        Sorted by track_id.  Partner rows older than ``timeout_s`` or not CONFIRMED by
        their sender are left out (whether or not :meth:`expire` ran).
        """
        if own.dtype != TRACK_DTYPE:
            raise TypeError(f"expected TRACK_DTYPE rows, got {own.dtype}")
        now = float(now)
        own = take_tracks(own, own["flags"] & _CONFIRMED != 0)  # a copy: the caller's stay
        rows, part = self._concatenated()
        own_pts, prt_pts, live = self._points(own, rows, part, now)
        group, n_groups = self._associate(own_pts, prt_pts, part, live)
        n_own = len(own)
        ids, self._registry, self._next_id = assign_ids(
            group, prt_pts.key, part, rows["track_id"], n_own, n_groups, self._registry,
            self._next_id)
        # partner-only groups relabelled in id order: the picture comes out sorted
        order = np.argsort(ids, kind="stable")
        rank = np.empty(len(order), np.int64)
        rank[order] = np.arange(n_own, n_groups)
        if len(rank):
            group = np.where(group >= n_own, rank[np.maximum(group - n_own, 0)], group)
        out = empty_tracks(n_groups)
        track_bytes(out)[:n_own] = track_bytes(own)
        out["track_id"][n_own:] = ids[order]
        combine(out, out["callsign"].view(np.uint64), n_own, rows,
                rows["callsign"].view(np.uint64), prt_pts, part, group, now,
                NEWER_MARGIN_S, self.coast_after_s)
        self._remember(group, out["track_id"], rows, part, prt_pts)
        return _sorted_by_id(out)

    def provenance(self, picture_track_id: int) -> list[PartnerContribution]:
        """The partner rows behind a track of the last merged picture (empty: none)."""
        p = self._provenance
        hits = np.flatnonzero(p.track_id == picture_track_id)
        return [PartnerContribution(self.partners[int(p.part[i])], int(p.part[i]),
                                    int(p.remote_id[i]), int(p.sources[i]),
                                    float(p.last_seen[i]), float(p.last_pos[i]))
                for i in hits]

    def stats(self) -> tuple[PartnerStats, ...]:
        """Counters per partner, in the order of the federation table."""
        return tuple(PartnerStats(
            partner=t.name, tracks_held=len(t.rows), messages=t.counts["messages"],
            rows_received=t.counts["rows"], updates_accepted=t.counts["accepted"],
            new_tracks=t.counts["new"], stale_dropped=t.counts["stale"],
            removed=t.counts["removed"], expired=t.counts["expired"], bad_input=t.bad.total,
            clock_offset_s=t.offset, last_received=t.last_received) for t in self._tables)

    # ------------------------------------------------------------------ steps
    def _concatenated(self) -> tuple[TrackBatch, npt.NDArray[np.int64]]:
        """Every partner's rows in one batch (partner order) and the partner of each."""
        versions = tuple(t.version for t in self._tables)
        if versions != self._cat_versions:
            rows = [t.rows for t in self._tables]
            part = [np.full(len(r), i, np.int64) for i, r in enumerate(rows)]
            self._cat = (concat_tracks(rows),
                         np.concatenate([np.zeros(0, np.int64), *part]))
            self._cat_versions = versions
        return self._cat

    def _points(self, own: TrackBatch, rows: TrackBatch, part: npt.NDArray[np.int64],
                now: float) -> tuple[Points, Points, npt.NDArray[np.bool_]]:
        own_pts, prt_pts = empty_points(len(own)), empty_points(len(rows))
        no_dead_reckoning = self._gate._replace(dead_reckon_max_s=0.0)
        fill_points(own, np.zeros(len(own)), now, no_dead_reckoning, own_pts)
        offsets = np.array([t.offset for t in self._tables] + [0.0])
        fill_points(rows, offsets[part], now, self._gate, prt_pts)
        live = (rows["flags"] & _CONFIRMED != 0) & (prt_pts.ls >= now - self.timeout_s)
        return own_pts, prt_pts, live

    def _associate(self, own: Points, prt: Points, part: npt.NDArray[np.int64],
                   live: npt.NDArray[np.bool_]) -> tuple[npt.NDArray[np.int64], int]:
        """Group of each partner row (-1: not live) and the number of groups."""
        group, masks, rep, n_groups = associate_by_address(own, prt, part, live)
        radius = self._gate.gate_m + _max_slack(own, prt, live)
        anonymous = np.flatnonzero(live & (group < 0) & np.isfinite(prt.lat))
        if len(anonymous):
            g_own, d_own = self._nearest(prt, anonymous, own, np.flatnonzero(np.isfinite(
                own.lat)), np.arange(len(own.lat)), radius)
            g_rep, d_rep = self._nearest(prt, anonymous, prt, rep[rep >= 0], group, radius)
            rep_first = d_rep < d_own
            for g, d in ((np.where(rep_first, g_rep, g_own), np.minimum(d_own, d_rep)),
                         (np.where(rep_first, g_own, g_rep), np.where(rep_first, d_own, d_rep))):
                order = np.argsort(d, kind="stable")
                order = order[g[order] >= 0]
                accept_pairs(anonymous[order], g[order], part, group, masks)
        alone = np.flatnonzero(live & (group < 0))  # in partner order, as rows are
        if len(alone):
            grid = new_grid(len(prt.lat), radius)
            n_groups = cluster_anonymous(prt, part, alone, group, masks, n_groups, grid,
                                         self._gate)
        return group, n_groups

    def _nearest(self, prt: Points, queries: npt.NDArray[np.int64], targets: Points,
                 candidates: npt.NDArray[np.int64], target_group: npt.NDArray[np.int64],
                 radius: float) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """Group of the nearest of ``candidates`` in the gate of each query (-1), metres."""
        if not len(candidates):
            return np.full(len(queries), -1, np.int64), np.full(len(queries), np.inf)
        grid = new_grid(len(targets.lat), radius)
        fill_grid(grid, targets.lat, targets.lon, candidates)
        best, dist = nearest_in_gate(prt, queries, targets, grid, self._gate)
        return np.where(best >= 0, target_group[np.maximum(best, 0)], -1), dist

    def _remember(self, group: npt.NDArray[np.int64], track_id: npt.NDArray[np.uint32],
                  rows: TrackBatch, part: npt.NDArray[np.int64], pts: Points) -> None:
        used = np.flatnonzero(group >= 0)
        self._provenance = _Provenance(track_id[group[used]], part[used],
                                       rows["track_id"][used], rows["sources"][used],
                                       pts.ls[used], pts.lp[used])


def warm_up() -> None:
    """Merge throwaway scenes once: compiles (or loads from numba's cache) every kernel,
    so a node's first real merges are not delayed by seconds.  numba compiles a kernel
    once per array layout, and a column of 0 or 1 rows counts as contiguous where a
    longer strided one does not: the scenes cover empty, single and several rows on
    both sides."""
    t = 1.7e9
    rows = empty_tracks(3)
    rows["track_id"], rows["icao24"] = [1, 2, 3], [0x400001, 0x400002, 0xFFFFFFFF]
    rows["flags"] = np.uint16(TrackFlag.CONFIRMED | TrackFlag.HAS_POSITION)
    rows["lat"], rows["lon"], rows["last_seen"], rows["last_pos"] = 48.0, 11.0, t, t
    rows["lat"][1] = 49.0
    for partner_rows in (0, 1, 3):
        for own_rows in (0, 1, 3):
            fed = PartnerTracks(["a", "b"])
            for partner in (0, 1):
                if partner_rows:
                    fed.ingest(partner, rows[:partner_rows], np.zeros(0, np.uint32), t, t)
            fed.merge(rows[:own_rows], t + 1.0)
            fed.expire(t + 1.0)


def _check_partners(names: list[str]) -> None:
    if len(names) > MAX_PARTNERS:
        raise ConfigError(f"at most {MAX_PARTNERS} partners fit a track's partner bits, "
                          f"not {len(names)}: split the federation", where="federation.partners")
    for name in names:
        if not _NAME.fullmatch(name):
            raise ConfigError(f"partner name {name!r} must match {_NAME.pattern} "
                              "(lower case letters, digits, '-')", where="federation.partners")
    if len(set(names)) != len(names):
        raise ConfigError("partner names must be unique", where="federation.partners")


def _max_slack(own: Points, prt: Points, live: npt.NDArray[np.bool_]) -> float:
    """The largest slack of any position (the grid's cells are sized for it)."""
    slack = [s[np.isfinite(s)] for s in (own.slack, prt.slack[live])]
    return max((float(s.max()) for s in slack if len(s)), default=0.0)


def _sorted_by_id(out: TrackBatch) -> TrackBatch:
    """``out`` sorted by track_id (a stable radix sort of the u4 ids); as it is when the
    own rows are sorted and below the partner-only ids, as they are but for a tracker
    that handed out two billion ids."""
    ids = out["track_id"]
    if len(ids) > 1 and not bool(np.all(ids[1:] > ids[:-1])):
        return take_tracks(out, np.argsort(ids, kind="stable"))
    return out
