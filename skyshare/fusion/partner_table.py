"""One partner's tracks as last received, and the partner's clock as we estimate it.

A :class:`PartnerTable` holds the newest TRACK_DTYPE row of each of the partner's
tracks, sorted by the partner's ``track_id``, with every time in the *partner's* clock
as received.  Keeping the partner's own times means that ordering decisions never
depend on a clock estimate: an update whose ``last_seen`` is not newer than the row we
hold, or not newer than the partner's removal of that id, is dropped and counted
("stale"), so messages delivered out of order never rewind a track.

Clock offset.  For each message, ``received - sent = offset + latency`` where
``offset`` is our clock minus the partner's and ``latency >= 0``.  The minimum of
``received - sent`` over the last ``window`` messages is therefore ``offset + the
smallest latency in the window``; adding it to a partner time gives that time on our
clock *plus* that smallest latency.  Partner data thus looks fresher than it is by at
most the minimum network latency (milliseconds on a healthy link), never by the
partner's clock error, in either direction.  The window follows a partner whose clock
is stepped: at once when its clock jumps forward, after ``window`` messages when it
jumps back (meanwhile its data looks older, never fresher, than it is).

Rows come from the network: garbage is counted per kind (:class:`~skyshare.badinput.BadInput`,
logged once per kind) and skipped or blanked, never raised.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numba as nb
import numpy as np
import numpy.typing as npt

from skyshare.badinput import BadInput
from skyshare.model import (
    NO_SQUAWK,
    TRACK_DTYPE,
    TrackBatch,
    TrackFlag,
    empty_tracks,
    take_tracks,
    track_bytes,
)

FUTURE_TOLERANCE_S: Final = 10.0
"""A row whose ``last_seen`` is this much later than its message's ``sent`` is garbage."""
_HAS_POSITION: Final = np.uint16(TrackFlag.HAS_POSITION)
# physical ranges beyond which a value is garbage and is blanked (same as the tracker's)
_ALT_RANGE_FT: Final = (-2000.0, 100_000.0)
_MAX_SPEED_KT: Final = 2000.0
_MAX_VRATE_FPM: Final = 20_000.0
_MAX_EMERGENCY: Final = 7


@dataclass(frozen=True)
class IngestResult:
    """What one partner message did to the partner's table."""

    accepted: int  # rows stored: new tracks or newer states of held ones
    new: int  # of which tracks not held before
    stale: int  # rows not newer than the row held or than the partner's removal of the id
    bad: int  # rows skipped as garbage (no id, no time, from the future, bad message)
    removed: int  # held rows dropped because the partner removed them


class PartnerTable:
    """The latest rows of one partner, keyed by its track ids, in the partner's clock."""

    def __init__(self, name: str, *, window: int) -> None:
        self.name = name
        self.rows: TrackBatch = empty_tracks(0)  # sorted by track_id, unique
        self.received = np.zeros(0)  # local time each row was last updated
        self.version = 0  # bumped whenever rows change (the merge caches on it)
        self._tomb_ids = np.zeros(0, np.uint32)  # removed ids (sorted) ...
        self._tomb_t = np.zeros(0)  # ... and the partner time of their removal
        self._diffs = np.full(window, np.nan)  # received - sent of the last messages
        self._n_messages = 0
        self.last_received = math.nan
        self.bad = BadInput(sensor=f"partner {name}")
        self.counts = {"messages": 0, "rows": 0, "accepted": 0, "new": 0, "stale": 0,
                       "removed": 0, "expired": 0}

    @property
    def offset(self) -> float:
        """Our clock minus the partner's (plus the minimum latency); NaN before a message."""
        if self._n_messages == 0:
            return math.nan
        return float(np.nanmin(self._diffs))

    def ingest(self, tracks: TrackBatch, removed: npt.NDArray[np.uint32], sent: float,
               received: float) -> IngestResult:
        """Store what one message carried; see the module docstring for the rules."""
        self.counts["messages"] += 1
        self.counts["rows"] += len(tracks)
        if not (math.isfinite(sent) and math.isfinite(received)):
            self.bad.add("bad-message-time", 1 + len(tracks), f"sent={sent!r}")
            return IngestResult(0, 0, 0, len(tracks), 0)
        self._diffs[self._n_messages % len(self._diffs)] = received - sent
        self._n_messages += 1
        self.last_received = received
        rows, n_bad = self._sanitised(tracks, sent)
        rows, n_dupes = _newest_per_id(rows)
        fresh = self._after_removal(rows)
        rows = take_tracks(rows, fresh)
        accepted, new = self._upsert(rows, received)
        n_removed = self._remove(np.asarray(removed, np.uint32), sent)
        stale = n_dupes + int(np.count_nonzero(~fresh)) + len(rows) - accepted
        for key, value in (("accepted", accepted), ("new", new), ("stale", stale),
                           ("removed", n_removed)):
            self.counts[key] += value
        if accepted or n_removed:
            self.version += 1
        return IngestResult(accepted, new, stale, n_bad, n_removed)

    def expire(self, cutoff: float) -> int:
        """Drop rows (and removal marks) older than ``cutoff`` in the partner's clock."""
        old = self.rows["last_seen"] < cutoff
        n = int(np.count_nonzero(old))
        if n:
            self.rows, self.received = take_tracks(self.rows, ~old), self.received[~old]
            self.version += 1
            self.counts["expired"] += n
        keep = self._tomb_t >= cutoff
        self._tomb_ids, self._tomb_t = self._tomb_ids[keep], self._tomb_t[keep]
        return n

    # ------------------------------------------------------------------ ingest steps
    def _sanitised(self, tracks: TrackBatch, sent: float) -> tuple[TrackBatch, int]:
        """Rows worth keeping, garbage fields blanked; and the number of rows skipped."""
        ls = tracks["last_seen"]
        with np.errstate(invalid="ignore"):
            ok = (tracks["track_id"] != 0) & np.isfinite(ls) & (ls <= sent + FUTURE_TOLERANCE_S)
        n_bad = len(tracks) - int(np.count_nonzero(ok))
        self.bad.add("bad-row", n_bad, "no track id, no last_seen or last_seen in the future")
        rows = take_tracks(tracks, ok)  # a copy: never alias the caller
        n_position, n_value = _blank_garbage(
            rows, int(_HAS_POSITION), *_ALT_RANGE_FT, _MAX_SPEED_KT, _MAX_VRATE_FPM,
            _MAX_EMERGENCY, int(NO_SQUAWK))
        self.bad.add("bad-position", n_position, "position out of range or without a time")
        self.bad.add("bad-value", n_value, "value out of its physical range")
        return rows, n_bad

    def _after_removal(self, rows: TrackBatch) -> npt.NDArray[np.bool_]:
        """Which rows are newer than the partner's last removal of their id (if any)."""
        if not len(self._tomb_ids):
            return np.ones(len(rows), bool)
        pos = np.minimum(np.searchsorted(self._tomb_ids, rows["track_id"]),
                         len(self._tomb_ids) - 1)
        marked = self._tomb_ids[pos] == rows["track_id"]
        fresh: npt.NDArray[np.bool_] = ~marked | (rows["last_seen"] > self._tomb_t[pos])
        return fresh

    def _upsert(self, rows: TrackBatch, received: float) -> tuple[int, int]:
        """Replace held rows by newer ones, insert new ids; (accepted, new)."""
        held = self.rows["track_id"]
        pos = np.searchsorted(held, rows["track_id"])
        found = pos < len(held)
        found[found] = held[pos[found]] == rows["track_id"][found]
        newer = found.copy()
        newer[found] = rows["last_seen"][found] > self.rows["last_seen"][pos[found]]
        track_bytes(self.rows)[pos[newer]] = track_bytes(rows)[newer]
        self.received[pos[newer]] = received
        new = ~found
        n_new = int(np.count_nonzero(new))
        if n_new:
            self.rows = np.insert(track_bytes(self.rows), pos[new], track_bytes(rows)[new]).view(
                TRACK_DTYPE)
            self.received = np.insert(self.received, pos[new], received)
        return int(np.count_nonzero(newer)) + n_new, n_new

    def _remove(self, ids: npt.NDArray[np.uint32], sent: float) -> int:
        """Drop held rows with these ids and mark the ids removed as of ``sent``."""
        if not len(ids):
            return 0
        gone = np.isin(self.rows["track_id"], ids)
        n = int(np.count_nonzero(gone))
        if n:
            self.rows, self.received = take_tracks(self.rows, ~gone), self.received[~gone]
        all_ids = np.concatenate([self._tomb_ids, ids])
        all_t = np.concatenate([self._tomb_t, np.full(len(ids), sent)])
        order = np.lexsort((all_t, all_ids))  # by id, then time: keep the last of each id
        all_ids, all_t = all_ids[order], all_t[order]
        last = np.ones(len(all_ids), bool)
        last[:-1] = all_ids[1:] != all_ids[:-1]
        self._tomb_ids, self._tomb_t = all_ids[last], all_t[last]
        return n


def _newest_per_id(rows: TrackBatch) -> tuple[TrackBatch, int]:
    """One row per track id (the one with the latest last_seen), sorted by id."""
    ids = rows["track_id"]
    if len(ids) < 2 or bool(np.all(ids[1:] > ids[:-1])):  # as egress sends them
        return rows, 0
    order = np.lexsort((rows["last_seen"], rows["track_id"]))
    rows = take_tracks(rows, order)
    ids = rows["track_id"]
    last = np.ones(len(rows), bool)
    last[:-1] = ids[1:] != ids[:-1]
    return take_tracks(rows, last), len(rows) - int(np.count_nonzero(last))


@nb.njit(cache=True, nogil=True)
def _in(v: float, low: float, high: float) -> bool:
    return np.isnan(v) or low <= v <= high


@nb.njit(cache=True, nogil=True)
def _blank_garbage(rows: TrackBatch, has_position: int, alt_low: float, alt_high: float,
                   max_speed: float, max_vrate: float, max_emergency: int,
                   no_squawk: int) -> tuple[int, int]:
    """Blank, in place, what is garbage in each row; (rows whose position was cleared,
    rows with another value blanked).

    A position claimed (HAS_POSITION) out of range or without a time, or newer than the
    row, is cleared (flag, lat, lon, last_pos, pos_sigma); kinematic values outside
    their physical ranges become NaN, a squawk that is no code and an emergency code
    above the last one become unknown; a first_seen after last_seen becomes last_seen
    (not counted: a harmless inconsistency)."""
    n_position = n_value = 0
    for i in range(rows.shape[0]):
        r = rows[i]
        if r.flags & has_position:
            lp = r.last_pos
            if not (abs(r.lat) <= 90.0 and abs(r.lon) <= 180.0 and np.isfinite(lp)
                    and lp <= r.last_seen):
                n_position += 1
                r.flags = r.flags & ~has_position
        if not r.flags & has_position:
            r.lat = np.nan
            r.lon = np.nan
            r.last_pos = np.nan
            r.pos_sigma = np.nan
        touched = False
        if not _in(r.alt, alt_low, alt_high):
            r.alt = np.nan
            touched = True
        if not _in(r.alt_geo, alt_low, alt_high):
            r.alt_geo = np.nan
            touched = True
        if not _in(r.groundspeed, 0.0, max_speed):
            r.groundspeed = np.nan
            touched = True
        if not _in(r.track, 0.0, 360.0):
            r.track = np.nan
            touched = True
        if not _in(r.vertical_rate, -max_vrate, max_vrate):
            r.vertical_rate = np.nan
            touched = True
        if not _in(r.pos_sigma, 0.0, np.inf):
            r.pos_sigma = np.nan
            touched = True
        if r.squawk != no_squawk and (r.squawk < 0 or r.squawk > 7777):
            r.squawk = no_squawk
            touched = True
        if r.emergency > max_emergency:
            r.emergency = 0
            touched = True
        if not r.first_seen <= r.last_seen:
            r.first_seen = r.last_seen
        r.rssi = np.nan  # these never travel
        r.sensors = 0
        r.partners = 0
        n_value += touched
    return n_position, n_value
