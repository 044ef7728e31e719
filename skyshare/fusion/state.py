"""The tracker's memory: one row per track slot, in flat arrays the kernels share.

A slot holds one live track or is free (``rec['track_id'] == 0``).  Per slot:

* ``rec``   -- a :data:`~skyshare.model.TRACK_DTYPE` row: identity and the published
  state, rewritten after each update, copied out as-is for track updates and snapshots;
* ``kin``   -- float64 filter state and counters, columns named below (one row per
  track, so a report touches a few adjacent cache lines);
* ``keys``  -- the track's association key (:func:`~skyshare.fusion.keymap.track_key`).

Horizontal state is ``[e, n, ve, vn]`` in metres and m/s in the track's tangent plane
(:mod:`skyshare.fusion.geo`).  Its covariance is stored once, as the 2x2 per-axis block
``[[PPP, PPV], [PPV, PVV]]``: the model and every measurement noise are isotropic (the
same in east and north, uncorrelated), so the east and north blocks stay equal and the
cross-axis blocks stay zero -- the 4x4 filter is exactly two identical 2x2 filters
(``tests/fusion/test_fusion_kernels.py`` checks this against a full 4x4 filter).
The altitude filter is ``[alt ft, vertical rate ft/s]`` with its own 2x2 covariance.
"""

from __future__ import annotations

from typing import Final, NamedTuple

import numpy as np
import numpy.typing as npt

from skyshare.fusion.keymap import EMPTY_KEY, map_capacity, rebuild
from skyshare.model import TrackBatch, empty_tracks

# kin columns -------------------------------------------------------------------------
REF_LAT: Final = 0  # deg, tangent-plane reference point
REF_LON: Final = 1
SCALE_N: Final = 2  # m per degree of latitude at the reference (0: no plane)
SCALE_E: Final = 3  # m per degree of longitude at the reference
XE: Final = 4  # m, position east of the reference
XN: Final = 5  # m, north
VE: Final = 6  # m/s
VN: Final = 7
PPP: Final = 8  # m^2, per-axis position variance
PPV: Final = 9  # m^2/s, position-velocity covariance
PVV: Final = 10  # m^2/s^2, per-axis velocity variance
T_KIN: Final = 11  # s, time of the horizontal state (NaN: none)
T_VEL: Final = 12  # s, last velocity measurement (NaN: never)
ALT: Final = 13  # ft, barometric altitude
VRATE: Final = 14  # ft/s
APP: Final = 15  # ft^2
APV: Final = 16  # ft^2/s
AVV: Final = 17  # ft^2/s^2
T_ALT: Final = 18  # s, time of the altitude state (NaN: none)
REJ_LAT: Final = 19  # deg, last rejected position
REJ_LON: Final = 20
REJ_T: Final = 21  # s (NaN: none)
REJ_N: Final = 22  # consecutive rejected positions, mutually consistent
ALT_REJ_N: Final = 23  # consecutive rejected altitudes
SPI_T: Final = 24  # s, last report with SPI (IDENT) set
ALT_GEO: Final = 25  # ft, last geometric altitude reported
LAST_ALT: Final = 26  # s, last barometric altitude measurement (NaN: none)
LAST_COOP: Final = 27  # s, last report the transponder made (all but primary radar plots)
N_KIN: Final = 28

# meta entries
NEXT_ID: Final = 0  # next track_id to hand out (ids start at 1; 0 marks a free slot)
FREE_TOP: Final = 1  # number of entries on the free-slot stack
LIVE: Final = 2  # live tracks


class TrackArrays(NamedTuple):
    """The arrays of a :class:`TrackStore`, as the numba kernels receive them."""

    rec: TrackBatch
    callsign: npt.NDArray[np.uint64]  # view of rec['callsign']
    kin: npt.NDArray[np.float64]
    keys: npt.NDArray[np.uint64]
    free: npt.NDArray[np.int64]  # stack of free slots; top at meta[FREE_TOP] - 1
    meta: npt.NDArray[np.int64]
    key_map: npt.NDArray[np.uint64]  # (size, 2): key, slot (see keymap.py)
    blank_rec: TrackBatch  # one empty row
    blank_kin: npt.NDArray[np.float64]  # an empty kin row


def empty_kin(n: int) -> npt.NDArray[np.float64]:
    kin = np.zeros((n, N_KIN))
    for col in (T_KIN, T_VEL, T_ALT, REJ_T, SPI_T, ALT_GEO, LAST_ALT, LAST_COOP):
        kin[:, col] = np.nan
    return kin


class TrackStore:
    """Owns the arrays; grows them (doubling) when the kernels run out of free slots."""

    def __init__(self, capacity: int) -> None:
        self.capacity = 0
        self.arrays = self._allocate(max(1, capacity), None)

    def _allocate(self, capacity: int, old: TrackArrays | None) -> TrackArrays:
        rec = empty_tracks(capacity)
        rec["track_id"] = 0
        kin = empty_kin(capacity)
        keys = np.full(capacity, EMPTY_KEY, np.uint64)
        meta = np.zeros(3, np.int64)
        meta[NEXT_ID] = 1
        free = np.zeros(capacity, np.int64)
        n_old = top = 0
        if old is not None:
            n_old, top = len(old.rec), int(old.meta[FREE_TOP])
            rec[:n_old], kin[:n_old], keys[:n_old] = old.rec, old.kin, old.keys
            meta[:] = old.meta
            free[:top] = old.free[:top]
        # free slots are popped from the top: push the new ones highest-first
        new_free = np.arange(capacity - 1, n_old - 1, -1, dtype=np.int64)
        free[top:top + len(new_free)] = new_free
        meta[FREE_TOP] = top + len(new_free)
        key_map = np.full((map_capacity(capacity), 2), EMPTY_KEY, np.uint64)
        rebuild(keys, rec["track_id"], key_map)
        self.capacity = capacity
        blank = empty_tracks(1)
        blank["track_id"] = 0
        return TrackArrays(rec, rec["callsign"].view(np.uint64), kin, keys, free, meta,
                           key_map, blank, empty_kin(1)[0])

    def grow(self) -> None:
        """Double the capacity, keeping every live track in its slot."""
        self.arrays = self._allocate(2 * self.capacity, self.arrays)
