"""Per-aircraft decoder state: an open-addressing hash table in numpy arrays.

Keys are 24-bit addresses; bit 24 is set for non-ICAO addresses (DF18 CF != 0), so
an anonymous address never shares state with, nor verifies, an ICAO one.  An entry
is only ever created by a frame whose CRC verified its address (DF11 with a clean
parity, DF17/18): noise cannot fill the table.

The table is probed linearly.  It never deletes in place: :func:`rebuilt` copies the
entries seen within :data:`STATE_TTL_S` into a new table of the right size, which
the decoder calls when the load factor reaches :data:`MAX_LOAD`.
"""

from __future__ import annotations

import math
from typing import Final, NamedTuple

import numba as nb
import numpy as np
import numpy.typing as npt

EMPTY: Final = np.uint32(0xFFFFFFFF)
NON_ICAO_KEY: Final = 1 << 24
UNKNOWN: Final = 0xFF
STATE_TTL_S: Final = 900.0
"""Entries not heard for this long are dropped when the table is rebuilt."""
MAX_LOAD: Final = 0.5
MIN_CAPACITY: Final = 1024


class AircraftTable(NamedTuple):
    """State of every aircraft, one slot per row (capacity a power of two)."""

    keys: npt.NDArray[np.uint32]  # address | NON_ICAO_KEY, EMPTY when free
    used: npt.NDArray[np.int64]  # (1,) number of used slots
    seen: npt.NDArray[np.float64]  # last accepted frame
    verified: npt.NDArray[np.float64]  # last clean DF11 / DF17 / DF18 CF0 (-inf: never)
    cpr_time: npt.NDArray[np.float64]  # (cap, 2) last airborne CPR, even / odd
    cpr_lat: npt.NDArray[np.int32]  # (cap, 2)
    cpr_lon: npt.NDArray[np.int32]  # (cap, 2)
    scpr_time: npt.NDArray[np.float64]  # (cap, 2) last surface CPR, even / odd
    scpr_lat: npt.NDArray[np.int32]  # (cap, 2)
    scpr_lon: npt.NDArray[np.int32]  # (cap, 2)
    pos_time: npt.NDArray[np.float64]  # last accepted position (-inf: none)
    pos_lat: npt.NDArray[np.float64]
    pos_lon: npt.NDArray[np.float64]
    pos_surface: npt.NDArray[np.uint8]  # last position came from a surface message
    rejects: npt.NDArray[np.uint8]  # consecutive implausible positions
    nic_a: npt.NDArray[np.uint8]  # NIC supplement A (TC31), 0 until known
    nic_c: npt.NDArray[np.uint8]  # NIC supplement C (TC31 surface), 0 until known
    nacp: npt.NDArray[np.uint8]  # UNKNOWN until TC29/31
    sil: npt.NDArray[np.uint8]
    hrd: npt.NDArray[np.uint8]  # heading reference: 0 true, 1 magnetic, UNKNOWN


def new_table(capacity: int = MIN_CAPACITY) -> AircraftTable:
    """An empty table with ``capacity`` slots (rounded up to a power of two)."""
    cap = max(MIN_CAPACITY, 1 << max(0, capacity - 1).bit_length())
    return AircraftTable(
        keys=np.full(cap, EMPTY, dtype=np.uint32),
        used=np.zeros(1, dtype=np.int64),
        seen=np.full(cap, -np.inf),
        verified=np.full(cap, -np.inf),
        cpr_time=np.full((cap, 2), -np.inf),
        cpr_lat=np.zeros((cap, 2), dtype=np.int32),
        cpr_lon=np.zeros((cap, 2), dtype=np.int32),
        scpr_time=np.full((cap, 2), -np.inf),
        scpr_lat=np.zeros((cap, 2), dtype=np.int32),
        scpr_lon=np.zeros((cap, 2), dtype=np.int32),
        pos_time=np.full(cap, -np.inf),
        pos_lat=np.full(cap, np.nan),
        pos_lon=np.full(cap, np.nan),
        pos_surface=np.zeros(cap, dtype=np.uint8),
        rejects=np.zeros(cap, dtype=np.uint8),
        nic_a=np.zeros(cap, dtype=np.uint8),
        nic_c=np.zeros(cap, dtype=np.uint8),
        nacp=np.full(cap, UNKNOWN, dtype=np.uint8),
        sil=np.full(cap, UNKNOWN, dtype=np.uint8),
        hrd=np.full(cap, UNKNOWN, dtype=np.uint8),
    )


@nb.njit(cache=True, nogil=True)
def _home(key: int, mask: int) -> int:
    h = key ^ (key >> 15)
    h = (h * 0x2C1B3C6D) & 0xFFFFFFFF
    h ^= h >> 12
    return h & mask


@nb.njit(cache=True, nogil=True, inline="always")
def _probe(keys: npt.NDArray[np.uint32], key: int) -> int:
    """Slot holding ``key``, or the empty slot where it would go (linear probing)."""
    mask = keys.shape[0] - 1
    i = _home(key, mask)
    while keys[i] != key and keys[i] != EMPTY:
        i = (i + 1) & mask
    return i


@nb.njit(cache=True, nogil=True)
def find(keys: npt.NDArray[np.uint32], key: int) -> int:
    """Slot of ``key``, or -1."""
    i = _probe(keys, key)
    return i if keys[i] == key else -1


@nb.njit(cache=True, nogil=True, inline="always")
def find_or_add(table: AircraftTable, key: int) -> int:
    """Slot of ``key``, adding a fresh entry if absent (the caller keeps load < 1)."""
    i = _probe(table.keys, key)
    if table.keys[i] == EMPTY:
        table.keys[i] = key
        table.used[0] += 1
    return i


@nb.njit(cache=True, nogil=True)
def _place(keys: npt.NDArray[np.uint32], new_keys: npt.NDArray[np.uint32],
           live: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
    """New slot of each live old slot (-1 for dropped ones), filling ``new_keys``."""
    mask = new_keys.shape[0] - 1
    where = np.full(keys.shape[0], -1, dtype=np.int64)
    for j in range(keys.shape[0]):
        if not live[j]:
            continue
        i = _home(int(keys[j]), mask)
        while new_keys[i] != EMPTY:
            i = (i + 1) & mask
        new_keys[i] = keys[j]
        where[j] = i
    return where


def rebuilt(table: AircraftTable, now: float) -> AircraftTable:
    """A copy without the entries not heard for the TTL before ``now``, a quarter full."""
    live = (table.keys != EMPTY) & (table.seen >= now - STATE_TTL_S)
    if not math.isfinite(now):
        live = table.keys != EMPTY
    n_live = int(live.sum())
    new = new_table(int(2 * n_live / MAX_LOAD) + 1)
    where = _place(table.keys, new.keys, live)
    old = np.flatnonzero(where >= 0)
    slots = where[old]
    for name in AircraftTable._fields:
        if name in ("keys", "used"):
            continue
        getattr(new, name)[slots] = getattr(table, name)[old]
    new.used[0] = n_live
    return new
