"""The egress filter: what one agreement lets the sending node give one partner, now.

One :class:`EgressFilter` per outgoing agreement turns the node's pictures into the rows
to send and the ids to withdraw, at every picture update, over the whole batch at once
(numpy; the point-in-region test is a compiled kernel, see :mod:`.regions`).  It is pure:
no I/O, no clock of its own (``now`` is given), so the same code runs under the tests,
the benchmark and the NATS transport.

Rules, in order (see the agreement format in :mod:`.agreements`):

1. An agreement not active at ``now`` (outside its validity, or revoked) shares
   nothing; every id the receiver holds is withdrawn (in ``removed``) once.
2. ``sources: own`` takes the ``own`` picture, and even there drops any row a partner
   contributed to (``PARTNER`` source bit or a ``partners`` bit): data received from a
   partner never leaves under ``own``.  ``sources: all`` takes the ``common`` picture
   minus echo: a row is kept only if the node's own sensors contributed, or a partner
   other than the receiver did.  Only CONFIRMED tracks are ever shared.
3. The row's position (HAS_POSITION and finite lat/lon) must be inside a shared region
   and its altitude band (unknown altitude: only regions without a band).
4. Excluded addresses, categories and (if asked) EXERCISE tracks are dropped.
5. A row leaves only once ``now - last_seen >= min_delay_s``.
6. Per track at most one row per ``1 / max_rate_hz`` seconds of ``now``, and only when
   its ``last_seen`` advanced since the last row sent to this receiver.  A caller
   calling :meth:`~EgressFilter.select` more often than the rate (every picture update)
   gets the full rate; calls further apart than ``1 / max_rate_hz`` share less.
7. Field groups not granted, and the never-sent fields, are set to their unknown value
   (:func:`skyshare.model.empty_tracks`): the output starts from unknown values and
   copies only granted fields, so a field added to TRACK_DTYPE later is never sent
   until a group grants it.

A track that stops qualifying (left the regions, excluded, gone from the picture) is
withdrawn at once: it is in ``removed`` if the receiver got it, and its delayed rows
still queued are dropped (the receiver then misses the last ``min_delay_s`` of its
path inside: conservative, never more than agreed).

State, all in sorted numpy arrays searched with ``searchsorted`` (no dict, no object
per track): per track the time and ``last_seen`` of the last row sent, and whether the
receiver holds it; entries of withdrawn tracks are forgotten once the rate limit no
longer needs them.  With ``min_delay_s > 0`` a delay line holds candidate rows, already
filtered and blanked, sampled at most ``max_rate_hz`` in ``last_seen``: at most
``ceil(min_delay_s * max_rate_hz) + 2`` rows per track, so about tracks x delay x rate
rows (20,000 tracks, 5 s, 1 Hz: 140,000 rows of 108 bytes, 15 MB).  ``max_pending_rows``
caps it whatever the agreement says: beyond it new samples are not queued (counted in
:attr:`EgressStats.overflow`, logged once): the tracks get fewer updates, never early
ones.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Final

import numba as nb
import numpy as np
import numpy.typing as npt
from shapely.geometry import box

from skyshare.model import (
    TRACK_DTYPE,
    SourceKind,
    TrackBatch,
    TrackFlag,
    empty_tracks,
    track_bytes,
)
from skyshare.share.agreements import Agreement, Exclusions
from skyshare.share.regions import RegionIndex, SharedRegion

log = logging.getLogger("skyshare.share.egress")

U4Array = npt.NDArray[np.uint32]
F8Array = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.intp]

GROUP_FIELDS: Final[dict[str, tuple[str, ...]]] = {
    "position": ("track_id", "lat", "lon", "alt", "alt_geo", "groundspeed", "track",
                 "vertical_rate", "pos_sigma", "first_seen", "last_seen", "last_pos"),
    "identity": ("icao24", "callsign", "category"),
    "squawk": ("squawk", "emergency"),
    "quality": ("nic", "nacp", "sil"),
    "provenance": ("sources",),
}
"""TRACK_DTYPE columns each field group grants (``flags`` bits are in GROUP_FLAGS)."""
GROUP_FLAGS: Final[dict[str, int]] = {
    "position": int(TrackFlag.EXERCISE | TrackFlag.ON_GROUND | TrackFlag.CONFIRMED
                    | TrackFlag.COASTING | TrackFlag.HAS_POSITION),
    "identity": int(TrackFlag.NON_ICAO),
    "squawk": int(TrackFlag.SPI),
}
NEVER_SENT: Final = ("rssi", "messages", "sensors", "partners")
DEFAULT_MAX_PENDING_ROWS: Final = 1_000_000  # about 108 MB of TRACK_DTYPE rows

_PARTNER_BIT: Final = np.uint8(1 << SourceKind.PARTNER)
_CONFIRMED_POSITION: Final = np.uint16(TrackFlag.CONFIRMED | TrackFlag.HAS_POSITION)
_EXERCISE: Final = np.uint16(TrackFlag.EXERCISE)


@dataclass(frozen=True, eq=False)
class Outgoing:
    """What one :meth:`EgressFilter.select` gives the receiver: ``tracks`` (TRACK_DTYPE
    rows, blanked per grant, sorted by track_id), ``removed`` (u4 ids to drop)."""

    tracks: TrackBatch
    removed: U4Array
    now: float


@dataclass(frozen=True)
class EgressStats:
    """Totals since the filter was made (rows, not messages)."""

    offered: int  # rows that qualified (rules 1-4), summed over calls
    sent: int
    removed: int
    pending: int  # rows in the delay line now
    overflow: int  # samples not queued because the delay line was full


def grant_masks(fields: tuple[str, ...]) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8]]:
    """(keep, fill): per byte of a TRACK_DTYPE row, the bits a grant of ``fields`` lets
    through, and the unknown row's value of the other bits.  ``row & keep | fill`` is the
    row blanked to the grant (the ``flags`` bytes keep only the granted bits)."""
    keep = np.zeros(TRACK_DTYPE.itemsize, np.uint8)
    for column in (c for g in fields for c in GROUP_FIELDS[g]):
        dtype, offset = TRACK_DTYPE.fields[column][:2]  # type: ignore[index]
        keep[offset:offset + dtype.itemsize] = 0xFF
    flags_type, flags_at = TRACK_DTYPE.fields["flags"][:2]  # type: ignore[index]
    flags = np.array([sum(GROUP_FLAGS.get(g, 0) for g in fields)], flags_type)
    keep[flags_at:flags_at + flags_type.itemsize] = flags.view(np.uint8)
    unknown = track_bytes(empty_tracks(1)).view(np.uint8)
    return keep, unknown & ~keep


@nb.njit(cache=True, nogil=True)
def _shareable(batch: TrackBatch, own_only: bool, others: np.uint16, no_exercise: bool,
               addresses: U4Array, categories: BoolArray) -> BoolArray:
    """Rules 2-4 but the regions, in one pass: the source rule (``own_only``: no partner
    contributed; else an own sensor or a partner in ``others`` did), CONFIRMED with a
    position, and not excluded (EXERCISE if ``no_exercise``, an address in the sorted
    ``addresses``, a category marked in ``categories``)."""
    keep = np.zeros(len(batch), np.bool_)
    for i in range(len(batch)):
        r = batch[i]
        if own_only:
            ok = (r.sources & _PARTNER_BIT) == 0 and r.partners == 0
        else:
            ok = (r.sources & ~_PARTNER_BIT) != 0 or (r.partners & others) != 0
        if (not ok or (r.flags & _CONFIRMED_POSITION) != _CONFIRMED_POSITION
                or (no_exercise and r.flags & _EXERCISE) or categories[r.category]):
            continue
        if len(addresses):
            j = np.searchsorted(addresses, r.icao24)
            if j < len(addresses) and addresses[j] == r.icao24:
                continue
        keep[i] = True
    return keep


def _find(sorted_ids: U4Array, ids: U4Array) -> tuple[IntArray, BoolArray]:
    """(position, found) of each id in a sorted id array."""
    pos = np.searchsorted(sorted_ids, ids)
    found = np.zeros(len(ids), np.bool_)
    inside = pos < len(sorted_ids)
    found[inside] = sorted_ids[pos[inside]] == ids[inside]
    return pos, found


def _sorted_unique(batch: TrackBatch) -> TrackBatch:
    ids = batch["track_id"]
    if len(ids) < 2 or bool(np.all(ids[1:] > ids[:-1])):
        return batch
    _, first = np.unique(ids, return_index=True)  # a snapshot should not repeat an id
    return batch[first]


class EgressFilter:
    """Applies one agreement to successive pictures; one per (agreement, receiver).

    ``partner_bit`` is the receiver's index in this node's partner table (its bit in
    TRACK_DTYPE ``partners``), for the no-echo rule; None if it has none."""

    def __init__(self, agreement: Agreement, partner_bit: int | None, *,
                 max_pending_rows: int = DEFAULT_MAX_PENDING_ROWS) -> None:
        if partner_bit is not None and not 0 <= partner_bit < 16:
            raise ValueError(f"partner_bit {partner_bit} is not a bit of a u2 (0..15)")
        self.agreement = agreement
        self.partner_bit = partner_bit
        self.max_pending_rows = max_pending_rows
        self._others = np.uint16(0xFFFF if partner_bit is None else 0xFFFF ^ (1 << partner_bit))
        self._regions = RegionIndex(agreement.regions)
        self._gap = 1.0 / agreement.max_rate_hz
        self._delay = agreement.min_delay_s
        self._keep, self._fill = grant_masks(agreement.fields)
        self._addresses = np.unique(np.array(agreement.exclude.addresses, np.uint32))
        self._categories = np.zeros(256, np.bool_)  # excluded, by category code
        self._categories[list(agreement.exclude.categories)] = True
        # per track: last row sent (now, last_seen), and whether the receiver holds it
        self._ids = np.zeros(0, np.uint32)
        self._at = np.zeros(0, np.float64)
        self._seen = np.zeros(0, np.float64)
        self._live = np.zeros(0, np.bool_)
        self._pending = empty_tracks(0)  # the delay line, sorted by (track_id, last_seen)
        self._offered = self._sent = self._removed = self._overflow = 0

    @property
    def stats(self) -> EgressStats:
        return EgressStats(self._offered, self._sent, self._removed, len(self._pending),
                           self._overflow)

    def select(self, own: TrackBatch, common: TrackBatch, now: float) -> Outgoing:
        """The rows to send and ids to withdraw at ``now`` (UNIX s).  ``own`` is the
        picture of the node's own sensors, ``common`` the merged one; both hold
        CONFIRMED tracks sorted by track_id."""
        batch, rows = self._qualifying(own, common, now)
        ids = np.ascontiguousarray(batch["track_id"][rows])
        self._offered += len(rows)
        removed = self._withdraw(ids, now)
        if self._delay > 0.0:
            self._enqueue(batch, rows, now)
            out = self._release_pending(now)
        else:
            out = self._release_now(batch, rows, now)
        self._sent += len(out)
        self._removed += len(removed)
        return Outgoing(out, removed, now)

    def withdraw_all(self, now: float) -> Outgoing:
        """Withdraw every track the receiver holds and empty the delay line: for an
        agreement that is gone (deleted from the files).  The rate state stays, so a
        later :meth:`select` still never sends a track faster than agreed."""
        removed = self._withdraw(np.zeros(0, np.uint32), now)
        self._removed += len(removed)
        return Outgoing(empty_tracks(0), removed, now)

    def renewed(self, agreement: Agreement) -> EgressFilter:
        """A filter for changed terms between the same partners that knows what the
        receiver holds: its next :meth:`select` withdraws what the new terms no longer
        allow, and rates carry on.  The delay line is not carried over (its rows were
        blanked under the old grant).  A narrowed ``fields`` grant reaches the receiver
        with each track's next update; call :meth:`withdraw_all` first if the receiver
        must drop the old fields at once."""
        if (agreement.giver, agreement.receiver) != (self.agreement.giver,
                                                     self.agreement.receiver):
            raise ValueError(f"agreement {agreement.id!r} is between other partners than "
                             f"{self.agreement.id!r}: make a new EgressFilter")
        f = EgressFilter(agreement, self.partner_bit, max_pending_rows=self.max_pending_rows)
        f._ids, f._at = self._ids.copy(), self._at.copy()
        f._seen, f._live = self._seen.copy(), self._live.copy()
        return f

    # ------------------------------------------------------------------ rules 1-4
    def _qualifying(self, own: TrackBatch, common: TrackBatch,
                    now: float) -> tuple[TrackBatch, IntArray]:
        """(picture, indices of its rows that may be shared, by track_id)."""
        a = self.agreement
        if not a.active_at(now):
            return empty_tracks(0), np.zeros(0, np.intp)
        batch = _sorted_unique(own if a.sources == "own" else common)
        keep = _shareable(batch, a.sources == "own", self._others, a.exclude.exercise,
                          self._addresses, self._categories)
        rows = np.flatnonzero(keep)
        inside = self._regions.inside(batch["lat"][rows], batch["lon"][rows],
                                      batch["alt"][rows], batch["alt_geo"][rows])
        return batch, rows[inside]

    def conforming(self, rows: TrackBatch) -> BoolArray:
        """Which received ``rows`` this agreement could have let out: nothing beyond the
        granted columns and flag bits, and a position inside its regions and bands.  The
        receiver's check that the sender enforced the agreement (every byte outside the
        grant must hold its unknown value, so any ungranted value shows)."""
        n = len(rows)
        if n == 0:
            return np.zeros(0, np.bool_)
        raw = track_bytes(rows).view(np.uint8).reshape(n, TRACK_DTYPE.itemsize)
        same = ~np.any((raw & ~self._keep) != self._fill, axis=1)
        placed = (rows["flags"] & np.uint16(TrackFlag.HAS_POSITION)) != 0
        inside = self._regions.inside(rows["lat"], rows["lon"], rows["alt"], rows["alt_geo"])
        out: BoolArray = same & placed & inside
        return out

    def _blank(self, batch: TrackBatch, rows: IntArray) -> TrackBatch:
        """Rows with only the granted columns and flag bits copied; the rest unknown
        (one pass over the rows' bytes: granted bytes kept, the others set)."""
        raw = track_bytes(batch)[rows].view(np.uint8).reshape(len(rows), TRACK_DTYPE.itemsize)
        raw &= self._keep
        raw |= self._fill
        return raw.reshape(-1).view(TRACK_DTYPE)

    # ------------------------------------------------------------------ state
    def _withdraw(self, ids: U4Array, now: float) -> U4Array:
        """Withdraw tracks that no longer qualify; forget those the rate no longer needs."""
        _, still = _find(ids, self._ids)
        gone = self._live & ~still
        removed = self._ids[gone]
        self._live &= still
        keep = self._live | ~(now - self._at >= self._gap)
        if not keep.all():
            self._ids, self._at = self._ids[keep], self._at[keep]
            self._seen, self._live = self._seen[keep], self._live[keep]
        if len(self._pending):
            _, queued = _find(ids, self._pending["track_id"])
            if not queued.all():
                self._pending = self._pending[queued]
        return removed

    def _may_send(self, ids: U4Array, seen: F8Array, now: float) -> BoolArray:
        """Rule 6: not sent within the rate's gap, and newer than the last row sent."""
        pos, found = _find(self._ids, ids)
        ok: BoolArray = ~found  # never sent
        hit = pos[found]
        ok[found] = (now - self._at[hit] >= self._gap) & (seen[found] > self._seen[hit])
        return ok

    def _record(self, sent: TrackBatch, now: float) -> None:
        """Remember ``sent`` (sorted by id) as sent at ``now``."""
        ids = sent["track_id"]
        pos, found = _find(self._ids, ids)
        hit = pos[found]
        self._at[hit], self._seen[hit], self._live[hit] = now, sent["last_seen"][found], True
        new = ~found
        if new.any():
            where = pos[new]
            self._ids = np.insert(self._ids, where, ids[new])
            self._at = np.insert(self._at, where, now)
            self._seen = np.insert(self._seen, where, sent["last_seen"][new])
            self._live = np.insert(self._live, where, True)

    # ------------------------------------------------------------------ rules 5-7
    def _release_now(self, batch: TrackBatch, rows: IntArray, now: float) -> TrackBatch:
        """No delay: the qualifying rows the rate allows, at once."""
        seen = batch["last_seen"][rows]
        ok = self._may_send(batch["track_id"][rows], seen, now) & (now - seen >= 0.0)
        out = self._blank(batch, rows[ok])
        self._record(out, now)
        return out

    def _enqueue(self, batch: TrackBatch, rows: IntArray, now: float) -> None:
        """Queue rows whose last_seen is at least the rate's gap after the track's
        newest queued (else sent) row."""
        ids, seen = batch["track_id"][rows], batch["last_seen"][rows]
        p = self._pending
        pos = np.searchsorted(p["track_id"], ids, side="right")  # after the track's rows
        queued = np.r_[-1, p["track_id"].astype(np.int64)][pos] == ids  # row before pos
        spos, sent = _find(self._ids, ids)
        ref = np.full(len(ids), -np.inf)
        ref[sent] = self._seen[spos[sent]]
        ref[queued] = p["last_seen"][pos[queued] - 1]
        fresh = (seen > ref) & (seen - ref >= self._gap)
        room = self.max_pending_rows - len(p)
        take = np.flatnonzero(fresh)
        if len(take) > room:
            self._overflow += len(take) - max(room, 0)
            if self._overflow == len(take) - max(room, 0):
                log.warning("agreement %s: the delay line is full (%d rows); new samples "
                            "are dropped until it drains (further ones only counted)",
                            self.agreement.id, self.max_pending_rows)
            take = take[:max(room, 0)]
        if len(take):
            self._pending = np.insert(p, pos[take], self._blank(batch, rows[take]))

    def _release_pending(self, now: float) -> TrackBatch:
        """Rows of the delay line whose time has come: per track the newest one, if the
        rate allows; older ready rows are superseded and dropped."""
        p = self._pending
        if not len(p):
            return p
        ids = p["track_id"]
        ready = now - p["last_seen"] >= self._delay
        later_ready = np.zeros(len(p), np.bool_)
        later_ready[:-1] = ready[1:] & (ids[1:] == ids[:-1])
        newest = np.flatnonzero(ready & ~later_ready)
        go = self._may_send(ids[newest], p["last_seen"][newest], now)
        held = np.zeros(len(p), np.bool_)
        held[newest[~go]] = True
        out = p[newest[go]]
        self._pending = p[~ready | held]
        self._record(out, now)
        return out


def warm_up() -> None:
    """Compile (or load from numba's cache) the filter's kernels (the region test and
    the share rules), with a throwaway agreement over a tiny picture."""
    a = Agreement(id="warm-up", giver="a", receiver="b",
                  regions=(SharedRegion("r", box(-1.0, -1.0, 1.0, 1.0)),),
                  exclude=Exclusions(addresses=(1,)))
    rows = empty_tracks(2)
    rows["track_id"] = [1, 2]
    rows["flags"] = _CONFIRMED_POSITION
    rows["lat"], rows["lon"], rows["last_seen"] = 0.0, 0.0, 1.0
    f = EgressFilter(a, None)
    f.select(rows, rows, 1.0)
    f.conforming(f.select(rows, rows, 2.0).tracks)
