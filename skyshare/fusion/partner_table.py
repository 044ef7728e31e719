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

import numpy as np
import numpy.typing as npt

from skyshare.badinput import BadInput
from skyshare.model import NO_SQUAWK, TRACK_DTYPE, TrackBatch, TrackFlag, empty_tracks

FUTURE_TOLERANCE_S: Final = 10.0
"""A row whose ``last_seen`` is this much later than its message's ``sent`` is garbage."""
_HAS_POSITION: Final = np.uint16(TrackFlag.HAS_POSITION)
# physical ranges beyond which a value is garbage and is blanked (same as the tracker's)
_ALT_RANGE_FT: Final = (-2000.0, 100_000.0)
_MAX_SPEED_KT: Final = 2000.0
_MAX_VRATE_FPM: Final = 20_000.0
_MAX_EMERGENCY: Final = 7
_ROW: Final = np.dtype((np.void, TRACK_DTYPE.itemsize))


def as_bytes(rows: TrackBatch) -> npt.NDArray[np.void]:
    """``rows`` seen as opaque fixed-size records, for fast moves.

    TRACK_DTYPE is packed (unaligned), and numpy copies such structured rows field by
    field: selecting or concatenating 20,000 rows takes milliseconds.  Moving the same
    bytes as opaque records is a plain memory copy, some 30 times faster.
    """
    return np.ascontiguousarray(rows).view(_ROW)


def take(rows: TrackBatch, index: npt.NDArray[np.intp] | npt.NDArray[np.bool_]) -> TrackBatch:
    """``rows[index]`` (a copy), fast (see :func:`as_bytes`)."""
    return as_bytes(rows)[index].view(TRACK_DTYPE)


def concatenate(batches: list[TrackBatch]) -> TrackBatch:
    """The batches one after the other (a copy), fast (see :func:`as_bytes`)."""
    return np.concatenate([as_bytes(empty_tracks(0)), *map(as_bytes, batches)]).view(TRACK_DTYPE)


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
        rows = take(rows, fresh)
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
            self.rows, self.received = take(self.rows, ~old), self.received[~old]
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
        rows = take(tracks, ok)  # a copy: never alias the caller
        self.bad.add("bad-position", _blank_bad_position(rows),
                     "position out of range or without a time")
        self.bad.add("bad-value", _blank_bad_values(rows), "value out of its physical range")
        rows["rssi"], rows["sensors"], rows["partners"] = np.nan, 0, 0  # never on the wire
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
        as_bytes(self.rows)[pos[newer]] = as_bytes(rows)[newer]
        self.received[pos[newer]] = received
        new = ~found
        n_new = int(np.count_nonzero(new))
        if n_new:
            self.rows = np.insert(as_bytes(self.rows), pos[new], as_bytes(rows)[new]).view(
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
            self.rows, self.received = take(self.rows, ~gone), self.received[~gone]
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
    order = np.lexsort((rows["last_seen"], rows["track_id"]))
    rows = take(rows, order)
    ids = rows["track_id"]
    last = np.ones(len(rows), bool)
    last[:-1] = ids[1:] != ids[:-1]
    return take(rows, last), len(rows) - int(np.count_nonzero(last))


def _blank_bad_position(rows: TrackBatch) -> int:
    """Clear positions that are out of range or lack a time; NaN where none. Returns #bad."""
    lat, lon, lp = rows["lat"], rows["lon"], rows["last_pos"]
    claims = rows["flags"] & _HAS_POSITION != 0
    with np.errstate(invalid="ignore"):
        valid = ((np.abs(lat) <= 90.0) & (np.abs(lon) <= 180.0) & np.isfinite(lp)
                 & (lp <= rows["last_seen"]))
    n_bad = int(np.count_nonzero(claims & ~valid))
    keep = claims & valid
    rows["flags"] = np.where(keep, rows["flags"], rows["flags"] & ~_HAS_POSITION)
    for name in ("lat", "lon", "last_pos", "pos_sigma"):
        rows[name] = np.where(keep, rows[name], np.nan)
    return n_bad


def _blank_bad_values(rows: TrackBatch) -> int:
    """Blank kinematic and identity values outside their ranges; returns rows touched."""
    touched = np.zeros(len(rows), bool)
    with np.errstate(invalid="ignore"):
        ranges = {"alt": _ALT_RANGE_FT, "alt_geo": _ALT_RANGE_FT,
                  "groundspeed": (0.0, _MAX_SPEED_KT), "track": (0.0, 360.0),
                  "vertical_rate": (-_MAX_VRATE_FPM, _MAX_VRATE_FPM),
                  "pos_sigma": (0.0, math.inf)}
        for name, (low, high) in ranges.items():
            v = rows[name]
            bad = ~np.isnan(v) & ~((v >= low) & (v <= high))
            touched |= bad
            rows[name] = np.where(bad, np.nan, v)
    squawk_bad = (rows["squawk"] != NO_SQUAWK) & ((rows["squawk"] < 0) | (rows["squawk"] > 7777))
    rows["squawk"] = np.where(squawk_bad, NO_SQUAWK, rows["squawk"])
    emergency_bad = rows["emergency"] > _MAX_EMERGENCY
    rows["emergency"] = np.where(emergency_bad, 0, rows["emergency"])
    fs = rows["first_seen"]
    with np.errstate(invalid="ignore"):
        fs_bad = ~(fs <= rows["last_seen"])
    rows["first_seen"] = np.where(fs_bad, rows["last_seen"], fs)
    return int(np.count_nonzero(touched | squawk_bad | emergency_bad))
