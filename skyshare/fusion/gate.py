"""Plausibility gates: is a measurement physically reachable from the track's state?

Association is by address, so gating here is not about *which* track a report belongs
to but about whether its position or altitude can be believed (wrong CPR decodes,
corrupted replies, spoofing).  A position is plausible when the distance from the
track's last estimated position is within ``max speed * elapsed time`` plus
``gate_sigmas`` combined standard deviations; the track's velocity estimate is not
trusted for this, so a bad velocity cannot lock a track out.

Recovery from a wrong state (e.g. a wrong first fix): each rejected position is kept;
if the next rejected one is plausible *from it*, the run of consistent rejections
grows, and after ``reinit_after`` of them the tracker restarts the position at the
latest (see ``tracker._update_position``).
"""

from __future__ import annotations

import math
from typing import Final

import numba as nb
import numpy as np
import numpy.typing as npt

from skyshare.fusion.geo import project
from skyshare.fusion.state import (
    ALT,
    APP,
    PPP,
    REF_LAT,
    REF_LON,
    REJ_LAT,
    REJ_LON,
    REJ_T,
    SCALE_E,
    SCALE_N,
    T_ALT,
    T_KIN,
    XE,
    XN,
)

Row = npt.NDArray[np.float64]
MAX_VRATE_FPS: Final = 20000.0 / 60.0


@nb.njit(cache=True, nogil=True)
def position_plausible(k: Row, ze: float, zn: float, r: float, t: float, max_speed: float,
                       sigmas: float) -> bool:
    """Whether (``ze``, ``zn``) at ``t`` is reachable from the state at ``k[T_KIN]``."""
    dt = max(t - k[T_KIN], 0.0)
    distance = math.hypot(ze - k[XE], zn - k[XN])
    return bool(distance <= max_speed * dt + sigmas * math.sqrt(k[PPP] + r))


@nb.njit(cache=True, nogil=True)
def consistent_with_rejected(k: Row, lat: float, lon: float, t: float, r: float,
                             max_speed: float, sigmas: float) -> bool:
    """Whether a rejected position agrees with the previous rejected one."""
    if not math.isfinite(k[REJ_T]):
        return False
    lat0, lon0 = k[REF_LAT], k[REF_LON]
    e1, n1 = project(lat, lon, lat0, lon0, k[SCALE_N], k[SCALE_E])
    e0, n0 = project(k[REJ_LAT], k[REJ_LON], lat0, lon0, k[SCALE_N], k[SCALE_E])
    dt = abs(t - k[REJ_T])
    return bool(math.hypot(e1 - e0, n1 - n0) <= max_speed * dt + sigmas * math.sqrt(2.0 * r))


@nb.njit(cache=True, nogil=True)
def note_rejected(k: Row, run: int, lat: float, lon: float, t: float, r: float,
                  max_speed: float, sigmas: float) -> int:
    """Record a rejected position; returns the new length of the consistent run."""
    run = run + 1 if consistent_with_rejected(k, lat, lon, t, r, max_speed, sigmas) else 1
    k[REJ_LAT], k[REJ_LON], k[REJ_T] = lat, lon, t
    return run


@nb.njit(cache=True, nogil=True)
def altitude_plausible(k: Row, alt: float, r: float, t: float, sigmas: float) -> bool:
    """Whether a barometric altitude is reachable from the altitude state."""
    dt = max(t - k[T_ALT], 0.0)
    return bool(abs(alt - k[ALT]) <= MAX_VRATE_FPS * dt + sigmas * math.sqrt(k[APP] + r))
