"""Association by address: an open-addressing hash map from track key to slot.

Reports are associated with tracks by their address alone (Mode S and ADS-B carry a
unique 24-bit address), so association is one hash lookup.  The key also holds the
report's EXERCISE and NON_ICAO flags: an exercise report can never update a real track
(nor the reverse), and an anonymous/non-ICAO address never merges with the ICAO address
of the same value.

Linear probing with backward-shift deletion (no tombstones) in one ``(size, 2)`` array
of (key, slot) pairs, so a lookup touches one cache line; sized by the store to stay at
most half full.
"""

from __future__ import annotations

from typing import Final

import numba as nb
import numpy as np
import numpy.typing as npt

from skyshare.model import ReportFlag

EMPTY_KEY: Final = np.uint64(0xFFFFFFFFFFFFFFFF)
_GOLDEN: Final = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing multiplier
_EXERCISE: Final = int(ReportFlag.EXERCISE)
_NON_ICAO: Final = int(ReportFlag.NON_ICAO)

KeyMap = npt.NDArray[np.uint64]


def map_capacity(capacity: int) -> int:
    """Size of the map for ``capacity`` slots: a power of two, at most half full."""
    return 1 << max(4, (2 * capacity - 1).bit_length())


@nb.njit(cache=True, nogil=True)
def track_key(icao24: np.uint32, report_flags: np.uint16) -> np.uint64:
    """The association key of a report: address, exercise bit (32), non-ICAO bit (33)."""
    key = np.uint64(icao24)
    if report_flags & _EXERCISE:
        key |= np.uint64(1) << np.uint64(32)
    if report_flags & _NON_ICAO:
        key |= np.uint64(1) << np.uint64(33)
    return key


@nb.njit(cache=True, nogil=True)
def _home(key: np.uint64, mask: int) -> int:
    return int((key * _GOLDEN) >> np.uint64(32)) & mask


@nb.njit(cache=True, nogil=True)
def find(key_map: KeyMap, key: np.uint64) -> int:
    """The slot of ``key``, or -1."""
    mask = len(key_map) - 1
    i = _home(key, mask)
    while True:
        k = key_map[i, 0]
        if k == key:
            return int(np.int64(key_map[i, 1]))  # not uint64: it would unify with -1 as float
        if k == EMPTY_KEY:
            return -1
        i = (i + 1) & mask


@nb.njit(cache=True, nogil=True)
def insert(key_map: KeyMap, key: np.uint64, slot: int) -> None:
    """Add ``key -> slot`` (``key`` must be absent and the map not full)."""
    mask = len(key_map) - 1
    i = _home(key, mask)
    while key_map[i, 0] != EMPTY_KEY:
        i = (i + 1) & mask
    key_map[i, 0] = key
    key_map[i, 1] = slot


@nb.njit(cache=True, nogil=True)
def remove(key_map: KeyMap, key: np.uint64) -> None:
    """Remove ``key`` if present, shifting later entries of its probe run back."""
    mask = len(key_map) - 1
    i = _home(key, mask)
    while key_map[i, 0] != key:
        if key_map[i, 0] == EMPTY_KEY:
            return
        i = (i + 1) & mask
    j = i
    while True:
        j = (j + 1) & mask
        if key_map[j, 0] == EMPTY_KEY:
            break
        h = _home(key_map[j, 0], mask)
        # the entry at j may move to the hole at i unless its home lies cyclically in (i, j]
        stays = (i < h <= j) if i <= j else (h > i or h <= j)
        if not stays:
            key_map[i, 0], key_map[i, 1] = key_map[j, 0], key_map[j, 1]
            i = j
    key_map[i, 0] = key_map[i, 1] = EMPTY_KEY


@nb.njit(cache=True, nogil=True)
def rebuild(keys: npt.NDArray[np.uint64], track_ids: npt.NDArray[np.uint32],
            key_map: KeyMap) -> None:
    """Fill an empty map with the key of every live slot."""
    for slot in range(len(keys)):
        if track_ids[slot] != 0:
            insert(key_map, keys[slot], slot)
