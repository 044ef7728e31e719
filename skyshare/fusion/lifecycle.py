"""Track lifecycle: initiate, confirm, coast, drop a stale position, delete.

* **initiate** -- the first report with an unknown address opens a *tentative* track in a
  free slot with the next track_id (ids increase and are never reused).
* **confirm** -- the track becomes CONFIRMED (shown) once it has ``confirm_messages``
  distinct messages; copies of one transmission count once, so one message never
  confirms a track.
* **coast** -- COASTING is set while the state is older than ``coast_after_s``: the time
  of the last position for a track with a position, of the last message otherwise.
* **drop position** -- a position (or altitude) older than the deletion timeout is
  forgotten (HAS_POSITION cleared, NaN), so an aircraft heard only by identity replies
  is not shown extrapolated far away.
* **delete** -- a track with no message for ``delete_after_s`` (airborne) or
  ``delete_surface_after_s`` (ON_GROUND: parked aircraft transmit rarely) is deleted and
  its slot reused.  Deletion happens in :func:`expire` and, when a report for a stale
  track arrives before anyone called ``expire``, in the tracker (a new track starts).
"""

from __future__ import annotations

import math
from typing import Final

import numba as nb
import numpy as np
import numpy.typing as npt

from skyshare.fusion.keymap import insert, remove
from skyshare.fusion.params import KernelParams
from skyshare.fusion.state import (
    FREE_TOP,
    LAST_ALT,
    LAST_COOP,
    LIVE,
    NEXT_ID,
    SCALE_N,
    SPI_T,
    T_ALT,
    T_KIN,
    TrackArrays,
)
from skyshare.model import TrackFlag

SPI_HOLD_S: Final = 18.0  # an IDENT (SPI) lasts 18 s (ICAO Annex 10 Vol IV 3.1.2.6.10.1.3)
_EXERCISE_KEY: Final = np.uint64(1) << np.uint64(32)
_NON_ICAO_KEY: Final = np.uint64(1) << np.uint64(33)
_CONFIRMED: Final = int(TrackFlag.CONFIRMED)
_COASTING: Final = int(TrackFlag.COASTING)
_HAS_POSITION: Final = int(TrackFlag.HAS_POSITION)
_ON_GROUND: Final = int(TrackFlag.ON_GROUND)
_SPI: Final = int(TrackFlag.SPI)
_PRIMARY_ONLY: Final = int(TrackFlag.PRIMARY_ONLY)
_TRACK_EXERCISE: Final = int(TrackFlag.EXERCISE)
_TRACK_NON_ICAO: Final = int(TrackFlag.NON_ICAO)


@nb.njit(cache=True, nogil=True)
def initiate(a: TrackArrays, key: np.uint64, icao24: np.uint32, t: float) -> int:
    """Open a tentative track for ``key`` in a free slot (there must be one)."""
    top = a.meta[FREE_TOP] - 1
    slot = int(a.free[top])
    a.meta[FREE_TOP] = top
    a.rec[slot] = a.blank_rec[0]
    a.kin[slot, :] = a.blank_kin
    rec = a.rec[slot]
    rec.track_id = np.uint32(a.meta[NEXT_ID])
    a.meta[NEXT_ID] += 1
    rec.icao24 = icao24
    flags = 0
    if key & _EXERCISE_KEY:
        flags |= _TRACK_EXERCISE
    if key & _NON_ICAO_KEY:
        flags |= _TRACK_NON_ICAO
    rec.flags = flags
    rec.first_seen = t
    rec.last_seen = t
    a.keys[slot] = key
    insert(a.key_map, key, slot)
    a.meta[LIVE] += 1
    return slot


@nb.njit(cache=True, nogil=True)
def delete(a: TrackArrays, slot: int) -> None:
    """Free ``slot``; its track_id is gone for good."""
    remove(a.key_map, a.keys[slot])
    a.rec[slot].track_id = 0
    a.free[a.meta[FREE_TOP]] = slot
    a.meta[FREE_TOP] += 1
    a.meta[LIVE] -= 1


@nb.njit(cache=True, nogil=True)
def timeout(flags: int, p: KernelParams) -> float:
    return p.delete_surface_after_s if flags & _ON_GROUND else p.delete_after_s


@nb.njit(cache=True, nogil=True)
def is_stale(a: TrackArrays, slot: int, now: float, p: KernelParams) -> bool:
    """Whether the track has had no message for its deletion timeout."""
    rec = a.rec[slot]
    return bool(now - rec.last_seen > timeout(rec.flags, p))


@nb.njit(cache=True, nogil=True)
def confirm(a: TrackArrays, slot: int, p: KernelParams) -> tuple[bool, bool]:
    """(confirmed, newly confirmed) after counting the track's messages."""
    rec = a.rec[slot]
    if rec.flags & _CONFIRMED:
        return True, False
    if rec.messages >= p.confirm_messages:
        rec.flags = rec.flags | _CONFIRMED
        return True, True
    return False, False


@nb.njit(cache=True, nogil=True)
def aged_flags(flags: int, last_seen: float, last_pos: float, spi_time: float, now: float,
               p: KernelParams) -> int:
    """``flags`` with COASTING and SPI as they stand at ``now``."""
    state_time = last_pos if flags & _HAS_POSITION else last_seen
    flags &= ~(_COASTING | _SPI)
    if now - state_time > p.coast_after_s:
        flags |= _COASTING
    if now - spi_time <= SPI_HOLD_S:  # False when spi_time is NaN
        flags |= _SPI
    return flags


@nb.njit(cache=True, nogil=True)
def position_expired(flags: int, last_pos: float, now: float, p: KernelParams) -> bool:
    return bool(flags & _HAS_POSITION and now - last_pos > timeout(flags, p))


@nb.njit(cache=True, nogil=True)
def drop_position(a: TrackArrays, slot: int) -> None:
    """Forget the horizontal state (the velocity is kept as a prior for a restart)."""
    rec = a.rec[slot]
    rec.flags = rec.flags & ~np.uint16(_HAS_POSITION)
    rec.lat = rec.lon = math.nan
    rec.pos_sigma = math.nan
    a.kin[slot, T_KIN] = math.nan
    a.kin[slot, SCALE_N] = 0.0  # velocity is no longer tied to a plane


@nb.njit(cache=True, nogil=True)
def age(a: TrackArrays, slot: int, now: float, p: KernelParams) -> bool:
    """Apply coasting, SPI expiry and position/altitude expiry at ``now``.

    Returns whether the position was dropped.
    """
    rec = a.rec[slot]
    dropped = position_expired(rec.flags, rec.last_pos, now, p)
    if dropped:
        drop_position(a, slot)
    if now - a.kin[slot, LAST_ALT] > timeout(rec.flags, p):
        a.kin[slot, T_ALT] = a.kin[slot, LAST_ALT] = math.nan
        rec.alt = rec.vertical_rate = math.nan
    flags = aged_flags(rec.flags, rec.last_seen, rec.last_pos, a.kin[slot, SPI_T], now, p)
    silent = rec.last_pos - a.kin[slot, LAST_COOP] > p.coast_after_s  # False for NaN
    rec.flags = flags | _PRIMARY_ONLY if silent and flags & _HAS_POSITION else (
        flags & ~_PRIMARY_ONLY)
    return dropped


@nb.njit(cache=True, nogil=True)
def expire(a: TrackArrays, now: float, p: KernelParams,
           deleted: npt.NDArray[np.uint32]) -> tuple[int, int]:
    """Delete stale tracks (their ids into ``deleted``) and age the others.

    Returns (tracks deleted, positions dropped).
    """
    n_deleted = n_dropped = 0
    for slot in range(len(a.rec)):
        rec = a.rec[slot]
        if rec.track_id == 0:
            continue
        if is_stale(a, slot, now, p):
            deleted[n_deleted] = rec.track_id
            n_deleted += 1
            delete(a, slot)
        elif age(a, slot, now, p):
            n_dropped += 1
    return n_deleted, n_dropped
