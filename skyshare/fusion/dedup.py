"""Dedup: one measurement per transmission, however many receivers heard it.

Copies of one Mode S transmission heard by several receivers carry the same frame bytes,
hence the same ``frame_hash``.  The first copy (in time order) is the measurement; a
later report with the same hash, from *another* sensor, within ``window`` seconds of it
is a copy.  The same hash from the *same* sensor is a new transmission (aircraft repeat
identical squitters; one receiver does not hear one transmission twice).  The exercise
flag is mixed into the key, so an injected exercise frame never hides a real one.

The table is two generations of an open-addressing set; an entry is two words, the key
and a stamp ``sensor << 48 | time in ms``, so a probe touches one cache line.  New
entries go to the current generation; when report time has moved ``window`` past the
generation's start, the older generation is cleared and becomes current.  Every entry
younger than ``window`` is therefore always found, and memory stays bounded by the
traffic of two windows.  ``reserve`` (before each batch) keeps each generation at most
half full.
"""

from __future__ import annotations

from typing import Final, NamedTuple

import numba as nb
import numpy as np
import numpy.typing as npt

from skyshare.model import ReportFlag

_EXERCISE_MIX: Final = np.uint64(0xA5A5_5A5A_C3C3_3C3C)
_EXERCISE: Final = int(ReportFlag.EXERCISE)
_MIN_CAPACITY: Final = 1 << 12
_SENSOR_SHIFT: Final = np.uint64(48)
_MS_MASK: Final = np.uint64((1 << 48) - 1)

# counts entries
CURRENT: Final = 0  # index (0/1) of the current generation
N_GEN0: Final = 1  # entries in generation 0 (then 1)


class DedupArrays(NamedTuple):
    entries: npt.NDArray[np.uint64]  # (2, capacity, 2): key (0 = empty), stamp
    gen_start: npt.NDArray[np.float64]  # (1,) time the current generation began
    counts: npt.NDArray[np.int64]  # CURRENT, entries of gen 0, entries of gen 1


def _allocate(capacity: int) -> DedupArrays:
    return DedupArrays(np.zeros((2, capacity, 2), np.uint64), np.full(1, np.nan),
                       np.zeros(3, np.int64))


class DedupTable:
    """Owns the arrays of the frame-hash table and grows them between batches."""

    def __init__(self) -> None:
        self.arrays = _allocate(_MIN_CAPACITY)

    def reserve(self, n: int) -> None:
        """Make room for ``n`` more entries in either generation at load <= 1/2."""
        a = self.arrays
        need = 2 * (int(max(a.counts[N_GEN0], a.counts[N_GEN0 + 1])) + n)
        capacity = a.entries.shape[1]
        if need <= capacity:
            return
        while capacity < need:
            capacity *= 2
        new = _allocate(capacity)
        new.gen_start[:] = a.gen_start
        new.counts[CURRENT] = a.counts[CURRENT]
        _rehash(a, new)
        self.arrays = new


@nb.njit(cache=True, nogil=True)
def frame_key(frame_hash: np.uint64, report_flags: np.uint16) -> np.uint64:
    """The table key of a report's frame (0: the report has no frame hash)."""
    if frame_hash == 0:
        return np.uint64(0)
    key = frame_hash ^ _EXERCISE_MIX if report_flags & _EXERCISE else frame_hash
    return key if key != 0 else np.uint64(1)


@nb.njit(cache=True, nogil=True)
def _probe(entries: npt.NDArray[np.uint64], key: np.uint64) -> int:
    """Index of ``key`` in one generation, or of the empty slot ending its probe run."""
    mask = len(entries) - 1
    i = int((key ^ (key >> np.uint64(29))) * np.uint64(0xBF58476D1CE4E5B9) >> np.uint64(32))
    i &= mask
    while entries[i, 0] != key and entries[i, 0] != 0:
        i = (i + 1) & mask
    return i


@nb.njit(cache=True, nogil=True)
def is_copy(d: DedupArrays, key: np.uint64, sensor: int, t: float, window: float) -> bool:
    """Whether a report is a copy of a transmission already measured (see module doc)."""
    if key == 0:
        return False
    cur = int(d.counts[CURRENT])
    for gen in (cur, 1 - cur):  # the newest entry of a key is in the current generation
        entries = d.entries[gen]
        i = _probe(entries, key)
        if entries[i, 0] == key:
            stamp = entries[i, 1]
            ms = float(stamp & _MS_MASK)
            other = np.int64(stamp >> _SENSOR_SHIFT) != sensor
            return bool(abs(t * 1000.0 - ms) <= window * 1000.0 and other)
    return False


@nb.njit(cache=True, nogil=True)
def remember(d: DedupArrays, key: np.uint64, sensor: int, t: float, window: float) -> None:
    """Record a measured transmission (call after :func:`is_copy` said no; ``t >= 0``)."""
    if key == 0:
        return
    if not abs(t - d.gen_start[0]) <= window:  # also true for the first entry (NaN)
        _rotate(d, t)
    cur = int(d.counts[CURRENT])
    entries = d.entries[cur]
    i = _probe(entries, key)
    if entries[i, 0] == 0:
        entries[i, 0] = key
        d.counts[N_GEN0 + cur] += 1
    entries[i, 1] = (np.uint64(sensor) << _SENSOR_SHIFT) | np.uint64(round(t * 1000.0))


@nb.njit(cache=True, nogil=True)
def _rotate(d: DedupArrays, t: float) -> None:
    new = 1 - int(d.counts[CURRENT])
    d.entries[new, :, 0] = 0
    d.counts[N_GEN0 + new] = 0
    d.counts[CURRENT] = new
    d.gen_start[0] = t


@nb.njit(cache=True, nogil=True)
def _rehash(old: DedupArrays, new: DedupArrays) -> None:
    for gen in range(2):
        n = 0
        for j in range(old.entries.shape[1]):
            key = old.entries[gen, j, 0]
            if key != 0:
                i = _probe(new.entries[gen], key)
                new.entries[gen, i, 0] = key
                new.entries[gen, i, 1] = old.entries[gen, j, 1]
                n += 1
        new.counts[N_GEN0 + gen] = n
