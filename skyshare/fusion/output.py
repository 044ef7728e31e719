"""The published view of a track: its TRACK_DTYPE row, written from the filter state.

:func:`publish` rewrites a track's row after an update (lat/lon of the state, speed and
track angle of its velocity once the velocity is known to better than
``SHOWN_SPEED_SIGMA``, fused altitude and vertical rate).  :func:`predict_rows` moves
snapshot rows forward to a given time without touching the tracker's state.
"""

from __future__ import annotations

import math
from typing import Final

import numba as nb
import numpy as np
import numpy.typing as npt

from skyshare.fusion.geo import unproject
from skyshare.fusion.kalman import cwna_predict
from skyshare.fusion.lifecycle import aged_flags, position_expired
from skyshare.fusion.measurements import KNOT
from skyshare.fusion.params import KernelParams
from skyshare.fusion.state import (
    ALT,
    ALT_GEO,
    AVV,
    PPP,
    PPV,
    PVV,
    REF_LAT,
    REF_LON,
    SCALE_E,
    SCALE_N,
    SPI_T,
    T_ALT,
    T_KIN,
    T_VEL,
    VE,
    VN,
    VRATE,
    XE,
    XN,
    TrackArrays,
)
from skyshare.model import TrackBatch, TrackFlag

SHOWN_SPEED_SIGMA: Final = 25.0  # m/s: a velocity less certain than this is not shown
SHOWN_VRATE_SIGMA: Final = 2000.0 / 60.0  # ft/s
_HAS_POSITION: Final = int(TrackFlag.HAS_POSITION)

Row = npt.NDArray[np.float64]


@nb.njit(cache=True, nogil=True)
def _velocity_known(k: Row, flags: int) -> bool:
    measured_or_tracked = bool(flags & _HAS_POSITION) or math.isfinite(k[T_VEL])
    return measured_or_tracked and k[PVV] <= SHOWN_SPEED_SIGMA**2


@nb.njit(cache=True, nogil=True)
def publish(a: TrackArrays, slot: int) -> None:
    """Write the kinematic fields of ``rec[slot]`` from ``kin[slot]``."""
    k, rec = a.kin[slot], a.rec[slot]
    if rec.flags & _HAS_POSITION:
        rec.lat, rec.lon = unproject(k[XE], k[XN], k[REF_LAT], k[REF_LON], k[SCALE_N],
                                     k[SCALE_E])
        rec.pos_sigma = math.sqrt(k[PPP])
    if _velocity_known(k, rec.flags):
        rec.groundspeed = math.hypot(k[VE], k[VN]) / KNOT
        angle = math.degrees(math.atan2(k[VE], k[VN]))
        rec.track = angle + 360.0 if angle < 0.0 else angle
    else:
        rec.groundspeed = rec.track = math.nan
    if math.isfinite(k[T_ALT]):
        rec.alt = k[ALT]
        rec.vertical_rate = k[VRATE] * 60.0 if k[AVV] <= SHOWN_VRATE_SIGMA**2 else math.nan
    rec.alt_geo = k[ALT_GEO]


@nb.njit(cache=True, nogil=True)
def predict_rows(rows: TrackBatch, kin: npt.NDArray[np.float64], now: float,
                 p: KernelParams) -> None:
    """Rows (and their kin rows) as they stand at ``now``: flags aged, positions moved."""
    for i in range(len(rows)):
        row, k = rows[i], kin[i]
        if position_expired(row.flags, row.last_pos, now, p):
            row.flags = row.flags & ~np.uint16(_HAS_POSITION)
            row.lat = row.lon = row.pos_sigma = math.nan
        row.flags = aged_flags(row.flags, row.last_seen, row.last_pos, k[SPI_T], now, p)
        dt = now - k[T_KIN]
        if not (row.flags & _HAS_POSITION and dt > 0.0):
            continue
        pp = cwna_predict(k[PPP], k[PPV], k[PVV], dt, p.q_horizontal)[0]
        row.pos_sigma = math.sqrt(pp)
        if _velocity_known(k, row.flags):
            row.lat, row.lon = unproject(k[XE] + k[VE] * dt, k[XN] + k[VN] * dt, k[REF_LAT],
                                         k[REF_LON], k[SCALE_N], k[SCALE_E])
