"""Kalman predict and update kernels for one track's row of ``kin`` (see state.py).

Horizontal: constant velocity in the track's tangent plane, continuous white-noise
acceleration of density ``q`` (m^2/s^3); its discretisation is exact for any time step,
so irregular report intervals are handled consistently.  The per-axis covariance
``[[PPP, PPV], [PPV, PVV]]`` is shared by east and north (state.py says why), so each
update below is the scalar-gain form of the 2x2 filter, written out.

Vertical: the same model on ``[alt ft, vertical rate ft/s]`` with density ``q``
(ft^2/s^3), updated by barometric altitude and by reported vertical rate.
"""

from __future__ import annotations

import math
from typing import Final

import numba as nb
import numpy as np
import numpy.typing as npt

from skyshare.fusion.geo import convergence, rotate, scales, unproject
from skyshare.fusion.state import (
    ALT,
    APP,
    APV,
    AVV,
    PPP,
    PPV,
    PVV,
    REF_LAT,
    REF_LON,
    SCALE_E,
    SCALE_N,
    T_ALT,
    T_KIN,
    VE,
    VN,
    VRATE,
    XE,
    XN,
)

Row = npt.NDArray[np.float64]
UNKNOWN_SPEED_VAR: Final = 250.0**2  # m^2/s^2: prior of a velocity never measured
UNKNOWN_VRATE_VAR: Final = 100.0**2  # ft^2/s^2 (6000 ft/min)
REANCHOR_M: Final = 5000.0  # move the plane once the track is this far from its reference


@nb.njit(cache=True, nogil=True)
def cwna_predict(pp: float, pv: float, vv: float, dt: float,
                 q: float) -> tuple[float, float, float]:
    """Covariance of a constant-velocity axis after ``dt`` s (continuous white noise)."""
    dt2 = dt * dt
    return (pp + 2.0 * dt * pv + dt2 * vv + q * dt2 * dt / 3.0,
            pv + dt * vv + 0.5 * q * dt2,
            vv + q * dt)


@nb.njit(cache=True, nogil=True)
def cv_predict(k: Row, t: float, q: float) -> None:
    """Move the horizontal state forward to ``t`` (no-op when not later)."""
    dt = t - k[T_KIN]
    if not dt > 0.0:
        return
    k[XE] += k[VE] * dt
    k[XN] += k[VN] * dt
    k[PPP], k[PPV], k[PVV] = cwna_predict(k[PPP], k[PPV], k[PVV], dt, q)
    k[T_KIN] = t


@nb.njit(cache=True, nogil=True)
def cv_update_position(k: Row, ze: float, zn: float, r: float) -> None:
    """Measurement update with a position (east, north; per-axis variance ``r``)."""
    s = k[PPP] + r
    kp, kv = k[PPP] / s, k[PPV] / s
    ye, yn = ze - k[XE], zn - k[XN]
    k[XE] += kp * ye
    k[XN] += kp * yn
    k[VE] += kv * ye
    k[VN] += kv * yn
    pp, pv, vv = k[PPP], k[PPV], k[PVV]
    k[PPP] = pp * r / s
    k[PPV] = pv * r / s
    k[PVV] = vv - pv * pv / s


@nb.njit(cache=True, nogil=True)
def cv_update_velocity(k: Row, zve: float, zvn: float, r: float) -> None:
    """Measurement update with a velocity (east, north m/s; per-axis variance ``r``)."""
    s = k[PVV] + r
    kp, kv = k[PPV] / s, k[PVV] / s
    ye, yn = zve - k[VE], zvn - k[VN]
    k[XE] += kp * ye
    k[XN] += kp * yn
    k[VE] += kv * ye
    k[VN] += kv * yn
    pp, pv, vv = k[PPP], k[PPV], k[PVV]
    k[PPP] = pp - pv * pv / s
    k[PPV] = pv * r / s
    k[PVV] = vv * r / s


@nb.njit(cache=True, nogil=True)
def cv_init(k: Row, lat: float, lon: float, t: float, r: float, q: float,
            velocity_age: float) -> None:
    """Start (or restart) the horizontal state at a measured position.

    A velocity measured ``velocity_age`` s ago (NaN: none) is kept, turned into the new
    plane; otherwise the velocity starts at zero with a wide prior.
    """
    had_plane = k[SCALE_N] > 0.0
    if velocity_age <= 10.0:
        if had_plane:
            turn = convergence(k[REF_LAT], k[REF_LON], lat, lon)
            k[VE], k[VN] = rotate(k[VE], k[VN], turn)
        k[PVV] += q * velocity_age
    else:
        k[VE] = k[VN] = 0.0
        k[PVV] = UNKNOWN_SPEED_VAR
    k[REF_LAT], k[REF_LON] = lat, lon
    k[SCALE_N], k[SCALE_E] = scales(lat)
    k[XE] = k[XN] = 0.0
    k[PPP], k[PPV] = r, 0.0
    k[T_KIN] = t


@nb.njit(cache=True, nogil=True)
def reanchor(k: Row) -> None:
    """Move the tangent plane to the current position once it is ``REANCHOR_M`` away.

    The velocity is turned with the plane (meridian convergence).  Within 5 km a great
    circle leaves the plane's straight line by a few metres, far below the noise.
    """
    if abs(k[XE]) <= REANCHOR_M and abs(k[XN]) <= REANCHOR_M:
        return
    lat0, lon0 = k[REF_LAT], k[REF_LON]
    lat, lon = unproject(k[XE], k[XN], lat0, lon0, k[SCALE_N], k[SCALE_E])
    k[VE], k[VN] = rotate(k[VE], k[VN], convergence(lat0, lon0, lat, lon))
    k[REF_LAT], k[REF_LON] = lat, lon
    k[SCALE_N], k[SCALE_E] = scales(lat)
    k[XE] = k[XN] = 0.0


@nb.njit(cache=True, nogil=True)
def cv_finite(k: Row) -> bool:
    return bool(math.isfinite(k[XE] + k[XN] + k[VE] + k[VN] + k[PPP] + k[PPV] + k[PVV])
                and k[PPP] > 0.0 and k[PVV] > 0.0)


@nb.njit(cache=True, nogil=True)
def alt_init(k: Row, alt: float, t: float, r: float) -> None:
    k[ALT], k[VRATE] = alt, 0.0
    k[APP], k[APV], k[AVV] = r, 0.0, UNKNOWN_VRATE_VAR
    k[T_ALT] = t


@nb.njit(cache=True, nogil=True)
def alt_predict(k: Row, t: float, q: float) -> None:
    dt = t - k[T_ALT]
    if not dt > 0.0:
        return
    k[ALT] += k[VRATE] * dt
    k[APP], k[APV], k[AVV] = cwna_predict(k[APP], k[APV], k[AVV], dt, q)
    k[T_ALT] = t


@nb.njit(cache=True, nogil=True)
def alt_update(k: Row, alt: float, r: float) -> None:
    """Measurement update with a barometric altitude (ft, variance ``r`` ft^2)."""
    s = k[APP] + r
    y = alt - k[ALT]
    pp, pv, vv = k[APP], k[APV], k[AVV]
    k[ALT] += pp / s * y
    k[VRATE] += pv / s * y
    k[APP], k[APV], k[AVV] = pp * r / s, pv * r / s, vv - pv * pv / s


@nb.njit(cache=True, nogil=True)
def alt_update_rate(k: Row, rate: float, r: float) -> None:
    """Measurement update with a vertical rate (ft/s, variance ``r``)."""
    s = k[AVV] + r
    y = rate - k[VRATE]
    pp, pv, vv = k[APP], k[APV], k[AVV]
    k[ALT] += pv / s * y
    k[VRATE] += vv / s * y
    k[APP], k[APV], k[AVV] = pp - pv * pv / s, pv * r / s, vv * r / s
